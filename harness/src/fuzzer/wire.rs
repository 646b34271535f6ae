//! A raw HTTP/1.1 connection for the remote fuzzer: it writes whatever bytes it is given
//! (wrong Content-Length, broken chunking, pipelined requests, slow writes) and reads the
//! answer with its own bounded reader, because a well-behaved HTTP library can neither send
//! malformed requests nor report exactly how a response is malformed.
//!
//! Blocking std sockets (and rustls' blocking stream on HTTPS): every read is bounded by a
//! deadline and every body by a byte limit, so a hostile server can neither hang the fuzzer
//! nor exhaust its memory.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use crate::client::Target;

/// Largest response head (status line and headers).
pub const MAX_HEAD: usize = 64 * 1024;

/// One connection.
pub struct RawConn {
    stream: Stream,
    /// Bytes read but not yet consumed (the start of the next response).
    pending: Vec<u8>,
    /// tls-server-end-point channel bindings, on HTTPS.
    pub bindings: Option<[u8; 16]>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A response as read off the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: bytes::Bytes,
    /// The server said it closes the connection (or delimited the body by closing).
    pub closes: bool,
}

impl RawResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing complete arrived before the deadline.
    Timeout {
        /// Bytes that had arrived.
        received: usize,
    },
    /// The connection closed (or was reset) before a complete response.
    Closed {
        /// Bytes that had arrived.
        received: usize,
        /// The OS error, for a reset.
        error: Option<String>,
    },
    /// The bytes are not an HTTP/1.x response.
    Malformed(String),
    /// The body is larger than the limit; reading stopped there.
    TooLarge(usize),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Timeout { received } => {
                write!(f, "no complete response in time ({received} bytes arrived)")
            }
            ReadError::Closed {
                received,
                error: None,
            } => write!(
                f,
                "connection closed after {received} bytes, response incomplete"
            ),
            ReadError::Closed {
                received,
                error: Some(e),
            } => write!(f, "connection broken after {received} bytes: {e}"),
            ReadError::Malformed(why) => write!(f, "malformed HTTP response: {why}"),
            ReadError::TooLarge(limit) => write!(f, "response body over {limit} bytes"),
        }
    }
}

