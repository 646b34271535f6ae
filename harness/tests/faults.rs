//! The fault catalogue against real captured faults, and its builder against the model.

mod common;

use wsman_harness::catalogue::{FaultContext, catalogue};
use wsman_harness::envelope::{Body, parse};
use wsman_harness::ns;
use wsman_harness::xml::PrefixStyle;

/// Fixtures edited by their projects in ways a real server would not send, with the reason.
const ACTION_QUIRKS: &[(&str, &str)] = &[(
    "OpenNMS__wsman/itests/src/main/resources/__files/get-response-fault.xml",
    "WireMock stub built from a GetResponse: the Action header was not changed to the fault action",
)];

#[test]
fn catalogue_agrees_with_every_captured_fault() {
    let files = common::xml_files(&common::recordings());
    let cat = catalogue();
    let mut checked = 0;
    for f in files {
        let Ok(env) = parse(&std::fs::read(&f).unwrap()) else {
            continue;
        };
        let Body::Fault(fault) = &env.body else {
            continue;
        };
        let name = f.display();
        let Some(entry) = cat.entry_for(fault) else {
            // Faults outside the catalogue must be visibly odd (pywinrm's s:Unknown test case).
            assert!(
                fault.code.local == "Unknown",
                "{name}: {:?} is not catalogued",
                fault.subcode
            );
            continue;
        };
        checked += 1;
        assert_eq!(
            fault.code, entry.code,
            "{name}: SOAP code of {}",
            entry.prefixed
        );
        let quirk = ACTION_QUIRKS.iter().any(|(p, _)| f.ends_with(p));
        if let Some(action) = env.action().filter(|_| !quirk) {
            assert_eq!(action, entry.action, "{name}: action of {}", entry.prefixed);
        }
        if let Some(d) = fault.fault_detail() {
            assert!(
                entry.details.contains(&d),
                "{name}: detail {d} not listed for {}",
                entry.prefixed
            );
        }
        let Some(code) = fault.wsman_fault().and_then(|w| w.code.parse::<u32>().ok()) else {
            continue;
        };
        let conditions: Vec<_> = cat.by_windows_code(code).collect();
        if entry.windows_code == Some(code) || !conditions.is_empty() {
            let consistent = entry.windows_code == Some(code)
                || conditions
                    .iter()
                    .any(|c| cat.subcode_of(c).name == entry.name);
            assert!(
                consistent,
                "{name}: Windows code {code} does not go with {}",
                entry.prefixed
            );
        }
    }
    assert!(checked >= 12, "only {checked} captured faults checked");
}

#[test]
fn every_condition_builds_a_fault_that_reads_back() {
    let cat = catalogue();
    for c in &cat.conditions {
        let entry = cat.subcode_of(c);
        let ctx = FaultContext {
            relates_to: Some("uuid:D1D65143-B634-4725-BBF6-869CC4D3062F"),
            machine: "localhost",
            message: None,
        };
        let env = cat.condition_envelope(c, &ctx);
        let xml = wsman_harness::write(&env, PrefixStyle::Windows);
        let back = parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", c.id));
        assert_eq!(back, env, "{}", c.id);
        assert_eq!(back.action(), Some(entry.action), "{}", c.id);
        assert_eq!(back.relates_to(), ctx.relates_to, "{}", c.id);
        assert_eq!(back.header().to(), Some(ns::ANONYMOUS));
        let f = back.fault().unwrap();
        assert_eq!(f.code, entry.code);
        if entry.is_bare_code() {
            assert!(f.subcode.is_none(), "{}", c.id);
        } else {
            assert_eq!(f.subcode.as_ref(), Some(&entry.name), "{}", c.id);
        }
        assert_eq!(f.fault_detail(), c.detail, "{}", c.id);
        let w = f.wsman_fault();
        assert_eq!(
            w.as_ref().map(|w| w.code.clone()),
            c.windows_code.map(|n| n.to_string()),
            "{}",
            c.id
        );
        assert_eq!(c.http_status, 500);
        // Fault subcode prefixes are declared where Windows declares them.
        if let Some(sub) = &f.subcode {
            let p = ns::windows_prefix(&sub.ns).unwrap();
            assert!(xml.contains(&format!(">{p}:{}<", sub.local)), "{xml}");
        }
    }
}

#[test]
fn message_override_names_the_bad_value() {
    let cat = catalogue();
    let c = cat.condition("invalid-operation-timeout").unwrap();
    let env = cat.condition_envelope(
        c,
        &FaultContext {
            message: Some("OperationTimeout PT-1S is invalid"),
            ..Default::default()
        },
    );
    let w = env.fault().unwrap().wsman_fault().unwrap();
    assert_eq!(w.code, "2150858767");
    assert_eq!(
        w.message.as_deref(),
        Some("OperationTimeout PT-1S is invalid")
    );
    assert!(env.relates_to().is_none());
}
