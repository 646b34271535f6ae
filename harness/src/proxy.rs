//! The recording proxy's I/O: accepts client connections, forwards each one over its own
//! upstream connection (NTLM authenticates connections, so the pairing must be one to one),
//! hands every exchange to a [`Recorder`] and writes one scenario file per client connection
//! when it closes (or when the proxy stops).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::client::Target;
use crate::client::transport::{Connection, connect};
use crate::scenario::file::{EXTENSION, WriteExtras, write};
use crate::scenario::record::{Recorder, Seen};

/// Largest body forwarded (both directions).
pub const BODY_LIMIT: usize = 64 << 20;

/// How the proxy runs.
#[derive(Clone)]
pub struct ProxyOptions {
    /// Where requests go.
    pub upstream: Target,
    /// TLS settings for an HTTPS upstream.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Directory for scenario files.
    pub out: PathBuf,
    /// Scenario name prefix (`NAME-001`, ...).
    pub name: String,
    /// Account whose password unlocks sealed bodies.
    pub account: Option<(String, String)>,
    /// More secrets to redact.
    pub secrets: Vec<String>,
    /// Upstream time limit per exchange.
    pub timeout: Duration,
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("upstream", &self.upstream.url())
            .field("out", &self.out)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

struct Shared {
    opts: ProxyOptions,
    counter: AtomicUsize,
    live: Mutex<HashMap<usize, Arc<Mutex<Recorder>>>>,
    written: Mutex<Vec<PathBuf>>,
}

impl Shared {
    /// Writes a connection's recording (if it has any step) atomically.
    fn finish(&self, id: usize, rec: &Mutex<Recorder>) {
        let Ok(mut r) = rec.lock() else { return };
        let r = std::mem::replace(&mut *r, Recorder::new(None, &[]));
        for n in &r.notes {
            tracing::warn!("connection {id}: {n}");
        }
        let name = format!("{}-{id:03}", self.opts.name);
        let source = format!(
            "recorded by wsman-harness record from {} on {}",
            self.opts.upstream.url(),
            chrono::Utc::now().format("%Y-%m-%d")
        );
        let Some(s) = r.into_scenario(&name, &source) else {
            return;
        };
        let path = self.opts.out.join(format!("{name}{EXTENSION}"));
        match crate::files::write_atomic(&path, write(&s, &WriteExtras::default()).as_bytes()) {
            Ok(()) => {
                tracing::info!("wrote {} ({} steps)", path.display(), s.steps.len());
                if let Ok(mut w) = self.written.lock() {
                    w.push(path);
                }
            }
            Err(e) => tracing::error!("{}: {e}", path.display()),
        }
    }
}

/// A proxy running on its own thread.
pub struct RunningProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningProxy {
    /// `http://ADDR/PATH` with the upstream's path.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.shared.opts.upstream.path)
    }

