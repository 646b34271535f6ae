//! Hostile and unusual input: every error carries an offset and a reason, nothing panics,
//! nothing expands, nothing grows without bound.

use wsman_harness::envelope::{Body, parse, parse_with, write};
use wsman_harness::xml::{ErrorKind, Limits, PrefixStyle};

const IDENTIFY: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;

const GET: &str = include_str!(
    "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd_get_config_fail/1-request.xml"
);

fn kind(input: &[u8]) -> ErrorKind {
    parse(input).expect_err("must be refused").kind
}

#[test]
fn doctype_and_entity_declarations_are_refused_not_expanded() {
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>{}",
        IDENTIFY.replace(
            "<wsmid:Identify/>",
            "<wsmid:Identify>&lol2;</wsmid:Identify>"
        )
    );
    let e = parse(laughs.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Doctype);
    assert_eq!(e.offset, 21, "offset of <!DOCTYPE");
    let external = format!("<!DOCTYPE s:Envelope SYSTEM \"file:///etc/passwd\">{IDENTIFY}");
    assert_eq!(kind(external.as_bytes()), ErrorKind::Doctype);
}

#[test]
fn undeclared_entities_are_refused_with_their_name() {
    let input = IDENTIFY.replace(
        "<wsmid:Identify/>",
        "<wsmid:Identify>a&xxe;b</wsmid:Identify>",
    );
    let e = parse(input.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnknownEntity("xxe".into()));
    assert_eq!(e.offset as usize, input.find("&xxe;").unwrap());
    let in_attr = IDENTIFY.replace("<s:Header/>", "<s:Header a=\"&xxe;\"/>");
    assert_eq!(
        kind(in_attr.as_bytes()),
        ErrorKind::UnknownEntity("xxe".into())
    );
}

#[test]
fn predefined_and_character_references_are_resolved() {
    let input = GET.replace("PT20S", "PT2&#48;S&amp;&lt;");
    let env = parse(input.as_bytes()).unwrap();
    assert_eq!(env.header().operation_timeout(), Some("PT20S&<"));
}

#[test]
fn deep_nesting_stops_at_the_limit_without_recursion_trouble() {
    let depth = 100_000;
    let mut s =
        String::from(r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>"#);
    s.push_str(&"<a>".repeat(depth));
    s.push_str(&"</a>".repeat(depth));
    s.push_str("</s:Body></s:Envelope>");
    let e = parse(s.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::TooDeep {
            limit: wsman_harness::xml::DEFAULT_MAX_DEPTH
        }
    );
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let shallow = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><a><b/></a></s:Body></s:Envelope>"#;
    assert!(parse_with(shallow.as_bytes(), limits).is_ok());
    let deeper = shallow.replace("<b/>", "<b><c/></b>");
    assert_eq!(
        parse_with(deeper.as_bytes(), limits).unwrap_err().kind,
        ErrorKind::TooDeep { limit: 4 }
    );
}

#[test]
fn oversized_input_is_refused_before_reading() {
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let e = parse_with(GET.as_bytes(), limits).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::TooLarge {
            size: GET.len(),
            limit: 100
        }
    );
}

#[test]
fn utf16_with_bom_reads_like_utf8() {
    let utf8 = parse(GET.as_bytes()).unwrap();
    for big_endian in [false, true] {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in GET.encode_utf16() {
            bytes.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        assert_eq!(parse(&bytes).unwrap(), utf8);
    }
    let mut bom8 = vec![0xEF, 0xBB, 0xBF];
    bom8.extend(GET.as_bytes());
    assert_eq!(parse(&bom8).unwrap(), utf8);
}

#[test]
fn utf16_errors_report_offsets_in_input_bytes() {
    let text = IDENTIFY.replace("<s:Header/>", "<s:Header>&bad;</s:Header>");
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let e = parse(&bytes).unwrap_err();
    assert_eq!(e.offset as usize, 2 + 2 * text.find("&bad;").unwrap());
}

#[test]
fn invalid_utf8_and_mismatched_declarations_are_refused() {
    let mut bytes = GET.as_bytes().to_vec();
    let at = GET.find("PT20S").unwrap();
    bytes[at] = 0xFF;
    let e = parse(&bytes).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Encoding(_)));
    assert_eq!(e.offset as usize, at);
    let declared = format!("<?xml version=\"1.0\" encoding=\"utf-16\"?>{IDENTIFY}");
    assert!(
        matches!(kind(declared.as_bytes()), ErrorKind::Encoding(m) if m.contains("does not match"))
    );
    let latin = format!("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>{IDENTIFY}");
    assert!(matches!(kind(latin.as_bytes()), ErrorKind::Encoding(_)));
    assert!(matches!(
        kind(&[0, 0, 0xFE, 0xFF, 0, 0, 0, b'<']),
        ErrorKind::Encoding(_)
    ));
}

