//! One load-generating connection: HTTP/1.1 kept alive (hyper), authenticated once (Basic header,
//! or an NTLM or Kerberos handshake whose context then seals every body on HTTP, as WinRM
//! requires), with the request head built once. Async, so that a few runtime threads drive many
//! connections.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};

use crate::auth::message_security::SOAP_UTF8;
use crate::client::transport::{Connection, connect};
use crate::client::{
    AuthMethod, ClientError, ClientOptions, Security, kerberos_finish, kerberos_start, ntlm_answer,
    ntlm_start, unseal_body,
};

/// An answer, with what crossed the wire.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: hyper::HeaderMap,
    /// The body, unsealed.
    pub body: Bytes,
    /// Request bytes sent (head and body, approximately: header lines as written).
    pub bytes_out: u64,
    /// Response bytes received (head and body).
    pub bytes_in: u64,
}

/// A live, authenticated connection.
pub struct Conn {
    conn: Connection,
    host: HeaderValue,
    path: hyper::Uri,
    basic: Option<HeaderValue>,
    security: Option<Security>,
    https: bool,
    limit: usize,
    timeout: Duration,
}

fn header(v: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(v).map_err(|e| ClientError::Http(format!("header value {v:?}: {e}")))
}

impl Conn {
    /// Connects and authenticates per `opts`.
    pub async fn open(
        opts: &ClientOptions,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> Result<Self, ClientError> {
        let conn = connect(&opts.target, tls, opts.timeout).await?;
        let mut c = Self {
            conn,
            host: header(&format!("{}:{}", opts.target.host, opts.target.port))?,
            path: opts
                .target
                .path
                .parse()
                .map_err(|e| ClientError::Url(format!("{}: {e}", opts.target.path)))?,
            basic: None,
            security: None,
            https: opts.target.https,
            limit: opts.max_response,
            timeout: opts.timeout,
        };
        match opts.auth {
            AuthMethod::None => {}
            AuthMethod::Basic => {
                let token = B64.encode(format!("{}:{}", opts.user, opts.password.0));
                c.basic = Some(header(&format!("Basic {token}"))?);
            }
            AuthMethod::Negotiate | AuthMethod::Ntlm => c.ntlm(opts).await?,
            AuthMethod::Kerberos => c.kerberos(opts).await?,
        }
        Ok(c)
    }

    async fn ntlm(&mut self, opts: &ClientOptions) -> Result<(), ClientError> {
        let (sent, negotiate) = ntlm_start(opts, self.conn.bindings);
        let (status, headers, _) = self.post_token(&negotiate).await?;
        let values = headers
            .get_all(hyper::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let (established, authenticate) = ntlm_answer(sent, status, values)?;
        let (status, ..) = self.post_token(&authenticate).await?;
        if status == 401 {
            return Err(ClientError::Auth(format!(
                "the server refused the credentials of {:?}",
                opts.user
            )));
        }
        self.security = Some(Security::Ntlm(Box::new(established.session)));
        Ok(())
    }

    async fn kerberos(&mut self, opts: &ClientOptions) -> Result<(), ClientError> {
        // The first leg may ask the KDC for tickets: blocking calls, kept off the runtime.
        let (o, binding) = (opts.clone(), self.conn.binding_data.clone());
        let (init, token) = tokio::task::spawn_blocking(move || kerberos_start(&o, binding))
            .await
            .map_err(|e| ClientError::Auth(format!("Kerberos: {e}")))??;
        let (status, headers, _) = self.post_token(&token).await?;
        let values = headers
            .get_all(hyper::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let context = kerberos_finish(init, opts, status, values)?;
        self.security = Some(Security::Kerberos(Box::new(context)));
        Ok(())
    }

    async fn post_token(
        &mut self,
        token: &[u8],
    ) -> Result<(u16, hyper::HeaderMap, Bytes), ClientError> {
        let auth = header(&format!("Negotiate {}", B64.encode(token)))?;
        let req = self.request(Bytes::new(), SOAP_UTF8, Some(auth), &[])?;
        self.send(req).await
    }

    fn request(
        &self,
        body: Bytes,
        content_type: &str,
        auth: Option<HeaderValue>,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
        let mut b = hyper::Request::builder()
            .method(hyper::Method::POST)
            .uri(self.path.clone())
            .header(hyper::header::HOST, self.host.clone())
            .header(
                CONTENT_TYPE,
                if content_type == SOAP_UTF8 {
                    HeaderValue::from_static(SOAP_UTF8)
                } else {
                    header(content_type)?
                },
            );
        if let Some(a) = auth {
            b = b.header(AUTHORIZATION, a);
        }
        for (n, v) in extra {
            b = b.header(n.clone(), v.clone());
        }
        b.body(Full::new(body))
            .map_err(|e| ClientError::Http(e.to_string()))
    }

    async fn send(
        &mut self,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<(u16, hyper::HeaderMap, Bytes), ClientError> {
        let limit = self.limit;
        let sender = &mut self.conn.sender;
        tokio::time::timeout(self.timeout, async {
            sender
                .ready()
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?
                .to_bytes();
            Ok((parts.status.as_u16(), parts.headers, bytes))
        })
        .await
        .unwrap_or(Err(ClientError::Timeout(self.timeout)))
    }

    /// Posts one SOAP body (sealed when the connection has a security context and is plain HTTP)
    /// with `extra` headers; unseals the answer.
    pub async fn exchange(
        &mut self,
        body: Bytes,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<Reply, ClientError> {
        let seal = !self.https && !body.is_empty();
        let (wire, ctype) = match self.security.as_mut() {
            Some(security) if seal => {
                let sealed = security.seal(&body, SOAP_UTF8)?;
                (Bytes::from(sealed.encode()), sealed.content_type())
            }
            _ => (body, SOAP_UTF8.to_owned()),
        };
        let wire_len = wire.len();
        let req = self.request(wire, &ctype, self.basic.clone(), extra)?;
        let bytes_out = head_len(req.headers()) + wire_len as u64 + 24;
        let (status, headers, bytes) = self.send(req).await?;
        let bytes_in = head_len(&headers) + bytes.len() as u64 + 17;
        let sealed = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|c| c.to_ascii_lowercase().starts_with("multipart/"));
        let body = match sealed {
            None => bytes,
            Some(ct) => match self.security.as_mut() {
                Some(security) => security.unseal(ct, &bytes)?,
                None => unseal_body(None, ct, &bytes)?,
            },
        };
        Ok(Reply {
            status,
            headers,
            body,
            bytes_out,
            bytes_in,
        })
    }
}

/// Bytes of the header lines (`Name: value\r\n`).
fn head_len(h: &hyper::HeaderMap) -> u64 {
    h.iter()
        .map(|(n, v)| (n.as_str().len() + v.len() + 4) as u64)
        .sum()
}
