//! NTLM handshakes as by-value states: each step consumes the state it needs and returns the
//! next, so a server challenge can be answered once only (which is what rejects replays).
//!
//! ```text
//! client: Client::start ──NEGOTIATE──▶ server: Server::challenge
//!         ◀──CHALLENGE── AwaitingAuthenticate
//! client: NegotiateSent::respond ──AUTHENTICATE──▶ AwaitingAuthenticate::verify ─▶ Session
//! ```

use super::av_pair::{AV_FLAG_MIC_PRESENT, AvId, AvPairs};
use super::crypto::{
    filetime_now, hmac_md5, mic, nt_hash, ntowfv2, random, rc4k, temp, v2_response,
};
use super::flags::Flags;
use super::messages::{Authenticate, Challenge, Negotiate, Version};
use super::session::Session;
use crate::auth::codec::{DecodeError, utf16le};

/// The flags encrypting WinRM clients (pywinrm, pypsrp) request.
pub const WINRM_CLIENT_FLAGS: Flags = Flags(
    Flags::NEGOTIATE_UNICODE.0
        | Flags::REQUEST_TARGET.0
        | Flags::NEGOTIATE_SIGN.0
        | Flags::NEGOTIATE_SEAL.0
        | Flags::NEGOTIATE_NTLM.0
        | Flags::NEGOTIATE_ALWAYS_SIGN.0
        | Flags::NEGOTIATE_EXTENDED_SESSIONSECURITY.0
        | Flags::NEGOTIATE_TARGET_INFO.0
        | Flags::NEGOTIATE_VERSION.0
        | Flags::NEGOTIATE_128.0
        | Flags::NEGOTIATE_KEY_EXCH.0
        | Flags::NEGOTIATE_56.0,
);

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A token did not decode.
    #[error("malformed NTLM message: {0}")]
    Decode(#[from] DecodeError),
    /// The peer negotiated something this side will not do (no NTLMv2, no session security).
    #[error("unsupported negotiation: {0}")]
    Unsupported(String),
    /// Unknown user, wrong password, or a response computed for another challenge.
    #[error("the credentials were rejected")]
    BadCredentials,
    /// The MIC does not match the three messages (tampering).
    #[error("the message integrity code does not match")]
    BadMic,
    /// Channel binding missing or wrong for the service's CbtHardeningLevel.
    #[error("channel binding check failed: {0}")]
    ChannelBinding(&'static str),
}

/// A client's identity. The password never leaves this struct except hashed.
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Domain (empty for local accounts).
    pub domain: String,
    /// NT hash of the password.
    pub nt_hash: [u8; 16],
}

impl Credentials {
    /// Credentials from a clear-text password.
    pub fn new(user: &str, domain: &str, password: &str) -> Self {
        Self {
            user: user.into(),
            domain: domain.into(),
            nt_hash: nt_hash(password),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}\\{}, <redacted>)", self.domain, self.user)
    }
}

/// Client options beyond the credentials.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Workstation name sent in AUTHENTICATE.
    pub workstation: String,
    /// SPN added as MsvAvTargetName, e.g. `HTTP/server`.
    pub target_spn: Option<String>,
    /// MD5 of the channel bindings (tls-server-end-point), for MsvAvChannelBindings.
    pub channel_bindings: Option<[u8; 16]>,
    /// Fixed client challenge, session key and time: for known-answer tests only.
    pub fixed: Option<([u8; 8], [u8; 16], u64)>,
}

/// The client start.
pub struct Client {
    creds: Credentials,
    opts: ClientOptions,
}

/// The client after sending NEGOTIATE.
pub struct NegotiateSent {
    creds: Credentials,
    opts: ClientOptions,
    negotiate: Vec<u8>,
}

/// The outcome of a completed handshake on either side.
pub struct Established {
    /// The session keys.
    pub session: Session,
    /// Negotiated flags.
    pub flags: Flags,
    /// The authenticated user (server side) or our own (client side).
    pub user: String,
    /// Its domain.
    pub domain: String,
}

