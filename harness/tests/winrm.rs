//! `wsman-harness winrm` against the reference server: every verb, the TrustedHosts round trip
//! that survives a restart, listener create/enumerate/delete, quickconfig (HTTP and HTTPS, with
//! and without the question), values refused before sending, faults printed as the Windows tool
//! does, TLS name checks, and snapshots of the text layout.

mod common;

use std::io::Cursor;
use std::process::Command;

use wsman_harness::cli::winrm::run_with;
use wsman_harness::config::{Config, Profile};
use wsman_harness::server::http::{Running, spawn, spawn_tls};
use wsman_harness::server::tls::Tls;
use wsman_harness::server::{ServerCertificate, ServerConfig, Service, User};

const USER: &str = "admin";
const PASSWORD: &str = "Winrm-Passw0rd!";

fn config(model: Config) -> ServerConfig {
    let mut c = ServerConfig::new(model);
    c.users.push(User::new(USER, PASSWORD));
    c
}

/// A fresh seed-profile server without listeners (as before quickconfig).
fn start() -> Running {
    spawn(
        Service::new(config(Config::new(Profile::Seed))),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
}

struct Run {
    code: u8,
    out: String,
    err: String,
}

/// Runs `winrm ARGS -r:URL -u:admin -p:...` in process.
fn winrm_with(server: &Running, args: &[&str], stdin: &str) -> Run {
    let mut argv: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    argv.push(format!("-r:{}", server.url()));
    argv.push(format!("-u:{USER}"));
    argv.push(format!("-p:{PASSWORD}"));
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run_with(
        &argv,
        &mut Cursor::new(stdin.as_bytes().to_vec()),
        &mut out,
        &mut err,
    );
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

fn winrm(server: &Running, args: &[&str]) -> Run {
    winrm_with(server, args, "")
}

fn ok(r: Run) -> String {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.out, r.err);
    r.out
}

#[test]
fn get_prints_the_seed_defaults_like_the_windows_tool() {
    let s = start();
    let out = ok(winrm(&s, &["get", "winrm/config"]));
    insta::assert_snapshot!("get_winrm_config_seed", out);
    let json: serde_json::Value =
        serde_json::from_str(&ok(winrm(&s, &["get", "winrm/config", "--json"]))).unwrap();
    assert_eq!(json["verb"], "get");
    assert_eq!(json["items"][0]["Config"]["MaxEnvelopeSizekb"], "150");
    assert_eq!(
        json["items"][0]["Config"]["Service"]["Auth"]["CbtHardeningLevel"],
        "Relaxed"
    );
    let pretty = ok(winrm(&s, &["g", "winrm/config/winrs", "-format:#pretty"]));
    assert!(pretty.starts_with("<cfg:Winrs xmlns:cfg="), "{pretty}");
    assert!(pretty.contains("\n  <cfg:MaxShellsPerUser>5</cfg:MaxShellsPerUser>"));
    let xml = ok(winrm(&s, &["get", "winrm/config/winrs", "-format:xml"]));
    assert_eq!(xml.lines().count(), 1, "{xml}");
}

#[test]
fn trusted_hosts_round_trip_survives_a_restart() {
    let dir = common::tempdir("winrm-store");
    let store = dir.join("winrm-config.json");
    let mut c = config(Config::new(Profile::Seed));
    c.store = Some(store.clone());
    let s = spawn(Service::new(c), "127.0.0.1:0".parse().unwrap()).unwrap();
    let value = "[0:0:0:0:0:0:0:0],*.fabrikam.com";
    let hash = format!("@{{TrustedHosts =\"{value}\"}}");
    let set = ok(winrm(&s, &["set", "winrm/config/client", &hash]));
    assert!(set.starts_with("Client\n"), "{set}");
    assert!(
        set.contains(&format!("    TrustedHosts = {value}\n")),
        "{set}"
    );
    let got = ok(winrm(&s, &["get", "winrm/config/client"]));
    assert!(got.contains(&format!("TrustedHosts = {value}")), "{got}");
    s.stop();
    // A new server from the file the first one wrote.
    let model = wsman_harness::config::load(&store).unwrap();
    let s = spawn(Service::new(config(model)), "127.0.0.1:0".parse().unwrap()).unwrap();
    let got = ok(winrm(&s, &["get", "winrm/config/client"]));
    assert!(got.contains(&format!("TrustedHosts = {value}")), "{got}");
    // Restore puts every setting back.
    let restored = ok(winrm(&s, &["invoke", "Restore", "winrm/config", "@{}"]));
    assert_eq!(restored, "Restore_OUTPUT\n");
    let got = ok(winrm(&s, &["get", "winrm/config/client"]));
    assert!(got.contains("    TrustedHosts\n"), "{got}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_and_read_only_values_are_refused_before_sending() {
    let s = start();
    for (resource, hash, want) in [
        (
            "winrm/config/client",
            "@{TrustedHosts=\"[::1\"}",
            "an IPv6 literal must end with ']'",
        ),
        (
            "winrm/config",
            "@{MaxEnvelopeSizekb=\"1039441\"}",
            "outside 32..=1039440",
        ),
        (
            "winrm/config/winrs",
            "@{IdleTimeout=\"59999\"}",
            "IdleTimeout",
        ),
        (
            "winrm/config/winrs",
            "@{MaxShellRunTime=\"1\"}",
            "read-only",
        ),
        (
            "winrm/config/service",
            "@{NoSuchThing=\"1\"}",
            "no such setting",
        ),
        (
            "winrm/config/listener?Address=*+Transport=HTTP",
            "@{Port=\"0\"}",
            "1..=65535",
        ),
    ] {
        let r = winrm(&s, &["set", resource, hash]);
        assert_eq!(r.code, 2, "{resource} {hash}: {}", r.err);
        assert!(r.err.contains(want), "{resource} {hash}: {}", r.err);
        assert!(
            r.err.contains("nothing was sent") && r.err.contains('^'),
            "{}",
            r.err
        );
    }
    // Nothing reached the service: the settings are unchanged.
    let got = ok(winrm(&s, &["get", "winrm/config"]));
    assert!(got.contains("    TrustedHosts\n") && got.contains("MaxEnvelopeSizekb = 150"));
    // A malformed hash names the position.
    let r = winrm(
        &s,
        &["set", "winrm/config/client", "@{TrustedHosts=\"x\";}x"],
    );
    assert_eq!(r.code, 2);
    assert!(r.err.contains("nothing after the closing"), "{}", r.err);
}

#[test]
fn listeners_are_created_enumerated_and_deleted() {
    let s = start();
    let listener = "winrm/config/Listener?Address=IP:127.0.0.1+Transport=HTTP";
    let created = ok(winrm(
        &s,
        &["create", listener, "@{Port=\"6001\";Hostname=\"h1\"}"],
    ));
    insta::assert_snapshot!("create_listener", created);
    let r = winrm(&s, &["create", listener, "@{Port=\"6001\"}"]);
    assert_eq!(r.code, 1, "a second Create faults");
    assert!(r.err.contains("Error number:"), "{}", r.err);
    ok(winrm(&s, &["qc", "-force"]));
    let listed = ok(winrm(&s, &["e", "winrm/config/listener"]));
    insta::assert_snapshot!("enumerate_listeners", listed);
    let json: serde_json::Value = serde_json::from_str(&ok(winrm(
        &s,
        &["enumerate", "winrm/config/listener", "--json"],
    )))
    .unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["Listener"]["Port"], "6001");
    assert_eq!(
        items[0]["Listener"]["ListeningOn"], "127.0.0.1",
        "one address: a string, not a list"
    );
    assert_eq!(
        items[1]["Listener"]["ListeningOn"],
        serde_json::json!(["127.0.0.1", "::1"])
    );
    let one = ok(winrm(&s, &["get", listener]));
    assert!(one.contains("    Hostname = h1\n"), "{one}");
    let changed = ok(winrm(&s, &["set", listener, "@{Enabled=\"false\"}"]));
    assert!(changed.contains("    Enabled = false\n"), "{changed}");
    assert_eq!(ok(winrm(&s, &["delete", listener])), "");
    let r = winrm(&s, &["get", listener]);
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains("Error number:  -2144108544 0x80338000"),
        "{}",
        r.err
    );
    let listed = ok(winrm(&s, &["e", "winrm/config/listener"]));
    assert_eq!(listed.matches("Listener\n").count(), 1, "{listed}");
}

