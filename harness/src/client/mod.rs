//! A WS-Man HTTP client for the harness's engines (conformance checks, probes): Basic, NTLM under
//! `Negotiate` with MS-WSMV message encryption on HTTP, HTTPS with channel bindings, and a wire
//! log of every exchange with secrets redacted.
//!
//! It is deliberately blocking (each engine thread owns one client and its own small runtime):
//! checks are sequential conversations, and a blocking API keeps them readable. Every exchange is
//! bounded in time and in the bytes it reads, so a hostile server can neither hang nor exhaust
//! the harness.

pub mod transport;
pub mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

use crate::auth::encrypted_body::EncryptedBody;
use crate::auth::encrypted_body::Protocol;
use crate::auth::header::parse_challenges;
use crate::auth::kerberos;
use crate::auth::message_security::{
    SOAP_UTF8, seal_kerberos, seal_ntlm, unseal_kerberos, unseal_ntlm,
};
use crate::auth::ntlm::{Client as NtlmClient, ClientOptions as NtlmOptions, Credentials, Session};
use crate::auth::spnego::{NegState, NegTokenInit, Oid, Token};
use crate::envelope::Envelope;
use crate::xml::ParseError;
pub use wire::{Exchange, WireMessage};

/// How the client authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// No Authorization header.
    None,
    /// `Basic` (refused by WinRM's defaults).
    Basic,
    /// NTLM in the `Negotiate` scheme, sealing bodies on HTTP.
    Negotiate,
    /// NTLM in the `Negotiate` scheme (same as `negotiate`; Kerberos is not offered).
    Ntlm,
    /// Kerberos wrapped in SPNEGO under `Negotiate`, as the Windows client sends it; tickets
    /// for `user@REALM` with the password, or from the credential cache without one.
    Kerberos,
}

/// Why an exchange did not complete.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The target URL is not usable.
    #[error("target URL: {0}")]
    Url(String),
    /// No TCP connection.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// TLS setup or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// Authentication did not complete.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// No complete response within the time limit.
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    /// The response body exceeded what the client accepts.
    #[error("response body larger than {0} bytes; stopped reading")]
    TooLarge(usize),
    /// The connection broke or the HTTP framing was invalid.
    #[error("HTTP: {0}")]
    Http(String),
    /// A sealed response could not be unsealed.
    #[error("cannot unseal the response: {0}")]
    Unseal(String),
}

impl ClientError {
    /// True when the target could not be reached or refused the credentials (exit code 3).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClientError::Url(_)
                | ClientError::Connect(_)
                | ClientError::Tls(_)
                | ClientError::Auth(_)
        )
    }
}

/// `http[s]://host[:port]/path`, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `https`.
    pub https: bool,
    /// Host name or address (IPv6 in brackets).
    pub host: String,
    /// Port (5985/5986 by default, as WinRM's listeners).
    pub port: u16,
    /// Path, starting with `/`.
    pub path: String,
}

impl Target {
    /// Parses a target URL; without a path, `/wsman`.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| ClientError::Url(format!("{url:?}: {e}")))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            other => {
                return Err(ClientError::Url(format!(
                    "{url:?}: scheme {other:?}, expected http or https"
                )));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| ClientError::Url(format!("{url:?}: no host")))?
            .to_owned();
        let path = match uri.path() {
            "" | "/" => "/wsman".to_owned(),
            p => p.to_owned(),
        };
        Ok(Self {
            https,
            port: uri.port_u16().unwrap_or(if https { 5986 } else { 5985 }),
            host,
            path,
        })
    }

    /// The URL again.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}{}", self.host, self.port, self.path)
    }
}

/// A password that never prints.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a client needs to talk to a target.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Where.
    pub target: Target,
    /// How to authenticate.
    pub auth: AuthMethod,
    /// Account (`DOMAIN\user` or `user`).
    pub user: String,
    /// Its password.
    pub password: Secret,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Accept a certificate issued for another host name (the chain is still verified).
    pub any_name: bool,
    /// PEM file of trusted roots for HTTPS.
    pub ca: Option<std::path::PathBuf>,
    /// Limit per exchange (connect, send, whole response).
    pub timeout: Duration,
    /// Largest response body read; beyond it the exchange fails without buffering the rest.
    pub max_response: usize,
    /// Kerberos service name (`HTTP@host` or `HTTP/host@REALM`); `HTTP@<target host>` when
    /// unset.
    pub spn: Option<String>,
}