impl Client {
    /// A client for these credentials.
    pub fn new(creds: Credentials, opts: ClientOptions) -> Self {
        Self { creds, opts }
    }

    /// Sends NEGOTIATE.
    pub fn start(self) -> (NegotiateSent, Vec<u8>) {
        let negotiate = Negotiate {
            flags: WINRM_CLIENT_FLAGS,
            domain: Vec::new(),
            workstation: Vec::new(),
            version: Some(Version::WINDOWS_10),
        }
        .encode();
        let next = NegotiateSent {
            creds: self.creds,
            opts: self.opts,
            negotiate: negotiate.clone(),
        };
        (next, negotiate)
    }
}

impl NegotiateSent {
    /// Answers a CHALLENGE with AUTHENTICATE (NTLMv2, key exchange, MIC when the server sent a
    /// timestamp) and derives the session.
    pub fn respond(self, challenge_bytes: &[u8]) -> Result<(Established, Vec<u8>), AuthError> {
        let challenge = Challenge::decode(challenge_bytes)?;
        let flags = challenge.flags;
        if !flags.contains(Flags::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
            return Err(AuthError::Unsupported(
                "server did not agree to extended session security".into(),
            ));
        }
        let mut pairs = challenge.av_pairs()?;
        let server_time = pairs.timestamp();
        if server_time.is_some() {
            pairs.set(
                AvId::FLAGS,
                (pairs.flags() | AV_FLAG_MIC_PRESENT).to_le_bytes().to_vec(),
            );
        }
        if let Some(spn) = &self.opts.target_spn {
            pairs.set(AvId::TARGET_NAME, utf16le(spn));
        }
        pairs.set(
            AvId::CHANNEL_BINDINGS,
            self.opts.channel_bindings.unwrap_or([0; 16]).to_vec(),
        );
        let (client_challenge, session_key, now) = self
            .opts
            .fixed
            .unwrap_or_else(|| (random(), random(), filetime_now()));
        let time = server_time.unwrap_or(now);
        let key = ntowfv2(&self.creds.nt_hash, &self.creds.user, &self.creds.domain);
        let blob = temp(time, &client_challenge, &pairs.to_bytes());
        let r = v2_response(&key, &challenge.server_challenge, &blob);
        let key_exch = flags.contains(Flags::NEGOTIATE_KEY_EXCH);
        let exported = if key_exch {
            session_key
        } else {
            r.session_base_key
        };
        let mut auth = Authenticate {
            // MS-NLMP 3.1.5.1.2: with a server timestamp the LM response is 24 zero bytes.
            lm_response: if server_time.is_some() {
                vec![0; 24]
            } else {
                r.lm_response
            },
            nt_response: r.nt_response,
            domain: utf16le(&self.creds.domain),
            user: utf16le(&self.creds.user),
            workstation: utf16le(&self.opts.workstation),
            encrypted_session_key: if key_exch {
                rc4k(&r.session_base_key, &session_key)
            } else {
                Vec::new()
            },
            flags,
            version: Some(Version::WINDOWS_10),
            mic: server_time.map(|_| [0; 16]),
        };
        if auth.mic.is_some() {
            let zeroed = auth.encode();
            auth.mic = Some(mic(&exported, &self.negotiate, challenge_bytes, &zeroed));
        }
        let est = Established {
            session: Session::client(&exported, flags),
            flags,
            user: self.creds.user,
            domain: self.creds.domain,
        };
        Ok((est, auth.encode()))
    }
}

/// The service's channel binding policy (WinRM `Service/Auth/CbtHardeningLevel`, MS-WSMV 2.2.4.34).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CbtPolicy {
    /// Ignore any binding.
    None,
    /// Check a binding when the client sends one; accept clients that send none.
    #[default]
    Relaxed,
    /// Require a correct binding.
    Strict,
}

