//! Structural comparison of a recorded message with a live one.
//!
//! Elements match by namespace URI and local name; prefixes, namespace declarations, attribute
//! order and whitespace around text do not count. SOAP headers match as a set (servers order
//! them differently); body children match in order. Correlation values compare through their
//! symbols, so a fresh ShellId is fine as long as it is used consistently. Per-scenario rules
//! leave places out (`ignore`) or compare only their presence and shape (`any-value`).

use std::fmt;

use super::path::{ElementPath, next_position, render};
use super::symbols::{Bindings, Symbols, key};
use crate::ns;
use crate::xml::{Element, Node, QName, resolve};

/// Per-scenario comparison rules.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Places compared not at all (neither presence nor value).
    pub ignore: Vec<ElementPath>,
    /// Places that must be present but whose text and attribute values may differ.
    pub any_value: Vec<ElementPath>,
    /// Compare SOAP headers in order instead of as a set.
    pub ordered_headers: bool,
}

/// Paths every scenario ignores unless it turns the defaults off: diagnostics that differ per
/// host and run and that no client acts on.
pub const DEFAULT_IGNORE: &[&str] = &[
    // MS-WSMV 2.2.4.1: an ETW correlation id, Windows-only.
    "/s:Envelope/s:Header/p:ActivityId",
    // Machine and ClientIP name the recording host.
    "//f:WSManFault/@Machine",
    "//rsp:Shell/rsp:ClientIP",
];

/// Paths every scenario compares for presence only unless it turns the defaults off: values
/// that name the host or account a recording was made on.
pub const DEFAULT_ANY_VALUE: &[&str] = &[
    // The service's own address (DSP0226 7.2: the EPR of the created resource).
    "//x:ResourceCreated/a:Address",
    // The account that owns a shell.
    "//rsp:Shell/rsp:Owner",
];

impl Rules {
    /// The built-in defaults.
    pub fn defaults() -> Self {
        let parse = |p: &&str| ElementPath::parse(p, &[]).expect("built-in path");
        Self {
            ignore: DEFAULT_IGNORE.iter().map(parse).collect(),
            any_value: DEFAULT_ANY_VALUE.iter().map(parse).collect(),
            ..Self::default()
        }
    }

    fn ignored(&self, at: &[(QName, usize)], attr: Option<&QName>) -> bool {
        self.ignore
            .iter()
            .any(|p| p.attribute.as_ref() == attr && p.matches(at))
    }

    fn child_ignored(&self, at: &[(QName, usize)], child: (&QName, usize)) -> bool {
        self.ignore
            .iter()
            .any(|p| p.attribute.is_none() && p.matches_child(at, Some(child)))
    }

    fn value_free(&self, at: &[(QName, usize)]) -> bool {
        self.any_value
            .iter()
            .any(|p| p.attribute.is_none() && p.matches(at))
    }

    fn attr_value_free(&self, at: &[(QName, usize)], attr: &QName) -> bool {
        self.any_value
            .iter()
            .any(|p| p.matches(at) && p.attribute.as_ref().is_none_or(|a| a == attr))
    }
}

/// One difference, in the shape h2spec and friends print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Where: `/s:Envelope/s:Body/rsp:ReceiveResponse/rsp:Stream[2]`.
    pub path: String,
    /// What the recording has.
    pub expected: String,
    /// What the live message has.
    pub actual: String,
    /// Why it matters when it is not obvious (symbol bindings).
    pub note: Option<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "at {}", self.path)?;
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  actual:   {}", self.actual)?;
        if let Some(n) = &self.note {
            write!(f, "\n  note:     {n}")?;
        }
        Ok(())
    }
}

/// The step-specific facts a comparison needs besides the rules.
pub struct Comparison<'a> {
    /// The scenario's rules.
    pub rules: &'a Rules,
    /// The recording's symbols.
    pub symbols: &'a Symbols,
    /// The recorded request's MessageID key and the MessageID actually sent in this step:
    /// a recorded RelatesTo equal to the former must be the latter.
    pub relates_to: Option<(String, String)>,
    /// Stop after this many differences.
    pub max: usize,
    /// Match attributes by local name alone (`rsp:CommandId` = `CommandId`): clients differ
    /// in qualifying them and WinRM reads both; for ranking requests, not for verdicts.
    pub loose_attributes: bool,
}

