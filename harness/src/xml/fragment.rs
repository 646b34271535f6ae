//! One element kept either as a slice of the source document (read lazily) or as a tree.
//!
//! Enumeration items and resource bodies can be most of a 150 KB envelope; keeping them as
//! source text makes parsing them no dearer than scanning them, and writing them a copy.

use std::fmt;
use std::sync::Arc;

use super::element::Element;
use super::reader::{Limits, ParseError, parse_document};
use super::writer::XmlWriter;

/// A single element, kept as source text or as an owned tree.
#[derive(Clone)]
pub struct Fragment(Repr);

#[derive(Clone)]
enum Repr {
    Raw {
        doc: Arc<str>,
        start: usize,
        end: usize,
        /// Namespace bindings in scope where the element stood; `None` for self-contained
        /// text. (Not a shared empty list: a large enumeration makes thousands of fragments per
        /// answer on several threads, and one shared counter would be contended by all.)
        scope: Option<Arc<[(String, String)]>>,
    },
    Tree(Element),
}

impl Fragment {
    /// A fragment over `doc[start..end]`, which must hold exactly one well-formed element.
    pub fn raw(doc: Arc<str>, start: usize, end: usize, scope: Arc<[(String, String)]>) -> Self {
        Self(Repr::Raw {
            doc,
            start,
            end,
            scope: (!scope.is_empty()).then_some(scope),
        })
    }

    /// A fragment over text the caller wrote itself: one element that declares every prefix it
    /// uses. (Used for generated content, where building a tree only to write it is waste.)
    pub fn from_xml(text: String) -> Self {
        Self::from_shared(Arc::from(text))
    }

    /// A fragment over shared text holding exactly one self-contained element (every prefix it
    /// uses declared inside it): copied into responses without another allocation.
    fn from_shared(doc: Arc<str>) -> Self {
        let end = doc.len();
        Self(Repr::Raw {
            doc,
            start: 0,
            end,
            scope: None,
        })
    }

    /// A fragment holding a tree written out as text (Windows prefixes), for cheap copying.
    pub fn written(e: &Element) -> Self {
        let mut w = XmlWriter::new(super::PrefixStyle::Windows);
        w.element(e);
        Self::from_xml(w.finish())
    }

    /// The element's source text, when it was kept as text.
    pub fn source(&self) -> Option<&str> {
        match &self.0 {
            Repr::Raw {
                doc, start, end, ..
            } => Some(&doc[*start..*end]),
            Repr::Tree(_) => None,
        }
    }

    /// The element as a tree (parsed on demand for source fragments).
    pub fn element(&self) -> Result<std::borrow::Cow<'_, Element>, ParseError> {
        match &self.0 {
            Repr::Tree(e) => Ok(std::borrow::Cow::Borrowed(e)),
            Repr::Raw {
                doc,
                start,
                end,
                scope,
            } => {
                let scope = scope.as_deref().unwrap_or_default();
                let mut wrapped = String::with_capacity(end - start + 64 * scope.len() + 16);
                wrapped.push_str("<_");
                for (p, u) in scope {
                    super::writer::push_xmlns(&mut wrapped, p, u);
                }
                wrapped.push('>');
                wrapped.push_str(&doc[*start..*end]);
                wrapped.push_str("</_>");
                let mut outer = parse_document(wrapped.as_bytes(), Limits::UNBOUNDED)?;
                match outer.children.pop() {
                    Some(super::Node::Element(e)) => Ok(std::borrow::Cow::Owned(e)),
                    _ => Ok(std::borrow::Cow::Owned(Element::default())),
                }
            }
        }
    }

    /// The element as an owned tree.
    pub fn into_element(self) -> Result<Element, ParseError> {
        match self.0 {
            Repr::Tree(e) => Ok(e),
            ref raw @ Repr::Raw { .. } => Ok(Fragment(raw.clone()).element()?.into_owned()),
        }
    }

    /// Writes the element.
    pub fn write(&self, w: &mut XmlWriter) {
        match &self.0 {
            Repr::Tree(e) => w.element(e),
            Repr::Raw {
                doc,
                start,
                end,
                scope,
            } => w.raw_element(&doc[*start..*end], scope.as_deref().unwrap_or_default()),
        }
    }
}

impl From<Element> for Fragment {
    fn from(e: Element) -> Self {
        Self(Repr::Tree(e))
    }
}

impl PartialEq for Fragment {
    /// Structural equality of the elements, however each is kept.
    fn eq(&self, other: &Self) -> bool {
        // The same text read in the same scope is the same element: no need to build both.
        if let (
            Repr::Raw {
                doc: a,
                start: sa,
                end: ea,
                scope: ca,
            },
            Repr::Raw {
                doc: b,
                start: sb,
                end: eb,
                scope: cb,
            },
        ) = (&self.0, &other.0)
            && a[*sa..*ea] == b[*sb..*eb]
            && ca == cb
        {
            return true;
        }
        match (self.element(), other.element()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for Fragment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Tree(e) => e.fmt(f),
            Repr::Raw {
                doc, start, end, ..
            } => write!(f, "Fragment({:?})", &doc[*start..*end]),
        }
    }
}
