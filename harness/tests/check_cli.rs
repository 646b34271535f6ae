//! `wsman-harness check`, `list` and `report merge` end to end: exit codes, report files,
//! waivers, and no secret in any output.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine;

const BIN: &str = env!("CARGO_BIN_EXE_wsman-harness");
const PASSWORD: &str = "Check-Cli-Passw0rd!";
/// Every report format.
const ALL_REPORTS: &[&str] = &[
    "--report", "human", "--report", "json", "--report", "junit", "--report", "html",
];

fn harness(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("WSMAN_PASSWORD", PASSWORD)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("wsman-check-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A reference server breaking one rule. Basic stays off, but `auth.basic-refused` still sends
/// Basic credentials (the password, base64-encoded), which no report may show.
fn deviating_server() -> (std::process::Child, String) {
    let user = format!("vagrant:{PASSWORD}");
    common::spawn_serve(
        BIN,
        &["--user", &user, "--deviate", "wrong-relates-to", "--quiet"],
        Stdio::null(),
    )
}

#[test]
fn without_a_target_the_embedded_server_passes_and_reports_are_written() {
    let out = tmp("reports");
    let o = harness(
        &[
            &["check", "--cases", "identify.*", "--cases", "auth.*"],
            ALL_REPORTS,
            &["--out", out.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let human = String::from_utf8_lossy(&o.stdout);
    assert!(
        human.contains("OK            MUST   identify.authenticated"),
        "{human}"
    );
    assert!(human.contains("PASSED"), "{human}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["schema"], "wsman-harness/check-report/1");
    assert_eq!(json["passed"], true);
    assert_eq!(json["profile"], "seed");
    let ids: Vec<&str> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case"]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"identify.unauthenticated") && ids.contains(&"auth.basic-refused"));
    assert!(
        ids.iter()
            .all(|i| i.starts_with("identify.") || i.starts_with("auth."))
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testcase name=\"identify.authenticated\""),
        "{junit}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"summary\"") && html.contains("PASSED"));
    assert!(html.contains("wire log"), "the HTML carries the exchanges");
}

#[test]
fn exit_codes_for_usage_no_case_and_unreachable_targets() {
    let o = harness(&["check", "--cases", "no.such.case*"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("no case matches"));
    // A closed port: nothing listens on port 1 of loopback.
    let o = harness(&[
        "check",
        "--target",
        "http://127.0.0.1:1/wsman",
        "--user",
        "u",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("unreachable"), "{}", text(&o));
    let o = harness(&["check", "--target", "ftp://x/wsman", "--user", "u"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = harness(&["check", "--target", "http://127.0.0.1:1/wsman"]);
    assert_eq!(o.status.code(), Some(2), "--user is required: {}", text(&o));
    let o = harness(&["check", "--jobs", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_deviating_target_fails_with_expected_and_actual_and_wrong_credentials_exit_3() {
    let (mut child, url) = deviating_server();
    let o = harness(&[
        "check",
        "--target",
        &url,
        "--user",
        "vagrant",
        "--profile",
        "seed",
        "--cases",
        "addressing.relates-to",
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("FAILED") && t.contains("Expected: RelatesTo uuid:"),
        "{t}"
    );
    let o = Command::new(BIN)
        .args([
            "check",
            "--target",
            &url,
            "--user",
            "vagrant",
            "--cases",
            "identify.*",
        ])
        .env("WSMAN_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn waivers_turn_a_known_failure_green_and_expired_or_stale_waivers_red() {
    let (mut child, url) = deviating_server();
    let dir = tmp("waivers");
    let waiver = |case: &str, expires: &str| {
        let p = dir.join(format!("{}-{expires}.toml", case.replace('.', "_")));
        std::fs::write(
            &p,
            format!("[[waiver]]\ncase = \"{case}\"\nreason = \"known\"\nexpires = \"{expires}\"\n"),
        )
        .unwrap();
        p
    };
    let run = |cases: &str, w: &Path| {
        harness(&[
            "check",
            "--target",
            &url,
            "--user",
            "vagrant",
            "--profile",
            "seed",
            "--cases",
            cases,
            "--waivers",
            w.to_str().unwrap(),
        ])
    };
    let active = waiver("addressing.relates-to", "2999-12-31");
    let o = run("addressing.relates-to", &active);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("[waived]"));
    let expired = waiver("addressing.relates-to", "2000-01-01");
    let o = run("addressing.relates-to", &expired);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("expired on 2000-01-01"));
    let stale = waiver("identify.authenticated", "2999-12-31");
    let o = run("identify.authenticated", &stale);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("unexpected pass"));
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[waiver]]\ncase = \"identify.*\"\nreason = \"x\"\nexpires = 5\n",
    )
    .unwrap();
    let o = run("identify.*", &bad);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("line 4"), "{}", text(&o));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn reports_never_contain_the_password_even_when_basic_is_sent() {
    let (mut child, url) = deviating_server();
    let out = tmp("secrets");
    let o = harness(
        &[
            &[
                "check",
                "--target",
                &url,
                "--user",
                "vagrant",
                "--profile",
                "seed",
            ],
            ALL_REPORTS,
            &["--out", out.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "wrong-relates-to fails the run: {}",
        text(&o)
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("vagrant:{PASSWORD}"));
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        json.contains("Basic <redacted"),
        "auth.basic-refused sent Basic credentials, which the log shows redacted"
    );
    for f in ["report.json", "junit.xml", "report.html"] {
        let body = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            !body.contains(PASSWORD) && !body.contains(&basic),
            "{f} leaks the password"
        );
    }
    assert!(!text(&o).contains(PASSWORD) && !text(&o).contains(&basic));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn list_prints_the_catalogue_and_merge_builds_a_matrix() {
    let o = harness(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let listed = String::from_utf8_lossy(&o.stdout);
    for c in wsman_harness::check::catalogue() {
        assert!(
            listed.contains(c.info.id),
            "{} missing from list",
            c.info.id
        );
    }
    let o = harness(&["list", "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "identify.authenticated");
    assert_eq!(first["level"], "MUST");
    // Two runs merged into one matrix.
    let (a, b) = (tmp("merge-a"), tmp("merge-b"));
    for d in [&a, &b] {
        let o = harness(&[
            "check",
            "--cases",
            "identify.*",
            "--report",
            "json",
            "--out",
            d.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let m = a.join("matrix.html");
    let o = harness(&[
        "report",
        "merge",
        a.join("report.json").to_str().unwrap(),
        b.join("report.json").to_str().unwrap(),
        "--out",
        m.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(&m).unwrap();
    assert!(html.contains("id=\"matrix\"") && html.matches("identify.authenticated").count() == 1);
    assert_eq!(html.matches("<th>http://127.0.0.1").count(), 2);
    let junk = a.join("junk.json");
    std::fs::write(&junk, "{\"not\": \"a report\"}").unwrap();
    let o = harness(&[
        "report",
        "merge",
        junk.to_str().unwrap(),
        "--out",
        m.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}
