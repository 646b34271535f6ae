//! The target and credential flags every client-side subcommand shares.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::check::embedded::Embedded;
use crate::client::{AuthMethod, ClientOptions, Target};

/// `--target` and how to authenticate to it.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// WS-Man URL of the server; without it the embedded reference server is started.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Authentication.
    #[arg(long, value_enum, default_value_t = AuthMethod::Negotiate)]
    pub auth: AuthMethod,
    /// Account (`user` or `DOMAIN\user`).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Environment variable holding the password (never given on the command line).
    #[arg(long, value_name = "VAR", default_value = "WSMAN_PASSWORD")]
    pub password_env: String,
    /// Accept any TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// PEM file of trusted certificates for HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Kerberos service name: `HTTP@host` or `HTTP/host@REALM` (default `HTTP@<target host>`).
    #[arg(long, value_name = "NAME")]
    pub spn: Option<String>,
}

/// Starts the embedded reference server, or says why it could not (exit code 3).
pub fn start_embedded(err: &mut dyn std::io::Write) -> Result<Embedded, u8> {
    Embedded::start(&[]).map_err(|e| {
        let _ = writeln!(err, "error: cannot start the embedded server: {e}");
        super::exit::UNREACHABLE
    })
}

impl TargetArgs {
    /// Client options for `--target`, or for the embedded reference server started here (kept
    /// running as long as the returned value lives). Errors are printed; the value is the exit code.
    pub fn resolve(
        &self,
        timeout: Duration,
        err: &mut dyn std::io::Write,
    ) -> Result<(ClientOptions, Option<Embedded>), u8> {
        let (opts, embedded) = match &self.target {
            Some(url) => (self.options(url, None, timeout), None),
            None => {
                let e = start_embedded(err)?;
                let o = self.options(&e.url(), Some((&e.user, &e.password)), timeout);
                (o, Some(e))
            }
        };
        match opts {
            Ok(o) => Ok((o, embedded)),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                Err(super::exit::USAGE)
            }
        }
    }

    /// Client options for `url` with these flags; the user and password come from the flags
    /// unless given (the embedded server's account).
    pub fn options(
        &self,
        url: &str,
        account: Option<(&str, &str)>,
        timeout: Duration,
    ) -> Result<ClientOptions, String> {
        let target = Target::parse(url).map_err(|e| e.to_string())?;
        let (user, password) = match account {
            Some((u, p)) => (u.to_owned(), p.to_owned()),
            None => {
                let user = match (&self.user, self.auth) {
                    (Some(u), _) => u.clone(),
                    // Kerberos without --user takes tickets from the credential cache (kinit).
                    (None, AuthMethod::None | AuthMethod::Kerberos) => String::new(),
                    (None, _) => {
                        return Err(format!(
                            "--user is required with --target (password from ${})",
                            self.password_env
                        ));
                    }
                };
                (user, std::env::var(&self.password_env).unwrap_or_default())
            }
        };
        let mut o = ClientOptions::new(target, &user, &password);
        o.auth = self.auth;
        o.insecure = self.insecure;
        o.ca = self.ca.clone();
        o.spn = self.spn.clone();
        o.timeout = timeout;
        Ok(o)
    }
}

/// The `--deviate` names for an embedded server. `crash-on-doctype` is refused: it would abort
/// the process that runs the embedded server, the harness itself.
pub fn embedded_deviations(names: &[String]) -> Result<Vec<crate::server::Deviation>, String> {
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let d = crate::server::Deviation::parse(n).map_err(|e| format!("--deviate: {e}"))?;
        if d == crate::server::Deviation::CrashOnDoctype {
            return Err(
                "crash-on-doctype would stop this process with the embedded server; run \
                 `wsman-harness serve --deviate crash-on-doctype` and use --target (with the \
                 fuzzer, --restart-cmd)"
                    .into(),
            );
        }
        out.push(d);
    }
    Ok(out)
}
