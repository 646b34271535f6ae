//! Per-connection HTTP authentication (MS-WSMV 2.2.9.1, 3.1.4.1.28): Basic; NTLM under the
//! `Negotiate` (raw or SPNEGO-wrapped token) or bare `NTLM` schemes; Kerberos under `Negotiate`
//! (raw or SPNEGO-wrapped) or `Kerberos`, when the server has a keytab. NTLM and Kerberos
//! authenticate the connection, so later requests on it need no Authorization header, as with
//! HTTP.sys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::ServerConfig;
use super::tls::TlsBinding;
use crate::auth::encrypted_body::{EncryptedBody, Protocol};
use crate::auth::header::{AuthValue, parse_credentials};
use crate::auth::kerberos::{self, Acceptor};
use crate::auth::message_security::{
    SOAP_UTF8, seal_kerberos, seal_ntlm, unseal_kerberos, unseal_ntlm,
};
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
    /// The last request authenticated by Basic. The same header again on this connection is
    /// checked against the stored hash instead of hashing the password anew (an MD4 per
    /// request was a measurable share of answering a Get); the user's current entry is still
    /// looked up every time. The header is kept in memory only, never logged.
    Basic {
        /// The `Authorization` value that was verified.
        authorization: String,
        /// The user it named.
        user: String,
        /// The NT hash its password had.
        nt_hash: [u8; 16],
    },
    /// Authenticated by NTLM: the session seals and unseals bodies.
    Ntlm {
        /// The user.
        user: String,
        /// The keys.
        session: Box<Session>,
    },
    /// Authenticated by Kerberos: the GSS context seals and unseals bodies.
    Kerberos {
        /// The user (the client principal's name without the realm).
        user: String,
        /// The context.
        context: Box<kerberos::Context>,
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
        if config.kerberos() {
            v.push("Kerberos".to_owned());
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
        tls_bindings: Option<&TlsBinding>,
    ) -> Decision {
        let https = tls_bindings.is_some();
        let deny = || Decision::Unauthorized(Self::offers(config));
        let Some(value) = authorization else {
            return match self {
                ConnAuth::Ntlm { user, .. } | ConnAuth::Kerberos { user, .. } => {
                    Decision::Authenticated {
                        user: user.clone(),
                        final_token: None,
                    }
                }
                _ if config.deviates(super::Deviation::AllowAnonymous) => Decision::Authenticated {
                    user: "anonymous".into(),
                    final_token: None,
                },
                _ => deny(),
            };
        };
        if let ConnAuth::Basic {
            authorization,
            user,
            nt_hash,
        } = self
            && authorization == value
        {
            return if Self::basic_allowed(config, https) && config.lookup(user) == Some(*nt_hash) {
                Decision::Authenticated {
                    user: user.clone(),
                    final_token: None,
                }
            } else {
                deny()
            };
        }
        let Ok(creds) = parse_credentials(value) else {
            return deny();
        };
        if creds.is("Basic") && (config.basic() || config.deviates(super::Deviation::AcceptBasic)) {
            return self
                .basic(value, &creds, config, https)
                .unwrap_or_else(deny);
        }
        if creds.is("Kerberos") && config.kerberos() {
            return self
                .kerberos(&creds, config, tls_bindings)
                .unwrap_or_else(deny);
        }
        if creds.is("Negotiate") && config.negotiate() && config.kerberos() {
            let is_kerberos = creds.token_bytes().and_then(Result::ok).is_some_and(|t| {
                is_krb5_token(&t)
                    || Token::decode(&t).is_ok_and(|t| t.mech_token().is_some_and(is_krb5_token))
            });
            if is_kerberos {
                return self
                    .kerberos(&creds, config, tls_bindings)
                    .unwrap_or_else(deny);
            }
        }
        if (creds.is("Negotiate") || creds.is("NTLM")) && config.negotiate() {
            return self
                .ntlm(&creds, config, tls_bindings.map(|b| b.md5))
                .unwrap_or_else(deny);
        }
        deny()
    }

    /// WinRM refuses Basic over plain HTTP unless unencrypted traffic is allowed.
    fn basic_allowed(config: &ServerConfig, https: bool) -> bool {
        config.deviates(super::Deviation::AcceptBasic)
            || (config.basic() && (https || config.allow_unencrypted()))
    }

    fn basic(
        &mut self,
        authorization: &str,
        creds: &AuthValue,
        config: &ServerConfig,
        https: bool,
    ) -> Option<Decision> {
        if !Self::basic_allowed(config, https) {
            return None;
        }
        let raw = creds.token_bytes()?.ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        let user = user.rsplit('\\').next().unwrap_or(user);
        let hash = nt_hash(password);
        (config.lookup(user)? == hash).then(|| {
            *self = ConnAuth::Basic {
                authorization: authorization.to_owned(),
                user: user.to_owned(),
                nt_hash: hash,
            };
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
                let cbt = cbt_policy(config);
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

    /// One Kerberos leg: the AP-REQ (raw, or as the SPNEGO mechToken) is accepted against the
    /// keytab; the AP-REP goes back in the 200's `WWW-Authenticate`, wrapped as it came.
    fn kerberos(
        &mut self,
        creds: &AuthValue,
        config: &ServerConfig,
        tls_bindings: Option<&TlsBinding>,
    ) -> Option<Decision> {
        let token = creds.token_bytes()?.ok()?;
        let (ap_req, spnego_mech) = if is_krb5_token(&token) {
            (token, None)
        } else {
            let Token::Init(init) = Token::decode(&token).ok()? else {
                return None;
            };
            // Answer with the Kerberos OID the client listed (Windows lists Microsoft's first).
            let mech = init
                .mech_types
                .iter()
                .find(|m| **m == Oid::kerberos() || **m == Oid::ms_kerberos())
                .cloned()
                .unwrap_or_else(Oid::kerberos);
            (init.mech_token?, Some(mech))
        };
        let acceptor = match Acceptor::new(config.keytab.as_deref()) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("Kerberos refused: {e}");
                return None;
            }
        };
        // Channel binding per CbtHardeningLevel (HTTPS only): GSS-API refuses a ticket whose
        // binding differs; Strict also refuses one that carries none.
        let policy = cbt_policy(config);
        let bindings = tls_bindings
            .filter(|_| policy != CbtPolicy::None)
            .map(|b| b.application_data.as_slice());
        let (accepted, context) = match acceptor.accept(&ap_req, bindings) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("Kerberos refused: {e}");
                return None;
            }
        };
        if bindings.is_some() && policy == CbtPolicy::Strict && !accepted.channel_bound {
            tracing::warn!("Kerberos refused: no channel binding (CbtHardeningLevel=Strict)");
            return None;
        }
        let principal = accepted.client.unwrap_or_default();
        let user = principal.split('@').next().unwrap_or_default().to_owned();
        if config.lookup(&user).is_none() {
            tracing::warn!(user, "Kerberos principal is not a user of this server");
            return None;
        }
        let reply = match spnego_mech {
            None => accepted.token,
            Some(mech) => Token::Resp(NegTokenResp {
                neg_state: Some(NegState::ACCEPT_COMPLETED),
                supported_mech: Some(mech),
                response_token: Some(accepted.token),
                mech_list_mic: None,
            })
            .encode(),
        };
        *self = ConnAuth::Kerberos {
            user: user.clone(),
            context: Box::new(context),
        };
        Some(Decision::Authenticated {
            user,
            final_token: Some(format!("{} {}", creds.scheme, B64.encode(reply))),
        })
    }

    /// The connection's security mechanism, for the request log.
    pub fn mechanism(&self) -> &'static str {
        match self {
            ConnAuth::Anonymous => "none",
            ConnAuth::Basic { .. } => "basic",
            ConnAuth::Challenged { .. } => "ntlm-challenged",
            ConnAuth::Ntlm { .. } => "ntlm",
            ConnAuth::Kerberos { .. } => "kerberos",
        }
    }

    /// Unseals an encrypted request body with the connection's security context.
    pub fn unseal(&mut self, body: &EncryptedBody) -> Result<Vec<u8>, String> {
        match self {
            ConnAuth::Ntlm { session, .. } => unseal_ntlm(session, body).map_err(|e| e.to_string()),
            ConnAuth::Kerberos { context, .. } => unseal_kerberos(context, body),
            _ => Err("no security context on this connection".into()),
        }
    }

    /// Seals a response body, labelled with the request's protocol (responses mirror it).
    pub fn seal(&mut self, plain: &[u8], protocol: Protocol) -> Option<EncryptedBody> {
        match self {
            ConnAuth::Ntlm { session, .. } => {
                let mut sealed = seal_ntlm(session, plain, SOAP_UTF8);
                sealed.protocol = protocol;
                Some(sealed)
            }
            ConnAuth::Kerberos { context, .. } => {
                seal_kerberos(context, plain, SOAP_UTF8, protocol)
                    .map_err(|e| tracing::warn!("cannot seal a response: {e}"))
                    .ok()
            }
            _ => None,
        }
    }
}

/// `Service/Auth/CbtHardeningLevel`.
fn cbt_policy(config: &ServerConfig) -> CbtPolicy {
    match config.model.get("Service/Auth/CbtHardeningLevel") {
        Some("None") => CbtPolicy::None,
        Some("Strict") => CbtPolicy::Strict,
        _ => CbtPolicy::Relaxed,
    }
}

/// A GSS initial context token for Kerberos 5: `0x60`, a DER length, then the krb5 OID.
fn is_krb5_token(t: &[u8]) -> bool {
    if t.first() != Some(&0x60) {
        return false;
    }
    let skip = match t.get(1) {
        Some(&n) if n < 0x80 => 2,
        Some(&n) => 2 + usize::from(n & 0x7f),
        None => return false,
    };
    let Some(rest) = t.get(skip..) else {
        return false;
    };
    [Oid::kerberos(), Oid::ms_kerberos()].iter().any(|oid| {
        rest.len() > 2 + oid.0.len()
            && rest[0] == 0x06
            && usize::from(rest[1]) == oid.0.len()
            && rest[2..2 + oid.0.len()] == oid.0[..]
    })
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
