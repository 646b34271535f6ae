//! NTLMv2 computations (MS-NLMP 3.3.2, 3.4.5) on RustCrypto primitives.

use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use rc4::StreamCipher;

use super::super::codec::utf16le;

type HmacMd5 = Hmac<Md5>;

/// HMAC_MD5(key, parts...).
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = <HmacMd5 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// MD5(parts...).
pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RC4K(key, data): a one-shot RC4 with a fresh key.
pub fn rc4k(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut c = <rc4::Rc4 as rc4::KeyInit>::new_from_slice(key).expect("RC4 key of 1..=256 bytes");
    c.apply_keystream(&mut out);
    out
}

/// NTOWFv1 = MD4(UNICODE(password)): the NT hash, what a server stores per user.
pub fn nt_hash(password: &str) -> [u8; 16] {
    Md4::digest(utf16le(password)).into()
}

/// NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(user) ‖ domain)).
pub fn ntowfv2(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let who = utf16le(&format!("{}{}", user.to_uppercase(), domain));
    hmac_md5(nt_hash, &[&who])
}

/// What an NTLMv2 response yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Response {
    /// NtChallengeResponse = NTProofStr ‖ temp.
    pub nt_response: Vec<u8>,
    /// LmChallengeResponse = HMAC(key, server ‖ client challenge) ‖ client challenge.
    pub lm_response: Vec<u8>,
    /// SessionBaseKey = HMAC(key, NTProofStr); also the KeyExchangeKey for NTLMv2.
    pub session_base_key: [u8; 16],
}

/// The client challenge blob `temp` of MS-NLMP 3.3.2.
pub fn temp(timestamp: u64, client_challenge: &[u8; 8], av_pairs: &[u8]) -> Vec<u8> {
    let mut t = vec![1, 1, 0, 0, 0, 0, 0, 0];
    t.extend_from_slice(&timestamp.to_le_bytes());
    t.extend_from_slice(client_challenge);
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(av_pairs);
    t.extend_from_slice(&[0; 4]);
    t
}

/// ComputeResponse for NTLMv2 given the response key (NTOWFv2) and the blob.
pub fn v2_response(key: &[u8; 16], server_challenge: &[u8; 8], temp: &[u8]) -> V2Response {
    let proof = hmac_md5(key, &[server_challenge, temp]);
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(temp);
    // The LM response repeats the client challenge found at bytes 16..24 of temp.
    let client_challenge = temp.get(16..24).unwrap_or(&[0; 8]);
    let mut lm_response = hmac_md5(key, &[server_challenge, client_challenge]).to_vec();
    lm_response.extend_from_slice(client_challenge);
    V2Response {
        nt_response,
        lm_response,
        session_base_key: hmac_md5(key, &[&proof]),
    }
}

/// Which way a key works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    ClientToServer,
    /// Server to client.
    ServerToClient,
}

/// SIGNKEY (MS-NLMP 3.4.5.2), extended session security.
pub fn sign_key(session_key: &[u8], d: Direction) -> [u8; 16] {
    let magic: &[u8] = match d {
        Direction::ClientToServer => {
            b"session key to client-to-server signing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client signing key magic constant\0"
        }
    };
    md5(&[session_key, magic])
}

/// SEALKEY (MS-NLMP 3.4.5.3), extended session security; the key is cut per the strength flags.
pub fn seal_key(session_key: &[u8], d: Direction, flags: super::Flags) -> [u8; 16] {
    use super::Flags;
    let cut = if flags.contains(Flags::NEGOTIATE_128) {
        16
    } else if flags.contains(Flags::NEGOTIATE_56) {
        7
    } else {
        5
    };
    let magic: &[u8] = match d {
        Direction::ClientToServer => {
            b"session key to client-to-server sealing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client sealing key magic constant\0"
        }
    };
    md5(&[&session_key[..cut.min(session_key.len())], magic])
}

/// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE with a zero MIC).
pub fn mic(
    exported_session_key: &[u8],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> [u8; 16] {
    let mut auth = authenticate.to_vec();
    let at = super::Authenticate::MIC_OFFSET;
    if auth.len() >= at + 16 {
        auth[at..at + 16].fill(0);
    }
    hmac_md5(exported_session_key, &[negotiate, challenge, &auth])
}

/// Current time as a Windows FILETIME (100 ns ticks since 1601-01-01 UTC).
pub fn filetime_now() -> u64 {
    const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH_AS_FILETIME + since.as_secs() * 10_000_000 + u64::from(since.subsec_nanos()) / 100
}

/// Cryptographically random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source works");
    b
}
