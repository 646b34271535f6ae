//! The `winrm-rs` crate (an independent Rust WinRM client) against `wsman-harness serve`:
//! `interop/winrm-rs` is built by this test (its own crate and target directory: it brings
//! reqwest and aws-lc, which the harness does not use) and run for Basic and NTLM flows that
//! assert command output and exit codes.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

const PASSWORD: &str = "WinrmRs-Passw0rd!";

fn interop_binary() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/winrm-rs");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .stdout(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building interop/winrm-rs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = dir
        .join("target/debug/winrm-rs-interop")
        .with_extension(std::env::consts::EXE_EXTENSION);
    assert!(exe.is_file(), "{} missing", exe.display());
    exe
}

#[test]
#[cfg_attr(
    windows,
    ignore = "winrm-rs's TLS stack (aws-lc) needs NASM and CMake to build on Windows"
)]
fn winrm_rs_runs_commands_over_basic_and_ntlm() {
    let exe = interop_binary();
    let user = format!("vagrant:{PASSWORD}");
    // winrm-rs does not encrypt bodies, so the service must allow unencrypted traffic; Basic
    // must be enabled for its Basic leg.
    let log = common::tempdir("winrm-rs").join("serve.log");
    let server = common::Served::start(
        Command::new(env!("CARGO_BIN_EXE_wsman-harness")),
        &[
            "--user",
            &user,
            "--set",
            "service/AllowUnencrypted=true",
            "--set",
            "service/auth/Basic=true",
        ],
        std::fs::File::create(&log).unwrap().into(),
    );
    let (host, port) = ("127.0.0.1", server.port(0).to_string());
    for auth in ["basic", "ntlm"] {
        let out = Command::new(&exe)
            .args([host, &port, "vagrant", PASSWORD, auth])
            .output()
            .unwrap();
        let transcript = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!(
            "--- winrm-rs {auth}\n{}",
            transcript.replace(PASSWORD, "<password>")
        );
        assert!(out.status.success(), "winrm-rs over {auth}:\n{transcript}");
        assert!(transcript.contains("winrm-rs flows ok"));
    }
    server.stop();
    // The misplaced OptionSet was accepted and named in the log, not silently.
    let served = std::fs::read_to_string(&log).unwrap();
    assert!(
        served.contains("between </s:Header> and <s:Body>"),
        "{served}"
    );
    assert!(!served.contains(PASSWORD));
}
