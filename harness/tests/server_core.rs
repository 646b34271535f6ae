//! The protocol core in memory: recorded pywinrm requests drive it, and every header rule it
//! enforces answers with the catalogue's fault.

use wsman_harness::envelope::{Body, parse};
use wsman_harness::server::{RequestContext, ServerConfig, Service};

const CREATE: &str = include_str!(
    "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd/2-request.xml"
);
const COMMAND: &str = include_str!(
    "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd/3-request.xml"
);

fn ctx(user: &str) -> RequestContext {
    RequestContext {
        user: Some(user.into()),
        deadline_passed: true,
    }
}

fn service() -> Service {
    Service::new(ServerConfig::default())
}

/// (status, subcode as `prefix:local`, WSManFault code)
fn fault_of(reply_body: &str) -> (String, String) {
    let env = parse(reply_body.as_bytes()).unwrap();
    let f = env
        .fault()
        .unwrap_or_else(|| panic!("not a fault: {reply_body}"));
    let sub = f.subcode.as_ref().unwrap_or(&f.code).to_string();
    (sub, f.wsman_fault().map(|w| w.code).unwrap_or_default())
}

#[test]
fn a_recorded_shell_lifecycle_runs() {
    let s = service();
    let r = s.handle(CREATE.as_bytes(), &ctx("vagrant"));
    assert_eq!(r.status, 200, "{}", r.body);
    let env = parse(r.body.as_bytes()).unwrap();
    assert_eq!(
        env.relates_to(),
        parse(CREATE.as_bytes()).unwrap().message_id()
    );
    let Body::ShellCreated(created, shell) = env.body else {
        panic!("{}", r.body)
    };
    let id = created.selector("ShellId").unwrap();
    assert_eq!(shell.shell_id().as_deref(), Some(id.as_str()));
    // The recorded Command names the recording's ShellId; point it at ours.
    let cmd = COMMAND.replace("4C7F3BB5-B508-4F20-9B6E-C8980CFCADCA", &id);
    let r = s.handle(cmd.as_bytes(), &ctx("vagrant"));
    let Body::CommandResponse(c) = parse(r.body.as_bytes()).unwrap().body else {
        panic!("{}", r.body)
    };
    assert_eq!(c.command_id.len(), 36);
    // Another user cannot see the shell.
    let r = s.handle(cmd.as_bytes(), &ctx("mallory"));
    assert_eq!(
        fault_of(&r.body),
        ("w:InvalidSelectors".into(), "2150858843".into())
    );
    assert_eq!(r.status, 500);
}

#[test]
fn header_rules_answer_with_catalogue_faults() {
    let s = service();
    let cases = [
        (
            CREATE
                .replace("<a:ReplyTo>", "<a:ReplyTox>")
                .replace("</a:ReplyTo>", "</a:ReplyTox>"),
            "a:MessageInformationHeaderRequired",
            "2150858769",
        ),
        (
            CREATE.replace("role/anonymous", "role/somewhere-else"),
            "w:UnsupportedFeature",
            "2150858818",
        ),
        (
            CREATE.replace("PT20S", "PT-1S"),
            "a:InvalidMessageInformationHeader",
            "2150858767",
        ),
        (
            CREATE.replace("512000", "512"),
            "w:EncodingLimit",
            "2150858878",
        ),
        (
            CREATE.replace(
                "<w:OperationTimeout>",
                "<x:Frob xmlns:x=\"urn:x\" s:mustUnderstand=\"true\"/><w:OperationTimeout>",
            ),
            "s:MustUnderstand",
            "2150858768",
        ),
        (
            CREATE.replace(
                "windows/shell/cmd</w:ResourceURI>",
                "windows/shell/nope</w:ResourceURI>",
            ),
            "a:DestinationUnreachable",
            "2150858752",
        ),
    ];
    for (req, sub, code) in cases {
        assert_ne!(req, CREATE, "the case must change the request ({sub})");
        let r = s.handle(req.as_bytes(), &ctx("vagrant"));
        assert_eq!(r.status, 500, "{sub}: {}", r.body);
        assert_eq!(fault_of(&r.body), (sub.to_owned(), code.to_owned()));
        let relates = parse(r.body.as_bytes())
            .unwrap()
            .relates_to()
            .map(str::to_owned);
        assert_eq!(
            relates.as_deref(),
            Some("uuid:11111111-1111-1111-1111-111111111111"),
            "{sub}"
        );
    }
}

