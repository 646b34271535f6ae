//! `wsman-harness bench` against the reference server: every operation completes without errors
//! or leaked resources (over NTLM with encryption), the open loop keeps its rate and measures
//! latency from when requests were due (a slow server shows its queue), errors are classed
//! (quota faults apart), scenarios replay with live correlation, and `bench compare` reads the
//! JSON back. Durations are short and bounded; no assertion is about speed.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use wsman_harness::config::{Config, Profile};
use wsman_harness::server::http::{Running, spawn};
use wsman_harness::server::{RequestContext, Responder, ServerConfig, Service, User};

const PASSWORD: &str = "Bench-Passw0rd!";

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
        .arg("bench")
        .args(args)
        .env("BENCH_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn server(sets: &[&str]) -> Running {
    let mut c = ServerConfig::new(Config::new(Profile::Seed));
    c.users.push(User::new("bench", PASSWORD));
    for s in sets {
        c.set(s).unwrap();
    }
    spawn(Service::new(c), "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// `bench --target S ... EXTRA --quiet --json FILE`, which must succeed; the report.
fn run_against(s: &Running, extra: &[&str], json: &Path) -> serde_json::Value {
    let mut args: Vec<String> = target(s).to_vec();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args.extend([
        "--quiet".into(),
        "--json".into(),
        json.display().to_string(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&bin(&refs));
    report(json)
}

fn target(s: &Running) -> [String; 6] {
    [
        "--target".into(),
        s.url(),
        "--user".into(),
        "bench".into(),
        "--password-env".into(),
        "BENCH_PASSWORD".into(),
    ]
}

#[test]
fn every_operation_runs_clean_over_ntlm_with_encryption() {
    let dir = common::tempdir("bench-ops");
    for (op, per_iteration) in [("identify", 1), ("get", 1), ("enumerate", 2), ("shell", 5)] {
        let json = dir.join(format!("{op}.json"));
        // The embedded server (no --target) over Negotiate with sealed bodies.
        let out = bin(&[
            "--op",
            op,
            "--connections",
            "2",
            "--duration",
            "700ms",
            "--warmup",
            "200ms",
            "--quiet",
            "--json",
            json.to_str().unwrap(),
        ]);
        ok(&out);
        let table = String::from_utf8(out.stdout).unwrap();
        assert!(table.contains("latency     p50"), "{table}");
        let r = report(&json);
        assert_eq!(r["workload"], op);
        assert_eq!(r["auth"], "negotiate");
        let requests = r["requests"].as_u64().unwrap();
        let iterations = r["iterations"].as_u64().unwrap();
        assert!(iterations > 0, "{op}: {r}");
        assert_eq!(r["errors"]["transport"], 0, "{op}: {r}");
        assert_eq!(r["errors"]["protocol"], 0, "{op}: {r}");
        assert_eq!(
            r["ok"].as_u64().unwrap(),
            requests,
            "{op}: every request succeeded"
        );
        assert!(
            requests >= iterations * per_iteration,
            "{op}: {requests} requests for {iterations} iterations"
        );
        assert_eq!(r["leaked"]["shells"], 0, "{op}");
        assert_eq!(r["leaked"]["enumerations"], 0, "{op}");
        assert!(r["latency_us"]["p50"].as_u64().unwrap() > 0);
        assert!(r["latency_us"]["max"].as_u64() >= r["latency_us"]["p99"].as_u64());
        assert!(r["bytes_in"].as_u64().unwrap() > 0 && r["bytes_out"].as_u64().unwrap() > 0);
        if cfg!(target_os = "linux") {
            assert!(r["generator_cpu_s"].as_f64().unwrap() > 0.0, "{r}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Answers every request after a fixed delay, whatever it is.
struct Slow(Duration);

impl Responder for Slow {
    fn respond(&self, _body: &[u8], _ctx: &RequestContext) -> wsman_harness::server::Reply {
        std::thread::sleep(self.0);
        wsman_harness::server::Reply::new(
            200,
            String::from_utf8(wsman_harness::check::ctx::Ctx::identify_bytes()).unwrap(),
        )
    }
}

#[test]
fn the_open_loop_keeps_its_rate_and_counts_queueing_in_latency() {
    let mut c = ServerConfig::new(Config::new(Profile::Seed));
    c.set("service/AllowUnencrypted=true").unwrap();
    let slow = spawn(
        Service::with_responder(c, Arc::new(Slow(Duration::from_millis(40)))),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let dir = common::tempdir("bench-open");
    let run = |extra: &[&str], name: &str| {
        let json = dir.join(name);
        let mut args = vec![
            "--target",
            &slow.url(),
            "--auth",
            "none",
            "--connections",
            "1",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--quiet",
            "--json",
            json.to_str().unwrap(),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&bin(&refs));
        report(&json)
    };
    // 10/s against a 40 ms server: the rate is kept and latency is the service time.
    let kept = run(&["--rate", "10"], "kept.json");
    let n = kept["iterations"].as_u64().unwrap();
    assert!((8..=10).contains(&n), "10/s for 1 s: {n} iterations");
    assert!(
        kept["latency_us"]["p90"].as_u64().unwrap() < 200_000,
        "{kept}"
    );
    // 100/s against a server that does 25/s on one connection: requests queue behind each
    // other, and the latency measured from their due time shows it.
    let over = run(&["--rate", "100"], "over.json");
    let p90 = over["latency_us"]["p90"].as_u64().unwrap();
    assert!(
        p90 > 300_000,
        "queueing must show in the open-loop p90: {p90} µs"
    );
    assert_eq!(over["mode"], "open");
    // The same overload in a closed loop only shows the service time.
    let closed = run(&[], "closed.json");
    assert!(
        closed["latency_us"]["p90"].as_u64().unwrap() < 200_000,
        "{closed}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quota_faults_are_counted_apart_and_shells_are_not_leaked() {
    let s = server(&["winrs/MaxShellsPerUser=1"]);
    let dir = common::tempdir("bench-quota");
    let json = dir.join("quota.json");
    let r = run_against(
        &s,
        &[
            "--op",
            "shell",
            "--connections",
            "4",
            "--duration",
            "800ms",
            "--warmup",
            "0s",
        ],
        &json,
    );
    assert!(r["errors"]["quota"].as_u64().unwrap() > 0, "{r}");
    assert!(r["iterations"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["leaked"]["shells"], 0, "{r}");
    assert_eq!(
        s.service.open_shells(),
        0,
        "every shell the run made is gone"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn scenarios_replay_under_load_with_live_correlation() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/scenarios/reference");
    let shell = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("shell"))
        .expect("a shell scenario in the reference corpus");
    let dir = common::tempdir("bench-scenario");
    let json = dir.join("s.json");
    let out = bin(&[
        "--scenario",
        shell.to_str().unwrap(),
        "--connections",
        "2",
        "--duration",
        "700ms",
        "--warmup",
        "0s",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ]);
    ok(&out);
    let r = report(&json);
    assert!(r["iterations"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(
        r["errors"]["protocol"], 0,
        "every step matched its recording (ShellIds bound live): {r}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compare_prints_runs_side_by_side_and_plots_them() {
    let s = server(&["service/AllowUnencrypted=true", "service/auth/Basic=true"]);
    let dir = common::tempdir("bench-compare");
    let mut files = Vec::new();
    for (label, auth) in [("sealed", "negotiate"), ("plain", "basic")] {
        let json = dir.join(format!("{label}.json"));
        let extra = ["--auth", auth, "--op", "get", "--label", label];
        run_against(
            &s,
            &[&extra[..], &["--duration", "500ms", "--warmup", "0s"]].concat(),
            &json,
        );
        files.push(json);
    }
    let second = dir.join("again.json");
    let mut r = report(&files[0]);
    r["label"] = "again".into();
    std::fs::write(&second, r.to_string()).unwrap();
    files.push(second);
    let svg = dir.join("plot.svg");
    let out = bin(&[
        "compare",
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        files[2].to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    ok(&out);
    let table = String::from_utf8(out.stdout).unwrap();
    let head = table.lines().next().unwrap();
    assert!(
        head.contains("sealed") && head.contains("plain") && head.contains("again"),
        "{table}"
    );
    let rps = table.lines().find(|l| l.starts_with("requests/s")).unwrap();
    assert!(
        rps.trim_end().ends_with("(1.00×)"),
        "the same run compares as 1.00×: {rps}"
    );
    assert_eq!(rps.matches('×').count(), 2, "{rps}");
    let doc = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(doc.matches("<polyline").count(), 3);
    // A file that is not a report is refused with its position.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"version\": 1,\n \"label\": 3}").unwrap();
    let out = bin(&["compare", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json:2:"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_and_unreachable_targets_exit_with_their_codes() {
    let out = bin(&["--duration", "10h"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown unit"));
    let out = bin(&["--rate", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = bin(&[
        "--target",
        "http://127.0.0.1:9/wsman",
        "--auth",
        "none",
        "--duration",
        "1s",
        "--quiet",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin(&["--op", "shell", "--print-request"]);
    assert_eq!(out.status.code(), Some(2));
    let out = bin(&["--op", "identify", "--auth", "none", "--print-request"]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Identify"));
}
