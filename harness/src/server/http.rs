//! The HTTP/1.1 adapter: listener, per-connection authentication and encryption state, request
//! limits, and the mapping of the core's replies onto HTTP.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{
    ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::auth::{ConnAuth, Decision};
use super::tls::Tls;
use super::tls::TlsBinding;
use super::{Deviation, Reply, RequestContext, Service};
use crate::auth::encrypted_body::EncryptedBody;
use crate::auth::message_security::SOAP_UTF8;
use crate::xml::Written;

/// Room for multipart headers and signatures on top of MaxEnvelopeSizekb in an encrypted body.
const ENCRYPTION_OVERHEAD: usize = 1024;
/// How much of a refused body is read and thrown away before the 413 goes out. Closing a
/// connection with unread request bytes makes the kernel reset it, and the client then loses
/// the 413 already sent (found by `wsman-harness fuzz`: a 160 KB request got a reset, not an
/// answer). Past this much the reset is the lesser evil.
const DRAIN_LIMIT: usize = 8 << 20;

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The service (for inspection in tests).
    pub service: Arc<Service>,
    https: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// `http://ADDR/PREFIX` (or `https://` for a TLS listener).
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!(
            "{scheme}://{}/{}",
            self.addr,
            self.service.config().url_prefix
        )
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a server on its own runtime thread (for tests and embedding); `addr` may use port 0.
pub fn spawn(service: Service, addr: SocketAddr) -> std::io::Result<Running> {
    spawn_with(service, addr, None)
}

/// Like [`spawn`], serving HTTPS with `tls`.
pub fn spawn_tls(service: Service, addr: SocketAddr, tls: Tls) -> std::io::Result<Running> {
    spawn_with(service, addr, Some(tls))
}

/// Like [`spawn`], on a socket the caller bound already (so it can know the port first).
pub fn spawn_on(service: Service, listener: std::net::TcpListener) -> std::io::Result<Running> {
    spawn_bound(service, listener, None)
}

fn spawn_with(service: Service, addr: SocketAddr, tls: Option<Tls>) -> std::io::Result<Running> {
    spawn_bound(service, std::net::TcpListener::bind(addr)?, tls)
}

fn spawn_bound(
    service: Service,
    listener: std::net::TcpListener,
    tls: Option<Tls>,
) -> std::io::Result<Running> {
    let https = tls.is_some();
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let service = Arc::new(service);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let svc = service.clone();
    let thread = std::thread::Builder::new()
        .name("wsman-harness-server".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("cannot start a runtime: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(l) => {
                        serve(l, svc, tls, async {
                            let _ = rx.await;
                        })
                        .await
                    }
                    Err(e) => tracing::error!("{e}"),
                }
            });
        })?;
    Ok(Running {
        addr,
        service,
        https,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// Serves connections until `shutdown` completes; over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        let svc = service.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let conn = Arc::new(Mutex::new(ConnAuth::default()));
            let bindings = tls.as_ref().map(|t| t.bindings.clone());
            let handler = hyper::service::service_fn(move |req| {
                handle(req, svc.clone(), conn.clone(), bindings.clone())
            });
            let http = hyper::server::conn::http1::Builder::new();
            let _ = match tls {
                None => http.serve_connection(TokioIo::new(stream), handler).await,
                Some(t) => match t.acceptor.accept(stream).await {
                    Ok(s) => http.serve_connection(TokioIo::new(s), handler).await,
                    Err(e) => {
                        tracing::warn!("TLS handshake failed: {e}");
                        return;
                    }
                },
            };
        });
    }
}

fn empty(status: StatusCode) -> Response<Parts> {
    let mut r = Response::new(Parts::default());
    *r.status_mut() = status;
    r
}