#[test]
fn enumeration_pulls_every_item_of_a_large_collection() {
    let mut c = config(Config::new(Profile::Seed));
    c.collection_size = 250;
    let s = spawn(Service::new(c), "127.0.0.1:0".parse().unwrap()).unwrap();
    let out = ok(winrm(&s, &["e", "wmicimv2/Win32_Process"]));
    assert_eq!(out.matches("Win32_Process\n").count(), 250);
    assert!(out.contains("    Name = process249.exe\n"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(winrm(&s, &["e", "wmicimv2/Win32_Process", "--json"]))).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 250);
}

#[test]
fn quickconfig_asks_then_creates_the_listener_once() {
    let s = start();
    let r = winrm_with(&s, &["quickconfig"], "n\n");
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("Make these changes [y/n]?"), "{}", r.err);
    assert!(r.err.contains("no changes made"), "{}", r.err);
    assert_eq!(ok(winrm(&s, &["e", "winrm/config/listener"])), "");
    let done = ok(winrm_with(&s, &["qc"], "y\n"));
    assert_eq!(
        done,
        "WinRM has been updated for remote management.\n\nCreated a WinRM listener on http://* to accept WS-Man requests to any IP on this machine.\n"
    );
    let again = ok(winrm(&s, &["qc"]));
    assert!(again.starts_with("WinRM is already set up"), "{again}");
    let listed = ok(winrm(&s, &["e", "winrm/config/listener"]));
    assert!(listed.contains("    Port = 5985\n"), "{listed}");
    // HTTPS needs a certificate the plain server does not have.
    let r = winrm(&s, &["qc", "-transport:https", "-force"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("no server certificate"), "{}", r.err);
}

