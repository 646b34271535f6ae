//! The embedded reference WinRM server: a protocol core without sockets ([`Service`]) under a thin
//! hyper adapter ([`http`]), with HTTP authentication (Basic, NTLM over Negotiate) and MS-WSMV
//! message encryption handled per connection.
//!
//! What it implements today: Identify (authenticated, and unauthenticated with the
//! `WSMANIDENTIFY: unauthenticated` header), the cmd shell lifecycle (Create, Command, Send,
//! Receive, Signal, Delete) with a deterministic built-in command set, and faults from the
//! catalogue for everything else.

mod auth;
pub mod http;
mod reply;
mod service;
mod shell;

pub use service::{Reply, RequestContext, Service};

use crate::auth::ntlm::crypto::nt_hash;

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

/// Settings the server enforces (the subset of WinRM's configuration implemented so far; names
/// follow `winrm/config`).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// `MaxEnvelopeSizekb`: larger requests get HTTP 413.
    pub max_envelope_size_kb: u64,
    /// `MaxTimeoutms`: OperationTimeout is clamped to it.
    pub max_timeout_ms: u64,
    /// `Service/AllowUnencrypted`: plain bodies over HTTP are refused when false.
    pub allow_unencrypted: bool,
    /// `Service/Auth/Basic`.
    pub basic: bool,
    /// `Service/Auth/Negotiate`.
    pub negotiate: bool,
    /// `URLPrefix`.
    pub url_prefix: String,
    /// Accounts.
    pub users: Vec<User>,
    /// Machine name reported in faults and by `hostname`.
    pub machine: String,
}

impl Default for ServerConfig {
    /// The seed document's defaults: 150 KB envelopes, 60 s timeouts, Basic off, Negotiate on,
    /// unencrypted traffic refused.
    fn default() -> Self {
        Self {
            max_envelope_size_kb: 150,
            max_timeout_ms: 60_000,
            allow_unencrypted: false,
            basic: false,
            negotiate: true,
            url_prefix: "wsman".into(),
            users: Vec::new(),
            machine: "WSMAN-HARNESS".into(),
        }
    }
}

impl ServerConfig {
    /// The NT hash of a user, by case-insensitive name.
    pub fn lookup(&self, name: &str) -> Option<[u8; 16]> {
        self.users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
            .map(|u| u.nt_hash)
    }

    /// Applies one `PATH=VALUE` override with the paths of the config resources, e.g.
    /// `service/AllowUnencrypted=true` or `service/auth/Basic=true`.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (path, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("expected PATH=VALUE, found {assignment:?}"))?;
        let bool_value = || match value.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("{path}: expected true or false, found {other:?}")),
        };
        let number = || {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{path}: expected a whole number, found {value:?}"))
        };
        match path
            .trim()
            .to_ascii_lowercase()
            .trim_start_matches("winrm/config/")
        {
            "service/allowunencrypted" => self.allow_unencrypted = bool_value()?,
            "service/auth/basic" => self.basic = bool_value()?,
            "service/auth/negotiate" => self.negotiate = bool_value()?,
            "maxenvelopesizekb" => {
                let n = number()?;
                if !(1..=1_039_440).contains(&n) {
                    return Err(format!("{path}: {n} is outside 1..=1039440"));
                }
                self.max_envelope_size_kb = n;
            }
            "maxtimeoutms" => {
                let n = number()?;
                if n < 500 {
                    return Err(format!("{path}: {n} is below the minimum of 500"));
                }
                self.max_timeout_ms = n;
            }
            other => return Err(format!("unknown or not yet supported setting {other:?}")),
        }
        Ok(())
    }
}
