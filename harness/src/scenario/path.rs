//! Element paths: how a scenario names a place in a message (ignore rules, assertions, captures)
//! and how mismatches are reported.
//!
//! Syntax: `/s:Envelope/s:Body/rsp:ReceiveResponse/rsp:Stream[2]`, `//rsp:ShellId` (at any
//! depth), `*` for any element, `@Name` as a last step for an attribute, `{uri}local` for a
//! namespace without a prefix. Prefixes are the scenario's `[namespaces]` plus the conventional
//! WinRM ones (`s`, `a`, `w`, `p`, `rsp`, `n`, `x`, `cfg`, `f`, ...). Indexes count from 1
//! among siblings of the same name, like XPath.

use std::fmt;

use crate::ns;
use crate::xml::{Element, QName};

/// A parsed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementPath {
    /// `//` at the start: the steps may begin at any depth.
    pub anywhere: bool,
    /// Element steps.
    pub steps: Vec<Step>,
    /// A final `@attr`.
    pub attribute: Option<QName>,
    source: String,
}

/// One element step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// `None` for `*`.
    pub name: Option<QName>,
    /// 1-based position among same-named siblings.
    pub index: Option<usize>,
}

/// Why a path did not parse: the byte offset in the path and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// Offset in the path text.
    pub offset: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

impl fmt::Display for ElementPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Resolves a prefix: the scenario's declarations first, then the conventional WinRM ones.
pub fn resolve_prefix<'a>(prefix: &str, declared: &'a [(String, String)]) -> Option<&'a str> {
    if let Some((_, u)) = declared.iter().find(|(p, _)| p == prefix) {
        return Some(u);
    }
    well_known(prefix)
}

fn well_known(prefix: &str) -> Option<&'static str> {
    const EXTRA: &[(&str, &str)] = &[
        ("wsen", ns::ENUMERATION),
        ("wsman", ns::WSMAN),
        ("env", ns::SOAP),
        ("soap", ns::SOAP),
        ("wsa", ns::ADDRESSING),
        ("f", ns::WSMAN_FAULT),
        ("cfg", ns::CONFIG),
        ("wsmid", ns::IDENTITY),
        ("cim", ns::CIM_COMMON),
        ("xsi", ns::XSI),
        ("xml", ns::XML),
        ("b", ns::CIM_BINDING),
    ];
    ns::WINDOWS_PREFIXES
        .iter()
        .chain(EXTRA)
        .find(|(p, _)| *p == prefix)
        .map(|(_, u)| *u)
}

/// Parses a `prefix:local` or `{uri}local` name.
pub fn parse_qname(
    text: &str,
    offset: usize,
    declared: &[(String, String)],
) -> Result<QName, PathError> {
    let err = |message: String| PathError { offset, message };
    if let Some(rest) = text.strip_prefix('{') {
        let (uri, local) = rest
            .split_once('}')
            .ok_or_else(|| err("`{` without a closing `}`".into()))?;
        check_local(local).map_err(err)?;
        return Ok(QName::owned(uri, local));
    }
    match text.split_once(':') {
        Some((p, local)) => {
            check_local(local).map_err(err)?;
            let uri = resolve_prefix(p, declared).ok_or_else(|| {
                err(format!(
                    "unknown prefix `{p}` (declare it under [namespaces])"
                ))
            })?;
            Ok(QName::owned(uri, local))
        }
        None => {
            check_local(text).map_err(err)?;
            Ok(QName::owned("", text))
        }
    }
}

fn check_local(local: &str) -> Result<(), String> {
    let ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{local}` is not a valid local name"))
    }
}

impl ElementPath {
    /// Parses a path with the scenario's namespace declarations.
    pub fn parse(text: &str, declared: &[(String, String)]) -> Result<Self, PathError> {
        let (anywhere, body, mut offset) = if let Some(r) = text.strip_prefix("//") {
            (true, r, 2)
        } else if let Some(r) = text.strip_prefix('/') {
            (false, r, 1)
        } else {
            return Err(PathError {
                offset: 0,
                message: "a path starts with `/` (from the root) or `//` (at any depth)".into(),
            });
        };
        let mut steps = Vec::new();
        let mut attribute = None;
        let parts = split_steps(body);
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            if part.is_empty() {
                return Err(PathError {
                    offset,
                    message: "empty step".into(),
                });
            }
            if let Some(attr) = part.strip_prefix('@') {
                if i + 1 != count {
                    return Err(PathError {
                        offset,
                        message: "an attribute step must be the last one".into(),
                    });
                }
                attribute = Some(parse_qname(attr, offset + 1, declared)?);
            } else {
                steps.push(parse_step(part, offset, declared)?);
            }
            offset += part.len() + 1;
        }
        if steps.is_empty() && !anywhere {
            return Err(PathError {
                offset: 0,
                message: "the path names no element".into(),
            });
        }
        Ok(Self {
            anywhere,
            steps,
            attribute,
            source: text.to_owned(),
        })
    }

    /// True when the element at `at` (names and same-name positions from the root) matches the
    /// element steps.
    pub fn matches(&self, at: &[(QName, usize)]) -> bool {
        self.matches_child(at, None)
    }

    /// Like [`Self::matches`] for the element `at` + `child`, without building that path.
    pub fn matches_child(&self, at: &[(QName, usize)], child: Option<(&QName, usize)>) -> bool {
        let len = at.len() + usize::from(child.is_some());
        let n = self.steps.len();
        if len < n || (!self.anywhere && len != n) {
            return false;
        }
        let path = at.iter().map(|(name, pos)| (name, *pos)).chain(child);
        self.steps
            .iter()
            .zip(path.skip(len - n))
            .all(|(s, (name, pos))| {
                s.name.as_ref().is_none_or(|q| q == name) && s.index.is_none_or(|i| i == pos)
            })
    }

    /// The elements of a document the path selects, in document order.
    pub fn select<'e>(&self, root: &'e Element) -> Vec<&'e Element> {
        let mut out = Vec::new();
        let mut at = Vec::new();
        collect(self, root, 1, &mut at, &mut out);
        out
    }

    /// The values the path selects: the attribute's value when it ends in `@attr`, else the
    /// text of each element (trimmed).
    pub fn values(&self, root: &Element) -> Vec<String> {
        let elements = self.select(root);
        match &self.attribute {
            Some(a) => elements
                .into_iter()
                .filter_map(|e| e.attr_value(&a.ns, &a.local).map(str::to_owned))
                .collect(),
            None => elements
                .into_iter()
                .map(|e| e.deep_text().trim().to_owned())
                .collect(),
        }
    }
}