impl<'a> Comparison<'a> {
    /// A comparison for verdicts: no RelatesTo rule, strict attributes, [`MAX_REPORTED`]
    /// differences at most.
    pub fn new(rules: &'a Rules, symbols: &'a Symbols) -> Self {
        Self {
            rules,
            symbols,
            relates_to: None,
            max: MAX_REPORTED,
            loose_attributes: false,
        }
    }
}

/// Most differences listed per message.
pub const MAX_REPORTED: usize = 20;

/// The note on a difference that is only one of order.
pub const ORDER_NOTE: &str = "children in a different order";

/// Compares a recorded message with a live one; binds symbols on first use.
pub fn compare(
    cmp: &Comparison<'_>,
    expected: &Element,
    actual: &Element,
    bindings: &mut Bindings,
) -> Vec<Mismatch> {
    let mut w = Walker {
        cmp,
        bindings,
        out: Vec::new(),
        at: Vec::new(),
        scope_a: Vec::new(),
        scope_b: Vec::new(),
    };
    w.element(expected, actual, 1);
    w.out
}

struct Walker<'c, 'b> {
    cmp: &'c Comparison<'c>,
    bindings: &'b mut Bindings,
    out: Vec<Mismatch>,
    at: Vec<(QName, usize)>,
    scope_a: Vec<(String, String)>,
    scope_b: Vec<(String, String)>,
}

/// Long texts (base64 streams, config bodies) are cut in reports.
const SHOW: usize = 160;

pub(crate) fn show_text(t: &str) -> String {
    let t = t.trim();
    if t.chars().count() > SHOW {
        let cut: String = t.chars().take(SHOW).collect();
        format!("text {cut:?}… ({} chars)", t.chars().count())
    } else {
        format!("text {t:?}")
    }
}

impl Walker<'_, '_> {
    fn full(&self) -> bool {
        self.out.len() >= self.cmp.max
    }

    fn push(&mut self, expected: String, actual: String, note: Option<String>) {
        if !self.full() {
            let path = render(&self.at);
            self.out.push(Mismatch {
                path,
                expected,
                actual,
                note,
            });
        }
    }

    fn element(&mut self, a: &Element, b: &Element, pos: usize) {
        if self.full() {
            return;
        }
        self.at.push((a.name.clone(), pos));
        if a.name != b.name {
            self.push(
                format!("element {}", a.name),
                format!("element {}", b.name),
                None,
            );
            self.at.pop();
            return;
        }
        let (ma, mb) = (self.scope_a.len(), self.scope_b.len());
        self.scope_a.extend(a.ns_decls.iter().cloned());
        self.scope_b.extend(b.ns_decls.iter().cloned());
        let any = self.cmp.rules.value_free(&self.at);
        self.attributes(a, b);
        let is_header = a.name.is(ns::SOAP, "Header") && self.at.len() == 2;
        if is_header && !self.cmp.rules.ordered_headers {
            self.unordered(a, b);
        } else {
            self.ordered(a, b, any);
        }
        self.scope_a.truncate(ma);
        self.scope_b.truncate(mb);
        self.at.pop();
    }

    fn attributes(&mut self, a: &Element, b: &Element) {
        if a.attrs.is_empty() && b.attrs.is_empty() {
            return;
        }
        let (rules, at) = (self.cmp.rules, &self.at);
        let flags: Vec<(bool, bool)> = a
            .attrs
            .iter()
            .map(|x| {
                (
                    rules.ignored(at, Some(&x.name)),
                    rules.attr_value_free(at, &x.name),
                )
            })
            .collect();
        let extra_ignored: Vec<bool> = b
            .attrs
            .iter()
            .map(|y| rules.ignored(at, Some(&y.name)))
            .collect();
        for (x, (ignored, any)) in a.attrs.iter().zip(flags) {
            if ignored {
                continue;
            }
            match b.attrs.iter().find(|y| self.same_attr(&y.name, &x.name)) {
                None => self.push(
                    format!("attribute {}=\"{}\"", x.name, x.value),
                    "no such attribute".to_owned(),
                    None,
                ),
                Some(_) if any => {}
                Some(y) => {
                    if let Err(note) = self.same_value(&x.value, &y.value, false) {
                        self.push(
                            format!("attribute {}=\"{}\"", x.name, x.value),
                            format!("attribute {}=\"{}\"", y.name, y.value),
                            note,
                        );
                    }
                }
            }
        }
        for (y, ignored) in b.attrs.iter().zip(extra_ignored) {
            if !ignored && !a.attrs.iter().any(|x| self.same_attr(&x.name, &y.name)) {
                self.push(
                    "no such attribute".to_owned(),
                    format!("attribute {}=\"{}\"", y.name, y.value),
                    None,
                );
            }
        }
    }

