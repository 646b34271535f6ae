//! Sealing and unsealing whole WS-Man bodies (MS-WSMV 2.2.9.1.2.1) with an NTLM session (the
//! security header is the 16-byte NTLM signature) or a Kerberos context (the wrap token
//! header); `Length=` is the plaintext length.

use super::encrypted_body::{Block, EncryptedBody, Protocol};
use super::kerberos::{Context, KerberosError};
use super::ntlm::{SIGNATURE_LEN, Session, UnsealError};

/// The content type of a plain WS-Man body, as clients declare it in `OriginalContent`.
pub const SOAP_UTF8: &str = "application/soap+xml;charset=UTF-8";

/// Why a sealed body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecurityError {
    /// The block's security header is not an NTLM signature.
    #[error("security header of {0} bytes, expected a {SIGNATURE_LEN}-byte NTLM signature")]
    HeaderLength(usize),
    /// `Length=` disagrees with the ciphertext.
    #[error("OriginalContent Length={declared} but the block holds {actual} bytes")]
    LengthMismatch {
        /// Declared.
        declared: usize,
        /// Carried.
        actual: usize,
    },
    /// The signature did not verify.
    #[error(transparent)]
    Unseal(#[from] UnsealError),
}

/// Seals a plaintext body into one `multipart/encrypted` block.
pub fn seal_ntlm(session: &mut Session, plaintext: &[u8], original_type: &str) -> EncryptedBody {
    let mut data = plaintext.to_vec();
    let sig = session.seal(&mut data);
    EncryptedBody {
        protocol: Protocol::Spnego,
        multi: false,
        blocks: vec![Block {
            original_type: original_type.to_owned(),
            length: plaintext.len(),
            header: sig.to_vec(),
            ciphertext: data,
        }],
    }
}

/// Unseals every block in order and returns the concatenated plaintext.
pub fn unseal_ntlm(session: &mut Session, body: &EncryptedBody) -> Result<Vec<u8>, SecurityError> {
    let mut out = Vec::new();
    for b in &body.blocks {
        if b.header.len() != SIGNATURE_LEN {
            return Err(SecurityError::HeaderLength(b.header.len()));
        }
        if b.length != b.ciphertext.len() {
            return Err(SecurityError::LengthMismatch {
                declared: b.length,
                actual: b.ciphertext.len(),
            });
        }
        let mut data = b.ciphertext.clone();
        session.unseal(&mut data, &b.header)?;
        out.extend_from_slice(&data);
    }
    Ok(out)
}

/// Seals a plaintext body with a Kerberos context (MS-WSMV 2.2.9.1.1.2.2): the security header
/// is the RFC 4121 wrap token header. `Length=` is the plaintext length (the spec's reading;
/// AES enctypes have no padding, so pywinrm's and pypsrp's readings agree there).
pub fn seal_kerberos(
    ctx: &mut Context,
    plaintext: &[u8],
    original_type: &str,
    protocol: Protocol,
) -> Result<EncryptedBody, KerberosError> {
    let w = ctx.wrap_winrm(plaintext)?;
    Ok(EncryptedBody {
        protocol,
        multi: false,
        blocks: vec![Block {
            original_type: original_type.to_owned(),
            length: plaintext.len(),
            header: w.header,
            ciphertext: w.data,
        }],
    })
}

/// Unseals every block in order; each block's plaintext must be exactly `Length=` bytes.
pub fn unseal_kerberos(ctx: &mut Context, body: &EncryptedBody) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for b in &body.blocks {
        let plain = ctx
            .unwrap_winrm(&b.header, &b.ciphertext)
            .map_err(|e| e.to_string())?;
        if plain.len() != b.length {
            return Err(SecurityError::LengthMismatch {
                declared: b.length,
                actual: plain.len(),
            }
            .to_string());
        }
        out.extend_from_slice(&plain);
    }
    Ok(out)
}
