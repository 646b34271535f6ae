//! Namespace bindings in scope while reading.
//!
//! quick-xml's `NsReader`, which the reader once used, walks every start tag's attributes once
//! more and allocates its stack per document; this stack is consulted only when a tag
//! declares something (`xmlns` in its attributes) and keeps its buffers across the document.
//! The rules are those of Namespaces in XML 1.0 §3 as quick-xml applies them: `xml` may only
//! be bound to its own namespace, `xmlns` never, no other prefix to either reserved namespace,
//! and `xmlns:p=""` undeclares `p` (an error to use afterwards).

use quick_xml::name::PrefixDeclaration;

use super::lexer::Tag;

use crate::ns;

/// The namespace the `xmlns` prefix is bound to by definition.
const XMLNS: &str = "http://www.w3.org/2000/xmlns/";

/// Declarations allowed in scope at once: bounds memory and the cost of each lookup against a
/// document that declares thousands of prefixes (the limit quick-xml applies too).
pub const MAX_BINDINGS: usize = 128;

/// What a prefix resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// A namespace URI (raw, as declared).
    Bound(&'a str),
    /// No namespace: an unprefixed attribute, or an unprefixed element without a default.
    Unbound,
    /// A prefix with no declaration in scope.
    Unknown,
}

#[derive(Clone, Copy, Debug)]
struct Binding {
    start: usize,
    prefix_len: usize,
    uri_len: usize,
    level: u16,
    /// The `'static` copy of the URI when it is a well-known one: found once per declaration,
    /// so that naming each element in it needs no search.
    known: Option<&'static str>,
}

/// The stack of declarations, innermost last.
#[derive(Debug, Default)]
pub struct Scopes {
    /// Prefixes and URIs of the bindings, concatenated.
    text: String,
    bindings: Vec<Binding>,
    /// Start tags opened and not yet popped.
    level: u16,
    /// An end tag (or an empty element) was read: its scope ends before the next token.
    pending_pop: bool,
}

impl Scopes {
    /// Ends the scope of the element closed by the previous token, if any.
    #[inline]
    pub fn settle(&mut self) {
        if self.pending_pop {
            self.pending_pop = false;
            self.pop();
        }
    }

    /// Opens a start tag's scope with its declarations. `empty` for `<x/>`, whose scope ends
    /// with the next token.
    pub fn push(&mut self, tag: &Tag<'_>, empty: bool) -> Result<(), String> {
        self.level = self
            .level
            .checked_add(1)
            .ok_or("elements nest too deeply")?;
        self.pending_pop = empty;
        if !tag.attributes_raw().contains("xmlns") {
            return Ok(());
        }
        // Malformed attributes are reported by the checks that follow; declarations before the
        // first malformed one are taken, as a tokenizer-level resolver would.
        for a in tag.attributes().with_checks(false) {
            let Ok(a) = a else { break };
            if let Some(decl) = a.key.as_namespace_binding() {
                self.add(decl, a.value.as_ref())?;
            }
        }
        Ok(())
    }

    /// Closes the innermost element's scope when the next token is read.
    #[inline]
    pub fn end(&mut self) {
        self.pending_pop = true;
    }

    fn add(&mut self, decl: PrefixDeclaration<'_>, uri: &str) -> Result<(), String> {
        let prefix = match decl {
            PrefixDeclaration::Default => "",
            PrefixDeclaration::Named("xml") if uri == ns::XML => return Ok(()),
            PrefixDeclaration::Named("xml") => {
                return Err(format!(
                    "the prefix 'xml' may only be bound to {}, not {uri:?}",
                    ns::XML
                ));
            }
            PrefixDeclaration::Named("xmlns") => {
                return Err("the prefix 'xmlns' may not be declared".into());
            }
            PrefixDeclaration::Named(p) if uri == ns::XML || uri == XMLNS => {
                return Err(format!(
                    "the prefix '{p}' may not be bound to the reserved namespace {uri}"
                ));
            }
            PrefixDeclaration::Named(p) => p,
        };
        if self.bindings.len() >= MAX_BINDINGS {
            return Err(format!(
                "more than {MAX_BINDINGS} namespace declarations in scope"
            ));
        }
        if self.bindings.capacity() == 0 {
            // Room for an envelope's usual declarations (about six on the root, a few more
            // inside) at the first one, so that reading it allocates each buffer once; a
            // document without declarations (most fuzz inputs) allocates nothing.
            self.text.reserve(512);
            self.bindings.reserve(12);
        }
        let start = self.text.len();
        self.text.push_str(prefix);
        self.text.push_str(uri);
        self.bindings.push(Binding {
            start,
            prefix_len: prefix.len(),
            uri_len: uri.len(),
            level: self.level,
            known: ns::known(uri),
        });
        Ok(())
    }

    fn pop(&mut self) {
        let keep = self
            .bindings
            .iter()
            .rposition(|b| b.level < self.level)
            .map_or(0, |i| i + 1);
        if let Some(first) = self.bindings.get(keep) {
            self.text.truncate(first.start);
        }
        self.bindings.truncate(keep);
        self.level = self.level.saturating_sub(1);
    }

