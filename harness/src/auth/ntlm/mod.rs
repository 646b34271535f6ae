//! NTLM (MS-NLMP): wire messages, NTLMv2 computations, handshakes and session security.
//!
//! The codec is ours, so that tests and the fuzzer can build any message, valid or not; the
//! primitives (MD4, MD5, HMAC, RC4) come from RustCrypto.

mod av_pair;
mod context;
pub mod crypto;
mod flags;
mod messages;
mod session;

pub use av_pair::{AV_FLAG_MIC_PRESENT, AvId, AvPair, AvPairs};
pub use context::{
    AuthError, AwaitingAuthenticate, CbtPolicy, Client, ClientOptions, Credentials, Established,
    NegotiateSent, Observed, Server, ServerOptions, WINRM_CLIENT_FLAGS, observe,
};
pub use flags::Flags;
pub use messages::{Authenticate, Challenge, Message, Negotiate, Version};
pub use session::{SIGNATURE_LEN, Session, UnsealError};
