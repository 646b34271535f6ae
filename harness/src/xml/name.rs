//! Namespace-qualified names: the only way the harness identifies an element or attribute.
//!
//! Prefixes are presentation; two names are equal when their namespace URI and local part are.

use std::borrow::Cow;
use std::fmt;

use crate::ns;

/// An expanded name `{namespace}local`. An empty namespace means "no namespace".
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QName {
    /// Namespace URI, interned to a `'static` string for the namespaces WS-Man uses.
    pub ns: Cow<'static, str>,
    /// Local part.
    pub local: Cow<'static, str>,
}

impl QName {
    /// A name from static parts (no allocation); the usual way to name protocol elements.
    pub const fn new(ns: &'static str, local: &'static str) -> Self {
        Self {
            ns: Cow::Borrowed(ns),
            local: Cow::Borrowed(local),
        }
    }

    /// A name from runtime strings; known namespace URIs are interned.
    pub fn owned(ns: &str, local: &str) -> Self {
        Self {
            ns: ns::intern(ns),
            local: super::intern::local(local),
        }
    }

    /// True when the name is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns == ns
    }
}

impl fmt::Debug for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for QName {
    /// Clark notation, `{uri}local`, with the conventional prefix for well-known namespaces so
    /// messages stay readable: `w:TimedOut` rather than the full URI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ns.is_empty() {
            f.write_str(&self.local)
        } else if let Some(p) = ns::windows_prefix(&self.ns) {
            write!(f, "{p}:{}", self.local)
        } else {
            write!(f, "{{{}}}{}", self.ns, self.local)
        }
    }
}

/// An attribute: expanded name, the prefix it was written with, and its (unescaped) value.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// Expanded name; unprefixed attributes have no namespace.
    pub name: QName,
    /// Prefix seen in the source, used by the writer when it preserves prefixes.
    pub prefix: Option<Cow<'static, str>>,
    /// Unescaped, normalised value.
    pub value: String,
}

impl Attribute {
    /// An unqualified attribute such as `Name="ShellId"`.
    pub fn plain(local: &'static str, value: impl Into<String>) -> Self {
        Self {
            name: QName::new("", local),
            prefix: None,
            value: value.into(),
        }
    }

    /// A namespace-qualified attribute such as `s:mustUnderstand="true"`.
    pub fn qualified(name: QName, value: impl Into<String>) -> Self {
        Self {
            name,
            prefix: None,
            value: value.into(),
        }
    }
}

impl PartialEq for Attribute {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}
impl Eq for Attribute {}

/// Finds an attribute's value by expanded name.
pub fn attr<'a>(attrs: &'a [Attribute], ns: &str, local: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name.is(ns, local))
        .map(|a| a.value.as_str())
}

/// Compares attribute lists as sets: XML gives attribute order no meaning.
pub fn same_attrs(a: &[Attribute], b: &[Attribute]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x == y))
}