    /// Stops, writes what is still open, and returns the files written.
    pub fn stop(mut self) -> Vec<PathBuf> {
        self.shutdown();
        self.shared
            .written
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
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

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a proxy on `listener` in a thread of its own.
pub fn spawn(listener: std::net::TcpListener, opts: ProxyOptions) -> std::io::Result<RunningProxy> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        opts,
        counter: AtomicUsize::new(0),
        live: Mutex::new(HashMap::new()),
        written: Mutex::new(Vec::new()),
    });
    let (tx, rx) = tokio::sync::oneshot::channel();
    let s = shared.clone();
    let thread = std::thread::Builder::new()
        .name("wsman-harness-proxy".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            else {
                tracing::error!("cannot start a runtime");
                return;
            };
            rt.block_on(async move {
                if let Ok(l) = TcpListener::from_std(listener) {
                    serve_shared(l, s, async {
                        let _ = rx.await;
                    })
                    .await;
                }
            });
        })?;
    Ok(RunningProxy {
        addr,
        shared,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// Serves until `shutdown` completes; returns the files written.
pub async fn serve(
    listener: TcpListener,
    opts: ProxyOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Vec<PathBuf> {
    let shared = Arc::new(Shared {
        opts,
        counter: AtomicUsize::new(0),
        live: Mutex::new(HashMap::new()),
        written: Mutex::new(Vec::new()),
    });
    serve_shared(listener, shared.clone(), shutdown).await;
    shared.written.lock().map(|w| w.clone()).unwrap_or_default()
}

async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        let id = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let o = &shared.opts;
        let account = o.account.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        let rec = Arc::new(Mutex::new(Recorder::new(account, &o.secrets)));
        if let Ok(mut l) = shared.live.lock() {
            l.insert(id, rec.clone());
        }
        let s = shared.clone();
        tasks.spawn(async move {
            let upstream: Arc<tokio::sync::Mutex<Option<Connection>>> =
                Arc::new(tokio::sync::Mutex::new(None));
            let (s2, rec2) = (s.clone(), rec.clone());
            let handler = hyper::service::service_fn(move |req| {
                forward(req, s2.clone(), upstream.clone(), rec2.clone())
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handler)
                .await;
            if let Ok(mut l) = s.live.lock() {
                l.remove(&id);
            }
            s.finish(id, &rec);
        });
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    // Connections still open when the proxy stops: their recordings are written too.
    let open: Vec<(usize, Arc<Mutex<Recorder>>)> = shared
        .live
        .lock()
        .map(|mut l| l.drain().collect())
        .unwrap_or_default();
    for (id, rec) in open {
        shared.finish(id, &rec);
    }
}

const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "transfer-encoding",
    "content-length",
    "te",
    "upgrade",
];

/// Headers as the recorder reads them.
fn pairs(h: &hyper::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn bad_gateway(why: String) -> Response<Full<Bytes>> {
    tracing::warn!("upstream: {why}");
    let mut r = Response::new(Full::new(Bytes::from(format!("upstream: {why}\n"))));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

async fn forward(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    upstream: Arc<tokio::sync::Mutex<Option<Connection>>>,
    rec: Arc<Mutex<Recorder>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let opts = &shared.opts;
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(bad_gateway(format!("request body: {e}"))),
    };
    let req_headers = pairs(&parts.headers);
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let mut b = Request::builder().method(parts.method.clone()).uri(&path);
    for (n, v) in &parts.headers {
        if !HOP_BY_HOP.contains(&n.as_str()) {
            b = b.header(n, v);
        }
    }
    b = b.header(
        "Host",
        format!("{}:{}", opts.upstream.host, opts.upstream.port),
    );
    let Ok(up_req) = b.body(Full::new(body.clone())) else {
        return Ok(bad_gateway("cannot build the request".into()));
    };
    let mut guard = upstream.lock().await;
    if guard.as_ref().is_none_or(|c| c.sender.is_closed()) {
        match connect(&opts.upstream, opts.tls.as_ref(), opts.timeout).await {
            Ok(c) => *guard = Some(c),
            Err(e) => return Ok(bad_gateway(e.to_string())),
        }
    }
    let Some(conn) = guard.as_mut() else {
        return Ok(bad_gateway("no connection".into()));
    };
    let sent = tokio::time::timeout(opts.timeout, async {
        let resp = conn.sender.send_request(up_req).await?;
        let (p, b) = resp.into_parts();
        let bytes = Limited::new(b, BODY_LIMIT)
            .collect()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .map(|c| c.to_bytes());
        Ok::<_, hyper::Error>((p, bytes))
    })
    .await;
    let (rparts, rbody) = match sent {
        Err(_) => {
            *guard = None;
            return Ok(bad_gateway(format!("no answer within {:?}", opts.timeout)));
        }
        Ok(Err(e)) => {
            *guard = None;
            return Ok(bad_gateway(e.to_string()));
        }
        Ok(Ok((_, Err(e)))) => {
            *guard = None;
            return Ok(bad_gateway(format!("response body: {e}")));
        }
        Ok(Ok((p, Ok(b)))) => (p, b),
    };
    let closes = rparts
        .headers
        .get("connection")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    if closes {
        *guard = None;
    }
    drop(guard);
    let resp_headers = pairs(&rparts.headers);
    tracing::info!(
        "{} {path} -> {} ({} bytes in, {} out)",
        parts.method,
        rparts.status.as_u16(),
        body.len(),
        rbody.len()
    );
    if let Ok(mut r) = rec.lock() {
        r.exchange(
            Seen {
                headers: &req_headers,
                body: &body,
            },
            rparts.status.as_u16(),
            Seen {
                headers: &resp_headers,
                body: &rbody,
            },
        );
    }
    let mut out = Response::new(Full::new(rbody));
    *out.status_mut() = rparts.status;
    for (n, v) in &rparts.headers {
        if !HOP_BY_HOP.contains(&n.as_str()) {
            out.headers_mut().append(n, v.clone());
        }
    }
    Ok(out)
}
