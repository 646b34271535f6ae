//! Per-connection HTTP authentication (MS-WSMV 2.2.9.1, 3.1.4.1.28): Basic, and NTLM under the
//! `Negotiate` (raw or SPNEGO-wrapped token) or bare `NTLM` schemes. NTLM authenticates the
//! connection, so later requests on it need no Authorization header, as with HTTP.sys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::ServerConfig;
use crate::auth::header::{AuthValue, parse_credentials};
use crate::auth::ntlm::{
    AwaitingAuthenticate, CbtPolicy, Server, ServerOptions, Session, crypto::nt_hash,
};
use crate::auth::spnego::{NegState, NegTokenResp, Oid, Token};

/// How the client wrapped its NTLM tokens; answers mirror it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wrap {
    Raw,
    Spnego,
}

/// Where a connection stands.
#[derive(Default)]
pub enum ConnAuth {
    /// Nothing yet.
    #[default]
    Anonymous,
    /// CHALLENGE sent; waiting for AUTHENTICATE.
    Challenged {
        state: Box<AwaitingAuthenticate>,
        scheme: String,
        wrap: Wrap,
        /// DER of the client's MechTypeList (SPNEGO only), for the mechListMIC.
        mech_types: Option<Vec<u8>>,
    },
    /// Authenticated by NTLM: the session seals and unseals bodies.
    Ntlm {
        /// The user.
        user: String,
        /// The keys.
        session: Box<Session>,
    },
}

/// What the HTTP layer should do.
pub enum Decision {
    /// 401 with these `WWW-Authenticate` values.
    Unauthorized(Vec<String>),
    /// Proceed as this user; with a final `WWW-Authenticate` token to send, if any.
    Authenticated {
        /// The user.
        user: String,
        /// A mutual-auth token for the 200 response.
        final_token: Option<String>,
    },
}

impl ConnAuth {
    /// The challenges this server offers.
    pub fn offers(config: &ServerConfig) -> Vec<String> {
        let mut v = Vec::new();
        if config.negotiate() {
            v.push("Negotiate".to_owned());
        }
        if config.basic() || config.deviates(super::Deviation::AcceptBasic) {
            v.push("Basic realm=\"WSMAN\"".to_owned());
        }
        v
    }

    /// Judges one request's `Authorization` header (or its absence).
    /// `tls_bindings` is the channel binding of the TLS certificate on HTTPS, `None` on HTTP.
    pub fn authorize(
        &mut self,
        authorization: Option<&str>,
        config: &ServerConfig,
        tls_bindings: Option<[u8; 16]>,
    ) -> Decision {
        let https = tls_bindings.is_some();
        let deny = || Decision::Unauthorized(Self::offers(config));
        let Some(value) = authorization else {
            return match self {
                ConnAuth::Ntlm { user, .. } => Decision::Authenticated {
                    user: user.clone(),
                    final_token: None,
                },
                _ if config.deviates(super::Deviation::AllowAnonymous) => Decision::Authenticated {
                    user: "anonymous".into(),
                    final_token: None,
                },
                _ => deny(),
            };
        };
        let Ok(creds) = parse_credentials(value) else {
            return deny();
        };
        if creds.is("Basic") && (config.basic() || config.deviates(super::Deviation::AcceptBasic)) {
            return self.basic(&creds, config, https).unwrap_or_else(deny);
        }
        if (creds.is("Negotiate") || creds.is("NTLM")) && config.negotiate() {
            return self.ntlm(&creds, config, tls_bindings).unwrap_or_else(deny);
        }
        deny()
    }

    fn basic(&mut self, creds: &AuthValue, config: &ServerConfig, https: bool) -> Option<Decision> {
        // WinRM refuses Basic over plain HTTP unless unencrypted traffic is allowed.
        let deviating = config.deviates(super::Deviation::AcceptBasic);
        if !deviating && (!config.basic() || !(https || config.allow_unencrypted())) {
            return None;
        }
        let raw = creds.token_bytes()?.ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        let user = user.rsplit('\\').next().unwrap_or(user);
        (config.lookup(user)? == nt_hash(password)).then(|| {
            *self = ConnAuth::Anonymous;
            Decision::Authenticated {
                user: user.to_owned(),
                final_token: None,
            }
        })
    }

