//! Messages shared by the criterion benches and the instruction-count example
//! (`harness/examples/parse-instructions.rs`): the ~150 KB PullResponse and the raw quick-xml
//! pass it is measured against.

use std::hint::black_box;

use quick_xml::NsReader;
use quick_xml::events::Event;
use wsman_harness::envelope::{
    Body, EnumNs, EnumerationBatch, Envelope, Header, HeaderBlock, Items, PullResponse, Text,
};
use wsman_harness::ns;
use wsman_harness::xml::{Element, Fragment, PrefixStyle, QName};

/// An Identify request as pywinrm and Windows send it.
pub const IDENTIFY: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;

/// The config Get request `benches/server-vs-hyper.sh` sends: the usual header blocks.
pub const GET_REQUEST: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:MessageID>uuid:0B1E4F6A-2C3D-4E5F-8A9B-0C1D2E3F4A5B</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/config</w:ResourceURI><w:MaxEnvelopeSize>1048576</w:MaxEnvelopeSize></s:Header><s:Body></s:Body></s:Envelope>"#;

/// The optimized 1000-item Enumerate `benches/server-vs-hyper.sh` sends (the whole sample
/// collection of a server started with `--items 1000` in one answer).
pub const ENUMERATE_REQUEST: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action><a:MessageID>uuid:0B1E4F6A-2C3D-4E5F-8A9B-0C1D2E3F4A5B</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process</w:ResourceURI><w:MaxEnvelopeSize>1048576</w:MaxEnvelopeSize></s:Header><s:Body><n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>1000</w:MaxElements></n:Enumerate></s:Body></s:Envelope>"#;

/// The headers of a response (fixed ids, so that every run parses the same bytes).
pub fn response_header(action: &str) -> Header {
    Header::default()
        .with(HeaderBlock::Action(Text::new(action)))
        .with(HeaderBlock::MessageId(Text::new(
            "uuid:8F1D6A6C-1D40-4E45-8E2B-6A1B2F0C9A11",
        )))
        .with(HeaderBlock::To(Text::new(ns::ANONYMOUS)))
        .with(HeaderBlock::RelatesTo(Text::new(
            "uuid:0B9E5A2D-6B4A-4B55-A1D9-2E6F6C3A7B10",
        )))
}

/// A PullResponse of Win32_Process-like instances, just under 150 KiB.
pub fn pull_150k() -> String {
    let class_ns = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process";
    let mut items = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < 160 * 1024 {
        let mut e = Element::new(QName::owned(class_ns, "Win32_Process"));
        e.prefix = Some("p".into());
        for (name, value) in [
            ("Caption", format!("process{i}.exe")),
            (
                "CommandLine",
                format!("C:\\Windows\\System32\\process{i}.exe -k netsvcs -p &amp; more"),
            ),
            ("CreationDate", "20261125010203.123456+000".into()),
            ("Handle", i.to_string()),
            ("HandleCount", (i * 7 % 1000).to_string()),
            ("Name", format!("process{i}.exe")),
            ("ParentProcessId", (i / 3).to_string()),
            ("Priority", "8".into()),
            ("ProcessId", i.to_string()),
            ("ThreadCount", (i % 64).to_string()),
            ("VirtualSize", (i * 4096).to_string()),
            ("WorkingSetSize", (i * 1024).to_string()),
        ] {
            let mut c = Element::with_text(QName::owned(class_ns, name), value);
            c.prefix = Some("p".into());
            e = e.child(c);
        }
        size += 560;
        items.push(Fragment::from(e));
        i += 1;
    }
    loop {
        let env = Envelope::new(
            response_header(ns::action::PULL_RESPONSE),
            Body::PullResponse(PullResponse(EnumerationBatch {
                context: Some("uuid:5E3C2A10-7F4B-4C1D-9A8E-0B1C2D3E4F50".into()),
                items: Some(Items {
                    ns: EnumNs::Enumeration,
                    items: items.clone().into(),
                }),
                ..EnumerationBatch::default()
            })),
        );
        let text = wsman_harness::write(&env, PrefixStyle::Windows);
        if text.len() <= 150 * 1024 {
            return text;
        }
        items.pop();
    }
}

/// The baseline: UTF-8 validation plus a namespace-resolved pass over every event, resolving
/// every start tag's namespace (the least any consumer of the message must do).
pub fn raw_pass(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut r = NsReader::from_str(text);
    let mut starts = 0;
    loop {
        match r.read_resolved_event() {
            Ok((ns, Event::Start(_) | Event::Empty(_))) => {
                black_box(ns);
                starts += 1
            }
            Ok((_, Event::Eof)) => return starts,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
}