#[test]
fn malformed_and_soap11_requests() {
    let s = service();
    assert_eq!(s.handle(b"<not-xml", &ctx("vagrant")).status, 400);
    let soap11 = CREATE.replace(
        "http://www.w3.org/2003/05/soap-envelope",
        "http://schemas.xmlsoap.org/soap/envelope/",
    );
    let r = s.handle(soap11.as_bytes(), &ctx("vagrant"));
    assert_eq!(fault_of(&r.body).0, "s:VersionMismatch");
    // A request without an authenticated user is refused unless it is an Identify.
    let none = RequestContext {
        user: None,
        deadline_passed: true,
    };
    assert_eq!(s.handle(CREATE.as_bytes(), &none).status, 401);
}

#[test]
fn receive_with_nothing_to_say_asks_to_wait_then_times_out() {
    let s = service();
    let r = s.handle(CREATE.as_bytes(), &ctx("vagrant"));
    let Body::ShellCreated(created, _) = parse(r.body.as_bytes()).unwrap().body else {
        panic!()
    };
    let id = created.selector("ShellId").unwrap();
    let cmd = COMMAND
        .replace("4C7F3BB5-B508-4F20-9B6E-C8980CFCADCA", &id)
        .replace(
            "<rsp:Command>ipconfig</rsp:Command>",
            "<rsp:Command>type</rsp:Command>",
        )
        .replace("<rsp:Arguments>/all</rsp:Arguments>", "");
    let r = s.handle(cmd.as_bytes(), &ctx("vagrant"));
    let Body::CommandResponse(c) = parse(r.body.as_bytes()).unwrap().body else {
        panic!("{}", r.body)
    };
    let receive = include_str!(
        "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd/4-request.xml"
    )
    .replace("4C7F3BB5-B508-4F20-9B6E-C8980CFCADCA", &id)
    .replace("0DA15A6E-0960-43FF-B54A-91A1A9D36131", &c.command_id);
    let waiting = RequestContext {
        user: Some("vagrant".into()),
        deadline_passed: false,
    };
    let r = s.handle(receive.as_bytes(), &waiting);
    assert_eq!(
        r.wait,
        Some(std::time::Duration::from_secs(20)),
        "OperationTimeout PT20S"
    );
    let r = s.handle(receive.as_bytes(), &ctx("vagrant"));
    assert_eq!(
        fault_of(&r.body),
        ("w:TimedOut".into(), "2150858793".into())
    );
}

const GET_CONFIG: &str = include_str!(
    "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd/1-request.xml"
);

fn put_request(section_uri: &str, body: &str) -> String {
    GET_CONFIG
        .replace(
            "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
            "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put",
        )
        .replace(
            ">http://schemas.microsoft.com/wbem/wsman/1/config<",
            &format!(">{section_uri}<"),
        )
        .replace("<s:Body/>", &format!("<s:Body>{body}</s:Body>"))
}

fn config_value(reply: &str, local: &str) -> Option<String> {
    let env = parse(reply.as_bytes()).unwrap();
    let Body::Other(parts) = env.body else {
        panic!("{reply}")
    };
    let root = parts[0].element().unwrap().into_owned();
    fn find(e: &wsman_harness::xml::Element, local: &str) -> Option<String> {
        if e.name.local == local && e.is_simple() {
            return Some(e.text());
        }
        e.elements().find_map(|c| find(c, local))
    }
    find(&root, local)
}

#[test]
fn config_get_returns_every_setting_in_wire_order() {
    let s = service();
    let r = s.handle(GET_CONFIG.as_bytes(), &ctx("vagrant"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        config_value(&r.body, "MaxEnvelopeSizekb").as_deref(),
        Some("150")
    );
    assert_eq!(
        config_value(&r.body, "CbtHardeningLevel").as_deref(),
        Some("Relaxed")
    );
    let order: Vec<usize> = [
        "<cfg:MaxEnvelopeSizekb>",
        "<cfg:Client>",
        "<cfg:TrustedHosts",
        "<cfg:Service>",
        "<cfg:IPv6Filter>",
        "<cfg:Winrs>",
        "<cfg:MaxShellsPerUser>",
    ]
    .iter()
    .map(|t| r.body.find(t).unwrap_or_else(|| panic!("{t} missing")))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "wire order: {order:?}"
    );
    let sub = GET_CONFIG.replace(
        ">http://schemas.microsoft.com/wbem/wsman/1/config<",
        ">http://schemas.microsoft.com/wbem/wsman/1/config/service/auth<",
    );
    let r = s.handle(sub.as_bytes(), &ctx("vagrant"));
    assert!(r.body.contains("<cfg:Auth"), "{}", r.body);
    assert_eq!(config_value(&r.body, "Basic").as_deref(), Some("false"));
}

