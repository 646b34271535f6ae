//! Kerberos end to end against a real MIT KDC on loopback: independent clients (pywinrm through
//! pykerberos, pypsrp through pyspnego and python-gssapi) against `wsman-harness serve
//! --keytab`, with MS-WSMV encryption over plain HTTP.

mod common;

use common::Served;
use common::kdc::{self, Kdc};

const BIN: &str = env!("CARGO_BIN_EXE_wsman-harness");

/// `wsman-harness` with the realm's environment.
fn harness(kdc: &Kdc) -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    c.envs(kdc.env());
    c
}

/// `serve --keytab` with the realm's user and `extra` arguments; its log file.
fn serve(kdc: &Kdc, extra: &[&str]) -> (Served, std::path::PathBuf) {
    let log = kdc
        .dir
        .join(format!("serve-{}.log", uuid::Uuid::new_v4().simple()));
    let keytab = kdc.keytab_path().display().to_string();
    let user = format!("{}:not-the-kerberos-password", kdc::USER);
    let mut args = vec!["--keytab", &keytab, "--user", &user];
    args.extend_from_slice(extra);
    let stderr = std::fs::File::create(&log).unwrap().into();
    (Served::start(harness(kdc), &args, stderr), log)
}

/// Output of a finished command, stdout then stderr, for failure messages.
fn transcript(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `kinit` into the realm's credential cache (pywinrm's Kerberos takes tickets from there).
fn kinit(kdc: &Kdc) {
    use std::io::Write;
    let kinit = ["/usr/bin/kinit", "/usr/local/bin/kinit"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .expect("kinit (Debian krb5-user; scripts/test installs it)");
    let mut c = std::process::Command::new(kinit)
        .envs(kdc.env())
        .arg(kdc.principal())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "{}", kdc::PASSWORD).unwrap();
    assert!(c.wait().unwrap().success(), "kinit failed");
}

#[test]
fn pywinrm_and_pypsrp_over_kerberos_with_encryption() {
    let Some(kdc) = Kdc::start_or_skip() else {
        return;
    };
    kinit(&kdc);
    let (server, log) = serve(&kdc, &[]);
    let port = server.port(0);
    let env = kdc.env();
    let url = format!("http://localhost:{port}/wsman");
    let principal = kdc.principal();

    // pywinrm: raw Kerberos tokens under Negotiate, bodies sealed by Kerberos.
    let out = common::python_env(
        kdc::PASSWORD,
        "pywinrm_flows.py",
        &[&url, &principal, "unused", "kerberos", "always"],
        &env,
    );
    assert!(out.contains("pywinrm flows ok"));

    // pypsrp with auth=kerberos (the `Kerberos` scheme and the Kerberos protocol string) and
    // with auth=negotiate (SPNEGO around Kerberos).
    let port_s = port.to_string();
    for auth in ["kerberos", "negotiate"] {
        let out = common::python_env(
            kdc::PASSWORD,
            "pypsrp_flows.py",
            &["localhost", &port_s, &principal, kdc::PASSWORD, auth],
            &env,
        );
        assert!(out.contains("pypsrp flows ok"));
    }
    server.stop();

    // Each client really used Kerberos: the server logged Kerberos-authenticated requests only
    // (no NTLM fallback), and the KDC issued the service tickets (pywinrm asks for HTTP/, pypsrp for host/).
    let served = std::fs::read_to_string(&log).unwrap();
    assert!(
        served.contains("auth=\"kerberos\"") || served.contains("auth=kerberos"),
        "{served}"
    );
    assert!(
        !served.contains("ntlm"),
        "a client fell back to NTLM:\n{served}"
    );
    let kdc_log = kdc.log();
    for spn in ["HTTP/localhost", "host/localhost"] {
        assert!(kdc_log.contains(spn), "no ticket for {spn}:\n{kdc_log}");
    }
    assert!(
        !served.contains(kdc::PASSWORD),
        "the password reached the server log"
    );
}

