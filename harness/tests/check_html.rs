//! The HTML report renders in a real browser: headless Chromium loads a report with a failing
//! case, and the rendered DOM shows the summary and that case; a screenshot is kept in
//! `target/check-report/report.png` (CI uploads it).
//!
//! Needs Debian's `chromium` (`.ci/run` installs it). Without it the test fails when
//! `WSMAN_REQUIRE_CHROMIUM` is set (as in CI) and is reported as skipped otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_wsman-harness");

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| s.success())
                .map(|_| PathBuf::from(c))
        })
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
#[cfg_attr(
    windows,
    ignore = "file:// URLs of Windows paths; the Linux CI covers the renderer"
)]
fn the_html_report_renders_its_summary_and_a_failing_case_in_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("WSMAN_REQUIRE_CHROMIUM").is_none(),
            "WSMAN_REQUIRE_CHROMIUM is set but no chromium is installed"
        );
        eprintln!("skipped: no chromium on this machine");
        return;
    };
    let password = "Html-Passw0rd";
    let (mut server, url) = common::spawn_serve(
        BIN,
        &[
            "--user",
            &format!("vagrant:{password}"),
            "--deviate",
            "wrong-relates-to",
            "--quiet",
        ],
        Stdio::null(),
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/check-report");
    let o = Command::new(BIN)
        .args([
            "check",
            "--target",
            &url,
            "--user",
            "vagrant",
            "--profile",
            "seed",
        ])
        .args([
            "--cases",
            "addressing.*",
            "--cases",
            "identify.*",
            "--report",
            "html",
        ])
        .arg("--out")
        .arg(&out)
        .env("WSMAN_PASSWORD", password)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let page = out.join("report.html");
    let profile = std::env::temp_dir().join(format!("wsman-chromium-{}", std::process::id()));
    let file_url = format!("file://{}", page.canonicalize().unwrap().display());
    let dom = headless(&browser, &profile)
        .arg("--dump-dom")
        .arg(&file_url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("id=\"summary\""),
        "no summary in the rendered DOM: {dom:.400}"
    );
    assert!(dom.contains("FAILED (1 failing)"), "{dom:.600}");
    assert!(
        dom.contains("<h3 class=\"FAILED\">FAILED — addressing.relates-to</h3>"),
        "the failing case is rendered"
    );
    let shot = out.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let s = headless(&browser, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,1600")
        .arg(&file_url)
        .output()
        .unwrap();
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "no screenshot: {}",
        String::from_utf8_lossy(&s.stderr)
    );
    let _ = std::fs::remove_dir_all(&profile);
}