    /// Headers: each recorded header must be there (in any order), nothing unrecorded may be.
    fn unordered(&mut self, a: &Element, b: &Element) {
        let mut used = vec![false; b.children.len()];
        let mut seen_a: Vec<(&QName, usize)> = Vec::new();
        for x in a.elements() {
            let pos = next_position(&mut seen_a, &x.name);
            if self.child_ignored(&x.name, pos) {
                continue;
            }
            let found = b
                .children
                .iter()
                .enumerate()
                .find(|(i, n)| !used[*i] && matches!(n, Node::Element(y) if y.name == x.name));
            match found {
                Some((i, Node::Element(y))) => {
                    used[i] = true;
                    self.element(x, y, pos);
                }
                _ => self.push(format!("header {}", x.name), "no such header".into(), None),
            }
        }
        let mut seen_b: Vec<(&QName, usize)> = Vec::new();
        for (i, n) in b.children.iter().enumerate() {
            if let Node::Element(y) = n {
                let pos = next_position(&mut seen_b, &y.name);
                if !used[i] && !self.child_ignored(&y.name, pos) {
                    self.push("no such header".into(), format!("header {}", y.name), None);
                }
            }
        }
    }

    fn same_attr(&self, a: &QName, b: &QName) -> bool {
        a == b || (self.cmp.loose_attributes && a.local == b.local)
    }

    fn child_ignored(&self, name: &QName, pos: usize) -> bool {
        self.cmp.rules.child_ignored(&self.at, (name, pos))
    }

    fn ordered(&mut self, a: &Element, b: &Element, any: bool) {
        let ka = self.significant(a);
        let kb = self.significant(b);
        let names = |k: &[(&Node, usize)]| -> Vec<String> {
            k.iter()
                .map(|(n, _)| match n {
                    Node::Element(e) => e.name.to_string(),
                    Node::Text(_) => "text".into(),
                })
                .collect()
        };
        let same_shape = ka.len() == kb.len()
            && ka.iter().zip(&kb).all(|((x, _), (y, _))| match (x, y) {
                (Node::Element(x), Node::Element(y)) => x.name == y.name,
                (Node::Text(_), Node::Text(_)) => true,
                _ => false,
            });
        let all_elements =
            |k: &[(&Node, usize)]| k.iter().all(|(n, _)| matches!(n, Node::Element(_)));
        if !same_shape && all_elements(&ka) && all_elements(&kb) {
            self.align(&ka, &kb);
            return;
        }
        if !same_shape {
            let (ea, eb) = (names(&ka), names(&kb));
            let texts = |k: &[(&Node, usize)]| match k {
                [(Node::Text(t), _)] => Some(show_text(t)),
                [] => Some("empty".to_owned()),
                _ => None,
            };
            let (da, db) = match (texts(&ka), texts(&kb)) {
                (Some(x), Some(y)) => (x, y),
                _ => (
                    format!("children [{}]", ea.join(", ")),
                    format!("children [{}]", eb.join(", ")),
                ),
            };
            self.push(da, db, None);
            return;
        }
        for ((x, pos), (y, _)) in ka.into_iter().zip(kb) {
            match (x, y) {
                (Node::Element(x), Node::Element(y)) => self.element(x, y, pos),
                (Node::Text(x), Node::Text(y)) if !any => {
                    let qname = a.name.is(ns::SOAP, "Value");
                    if let Err(note) = self.same_value(x, y, qname) {
                        self.push(show_text(x), show_text(y), note);
                    }
                }
                _ => {}
            }
        }
    }

