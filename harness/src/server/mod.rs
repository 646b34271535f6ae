//! The embedded reference WinRM server: a protocol core without sockets ([`Service`]) under a thin
//! hyper adapter ([`http`]), with HTTP authentication (Basic, NTLM over Negotiate) and MS-WSMV
//! message encryption handled per connection.
//!
//! What it implements today: Identify (authenticated, and unauthenticated with the
//! `WSMANIDENTIFY: unauthenticated` header), the cmd shell lifecycle (Create, Command, Send,
//! Receive, Signal, Delete) with a deterministic built-in command set, and faults from the
//! catalogue for everything else.

mod auth;
mod deviation;
mod enumeration;
pub mod http;
pub mod listeners;
mod quickconfig;
mod reply;
mod service;
mod shell;
pub mod tls;

pub use deviation::{ALL as DEVIATIONS, Deviation};
pub use enumeration::PROCESS_URI;
pub use listeners::LISTENER_URI;
pub use reply::fault;
pub use service::{InFlight, Reply, RequestContext, Responder, Service};

use std::path::PathBuf;

use crate::auth::ntlm::crypto::nt_hash;
use crate::config::{Config, Profile};

/// A local account the server accepts.
#[derive(Clone)]
pub struct User {
    /// Name (compared case-insensitively, as Windows does).
    pub name: String,
    /// NT hash of the password: the server never keeps the password itself.
    pub nt_hash: [u8; 16],
}

impl User {
    /// Parses `NAME:PASSWORD`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (name, password) = spec.split_once(':').ok_or_else(|| {
            format!(
                "expected NAME:PASSWORD, found {:?}",
                spec.split(':').next().unwrap_or("")
            )
        })?;
        if name.is_empty() {
            return Err("the user name is empty".into());
        }
        Ok(Self::new(name, password))
    }

    /// A user with a password.
    pub fn new(name: &str, password: &str) -> Self {
        Self {
            name: name.to_owned(),
            nt_hash: nt_hash(password),
        }
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "User({}, <redacted>)", self.name)
    }
}

/// What the server runs with: the WinRM configuration model, accounts, and where to persist.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Every WinRM setting (Get/Put on `winrm/config` read and change it).
    pub model: Config,
    /// Accounts.
    pub users: Vec<User>,
    /// Machine name reported in faults and by `hostname`.
    pub machine: String,
    /// URL path of the HTTP listener.
    pub url_prefix: String,
    /// File the configuration is persisted to after every Put.
    pub store: Option<PathBuf>,
    /// Size of the sample collection at [`PROCESS_URI`] (may exceed MaxBatchItems).
    pub collection_size: usize,
    /// Rules this server breaks on purpose (none by default).
    pub deviations: Vec<Deviation>,
    /// The certificate of the HTTPS side, when there is one: `winrm quickconfig
    /// -transport:https` puts it on the listener it creates.
    pub certificate: Option<ServerCertificate>,
    /// Keytab with the service keys Kerberos tickets are checked against (`HTTP/host`,
    /// `WSMAN/host`); without one the server offers no Kerberos.
    pub keytab: Option<PathBuf>,
}

/// What an HTTPS listener records about the server certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCertificate {
    /// SHA-1 thumbprint, 40 hex digits.
    pub thumbprint: String,
    /// The host name the certificate is for.
    pub hostname: String,
}

impl Default for ServerConfig {
    /// The seed document's defaults: 150 KB envelopes, 60 s timeouts, Basic off, Negotiate on,
    /// unencrypted traffic refused.
    fn default() -> Self {
        Self::new(Config::new(Profile::Seed))
    }
}

impl ServerConfig {
    /// A server over a configuration model.
    pub fn new(model: Config) -> Self {
        Self {
            model,
            users: Vec::new(),
            machine: "WSMAN-HARNESS".into(),
            url_prefix: "wsman".into(),
            store: None,
            collection_size: 100,
            deviations: Vec::new(),
            certificate: None,
            keytab: None,
        }
    }

    /// The NT hash of a user, by case-insensitive name.
    pub fn lookup(&self, name: &str) -> Option<[u8; 16]> {
        self.users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
            .map(|u| u.nt_hash)
    }

    /// Applies one `PATH=VALUE` override with the paths of the config resources, e.g.
    /// `service/AllowUnencrypted=true` (mirrors `winrm set winrm/config/service @{...}`).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (path, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("expected PATH=VALUE, found {assignment:?}"))?;
        self.model.set(path, value).map_err(|e| e.to_string())
    }

    /// True when the server deviates this way.
    pub fn deviates(&self, d: Deviation) -> bool {
        self.deviations.contains(&d)
    }

    /// `MaxEnvelopeSizekb`.
    pub fn max_envelope_size_kb(&self) -> u64 {
        self.model.number("MaxEnvelopeSizekb")
    }

    /// `MaxTimeoutms`.
    pub fn max_timeout_ms(&self) -> u64 {
        self.model.number("MaxTimeoutms")
    }

    /// `Service/AllowUnencrypted`.
    pub fn allow_unencrypted(&self) -> bool {
        self.model.flag("Service/AllowUnencrypted")
    }

    /// `Service/Auth/Basic`.
    pub fn basic(&self) -> bool {
        self.model.flag("Service/Auth/Basic")
    }

    /// `Service/Auth/Kerberos`, and a keytab to check tickets with.
    pub fn kerberos(&self) -> bool {
        self.keytab.is_some() && self.model.flag("Service/Auth/Kerberos")
    }

    /// `Service/Auth/Negotiate`.
    pub fn negotiate(&self) -> bool {
        self.model.flag("Service/Auth/Negotiate")
    }
}
