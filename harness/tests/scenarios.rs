//! The scenario engine end to end: replay verdicts and exit codes, the recording proxy with
//! real clients (decryption, redaction, replay of what it recorded), the replay server with
//! real clients, and lint over every recording in `fixtures/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use wsman_harness::check::embedded::Embedded;
use wsman_harness::client::{Client, ClientOptions, Target};
use wsman_harness::scenario::import::{Layout, import};
use wsman_harness::scenario::lint::{Severity, lint};
use wsman_harness::scenario::record::secret_forms;
use wsman_harness::scenario::replay::replay;
use wsman_harness::scenario::serve::ReplayResponder;
use wsman_harness::scenario::{Scenario, load};
use wsman_harness::server::{Deviation, ServerConfig, Service, User};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsman-scenarios-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn client_for(e: &Embedded) -> Client {
    Client::new(ClientOptions::new(
        Target::parse(&e.url()).unwrap(),
        &e.user,
        &e.password,
    ))
    .unwrap()
}

fn replay_cli(paths: &[&Path], target: Option<&Embedded>, extra: &[&str]) -> (i32, String) {
    let mut c = bin();
    c.arg("replay").args(paths).args(extra);
    if let Some(e) = target {
        c.args(["--target", &e.url(), "--user", &e.user])
            .env("WSMAN_PASSWORD", &e.password);
    }
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn replay_passes_the_reference_corpus_and_explains_a_deviating_server() {
    let corpus = root().join("corpus/scenarios/reference");
    let (code, text) = replay_cli(&[&corpus], None, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("PASS  shell-stdin"), "{text}");
    // The same scenarios against a server that loses command output.
    let lossy = Embedded::start(&[Deviation::ShellOutputLost]).unwrap();
    let stdin = corpus.join("shell-stdin.scenario.toml");
    let (code, text) = replay_cli(&[&stdin], Some(&lossy), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL  shell-stdin"), "{text}");
    assert!(
        text.contains("at /s:Envelope/s:Body/rsp:ReceiveResponse"),
        "{text}"
    );
    assert!(
        text.contains("expected:") && text.contains("actual:"),
        "{text}"
    );
    // A server whose RelatesTo is wrong fails every step, with the reason named.
    let wrong = Embedded::start(&[Deviation::WrongRelatesTo]).unwrap();
    let (code, text) = replay_cli(&[&stdin], Some(&wrong), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("RelatesTo must repeat the MessageID sent in this step"),
        "{text}"
    );
}

#[test]
fn replay_exit_codes_follow_the_cli_contract() {
    let corpus = root().join("corpus/scenarios");
    let (code, text) = replay_cli(&[&corpus], None, &["--scenario", "no-such-*"]);
    assert_eq!(code, 4, "{text}");
    let dir = scratch("bad");
    let bad = dir.join("bad.scenario.toml");
    std::fs::write(
        &bad,
        "[scenario]\nname = \"bad\"\n\n[[step]]\nrequest = '''\n<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body></s:Envelope>\n'''\n",
    )
    .unwrap();
    let (code, text) = replay_cli(&[&bad], None, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("bad.scenario.toml:6:"),
        "position of the XML error: {text}"
    );
    let (code, text) = replay_cli(&[&dir.join("missing")], None, &[]);
    assert_eq!(code, 2, "{text}");
    let json = dir.join("r.json");
    let one = root().join("corpus/scenarios/reference/identify-unauthenticated.scenario.toml");
    let (code, text) = replay_cli(&[&one], None, &["--json", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["schema"], "wsman-harness/replay-report/1");
    assert_eq!(v["scenarios"][0]["steps"][0]["verdict"], "passed");
}

/// Every file a recording run wrote must be free of every form of the secrets.
fn assert_no_secrets(files: &[PathBuf], secrets: &[&str]) {
    assert!(!files.is_empty(), "nothing recorded");
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for s in secrets {
            for form in secret_forms(s) {
                assert!(
                    !text.contains(&form),
                    "{} holds a form of a secret: {form}",
                    f.display()
                );
            }
        }
    }
}

fn record_through(
    upstream: &str,
    out: &Path,
    account: Option<(&str, &str)>,
) -> wsman_harness::proxy::RunningProxy {
    let opts = wsman_harness::proxy::ProxyOptions {
        upstream: Target::parse(upstream).unwrap(),
        tls: None,
        out: out.to_path_buf(),
        name: "rec".into(),
        account: account.map(|(u, p)| (u.to_owned(), p.to_owned())),
        secrets: Vec::new(),
        timeout: std::time::Duration::from_secs(30),
    };
    wsman_harness::proxy::spawn(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), opts).unwrap()
}

#[test]
fn pywinrm_through_the_proxy_records_sealed_traffic_that_replays_green() {
    let server = Embedded::start(&[]).unwrap();
    let out = scratch("proxy-ntlm");
    let proxy = record_through(&server.url(), &out, Some((&server.user, &server.password)));
    common::python(
        &server.password,
        "pywinrm_flows.py",
        &[
            &proxy.url(),
            &server.user,
            &server.password,
            "ntlm",
            "always",
        ],
    );
    let files = proxy.stop();
    assert_eq!(
        files.len(),
        4,
        "one scenario per pywinrm connection: {files:?}"
    );
    assert_no_secrets(&files, &[&server.password]);
    let scenarios: Vec<Scenario> = files.iter().map(|f| load(f).unwrap()).collect();
    assert!(scenarios.iter().all(|s| s.steps.len() >= 5));
    // Green against a fresh reference server (new ids, same behaviour)...
    let fresh = Embedded::start(&[]).unwrap();
    for s in &scenarios {
        let r = replay(s, &mut client_for(&fresh));
        assert!(
            r.passed(),
            "{}",
            wsman_harness::cli::render_replay(&r, true)
        );
    }
    // ...and red, with the place named, against one that reports every exit code as 0.
    let liar = Embedded::start(&[Deviation::ShellExitCodeLost]).unwrap();
    let failures: Vec<String> = scenarios
        .iter()
        .map(|s| replay(s, &mut client_for(&liar)))
        .filter(|r| !r.passed())
        .map(|r| wsman_harness::cli::render_replay(&r, false))
        .collect();
    assert!(!failures.is_empty());
    assert!(
        failures.iter().any(|f| f.contains("rsp:ExitCode")),
        "{failures:#?}"
    );
}

#[test]
fn basic_credentials_and_echoed_passwords_never_reach_a_recording() {
    let mut config = ServerConfig::default();
    config.set("service/auth/Basic=true").unwrap();
    config.set("service/AllowUnencrypted=true").unwrap();
    let server = Embedded::start_with(config).unwrap();
    let out = scratch("proxy-basic");
    // No account given: the proxy learns the password from the Basic header.
    let proxy = record_through(&server.url(), &out, None);
    let script = concat!(
        "import winrm,sys\n",
        "s=winrm.Session(sys.argv[1],auth=(sys.argv[2],sys.argv[3]),transport='basic',message_encryption='never')\n",
        "r=s.run_cmd('echo',[sys.argv[3]])\n",
        "assert sys.argv[3].encode() in r.std_out, r.std_out\n",
        "print('echoed')"
    );
    let status = Command::new("python3")
        .args(["-c", script, &proxy.url(), &server.user, &server.password])
        .status()
        .unwrap();
    assert!(status.success());
    let files = proxy.stop();
    assert_no_secrets(&files, &[&server.password]);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.contains("[redacted]"),
        "the echoed password was replaced:\n{text}"
    );
}

