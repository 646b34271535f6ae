//! The `wsman-harness` binary, run as a user runs it.

mod common;

use std::process::{Command, Output};

use common::recordings as fixtures;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_reads_every_recorded_envelope_and_reports_the_broken_ones() {
    let files = common::xml_files(&fixtures());
    let out = bin().arg("inspect").args(&files).output().unwrap();
    let broken: Vec<_> = files
        .iter()
        .filter(|f| {
            wsman_harness::xml::parse_document(&std::fs::read(f).unwrap(), Default::default())
                .is_err()
        })
        .collect();
    assert!(!broken.is_empty());
    assert_eq!(
        out.status.code(),
        Some(1),
        "broken fixtures make the run fail"
    );
    assert_eq!(stdout(&out).lines().count(), files.len() - broken.len());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), broken.len(), "{err}");
    for line in err.lines() {
        assert!(line.contains(": error: at byte "), "{line}");
    }
}

#[test]
fn inspect_summarises_operation_resource_selectors_and_fault() {
    let r = fixtures().join("diyan__pywinrm/tests/test_xmls/test_run_cmd");
    let out = bin()
        .arg("inspect")
        .arg(r.join("5-request.xml"))
        .arg(
            fixtures()
                .join("diyan__pywinrm/tests/test_xmls/test_run_cmd_timeout_error/4-response.xml"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains("resource=http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("selectors=ShellId="), "{}", lines[0]);
    assert!(lines[0].contains(" id=uuid:"), "{}", lines[0]);
    assert!(lines[1].contains(": Fault "), "{}", lines[1]);
    assert!(lines[1].contains("fault=w:TimedOut"), "{}", lines[1]);
    assert!(lines[1].contains("wsman-code=2150858793"), "{}", lines[1]);
}

#[test]
fn inspect_json_gives_one_object_per_file_with_offsets_for_errors() {
    let dir = common::tempdir("cli");
    let bad = dir.join("bad.xml");
    let truncated = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>";
    std::fs::write(&bad, truncated).unwrap();
    let good =
        fixtures().join("OpenNMS__wsman/itests/src/main/resources/__files/pull-response.xml");
    let out = bin()
        .args(["inspect", "--json"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let objs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0]["ok"], true);
    assert_eq!(objs[0]["summary"]["operation"], "PullResponse");
    assert!(objs[0]["summary"]["items"].as_u64().unwrap() > 0);
    assert_eq!(objs[1]["ok"], false);
    assert_eq!(objs[1]["error"]["kind"], "parse");
    assert_eq!(
        objs[1]["error"]["offset"],
        truncated.len(),
        "the error is at the end of input"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn oversized_and_missing_files_fail_cleanly() {
    let good =
        fixtures().join("OpenNMS__wsman/itests/src/main/resources/__files/pull-response.xml");
    let out = bin()
        .args(["inspect", "--max-bytes", "64"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("exceeds the limit of 64 bytes"),
        "{}",
        stderr(&out)
    );
    let out = bin()
        .args(["inspect", "no/such/file.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(bin().output().unwrap().status.code(), Some(2));
    assert_eq!(
        bin().arg("inspect").output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(
        bin()
            .args(["inspect", "--max-bytes", "lots", "x"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    let help = bin().args(["inspect", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--json"));
    assert_eq!(bin().arg("--help").output().unwrap().status.code(), Some(0));
}
