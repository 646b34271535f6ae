//! A generic, owned element tree for everything the typed model does not name: resource bodies
//! such as `cfg:Config`, CIM instances, fault details, unknown headers.

use super::name::{Attribute, QName, same_attrs};

/// One XML element with its namespace declarations kept, so that QName-valued content (fault
/// subcodes, `xsi:type`) still resolves after the element is written again.
#[derive(Clone, Debug, Default)]
pub struct Element {
    /// Expanded name.
    pub name: QName,
    /// Prefix seen in the source (`None` when the element was unprefixed).
    pub prefix: Option<std::borrow::Cow<'static, str>>,
    /// Namespace declarations made on this element: `(prefix, uri)`, `""` for the default.
    pub ns_decls: Vec<(String, String)>,
    /// Attributes other than namespace declarations.
    pub attrs: Vec<Attribute>,
    /// Child nodes. Whitespace-only text between child elements is not kept.
    pub children: Vec<Node>,
}

/// A child node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A nested element.
    Element(Element),
    /// Character data (text and CDATA merged, entities resolved).
    Text(String),
}

impl Default for QName {
    fn default() -> Self {
        QName::new("", "")
    }
}

impl PartialEq for Element {
    /// Equality by namespace URI, attribute set and children; prefixes and declarations are
    /// presentation and do not count.
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && same_attrs(&self.attrs, &other.attrs)
            && self.children == other.children
    }
}
impl Eq for Element {}

impl Element {
    /// An empty element.
    pub fn new(name: QName) -> Self {
        Self {
            name,
            ..Self::default()
        }
    }

    /// An element holding only text.
    pub fn with_text(name: QName, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut e = Self::new(name);
        if !text.is_empty() {
            e.children.push(Node::Text(text));
        }
        e
    }

    /// Builder: adds an attribute.
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attrs.push(a);
        self
    }

    /// Builder: adds a child element.
    pub fn child(mut self, e: Element) -> Self {
        self.children.push(Node::Element(e));
        self
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `{ns}local`.
    pub fn find(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.name.is(ns, local))
    }

    /// All text directly inside this element, concatenated.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// All text inside this element and its descendants, concatenated in document order.
    pub fn deep_text(&self) -> String {
        let mut s = String::new();
        fn walk(e: &Element, s: &mut String) {
            for n in &e.children {
                match n {
                    Node::Text(t) => s.push_str(t),
                    Node::Element(c) => walk(c, s),
                }
            }
        }
        walk(self, &mut s);
        s
    }

    /// True when the element has no child element (only text, or nothing).
    pub fn is_simple(&self) -> bool {
        self.children.iter().all(|n| matches!(n, Node::Text(_)))
    }

    /// The value of an attribute by expanded name.
    pub fn attr_value(&self, ns: &str, local: &str) -> Option<&str> {
        super::name::attr(&self.attrs, ns, local)
    }

    /// Adds the bindings of the scope the element stood in (its own declarations win), so that
    /// prefixes used in its content (`s:Value` QNames, `xsi:type` values) still resolve when it
    /// is written under different outer declarations. The writer skips the redundant ones.
    pub fn with_outer_scope(mut self, scope: &[(String, String)]) -> Self {
        for (p, u) in scope {
            if !self.ns_decls.iter().any(|(q, _)| q == p) {
                self.ns_decls.push((p.clone(), u.clone()));
            }
        }
        self
    }

    /// Resolves a prefix using only the declarations made on this element.
    pub fn own_binding(&self, prefix: &str) -> Option<&str> {
        self.ns_decls
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }
}