/// Server identity and policy.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// NetBIOS domain (or computer) name: TargetName and MsvAvNbDomainName.
    pub domain: String,
    /// NetBIOS computer name.
    pub computer: String,
    /// DNS computer name.
    pub dns_computer: String,
    /// Channel binding policy.
    pub cbt: CbtPolicy,
    /// MD5 of the expected bindings (HTTPS only); `None` over plain HTTP, where any binding is
    /// ignored.
    pub expected_bindings: Option<[u8; 16]>,
    /// Fixed challenge and timestamp: for known-answer tests only.
    pub fixed: Option<([u8; 8], u64)>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            domain: "WSMAN-HARNESS".into(),
            computer: "WSMAN-HARNESS".into(),
            dns_computer: "localhost".into(),
            cbt: CbtPolicy::Relaxed,
            expected_bindings: None,
            fixed: None,
        }
    }
}

/// The server start.
pub struct Server {
    opts: ServerOptions,
}

/// The server after sending CHALLENGE; consumed by [`AwaitingAuthenticate::verify`].
pub struct AwaitingAuthenticate {
    opts: ServerOptions,
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    flags: Flags,
}

impl Server {
    /// A server with these options.
    pub fn new(opts: ServerOptions) -> Self {
        Self { opts }
    }

    /// Answers NEGOTIATE with CHALLENGE.
    pub fn challenge(
        self,
        negotiate_bytes: &[u8],
    ) -> Result<(AwaitingAuthenticate, Vec<u8>), AuthError> {
        let neg = Negotiate::decode(negotiate_bytes)?;
        if !neg.flags.contains(Flags::NEGOTIATE_UNICODE) {
            return Err(AuthError::Unsupported(
                "client does not offer UNICODE".into(),
            ));
        }
        // Answer with what both sides support, the way Windows does.
        let offer = Flags::NEGOTIATE_UNICODE
            | Flags::REQUEST_TARGET
            | Flags::NEGOTIATE_NTLM
            | Flags::NEGOTIATE_ALWAYS_SIGN
            | Flags::NEGOTIATE_EXTENDED_SESSIONSECURITY
            | Flags::NEGOTIATE_TARGET_INFO
            | Flags::NEGOTIATE_VERSION
            | Flags::TARGET_TYPE_SERVER
            | (neg.flags
                & (Flags::NEGOTIATE_SIGN
                    | Flags::NEGOTIATE_SEAL
                    | Flags::NEGOTIATE_KEY_EXCH
                    | Flags::NEGOTIATE_128
                    | Flags::NEGOTIATE_56));
        let (server_challenge, time) = self
            .opts
            .fixed
            .unwrap_or_else(|| (random(), filetime_now()));
        let o = &self.opts;
        let pairs = AvPairs(
            [
                (AvId::NB_DOMAIN_NAME, utf16le(&o.domain)),
                (AvId::NB_COMPUTER_NAME, utf16le(&o.computer)),
                (AvId::DNS_DOMAIN_NAME, utf16le(&o.dns_computer)),
                (AvId::DNS_COMPUTER_NAME, utf16le(&o.dns_computer)),
                (AvId::TIMESTAMP, time.to_le_bytes().to_vec()),
            ]
            .into_iter()
            .map(|(id, value)| super::av_pair::AvPair { id, value })
            .collect(),
        );
        let challenge = Challenge {
            target_name: utf16le(&o.domain),
            flags: offer,
            server_challenge,
            reserved: [0; 8],
            target_info: pairs.to_bytes(),
            version: Some(Version::WINDOWS_10),
        }
        .encode();
        let next = AwaitingAuthenticate {
            opts: self.opts,
            negotiate: negotiate_bytes.to_vec(),
            challenge: challenge.clone(),
            server_challenge,
            flags: offer,
        };
        Ok((next, challenge))
    }
}

impl AwaitingAuthenticate {
    /// The CHALLENGE this state sent.
    pub fn challenge_bytes(&self) -> &[u8] {
        &self.challenge
    }

    /// Verifies AUTHENTICATE against the user table (`lookup` maps user and domain to an NT
    /// hash; names compare case-insensitively there). Checks the NTLMv2 proof, the MIC when the
    /// client says it sent one, and channel bindings per policy.
    pub fn verify(
        self,
        auth_bytes: &[u8],
        lookup: impl Fn(&str, &str) -> Option<[u8; 16]>,
    ) -> Result<Established, AuthError> {
        let (exported, user, domain) = self.exported_key(auth_bytes, lookup)?;
        Ok(Established {
            session: Session::server(&exported, self.flags),
            flags: self.flags,
            user,
            domain,
        })
    }

