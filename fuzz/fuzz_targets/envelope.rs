//! Envelope parser: never panics; parse → write → parse is stable in both prefix styles.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wsman_harness::fuzzing::envelope(data);
});