    fn prefix_of(&self, b: &Binding) -> &str {
        &self.text[b.start..b.start + b.prefix_len]
    }

    fn uri_of(&self, b: &Binding) -> &str {
        let at = b.start + b.prefix_len;
        &self.text[at..at + b.uri_len]
    }

    /// The innermost binding in force for a prefix (`None`: the default namespace), if it
    /// binds a URI: an undeclaring `xmlns:p=""` leaves none.
    #[inline]
    fn bound(&self, prefix: Option<&str>) -> Option<&Binding> {
        let p = prefix.unwrap_or_default();
        self.bindings
            .iter()
            .rev()
            .find(|b| b.prefix_len == p.len() && self.prefix_of(b) == p)
            .filter(|b| b.uri_len > 0)
    }

    /// Resolves a prefix (`None` for an unprefixed name). Unprefixed element names take the
    /// default namespace; unprefixed attributes have none.
    pub fn resolve(&self, prefix: Option<&str>, element: bool) -> Resolved<'_> {
        match prefix {
            None if !element => Resolved::Unbound,
            Some("xml") => Resolved::Bound(ns::XML),
            Some("xmlns") => Resolved::Bound(XMLNS),
            _ => match (self.bound(prefix), prefix) {
                (Some(b), _) => Resolved::Bound(self.uri_of(b)),
                (None, None) => Resolved::Unbound,
                (None, Some(_)) => Resolved::Unknown,
            },
        }
    }

    /// [`Scopes::resolve`] for an element name, with the `'static` copy of a well-known URI:
    /// `Ok(Some(uri))` for one, `Ok(None)` for any other namespace, `Err(())` for an undeclared
    /// prefix. No namespace at all is `Ok(Some(""))`.
    #[inline]
    pub fn resolve_known(&self, prefix: Option<&str>) -> Result<Option<&'static str>, ()> {
        match prefix {
            Some("xml") => Ok(Some(ns::XML)),
            Some("xmlns") => Ok(None),
            _ => match (self.bound(prefix), prefix) {
                (Some(b), _) => Ok(b.known),
                (None, None) => Ok(Some("")),
                (None, Some(_)) => Err(()),
            },
        }
    }

    /// The declarations made by elements at `level` or outside it, outermost first, as
    /// `(prefix, uri)`, `""` for the default namespace.
    pub fn up_to(&self, level: usize) -> impl Iterator<Item = (&str, &str)> {
        self.bindings
            .iter()
            .filter(move |b| usize::from(b.level) <= level)
            .map(|b| (self.prefix_of(b), self.uri_of(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(text: &str) -> Tag<'_> {
        use crate::xml::{Lexer, Token};
        match Lexer::new(text).next_token() {
            Ok(Token::Start(t) | Token::Empty(t)) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bindings_nest_and_end_with_their_element() {
        let mut s = Scopes::default();
        s.push(&start(r#"<r xmlns="urn:d" xmlns:a="urn:a">"#), false)
            .unwrap();
        s.push(&start(r#"<c xmlns:a="urn:inner" xmlns:b="urn:b"/>"#), true)
            .unwrap();
        assert_eq!(s.resolve(Some("a"), true), Resolved::Bound("urn:inner"));
        assert_eq!(s.resolve(None, true), Resolved::Bound("urn:d"));
        assert_eq!(s.resolve(None, false), Resolved::Unbound);
        s.settle();
        assert_eq!(s.resolve(Some("a"), true), Resolved::Bound("urn:a"));
        assert_eq!(s.resolve(Some("b"), true), Resolved::Unknown);
        assert_eq!(s.resolve(Some("xml"), false), Resolved::Bound(ns::XML));
        let outer: Vec<_> = s.up_to(1).collect();
        assert_eq!(outer, vec![("", "urn:d"), ("a", "urn:a")]);
    }

    #[test]
    fn undeclaring_and_reserved_prefixes() {
        let mut s = Scopes::default();
        s.push(&start(r#"<r xmlns:a="urn:a" xmlns="urn:d">"#), false)
            .unwrap();
        s.push(&start(r#"<c xmlns:a="" xmlns="">"#), false).unwrap();
        assert_eq!(s.resolve(Some("a"), true), Resolved::Unknown);
        assert_eq!(s.resolve(None, true), Resolved::Unbound);
        let mut s = Scopes::default();
        for bad in [
            r#"<r xmlns:xml="urn:x">"#,
            r#"<r xmlns:xmlns="urn:x">"#,
            r#"<r xmlns:p="http://www.w3.org/XML/1998/namespace">"#,
            r#"<r xmlns:p="http://www.w3.org/2000/xmlns/">"#,
        ] {
            assert!(s.push(&start(bad), false).is_err(), "{bad}");
        }
        let ok = format!(r#"<r xmlns:xml="{}">"#, ns::XML);
        assert!(s.push(&start(&ok), false).is_ok());
    }

    #[test]
    fn declarations_are_bounded() {
        let mut s = Scopes::default();
        let decls: String = (0..=MAX_BINDINGS)
            .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
            .collect();
        let tag = format!("<r{decls}>");
        let err = s.push(&start(&tag), false).unwrap_err();
        assert!(err.contains("128"), "{err}");
    }
}
