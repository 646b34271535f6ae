//! Structure-aware: the input builds a request envelope from the model; it must round-trip and
//! the reference service must answer it consistently (see `wsman_harness::fuzzing::envelope_model`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wsman_harness::fuzzing::envelope_model(data);
});
