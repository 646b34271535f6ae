//! The HTTPS side: a rustls (ring) acceptor from a PEM certificate and key, or a generated
//! self-signed certificate; its SHA-1 thumbprint (what WinRM shows as CertificateThumbprint); and
//! the channel binding token clients derive from it (RFC 5929 tls-server-end-point, MS-NLMP
//! MsvAvChannelBindings), which the NTLM acceptor checks per CbtHardeningLevel.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha1::Digest as _;

/// A server certificate ready for TLS.
#[derive(Clone)]
pub struct Tls {
    /// The acceptor.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// SHA-1 of the certificate, 40 upper-case hex digits.
    pub thumbprint: String,
    /// The channel binding clients derive from the certificate.
    pub bindings: Arc<TlsBinding>,
}

/// The tls-server-end-point channel binding of a certificate in the two forms the security
/// packages take it: GSS-API (Kerberos) wants the application data, NTLM the MD5 of the
/// whole gss_channel_bindings_struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsBinding {
    /// `tls-server-end-point:` ‖ SHA-256(certificate).
    pub application_data: Vec<u8>,
    /// MD5 of the structure (MsvAvChannelBindings).
    pub md5: [u8; 16],
}

impl TlsBinding {
    /// The binding of a DER certificate.
    pub fn of(cert_der: &[u8]) -> Self {
        let mut app = b"tls-server-end-point:".to_vec();
        app.extend_from_slice(&sha2::Sha256::digest(cert_der));
        let mut s = Vec::new();
        for _ in 0..4 {
            s.extend_from_slice(&0u32.to_le_bytes());
        }
        s.extend_from_slice(&(app.len() as u32).to_le_bytes());
        s.extend_from_slice(&app);
        let md5 = crate::auth::ntlm::crypto::md5(&[&s]);
        Self {
            application_data: app,
            md5,
        }
    }
}

impl Tls {
    /// A self-signed certificate for `localhost` and the loopback addresses.
    pub fn self_signed() -> Result<Self, String> {
        let names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let ck = rcgen::generate_simple_self_signed(names)
            .map_err(|e| format!("cannot generate a certificate: {e}"))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
        Self::new(vec![ck.cert.der().clone()], key)
    }

    /// A certificate chain and key from PEM files.
    pub fn from_pem(cert: &Path, key: &Path) -> Result<Self, String> {
        let certs = CertificateDer::pem_file_iter(cert)
            .map_err(|e| format!("{}: {e}", cert.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", cert.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in the file", cert.display()));
        }
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
        Self::new(certs, key)
    }

    fn new(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, String> {
        let leaf = certs[0].to_vec();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("certificate and key do not fit: {e}"))?;
        let thumbprint = sha1::Sha1::digest(&leaf)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            thumbprint,
            bindings: Arc::new(TlsBinding::of(&leaf)),
        })
    }
}

/// MD5 of the gss_channel_bindings_struct for tls-server-end-point: zero address types and
/// lengths, then the application data `tls-server-end-point:` ‖ SHA-256(certificate). (RFC 5929
/// upgrades MD5/SHA-1 signature hashes to SHA-256; the generated certificates sign with
/// SHA-256, and so do the ones WinRM is given in practice.)
pub fn channel_bindings(cert_der: &[u8]) -> [u8; 16] {
    TlsBinding::of(cert_der).md5
}