impl ClientOptions {
    /// The TLS configuration for an HTTPS target (`None` on HTTP).
    pub fn tls(&self) -> Result<Option<Arc<rustls::ClientConfig>>, ClientError> {
        if !self.target.https {
            return Ok(None);
        }
        transport::tls_config(self.insecure, self.any_name, self.ca.as_deref()).map(Some)
    }

    /// Options for a target with defaults: Negotiate, 30 s, 8 MiB responses.
    pub fn new(target: Target, user: &str, password: &str) -> Self {
        Self {
            target,
            auth: AuthMethod::Negotiate,
            user: user.to_owned(),
            password: Secret(password.to_owned()),
            insecure: false,
            any_name: false,
            ca: None,
            timeout: Duration::from_secs(30),
            max_response: 8 << 20,
            spn: None,
        }
    }
}

/// One request as the engines describe it.
#[derive(Clone, Debug)]
pub struct Request {
    /// HTTP method.
    pub method: hyper::Method,
    /// The plain body (sealed on the way when the connection encrypts).
    pub body: Vec<u8>,
    /// Extra headers (e.g. `WSMANIDENTIFY: unauthenticated`).
    pub headers: Vec<(String, String)>,
    /// `Content-Type` of a plain body.
    pub content_type: String,
    /// Authenticate (per the client's method) before sending.
    pub authenticate: bool,
    /// Seal the body when the connection can (NTLM on HTTP); false sends it plain.
    pub encrypt: bool,
    /// Send on a new connection, closed afterwards.
    pub fresh_connection: bool,
    /// Time limit for this exchange, instead of the client's.
    pub timeout: Option<Duration>,
}

impl Request {
    /// An authenticated SOAP POST of `body`.
    pub fn soap(body: Vec<u8>) -> Self {
        Self {
            method: hyper::Method::POST,
            body,
            headers: Vec::new(),
            content_type: SOAP_UTF8.to_owned(),
            authenticate: true,
            encrypt: true,
            fresh_connection: false,
            timeout: None,
        }
    }
}

/// A completed exchange.
#[derive(Clone, Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers in order (unredacted: the engines judge them; the log redacts).
    pub headers: Vec<(String, String)>,
    /// The body, unsealed when it travelled sealed.
    pub body: Bytes,
    /// It travelled sealed.
    pub sealed: bool,
    /// Time from sending to the end of the body.
    pub elapsed: Duration,
    /// The connection stays open (no `Connection: close`).
    pub keep_alive: bool,
}

impl Response {
    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as a SOAP envelope.
    pub fn envelope(&self) -> Result<Envelope, ParseError> {
        crate::envelope::parse(&self.body)
    }
}

/// Connection state beyond the socket.
struct Live {
    conn: transport::Connection,
    /// The security context once the connection is authenticated.
    security: Option<Security>,
    authenticated: bool,
}

/// What seals and unseals bodies on an authenticated connection.
pub(crate) enum Security {
    Ntlm(Box<Session>),
    Kerberos(Box<kerberos::Context>),
}

impl Security {
    pub(crate) fn seal(
        &mut self,
        plain: &[u8],
        original_type: &str,
    ) -> Result<EncryptedBody, ClientError> {
        match self {
            Security::Ntlm(s) => Ok(seal_ntlm(s, plain, original_type)),
            Security::Kerberos(c) => seal_kerberos(c, plain, original_type, Protocol::Spnego)
                .map_err(|e| ClientError::Auth(e.to_string())),
        }
    }

