//! See `wsman_harness::fuzzing::xml_lexer`: the lexer must read every text exactly as
//! quick-xml's reader does (tokens, attributes, errors and their offsets).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wsman_harness::fuzzing::xml_lexer(data);
});
