//! Every recorded envelope under `fixtures/recordings` reads, writes back XML-equivalent in both
//! prefix styles, and reads again to the same model.

mod common;

use wsman_harness::envelope::{Body, parse, write};
use wsman_harness::xml::{self, Limits, PrefixStyle};

#[test]
fn every_recorded_envelope_round_trips() {
    let files = common::xml_files(&common::recordings());
    assert!(files.len() > 500, "fixtures missing: {}", files.len());
    let (mut envelopes, mut typed, mut not_xml, mut not_envelope) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let name = f
            .strip_prefix(common::recordings())
            .unwrap()
            .display()
            .to_string();
        let Ok(root) = xml::parse_document(&bytes, Limits::UNBOUNDED) else {
            not_xml += 1;
            assert!(
                parse(&bytes).is_err(),
                "{name}: not XML, yet parsed as an envelope"
            );
            continue;
        };
        if !root.name.is(wsman_harness::ns::SOAP, "Envelope") {
            not_envelope += 1;
            assert!(
                parse(&bytes).is_err(),
                "{name}: not an envelope, yet parsed"
            );
            continue;
        }
        envelopes += 1;
        let env = match parse(&bytes) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if !matches!(env.body, Body::Other(_)) {
            typed += 1;
        }
        for style in [PrefixStyle::Preserve, PrefixStyle::Windows] {
            let out = write(&env, style);
            if let Err(e) = xml::equivalent(&bytes, out.as_bytes()) {
                failures.push(format!("{name} ({style:?}): {e}\n{out}"));
                continue;
            }
            match parse(out.as_bytes()) {
                Ok(again) if again == env => {}
                Ok(_) => failures.push(format!("{name} ({style:?}): model changed after writing")),
                Err(e) => failures.push(format!(
                    "{name} ({style:?}): written form does not parse: {e}"
                )),
            }
        }
    }
    eprintln!(
        "{} files: {envelopes} envelopes ({typed} with a typed body), {not_envelope} other XML, {not_xml} not well-formed",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        envelopes > 450 && typed > 150,
        "{envelopes} envelopes, {typed} typed"
    );
}
