//! `wsman-harness serve`: the embedded reference server.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;

use super::exit;
use crate::server::{ServerConfig, Service, User};

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (HTTP).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5985")]
    pub listen: SocketAddr,
    /// Also serve HTTPS on this address.
    #[arg(long, value_name = "ADDR")]
    pub https_listen: Option<SocketAddr>,
    /// PEM certificate (chain) for HTTPS; without it a self-signed one is generated.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<std::path::PathBuf>,
    /// PEM private key for `--cert`.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<std::path::PathBuf>,
    /// Keytab holding the service keys (`HTTP/host`, `WSMAN/host`) for Kerberos; without it
    /// (or `KRB5_KTNAME`) the server offers no Kerberos. Principals map to `--user` names.
    #[arg(long, value_name = "FILE")]
    pub keytab: Option<std::path::PathBuf>,
    /// An account, `NAME:PASSWORD` (repeatable). Only the NT hash is kept.
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = parse_user)]
    pub users: Vec<UserArg>,
    /// Defaults to start from: the seed document's, or what a current Windows reports.
    #[arg(long, value_enum, default_value_t = crate::config::Profile::Seed)]
    pub profile: crate::config::Profile,
    /// Configuration file: loaded at start when it exists, rewritten atomically after every Put.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Do not log each request.
    #[arg(long)]
    pub quiet: bool,
    /// Break one rule on purpose (repeatable); `--deviate help` lists the switches.
    #[arg(long = "deviate", value_name = "NAME")]
    pub deviate: Vec<String>,
    /// Number of instances in the sample collection (Win32_Process); may exceed MaxBatchItems.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub items: usize,
    /// Override a setting with the paths of the config resources, e.g.
    /// `service/AllowUnencrypted=true` or `service/auth/Basic=true` (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Answer from recorded scenarios (files or directories) instead of the reference service;
    /// authentication, encryption and limits still follow the configuration.
    #[arg(long = "recordings", value_name = "PATH")]
    pub recordings: Vec<std::path::PathBuf>,
    /// With --recordings: only scenarios whose name matches (glob, repeatable).
    #[arg(long = "scenario", value_name = "GLOB", requires = "recordings")]
    pub scenario: Vec<String>,
}

/// A parsed `--user` (kept opaque so that clap's debug output never shows the password).
#[derive(Clone)]
pub struct UserArg(User);

impl std::fmt::Debug for UserArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn parse_user(s: &str) -> Result<UserArg, String> {
    User::parse(s).map(UserArg)
}

/// Builds the configuration from the arguments.
pub fn config(args: &ServeArgs) -> Result<ServerConfig, String> {
    let model = match &args.config {
        Some(path) if path.exists() => crate::config::load(path)?,
        _ => crate::config::Config::new(args.profile),
    };
    let mut config = ServerConfig::new(model);
    config.users = args.users.iter().map(|u| u.0.clone()).collect();
    config.store = args.config.clone();
    config.collection_size = args.items;
    config.keytab = args.keytab.clone().or_else(|| {
        // The library's own variable, as `FILE:path` or a bare path.
        let v = std::env::var("KRB5_KTNAME").ok()?;
        Some(v.strip_prefix("FILE:").unwrap_or(&v).into())
    });
    if let Some(kt) = &config.keytab {
        if !kt.is_file() {
            return Err(format!("--keytab {}: no such file", kt.display()));
        }
        // Fail at start, not at the first client: the library and the keys must be usable.
        crate::auth::kerberos::Acceptor::new(Some(kt))
            .map_err(|e| format!("--keytab {}: {e}", kt.display()))?;
    }
    for d in &args.deviate {
        config.deviations.push(crate::server::Deviation::parse(d)?);
    }
    for s in &args.set {
        config.set(s).map_err(|e| format!("--set {s}: {e}"))?;
    }
    Ok(config)
}

/// Runs until Ctrl-C.
pub fn run(args: &ServeArgs) -> u8 {
    if args.deviate.iter().any(|d| d == "help") {
        print!("{}", crate::server::Deviation::help());
        return exit::OK;
    }
    // One line per request on stderr; bodies and credentials are never logged.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(if args.quiet {
            tracing::Level::WARN
        } else {
            tracing::Level::INFO
        })
        .try_init();
    let mut config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    for d in &config.deviations {
        eprintln!("warning: deviating on purpose: {d}");
    }
    if config.users.is_empty() {
        eprintln!("warning: no --user given; every authenticated request will be refused");
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::FAILURE;
        }
    };
    let tls = match (&args.https_listen, &args.cert, &args.key) {
        (None, ..) => None,
        (Some(_), Some(c), Some(k)) => Some(crate::server::tls::Tls::from_pem(c, k)),
        (Some(_), ..) => Some(crate::server::tls::Tls::self_signed()),
    };
    let tls = match tls.transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if let Some(t) = &tls {
        // The generated certificate is for localhost; a given one's names are not read.
        config.certificate = Some(crate::server::ServerCertificate {
            thumbprint: t.thumbprint.clone(),
            hostname: if args.cert.is_none() {
                "localhost".into()
            } else {
                String::new()
            },
        });
    }
    let service = if args.recordings.is_empty() {
        Service::new(config)
    } else {
        let scenarios = match super::scenario::load_selected(
            &args.recordings,
            &args.scenario,
            &mut std::io::stderr(),
        ) {
            Ok(s) if s.is_empty() => {
                eprintln!("error: no scenario selected");
                return exit::NOTHING_SELECTED;
            }
            Ok(s) => s,
            Err(code) => return code,
        };
        eprintln!("answering from {} recorded scenarios", scenarios.len());
        let machine = config.machine.clone();
        Service::with_responder(
            config,
            Arc::new(crate::scenario::serve::ReplayResponder::new(
                scenarios, &machine,
            )),
        )
    };
    rt.block_on(async {
        let service = Arc::new(service);
        let prefix = service.config().url_prefix.clone();
        let bind = |addr: SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))
        };
        let http = match bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::FAILURE;
            }
        };
        println!(
            "listening on http://{}/{prefix}",
            http.local_addr().map(|a| a.to_string()).unwrap_or_default()
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        if let (Some(addr), Some(tls)) = (args.https_listen, tls) {
            let l = match bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::FAILURE;
                }
            };
            println!(
                "listening on https://{}/{prefix} (CertificateThumbprint {})",
                l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                tls.thumbprint
            );
            let mut rx = stop_rx.clone();
            tasks.push(tokio::spawn(crate::server::http::serve(
                l,
                service.clone(),
                Some(tls),
                async move {
                    let _ = rx.changed().await;
                },
            )));
        }
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(crate::server::http::serve(
            http,
            service.clone(),
            None,
            async move {
                let _ = rx.changed().await;
            },
        )));
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
        eprintln!("stopped");
        exit::OK
    })
}
