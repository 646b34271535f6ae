//! Every `--deviate` switch breaks the rule it names, and only with the switch: each test runs
//! the same exchange against a conforming server and a deviating one.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wsman_harness::envelope::*;
use wsman_harness::ns::{self, action};
use wsman_harness::server::http::{Running, spawn};
use wsman_harness::server::{
    DEVIATIONS, Deviation, PROCESS_URI, RequestContext, ServerConfig, Service, User,
};
use wsman_harness::xml::PrefixStyle;

const PASSWORD: &str = "Deviation-Passw0rd";

fn config(d: Option<Deviation>, sets: &[&str]) -> ServerConfig {
    let mut c = ServerConfig {
        users: vec![User::new("vagrant", PASSWORD)],
        collection_size: 50,
        ..ServerConfig::default()
    };
    c.deviations.extend(d);
    for s in sets {
        c.set(s).unwrap();
    }
    c
}

fn request(act: &str, resource: &str, body: Body, extra: Option<HeaderBlock>) -> Vec<u8> {
    let mut h = Header::default()
        .with(HeaderBlock::To(Text::new("http://127.0.0.1/wsman")))
        .with(HeaderBlock::ResourceUri(Text::new(resource)))
        .with(HeaderBlock::ReplyTo(Epr::anonymous()))
        .with(HeaderBlock::Action(Text::new(act)))
        .with(HeaderBlock::MessageId(Text::new(
            "uuid:00000000-0000-0000-0000-0000000000AA",
        )))
        .with(HeaderBlock::MaxEnvelopeSize(Text::new("153600")));
    if let Some(b) = extra {
        h.blocks.push(b);
    }
    write(&Envelope::new(h, body), PrefixStyle::Windows).into_bytes()
}

fn handle(d: Option<Deviation>, sets: &[&str], req: &[u8]) -> (u16, Envelope) {
    let r = Service::new(config(d, sets)).handle(
        req,
        &RequestContext {
            user: Some("vagrant".into()),
            deadline_passed: true,
        },
    );
    (r.status, parse(r.body.as_bytes()).unwrap())
}

fn create_shell() -> Vec<u8> {
    request(
        action::CREATE,
        ns::CMD_SHELL_URI,
        Body::Shell(Shell::cmd()),
        None,
    )
}

#[test]
fn the_test_list_covers_every_switch() {
    // The first ten switches have a test below; every switch, these included, is also run
    // against the whole conformance catalogue by `check_matrix.rs`, which fails when a
    // switch makes no case fail.
    assert_eq!(DEVIATIONS.len(), 36);
    assert_eq!(DEVIATIONS[9].1, "crash-on-doctype");
}

#[test]
fn wrong_relates_to() {
    let (_, ok) = handle(None, &[], &create_shell());
    assert_eq!(
        ok.relates_to(),
        Some("uuid:00000000-0000-0000-0000-0000000000AA")
    );
    let (_, bad) = handle(Some(Deviation::WrongRelatesTo), &[], &create_shell());
    assert_ne!(
        bad.relates_to(),
        Some("uuid:00000000-0000-0000-0000-0000000000AA")
    );
}

#[test]
fn fault_400() {
    let unknown = request(action::GET, "http://example.org/nothing", Body::Empty, None);
    assert_eq!(handle(None, &[], &unknown).0, 500);
    let (status, env) = handle(Some(Deviation::Fault400), &[], &unknown);
    assert_eq!(status, 400);
    assert!(env.fault().is_some());
}

#[test]
fn no_clamp_max_elements() {
    let sets = ["MaxBatchItems=5"];
    let enumerate = request(
        action::ENUMERATE,
        PROCESS_URI,
        Body::Enumerate(Enumerate {
            optimize: true,
            max_elements: Some("20".into()),
            ..Enumerate::default()
        }),
        None,
    );
    let count = |env: Envelope| match env.body {
        Body::EnumerateResponse(r) => r.0.item_count(),
        other => panic!("{}", other.kind()),
    };
    assert_eq!(count(handle(None, &sets, &enumerate).1), 5);
    assert_eq!(
        count(handle(Some(Deviation::NoClampMaxElements), &sets, &enumerate).1),
        20
    );
}

#[test]
fn ignore_must_understand() {
    let mut e = wsman_harness::xml::Element::with_text(
        wsman_harness::xml::QName::new("urn:x", "Frob"),
        "1",
    );
    e.attrs.push(wsman_harness::xml::Attribute::qualified(
        wsman_harness::xml::QName::new(ns::SOAP, "mustUnderstand"),
        "true",
    ));
    let req = request(
        action::CREATE,
        ns::CMD_SHELL_URI,
        Body::Shell(Shell::cmd()),
        Some(HeaderBlock::Unknown(e)),
    );
    assert!(handle(None, &[], &req).1.fault().is_some());
    assert!(
        handle(Some(Deviation::IgnoreMustUnderstand), &[], &req)
            .1
            .fault()
            .is_none()
    );
}