    /// Element children in different shapes: pairs each recorded child with the next live one
    /// of the same name (so correlation values inside still bind) and reports the rest one by
    /// one as missing or unexpected.
    fn align(&mut self, ka: &[(&Node, usize)], kb: &[(&Node, usize)]) {
        let mut used = vec![false; kb.len()];
        let mut j = 0;
        for (x, pos) in ka {
            let Node::Element(x) = x else { continue };
            let same = |(y, _): &(&Node, usize)| matches!(y, Node::Element(y) if y.name == x.name);
            if let Some(k) = kb[j..].iter().position(same) {
                for (i, (y, _)) in kb.iter().enumerate().take(j + k).skip(j) {
                    if let Node::Element(y) = y
                        && !used[i]
                        && !ka
                            .iter()
                            .any(|(a, _)| matches!(a, Node::Element(a) if a.name == y.name))
                    {
                        used[i] = true;
                        self.push("nothing".into(), format!("element {}", y.name), None);
                    }
                }
                used[j + k] = true;
                if let (Node::Element(y), _) = kb[j + k] {
                    self.element(x, y, *pos);
                }
                j += k + 1;
            } else if let Some(k) = (0..kb.len()).find(|i| !used[*i] && same(&kb[*i])) {
                // Present, but earlier than the recording has it.
                used[k] = true;
                self.push(
                    format!("element {} later", x.name),
                    format!("element {} earlier", x.name),
                    Some(ORDER_NOTE.into()),
                );
                if let (Node::Element(y), _) = kb[k] {
                    self.element(x, y, *pos);
                }
            } else {
                self.push(format!("element {}", x.name), "nothing".into(), None);
            }
        }
        for (i, (y, _)) in kb.iter().enumerate() {
            if let Node::Element(y) = y
                && !used[i]
            {
                self.push("nothing".into(), format!("element {}", y.name), None);
            }
        }
    }

