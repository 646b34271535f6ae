//! The scenario file format (TOML): reading with line/column errors, and writing in a stable,
//! diff-friendly layout (envelopes as multi-line literal strings, one step per table).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::compare::Rules;
use super::model::{Assertion, Capture, Meta, Recorded, Scenario, Step};
use super::path::{ElementPath, parse_qname};
use crate::xml::{Limits, parse_document};

/// Largest scenario file read (recordings of 150 KB pulls add up, but not to this).
pub const FILE_LIMIT: usize = 64 << 20;
/// The file name ending `load_dir` looks for.
pub const EXTENSION: &str = ".scenario.toml";

/// A problem in a scenario file, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or `<input>`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    scenario: RawMeta,
    #[serde(default)]
    namespaces: BTreeMap<String, String>,
    #[serde(default)]
    compare: RawCompare,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMeta {
    name: String,
    description: Option<String>,
    source: Option<String>,
    license: Option<String>,
    #[serde(default)]
    spec: Vec<String>,
    profile: Option<String>,
    #[serde(default = "yes")]
    reference: bool,
    reference_note: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCompare {
    #[serde(default = "yes")]
    defaults: bool,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    any_value: Vec<Spanned<String>>,
    #[serde(default)]
    ordered_headers: bool,
}

impl Default for RawCompare {
    fn default() -> Self {
        Self {
            defaults: true,
            ignore: Vec::new(),
            any_value: Vec::new(),
            ordered_headers: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    name: Option<String>,
    request: Option<Spanned<String>>,
    request_file: Option<Spanned<String>>,
    #[serde(default)]
    request_headers: BTreeMap<String, String>,
    status: Option<Spanned<u16>>,
    response: Option<Spanned<String>>,
    response_file: Option<Spanned<String>>,
    #[serde(default)]
    response_headers: BTreeMap<String, String>,
    #[serde(default)]
    assert: Vec<Spanned<RawAssert>>,
    #[serde(default)]
    capture: Vec<Spanned<RawCapture>>,
    #[serde(default)]
    synthetic_request: bool,
    #[serde(default)]
    wire: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssert {
    status: Option<u16>,
    fault: Option<String>,
    path: Option<String>,
    equals: Option<String>,
    count: Option<usize>,
    exists: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapture {
    name: String,
    path: String,
}

/// Reads a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = crate::files::read_text(path, FILE_LIMIT).map_err(|message| ScenarioError {
        file: file.clone(),
        line: 0,
        column: 0,
        message,
    })?;
    let mut s = parse(&text, &file, path.parent())?;
    s.file = Some(path.to_path_buf());
    Ok(s)
}

/// Every scenario file under the given paths (files as given, directories searched for
/// `*.scenario.toml`), in a stable order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(EXTENSION))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Parses scenario text; `base` resolves `request-file`/`response-file`.
pub fn parse(text: &str, file: &str, base: Option<&Path>) -> Result<Scenario, ScenarioError> {
    let at = |span: Range<usize>, message: String| {
        let (line, column) = line_col(text, span.start);
        ScenarioError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let (line, column) = if span == (0..0) {
            (0, 0)
        } else {
            line_col(text, span.start)
        };
        ScenarioError {
            file: file.to_owned(),
            line,
            column,
            message: e.message().to_owned(),
        }
    })?;
    let namespaces: Vec<(String, String)> = raw.namespaces.into_iter().collect();
    let mut rules = if raw.compare.defaults {
        Rules::defaults()
    } else {
        Rules::default()
    };
    rules.ordered_headers = raw.compare.ordered_headers;
    let path_at = |p: &Spanned<String>| {
        ElementPath::parse(p.get_ref(), &namespaces)
            .map_err(|e| at(p.span(), format!("path {:?}: {e}", p.get_ref())))
    };
    for p in &raw.compare.ignore {
        rules.ignore.push(path_at(p)?);
    }
    for p in &raw.compare.any_value {
        rules.any_value.push(path_at(p)?);
    }
    let mut steps = Vec::with_capacity(raw.step.len());
    for (i, spanned) in raw.step.into_iter().enumerate() {
        let span = spanned.span();
        let line = line_col(text, span.start).0;
        let s = spanned.into_inner();
        let name = s.name.unwrap_or_else(|| format!("step {}", i + 1));
        let whole = |m: String| at(span.clone(), format!("step {:?}: {m}", name));
        let (request, req_origin) = match (s.request, s.request_file) {
            (Some(r), None) => {
                let o = Origin::inline(text, &r);
                (r.into_inner(), o)
            }
            (None, Some(f)) => {
                let o = Origin::file(base, &f);
                (read_side(base, &f).map_err(|m| at(f.span(), m))?, o)
            }
            (Some(_), Some(_)) => {
                return Err(whole("give `request` or `request-file`, not both".into()));
            }
            (None, None) => return Err(whole("a step needs `request` or `request-file`".into())),
        };
        let request_tree = parse_document(request.as_bytes(), Limits::default())
            .map_err(|e| req_origin.error(text, file, &request, e))?;
        let body = match (s.response, s.response_file) {
            (Some(_), Some(_)) => {
                return Err(whole("give `response` or `response-file`, not both".into()));
            }
            (Some(r), None) => Some((Origin::inline(text, &r), r.into_inner())),
            (None, Some(f)) => Some((
                Origin::file(base, &f),
                read_side(base, &f).map_err(|m| at(f.span(), m))?,
            )),
            (None, None) => None,
        };
        // A step records a response when it gives a body, a status or headers.
        let recorded = body.is_some() || s.status.is_some() || !s.response_headers.is_empty();
        let (body, tree) = match body {
            Some((origin, body)) if !body.trim().is_empty() => {
                let tree = parse_document(body.as_bytes(), Limits::default())
                    .map_err(|e| origin.error(text, file, &body, e))?;
                (body, Some(tree))
            }
            Some((_, body)) => (body, None),
            None => (String::new(), None),
        };
        let response = recorded.then(|| Recorded {
            status: s.status.map(|x| *x.get_ref()).unwrap_or(200),
            headers: s.response_headers.into_iter().collect(),
            body,
            tree: tree.map(Into::into),
        });
        if let Some(st) = &response
            && !(100..=599).contains(&st.status)
        {
            return Err(whole(format!("status {} is not an HTTP status", st.status)));
        }
        let mut asserts = Vec::new();
        for a in &s.assert {
            asserts.push(assertion(a.get_ref(), &namespaces).map_err(|m| at(a.span(), m))?);
        }
        let mut captures = Vec::new();
        for c in &s.capture {
            let r = c.get_ref();
            if r.name.is_empty() || !r.name.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                return Err(at(
                    c.span(),
                    format!("capture name {:?}: letters, digits and _ only", r.name),
                ));
            }
            let path = ElementPath::parse(&r.path, &namespaces)
                .map_err(|e| at(c.span(), format!("path {:?}: {e}", r.path)))?;
            captures.push(Capture {
                name: r.name.clone(),
                path,
            });
        }
        let mut wire = Vec::with_capacity(s.wire.len());
        for w in &s.wire {
            wire.push(
                w.get_ref()
                    .parse::<crate::fuzzer::Mutation>()
                    .map_err(|e| at(w.span(), e.to_string()))?,
            );
        }
        steps.push(Step {
            name,
            request,
            request_tree: request_tree.into(),
            request_headers: s.request_headers.into_iter().collect(),
            response,
            asserts,
            captures,
            line,
            synthetic: s.synthetic_request,
            wire,
        });
    }
    if steps.is_empty() {
        return Err(ScenarioError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: "the scenario has no [[step]]".into(),
        });
    }
    Ok(Scenario {
        name: raw.scenario.name,
        meta: Meta {
            description: raw.scenario.description,
            source: raw.scenario.source,
            license: raw.scenario.license,
            spec: raw.scenario.spec,
            profile: raw.scenario.profile,
            reference: raw.scenario.reference,
            reference_note: raw.scenario.reference_note,
        },
        namespaces,
        rules,
        steps,
        file: None,
    })
}