#[test]
fn the_replay_server_answers_real_clients_from_recordings_they_did_not_make() {
    let windows = root().join("corpus/scenarios/windows");
    let scenarios: Vec<Scenario> = wsman_harness::scenario::file::discover(&[windows])
        .unwrap()
        .iter()
        .map(|f| load(f).unwrap())
        .collect();
    let mut config = ServerConfig::default();
    config.users.push(User::new("vagrant", "Replay-Passw0rd"));
    config.set("service/auth/Basic=true").unwrap();
    config.set("service/AllowUnencrypted=true").unwrap();
    let machine = config.machine.clone();
    let responder = Arc::new(ReplayResponder::new(scenarios, &machine));
    let running = wsman_harness::server::http::spawn(
        Service::with_responder(config, responder.clone()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let t = common::python(
        "Replay-Passw0rd",
        "pywinrm_replay.py",
        &[&running.url(), "vagrant", "Replay-Passw0rd"],
    );
    assert!(t.contains("pywinrm replay ok"));
    let port = running.addr.port().to_string();
    let t = common::python(
        "Replay-Passw0rd",
        "pypsrp_replay.py",
        &["127.0.0.1", &port, "vagrant", "Replay-Passw0rd"],
    );
    assert!(
        t.contains("Host Name . . . . . . . . . . . . : Server2016"),
        "{t}"
    );
    let (served, unmatched) = responder.counts();
    assert!(
        served >= 10 && unmatched == 0,
        "{served} served, {unmatched} unmatched"
    );
    // A request no recording answers gets a SOAP fault, counted as unmatched.
    let mut c = Client::new({
        let mut o = ClientOptions::new(
            Target::parse(&running.url()).unwrap(),
            "vagrant",
            "Replay-Passw0rd",
        );
        o.auth = wsman_harness::client::AuthMethod::Basic;
        o
    })
    .unwrap();
    let enumerate = std::fs::read_to_string(
        root().join("corpus/scenarios/reference/enumeration-release.scenario.toml"),
    )
    .unwrap();
    let s = wsman_harness::scenario::file::parse(&enumerate, "e", None).unwrap();
    let r = c.soap(s.steps[0].request.clone().into_bytes()).unwrap();
    assert_eq!(r.status, 500);
    let fault = r.envelope().unwrap();
    assert!(fault.fault().is_some());
    assert!(String::from_utf8_lossy(&r.body).contains("no recorded step answers"));
    assert_eq!(responder.counts().1, 1);
}

#[test]
fn lint_finds_no_false_violation_in_the_fixtures() {
    let rec = common::recordings();
    let sources: &[(Layout, &str)] = &[
        (Layout::Pywinrm, "diyan__pywinrm/tests/test_xmls"),
        (Layout::Winrm4j, "cloudsoft__winrm4j"),
        (Layout::Pairs, "diyan__pywinrm/extracted-from-test-source"),
        (Layout::Pairs, "WinRb__WinRM"),
        (Layout::Pairs, "masterzen__winrm"),
        (Layout::Pairs, "microsoft__omi"),
        (Layout::Pairs, "OpenNMS__wsman"),
        (Layout::Pairs, "openstack__python-dracclient"),
        (Layout::Pairs, "open-amt-cloud-toolkit__go-wsman-messages"),
        (Layout::Pairs, "Openwsman__openwsman"),
    ];
    let mut exchanges = 0;
    let mut violations = Vec::new();
    for (layout, dir) in sources {
        let imported = import(*layout, &rec.join(dir)).unwrap();
        for s in &imported.scenarios {
            exchanges += s.steps.len();
            for f in lint(s) {
                if f.severity == Severity::Violation {
                    violations.push(format!(
                        "{dir}: {} step {}: {} {}",
                        f.scenario, f.step, f.rule, f.message
                    ));
                }
            }
        }
    }
    assert!(exchanges > 450, "{exchanges}");
    // What remains is in data that is wrong on purpose (their LICENSE-NOTEs say so): pywinrm's
    // tests of malformed faults (test_exceptions: an "Unknown" code, no Reason) and openwsman's
    // hand-written negative requests and EPR/filter samples without addressing headers. Real
    // recordings produce none.
    let on_purpose = |v: &String| {
        (v.contains("test_exceptions") && v.contains("fault-structure"))
            || (v.starts_with("Openwsman__openwsman")
                && v.contains("required-headers")
                && ["tests-client-requests", "tests-epr", "tests-filter"]
                    .iter()
                    .any(|d| v.contains(d)))
    };
    let false_ones: Vec<_> = violations.iter().filter(|v| !on_purpose(v)).collect();
    assert!(false_ones.is_empty(), "{false_ones:#?}");
    // The negative cases are caught: the missing ReplyTo and the unknown fault code.
    assert!(
        violations.iter().any(|v| v.contains("lacks a:ReplyTo")),
        "{violations:#?}"
    );
    assert!(
        violations.iter().any(|v| v.contains("not a SOAP 1.2 code")),
        "{violations:#?}"
    );
    // The corpus itself is clean.
    let out = bin()
        .args(["lint", "--quiet"])
        .arg(root().join("corpus/scenarios"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
