//! The contract between the generic tree and each typed message part.
//!
//! A typed part is accepted only if writing it back gives the element it was read from, so the
//! typed model can never lose or reorder anything: what it cannot represent stays generic.

use crate::xml::{Attribute, Element, Node, QName, compare_in_scope};

/// A message part with a typed form.
pub(crate) trait Part: Sized {
    /// Reads the typed form; `None` when the element is not this part at all.
    fn read(e: &Element, scope: &[(String, String)]) -> Option<Self>;
    /// Writes the typed form back as a tree.
    fn to_element(&self) -> Element;
}

/// The typed form of `e`, if it reproduces `e` exactly.
pub(crate) fn faithful<T: Part>(e: &Element, scope: &[(String, String)]) -> Option<T> {
    faithful_by(e, scope, |e| T::read(e, scope), T::to_element)
}

/// [`faithful`] for parts whose element name depends on where they stand (endpoint references).
pub(crate) fn faithful_by<T>(
    e: &Element,
    scope: &[(String, String)],
    read: impl Fn(&Element) -> Option<T>,
    write: impl Fn(&T) -> Element,
) -> Option<T> {
    let t = read(e)?;
    let back = write(&t);
    compare_in_scope(e, scope, &back, scope).ok().map(|_| t)
}

/// A copy of a generic child of `parent` that keeps the bindings in scope where it stood, so
/// that QName-valued content inside it still resolves when it is written elsewhere.
pub(crate) fn scoped(child: &Element, parent: &Element, scope: &[(String, String)]) -> Element {
    let mut outer = scope.to_vec();
    outer.extend(parent.ns_decls.iter().cloned());
    child.clone().with_outer_scope(&outer)
}

/// An element holding only text, such as most WS-Addressing and WS-Man headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    /// The text, exactly as on the wire (a harness must represent invalid values too).
    pub value: String,
    /// Attributes such as `s:mustUnderstand` or `xml:lang`.
    pub attrs: Vec<Attribute>,
}

impl Text {
    /// Text with no attributes.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            attrs: Vec::new(),
        }
    }

    /// Builder: adds `s:mustUnderstand="true"` (or `"false"`).
    pub fn must_understand(mut self, yes: bool) -> Self {
        self.attrs
            .retain(|a| !a.name.is(crate::ns::SOAP, "mustUnderstand"));
        self.attrs.push(Attribute::qualified(
            QName::new(crate::ns::SOAP, "mustUnderstand"),
            if yes { "true" } else { "false" },
        ));
        self
    }

    /// Builder: adds an attribute.
    pub fn with_attr(mut self, a: Attribute) -> Self {
        self.attrs.push(a);
        self
    }

    /// The `s:mustUnderstand` flag: `Some(true)` for "true"/"1", `Some(false)` for
    /// "false"/"0", `None` when absent or not a boolean.
    pub fn must_understand_flag(&self) -> Option<bool> {
        must_understand(&self.attrs)
    }

    /// Reads a text-only element.
    pub(crate) fn read(e: &Element) -> Option<Self> {
        e.is_simple().then(|| Self {
            value: e.text(),
            attrs: e.attrs.clone(),
        })
    }

    /// [`Text::read`] that takes the text and attributes out of `e` instead of copying them;
    /// `e` is left as it was when it is not text-only.
    pub(crate) fn take(e: &mut Element) -> Option<Self> {
        if !e.is_simple() {
            return None;
        }
        let value = match e.children.as_mut_slice() {
            [] => String::new(),
            [Node::Text(t)] => std::mem::take(t),
            _ => e.text(),
        };
        Some(Self {
            value,
            attrs: std::mem::take(&mut e.attrs),
        })
    }

    /// Writes the element under the given name.
    pub(crate) fn to_element(&self, name: QName) -> Element {
        let mut e = Element::with_text(name, self.value.clone());
        e.attrs = self.attrs.clone();
        e
    }
}

/// The SOAP `mustUnderstand` attribute of a header block, as a boolean.
pub fn must_understand(attrs: &[Attribute]) -> Option<bool> {
    match crate::xml::attr(attrs, crate::ns::SOAP, "mustUnderstand")?.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Text of a text-only child element.
pub(crate) fn child_text(e: &Element, ns: &str, local: &str) -> Option<String> {
    e.find(ns, local).map(Element::text)
}

/// A text-only child element, skipped when `value` is `None`.
pub(crate) fn push_text(e: &mut Element, name: QName, value: Option<&str>) {
    if let Some(v) = value {
        e.children.push(Node::Element(Element::with_text(name, v)));
    }
}
