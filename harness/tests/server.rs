//! The reference server over real sockets: HTTP hygiene, authentication policy, and real clients
//! (pywinrm, pypsrp) completing cmd flows over Basic and over NTLM with message encryption.
//! The Python clients are installed by `scripts/test` (and `.ci/run`); their absence fails.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use wsman_harness::envelope::{Body, parse};
use wsman_harness::server::http::{Running, spawn};
use wsman_harness::server::{ServerConfig, Service, User};

const PASSWORD: &str = "Harness-Passw0rd!";

fn start(sets: &[&str]) -> Running {
    let mut config = ServerConfig {
        users: vec![User::new("vagrant", PASSWORD)],
        ..ServerConfig::default()
    };
    for s in sets {
        config.set(s).unwrap();
    }
    spawn(Service::new(config), "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// One request on a fresh connection; returns (status, raw header block, body).
fn http(server: &Running, raw: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        head,
        out.get(split + 4..).unwrap_or_default().to_vec(),
    )
}

fn post(path: &str, extra: &str, body: &[u8]) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    )
}

const IDENTIFY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;

#[test]
fn http_hygiene_and_auth_policy() {
    let server = start(&[]);
    let (status, head, _) = http(
        &server,
        "GET /wsman HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 405);
    assert!(head.to_ascii_lowercase().contains("allow: post"), "{head}");
    assert_eq!(
        http(&server, &post("/other", "", IDENTIFY), IDENTIFY).0,
        404
    );
    // No credentials: 401 offering Negotiate only (Basic is off by default).
    let (status, head, _) = http(&server, &post("/wsman", "", IDENTIFY), IDENTIFY);
    assert_eq!(status, 401);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("www-authenticate: negotiate"), "{head}");
    assert!(!head.contains("basic"), "{head}");
    // Basic refused by default, even with the right password.
    let basic = format!(
        "Authorization: Basic {}\r\n",
        base64_of(&format!("vagrant:{PASSWORD}"))
    );
    assert_eq!(
        http(&server, &post("/wsman", &basic, IDENTIFY), IDENTIFY).0,
        401
    );
    // Requests over MaxEnvelopeSizekb are refused at the HTTP level.
    let big = format!(
        "POST /wsman HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        151 * 1024 + 2048
    );
    assert_eq!(http(&server, &big, b"").0, 413);
}

#[test]
fn unauthenticated_identify_needs_its_header_and_hides_the_os_version() {
    let server = start(&[]);
    let r = unauthenticated_identify(&server);
    assert_eq!(r.product_vendor.as_deref(), Some("Microsoft Corporation"));
    assert_eq!(
        r.product_version.as_deref(),
        Some("OS: 0.0.0 SP: 0.0 Stack: 3.0")
    );
    assert!(r.security_profiles.is_none());
}

