//! `cargo test` runs the conformance catalogue, one libtest test per case: against the embedded
//! reference server, or against `WSMAN_TARGET` (with `WSMAN_USER`, `WSMAN_PASSWORD`, and
//! optionally `WSMAN_PROFILE`, `WSMAN_AUTH=basic|negotiate`, `WSMAN_INSECURE=1`) when set.
//! Slow cases run with `WSMAN_SLOW=1`.

use std::sync::OnceLock;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use wsman_harness::check::embedded::Embedded;
use wsman_harness::check::profile::{Profile, ProfileName};
use wsman_harness::check::runner::{self, Plan};
use wsman_harness::check::waivers::Waivers;
use wsman_harness::check::{DEFAULT_ENUMERATE_RESOURCE, RunSettings, Tier, catalogue};
use wsman_harness::client::{AuthMethod, ClientOptions, Target};

struct Setup {
    settings: RunSettings,
    _embedded: Option<Embedded>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (url, user, password, profile, embedded) = match env("WSMAN_TARGET") {
            Some(t) => {
                let profile = match env("WSMAN_PROFILE").as_deref() {
                    Some("seed") => ProfileName::Seed,
                    Some("windows") => ProfileName::Windows,
                    Some("dmtf") => ProfileName::Dmtf,
                    _ => ProfileName::Auto,
                };
                (
                    t,
                    env("WSMAN_USER").unwrap_or_default(),
                    env("WSMAN_PASSWORD").unwrap_or_default(),
                    profile,
                    None,
                )
            }
            None => {
                let e = Embedded::start(&[]).expect("the embedded server starts");
                (
                    e.url(),
                    e.user.clone(),
                    e.password.clone(),
                    ProfileName::Seed,
                    Some(e),
                )
            }
        };
        let mut client = ClientOptions::new(
            Target::parse(&url).expect("WSMAN_TARGET is a URL"),
            &user,
            &password,
        );
        if env("WSMAN_AUTH").as_deref() == Some("basic") {
            client.auth = AuthMethod::Basic;
        }
        client.insecure = env("WSMAN_INSECURE").is_some();
        client.timeout = Duration::from_secs(30);
        let settings = RunSettings {
            client,
            profile: Profile::new(profile),
            enumerate_resource: DEFAULT_ENUMERATE_RESOURCE.into(),
        };
        let (settings, _) = runner::preflight(&settings).expect("the target answers");
        Setup {
            settings,
            _embedded: embedded,
        }
    })
}

fn main() {
    let mut args = Arguments::from_args();
    // Cases that change the configuration must not overlap: one thread.
    args.test_threads = Some(1);
    let slow = std::env::var_os("WSMAN_SLOW").is_some();
    let trials = catalogue()
        .into_iter()
        .map(|case| {
            let ignored = case.info.tier == Tier::Slow && !slow;
            Trial::test(case.info.id, move || {
                let s = setup();
                let plan = Plan {
                    settings: s.settings.clone(),
                    cases: vec![case],
                    strict: false,
                    slow: true,
                    jobs: 1,
                    waivers: Waivers::default(),
                    today: chrono::Utc::now().date_naive(),
                };
                let report =
                    runner::run(&plan, &|_| {}).map_err(|e| Failed::from(e.to_string()))?;
                let r = &report.results[0];
                if r.failing {
                    return Err(wsman_harness::report::human::case_line(
                        r,
                        wsman_harness::report::human::Style { color: false },
                    )
                    .into());
                }
                Ok(())
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