    /// The plain body of a `multipart/encrypted` response.
    pub(crate) fn unseal(
        &mut self,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Bytes, ClientError> {
        match self {
            Security::Ntlm(session) => unseal_body(Some(session), content_type, bytes),
            Security::Kerberos(ctx) => EncryptedBody::decode(content_type, bytes)
                .map_err(|e| e.to_string())
                .and_then(|(b, _)| unseal_kerberos(ctx, &b))
                .map(Bytes::from)
                .map_err(ClientError::Unseal),
        }
    }
}

/// The first Kerberos leg: tickets for the account (or from the cache), and the AP-REQ in a
/// SPNEGO NegTokenInit, as the Windows client sends it under `Negotiate`. May talk to the KDC.
pub(crate) fn kerberos_start(
    opts: &ClientOptions,
    binding: Option<Vec<u8>>,
) -> Result<(kerberos::Initiator, Vec<u8>), ClientError> {
    let auth = |e: kerberos::KerberosError| ClientError::Auth(e.to_string());
    let creds = kerberos::ClientCredentials {
        principal: Some(opts.user.clone()).filter(|u| !u.is_empty()),
        password: Some(opts.password.0.clone()).filter(|p| !p.is_empty()),
    };
    let mut init = kerberos::Initiator::new(&kerberos_spn(opts), &creds, binding).map_err(auth)?;
    let ap_req = init.step(None).map_err(auth)?.token;
    let token = Token::Init(NegTokenInit {
        mech_types: vec![Oid::kerberos()],
        req_flags: None,
        mech_token: Some(ap_req),
        mech_list_mic: None,
    })
    .encode();
    Ok((init, token))
}

fn kerberos_spn(opts: &ClientOptions) -> String {
    opts.spn
        .clone()
        .unwrap_or_else(|| format!("HTTP@{}", opts.target.host))
}

/// The server's answer to the AP-REQ: a 200 whose `WWW-Authenticate` carries the AP-REP
/// (mutual authentication), which completes the context.
pub(crate) fn kerberos_finish<'h>(
    mut init: kerberos::Initiator,
    opts: &ClientOptions,
    status: u16,
    www_authenticate: impl Iterator<Item = &'h str>,
) -> Result<kerberos::Context, ClientError> {
    let auth = |e: kerberos::KerberosError| ClientError::Auth(e.to_string());
    if status == 401 {
        return Err(ClientError::Auth(format!(
            "the server refused the Kerberos ticket of {:?} for {}",
            opts.user,
            kerberos_spn(opts)
        )));
    }
    let reply = negotiate_token(www_authenticate).ok_or_else(|| {
        ClientError::Auth("the server sent no mutual-authentication token".into())
    })?;
    let ap_rep = match Token::decode(&reply) {
        Ok(Token::Resp(r)) if r.neg_state == Some(NegState::REJECT) => {
            return Err(ClientError::Auth("the server rejected Kerberos".into()));
        }
        Ok(Token::Resp(r)) => r.response_token.unwrap_or_default(),
        _ => reply,
    };
    init.step(Some(&ap_rep)).map_err(auth)?;
    init.into_context().map_err(auth)
}

/// A blocking WS-Man client; see the module documentation.
pub struct Client {
    opts: ClientOptions,
    rt: tokio::runtime::Runtime,
    tls: Option<Arc<rustls::ClientConfig>>,
    live: Option<Live>,
    /// Every exchange so far, redacted.
    pub log: Vec<Exchange>,
}

impl Client {
    /// A client; nothing is sent until the first request.
    pub fn new(opts: ClientOptions) -> Result<Self, ClientError> {
        let tls = opts.tls()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::Connect(format!("cannot start a runtime: {e}")))?;
        Ok(Self {
            opts,
            rt,
            tls,
            live: None,
            log: Vec::new(),
        })
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// Sends an authenticated SOAP envelope (sealed on NTLM over HTTP).
    pub fn soap(&mut self, body: Vec<u8>) -> Result<Response, ClientError> {
        self.send(Request::soap(body))
    }