/// Identify with `WSMANIDENTIFY: unauthenticated` and no credentials; the answer must be a 200
/// IdentifyResponse.
fn unauthenticated_identify(server: &Running) -> wsman_harness::envelope::IdentifyResponse {
    let (status, _, body) = http(
        server,
        &post("/wsman", "WSMANIDENTIFY: unauthenticated\r\n", IDENTIFY),
        IDENTIFY,
    );
    assert_eq!(status, 200);
    match parse(&body).unwrap().body {
        Body::IdentifyResponse(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn basic_with_unencrypted_allowed_serves_authenticated_identify() {
    let server = start(&["service/auth/Basic=true", "service/AllowUnencrypted=true"]);
    let basic = format!(
        "Authorization: Basic {}\r\n",
        base64_of(&format!("vagrant:{PASSWORD}"))
    );
    let (status, _, body) = http(&server, &post("/wsman", &basic, IDENTIFY), IDENTIFY);
    assert_eq!(status, 200);
    let env = parse(&body).unwrap();
    let Body::IdentifyResponse(r) = env.body else {
        panic!()
    };
    assert!(
        r.security_profiles
            .unwrap()
            .iter()
            .any(|p| p.ends_with("http/basic"))
    );
    let wrong = format!("Authorization: Basic {}\r\n", base64_of("vagrant:nope"));
    assert_eq!(
        http(&server, &post("/wsman", &wrong, IDENTIFY), IDENTIFY).0,
        401
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn pywinrm_runs_commands_over_basic_when_the_permissive_flags_are_set() {
    let server = start(&["service/auth/Basic=true", "service/AllowUnencrypted=true"]);
    common::python(
        PASSWORD,
        "pywinrm_flows.py",
        &[&server.url(), "vagrant", PASSWORD, "basic", "never"],
    );
    assert_eq!(server.service.open_shells(), 0, "pywinrm closes its shells");
}

#[test]
fn pywinrm_runs_commands_over_ntlm_with_message_encryption_under_the_seed_defaults() {
    let server = start(&[]);
    common::python(
        PASSWORD,
        "pywinrm_flows.py",
        &[&server.url(), "vagrant", PASSWORD, "ntlm", "always"],
    );
}

#[test]
fn pypsrp_runs_processes_over_negotiate_with_encryption() {
    let server = start(&[]);
    let port = server.addr.port().to_string();
    common::python(
        PASSWORD,
        "pypsrp_flows.py",
        &["127.0.0.1", &port, "vagrant", PASSWORD],
    );
    assert_eq!(server.service.open_shells(), 0, "pypsrp closes its shells");
}

/// A `kill -9` during a stream of Puts leaves the old or the new configuration file, never a
/// torn one (the store writes a temporary file and renames it).
#[cfg(unix)]
#[test]
fn killed_mid_put_the_config_file_is_old_or_new() {
    use std::process::Stdio;
    let dir = std::env::temp_dir().join(format!("wsman-harness-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("winrm.toml");
    let user = format!("vagrant:{PASSWORD}");
    let config = file.display().to_string();
    let args = [
        "--user",
        &user,
        "--set",
        "service/auth/Basic=true",
        "--set",
        "service/AllowUnencrypted=true",
        "--config",
        &config,
    ];
    let (mut child, url) =
        common::spawn_serve(env!("CARGO_BIN_EXE_wsman-harness"), &args, Stdio::null());
    let addr: std::net::SocketAddr = common::authority(&url).parse().unwrap();
    let put = move |i: usize| {
        let body = format!(
            "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Put</a:Action><a:MessageID>uuid:{i:08}-0000-0000-0000-000000000000</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/config/client</w:ResourceURI></s:Header><s:Body><cfg:Client xmlns:cfg=\"http://schemas.microsoft.com/wbem/wsman/1/config\"><cfg:TrustedHosts>host{i}</cfg:TrustedHosts></cfg:Client></s:Body></s:Envelope>"
        );
        let auth = format!(
            "Authorization: Basic {}\r\n",
            base64_of(&format!("vagrant:{PASSWORD}"))
        );
        let mut s = TcpStream::connect(addr).ok()?;
        let head = format!(
            "POST /wsman HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: {}\r\n{auth}\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).ok()?;
        s.write_all(body.as_bytes()).ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.starts_with("HTTP/1.1 200").then_some(())
    };
    for i in 0..20 {
        put(i).expect("Puts succeed while the server runs");
    }
    let writer = std::thread::spawn(move || {
        let mut i = 20;
        while put(i).is_some() {
            i += 1;
        }
        i
    });
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL: no chance to clean up.
    let _ = child.wait();
    let last = writer.join().unwrap();
    assert!(
        last > 20,
        "Puts were still under way when the server was killed"
    );
    let config = wsman_harness::config::load(&file).expect("the file is whole after a kill -9");
    let hosts = config.get("Client/TrustedHosts").unwrap().to_owned();
    let n: usize = hosts.trim_start_matches("host").parse().unwrap();
    assert!(n + 1 >= 20 && n <= last, "{hosts} after {last} Puts");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn start_tls(sets: &[&str]) -> (Running, String) {
    let mut config = ServerConfig {
        users: vec![User::new("vagrant", PASSWORD)],
        ..ServerConfig::default()
    };
    for s in sets {
        config.set(s).unwrap();
    }
    let tls = wsman_harness::server::tls::Tls::self_signed().unwrap();
    let thumb = tls.thumbprint.clone();
    let r = wsman_harness::server::http::spawn_tls(
        Service::new(config),
        "127.0.0.1:0".parse().unwrap(),
        tls,
    )
    .unwrap();
    (r, thumb)
}

#[test]
fn https_with_channel_binding_under_each_hardening_level() {
    let (strict, thumb) = start_tls(&["service/auth/CbtHardeningLevel=Strict"]);
    assert_eq!(thumb.len(), 40);
    assert!(thumb.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(strict.url().starts_with("https://"));
    common::python(
        PASSWORD,
        "pywinrm_https.py",
        &[&strict.url(), "vagrant", PASSWORD, "yes", "ok"],
    );
    common::python(
        PASSWORD,
        "pywinrm_https.py",
        &[&strict.url(), "vagrant", PASSWORD, "no", "refused"],
    );
    let (relaxed, _) = start_tls(&[]);
    common::python(
        PASSWORD,
        "pywinrm_https.py",
        &[&relaxed.url(), "vagrant", PASSWORD, "no", "ok"],
    );
    common::python(
        PASSWORD,
        "pywinrm_https.py",
        &[&relaxed.url(), "vagrant", PASSWORD, "yes", "ok"],
    );
}

/// The request log names requests, never credentials, tokens or bodies.
#[test]
fn the_request_log_carries_no_secrets() {
    use std::process::Stdio;
    let user = format!("vagrant:{PASSWORD}");
    let (mut child, url) = common::spawn_serve(
        env!("CARGO_BIN_EXE_wsman-harness"),
        &["--user", &user],
        Stdio::piped(),
    );
    common::python(
        PASSWORD,
        "pywinrm_flows.py",
        &[&url, "vagrant", PASSWORD, "ntlm", "always"],
    );
    child.kill().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let _ = child.wait();
    assert!(
        log.lines()
            .filter(|l| l.contains("request") && l.contains("status=200"))
            .count()
            >= 5,
        "{log}"
    );
    for secret in [
        PASSWORD,
        "Authorization",
        "TlRMTVNT",
        "Negotiate ",
        "hello from pywinrm",
        "aGVsbG8",
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}");
    }
}

/// A 1000-item optimized enumeration leaves the server as the parts it was written in (the
/// items spliced from the cached collection): the client still gets one body of exactly the
/// declared Content-Length, the same text the service gives in process.
#[test]
fn a_large_enumeration_goes_out_whole_with_its_content_length() {
    let sets = [
        "service/auth/Basic=true",
        "service/AllowUnencrypted=true",
        "MaxEnvelopeSizekb=1024",
    ];
    let mut config = ServerConfig {
        users: vec![User::new("vagrant", PASSWORD)],
        collection_size: 1000,
        ..ServerConfig::default()
    };
    for s in sets {
        config.set(s).unwrap();
    }
    let in_process = Service::new(config.clone());
    let server = spawn(Service::new(config), "127.0.0.1:0".parse().unwrap()).unwrap();
    let enumerate = format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action><a:MessageID>uuid:0B1E4F6A-2C3D-4E5F-8A9B-0C1D2E3F4A5B</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>{}</w:ResourceURI><w:MaxEnvelopeSize>1048576</w:MaxEnvelopeSize></s:Header><s:Body><n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>1000</w:MaxElements></n:Enumerate></s:Body></s:Envelope>"#,
        wsman_harness::server::PROCESS_URI
    );
    let auth = format!(
        "Authorization: Basic {}\r\n",
        base64_of(&format!("vagrant:{PASSWORD}"))
    );
    let (status, head, body) = http(
        &server,
        &post("/wsman", &auth, enumerate.as_bytes()),
        enumerate.as_bytes(),
    );
    assert_eq!(status, 200, "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no Content-Length: {head}"));
    assert_eq!(declared, body.len());
    assert!(body.len() > 300_000, "{}", body.len());
    let limits = wsman_harness::xml::Limits {
        max_bytes: 64 << 20,
        ..Default::default()
    };
    let over_http = wsman_harness::envelope::parse_with(&body, limits).unwrap();
    let ctx = wsman_harness::server::RequestContext {
        user: Some("vagrant".into()),
        deadline_passed: true,
    };
    let local = in_process.handle(enumerate.as_bytes(), &ctx);
    let local = wsman_harness::envelope::parse_with(local.body.as_bytes(), limits).unwrap();
    let (Body::EnumerateResponse(a), Body::EnumerateResponse(b)) = (over_http.body, local.body)
    else {
        panic!("not two EnumerateResponses")
    };
    assert_eq!(a.0.item_count(), 1000);
    assert_eq!(a, b, "the same items over HTTP as in process");
}

/// Requests on one kept-alive connection; each answer read by its Content-Length.
struct Conn(std::io::BufReader<TcpStream>);

impl Conn {
    fn open(server: &Running) -> Self {
        let s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        Self(std::io::BufReader::new(s))
    }

    fn send(&mut self, extra: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use std::io::BufRead;
        let head = format!(
            "POST /wsman HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        );
        let s = self.0.get_mut();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let (mut status, mut len) = (0, 0);
        loop {
            let mut line = String::new();
            self.0.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if line.starts_with("HTTP/1.1 ") {
                status = line[9..12].parse().unwrap();
            } else if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        self.0.read_exact(&mut body).unwrap();
        (status, body)
    }
}

#[test]
fn a_basic_header_reused_on_a_connection_is_still_judged_each_time() {
    let server = start(&["service/auth/Basic=true", "service/AllowUnencrypted=true"]);
    let basic = format!(
        "Authorization: Basic {}\r\n",
        base64_of(&format!("vagrant:{PASSWORD}"))
    );
    let wrong = format!("Authorization: Basic {}\r\n", base64_of("vagrant:nope"));
    let mut conn = Conn::open(&server);
    // The second request with the same header takes the verified path.
    for _ in 0..2 {
        let (status, body) = conn.send(&basic, IDENTIFY);
        assert_eq!(status, 200);
        assert!(matches!(
            parse(&body).unwrap().body,
            Body::IdentifyResponse(_)
        ));
    }
    assert_eq!(conn.send(&wrong, IDENTIFY).0, 401);
    assert_eq!(
        conn.send("", IDENTIFY).0,
        401,
        "Basic does not authenticate the connection"
    );
    assert_eq!(conn.send(&basic, IDENTIFY).0, 200);
    // Once unencrypted traffic is refused, the header verified before no longer passes.
    let put = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Put</a:Action><a:MessageID>uuid:00000001-0000-0000-0000-000000000000</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/config/service</w:ResourceURI></s:Header><s:Body><cfg:Service xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config"><cfg:AllowUnencrypted>false</cfg:AllowUnencrypted></cfg:Service></s:Body></s:Envelope>"#;
    let (status, body) = conn.send(&basic, put);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(!server.service.config().allow_unencrypted());
    assert_eq!(conn.send(&basic, IDENTIFY).0, 401);
}

/// The Identify answer is written once per configuration version and per kind of request:
/// an authenticated and an unauthenticated one never share it, and a Put that changes what it
/// lists is seen by the next Identify.
#[test]
fn identify_answers_follow_the_configuration_and_the_kind_of_request() {
    let server = start(&["service/auth/Basic=true", "service/AllowUnencrypted=true"]);
    let basic = format!(
        "Authorization: Basic {}\r\n",
        base64_of(&format!("vagrant:{PASSWORD}"))
    );
    let mut conn = Conn::open(&server);
    let profiles = |conn: &mut Conn| {
        let (status, body) = conn.send(&basic, IDENTIFY);
        assert_eq!(status, 200);
        match parse(&body).unwrap().body {
            Body::IdentifyResponse(r) => r.security_profiles.unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    };
    let unauthenticated = || {
        let r = unauthenticated_identify(&server);
        (r.product_version, r.security_profiles)
    };
    let before = profiles(&mut conn);
    assert!(
        before.iter().any(|p| p.ends_with("/http/spnego-kerberos")),
        "{before:?}"
    );
    assert_eq!(
        unauthenticated(),
        (Some("OS: 0.0.0 SP: 0.0 Stack: 3.0".into()), None)
    );
    let put = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Put</a:Action><a:MessageID>uuid:00000002-0000-0000-0000-000000000000</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/config/service/auth</w:ResourceURI></s:Header><s:Body><cfg:Auth xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config"><cfg:Negotiate>false</cfg:Negotiate></cfg:Auth></s:Body></s:Envelope>"#;
    let (status, body) = conn.send(&basic, put);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(!server.service.config().negotiate());
    let after = profiles(&mut conn);
    assert!(
        after.iter().any(|p| p.ends_with("/http/basic")),
        "{after:?}"
    );
    assert!(!after.iter().any(|p| p.contains("spnego")), "{after:?}");
    assert_eq!(
        unauthenticated(),
        (Some("OS: 0.0.0 SP: 0.0 Stack: 3.0".into()), None)
    );
}
