//! The fuzz invariants hold on every seed in `corpus/envelope` (so `cargo test` checks what the
//! fuzzer starts from, and every kept crash reproducer stays fixed).

use std::path::Path;

#[test]
fn envelope_invariants_hold_on_every_seed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/envelope");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let data = std::fs::read(&p).unwrap();
        wsman_harness::fuzzing::envelope(&data);
        wsman_harness::fuzzing::envelope_parse(&data);
        n += 1;
    }
    assert!(n > 500, "{n} seeds");
}

#[test]
fn invariants_hold_on_mutated_seeds() {
    // A cheap deterministic stand-in for the fuzzer between nightly runs: truncations and byte
    // flips of a few seeds must never break an invariant.
    let seed = include_bytes!(
        "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd/2-response.xml"
    );
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut data = seed.to_vec();
        let at = (x as usize) % data.len();
        match i % 4 {
            0 => data.truncate(at),
            1 => data[at] = (x >> 32) as u8,
            2 => data.insert(at, b'<'),
            _ => {
                data.drain(at..(at + 8).min(data.len()));
            }
        }
        wsman_harness::fuzzing::envelope(&data);
    }
}

/// The `scenario_file` seeds read as scenarios and hold the fuzz invariants, and so do
/// truncations of them (which mostly fail, with a position inside the text).
#[test]
fn scenario_file_seeds_hold_the_invariants() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/scenario_file");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(e.unwrap().path()).unwrap();
        let text = std::str::from_utf8(&data).unwrap();
        wsman_harness::scenario::file::parse(text, "seed", None).unwrap();
        wsman_harness::fuzzing::scenario_file(&data);
        for cut in (0..data.len()).step_by(97) {
            wsman_harness::fuzzing::scenario_file(&data[..cut]);
        }
        n += 1;
    }
    assert!(n >= 4, "{n} seeds");
}

/// The structure-aware target on its seeds and on a few thousand deterministic random inputs:
/// every built request round-trips and the reference service answers it consistently.
#[test]
fn envelope_model_invariants_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/envelope_model");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "bin") {
            wsman_harness::fuzzing::envelope_model(&std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    assert!(n >= 10, "{n} seeds");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for len in (0..3000).map(|i| 16 + (i * 7) % 700) {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        wsman_harness::fuzzing::envelope_model(&data);
    }
}
