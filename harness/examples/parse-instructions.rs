//! Runs one hot path N times over a fixed message so that `benches/parse-callgrind.sh` (or
//! `perf stat -e instructions`) can count instructions, which are repeatable where wall-clock
//! time is not.
//!
//!     cargo run --release --example parse-instructions -- MODE N [MESSAGE]
//!
//! MODE: `typed` (envelope parse), `raw` (quick-xml namespace-resolving pass), `tree` (generic
//! element tree, as scenario replay and the remote fuzzer read responses), `serve` (the
//! reference service answering the message in process: parse, dispatch, write).
//! MESSAGE: `pull` (the ~150 KB PullResponse, default), `get` (a config Get request),
//! `identify`, `enumerate` (the optimized 1000-item Enumerate), `config` (the service's answer
//! to the Get request).

#[path = "../../benches/fixtures.rs"]
mod fixtures;

use wsman_harness::server::{RequestContext, ServerConfig, Service};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = match args.get(1).map(String::as_str) {
        Some(m @ ("typed" | "raw" | "tree" | "serve")) => m.to_owned(),
        _ => usage(),
    };
    let Some(Ok(n)) = args.get(2).map(|n| n.parse::<usize>()) else {
        usage()
    };
    let service = Service::new(ServerConfig {
        // As `benches/server-vs-hyper.sh` starts the server: the Enumerate answers all of it.
        collection_size: 1000,
        model: {
            let mut m = ServerConfig::default().model;
            m.set("MaxEnvelopeSizekb", "1024").expect("a valid size");
            m
        },
        ..ServerConfig::default()
    });
    let ctx = RequestContext {
        user: Some("bench".into()),
        deadline_passed: true,
    };
    let text = match args.get(3).map(String::as_str).unwrap_or("pull") {
        "pull" => fixtures::pull_150k(),
        "get" => fixtures::GET_REQUEST.to_owned(),
        "identify" => fixtures::IDENTIFY.to_owned(),
        "enumerate" => fixtures::ENUMERATE_REQUEST.to_owned(),
        "config" => {
            let r = service.handle(fixtures::GET_REQUEST.as_bytes(), &ctx);
            r.body
        }
        _ => usage(),
    };
    let bytes = text.as_bytes();
    let mut count = 0;
    for _ in 0..n {
        let input = std::hint::black_box(bytes);
        count += match mode.as_str() {
            "typed" => match wsman_harness::parse(input) {
                Ok(env) => match env.body {
                    wsman_harness::envelope::Body::PullResponse(p) => p.0.item_count(),
                    _ => 1,
                },
                Err(e) => fail(e),
            },
            "tree" => match wsman_harness::xml::parse_document(input, Default::default()) {
                Ok(tree) => tree.elements().count(),
                Err(e) => fail(e),
            },
            "serve" => {
                // As the HTTP layer asks: the answer's item text stays shared.
                let r = service.handle_shared(input, &ctx);
                if r.status != 200 {
                    fail(format!("HTTP {}", r.status));
                }
                r.body.len()
            }
            _ => fixtures::raw_pass(input),
        };
    }
    println!("{mode} {n} {} bytes {count}", bytes.len());
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1);
}

fn usage() -> ! {
    eprintln!(
        "usage: parse-instructions typed|raw|tree|serve N [pull|get|identify|enumerate|config]"
    );
    std::process::exit(2);
}
