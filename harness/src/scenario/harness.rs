//! Scenarios as `cargo test` tests: one libtest test per scenario, for a `harness = false`
//! test target. Against `WSMAN_TARGET` (with `WSMAN_USER`, `WSMAN_PASSWORD`, optionally
//! `WSMAN_AUTH=basic|negotiate|none` and `WSMAN_INSECURE=1`) when set, else against one
//! embedded reference server started for the run; scenarios marked `reference = false` are
//! ignored there.
//!
//! ```no_run
//! // tests/my_scenarios.rs, with `[[test]] name = "my_scenarios" harness = false`
//! fn main() -> std::process::ExitCode {
//!     wsman_harness::scenario::harness::main(&["tests/scenarios".into()])
//! }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

use super::file::{discover, load};
use super::replay::replay;
use crate::check::embedded::Embedded;
use crate::client::{AuthMethod, Client, ClientOptions, Target};

/// Where the tests send their requests.
pub enum TestTarget {
    /// An embedded reference server (kept alive by the trials).
    Embedded(Arc<Embedded>),
    /// A server named by the environment.
    Remote(ClientOptions),
}

impl TestTarget {
    /// `WSMAN_TARGET` and friends, or a fresh embedded server.
    pub fn from_env() -> Result<Self, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match env("WSMAN_TARGET") {
            Some(url) => {
                let target = Target::parse(&url).map_err(|e| format!("WSMAN_TARGET: {e}"))?;
                let mut o = ClientOptions::new(
                    target,
                    &env("WSMAN_USER").unwrap_or_default(),
                    &env("WSMAN_PASSWORD").unwrap_or_default(),
                );
                o.auth = match env("WSMAN_AUTH").as_deref() {
                    Some("basic") => AuthMethod::Basic,
                    Some("none") => AuthMethod::None,
                    _ => AuthMethod::Negotiate,
                };
                o.insecure = env("WSMAN_INSECURE").is_some();
                Ok(TestTarget::Remote(o))
            }
            None => Embedded::start(&[])
                .map(|e| TestTarget::Embedded(Arc::new(e)))
                .map_err(|e| format!("cannot start the embedded server: {e}")),
        }
    }

    /// Client options for this target.
    pub fn options(&self) -> ClientOptions {
        match self {
            TestTarget::Remote(o) => o.clone(),
            TestTarget::Embedded(e) => ClientOptions::new(
                Target::parse(&e.url()).expect("own URL"),
                &e.user,
                &e.password,
            ),
        }
    }
}

/// One trial per scenario file under `paths`; a file that does not load is a failing trial.
pub fn trials(paths: &[PathBuf], target: Arc<TestTarget>) -> Vec<Trial> {
    let files = match discover(paths) {
        Ok(f) if f.is_empty() => {
            let where_ = format!("no *.scenario.toml under {paths:?}");
            return vec![Trial::test("scenario-files", move || Err(where_.into()))];
        }
        Ok(f) => f,
        Err(e) => return vec![Trial::test("scenario-files", move || Err(e.into()))],
    };
    let embedded = matches!(*target, TestTarget::Embedded(_));
    files
        .into_iter()
        .map(|f| match load(&f) {
            Err(e) => {
                let name = f.display().to_string();
                Trial::test(name, move || Err(Failed::from(e.to_string())))
            }
            Ok(s) => {
                let ignored = embedded && !s.meta.reference;
                let name = s.name.clone();
                let t = target.clone();
                Trial::test(name, move || {
                    let mut client =
                        Client::new(t.options()).map_err(|e| Failed::from(e.to_string()))?;
                    let r = replay(&s, &mut client);
                    if r.passed() {
                        Ok(())
                    } else {
                        Err(Failed::from(crate::cli::render_replay(&r, true)))
                    }
                })
                .with_ignored_flag(ignored)
                .with_kind(if embedded { "reference" } else { "target" })
            }
        })
        .collect()
}

/// A complete test main over scenario paths.
pub fn main(paths: &[PathBuf]) -> std::process::ExitCode {
    let args = Arguments::from_args();
    let target = match TestTarget::from_env() {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    libtest_mimic::run(&args, trials(paths, target)).exit_code()
}
