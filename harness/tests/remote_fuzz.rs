//! The remote fuzzer against the reference server: nothing to find when it follows the rules;
//! the crash, hang and auth deviations found, minimised and written as reproducers that fail
//! against the deviating server and pass against a correct one; seeds repeat runs.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use wsman_harness::check::embedded::Embedded;
use wsman_harness::client::{ClientOptions, Target};
use wsman_harness::fuzzer::{
    Bucket, FuzzTarget, Generator, Layer, Mutation, Plan, Restarter, Settings, Summary,
    builtin_seeds, reproduce,
};
use wsman_harness::server::Deviation;

const BIN: &str = env!("CARGO_BIN_EXE_wsman-harness");

fn target(e: &Embedded, timeout: Duration) -> FuzzTarget {
    let mut o = ClientOptions::new(Target::parse(&e.url()).unwrap(), &e.user, &e.password);
    o.timeout = timeout;
    FuzzTarget::new(o).unwrap()
}

fn plan(layers: &[Layer]) -> Plan {
    Plan {
        auth: wsman_harness::client::AuthMethod::Negotiate,
        https: false,
        layers: layers.to_vec(),
        operation_timeout: "PT1S".into(),
        baseline: false,
    }
}

fn fuzz(t: &FuzzTarget, layers: &[Layer], settings: Settings) -> Summary {
    let g = Generator::new(builtin_seeds(), plan(layers));
    wsman_harness::fuzzer::run(
        t,
        &g,
        &settings,
        &Restarter::new(None, Duration::from_secs(5)),
        &|_| {},
    )
}

fn settings(seed: u64, out: Option<&Path>) -> Settings {
    Settings {
        seed,
        cases: None,
        duration: Some(Duration::from_secs(60)),
        jobs: 2,
        out: out.map(Path::to_path_buf),
        max_per_bucket: 1,
        minimise_budget: Duration::from_secs(30),
        minimise_attempts: 100,
    }
}

#[test]
fn the_reference_server_gives_the_fuzzer_nothing_to_find() {
    let e = Embedded::start(&[]).unwrap();
    let t = target(&e, Duration::from_secs(5));
    let mut s = settings(20261206, None);
    s.duration = Some(Duration::from_secs(20));
    s.cases = Some(3000);
    let summary = fuzz(&t, &[], s);
    assert!(summary.cases >= 100, "too few cases: {}", summary.cases);
    assert!(
        summary.findings.is_empty() && summary.suspicious.is_empty() && summary.unconfirmed == 0,
        "{summary:#?}"
    );
    // Every layer was exercised.
    for l in Layer::ALL {
        assert!(
            summary.layers.get(&l).copied().unwrap_or(0) > 0,
            "{l:?} never ran: {summary:#?}"
        );
    }
}

/// Over HTTPS (rustls stream, NTLM with tls-server-end-point channel bindings under
/// CbtHardeningLevel=Strict, no sealing): the same oracle, nothing to find on a correct server.
#[test]
fn over_https_with_channel_binding_the_reference_server_gives_nothing() {
    use wsman_harness::server::{ServerConfig, Service, User};
    let mut config = ServerConfig {
        users: vec![User::new("fuzz", "Https-Fuzz-1")],
        ..ServerConfig::default()
    };
    config.set("service/auth/CbtHardeningLevel=Strict").unwrap();
    let tls = wsman_harness::server::tls::Tls::self_signed().unwrap();
    let running = wsman_harness::server::http::spawn_tls(
        Service::new(config),
        "127.0.0.1:0".parse().unwrap(),
        tls,
    )
    .unwrap();
    let mut o = ClientOptions::new(
        Target::parse(&running.url()).unwrap(),
        "fuzz",
        "Https-Fuzz-1",
    );
    o.insecure = true;
    o.timeout = Duration::from_secs(5);
    let t = FuzzTarget::new(o).unwrap();
    let mut plan = plan(&[]);
    plan.https = true;
    let g = Generator::new(builtin_seeds(), plan);
    assert!(!g.layers().contains(&Layer::Seal), "no sealing over HTTPS");
    let mut s = settings(99, None);
    s.cases = Some(400);
    let summary = wsman_harness::fuzzer::run(
        &t,
        &g,
        &s,
        &Restarter::new(None, Duration::from_secs(5)),
        &|_| {},
    );
    assert_eq!(summary.cases, 400);
    assert!(
        summary.findings.is_empty() && summary.suspicious.is_empty(),
        "{summary:#?}"
    );
    assert!(summary.layers.get(&Layer::Auth).copied().unwrap_or(0) > 0);
}

