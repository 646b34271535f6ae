//! One HTTP/1.1 connection (plain TCP or rustls) driven by hyper's client connection API, so
//! that the caller decides when a connection is reused: NTLM authenticates a connection, not a
//! request.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;

use super::{ClientError, Target};

/// A live connection.
pub struct Connection {
    /// hyper's request sender for this connection.
    pub sender: SendRequest<Full<Bytes>>,
    /// tls-server-end-point channel bindings (MD5 of the structure), on HTTPS.
    pub bindings: Option<[u8; 16]>,
    /// The same binding's application data, for GSS-API (Kerberos).
    pub binding_data: Option<Vec<u8>>,
}

/// Opens a connection to the target within `timeout`.
pub async fn connect(
    target: &Target,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Connection, ClientError> {
    let addr = format!("{}:{}", target.host, target.port);
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(&addr))
        .await
        .map_err(|_| ClientError::Connect(format!("{addr}: no connection within {timeout:?}")))?
        .map_err(|e| ClientError::Connect(format!("{addr}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    match (target.https, tls) {
        (false, _) => handshake(tcp, None).await,
        (true, None) => Err(ClientError::Tls("no TLS configuration".into())),
        (true, Some(cfg)) => {
            let name = ServerName::try_from(target.host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| ClientError::Tls(format!("{}: {e}", target.host)))?;
            let stream = tokio::time::timeout(
                timeout,
                tokio_rustls::TlsConnector::from(cfg.clone()).connect(name, tcp),
            )
            .await
            .map_err(|_| ClientError::Tls(format!("{addr}: no TLS handshake within {timeout:?}")))?
            .map_err(|e| ClientError::Tls(format!("{addr}: {e}")))?;
            let binding = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| crate::server::tls::TlsBinding::of(c));
            handshake(stream, binding).await
        }
    }
}

async fn handshake<S>(
    stream: S,
    binding: Option<crate::server::tls::TlsBinding>,
) -> Result<Connection, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ClientError::Connect(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Connection {
        sender,
        bindings: binding.as_ref().map(|b| b.md5),
        binding_data: binding.map(|b| b.application_data),
    })
}

/// The TLS client configuration: the given roots, or (with `insecure`) any certificate, as
/// `winrm -skipCAcheck -skipCNcheck` and pywinrm's `server_cert_validation=ignore` do. With
/// `any_name` (`winrm -skipCNcheck` alone) the chain must still lead to a given root, but the
/// certificate may name another host.
pub fn tls_config(
    insecure: bool,
    any_name: bool,
    ca: Option<&std::path::Path>,
) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?;
    let cfg = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(path) = ca {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?
            {
                let cert =
                    cert.map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
            }
        }
        if roots.is_empty() {
            return Err(ClientError::Tls(
                "no trusted certificate: give --ca FILE (PEM), or --insecure to accept any".into(),
            ));
        }
        if any_name {
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
                .with_no_client_auth()
        } else {
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(Arc::new(cfg))
}

/// The usual chain verification, except that a certificate issued for another name passes
/// (rustls checks the name only after the chain has verified, so nothing else is waived).
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Accepts any server certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