#[test]
fn soap_11_and_non_envelopes_are_told_apart() {
    let soap11 = IDENTIFY.replace(
        "http://www.w3.org/2003/05/soap-envelope",
        "http://schemas.xmlsoap.org/soap/envelope/",
    );
    assert_eq!(kind(soap11.as_bytes()), ErrorKind::Soap11);
    match kind(b"<html><body/></html>") {
        ErrorKind::Unexpected { expected, found } => {
            assert!(expected.contains("Envelope"), "{expected}");
            assert!(found.contains("html"), "{found}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(kind(b""), ErrorKind::Unexpected { .. }));
    assert!(matches!(kind(b"   "), ErrorKind::Unexpected { .. }));
}

#[test]
fn structure_errors_name_what_was_expected() {
    let no_body =
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>"#;
    assert!(
        matches!(kind(no_body.as_bytes()), ErrorKind::Unexpected { expected, .. } if expected.contains("Body"))
    );
    let trailing = format!("{IDENTIFY}<extra/>");
    let e = parse(trailing.as_bytes()).unwrap_err();
    assert_eq!(e.offset as usize, IDENTIFY.len());
    let undeclared = IDENTIFY.replace("<s:Header/>", "<s:Header><q:X/></s:Header>");
    assert!(matches!(kind(undeclared.as_bytes()), ErrorKind::Namespace(m) if m.contains("'q'")));
    let mismatched = IDENTIFY.replace("</s:Body>", "</s:Bodx>");
    assert!(matches!(kind(mismatched.as_bytes()), ErrorKind::Syntax(_)));
    let text_in_body = IDENTIFY.replace("<wsmid:Identify/>", "hello");
    assert!(
        matches!(kind(text_in_body.as_bytes()), ErrorKind::Unexpected { found, .. } if found == "text")
    );
}

#[test]
fn every_proper_prefix_of_an_envelope_is_refused() {
    let full = GET.trim_end().as_bytes();
    assert!(parse(full).is_ok());
    for n in 0..full.len() {
        let e = parse(&full[..n]).expect_err("a truncated envelope must not parse");
        assert!(
            e.offset as usize <= n,
            "offset {} past the end {n}",
            e.offset
        );
    }
}

#[test]
fn prefixes_do_not_matter() {
    // AMT-style: `a` is bound to SOAP, the addressing namespace has another prefix.
    let amt = GET
        .replace("xmlns:a=", "xmlns:addr=")
        .replace("<a:", "<addr:")
        .replace("</a:", "</addr:")
        .replace("xmlns:s=", "xmlns:a=")
        .replace("<s:", "<a:")
        .replace("</s:", "</a:")
        .replace("s:mustUnderstand", "a:mustUnderstand");
    assert_ne!(amt, GET);
    let a = parse(GET.as_bytes()).unwrap();
    let b = parse(amt.as_bytes()).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        b.action(),
        Some("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get")
    );
    // Preserving prefixes keeps the AMT binding of `a` to SOAP.
    let kept = write(&b, PrefixStyle::Preserve);
    assert!(kept.starts_with("<a:Envelope"), "{kept}");
    assert_eq!(parse(kept.as_bytes()).unwrap(), a);
}

#[test]
fn identify_reads_without_action_in_either_namespace_spelling() {
    let env = parse(IDENTIFY.as_bytes()).unwrap();
    assert!(matches!(env.body, Body::Identify(_)));
    assert_eq!(env.operation().name(), "Identify");
    let typo = IDENTIFY.replace("/identity/", "/identify/");
    let env = parse(typo.as_bytes()).unwrap();
    match &env.body {
        Body::Identify(i) => assert_eq!(i.namespace, wsman_harness::ns::IDENTIFY_SPEC_TYPO),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_and_unknown_headers_are_kept_in_order_with_must_understand() {
    let input = GET.replace(
        "<w:OperationTimeout>PT20S</w:OperationTimeout>",
        "<w:OperationTimeout>PT20S</w:OperationTimeout><x:Frob xmlns:x=\"urn:x\" s:mustUnderstand=\"1\">v</x:Frob><a:MessageID>uuid:dup</a:MessageID>",
    );
    let env = parse(input.as_bytes()).unwrap();
    let unknown: Vec<_> = env.header().unknown().collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        wsman_harness::envelope::must_understand(&unknown[0].attrs),
        Some(true)
    );
    let ids: Vec<_> = env
        .header()
        .blocks
        .iter()
        .filter(|b| matches!(b, wsman_harness::envelope::HeaderBlock::MessageId(_)))
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        parse(write(&env, PrefixStyle::Windows).as_bytes()).unwrap(),
        env
    );
}

#[test]
fn invalid_header_values_are_represented_not_rejected() {
    // A harness must read (and send) what a broken peer sends.
    let input = GET.replace("PT20S", "PT-1S").replace("153600", "-5");
    let env = parse(input.as_bytes()).unwrap();
    assert_eq!(env.header().operation_timeout(), Some("PT-1S"));
    assert_eq!(env.header().max_envelope_size().unwrap().value, "-5");
    assert!(wsman_harness::duration::parse_timeout("PT-1S").is_err());
}

#[test]
fn fault_codes_with_undeclared_prefixes_are_refused() {
    let fault = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="">x</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;
    let e = parse(fault.as_bytes()).unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::Namespace(m) if m.contains("w:InternalError")),
        "{e}"
    );
    assert_eq!(e.offset as usize, fault.find("<s:Fault>").unwrap());
    let declared = fault.replace(
        "<s:Fault>",
        "<s:Fault xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">",
    );
    let env = parse(declared.as_bytes()).unwrap();
    assert_eq!(
        env.fault().unwrap().subcode.as_ref().unwrap().local,
        "InternalError"
    );
}

