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