    fn ntlm(
        &mut self,
        creds: &AuthValue,
        config: &ServerConfig,
        tls_bindings: Option<[u8; 16]>,
    ) -> Option<Decision> {
        let token = creds.token_bytes()?.ok()?;
        let (wrap, inner, spnego) = if token.starts_with(b"NTLMSSP\0") {
            (Wrap::Raw, token, None)
        } else {
            let t = Token::decode(&token).ok()?;
            (Wrap::Spnego, t.mech_token()?.to_vec(), Some(t))
        };
        let msg_type = inner.get(8).copied()?;
        match (msg_type, std::mem::take(self)) {
            (1, _) => {
                let cbt = match config.model.get("Service/Auth/CbtHardeningLevel") {
                    Some("None") => CbtPolicy::None,
                    Some("Strict") => CbtPolicy::Strict,
                    _ => CbtPolicy::Relaxed,
                };
                let opts = ServerOptions {
                    computer: config.machine.clone(),
                    domain: config.machine.clone(),
                    cbt,
                    expected_bindings: tls_bindings,
                    ..ServerOptions::default()
                };
                let (state, challenge) = Server::new(opts).challenge(&inner).ok()?;
                let out = wrap_token(wrap, &challenge, NegState::ACCEPT_INCOMPLETE);
                let scheme = creds.scheme.clone();
                let mech_types = match &spnego {
                    Some(Token::Init(i)) => Some(i.mech_types_der()),
                    _ => None,
                };
                *self = ConnAuth::Challenged {
                    state: Box::new(state),
                    scheme: scheme.clone(),
                    wrap,
                    mech_types,
                };
                Some(Decision::Unauthorized(vec![format!(
                    "{scheme} {}",
                    B64.encode(out)
                )]))
            }
            (
                3,
                ConnAuth::Challenged {
                    state,
                    scheme,
                    wrap,
                    mech_types,
                },
            ) => {
                let mut est = match state.verify(&inner, |u, _| config.lookup(u)) {
                    Ok(est) => est,
                    // Without the right password there are no shared keys: sealed bodies
                    // from such a client cannot be read, but the handshake "succeeds".
                    Err(_) if config.deviates(super::Deviation::AcceptAnyPassword) => {
                        *self = ConnAuth::Ntlm {
                            user: "unknown".into(),
                            session: Box::new(Session::server(&[0; 16], Default::default())),
                        };
                        return Some(Decision::Authenticated {
                            user: "unknown".into(),
                            final_token: None,
                        });
                    }
                    Err(_) => return None,
                };
                // SPNEGO protects its mechanism list with a MIC made by the NTLM session
                // (RFC 4178 §5); it takes sequence number 0 in each direction.
                let client_mic = match &spnego {
                    Some(Token::Resp(r)) => r.mech_list_mic.clone(),
                    _ => None,
                };
                let server_mic = match (client_mic, &mech_types) {
                    (Some(mic), Some(types)) => {
                        est.session.verify(types, &mic).ok()?;
                        let ours = est.session.sign(types).to_vec();
                        est.session.reset_ciphers();
                        Some(ours)
                    }
                    _ => None,
                };
                let final_token = (wrap == Wrap::Spnego).then(|| {
                    let t = Token::Resp(NegTokenResp {
                        neg_state: Some(NegState::ACCEPT_COMPLETED),
                        mech_list_mic: server_mic,
                        ..NegTokenResp::default()
                    });
                    format!("{scheme} {}", B64.encode(t.encode()))
                });
                *self = ConnAuth::Ntlm {
                    user: est.user.clone(),
                    session: Box::new(est.session),
                };
                Some(Decision::Authenticated {
                    user: est.user,
                    final_token,
                })
            }
            _ => None,
        }
    }

    /// The session of an NTLM-authenticated connection.
    pub fn session(&mut self) -> Option<&mut Session> {
        match self {
            ConnAuth::Ntlm { session, .. } => Some(session),
            _ => None,
        }
    }
}

fn wrap_token(wrap: Wrap, token: &[u8], state: NegState) -> Vec<u8> {
    match wrap {
        Wrap::Raw => token.to_vec(),
        Wrap::Spnego => Token::Resp(NegTokenResp {
            neg_state: Some(state),
            supported_mech: Some(Oid::ntlm()),
            response_token: Some(token.to_vec()),
            mech_list_mic: None,
        })
        .encode(),
    }
}
