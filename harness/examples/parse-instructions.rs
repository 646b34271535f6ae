//! Parses the ~150 KB PullResponse of `benches/envelope.rs` N times, typed or with the raw
//! quick-xml pass, so that `benches/parse-callgrind.sh` can count instructions under callgrind
//! (repeatable where wall-clock time is not).
//!
//!     cargo run --release --example parse-instructions -- typed|raw N

#[path = "../../benches/fixtures.rs"]
mod fixtures;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, n) = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some(m @ ("typed" | "raw")), Some(n)) => match n.parse::<usize>() {
            Ok(n) => (m.to_owned(), n),
            Err(_) => usage(),
        },
        _ => usage(),
    };
    let text = fixtures::pull_150k();
    let bytes = text.as_bytes();
    let mut items = 0;
    for _ in 0..n {
        items += match mode.as_str() {
            "typed" => match wsman_harness::parse(std::hint::black_box(bytes)) {
                Ok(env) => match env.body {
                    wsman_harness::envelope::Body::PullResponse(p) => p.0.item_count(),
                    _ => 0,
                },
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            },
            _ => fixtures::raw_pass(std::hint::black_box(bytes)),
        };
    }
    println!("{mode} {n} {} bytes {items}", bytes.len());
}

fn usage() -> ! {
    eprintln!("usage: parse-instructions typed|raw N");
    std::process::exit(2);
}
