//! XML equivalence: what "the same message" means to the harness.
//!
//! Two documents are equivalent when their element trees match by namespace URI and local name,
//! attributes match as sets, text matches exactly (whitespace-only text is layout), and QName-valued text (SOAP fault codes)
//! resolves to the same expanded name. Prefixes, namespace declarations, attribute order,
//! comments and whitespace between elements do not count.

use std::fmt;

use super::element::{Element, Node};
use super::name::QName;
use super::reader::{Limits, ParseError, parse_document};
use crate::ns;

/// Where two documents first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Path of the differing element, e.g. `/s:Envelope/s:Body/n:PullResponse`.
    pub path: String,
    /// What the first document has there.
    pub expected: String,
    /// What the second document has there.
    pub actual: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {}\n  expected: {}\n  actual:   {}",
            self.path, self.expected, self.actual
        )
    }
}

/// Why a comparison could not be made or where it failed.
#[derive(Debug)]
pub enum EquivError {
    /// One side does not parse.
    Parse(&'static str, ParseError),
    /// The documents differ.
    Differ(Difference),
}

impl fmt::Display for EquivError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EquivError::Parse(side, e) => write!(f, "{side} document: {e}"),
            EquivError::Differ(d) => d.fmt(f),
        }
    }
}

/// Compares two documents.
pub fn equivalent(expected: &[u8], actual: &[u8]) -> Result<(), EquivError> {
    let a = parse_document(expected, Limits::UNBOUNDED)
        .map_err(|e| EquivError::Parse("expected", e))?;
    let b =
        parse_document(actual, Limits::UNBOUNDED).map_err(|e| EquivError::Parse("actual", e))?;
    compare_elements(&a, &b).map_err(EquivError::Differ)
}

/// Compares two trees.
pub fn compare_elements(a: &Element, b: &Element) -> Result<(), Difference> {
    compare_in_scope(a, &[], b, &[])
}

/// Compares two trees read from inside documents, given the namespace bindings in scope where
/// each stood (needed to resolve QName-valued text declared further out).
pub fn compare_in_scope(
    a: &Element,
    scope_a: &[(String, String)],
    b: &Element,
    scope_b: &[(String, String)],
) -> Result<(), Difference> {
    let mut sa: Scope = scope_a
        .iter()
        .map(|(p, u)| (p.as_str(), u.as_str()))
        .collect();
    let mut sb: Scope = scope_b
        .iter()
        .map(|(p, u)| (p.as_str(), u.as_str()))
        .collect();
    let mut names = Vec::new();
    walk(a, b, &mut names, &mut sa, &mut sb)
}

/// Bindings in scope during a walk, borrowed from the trees (no copies on the way down).
type Scope<'a> = Vec<(&'a str, &'a str)>;

/// The path of the element being compared: rendered only when a difference is reported, so
/// that equal trees (the common case) cost no string building.
fn render_path(names: &[&QName]) -> String {
    let mut path = String::new();
    for n in names {
        path.push('/');
        path.push_str(&n.to_string());
    }
    path
}

fn walk<'a>(
    a: &'a Element,
    b: &'a Element,
    names: &mut Vec<&'a QName>,
    sa: &mut Scope<'a>,
    sb: &mut Scope<'a>,
) -> Result<(), Difference> {
    names.push(&a.name);
    let (ma, mb) = (sa.len(), sb.len());
    sa.extend(a.ns_decls.iter().map(|(p, u)| (p.as_str(), u.as_str())));
    sb.extend(b.ns_decls.iter().map(|(p, u)| (p.as_str(), u.as_str())));
    let diff = |expected: String, actual: String, names: &[&QName]| Difference {
        path: render_path(names),
        expected,
        actual,
    };
    if a.name != b.name {
        return Err(diff(a.name.to_string(), b.name.to_string(), names));
    }
    for x in &a.attrs {
        match b.attrs.iter().find(|y| y.name == x.name) {
            None => {
                return Err(diff(
                    format!("attribute {}=\"{}\"", x.name, x.value),
                    "no such attribute".into(),
                    names,
                ));
            }
            Some(y) if y.value != x.value => {
                return Err(diff(
                    format!("attribute {}=\"{}\"", x.name, x.value),
                    format!("attribute {}=\"{}\"", y.name, y.value),
                    names,
                ));
            }
            _ => {}
        }
    }
    if let Some(y) = b
        .attrs
        .iter()
        .find(|y| !a.attrs.iter().any(|x| x.name == y.name))
    {
        return Err(diff(
            "no such attribute".into(),
            format!("attribute {}=\"{}\"", y.name, y.value),
            names,
        ));
    }
    let qname_valued = a.name.ns == ns::SOAP && a.name.local == "Value";
    let (na, nb) = (
        significant(&a.children).count(),
        significant(&b.children).count(),
    );
    if na != nb {
        return Err(diff(
            format!("{na} child nodes"),
            format!("{nb} child nodes"),
            names,
        ));
    }
    for (x, y) in significant(&a.children).zip(significant(&b.children)) {
        match (x, y) {
            (Node::Element(x), Node::Element(y)) => walk(x, y, names, sa, sb)?,
            (Node::Text(x), Node::Text(y)) => {
                let same = if qname_valued {
                    match (resolve(x, sa), resolve(y, sb)) {
                        (Some(qa), Some(qb)) => qa == qb,
                        _ => x == y,
                    }
                } else {
                    x == y
                };
                if !same {
                    return Err(diff(format!("text {x:?}"), format!("text {y:?}"), names));
                }
            }
            (x, y) => return Err(diff(node_kind(x), node_kind(y), names)),
        }
    }
    sa.truncate(ma);
    sb.truncate(mb);
    names.pop();
    Ok(())
}

/// Whitespace-only text is layout wherever it stands (`<s:Body> </s:Body>` is an empty body).
fn significant(children: &[Node]) -> impl Iterator<Item = &Node> {
    children
        .iter()
        .filter(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()))
}

fn node_kind(n: &Node) -> String {
    match n {
        Node::Element(e) => format!("element {}", e.name),
        Node::Text(t) => format!("text {t:?}"),
    }
}

/// Resolves `prefix:local` text against a scope (owned or borrowed bindings); unresolvable
/// text compares literally.
pub fn resolve<P: AsRef<str>, U: AsRef<str>>(text: &str, scope: &[(P, U)]) -> Option<QName> {
    let t = text.trim();
    let (p, local) = t.split_once(':').unwrap_or(("", t));
    scope
        .iter()
        .rev()
        .find(|(q, _)| q.as_ref() == p)
        .map(|(_, u)| QName::owned(u.as_ref(), local))
}