/// Our client: the whole conformance catalogue over Kerberos (SPNEGO under Negotiate, sealed
/// bodies), and `winrm -a:kerberos` with tickets from the cache.
#[test]
fn check_and_winrm_over_kerberos() {
    let Some(kdc) = Kdc::start_or_skip() else {
        return;
    };
    let (server, log) = serve(&kdc, &[]);
    let port = server.port(0);
    let url = format!("http://localhost:{port}/wsman");
    // winrm -a:kerberos without -u (tickets from the cache): a listener for the port in use,
    // which the catalogue's listener case looks for, and a read back.
    kinit(&kdc);
    let winrm = |args: &[&str]| {
        let out = harness(&kdc)
            .arg("winrm")
            .args(args)
            .args(["-a:kerberos", &format!("-r:{url}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", transcript(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    winrm(&[
        "create",
        "winrm/config/Listener?Address=*+Transport=HTTP",
        &format!("@{{Port=\"{port}\"}}"),
    ]);
    let text = winrm(&["get", "winrm/config/service"]);
    assert!(text.contains("AllowUnencrypted = false"), "{text}");

    let out_dir = kdc.dir.join("report");
    let out = harness(&kdc)
        .env("WSMAN_PASSWORD", kdc::PASSWORD)
        .args([
            "check",
            "--target",
            &url,
            "--profile",
            "seed",
            "--auth",
            "kerberos",
        ])
        .arg("--user")
        .arg(kdc.principal())
        .args(["--report", "human", "--report", "json", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    let json = std::fs::read_to_string(out_dir.join("report.json")).unwrap();
    assert!(
        !json.contains(kdc::PASSWORD),
        "the password reached the report"
    );

    // A wrong password: exit 3 (auth failed), with the library's reason.
    let out = harness(&kdc)
        .env("WSMAN_PASSWORD", "wrong")
        .args(["check", "--target", &url, "--auth", "kerberos", "--user"])
        .arg(kdc.principal())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", transcript(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Kerberos"),
        "{}",
        transcript(&out)
    );

    server.stop();
    let served = std::fs::read_to_string(&log).unwrap();
    assert!(!served.contains("auth=\"ntlm\""), "{served}");
}

/// HTTPS: the ticket's channel binding (tls-server-end-point) checked per CbtHardeningLevel,
/// with pywinrm (binding sent or not) and our client (always sends it).
#[test]
fn kerberos_channel_binding_over_https() {
    let Some(kdc) = Kdc::start_or_skip() else {
        return;
    };
    kinit(&kdc);
    let https = |extra: &[&str]| {
        let mut args = vec!["--https-listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        serve(&kdc, &args).0
    };
    let env = kdc.env();
    let principal = kdc.principal();
    let pywinrm = |port: u16, cbt: &str, expect: &str| {
        let url = format!("https://localhost:{port}/wsman");
        common::python_env(
            kdc::PASSWORD,
            "pywinrm_https.py",
            &[&url, &principal, "unused", cbt, expect, "kerberos"],
            &env,
        );
    };
    let strict = https(&["--set", "service/auth/CbtHardeningLevel=Strict"]);
    let port = strict.port(1);
    pywinrm(port, "yes", "ok");
    pywinrm(port, "no", "refused");
    let out = harness(&kdc)
        .args([
            "winrm",
            "get",
            "winrm/config/service/auth",
            "-a:kerberos",
            "-skipCAcheck",
        ])
        .arg(format!("-r:https://localhost:{port}/wsman"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", transcript(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CbtHardeningLevel = Strict"), "{text}");
    strict.stop();

    let relaxed = https(&[]);
    pywinrm(relaxed.port(1), "no", "ok");
    pywinrm(relaxed.port(1), "yes", "ok");
}

/// Service/Auth/Kerberos=false: no `Kerberos` offer and tickets refused, even with a keytab;
/// garbage Kerberos tokens (raw, under either scheme, or inside SPNEGO) get a 401 and the
/// server stays up.
#[test]
fn kerberos_off_and_garbage_tokens_are_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use std::io::{Read, Write};
    let Some(kdc) = Kdc::start_or_skip() else {
        return;
    };
    let post = |port: u16, authorization: Option<&str>| -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "POST /wsman HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let (on, _) = serve(&kdc, &[]);
    let port = on.port(0);
    let offers = post(port, None);
    assert!(offers.starts_with("HTTP/1.1 401"), "{offers}");
    assert!(
        offers
            .to_ascii_lowercase()
            .contains("www-authenticate: kerberos"),
        "{offers}"
    );
    // A GSS token with the krb5 OID and a garbage body; the same inside a SPNEGO NegTokenInit.
    let raw = [
        &[0x60, 0x0f, 0x06, 0x09][..],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02],
        &[0x01, 0x00, 0xde, 0xad],
    ]
    .concat();
    let spnego =
        wsman_harness::auth::spnego::Token::Init(wsman_harness::auth::spnego::NegTokenInit {
            mech_types: vec![wsman_harness::auth::spnego::Oid::kerberos()],
            mech_token: Some(raw.clone()),
            ..Default::default()
        })
        .encode();
    for value in [
        format!("Kerberos {}", B64.encode(&raw)),
        format!("Negotiate {}", B64.encode(&raw)),
        format!("Negotiate {}", B64.encode(&spnego)),
        "Kerberos !!not-base64!!".to_owned(),
        format!("Kerberos {}", B64.encode([0x60u8; 3])),
    ] {
        let r = post(port, Some(&value));
        assert!(r.starts_with("HTTP/1.1 401"), "{value}: {r}");
    }
    assert!(
        post(port, None).starts_with("HTTP/1.1 401"),
        "the server is still up"
    );
    on.stop();

    let (off, _) = serve(&kdc, &["--set", "service/auth/Kerberos=false"]);
    let port = off.port(0);
    let offers = post(port, None);
    assert!(
        !offers
            .to_ascii_lowercase()
            .contains("www-authenticate: kerberos"),
        "{offers}"
    );
    let out = harness(&kdc)
        .env("WSMAN_PASSWORD", kdc::PASSWORD)
        .args(["winrm", "identify", "-a:kerberos"])
        .arg(format!("-r:http://localhost:{port}/wsman"))
        .arg(format!("-u:{}", kdc.principal()))
        .output()
        .unwrap();
    assert!(!out.status.success(), "Kerberos accepted while disabled");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the Kerberos ticket"), "{err}");
}

/// The load generator over Kerberos: every connection does its own handshake (tickets from the
/// KDC, AP-REP), then sealed config Gets; none may fail.
#[test]
fn bench_over_kerberos_with_encryption() {
    let Some(kdc) = Kdc::start_or_skip() else {
        return;
    };
    let (server, log) = serve(&kdc, &[]);
    let port = server.port(0);
    let json = kdc.dir.join("bench.json");
    let out = harness(&kdc)
        .env("WSMAN_PASSWORD", kdc::PASSWORD)
        .args([
            "bench",
            "--target",
            &format!("http://localhost:{port}/wsman"),
        ])
        .args(["--auth", "kerberos", "--user"])
        .arg(kdc.principal())
        .args(["--op", "get", "--connections", "3", "--duration", "700ms"])
        .args(["--warmup", "200ms", "--quiet", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", transcript(&out));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(r["auth"], "kerberos");
    let requests = r["requests"].as_u64().unwrap();
    assert!(requests > 0, "{r}");
    assert_eq!(r["ok"].as_u64().unwrap(), requests, "{r}");
    assert_eq!(r["errors"]["transport"], 0, "{r}");
    server.stop();
    let served = std::fs::read_to_string(&log).unwrap();
    assert!(
        served.contains("auth=\"kerberos\"") || served.contains("auth=kerberos"),
        "{served}"
    );
    assert!(!served.contains("ntlm"), "{served}");
    assert!(
        !std::fs::read_to_string(&json)
            .unwrap()
            .contains(kdc::PASSWORD)
    );
}