/// Splits on `/` outside `{...}` (namespace URIs contain slashes).
fn split_steps(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

fn parse_step(part: &str, offset: usize, declared: &[(String, String)]) -> Result<Step, PathError> {
    let (name, index) = match part.strip_suffix(']').and_then(|p| p.rsplit_once('[')) {
        Some((name, idx)) => {
            let n: usize = idx
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| PathError {
                    offset: offset + name.len() + 1,
                    message: format!("`[{idx}]`: an index is a whole number from 1"),
                })?;
            (name, Some(n))
        }
        None => (part, None),
    };
    let name = if name == "*" {
        None
    } else {
        Some(parse_qname(name, offset, declared)?)
    };
    Ok(Step { name, index })
}

fn collect<'e>(
    path: &ElementPath,
    e: &'e Element,
    pos: usize,
    at: &mut Vec<(QName, usize)>,
    out: &mut Vec<&'e Element>,
) {
    at.push((e.name.clone(), pos));
    if path.matches(at) {
        out.push(e);
    }
    if path.anywhere || at.len() < path.steps.len() {
        let mut seen: Vec<(&QName, usize)> = Vec::new();
        for c in e.elements() {
            let n = next_position(&mut seen, &c.name);
            collect(path, c, n, at, out);
        }
    }
    at.pop();
}

/// The 1-based position of an element among its same-named earlier siblings.
pub fn next_position<'a>(seen: &mut Vec<(&'a QName, usize)>, name: &'a QName) -> usize {
    match seen.iter_mut().find(|(n, _)| *n == name) {
        Some((_, count)) => {
            *count += 1;
            *count
        }
        None => {
            seen.push((name, 1));
            1
        }
    }
}

/// Renders a location for a mismatch report: `/s:Envelope/s:Body/rsp:Stream[2]`.
pub fn render(at: &[(QName, usize)]) -> String {
    let mut s = String::new();
    for (name, pos) in at {
        s.push('/');
        s.push_str(&name.to_string());
        if *pos > 1 {
            s.push_str(&format!("[{pos}]"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Limits, parse_document};

    const DOC: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:r="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Body><r:ReceiveResponse><r:Stream Name="stdout" CommandId="C">YQ==</r:Stream><r:Stream Name="stderr" CommandId="C"/><r:CommandState CommandId="C"><r:ExitCode> 3 </r:ExitCode></r:CommandState></r:ReceiveResponse></s:Body></s:Envelope>"#;

    #[test]
    fn paths_select_by_namespace_not_prefix() {
        let root = parse_document(DOC.as_bytes(), Limits::UNBOUNDED).unwrap();
        let p = ElementPath::parse("//rsp:Stream", &[]).unwrap();
        assert_eq!(p.select(&root).len(), 2);
        let p = ElementPath::parse("/s:Envelope/s:Body/*/rsp:Stream[2]/@Name", &[]).unwrap();
        assert_eq!(p.values(&root), ["stderr"]);
        let p = ElementPath::parse("//rsp:ExitCode", &[]).unwrap();
        assert_eq!(p.values(&root), ["3"]);
        let declared = vec![("q".to_owned(), ns::SHELL.to_owned())];
        let p = ElementPath::parse("//q:CommandState/@CommandId", &declared).unwrap();
        assert_eq!(p.values(&root), ["C"]);
        let p = ElementPath::parse(
            "//{http://schemas.microsoft.com/wbem/wsman/1/windows/shell}Stream[1]",
            &[],
        )
        .unwrap();
        assert_eq!(p.values(&root), ["YQ=="]);
        assert!(
            ElementPath::parse("/s:Envelope/s:Header", &[])
                .unwrap()
                .select(&root)
                .is_empty()
        );
    }

    #[test]
    fn bad_paths_say_where() {
        let e = ElementPath::parse("//zz:Thing", &[]).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("unknown prefix `zz`"));
        let e = ElementPath::parse("/s:Envelope/s:Body[0]", &[]).unwrap_err();
        assert!(e.message.contains("index"), "{e}");
        assert!(ElementPath::parse("s:Envelope", &[]).is_err());
        assert!(ElementPath::parse("/s:Envelope/@a/s:Body", &[]).is_err());
        assert!(ElementPath::parse("/s:Envelope//s:Body", &[]).is_err());
        assert!(ElementPath::parse("/s:Env elope", &[]).is_err());
    }
}
