//! `wsman-harness probe` against the reference server: the measured limits equal the declared
//! ones when the server keeps them, and differ (exit 1) when a deviation switch breaks them.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_wsman-harness");

fn probe(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = Command::new(BIN)
        .arg("probe")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), json, stderr)
}

fn limit<'a>(report: &'a serde_json::Value, setting: &str) -> &'a serde_json::Value {
    report["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["setting"] == setting)
        .unwrap_or_else(|| panic!("no {setting} in {report}"))
}

#[test]
fn the_reference_server_enforces_what_it_declares() {
    let (code, r, err) = probe(&[]);
    assert_eq!(code, Some(0), "{err}{r}");
    let env = limit(&r, "MaxEnvelopeSizekb");
    assert_eq!(env["declared"], 153600);
    assert_eq!(env["enforced"]["kind"], "exactly", "{env}");
    assert_eq!(env["enforced"]["value"], 153600, "{env}");
    let evidence = env["evidence"].to_string();
    assert!(
        evidence.contains("153600 bytes: accepted")
            && evidence.contains("153601 bytes: refused: HTTP 413"),
        "{evidence}"
    );
    // The sample collection (100 items) ends before any clamp could show.
    let batch = limit(&r, "MaxBatchItems");
    assert_eq!(batch["enforced"]["kind"], "at-least", "{batch}");
    assert!(
        batch["enforced"]["because"]
            .as_str()
            .unwrap()
            .contains("collection ended")
    );
    assert_eq!(
        limit(&r, "MaxTimeoutms")["enforced"]["kind"],
        "not-measured"
    );
}

#[test]
fn a_server_that_refuses_early_or_never_is_caught() {
    let (code, r, err) = probe(&["--deviate", "max-envelope-short"]);
    assert_eq!(code, Some(1), "{err}{r}");
    let env = limit(&r, "MaxEnvelopeSizekb");
    assert_eq!(env["enforced"]["value"], 153600 - 1024, "{env}");
    let (code, r, err) = probe(&["--deviate", "ignore-max-envelope", "--max-size", "300000"]);
    assert_eq!(code, Some(1), "{err}{r}");
    let env = limit(&r, "MaxEnvelopeSizekb");
    assert_eq!(env["enforced"]["kind"], "at-least", "{env}");
    assert_eq!(env["enforced"]["value"], 300000, "{env}");
}

#[test]
fn the_operation_timeout_clamp_is_measured_with_slow() {
    let (code, r, err) = probe(&["--slow", "--set", "MaxTimeoutms=3000"]);
    assert_eq!(code, Some(0), "{err}{r}");
    let t = limit(&r, "MaxTimeoutms");
    assert_eq!(t["declared"], 3000);
    assert_eq!(t["enforced"]["kind"], "exactly", "{t}");
    let v = t["enforced"]["value"].as_u64().unwrap();
    assert!((2900..=3300).contains(&v), "{t}");
    assert!(t["evidence"].to_string().contains("TimedOut"), "{t}");
}

#[test]
fn usage_errors_and_unreachable_targets() {
    let (code, _, err) = probe(&[
        "--target",
        "http://127.0.0.1:9/wsman",
        "--deviate",
        "fault-400",
    ]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = probe(&["--deviate", "no-such-switch"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = probe(&["--set", "MaxEnvelopeSizekb=lots"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("MaxEnvelopeSizekb"), "{err}");
    let (code, _, err) = probe(&["--target", "http://127.0.0.1:9/wsman", "--auth", "none"]);
    assert_eq!(code, Some(3), "{err}");
}