    /// Sends one request as described, authenticating first when asked.
    pub fn send(&mut self, req: Request) -> Result<Response, ClientError> {
        let timeout = req.timeout.unwrap_or(self.opts.timeout);
        if req.fresh_connection {
            self.live = None;
        }
        if req.authenticate {
            self.ensure_authenticated(timeout)?;
        } else if self.live.as_ref().is_none_or(|l| l.conn.sender.is_closed()) {
            self.reconnect(timeout)?;
        }
        let seal = req.encrypt
            && !self.opts.target.https
            && self.live.as_ref().is_some_and(|l| l.security.is_some());
        let mut headers = req.headers.clone();
        if req.authenticate && matches!(self.opts.auth, AuthMethod::Basic) {
            let token = B64.encode(format!("{}:{}", self.opts.user, self.opts.password.0));
            headers.push(("Authorization".into(), format!("Basic {token}")));
        }
        let (wire_body, content_type) = if seal && !req.body.is_empty() {
            let live = self.live.as_mut().expect("connected");
            let security = live.security.as_mut().expect("sealing needs a context");
            let sealed = security.seal(&req.body, &req.content_type)?;
            (sealed.encode(), sealed.content_type())
        } else {
            (req.body.clone(), req.content_type.clone())
        };
        let result = self.exchange(
            &req.method,
            headers,
            &content_type,
            wire_body,
            &req.body,
            seal,
            timeout,
        );
        if req.fresh_connection {
            self.live = None;
        }
        result
    }

    /// Closes the connection; the next request opens (and authenticates) a new one.
    pub fn disconnect(&mut self) {
        self.live = None;
    }

    fn reconnect(&mut self, timeout: Duration) -> Result<(), ClientError> {
        let target = self.opts.target.clone();
        let tls = self.tls.clone();
        let conn = self
            .rt
            .block_on(async { transport::connect(&target, tls.as_ref(), timeout).await })?;
        self.live = Some(Live {
            conn,
            security: None,
            authenticated: false,
        });
        Ok(())
    }

    fn ensure_authenticated(&mut self, timeout: Duration) -> Result<(), ClientError> {
        if let Some(l) = &self.live
            && !l.conn.sender.is_closed()
            && (l.authenticated
                || !matches!(
                    self.opts.auth,
                    AuthMethod::Negotiate | AuthMethod::Ntlm | AuthMethod::Kerberos
                ))
        {
            return Ok(());
        }
        self.reconnect(timeout)?;
        match self.opts.auth {
            AuthMethod::Negotiate | AuthMethod::Ntlm => self.ntlm_handshake(timeout),
            AuthMethod::Kerberos => self.kerberos_handshake(timeout),
            _ => Ok(()),
        }
    }

    /// Kerberos in SPNEGO: NegTokenInit with the AP-REQ on an empty POST → 200 whose
    /// `WWW-Authenticate` carries the AP-REP (mutual authentication), fed back to the context.
    fn kerberos_handshake(&mut self, timeout: Duration) -> Result<(), ClientError> {
        let binding = self.live.as_ref().and_then(|l| l.conn.binding_data.clone());
        let (init, token) = kerberos_start(&self.opts, binding)?;
        let done = self.handshake_step(&token, timeout)?;
        let context = kerberos_finish(
            init,
            &self.opts,
            done.status,
            done.headers_named("WWW-Authenticate"),
        )?;
        let live = self.live.as_mut().expect("connected");
        live.security = Some(Security::Kerberos(Box::new(context)));
        live.authenticated = true;
        Ok(())
    }

    /// NTLM in `Negotiate`, with empty bodies as pywinrm and the Windows client do when they
    /// are going to seal: NEGOTIATE → 401 CHALLENGE → AUTHENTICATE → 200.
    fn ntlm_handshake(&mut self, timeout: Duration) -> Result<(), ClientError> {
        let bindings = self.live.as_ref().and_then(|l| l.conn.bindings);
        let (sent, negotiate) = ntlm_start(&self.opts, bindings);
        let first = self.handshake_step(&negotiate, timeout)?;
        let (established, authenticate) =
            ntlm_answer(sent, first.status, first.headers_named("WWW-Authenticate"))?;
        let done = self.handshake_step(&authenticate, timeout)?;
        if done.status == 401 {
            return Err(ClientError::Auth(format!(
                "the server refused the credentials of {:?}",
                self.opts.user
            )));
        }
        let live = self.live.as_mut().expect("connected");
        live.security = Some(Security::Ntlm(Box::new(established.session)));
        live.authenticated = true;
        Ok(())
    }