/// Handles one request and logs it: method, path, status, sizes, time, the authenticated user's
/// name. Never bodies, never Authorization headers.
async fn handle(
    req: Request<Incoming>,
    service: Arc<Service>,
    conn: Arc<Mutex<ConnAuth>>,
    tls_bindings: Option<Arc<TlsBinding>>,
) -> Result<Response<Parts>, std::convert::Infallible> {
    use hyper::body::Body as _;
    // What the log line needs is taken only when it will be written (not under --quiet): a
    // clock read and three copies per request are measurable on the hot path.
    let logged = tracing::enabled!(tracing::Level::INFO).then(|| {
        let bytes_in = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("0")
            .to_owned();
        (
            std::time::Instant::now(),
            req.method().clone(),
            req.uri().path().to_owned(),
            bytes_in,
        )
    });
    let config = service.config();
    let mut response = handle_inner(req, service, config.clone(), conn.clone(), tls_bindings).await;
    if !config.deviations.is_empty()
        && let Ok(r) = &mut response
    {
        deviate_response(&config, r);
    }
    if let (Ok(r), Some((start, method, path, bytes_in))) = (&response, logged) {
        tracing::info!(
            %method,
            path,
            auth = conn.lock().map_or("?", |c| c.mechanism()),
            status = r.status().as_u16(),
            bytes_in,
            bytes_out = r.body().size_hint().exact().unwrap_or(0),
            ms = start.elapsed().as_millis() as u64,
            "request"
        );
    }
    response
}

/// The response-level deviation switches (Connection: close, a wrong Content-Type).
fn deviate_response(config: &super::ServerConfig, r: &mut Response<Parts>) {
    use hyper::body::Body as _;
    // After the handshake, so that NTLM can still complete on one connection.
    if config.deviates(Deviation::CloseConnections)
        && r.status() != StatusCode::UNAUTHORIZED
        && r.body().size_hint().exact().is_none_or(|n| n != 0)
    {
        r.headers_mut().insert(
            hyper::header::CONNECTION,
            "close".parse().expect("static header"),
        );
    }
    let plain = r
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| !v.as_bytes().starts_with(b"multipart/"));
    if config.deviates(Deviation::WrongContentType) && plain {
        r.headers_mut()
            .insert(CONTENT_TYPE, "text/xml".parse().expect("static header"));
    }
}