    /// The checks of [`Self::verify`], returning the exported session key.
    fn exported_key(
        &self,
        auth_bytes: &[u8],
        lookup: impl Fn(&str, &str) -> Option<[u8; 16]>,
    ) -> Result<([u8; 16], String, String), AuthError> {
        let auth = Authenticate::decode(auth_bytes)?;
        let (user, domain) = (auth.user_name(), auth.domain_name());
        if user.is_empty() || auth.nt_response.len() < 16 + 28 {
            // Anonymous and NTLMv1 logons are not offered by a WinRM service.
            return Err(AuthError::BadCredentials);
        }
        let hash = lookup(&user, &domain).ok_or(AuthError::BadCredentials)?;
        let key = ntowfv2(&hash, &user, &domain);
        let (proof, blob) = auth.nt_response.split_at(16);
        if hmac_md5(&key, &[&self.server_challenge, blob])[..] != *proof {
            return Err(AuthError::BadCredentials);
        }
        let session_base_key = hmac_md5(&key, &[proof]);
        let pairs = AvPairs::decode(&blob[28..])?;
        let exported: [u8; 16] = if self.flags.contains(Flags::NEGOTIATE_KEY_EXCH) {
            rc4k(&session_base_key, &auth.encrypted_session_key)
                .try_into()
                .map_err(|_| {
                    AuthError::Unsupported("EncryptedRandomSessionKey is not 16 bytes".into())
                })?
        } else {
            session_base_key
        };
        if pairs.flags() & AV_FLAG_MIC_PRESENT != 0 {
            let sent = auth.mic.ok_or(AuthError::BadMic)?;
            if mic(&exported, &self.negotiate, &self.challenge, auth_bytes) != sent {
                return Err(AuthError::BadMic);
            }
        }
        self.check_bindings(&pairs)?;
        Ok((exported, user, domain))
    }

    fn check_bindings(&self, pairs: &AvPairs) -> Result<(), AuthError> {
        let Some(expected) = self.opts.expected_bindings else {
            return Ok(()); // Plain HTTP: MS-WSMV says any binding is ignored.
        };
        let sent = pairs
            .get(AvId::CHANNEL_BINDINGS)
            .filter(|v| v.iter().any(|b| *b != 0));
        match (self.opts.cbt, sent) {
            (CbtPolicy::None, _) => Ok(()),
            (CbtPolicy::Strict, None) => Err(AuthError::ChannelBinding("required but not sent")),
            (_, Some(v)) if v != expected => Err(AuthError::ChannelBinding(
                "does not match the TLS certificate",
            )),
            _ => Ok(()),
        }
    }
}

/// Both sides' keys of a session a third party watched.
pub struct Observed {
    /// Unseals client-to-server messages (the server's view).
    pub server_side: Session,
    /// Unseals server-to-client messages (the client's view).
    pub client_side: Session,
    /// The user who logged on.
    pub user: String,
}

/// A third party that knows the password and saw the whole handshake (the recording proxy)
/// derives the session keys the way the server does, so it can read sealed bodies both ways.
pub fn observe(
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
    lookup: impl Fn(&str, &str) -> Option<[u8; 16]>,
) -> Result<Observed, AuthError> {
    let ch = Challenge::decode(challenge)?;
    let watcher = AwaitingAuthenticate {
        opts: ServerOptions {
            cbt: CbtPolicy::None,
            ..ServerOptions::default()
        },
        negotiate: negotiate.to_vec(),
        challenge: challenge.to_vec(),
        server_challenge: ch.server_challenge,
        flags: ch.flags,
    };
    let (exported, user, _) = watcher.exported_key(authenticate, lookup)?;
    Ok(Observed {
        server_side: Session::server(&exported, ch.flags),
        client_side: Session::client(&exported, ch.flags),
        user,
    })
}
