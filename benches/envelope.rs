//! Envelope parse and write throughput, each next to a raw quick-xml namespace-resolving pass
//! over the same bytes, so that results read as ratios (see `benches/parse-ratio.sh`).
//!
//! Messages: (a) a small Identify request, (b) a shell ReceiveResponse, (c) a ~150 KB
//! PullResponse with many WMI-like items (the default MaxEnvelopeSize of 150 KiB).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quick_xml::NsReader;
use quick_xml::events::Event;
use wsman_harness::envelope::{
    Body, CommandState, EnumNs, EnumerationBatch, Envelope, Header, HeaderBlock, Items,
    PullResponse, ReceiveResponse, Stream, Text, parse,
};
use wsman_harness::ns;
use wsman_harness::xml::{Element, Fragment, PrefixStyle, QName};

const IDENTIFY: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;

fn response_header(action: &str) -> Header {
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

fn receive_response() -> String {
    let id = "1A2B3C4D-0000-4000-8000-000000000001";
    let streams = (0..8)
        .map(|i| {
            Stream::new(
                "stdout",
                Some(id),
                format!("line {i} of the command output\r\n").as_bytes(),
            )
        })
        .collect();
    let env = Envelope::new(
        response_header(ns::action::RECEIVE_RESPONSE),
        Body::ReceiveResponse(ReceiveResponse {
            attrs: vec![],
            streams,
            command_state: Some(CommandState {
                command_id: Some(id.into()),
                state: ns::command_state::DONE.into(),
                exit_code: Some("0".into()),
            }),
        }),
    );
    wsman_harness::write(&env, PrefixStyle::Windows)
}

/// A PullResponse of Win32_Process-like instances, just under 150 KiB.
fn pull_150k() -> String {
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
                    items: items.clone(),
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
fn raw_pass(bytes: &[u8]) -> usize {
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

fn group(c: &mut Criterion, name: &str, text: &str, expect_items: Option<usize>) {
    let bytes = text.as_bytes();
    let env = parse(bytes).unwrap();
    // A broken parser must not look fast: the typed result is checked before timing.
    if let Some(n) = expect_items {
        match &env.body {
            Body::PullResponse(p) => assert_eq!(p.0.item_count(), n),
            other => panic!("{other:?}"),
        }
    }
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("raw_nsreader", |b| b.iter(|| raw_pass(black_box(bytes))));
    g.bench_function("typed_parse", |b| {
        b.iter(|| parse(black_box(bytes)).unwrap())
    });
    g.bench_function("memcpy", |b| b.iter(|| black_box(bytes).to_vec()));
    g.bench_function("write_windows", |b| {
        b.iter(|| wsman_harness::write(black_box(&env), PrefixStyle::Windows))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    group(c, "identify", IDENTIFY, None);
    group(c, "receive_response", &receive_response(), None);
    let pull = pull_150k();
    let items = match &parse(pull.as_bytes()).unwrap().body {
        Body::PullResponse(p) => p.0.item_count(),
        _ => 0,
    };
    assert!(
        pull.len() > 140 * 1024 && pull.len() <= 150 * 1024,
        "{} bytes",
        pull.len()
    );
    group(c, "pull_150k", &pull, Some(items));
    scenario_compare(c, &pull);
    replay_in_process(c);
}

/// Normalise + compare of a 150 KB response against a live copy with fresh ids, with the raw
/// parse of the same bytes as the baseline (the comparison parses both sides once).
fn scenario_compare(c: &mut Criterion, recorded: &str) {
    use wsman_harness::scenario::{Bindings, Comparison, Rules, Symbols, compare};
    use wsman_harness::xml::{Limits, parse_document};
    let live = recorded.replace("uuid:", "uuid:0");
    let rules = Rules::defaults();
    let expected = parse_document(recorded.as_bytes(), Limits::default()).unwrap();
    let mut symbols = Symbols::default();
    symbols.learn(&expected, false);
    let mut g = c.benchmark_group("scenario_compare_150k");
    g.throughput(Throughput::Bytes(recorded.len() as u64));
    g.bench_function("raw_parse", |b| {
        b.iter(|| parse_document(black_box(live.as_bytes()), Limits::default()).unwrap())
    });
    g.bench_function("parse_and_compare", |b| {
        b.iter(|| {
            let actual = parse_document(black_box(live.as_bytes()), Limits::default()).unwrap();
            let cmp = Comparison::new(&rules, &symbols);
            compare(&cmp, &expected, &actual, &mut Bindings::default())
        })
    });
    g.finish();
}

/// The in-process reference service answering a replayed scenario (no sockets): exchanges/s.
struct InProcess(wsman_harness::server::Service);

impl wsman_harness::scenario::replay::Exchanger for InProcess {
    fn exchange(
        &mut self,
        body: Vec<u8>,
        _: &[(String, String)],
    ) -> Result<wsman_harness::client::Response, wsman_harness::client::ClientError> {
        let ctx = wsman_harness::server::RequestContext {
            user: Some("bench".into()),
            deadline_passed: true,
        };
        let r = self.0.handle(&body, &ctx);
        Ok(wsman_harness::client::Response {
            status: r.status,
            headers: Vec::new(),
            body: r.body.into(),
            sealed: false,
            elapsed: std::time::Duration::ZERO,
            keep_alive: true,
        })
    }
    fn url(&self) -> String {
        "http://127.0.0.1:5985/wsman".into()
    }
}

fn replay_in_process(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/scenarios/reference/shell-stdin.scenario.toml");
    let s = wsman_harness::scenario::load(&path).unwrap();
    let mut g = c.benchmark_group("replay_in_process");
    g.throughput(Throughput::Elements(s.steps.len() as u64));
    let mut server = InProcess(wsman_harness::server::Service::new(
        wsman_harness::server::ServerConfig::default(),
    ));
    let r = wsman_harness::scenario::replay::replay(&s, &mut server);
    assert!(
        r.passed(),
        "{}",
        wsman_harness::cli::render_replay(&r, true)
    );
    g.bench_function("shell_stdin_scenario", |b| {
        b.iter(|| wsman_harness::scenario::replay::replay(black_box(&s), &mut server))
    });
    g.finish();
}

criterion_group!(envelope, benches);
criterion_main!(envelope);