#[test]
fn a_hang_is_found_within_a_minute_minimised_and_replayed() {
    let dir = common::tempdir("fuzz-hang");
    let e = Embedded::start(&[Deviation::HangOnDoctype]).unwrap();
    let t = target(&e, Duration::from_secs(1));
    let start = Instant::now();
    let summary = fuzz(&t, &[], settings(7, Some(&dir)));
    let f = summary
        .findings
        .iter()
        .find(|f| f.bucket == Bucket::Hang)
        .unwrap_or_else(|| panic!("no hang found: {summary:#?}"));
    assert!(
        start.elapsed() < Duration::from_secs(90),
        "took {:?}",
        start.elapsed()
    );
    // Minimised to the one request that carries the DOCTYPE.
    assert_eq!(f.steps.1, 1, "{f:#?}");
    assert!(f.elements.1 < f.elements.0, "{f:#?}");
    let file = f.reproducer.as_ref().expect("a reproducer was written");
    let case = wsman_harness::scenario::load(file).unwrap();
    assert_eq!(case.steps.len(), 1);
    assert!(
        case.steps[0].wire.contains(&Mutation::Doctype),
        "{:?}",
        case.steps[0].wire
    );
    let snippet = std::fs::read_to_string(f.test.as_ref().unwrap()).unwrap();
    assert!(
        snippet.contains("#[test]") && snippet.contains("hang-1.scenario.toml"),
        "{snippet}"
    );
    assert!(snippet.contains("wsman_harness::fuzzer::reproduce_from_env"));
    // The reproducer fails against the deviating server and passes against a correct one.
    let none = Restarter::new(None, Duration::from_secs(5));
    let again = reproduce(&t, &case, &none).unwrap().expect("still hangs");
    assert_eq!(again.bucket, Bucket::Hang);
    let good = Embedded::start(&[]).unwrap();
    assert_eq!(
        reproduce(&target(&good, Duration::from_secs(1)), &case, &none).unwrap(),
        None
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn credentials_the_server_should_refuse_are_found_accepted() {
    let e = Embedded::start(&[Deviation::AcceptAnyPassword]).unwrap();
    let t = target(&e, Duration::from_secs(5));
    let mut s = settings(3, None);
    s.cases = Some(400);
    let summary = fuzz(&t, &[Layer::Auth], s);
    let f = summary
        .findings
        .iter()
        .find(|f| f.bucket == Bucket::AcceptedInvalidAuth)
        .unwrap_or_else(|| panic!("nothing accepted: {summary:#?}"));
    // Whatever was broken (a flipped AUTHENTICATE byte, a wrong password, a replay), it is
    // named, and it is an auth mutation.
    assert!(f.detail.contains("handshake accepted although"), "{f:#?}");
    assert!(
        f.signature.contains("wire:ntlm") || f.signature.contains("wire:auth"),
        "{f:#?}"
    );
    // The same cases against the correct server find nothing.
    let good = Embedded::start(&[]).unwrap();
    let mut s = settings(3, None);
    s.cases = Some(400);
    let clean = fuzz(&target(&good, Duration::from_secs(5)), &[Layer::Auth], s);
    assert!(clean.findings.is_empty(), "{clean:#?}");
}

#[test]
fn the_same_seed_repeats_the_run() {
    let e = Embedded::start(&[]).unwrap();
    let run = |seed: &str| {
        let out = Command::new(BIN)
            .args([
                "fuzz",
                "--target",
                &e.url(),
                "--user",
                &e.user,
                "--cases",
                "60",
                "--json",
            ])
            .args(["--seed", seed, "--out"])
            .arg(common::tempdir("fuzz-seed"))
            .env("WSMAN_PASSWORD", &e.password)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !stdout.contains(&e.password),
            "the password leaked into the summary"
        );
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        (
            v["digest"].as_str().unwrap().to_owned(),
            v["cases"].as_u64().unwrap(),
        )
    };
    let a = run("11");
    assert_eq!(a.1, 60);
    assert_eq!(run("11"), a, "same seed, same cases");
    assert_ne!(run("12").0, a.0, "another seed, other cases");
}

#[test]
fn bad_arguments_and_files_are_refused_clearly() {
    let fail = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = fail(&["fuzz", "--deviate", "no-such-rule", "--cases", "1"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = fail(&["fuzz", "--deviate", "crash-on-doctype", "--cases", "1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--restart-cmd"), "{err}");
    let (code, _) = fail(&["fuzz", "--cases", "0"]);
    assert_eq!(code, Some(2));
    let (code, err) = fail(&[
        "fuzz",
        "--target",
        "http://127.0.0.1:9/wsman",
        "--auth",
        "none",
        "--cases",
        "1",
    ]);
    assert_eq!(code, Some(3), "{err}");
    // A reproducer whose wire list is wrong says where.
    let dir = common::tempdir("fuzz-bad");
    let file = dir.join("bad.scenario.toml");
    std::fs::write(
        &file,
        "[scenario]\nname = \"bad\"\n\n[[step]]\nrequest = '<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>'\nwire = [\"doctype\", \"deep:lots\"]\n",
    )
    .unwrap();
    let (code, err) = fail(&["fuzz", "--reproduce", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("bad.scenario.toml:6:") && err.contains("deep:lots"),
        "{err}"
    );
    // Plain replay refuses a reproducer instead of sending undamaged requests.
    std::fs::write(
        &file,
        "[scenario]\nname = \"bad\"\n\n[[step]]\nrequest = '<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>'\nwire = [\"doctype\"]\n",
    )
    .unwrap();
    let (code, err) = fail(&["replay", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("fuzz --reproduce"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The crash switch aborts the server process, so the server runs as a child process and the
/// fuzzer brings it back with --restart-cmd.
#[cfg(unix)]
#[test]
fn a_crash_is_found_with_restarts_and_its_reproducer_replays() {
    let dir = common::tempdir("fuzz-crash");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pids = dir.join("pids");
    let serve = |extra: &str| {
        format!(
            "{BIN} serve --listen 127.0.0.1:{port} --user fuzz:Fuzz-Pass-1 {extra} >/dev/null 2>&1 & echo $! >> {}",
            pids.display()
        )
    };
    // Every server started here (by the test or by --restart-cmd) is stopped at the end,
    // also when an assertion fails.
    let servers = Servers(pids.clone());
    let start = serve("--deviate crash-on-doctype");
    let sh = |cmd: &str| {
        assert!(
            Command::new("sh")
                .args(["-c", cmd])
                .status()
                .unwrap()
                .success()
        )
    };
    sh(&start);
    let url = format!("http://127.0.0.1:{port}/wsman");
    let fuzz = |args: &[&str]| {
        Command::new(BIN)
            .args([
                "fuzz",
                "--target",
                &url,
                "--user",
                "fuzz",
                "--timeout",
                "2s",
            ])
            .args(["--restart-cmd", &start, "--restart-wait", "20s"])
            .args(args)
            .env("WSMAN_PASSWORD", "Fuzz-Pass-1")
            .output()
            .unwrap()
    };
    wait_for(port, true);
    let began = Instant::now();
    let out = fuzz(&[
        "--duration",
        "60s",
        "--seed",
        "5",
        "--max-per-bucket",
        "1",
        "--out",
        dir.join("findings").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected findings: {stdout}{stderr}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(150),
        "{:?}",
        began.elapsed()
    );
    assert!(stdout.contains("crash "), "{stdout}");
    assert!(!stdout.contains("Fuzz-Pass-1") && !stderr.contains("Fuzz-Pass-1"));
    let repro = dir.join("findings/crash-1.scenario.toml");
    let case =
        wsman_harness::scenario::load(&repro).unwrap_or_else(|e| panic!("{e}\n{stdout}{stderr}"));
    assert_eq!(case.steps.len(), 1, "minimised to one step");
    // Which DOCTYPE-carrying mutation comes first depends on how the workers interleave.
    assert!(
        case.steps[0]
            .wire
            .iter()
            .any(|m| matches!(m, Mutation::Doctype | Mutation::EntityBomb)),
        "{:?}",
        case.steps[0].wire
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings/summary.json")).unwrap()).unwrap();
    assert!(summary["restarts"].as_u64().unwrap() >= 2, "{summary}");
    // The reproducer crashes the deviating server again (which is then restarted) ...
    let again = fuzz(&["--reproduce", repro.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&again.stdout).into_owned();
    assert_eq!(
        again.status.code(),
        Some(1),
        "{said}{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(said.contains("still fails: crash"), "{said}");
    servers.kill_all();
    // ... and passes against a correct server on the same port.
    wait_for(port, false);
    sh(&serve(""));
    wait_for(port, true);
    let fixed = fuzz(&["--reproduce", repro.to_str().unwrap()]);
    servers.kill_all();
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fixed.stdout)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Waits until something listens on the port (`up`) or nothing does.
#[cfg(unix)]
fn wait_for(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() != up {
        assert!(
            Instant::now() < deadline,
            "port {port} never became {}",
            if up { "open" } else { "free" }
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The servers whose pids a file lists; killed when dropped.
#[cfg(unix)]
struct Servers(std::path::PathBuf);

#[cfg(unix)]
impl Servers {
    fn kill_all(&self) {
        let _ = Command::new("sh")
            .args([
                "-c",
                &format!("kill $(cat {}) 2>/dev/null", self.0.display()),
            ])
            .status();
    }
}

#[cfg(unix)]
impl Drop for Servers {
    fn drop(&mut self) {
        self.kill_all();
    }
}

#[test]
fn no_seed_scenario_stops_the_run_with_a_reason() {
    let o = ClientOptions::new(Target::parse("http://127.0.0.1:9/wsman").unwrap(), "u", "p");
    let g = Generator::new(Vec::new(), plan(&[]));
    let s = wsman_harness::fuzzer::run(
        &FuzzTarget::new(o).unwrap(),
        &g,
        &settings(1, None),
        &Restarter::new(None, Duration::from_secs(1)),
        &|_| {},
    );
    assert_eq!(s.cases, 0);
    assert!(s.stopped.unwrap().contains("no seed scenario"));
}
