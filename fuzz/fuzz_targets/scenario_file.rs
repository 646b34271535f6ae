//! See `wsman_harness::fuzzing::scenario_file` for the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wsman_harness::fuzzing::scenario_file(data);
});
