//! The reader's own namespace stack against quick-xml's `NsReader`, on generated documents that
//! declare, redeclare and undeclare prefixes and the default namespace at every level: every
//! element and attribute must resolve to the same namespace, and a document `NsReader` cannot
//! resolve (an undeclared prefix, a reserved prefix rebound) must be refused.

use proptest::prelude::*;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use wsman_harness::xml::{Element, Limits, parse_document};

/// A generated element: prefix, declarations, attribute prefixes, children.
#[derive(Clone, Debug)]
struct Gen {
    prefix: Option<&'static str>,
    decls: Vec<(&'static str, &'static str)>,
    attrs: Vec<Option<&'static str>>,
    children: Vec<Gen>,
}

const PREFIXES: &[&str] = &["a", "b", "c", "xml"];
/// URIs to bind; `""` undeclares (a named prefix) or removes the default namespace; the XML
/// namespace is legal only for `xml`, so binding it elsewhere must be refused.
const URIS: &[&str] = &[
    "urn:one",
    "urn:two",
    "",
    "http://www.w3.org/XML/1998/namespace",
];

fn decl() -> impl Strategy<Value = (&'static str, &'static str)> {
    (
        prop_oneof![Just(""), proptest::sample::select(PREFIXES)],
        proptest::sample::select(URIS),
    )
}

fn prefix() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        3 => Just(None),
        4 => proptest::sample::select(&PREFIXES[..3]).prop_map(Some),
        1 => Just(Some("xml")),
    ]
}

fn element() -> impl Strategy<Value = Gen> {
    let leaf = (
        prefix(),
        proptest::collection::vec(decl(), 0..3),
        proptest::collection::vec(prefix(), 0..3),
    )
        .prop_map(|(prefix, decls, attrs)| Gen {
            prefix,
            decls,
            attrs,
            children: Vec::new(),
        });
    leaf.prop_recursive(4, 24, 3, |inner| {
        (
            prefix(),
            proptest::collection::vec(decl(), 0..3),
            proptest::collection::vec(prefix(), 0..2),
            proptest::collection::vec(inner, 0..3),
        )
            .prop_map(|(prefix, decls, attrs, children)| Gen {
                prefix,
                decls,
                attrs,
                children,
            })
    })
}

fn render(g: &Gen, out: &mut String) {
    let name = match g.prefix {
        Some(p) => format!("{p}:e"),
        None => "e".to_owned(),
    };
    out.push('<');
    out.push_str(&name);
    let mut declared: Vec<&str> = Vec::new();
    for (p, u) in &g.decls {
        // One declaration per prefix per element: a repeat is a well-formedness error both
        // readers refuse, which says nothing about resolution.
        if declared.contains(p) {
            continue;
        }
        declared.push(p);
        if p.is_empty() {
            out.push_str(&format!(" xmlns=\"{u}\""));
        } else {
            out.push_str(&format!(" xmlns:{p}=\"{u}\""));
        }
    }
    for (i, p) in g.attrs.iter().enumerate() {
        match p {
            Some(p) => out.push_str(&format!(" {p}:k{i}=\"v\"")),
            None => out.push_str(&format!(" k{i}=\"v\"")),
        }
    }
    if g.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in &g.children {
        render(c, out);
    }
    out.push_str(&format!("</{name}>"));
}

/// What quick-xml resolves, element and attributes in document order; `None` when it refuses
/// the document or a name does not resolve.
fn reference(text: &str) -> Option<Vec<String>> {
    let mut r = NsReader::from_str(text);
    r.config_mut().expand_empty_elements = false;
    let mut out = Vec::new();
    loop {
        match r.read_event().ok()? {
            Event::Start(t) | Event::Empty(t) => {
                let resolver = r.resolver();
                match resolver.resolve_element(t.name()).0 {
                    ResolveResult::Bound(n) => out.push(n.into_inner().to_owned()),
                    ResolveResult::Unbound => out.push(String::new()),
                    ResolveResult::Unknown(_) => return None,
                }
                for a in t.attributes() {
                    let a = a.ok()?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    match resolver.resolve_attribute(a.key).0 {
                        ResolveResult::Bound(n) => out.push(n.into_inner().to_owned()),
                        ResolveResult::Unbound => out.push(String::new()),
                        ResolveResult::Unknown(_) => return None,
                    }
                }
            }
            Event::Eof => return Some(out),
            _ => {}
        }
    }
}

fn ours(e: &Element, out: &mut Vec<String>) {
    out.push(e.name.ns.to_string());
    for a in &e.attrs {
        out.push(a.name.ns.to_string());
    }
    for c in e.elements() {
        ours(c, out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_name_resolves_as_quick_xml_resolves_it(g in element()) {
        let mut text = String::new();
        render(&g, &mut text);
        let expected = reference(&text);
        let got = parse_document(text.as_bytes(), Limits::default());
        match (expected, got) {
            (Some(expected), Ok(tree)) => {
                let mut names = Vec::new();
                ours(&tree, &mut names);
                prop_assert_eq!(names, expected, "{}", text);
            }
            (None, Err(_)) => {}
            (Some(_), Err(e)) => prop_assert!(false, "refused {text}: {e}"),
            (None, Ok(_)) => prop_assert!(false, "accepted {text}, which quick-xml refuses"),
        }
    }
}

#[test]
fn the_generator_makes_documents_of_both_outcomes() {
    // Guards the property above against a generator that only ever makes one kind of document
    // (then it would compare only refusals, or only resolutions).
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut resolved, mut refused) = (0, 0);
    for _ in 0..500 {
        let g = element().new_tree(&mut runner).unwrap().current();
        let mut text = String::new();
        render(&g, &mut text);
        match reference(&text) {
            Some(_) => resolved += 1,
            None => refused += 1,
        }
    }
    assert!(
        resolved > 50 && refused > 50,
        "{resolved} resolved, {refused} refused"
    );
}

#[test]
fn fixed_documents_of_each_outcome_agree() {
    let ok = r#"<a:e xmlns:a="urn:one"><e xmlns="urn:two" a:k0="v"/></a:e>"#;
    let undeclared = r#"<e xmlns:a="urn:one"><a:e xmlns:a=""/></e>"#;
    let reserved = r#"<e xmlns:b="http://www.w3.org/XML/1998/namespace"/>"#;
    assert!(reference(ok).is_some() && parse_document(ok.as_bytes(), Limits::default()).is_ok());
    for bad in [undeclared, reserved] {
        assert!(reference(bad).is_none(), "{bad}");
        assert!(
            parse_document(bad.as_bytes(), Limits::default()).is_err(),
            "{bad}"
        );
    }
}