    /// One handshake leg: an empty-body POST carrying an NTLM token under `Negotiate`.
    fn handshake_step(&mut self, token: &[u8], timeout: Duration) -> Result<Response, ClientError> {
        let authorization = vec![(
            "Authorization".to_owned(),
            format!("Negotiate {}", B64.encode(token)),
        )];
        let post = hyper::Method::POST;
        self.exchange(
            &post,
            authorization,
            SOAP_UTF8,
            Vec::new(),
            &[],
            false,
            timeout,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn exchange(
        &mut self,
        method: &hyper::Method,
        headers: Vec<(String, String)>,
        content_type: &str,
        wire_body: Vec<u8>,
        plain: &[u8],
        sealed: bool,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let target = &self.opts.target;
        let mut all = vec![
            (
                "Host".to_owned(),
                format!("{}:{}", target.host, target.port),
            ),
            ("User-Agent".to_owned(), "wsman-harness".to_owned()),
        ];
        if !content_type.is_empty() {
            all.push(("Content-Type".into(), content_type.to_owned()));
        }
        all.push(("Content-Length".into(), wire_body.len().to_string()));
        all.extend(headers);
        let start_line = format!("{method} {} HTTP/1.1", target.path);
        let logged = WireMessage::new(start_line, &all, plain, wire_body.len(), sealed);
        let mut builder = hyper::Request::builder()
            .method(method.clone())
            .uri(target.path.as_str());
        for (n, v) in &all {
            builder = builder.header(n.as_str(), v.as_str());
        }
        let request = builder
            .body(Full::new(Bytes::from(wire_body)))
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let limit = self.opts.max_response;
        let start = Instant::now();
        let Some(live) = self.live.as_mut() else {
            return Err(ClientError::Http("not connected".into()));
        };
        let outcome = self.rt.block_on(async {
            tokio::time::timeout(timeout, async {
                live.conn
                    .sender
                    .ready()
                    .await
                    .map_err(|e| ClientError::Http(e.to_string()))?;
                let resp = live
                    .conn
                    .sender
                    .send_request(request)
                    .await
                    .map_err(|e| ClientError::Http(e.to_string()))?;
                let (parts, body) = resp.into_parts();
                let declared = parts
                    .headers
                    .get(hyper::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|n| n > limit as u64) {
                    return Err(ClientError::TooLarge(limit));
                }
                let bytes = Limited::new(body, limit)
                    .collect()
                    .await
                    .map_err(|e| {
                        if e.downcast_ref::<http_body_util::LengthLimitError>()
                            .is_some()
                        {
                            ClientError::TooLarge(limit)
                        } else {
                            ClientError::Http(e.to_string())
                        }
                    })?
                    .to_bytes();
                Ok((parts, bytes))
            })
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))
        });
        let elapsed = start.elapsed();
        let (parts, bytes) = match outcome {
            Ok(x) => x,
            Err(e) => {
                // The connection is in an unknown state after a failed exchange.
                self.live = None;
                self.log.push(Exchange {
                    request: logged,
                    response: None,
                    error: Some(e.to_string()),
                    millis: elapsed.as_millis() as u64,
                });
                return Err(e);
            }
        };
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    canonical(n.as_str()),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let ctype = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let keep_alive = !parts
            .headers
            .get(hyper::header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let status_line = format!(
            "HTTP/1.1 {} {}",
            parts.status.as_u16(),
            parts.status.canonical_reason().unwrap_or("")
        );
        let sealed_resp = ctype.to_ascii_lowercase().starts_with("multipart/");
        let unsealed = if sealed_resp {
            match self.live.as_mut().and_then(|l| l.security.as_mut()) {
                Some(security) => security.unseal(&ctype, &bytes),
                None => unseal_body(None, &ctype, &bytes),
            }
        } else {
            Ok(bytes.clone())
        };
        let body_for_log = unsealed.as_ref().map_or(&bytes, |b| b);
        self.log.push(Exchange {
            request: logged,
            response: Some(WireMessage::new(
                status_line,
                &headers,
                body_for_log,
                bytes.len(),
                sealed_resp && unsealed.is_ok(),
            )),
            error: unsealed.as_ref().err().map(ToString::to_string),
            millis: elapsed.as_millis() as u64,
        });
        Ok(Response {
            status: parts.status.as_u16(),
            headers,
            body: unsealed?,
            sealed: sealed_resp,
            elapsed,
            keep_alive,
        })
    }
}

/// The NEGOTIATE message of a client handshake (`DOMAIN\\user` split, the target's SPN, the
/// TLS channel bindings when there are some).
pub(crate) fn ntlm_start(
    opts: &ClientOptions,
    bindings: Option<[u8; 16]>,
) -> (crate::auth::ntlm::NegotiateSent, Vec<u8>) {
    let (user, domain) = match opts.user.split_once('\\') {
        Some((d, u)) => (u.to_owned(), d.to_owned()),
        None => (opts.user.clone(), String::new()),
    };
    NtlmClient::new(
        Credentials::new(&user, &domain, &opts.password.0),
        NtlmOptions {
            workstation: "WSMAN-HARNESS".into(),
            target_spn: Some(format!("HTTP/{}", opts.target.host)),
            channel_bindings: bindings,
            ..NtlmOptions::default()
        },
    )
    .start()
}

/// The AUTHENTICATE message for the server's 401 answer to NEGOTIATE.
pub(crate) fn ntlm_answer<'h>(
    sent: crate::auth::ntlm::NegotiateSent,
    status: u16,
    www_authenticate: impl Iterator<Item = &'h str>,
) -> Result<(crate::auth::ntlm::Established, Vec<u8>), ClientError> {
    if status != 401 {
        return Err(ClientError::Auth(format!(
            "expected 401 with an NTLM challenge, got HTTP {status}"
        )));
    }
    let challenge = negotiate_token(www_authenticate)
        .ok_or_else(|| ClientError::Auth("the 401 carries no Negotiate challenge token".into()))?;
    sent.respond(&challenge)
        .map_err(|e| ClientError::Auth(format!("the NTLM challenge: {e}")))
}