impl RawConn {
    /// Opens a connection (and a TLS session on HTTPS).
    pub fn connect(
        target: &Target,
        tls: Option<&Arc<rustls::ClientConfig>>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let host = target.host.trim_matches(['[', ']']);
        let addr = (host, target.port)
            .to_socket_addrs()
            .map_err(|e| format!("{}:{}: {e}", target.host, target.port))?
            .next()
            .ok_or_else(|| format!("{}: no address", target.host))?;
        let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let (stream, bindings) = match (target.https, tls) {
            (false, _) => (Stream::Plain(tcp), None),
            (true, None) => return Err("HTTPS without a TLS configuration".into()),
            (true, Some(cfg)) => {
                let name =
                    ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
                let conn = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(|e| format!("TLS: {e}"))?;
                let mut s = rustls::StreamOwned::new(conn, tcp);
                s.sock
                    .set_read_timeout(Some(timeout))
                    .map_err(|e| e.to_string())?;
                s.sock
                    .set_write_timeout(Some(timeout))
                    .map_err(|e| e.to_string())?;
                while s.conn.is_handshaking() {
                    s.conn
                        .complete_io(&mut s.sock)
                        .map_err(|e| format!("TLS handshake: {e}"))?;
                }
                let bindings = s
                    .conn
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| crate::server::tls::channel_bindings(c));
                (Stream::Tls(Box::new(s)), bindings)
            }
        };
        Ok(Self {
            stream,
            pending: Vec::new(),
            bindings,
        })
    }

    /// Writes bytes, in pieces with pauses when asked; an error means the peer is gone.
    pub fn write(
        &mut self,
        bytes: &[u8],
        pieces: Option<(usize, Duration)>,
        deadline: Instant,
    ) -> Result<(), String> {
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let _ = self.stream.tcp().set_write_timeout(Some(remaining));
        match pieces {
            None => self.stream.write_all(bytes).map_err(|e| e.to_string())?,
            Some((size, pause)) => {
                for (i, piece) in bytes.chunks(size.max(1)).enumerate() {
                    if i > 0 {
                        std::thread::sleep(pause);
                    }
                    self.stream.write_all(piece).map_err(|e| e.to_string())?;
                    if Instant::now() > deadline {
                        return Err("the deadline passed while writing slowly".into());
                    }
                }
            }
        }
        self.stream.flush().map_err(|e| e.to_string())
    }

    /// Tells the server nothing more comes (plain TCP only; TLS sends close_notify).
    pub fn finish_writing(&mut self) {
        match &mut self.stream {
            Stream::Plain(s) => {
                let _ = s.shutdown(std::net::Shutdown::Write);
            }
            Stream::Tls(s) => {
                s.conn.send_close_notify();
                let _ = s.conn.complete_io(&mut s.sock);
            }
        }
    }

    /// Reads one response (skipping 1xx), its body bounded by `max_body`.
    pub fn read_response(
        &mut self,
        deadline: Instant,
        max_body: usize,
        to_head: bool,
    ) -> Result<RawResponse, ReadError> {
        loop {
            let r = self.read_one(deadline, max_body, to_head)?;
            if !(100..200).contains(&r.status) {
                return Ok(r);
            }
        }
    }

    fn read_one(
        &mut self,
        deadline: Instant,
        max_body: usize,
        to_head: bool,
    ) -> Result<RawResponse, ReadError> {
        let (head_len, status, headers) = loop {
            let mut slots = [httparse::EMPTY_HEADER; 96];
            let mut parsed = httparse::Response::new(&mut slots);
            match parsed.parse(&self.pending) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = parsed.code.unwrap_or(0);
                    let headers = parsed
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect::<Vec<_>>();
                    break (n, status, headers);
                }
                Ok(httparse::Status::Partial) => {
                    if self.pending.len() > MAX_HEAD {
                        return Err(ReadError::Malformed(format!(
                            "no end of the response head within {MAX_HEAD} bytes"
                        )));
                    }
                    self.fill(deadline)?;
                }
                Err(e) => {
                    let shown: String =
                        String::from_utf8_lossy(&self.pending[..self.pending.len().min(40)])
                            .chars()
                            .map(|c| if c.is_control() { '.' } else { c })
                            .collect();
                    return Err(ReadError::Malformed(format!("{e} (starts {shown:?})")));
                }
            }
        };
        self.pending.drain(..head_len);
        let find = |name: &str| {
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
                .collect::<Vec<_>>()
        };
        let mut closes = find("connection")
            .iter()
            .any(|v| v.eq_ignore_ascii_case("close"));
        let chunked = find("transfer-encoding")
            .iter()
            .any(|v| v.to_ascii_lowercase().contains("chunked"));
        let lengths = find("content-length");
        let body = if to_head || status == 204 || status == 304 || (100..200).contains(&status) {
            Vec::new()
        } else if chunked {
            self.read_chunked(deadline, max_body)?
        } else if let Some(first) = lengths.first() {
            if lengths.iter().any(|l| l != first) {
                return Err(ReadError::Malformed(format!(
                    "Content-Length given twice with different values: {lengths:?}"
                )));
            }
            let n: usize = first
                .parse()
                .map_err(|_| ReadError::Malformed(format!("Content-Length {first:?}")))?;
            if n > max_body {
                return Err(ReadError::TooLarge(max_body));
            }
            self.read_exact(n, deadline)?
        } else {
            closes = true;
            self.read_to_close(deadline, max_body)?
        };
        Ok(RawResponse {
            status,
            headers,
            body: body.into(),
            closes,
        })
    }

    fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        let now = Instant::now();
        if now >= deadline {
            return Err(ReadError::Timeout {
                received: self.pending.len(),
            });
        }
        let _ = self
            .stream
            .tcp()
            .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))));
        let mut buf = [0u8; 16 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => Err(ReadError::Closed {
                received: self.pending.len(),
                error: None,
            }),
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(ReadError::Timeout {
                    received: self.pending.len(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(ReadError::Closed {
                received: self.pending.len(),
                error: Some(e.to_string()),
            }),
        }
    }

    fn read_exact(&mut self, n: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        while self.pending.len() < n {
            self.fill(deadline)?;
        }
        Ok(self.pending.drain(..n).collect())
    }

    fn read_to_close(&mut self, deadline: Instant, max: usize) -> Result<Vec<u8>, ReadError> {
        loop {
            if self.pending.len() > max {
                return Err(ReadError::TooLarge(max));
            }
            match self.fill(deadline) {
                Ok(_) => {}
                Err(ReadError::Closed { error: None, .. }) => {
                    return Ok(std::mem::take(&mut self.pending));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn read_line(&mut self, deadline: Instant) -> Result<String, ReadError> {
        loop {
            if let Some(p) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.pending.drain(..p + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..p]).into_owned());
            }
            if self.pending.len() > MAX_HEAD {
                return Err(ReadError::Malformed("a chunk line without an end".into()));
            }
            self.fill(deadline)?;
        }
    }

    fn read_chunked(&mut self, deadline: Instant, max: usize) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| ReadError::Malformed(format!("chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line(deadline)?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > max {
                return Err(ReadError::TooLarge(max));
            }
            let chunk = self.read_exact(size + 2, deadline)?;
            if &chunk[size..] != b"\r\n" {
                return Err(ReadError::Malformed("a chunk not followed by CRLF".into()));
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server that writes `reply` to the first connection and closes.
    fn one_shot(reply: &'static [u8]) -> Target {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply);
        });
        Target::parse(&format!("http://127.0.0.1:{port}/wsman")).unwrap()
    }

    fn read(reply: &'static [u8]) -> Result<RawResponse, ReadError> {
        let t = one_shot(reply);
        let mut c = RawConn::connect(&t, None, Duration::from_secs(2)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        c.write(b"POST /wsman HTTP/1.1\r\n\r\n", None, deadline)
            .unwrap();
        c.read_response(deadline, 1024, false)
    }

    #[test]
    fn reads_lengths_chunks_and_close_delimited_bodies() {
        let r =
            read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
                .unwrap();
        assert_eq!((r.status, &r.body[..], r.closes), (200, &b"abc"[..], false));
        let r = read(b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n").unwrap();
        assert_eq!(&r.body[..], b"abc");
        let r = read(b"HTTP/1.1 200 OK\r\n\r\nto the end").unwrap();
        assert_eq!((&r.body[..], r.closes), (&b"to the end"[..], true));
    }

    #[test]
    fn names_what_is_wrong_with_a_response() {
        assert!(matches!(
            read(b"garbage\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            Err(ReadError::Closed { received: 3, .. })
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"),
            Err(ReadError::TooLarge(1024))
        ));
        let e = read(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\na")
            .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Err(ReadError::Malformed(_))
        ));
    }

    #[test]
    fn a_silent_server_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = Target::parse(&format!("http://127.0.0.1:{port}/wsman")).unwrap();
        let mut c = RawConn::connect(&t, None, Duration::from_secs(1)).unwrap();
        let deadline = Instant::now() + Duration::from_millis(100);
        assert!(matches!(
            c.read_response(deadline, 10, false),
            Err(ReadError::Timeout { received: 0 })
        ));
        drop(l);
    }
}
