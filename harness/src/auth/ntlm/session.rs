//! NTLM session security with extended session security and key exchange (MS-NLMP 3.4.3,
//! 3.4.4.2, 3.4.6): what MS-WSMV message encryption wraps every body with.
//!
//! Each direction has its own sealing RC4 state, which persists across messages, and its own
//! sequence number from 0. A message's signature is `01 00 00 00 ‖ RC4(HMAC_MD5(SignKey, seq ‖
//! plaintext)[0..8]) ‖ seq`.

use rc4::{KeyInit, Rc4, StreamCipher};

use super::crypto::{Direction, hmac_md5, seal_key, sign_key};
use super::flags::Flags;

/// Length of an NTLM message signature.
pub const SIGNATURE_LEN: usize = 16;

/// The sequence number of a well-formed signature (version 1, 16 bytes).
fn parse_signature(signature: &[u8]) -> Result<u32, UnsealError> {
    match signature {
        [1, 0, 0, 0, _, _, _, _, _, _, _, _, a, b, c, d] => {
            Ok(u32::from_le_bytes([*a, *b, *c, *d]))
        }
        _ => Err(UnsealError::Malformed),
    }
}

/// One direction's keys and state.
struct Half {
    sign_key: [u8; 16],
    seal_key: [u8; 16],
    rc4: Rc4,
    seq: u32,
}

impl Half {
    fn new(session_key: &[u8], d: Direction, flags: Flags) -> Self {
        let key = seal_key(session_key, d, flags);
        Self {
            sign_key: sign_key(session_key, d),
            seal_key: key,
            rc4: Rc4::new_from_slice(&key).expect("16-byte key"),
            seq: 0,
        }
    }

    fn signature(&mut self, plaintext: &[u8], seq: u32, key_exch: bool) -> [u8; SIGNATURE_LEN] {
        let full = hmac_md5(&self.sign_key, &[&seq.to_le_bytes(), plaintext]);
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&full[..8]);
        if key_exch {
            self.rc4.apply_keystream(&mut checksum);
        }
        let mut sig = [0u8; SIGNATURE_LEN];
        sig[..4].copy_from_slice(&1u32.to_le_bytes());
        sig[4..12].copy_from_slice(&checksum);
        sig[12..].copy_from_slice(&seq.to_le_bytes());
        sig
    }
}

/// Why a sealed message was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    /// The signature is not 16 bytes or its version is not 1.
    #[error("malformed NTLM signature")]
    Malformed,
    /// The sequence number is not the one expected (replay, loss or reordering).
    #[error("sequence number {got}, expected {expected}")]
    Sequence {
        /// Received.
        got: u32,
        /// Expected.
        expected: u32,
    },
    /// The checksum does not match: wrong key or tampered data.
    #[error("signature checksum does not match")]
    Checksum,
}

/// Both directions of an established NTLM session, seen from one side.
pub struct Session {
    flags: Flags,
    outgoing: Half,
    incoming: Half,
}

impl Session {
    /// Keys for the client side (sends client-to-server) from the exported session key.
    pub fn client(exported_session_key: &[u8; 16], flags: Flags) -> Self {
        Self {
            flags,
            outgoing: Half::new(exported_session_key, Direction::ClientToServer, flags),
            incoming: Half::new(exported_session_key, Direction::ServerToClient, flags),
        }
    }

    /// Keys for the server side.
    pub fn server(exported_session_key: &[u8; 16], flags: Flags) -> Self {
        Self {
            flags,
            outgoing: Half::new(exported_session_key, Direction::ServerToClient, flags),
            incoming: Half::new(exported_session_key, Direction::ClientToServer, flags),
        }
    }

    fn key_exch(&self) -> bool {
        self.flags.contains(Flags::NEGOTIATE_KEY_EXCH)
    }

    /// Seals a message: returns the signature and encrypts `data` in place.
    pub fn seal(&mut self, data: &mut [u8]) -> [u8; SIGNATURE_LEN] {
        let seq = self.outgoing.seq;
        let plaintext = data.to_vec();
        self.outgoing.rc4.apply_keystream(data);
        let sig = self.outgoing.signature(&plaintext, seq, self.key_exch());
        self.outgoing.seq = seq.wrapping_add(1);
        sig
    }

    /// Signs a message without encrypting it (GSS_GetMIC, MS-NLMP 3.4.4): SPNEGO's
    /// mechListMIC. Consumes a sequence number, like sealing.
    pub fn sign(&mut self, data: &[u8]) -> [u8; SIGNATURE_LEN] {
        let seq = self.outgoing.seq;
        let sig = self.outgoing.signature(data, seq, self.key_exch());
        self.outgoing.seq = seq.wrapping_add(1);
        sig
    }

    /// Verifies a signature made by [`Session::sign`] on the other side (GSS_VerifyMIC).
    pub fn verify(&mut self, data: &[u8], signature: &[u8]) -> Result<(), UnsealError> {
        let got = parse_signature(signature)?;
        self.check_incoming(data, signature, got)
    }

    /// Checks a received signature over `plaintext` against the next incoming sequence number.
    fn check_incoming(
        &mut self,
        plaintext: &[u8],
        signature: &[u8],
        got: u32,
    ) -> Result<(), UnsealError> {
        let expected = self.incoming.seq;
        let sig = self
            .incoming
            .signature(plaintext, expected, self.key_exch());
        if got != expected {
            return Err(UnsealError::Sequence { got, expected });
        }
        if sig[4..12] != signature[4..12] {
            return Err(UnsealError::Checksum);
        }
        self.incoming.seq = expected.wrapping_add(1);
        Ok(())
    }

    /// Restarts both RC4 states (sequence numbers continue). SPNEGO does this after the
    /// mechListMIC exchange (pyspnego and Windows agree; MS-SPNG 3.3.5.1).
    pub fn reset_ciphers(&mut self) {
        for half in [&mut self.outgoing, &mut self.incoming] {
            half.rc4 = Rc4::new_from_slice(&half.seal_key).expect("16-byte key");
        }
    }

    /// Unseals a message in place and verifies its signature and sequence number. On failure
    /// the session is left as it was before the call only in its sequence number; the RC4 state
    /// has advanced, as it does in every implementation, so a session that saw a bad message is
    /// of no further use.
    pub fn unseal(&mut self, data: &mut [u8], signature: &[u8]) -> Result<(), UnsealError> {
        let got = parse_signature(signature)?;
        self.incoming.rc4.apply_keystream(data);
        self.check_incoming(data, signature, got)
    }
}