#[test]
fn config_put_changes_validates_and_persists_atomically() {
    let dir = std::env::temp_dir().join(format!("wsman-harness-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("winrm.toml");
    let cfg = ServerConfig {
        store: Some(file.clone()),
        ..ServerConfig::default()
    };
    let s = Service::new(cfg);
    let uri = "http://schemas.microsoft.com/wbem/wsman/1/config/service";
    let ns = "http://schemas.microsoft.com/wbem/wsman/1/config";
    let service_get = GET_CONFIG.replace(
        ">http://schemas.microsoft.com/wbem/wsman/1/config<",
        &format!(">{uri}<"),
    );
    let before = s.handle(service_get.as_bytes(), &ctx("vagrant"));
    assert_eq!(
        config_value(&before.body, "AllowUnencrypted").as_deref(),
        Some("false")
    );
    let r = s.handle(put_request(uri, &format!("<cfg:Service xmlns:cfg=\"{ns}\"><cfg:AllowUnencrypted>true</cfg:AllowUnencrypted><cfg:IPv4Filter>10.0.0.1-10.0.0.9</cfg:IPv4Filter></cfg:Service>")).as_bytes(), &ctx("vagrant"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        config_value(&r.body, "AllowUnencrypted").as_deref(),
        Some("true")
    );
    assert!(s.config().allow_unencrypted(), "the Put takes effect");
    // A Get after the Put answers the new value (written sections are kept per version).
    let r = s.handle(service_get.as_bytes(), &ctx("vagrant"));
    assert_eq!(
        config_value(&r.body, "AllowUnencrypted").as_deref(),
        Some("true")
    );
    // The file holds the change; a restarted server reads it back.
    let reloaded = wsman_harness::config::load(&file).unwrap();
    assert_eq!(
        reloaded.get("Service/IPv4Filter"),
        Some("10.0.0.1-10.0.0.9")
    );
    // Invalid and read-only values are refused whole: nothing changes.
    let bad = put_request(
        uri,
        &format!(
            "<cfg:Service xmlns:cfg=\"{ns}\"><cfg:AllowUnencrypted>false</cfg:AllowUnencrypted><cfg:IPv4Filter>10.0.0.9-10.0.0.1</cfg:IPv4Filter></cfg:Service>"
        ),
    );
    let r = s.handle(bad.as_bytes(), &ctx("vagrant"));
    assert_eq!(fault_of(&r.body).0, "w:InvalidParameter");
    assert!(
        s.config().allow_unencrypted(),
        "a refused Put changes nothing"
    );
    let winrs = put_request(
        "http://schemas.microsoft.com/wbem/wsman/1/config/winrs",
        &format!(
            "<cfg:Winrs xmlns:cfg=\"{ns}\"><cfg:MaxShellRunTime>1</cfg:MaxShellRunTime></cfg:Winrs>"
        ),
    );
    assert_eq!(
        fault_of(&s.handle(winrs.as_bytes(), &ctx("vagrant")).body).0,
        "w:InternalError"
    );
    let cbt = put_request(
        "http://schemas.microsoft.com/wbem/wsman/1/config/service/auth",
        &format!(
            "<cfg:Auth xmlns:cfg=\"{ns}\"><cfg:CbtHardeningLevel>Paranoid</cfg:CbtHardeningLevel></cfg:Auth>"
        ),
    );
    assert_eq!(
        fault_of(&s.handle(cbt.as_bytes(), &ctx("vagrant")).body).1,
        "2150859192"
    );
    // A crash mid-write leaves a stray temporary file, never a torn config.
    std::fs::write(dir.join(".winrm.toml.99999.tmp"), "profile = \"se").unwrap();
    assert_eq!(
        wsman_harness::config::load(&file)
            .unwrap()
            .get("Service/AllowUnencrypted"),
        Some("true")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_recorded_and_mutated_envelope_gets_an_answer_not_a_panic() {
    let s = service();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/envelope");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(e.unwrap().path()).unwrap();
        for variant in [
            data.clone(),
            data[..data.len() / 2].to_vec(),
            data.iter().rev().copied().collect(),
        ] {
            let r = s.handle(&variant, &ctx("vagrant"));
            assert!(
                matches!(r.status, 200 | 400 | 401 | 500),
                "status {}",
                r.status
            );
            if !r.body.is_empty() {
                parse(r.body.as_bytes()).expect("every answer is a well-formed envelope");
            }
            n += 1;
        }
    }
    assert!(n > 1500);
}

#[test]
fn max_connections_bounds_requests_in_flight() {
    let mut c = ServerConfig::default();
    c.set("Service/MaxConnections=2").unwrap();
    let s = Service::new(c);
    let a = s.admit().expect("first");
    let b = s.admit().expect("second");
    assert!(s.admit().is_none(), "a third request in flight is refused");
    drop(a);
    assert!(s.admit().is_some(), "a finished request frees its place");
    drop(b);
}