    /// Children that count: elements not ignored, text that is not layout.
    fn significant<'e>(&mut self, e: &'e Element) -> Vec<(&'e Node, usize)> {
        let mut seen: Vec<(&QName, usize)> = Vec::new();
        let mut out = Vec::new();
        for n in &e.children {
            match n {
                Node::Element(c) => {
                    let pos = next_position(&mut seen, &c.name);
                    if !self.child_ignored(&c.name, pos) {
                        out.push((n, pos));
                    }
                }
                Node::Text(t) if !t.trim().is_empty() => out.push((n, 0)),
                Node::Text(_) => {}
            }
        }
        out
    }

    /// Compares one value; `Err(note)` when different (the note explains symbol conflicts).
    fn same_value(&mut self, x: &str, y: &str, qname: bool) -> Result<(), Option<String>> {
        if let Some((recorded, sent)) = &self.cmp.relates_to
            && self
                .at
                .last()
                .is_some_and(|(n, _)| n.is(ns::ADDRESSING, "RelatesTo"))
            && key(x) == *recorded
        {
            return if key(y) == key(sent) {
                Ok(())
            } else {
                Err(Some(format!(
                    "RelatesTo must repeat the MessageID sent in this step, {sent}"
                )))
            };
        }
        if let Some(sym) = self.cmp.symbols.lookup(x) {
            return self.bindings.bind(self.cmp.symbols, sym, y).map_err(Some);
        }
        if qname
            && let (Some(qa), Some(qb)) = (resolve(x, &self.scope_a), resolve(y, &self.scope_b))
        {
            return if qa == qb { Ok(()) } else { Err(None) };
        }
        if x.trim() == y.trim() {
            Ok(())
        } else {
            Err(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Limits, parse_document};

    fn doc(s: &str) -> Element {
        parse_document(s.as_bytes(), Limits::UNBOUNDED).unwrap()
    }

    const REC: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">
  <s:Header>
    <a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse</a:Action>
    <a:MessageID>uuid:C86CBC5C-981C-47A1-A77F-7E2986A2AE39</a:MessageID>
    <p:ActivityId>822B1032-A155-0000-093F-2B8255A1D201</p:ActivityId>
    <a:RelatesTo>uuid:11111111-1111-1111-1111-111111111111</a:RelatesTo>
  </s:Header>
  <s:Body><rsp:CommandResponse><rsp:CommandId>0DA15A6E-0960-43FF-B54A-91A1A9D36131</rsp:CommandId></rsp:CommandResponse></s:Body>
</s:Envelope>"#;

    fn live(relates: &str, command: &str) -> String {
        format!(
            r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:sh="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><env:Header><wsa:RelatesTo>{relates}</wsa:RelatesTo><wsa:MessageID>uuid:9fa0e7b1-1111-4111-8111-000000000001</wsa:MessageID><wsa:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse</wsa:Action></env:Header><env:Body><sh:CommandResponse><sh:CommandId>{command}</sh:CommandId></sh:CommandResponse></env:Body></env:Envelope>"#
        )
    }

    fn setup() -> (Rules, Symbols) {
        let mut symbols = Symbols::default();
        symbols.learn(&doc(REC), false);
        (Rules::defaults(), symbols)
    }

    fn run(live_doc: &str, bindings: &mut Bindings) -> Vec<Mismatch> {
        let (rules, symbols) = setup();
        let cmp = Comparison {
            relates_to: Some((
                key("uuid:11111111-1111-1111-1111-111111111111"),
                "uuid:AAAAAAAA-0000-4000-8000-000000000001".into(),
            )),
            ..Comparison::new(&rules, &symbols)
        };
        compare(&cmp, &doc(REC), &doc(live_doc), bindings)
    }

    #[test]
    fn fresh_ids_prefixes_and_header_order_do_not_count() {
        let mut b = Bindings::default();
        let m = run(
            &live(
                "uuid:aaaaaaaa-0000-4000-8000-000000000001",
                "5E4B0C41-0000-4000-8000-00000000000C",
            ),
            &mut b,
        );
        assert!(m.is_empty(), "{m:#?}");
    }

    #[test]
    fn a_wrong_relates_to_is_explained() {
        let mut b = Bindings::default();
        let m = run(
            &live(
                "uuid:bbbbbbbb-0000-4000-8000-000000000001",
                "5E4B0C41-0000-4000-8000-00000000000C",
            ),
            &mut b,
        );
        assert_eq!(m.len(), 1, "{m:#?}");
        assert_eq!(m[0].path, "/s:Envelope/s:Header/a:RelatesTo");
        assert!(
            m[0].note
                .as_deref()
                .unwrap()
                .contains("MessageID sent in this step")
        );
    }

    #[test]
    fn a_symbol_must_keep_its_value() {
        let mut b = Bindings::default();
        let ok = live(
            "uuid:aaaaaaaa-0000-4000-8000-000000000001",
            "5E4B0C41-0000-4000-8000-00000000000C",
        );
        assert!(run(&ok, &mut b).is_empty());
        let changed = live(
            "uuid:aaaaaaaa-0000-4000-8000-000000000001",
            "5E4B0C41-0000-4000-8000-00000000000D",
        );
        let m = run(&changed, &mut b);
        assert!(
            m.iter().any(|m| m.path.ends_with("rsp:CommandId")
                && m.note.as_deref().unwrap().contains("CommandId#1 stood for")),
            "{m:#?}"
        );
    }

    #[test]
    fn structure_and_text_differences_are_reported_with_paths() {
        let (mut rules, symbols) = setup();
        let a = doc(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>1</x><y a="1">t</y></s:Body></s:Envelope>"#,
        );
        let b = doc(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>2</x><y a="2" c="3">u</y></s:Body></s:Envelope>"#,
        );
        let cmp = Comparison::new(&rules, &symbols);
        let m = compare(&cmp, &a, &b, &mut Bindings::default());
        let paths: Vec<_> = m
            .iter()
            .map(|m| (m.path.as_str(), m.expected.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("/s:Envelope/s:Body/x", "text \"1\""),
                ("/s:Envelope/s:Body/y", "attribute a=\"1\""),
                ("/s:Envelope/s:Body/y", "no such attribute"),
                ("/s:Envelope/s:Body/y", "text \"t\""),
            ]
        );
        rules
            .any_value
            .push(ElementPath::parse("//y", &[]).unwrap());
        rules.ignore.push(ElementPath::parse("//x", &[]).unwrap());
        rules
            .ignore
            .push(ElementPath::parse("//y/@c", &[]).unwrap());
        let cmp = Comparison::new(&rules, &symbols);
        assert!(compare(&cmp, &a, &b, &mut Bindings::default()).is_empty());
        let c = doc(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><y a="1">t</y><z/></s:Body></s:Envelope>"#,
        );
        let m = compare(&cmp, &a, &c, &mut Bindings::default());
        assert_eq!(m.len(), 1, "{m:#?}");
        assert_eq!(
            (m[0].path.as_str(), m[0].expected.as_str()),
            ("/s:Envelope/s:Body", "nothing")
        );
        assert_eq!(m[0].actual, "element z");
        let d = doc(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>t</s:Body></s:Envelope>"#,
        );
        let m = compare(&cmp, &a, &d, &mut Bindings::default());
        assert_eq!(
            (m[0].expected.as_str(), m[0].actual.as_str()),
            ("children [y]", "children [text]")
        );
    }
}
