//! See `wsman_harness::fuzzing::envelope_parse`: the reader alone, at full speed.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wsman_harness::fuzzing::envelope_parse(data);
});
