//! Envelope parse and write throughput, each next to a raw quick-xml namespace-resolving pass
//! over the same bytes, so that results read as ratios (see `benches/parse-ratio.sh`).
//!
//! Messages: (a) a small Identify request, (b) a shell ReceiveResponse, (c) a ~150 KB
//! PullResponse with many WMI-like items (the default MaxEnvelopeSize of 150 KiB).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wsman_harness::envelope::{Body, CommandState, Envelope, ReceiveResponse, Stream, parse};
use wsman_harness::ns;
use wsman_harness::xml::PrefixStyle;

#[path = "fixtures.rs"]
mod fixtures;

use fixtures::{ENUMERATE_REQUEST, GET_REQUEST, IDENTIFY, pull_150k, raw_pass, response_header};

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
    group(c, "get_request", GET_REQUEST, None);
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
    serve_in_process(c);
}

/// The reference service answering the three requests of `benches/server-vs-hyper.sh` in
/// process (parse, dispatch, write), as the HTTP layer asks; the 1000-item Enumerate also
/// with its answer joined into one string, the copy the shared answer avoids.
fn serve_in_process(c: &mut Criterion) {
    use wsman_harness::server::{RequestContext, ServerConfig, Service};
    let mut model = ServerConfig::default().model;
    model.set("MaxEnvelopeSizekb", "1024").unwrap();
    let service = Service::new(ServerConfig {
        collection_size: 1000,
        model,
        ..ServerConfig::default()
    });
    let ctx = RequestContext {
        user: Some("bench".into()),
        deadline_passed: true,
    };
    let mut g = c.benchmark_group("serve_in_process");
    for (name, request) in [
        ("identify", IDENTIFY),
        ("get_config", GET_REQUEST),
        ("enumerate_1000", ENUMERATE_REQUEST),
    ] {
        let r = service.handle_shared(request.as_bytes(), &ctx);
        assert_eq!(r.status, 200, "{name}");
        g.bench_function(name, |b| {
            b.iter(|| service.handle_shared(black_box(request.as_bytes()), &ctx))
        });
    }
    g.bench_function("enumerate_1000_joined", |b| {
        b.iter(|| service.handle(black_box(ENUMERATE_REQUEST.as_bytes()), &ctx))
    });
    g.finish();
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