fn start_https(tls: Tls, hostname: &str) -> Running {
    let mut c = config(Config::new(Profile::Seed));
    c.certificate = Some(ServerCertificate {
        thumbprint: tls.thumbprint.clone(),
        hostname: hostname.into(),
    });
    spawn_tls(Service::new(c), "127.0.0.1:0".parse().unwrap(), tls).unwrap()
}

#[test]
fn quickconfig_over_https_puts_the_certificate_on_the_listener() {
    let tls = Tls::self_signed().unwrap();
    let thumb = tls.thumbprint.clone();
    let s = start_https(tls, "localhost");
    let r = winrm(
        &s,
        &["qc", "-transport:https", "-force", "-skipCAcheck", "--json"],
    );
    let json: serde_json::Value = serde_json::from_str(&ok(r)).unwrap();
    assert_eq!(json["changed"], true);
    assert_eq!(json["transport"], "https");
    let got = ok(winrm(
        &s,
        &[
            "get",
            "winrm/config/listener?Address=*+Transport=HTTPS",
            "-skipCAcheck",
        ],
    ));
    assert!(
        got.contains(&format!("CertificateThumbprint = {thumb}")),
        "{got}"
    );
    assert!(
        got.contains("Port = 5986") && got.contains("Hostname = localhost"),
        "{got}"
    );
    let r = winrm(&s, &["get", "winrm/config"]);
    assert_eq!(
        r.code, 2,
        "HTTPS without -cacert or -skipCAcheck is refused"
    );
    assert!(r.err.contains("-cacert"), "{}", r.err);
}

#[test]
fn skip_cn_check_accepts_another_name_but_still_checks_the_chain() {
    let dir = common::tempdir("winrm-tls");
    let ck = rcgen::generate_simple_self_signed(vec!["other.example".to_owned()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let s = start_https(Tls::from_pem(&cert, &key).unwrap(), "other.example");
    let ca = format!("-cacert:{}", cert.display());
    let r = winrm(&s, &["id", &ca]);
    assert_eq!(r.code, 3, "the name does not match: {}", r.err);
    assert!(r.err.contains("TLS"), "{}", r.err);
    let out = ok(winrm(&s, &["id", &ca, "-skipCNcheck"]));
    assert!(out.starts_with("IdentifyResponse\n"), "{out}");
    // A different, untrusted root still fails with -skipCNcheck.
    let other = rcgen::generate_simple_self_signed(vec!["x.example".to_owned()]).unwrap();
    let other_pem = dir.join("other.pem");
    std::fs::write(&other_pem, other.cert.pem()).unwrap();
    let r = winrm(
        &s,
        &[
            "id",
            &format!("-cacert:{}", other_pem.display()),
            "-skipCNcheck",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.err);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn identify_with_and_without_credentials() {
    let s = start();
    let authed = ok(winrm(&s, &["identify"]));
    assert!(authed.contains("    ProductVendor = "), "{authed}");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv: Vec<String> = ["id", "-a:none", &format!("-r:{}", s.url())]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let code = run_with(&argv, &mut Cursor::new(Vec::new()), &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let anon = String::from_utf8(out).unwrap();
    assert!(anon.starts_with("IdentifyResponse\n"), "{anon}");
    let argv: Vec<String> = [
        "get",
        "winrm/config",
        &format!("-r:{}", s.url()),
        "-u:admin",
        "-p:wrong-password",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run_with(&argv, &mut Cursor::new(Vec::new()), &mut out, &mut err);
    assert_eq!(code, 3);
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(
        !err.contains("wrong-password"),
        "the password is never printed"
    );
}

#[test]
fn help_config_lists_the_seed_settings() {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = vec!["help".to_owned(), "config".to_owned()];
    assert_eq!(
        run_with(&argv, &mut Cursor::new(Vec::new()), &mut out, &mut err),
        0
    );
    insta::assert_snapshot!(
        "help_config",
        String::from_utf8(std::mem::take(&mut out)).unwrap()
    );
    let argv = vec!["help".to_owned(), "bogus".to_owned()];
    assert_eq!(
        run_with(&argv, &mut Cursor::new(Vec::new()), &mut out, &mut err),
        2
    );
}

#[test]
fn the_binary_reads_windows_switches() {
    let s = start();
    let out = Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
        .args([
            "winrm",
            "get",
            "winrm/config/service/auth",
            &format!("-r:{}", s.url()),
            "-u:admin",
            "-format:text",
        ])
        .env("WSMAN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Auth\n    Basic = false\n"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
        .args(["winrm", "get", "winrm/config", "-bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown switch -bogus"));
}
