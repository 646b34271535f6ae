//! Every scenario in `corpus/scenarios/` as one test, replayed against the embedded reference
//! server, or against `WSMAN_TARGET` (with `WSMAN_USER`, `WSMAN_PASSWORD`, `WSMAN_AUTH`,
//! `WSMAN_INSECURE`) when set. Scenarios marked `reference = false` are ignored on the
//! embedded server and run against a target.

fn main() -> std::process::ExitCode {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/scenarios");
    wsman_harness::scenario::harness::main(&[corpus])
}