/// winrm-rs sends its shell OptionSet between `</s:Header>` and `<s:Body>`; the element is kept
/// (and written back in place), while anything before the header or after the body is still
/// refused.
#[test]
fn elements_between_header_and_body_are_kept_not_refused() {
    let misplaced = IDENTIFY.replace(
        "<s:Header/>",
        r#"<s:Header/><w:OptionSet xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><w:Option Name="WINRS_CODEPAGE">65001</w:Option></w:OptionSet>"#,
    );
    assert_ne!(misplaced, IDENTIFY);
    let env = parse(misplaced.as_bytes()).unwrap();
    assert_eq!(env.misplaced.len(), 1);
    assert_eq!(env.misplaced[0].name.local, "OptionSet");
    for style in [PrefixStyle::Windows, PrefixStyle::Preserve] {
        let out = write(&env, style);
        let again = parse(out.as_bytes()).unwrap();
        assert_eq!(again, env, "{out}");
        let (h, o, b) = (
            out.find("<s:Header").unwrap(),
            out.find("OptionSet").unwrap(),
            out.find("<s:Body").unwrap(),
        );
        assert!(h < o && o < b, "{out}");
    }
    let before_header = IDENTIFY.replace("<s:Header/>", "<s:Other/><s:Header/>");
    assert!(
        matches!(kind(before_header.as_bytes()), ErrorKind::Unexpected { expected, .. } if expected.contains("Header"))
    );
    let after_body = IDENTIFY.replace("</s:Body>", "</s:Body><s:Other/>");
    assert!(parse(after_body.as_bytes()).is_err());
}