#[test]
fn accept_bad_timeout() {
    let req = request(
        action::CREATE,
        ns::CMD_SHELL_URI,
        Body::Shell(Shell::cmd()),
        Some(HeaderBlock::OperationTimeout(Text::new("PT-1S"))),
    );
    assert!(handle(None, &[], &req).1.fault().is_some());
    assert!(
        handle(Some(Deviation::AcceptBadTimeout), &[], &req)
            .1
            .fault()
            .is_none()
    );
}

// --- over HTTP -------------------------------------------------------------------------------

fn start(d: Option<Deviation>, sets: &[&str]) -> Running {
    spawn(
        Service::new(config(d, sets)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
}

fn http(server: &Running, extra: &str, body: &[u8], timeout: Duration) -> Option<u16> {
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    let head = format!(
        "POST /wsman HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn basic() -> String {
    use base64::Engine;
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(format!("vagrant:{PASSWORD}"))
    )
}

#[test]
fn ignore_max_envelope() {
    let sets = ["service/auth/Basic=true", "service/AllowUnencrypted=true"];
    let mut big = create_shell();
    let pad = format!("<!-- {} -->", "x".repeat(160 * 1024));
    big.splice(0..0, pad.bytes());
    let t = Duration::from_secs(10);
    assert_eq!(http(&start(None, &sets), &basic(), &big, t), Some(413));
    assert_eq!(
        http(
            &start(Some(Deviation::IgnoreMaxEnvelope), &sets),
            &basic(),
            &big,
            t
        ),
        Some(200)
    );
}

#[test]
fn accept_basic() {
    let t = Duration::from_secs(10);
    assert_eq!(
        http(&start(None, &[]), &basic(), &create_shell(), t),
        Some(401)
    );
    // Basic is taken although disabled; the plain body is then refused by the encryption rule.
    let status = http(
        &start(Some(Deviation::AcceptBasic), &[]),
        &basic(),
        &create_shell(),
        t,
    );
    assert_ne!(status, Some(401));
}

#[test]
fn accept_unencrypted() {
    let sets = ["service/auth/Basic=true"];
    let t = Duration::from_secs(10);
    let d = Some(Deviation::AcceptBasic);
    assert_eq!(
        http(&start(d, &sets), &basic(), &create_shell(), t),
        Some(500),
        "plain body refused"
    );
    let mut c = config(d, &sets);
    c.deviations.push(Deviation::AcceptUnencrypted);
    let both = spawn(Service::new(c), "127.0.0.1:0".parse().unwrap()).unwrap();
    assert_eq!(http(&both, &basic(), &create_shell(), t), Some(200));
}

fn doctype_request() -> Vec<u8> {
    let mut r = b"<!DOCTYPE x [<!ENTITY a \"b\">]>".to_vec();
    r.extend(create_shell());
    r
}

#[test]
fn hang_on_doctype() {
    let sets = ["service/auth/Basic=true", "service/AllowUnencrypted=true"];
    let t = Duration::from_millis(1500);
    assert_eq!(
        http(&start(None, &sets), &basic(), &doctype_request(), t),
        Some(400)
    );
    assert_eq!(
        http(
            &start(Some(Deviation::HangOnDoctype), &sets),
            &basic(),
            &doctype_request(),
            t
        ),
        None,
        "no answer within the timeout"
    );
}

#[test]
fn crash_on_doctype() {
    let run = |deviate: bool| {
        let user = format!("vagrant:{PASSWORD}");
        let mut args = vec![
            "--user",
            user.as_str(),
            "--set",
            "service/auth/Basic=true",
            "--set",
            "service/AllowUnencrypted=true",
        ];
        if deviate {
            args.extend(["--deviate", "crash-on-doctype"]);
        }
        let (mut child, url) = common::spawn_serve(
            env!("CARGO_BIN_EXE_wsman-harness"),
            &args,
            std::process::Stdio::null(),
        );
        let addr = common::authority(&url);
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let body = doctype_request();
        let head = format!(
            "POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            basic()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf);
        std::thread::sleep(Duration::from_millis(200));
        let exited = child.try_wait().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        exited
    };
    assert!(
        run(false).is_none(),
        "a conforming server survives a DOCTYPE"
    );
    let status = run(true).expect("the deviating server is gone");
    assert!(!status.success());
}