/// The token of the first `Negotiate` challenge that carries one, decoded.
fn negotiate_token<'h>(www_authenticate: impl Iterator<Item = &'h str>) -> Option<Vec<u8>> {
    www_authenticate
        .filter_map(|v| parse_challenges(v).ok())
        .flatten()
        .find(|c| c.is("Negotiate") && c.token.is_some())
        .and_then(|c| c.token_bytes())
        .and_then(Result::ok)
}

/// The plain body of a `multipart/encrypted` response, unsealed with the connection's NTLM
/// session (an error without one).
pub(crate) fn unseal_body(
    session: Option<&mut Session>,
    content_type: &str,
    bytes: &[u8],
) -> Result<Bytes, ClientError> {
    let Some(session) = session else {
        return Err(ClientError::Unseal(
            "a sealed response on a connection without a security context".into(),
        ));
    };
    EncryptedBody::decode(content_type, bytes)
        .map_err(|e| e.to_string())
        .and_then(|(b, _)| unseal_ntlm(session, &b).map_err(|e| e.to_string()))
        .map(Bytes::from)
        .map_err(ClientError::Unseal)
}

/// `content-type` → `Content-Type`, for logs that read like the wire.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_winrm_defaults() {
        let t = Target::parse("http://host").unwrap();
        assert_eq!((t.port, t.path.as_str(), t.https), (5985, "/wsman", false));
        let t = Target::parse("https://[::1]/custom").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("[::1]", 5986, "/custom")
        );
        assert!(
            Target::parse("ftp://x")
                .unwrap_err()
                .to_string()
                .contains("scheme")
        );
        assert!(Target::parse("not a url").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let o = ClientOptions::new(Target::parse("http://h").unwrap(), "u", "hunter2");
        assert!(!format!("{o:?}").contains("hunter2"));
    }
}
