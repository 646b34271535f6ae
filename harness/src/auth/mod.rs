//! Authentication and message security for WS-Man over HTTP: the wire codecs are the harness's
//! own (the fuzzer and the deviation switches must be able to emit anything), the cryptographic
//! primitives come from RustCrypto.
//!
//! No I/O here: handshakes are states fed with tokens, sessions seal and unseal byte buffers.

pub mod codec;
pub mod encrypted_body;
pub mod header;
pub mod kerberos;
pub mod message_security;
pub mod ntlm;
pub mod spnego;