async fn handle_inner(
    req: Request<Incoming>,
    service: Arc<Service>,
    config: Arc<super::ServerConfig>,
    conn: Arc<Mutex<ConnAuth>>,
    tls_bindings: Option<Arc<TlsBinding>>,
) -> Result<Response<Parts>, std::convert::Infallible> {
    // Beyond MaxConnections requests in flight the service refuses more (MS-WSMV 3.1.4.1.19).
    let Some(_in_flight) = service.admit() else {
        return Ok(empty(StatusCode::SERVICE_UNAVAILABLE));
    };
    if req.method() == Method::GET && config.deviates(Deviation::AllowGet) {
        return Ok(empty(StatusCode::OK));
    }
    if req.method() != Method::POST {
        let mut r = empty(StatusCode::METHOD_NOT_ALLOWED);
        r.headers_mut()
            .insert(ALLOW, "POST".parse().expect("static header"));
        return Ok(r);
    }
    if req.uri().path().trim_matches('/') != config.url_prefix.trim_matches('/') {
        return Ok(empty(StatusCode::NOT_FOUND));
    }
    let limit = (config.max_envelope_size_kb() as usize) * 1024 + ENCRYPTION_OVERHEAD;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let limit = if config.deviates(Deviation::IgnoreMaxEnvelope) {
        64 << 20
    } else {
        limit
    };
    if declared.is_some_and(|n| n > limit) {
        return Ok(too_large(req.into_body()).await);
    }
    let (head, body) = req.into_parts();
    // Looked up by `HeaderName`: a `&str` name is parsed again on every lookup.
    let header = |name: &HeaderName| head.headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header(&AUTHORIZATION);
    let content_type = header(&CONTENT_TYPE).unwrap_or_default();
    const WSMANIDENTIFY: HeaderName = HeaderName::from_static("wsmanidentify");
    let unauthenticated_identify =
        header(&WSMANIDENTIFY).is_some_and(|v| v.eq_ignore_ascii_case("unauthenticated"));
    let body = match read_body(body, limit, declared.unwrap_or(0)).await {
        Ok(b) => b,
        Err(rest) => return Ok(too_large(rest).await),
    };
    if unauthenticated_identify
        && authorization.is_none()
        && !config.deviates(Deviation::IdentifyRequiresAuth)
    {
        let reply = service.handle_shared(
            &body,
            &RequestContext {
                user: None,
                deadline_passed: true,
            },
        );
        return Ok(soap(reply.status, Parts::from(reply.body), SOAP_UTF8, None));
    }
    let decision = match conn.lock() {
        Ok(mut c) => c.authorize(authorization, &config, tls_bindings.as_deref()),
        Err(_) => return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR)),
    };
    let (user, final_token) = match decision {
        Decision::Unauthorized(offers) => {
            let mut r = empty(StatusCode::UNAUTHORIZED);
            for o in offers {
                if let Ok(v) = o.parse() {
                    r.headers_mut().append(WWW_AUTHENTICATE, v);
                }
            }
            return Ok(r);
        }
        Decision::Authenticated { user, final_token } => (user, final_token),
    };
    tracing::debug!(user, "authenticated");
    let encrypted = content_type
        .get(..10)
        .is_some_and(|p| p.eq_ignore_ascii_case("multipart/"));
    let mut sealed_with = None;
    let plain = if encrypted {
        let Ok(mut c) = conn.lock() else {
            return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
        };
        let unsealed = EncryptedBody::decode(content_type, &body)
            .map_err(|e| e.to_string())
            .and_then(|(b, _)| Ok((c.unseal(&b)?, b.protocol)));
        match unsealed {
            Ok((p, protocol)) => {
                sealed_with = Some(protocol);
                Bytes::from(p)
            }
            Err(e) => {
                tracing::warn!("cannot decrypt a request: {e}");
                return Ok(empty(StatusCode::BAD_REQUEST));
            }
        }
    } else {
        body
    };
    let doctype_switch =
        config.deviates(Deviation::CrashOnDoctype) || config.deviates(Deviation::HangOnDoctype);
    if doctype_switch
        && plain
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"))
    {
        if config.deviates(Deviation::CrashOnDoctype) {
            tracing::error!("crash-on-doctype deviation: aborting");
            std::process::abort();
        }
        if config.deviates(Deviation::HangOnDoctype) {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
    // MaxEnvelopeSizekb bounds the envelope itself, not its sealed framing (MS-WSMV 3.1.4.1.20).
    let envelope_limit = ((config.max_envelope_size_kb() as usize) * 1024).saturating_sub(
        if config.deviates(Deviation::MaxEnvelopeShort) {
            1024
        } else {
            0
        },
    );
    if plain.len() > envelope_limit && !config.deviates(Deviation::IgnoreMaxEnvelope) {
        return Ok(empty(StatusCode::PAYLOAD_TOO_LARGE));
    }
    if plain.is_empty() {
        // The empty POST clients send to finish the handshake before encrypting.
        return Ok(soap(200, Parts::default(), "", final_token));
    }
    // Over HTTPS the TLS channel protects plain bodies (MS-WSMV 2.2.4.36).
    if !encrypted
        && tls_bindings.is_none()
        && !config.allow_unencrypted()
        && !config.deviates(Deviation::AcceptUnencrypted)
    {
        tracing::warn!("refused an unencrypted body (AllowUnencrypted=false)");
        return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let reply = answer(&service, &plain, user).await;
    if let Some(protocol) = sealed_with.filter(|_| !reply.body.is_empty()) {
        let Ok(mut c) = conn.lock() else {
            return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
        };
        // Sealing transforms the whole text, so here it is joined first.
        if let Some(sealed) = c.seal(reply.body.into_string().as_bytes(), protocol) {
            return Ok(soap(
                reply.status,
                Parts::from(sealed.encode()),
                &sealed.content_type(),
                final_token,
            ));
        }
        return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
    }
    Ok(soap(
        reply.status,
        Parts::from(reply.body),
        SOAP_UTF8,
        final_token,
    ))
}

/// The whole body, or (past `limit`) the part not read yet. `declared` (Content-Length, already
/// checked against `limit`) sizes the buffer once.
async fn read_body(mut body: Incoming, limit: usize, declared: usize) -> Result<Bytes, Incoming> {
    let mut buf = bytes::BytesMut::with_capacity(declared.min(limit));
    while let Some(frame) = body.frame().await {
        // A broken body is refused like an oversized one; the client is gone anyway.
        let Ok(frame) = frame else {
            return Err(body);
        };
        if let Some(data) = frame.data_ref() {
            if buf.len() + data.len() > limit {
                return Err(body);
            }
            buf.extend_from_slice(data);
        }
    }
    Ok(buf.freeze())
}

/// 413, after reading (up to [`DRAIN_LIMIT`]) what the client still sends, so that it sees the
/// answer instead of a reset.
async fn too_large(mut body: Incoming) -> Response<Parts> {
    let mut drained = 0usize;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while drained < DRAIN_LIMIT {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(f))) => drained += f.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
    let mut r = empty(StatusCode::PAYLOAD_TOO_LARGE);
    r.headers_mut().insert(
        hyper::header::CONNECTION,
        "close".parse().expect("static header"),
    );
    r
}

/// Asks the core, waiting (in short steps) while it has nothing to say yet, up to the
/// operation's timeout.
async fn answer(service: &Service, body: &[u8], user: String) -> Reply<Written> {
    const POLL: std::time::Duration = std::time::Duration::from_millis(20);
    let start = tokio::time::Instant::now();
    let mut ctx = RequestContext {
        user: Some(user),
        deadline_passed: false,
    };
    loop {
        let reply = service.handle_shared(body, &ctx);
        match reply.wait {
            Some(limit) if start.elapsed() < limit => tokio::time::sleep(POLL).await,
            Some(_) => ctx.deadline_passed = true,
            None => return reply,
        }
    }
}

fn soap(
    status: u16,
    body: Parts,
    content_type: &str,
    www_authenticate: Option<String>,
) -> Response<Parts> {
    let empty_body = body.remaining == 0;
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // The usual answer's type, checked once at compile time instead of for every response.
    const SOAP_VALUE: HeaderValue = HeaderValue::from_static(SOAP_UTF8);
    let value = if content_type == SOAP_UTF8 {
        Ok(SOAP_VALUE)
    } else {
        HeaderValue::from_str(content_type)
    };
    if !empty_body && let Ok(v) = value {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    if let Some(t) = www_authenticate.and_then(|t| t.parse().ok()) {
        r.headers_mut().insert(WWW_AUTHENTICATE, t);
    }
    r
}

/// A response body sent as the buffers it was written in (a large enumeration answer splices
/// the service's cached item text in uncopied). Its exact length is known, so hyper sends a
/// Content-Length and writes the buffers out vectored.
#[derive(Debug, Default)]
pub struct Parts {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl From<Written> for Parts {
    fn from(w: Written) -> Self {
        Self::from_chunks(w.into_chunks())
    }
}

impl From<Vec<u8>> for Parts {
    fn from(v: Vec<u8>) -> Self {
        Self::from_chunks(vec![Bytes::from(v)])
    }
}

impl Parts {
    fn from_chunks(chunks: Vec<Bytes>) -> Self {
        let chunks: std::collections::VecDeque<Bytes> =
            chunks.into_iter().filter(|c| !c.is_empty()).collect();
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Self { chunks, remaining }
    }
}

impl hyper::body::Body for Parts {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.remaining -= c.len() as u64;
        }
        std::task::Poll::Ready(next.map(|c| Ok(hyper::body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}
