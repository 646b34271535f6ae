//! Snapshots of written envelopes: what the harness puts on the wire, reviewed once and pinned.

use wsman_harness::catalogue::{FaultContext, catalogue};
use wsman_harness::envelope::*;
use wsman_harness::ns;
use wsman_harness::xml::PrefixStyle;

const FIXED_ID: &str = "uuid:00000000-0000-0000-0000-000000000001";

fn request(action: &str, resource: &str) -> Header {
    Header::default()
        .with(HeaderBlock::To(Text::new("http://127.0.0.1:5985/wsman")))
        .with(HeaderBlock::ResourceUri(
            Text::new(resource).must_understand(true),
        ))
        .with(HeaderBlock::ReplyTo(Epr::anonymous()))
        .with(HeaderBlock::Action(Text::new(action).must_understand(true)))
        .with(HeaderBlock::MaxEnvelopeSize(
            Text::new("153600").must_understand(true),
        ))
        .with(HeaderBlock::MessageId(Text::new(FIXED_ID)))
        .with(HeaderBlock::OperationTimeout(Text::new("PT60.000S")))
}

fn pretty(xml: &str) -> String {
    // One element per line keeps snapshot diffs readable; the raw form is asserted elsewhere.
    xml.replace("><", ">\n<")
}

#[test]
fn get_request_in_windows_style() {
    let env = Envelope::new(
        request(
            ns::action::GET,
            "http://schemas.microsoft.com/wbem/wsman/1/config",
        ),
        Body::Empty,
    );
    insta::assert_snapshot!(pretty(&write(&env, PrefixStyle::Windows)));
}

#[test]
fn shell_create_and_receive_response() {
    let mut h = request(ns::action::CREATE, ns::CMD_SHELL_URI);
    h.set(HeaderBlock::OptionSet(OptionSet {
        attrs: vec![],
        options: vec![WsOption {
            name: "WINRS_NOPROFILE".into(),
            value: "FALSE".into(),
            attrs: vec![],
        }],
    }));
    let create = Envelope::new(h, Body::Shell(Shell::cmd()));
    let receive = Envelope::new(
        request(ns::action::RECEIVE_RESPONSE, ns::CMD_SHELL_URI),
        Body::ReceiveResponse(ReceiveResponse {
            attrs: vec![],
            streams: vec![
                Stream::new(
                    "stdout",
                    Some("C0FFEE00-0000-0000-0000-000000000000"),
                    b"hello\r\n",
                ),
                {
                    let mut s =
                        Stream::new("stdout", Some("C0FFEE00-0000-0000-0000-000000000000"), b"");
                    s.end = Some("true".into());
                    s
                },
            ],
            command_state: Some(CommandState {
                command_id: Some("C0FFEE00-0000-0000-0000-000000000000".into()),
                state: ns::command_state::DONE.into(),
                exit_code: Some("0".into()),
            }),
        }),
    );
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        pretty(&write(&create, PrefixStyle::Windows)),
        pretty(&write(&receive, PrefixStyle::Windows))
    ));
}

#[test]
fn catalogue_fault_in_windows_style() {
    let cat = catalogue();
    let mut env = cat.condition_envelope(
        cat.condition("operation-timeout").unwrap(),
        &FaultContext {
            relates_to: Some(FIXED_ID),
            machine: "localhost",
            message: None,
        },
    );
    env.header_mut().set(HeaderBlock::MessageId(Text::new(
        "uuid:00000000-0000-0000-0000-000000000002",
    )));
    insta::assert_snapshot!(pretty(&write(&env, PrefixStyle::Windows)));
}

#[test]
fn idrac_enumeration_rewritten_with_windows_prefixes() {
    let src = include_str!(
        "../../fixtures/recordings/OpenNMS__wsman/itests/src/main/resources/__files/optimized-enum-response.xml"
    );
    let env = parse(src.as_bytes()).unwrap();
    assert!(matches!(env.body, Body::EnumerateResponse(_)));
    insta::assert_snapshot!(pretty(&write(&env, PrefixStyle::Windows)));
}

#[test]
fn openwsman_identify_with_preserved_prefixes() {
    let src = include_str!(
        "../../fixtures/recordings/OpenNMS__wsman/itests/src/main/resources/__files/identify-response.xml"
    );
    let env = parse(src.as_bytes()).unwrap();
    insta::assert_snapshot!(pretty(&write(&env, PrefixStyle::Preserve)));
}