fn assertion(a: &RawAssert, ns: &[(String, String)]) -> Result<Assertion, String> {
    let given = [a.status.is_some(), a.fault.is_some(), a.path.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if given != 1 {
        return Err("an assertion has exactly one of `status`, `fault`, `path`".into());
    }
    if let Some(s) = a.status {
        return Ok(Assertion::Status(s));
    }
    if let Some(f) = &a.fault {
        return parse_qname(f, 0, ns)
            .map(Assertion::Fault)
            .map_err(|e| format!("fault {f:?}: {}", e.message));
    }
    let p = a.path.as_deref().unwrap_or_default();
    let path = ElementPath::parse(p, ns).map_err(|e| format!("path {p:?}: {e}"))?;
    match (&a.equals, a.count, a.exists) {
        (Some(v), None, None) => Ok(Assertion::Equals(path, v.clone())),
        (None, Some(n), None) => Ok(Assertion::Count(path, n)),
        (None, None, Some(e)) => Ok(Assertion::Exists(path, e)),
        _ => Err("a `path` assertion has exactly one of `equals`, `count`, `exists`".into()),
    }
}

fn read_side(base: Option<&Path>, f: &Spanned<String>) -> Result<String, String> {
    let p = base.unwrap_or(Path::new(".")).join(f.get_ref());
    crate::files::read_text(&p, FILE_LIMIT).map_err(|e| format!("{}: {e}", p.display()))
}

/// Where an envelope's text starts, to turn an XML error offset into a file position.
enum Origin {
    /// Inline: byte offset of the content in the scenario file, when it maps one to one.
    Inline { start: usize, exact: bool },
    /// In its own file.
    File(PathBuf),
}

impl Origin {
    fn inline(text: &str, s: &Spanned<String>) -> Self {
        let span = s.span();
        let raw = &text[span.clone()];
        // Literal strings hold their content verbatim; a newline right after the opening
        // delimiter is not part of the value.
        let (start, exact) = if let Some(rest) = raw.strip_prefix("'''") {
            let skip = if rest.starts_with("\r\n") {
                2
            } else if rest.starts_with('\n') {
                1
            } else {
                0
            };
            (span.start + 3 + skip, true)
        } else if raw.starts_with('\'') {
            (span.start + 1, true)
        } else {
            (span.start, false)
        };
        Origin::Inline { start, exact }
    }

    fn file(base: Option<&Path>, f: &Spanned<String>) -> Self {
        Origin::File(base.unwrap_or(Path::new(".")).join(f.get_ref()))
    }

    fn error(
        &self,
        text: &str,
        file: &str,
        body: &str,
        e: crate::xml::ParseError,
    ) -> ScenarioError {
        match self {
            Origin::Inline { start, exact } => {
                let offset = if *exact {
                    start + e.offset as usize
                } else {
                    *start
                };
                let (line, column) = line_col(text, offset.min(text.len()));
                ScenarioError {
                    file: file.to_owned(),
                    line,
                    column,
                    message: format!("envelope: {}", e.kind),
                }
            }
            Origin::File(p) => {
                let (line, column) = line_col(body, (e.offset as usize).min(body.len()));
                ScenarioError {
                    file: p.display().to_string(),
                    line,
                    column,
                    message: e.kind.to_string(),
                }
            }
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before, |i| &before[i + 1..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Writes a scenario in the canonical layout. Paths are written as given in the source rules;
/// built-in default rules are not repeated.
pub fn write(s: &Scenario, extra: &WriteExtras) -> String {
    let mut o = String::new();
    o.push_str("# wsman-harness scenario (format: README, \"Scenario files\")\n");
    o.push_str("[scenario]\n");
    kv(&mut o, "name", &s.name);
    opt(&mut o, "description", &s.meta.description);
    opt(&mut o, "source", &s.meta.source);
    opt(&mut o, "license", &s.meta.license);
    if !s.meta.spec.is_empty() {
        let items: Vec<String> = s.meta.spec.iter().map(|x| quote(x)).collect();
        o.push_str(&format!("spec = [{}]\n", items.join(", ")));
    }
    opt(&mut o, "profile", &s.meta.profile);
    if !s.meta.reference {
        o.push_str("reference = false\n");
    }
    opt(&mut o, "reference-note", &s.meta.reference_note);
    if !s.namespaces.is_empty() {
        o.push_str("\n[namespaces]\n");
        for (p, u) in &s.namespaces {
            o.push_str(&format!("{p} = {}\n", quote(u)));
        }
    }
    if !extra.ignore.is_empty() || !extra.any_value.is_empty() || s.rules.ordered_headers {
        o.push_str("\n[compare]\n");
        list(&mut o, "ignore", &extra.ignore);
        list(&mut o, "any-value", &extra.any_value);
        if s.rules.ordered_headers {
            o.push_str("ordered-headers = true\n");
        }
    }
    for step in &s.steps {
        o.push_str("\n[[step]]\n");
        kv(&mut o, "name", &step.name);
        if !step.request_headers.is_empty() {
            o.push_str(&format!(
                "request-headers = {}\n",
                table(&step.request_headers)
            ));
        }
        if step.synthetic {
            o.push_str("synthetic-request = true\n");
        }
        if !step.wire.is_empty() {
            let items: Vec<String> = step.wire.iter().map(|m| quote(&m.to_string())).collect();
            o.push_str(&format!("wire = [{}]\n", items.join(", ")));
        }
        o.push_str(&format!("request = {}\n", block(&step.request)));
        if let Some(r) = &step.response {
            o.push_str(&format!("status = {}\n", r.status));
            if !r.headers.is_empty() {
                o.push_str(&format!("response-headers = {}\n", table(&r.headers)));
            }
            o.push_str(&format!("response = {}\n", block(&r.body)));
        }
        for a in &step.asserts {
            o.push_str(&format!("assert = {}\n", assertion_toml(a)));
        }
    }
    // `assert = ...` repeated is not valid TOML; the writer emits assertions as an array.
    fix_assert_arrays(o)
}

/// Rules as written by hand (paths in their source form), for [`write`].
#[derive(Clone, Debug, Default)]
pub struct WriteExtras {
    /// `[compare] ignore`.
    pub ignore: Vec<String>,
    /// `[compare] any-value`.
    pub any_value: Vec<String>,
}

fn assertion_toml(a: &Assertion) -> String {
    match a {
        Assertion::Status(s) => format!("{{ status = {s} }}"),
        Assertion::Fault(q) => format!("{{ fault = {} }}", quote(&q.to_string())),
        Assertion::Equals(p, v) => {
            format!(
                "{{ path = {}, equals = {} }}",
                quote(&p.to_string()),
                quote(v)
            )
        }
        Assertion::Count(p, n) => format!("{{ path = {}, count = {n} }}", quote(&p.to_string())),
        Assertion::Exists(p, e) => format!("{{ path = {}, exists = {e} }}", quote(&p.to_string())),
    }
}

fn fix_assert_arrays(o: String) -> String {
    let mut out = String::with_capacity(o.len());
    let mut pending: Vec<String> = Vec::new();
    let flush = |out: &mut String, pending: &mut Vec<String>| {
        if !pending.is_empty() {
            out.push_str("assert = [\n");
            for p in pending.drain(..) {
                out.push_str("  ");
                out.push_str(&p);
                out.push_str(",\n");
            }
            out.push_str("]\n");
        }
    };
    for line in o.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("assert = {") {
            pending.push(format!("{{{}", rest.trim_end()));
            continue;
        }
        flush(&mut out, &mut pending);
        out.push_str(line);
    }
    flush(&mut out, &mut pending);
    out
}

fn kv(o: &mut String, k: &str, v: &str) {
    o.push_str(&format!("{k} = {}\n", quote(v)));
}

fn opt(o: &mut String, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        kv(o, k, v);
    }
}

fn list(o: &mut String, k: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    o.push_str(&format!("{k} = [\n"));
    for i in items {
        o.push_str(&format!("  {},\n", quote(i)));
    }
    o.push_str("]\n");
}

fn table(items: &[(String, String)]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A single-line TOML string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// An envelope: a multi-line literal string when the text allows one (readable, exact
/// positions in errors), else an escaped basic string.
fn block(s: &str) -> String {
    let literal_ok = !s.contains("'''")
        && !s.ends_with('\'')
        && s.chars().all(|c| c == '\t' || c == '\n' || !c.is_control())
        && !s.contains('\r');
    if literal_ok {
        format!("'''\n{s}'''")
    } else {
        quote(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[scenario]
name = "identify"
source = "hand-written"

[namespaces]
q = "urn:example"

[compare]
ignore = ["//q:Build"]

[[step]]
name = "identify"
request-headers = { WSMANIDENTIFY = "unauthenticated" }
request = '''
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body><wsmid:Identify xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"/></s:Body></s:Envelope>
'''
status = 200
response = '''
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body/></s:Envelope>
'''
assert = [
  { status = 200 },
  { path = "//s:Body", exists = true },
  { fault = "w:TimedOut" },
]
capture = [{ name = "ctx", path = "//n:EnumerationContext" }]
"#;

    #[test]
    fn a_scenario_reads_and_writes_back_the_same() {
        let s = parse(GOOD, "good.toml", None).unwrap();
        assert_eq!(s.name, "identify");
        assert_eq!(s.steps.len(), 1);
        let step = &s.steps[0];
        assert_eq!(step.line, 11);
        assert_eq!(
            step.request_headers,
            [("WSMANIDENTIFY".to_owned(), "unauthenticated".to_owned())]
        );
        assert_eq!(step.asserts.len(), 3);
        assert_eq!(step.captures[0].name, "ctx");
        assert_eq!(
            s.rules.ignore.len(),
            super::super::compare::DEFAULT_IGNORE.len() + 1
        );
        let text = write(
            &s,
            &WriteExtras {
                ignore: vec!["//q:Build".into()],
                any_value: vec![],
            },
        );
        let again = parse(&text, "again.toml", None).unwrap();
        assert_eq!(again.steps[0].request, step.request);
        assert_eq!(
            again.steps[0].response.as_ref().unwrap().body,
            step.response.as_ref().unwrap().body
        );
        assert_eq!(again.steps[0].asserts, step.asserts);
        assert_eq!(again.rules.ignore, s.rules.ignore);
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let bad_toml = GOOD.replace("status = 200\nresponse", "status = \"x\"\nresponse");
        let e = parse(&bad_toml, "f.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (17, 10), "{e}");
        let unknown = GOOD.replace("source =", "sauce =");
        let e = parse(&unknown, "f.toml", None).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("sauce"), "{e}");
        // An XML error inside an inline envelope points into the envelope.
        let bad_xml = GOOD.replace("<s:Header/><s:Body><wsmid", "<s:Header><s:Body><wsmid");
        let e = parse(&bad_xml, "f.toml", None).unwrap_err();
        assert_eq!(e.line, 15, "{e}");
        assert!(e.column > 100, "{e}");
        let bad_path = GOOD.replace("//q:Build", "//zz:Build");
        let e = parse(&bad_path, "f.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (9, 11), "{e}");
        assert!(e.message.contains("unknown prefix `zz`"), "{e}");
        let two = GOOD.replace("{ status = 200 },", "{ status = 200, fault = \"w:X\" },");
        let e = parse(&two, "f.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (22, 3), "{e}");
        let none = "[scenario]\nname = \"x\"\n";
        assert!(
            parse(none, "f", None)
                .unwrap_err()
                .message
                .contains("no [[step]]")
        );
    }

    #[test]
    fn awkward_text_still_round_trips() {
        for body in ["a'''b", "ends with '", "tab\tand\r\nCRLF", "", "\u{7}bell"] {
            let b = block(body);
            let doc = format!("v = {b}\n");
            let v: toml::Table = toml::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            let got = v["v"].as_str().unwrap();
            assert_eq!(got, body, "{doc}");
        }
    }
}
