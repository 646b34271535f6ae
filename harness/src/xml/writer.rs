//! Namespace-aware XML writer: chooses prefixes, declares what it uses, escapes what must be.
//!
//! Two prefix policies: [`PrefixStyle::Windows`] writes the prefixes a Windows WinRM service
//! writes (`s`, `a`, `w`, `rsp`, ...), [`PrefixStyle::Preserve`] reuses the prefixes the input had.
//! Either way every name resolves to the same namespace URI it had in the model.

use std::borrow::Cow;

use super::element::{Element, Node};
use super::name::{Attribute, QName};
use crate::ns;

/// A binding the writer tracks: `(prefix, uri)`. Known prefixes and namespaces are `'static`,
/// so declaring them allocates nothing.
type Binding = (Cow<'static, str>, Cow<'static, str>);

/// A declaration handed to [`XmlWriter::start`]: from a model (interned when bound) or from a
/// static table (bound as is).
trait Decl {
    fn parts(&self) -> (&str, &str);
    fn binding(&self) -> Binding;
}

impl Decl for (String, String) {
    fn parts(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
    fn binding(&self) -> Binding {
        (super::intern::prefix(&self.0), ns::intern(&self.1))
    }
}

impl Decl for (&'static str, &'static str) {
    fn parts(&self) -> (&str, &str) {
        (self.0, self.1)
    }
    fn binding(&self) -> Binding {
        (Cow::Borrowed(self.0), Cow::Borrowed(self.1))
    }
}

/// Which prefixes the writer prefers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrefixStyle {
    /// The prefixes Windows uses; other namespaces keep their source prefix.
    #[default]
    Windows,
    /// The prefixes recorded from the input.
    Preserve,
}

/// Streaming writer into a `String`.
///
/// Namespace URIs are written as the reader keeps them: raw, as they stood in the source
/// attribute, because that is the form names were resolved against.
pub struct XmlWriter {
    out: String,
    style: PrefixStyle,
    /// Bindings in scope, innermost last: (prefix, uri), `""` for the default namespace.
    scope: Vec<Binding>,
    /// Scope length at each open element.
    marks: Vec<usize>,
    /// True while a start tag is written but not yet closed with `>`.
    tag_open: bool,
    /// Qualified names of the open elements, concatenated (one buffer, not one string each:
    /// the writer is on every server answer's path); `name_marks` holds where each starts.
    open_names: String,
    name_marks: Vec<usize>,
    /// Scratch for a start tag's attributes, kept for its capacity.
    attr_buf: String,
    /// Scratch for the declarations a start tag adds, kept for its capacity.
    decl_buf: Vec<Binding>,
    generated: usize,
    /// Shared text to be placed at these offsets of `out` (see [`XmlWriter::splice_run`]).
    spliced: Vec<(usize, bytes::Bytes)>,
}

/// A written document: the writer's own text with shared text spliced in at recorded places,
/// so that a large answer can go out without its items being copied into one buffer.
#[derive(Clone, Debug, Default)]
pub struct Written {
    text: String,
    spliced: Vec<(usize, bytes::Bytes)>,
}

impl Written {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.text.len() + self.spliced.iter().map(|(_, b)| b.len()).sum::<usize>()
    }

    /// True for no text at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole text in one string (copies the spliced parts).
    pub fn into_string(self) -> String {
        if self.spliced.is_empty() {
            return self.text;
        }
        let mut out = Vec::with_capacity(self.len());
        let mut at = 0;
        for (offset, b) in &self.spliced {
            out.extend_from_slice(&self.text.as_bytes()[at..*offset]);
            out.extend_from_slice(b);
            at = *offset;
        }
        out.extend_from_slice(&self.text.as_bytes()[at..]);
        // Spliced text comes from `Run`s, built from `str`s and cut at element starts, so this
        // never replaces anything; were it ever wrong, text is replaced, never dropped.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The text as a list of buffers in order, without copying any part.
    pub fn into_chunks(self) -> Vec<bytes::Bytes> {
        let own = bytes::Bytes::from(self.text);
        let mut out = Vec::with_capacity(2 * self.spliced.len() + 1);
        let mut at = 0;
        for (offset, b) in self.spliced {
            if offset > at {
                out.push(own.slice(at..offset));
            }
            out.push(b);
            at = offset;
        }
        if own.len() > at || out.is_empty() {
            out.push(own.slice(at..));
        }
        out
    }
}

impl From<String> for Written {
    fn from(text: String) -> Self {
        Self {
            text,
            spliced: Vec::new(),
        }
    }
}

impl XmlWriter {
    /// A writer with the given prefix policy.
    pub fn new(style: PrefixStyle) -> Self {
        Self::with_capacity(style, 1024)
    }

    /// A writer with a capacity hint for the output.
    pub fn with_capacity(style: PrefixStyle, capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            style,
            // Sized for a usual envelope, so that writing one does not regrow them.
            scope: Vec::with_capacity(16),
            marks: Vec::with_capacity(16),
            tag_open: false,
            open_names: String::with_capacity(256),
            name_marks: Vec::with_capacity(16),
            attr_buf: String::with_capacity(64),
            decl_buf: Vec::with_capacity(8),
            generated: 0,
            spliced: Vec::new(),
        }
    }

    /// The prefix policy.
    pub fn style(&self) -> PrefixStyle {
        self.style
    }

    /// A whole element tree as a document.
    pub fn document(e: &Element, style: PrefixStyle, capacity: usize) -> String {
        let mut w = Self::with_capacity(style, capacity);
        w.element(e);
        w.finish()
    }

    /// Finishes and returns the document.
    pub fn finish(self) -> String {
        self.finish_written().into_string()
    }

    /// Finishes and returns the document with spliced text still shared.
    pub fn finish_written(mut self) -> Written {
        self.close_tag();
        Written {
            text: self.out,
            spliced: self.spliced,
        }
    }

    /// Writes a run of self-contained elements. Where no default namespace is in force, as in
    /// every answer the reference server writes, the run's shared text is spliced in uncopied;
    /// otherwise each element is written as [`XmlWriter::raw_element`] writes it.
    pub fn splice_run(&mut self, run: &super::Run) {
        if run.is_empty() {
            return;
        }
        if self.lookup("").is_some_and(|d| !d.is_empty()) {
            for e in run.iter() {
                self.raw_element(e, &[]);
            }
            return;
        }
        self.close_tag();
        self.spliced.push((self.out.len(), run.text()));
    }

    /// The namespace bound to a prefix now (`""` = default namespace).
    pub fn lookup(&self, prefix: &str) -> Option<&str> {
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_ref())
    }

    /// A prefix (never the default) currently bound to `uri` and not shadowed.
    fn bound_prefix(&self, uri: &str) -> Option<&str> {
        self.scope
            .iter()
            .rev()
            .filter(|(p, u)| !p.is_empty() && u == uri)
            .map(|(p, _)| p.as_ref())
            .find(|p| self.lookup(p) == Some(uri))
    }

    /// Opens an element. `hint` is the source prefix, `decls` the declarations to repeat.
    pub fn start(
        &mut self,
        name: &QName,
        hint: Option<&str>,
        decls: &[(String, String)],
        attrs: &[Attribute],
    ) {
        self.open(name, hint, decls, attrs, None);
    }

    /// Opens the root of a document declaring [`ns::WINDOWS_PREFIXES`], as the root of every
    /// answer the server writes does: on an empty scope all of them are new and distinct, so
    /// they are bound without lookups and written as one text composed once.
    pub fn start_windows_root(&mut self, name: &QName, hint: Option<&str>, attrs: &[Attribute]) {
        let fresh = self.scope.is_empty().then(windows_declarations);
        self.open(name, hint, ns::WINDOWS_PREFIXES, attrs, fresh);
    }

    /// `fresh`: the written text of `decls` when they are known to be distinct and unbound.
    fn open<D: Decl>(
        &mut self,
        name: &QName,
        hint: Option<&str>,
        decls: &[D],
        attrs: &[Attribute],
        fresh: Option<&str>,
    ) {
        self.close_tag();
        self.marks.push(self.scope.len());
        let mut new_decls = std::mem::take(&mut self.decl_buf);
        new_decls.clear();
        if fresh.is_some() {
            for d in decls {
                self.declare(&mut new_decls, d.binding());
            }
        } else {
            for d in decls {
                let (p, u) = d.parts();
                if self.lookup(p) != Some(u) && !new_decls.iter().any(|(q, _)| q == p) {
                    self.declare(&mut new_decls, d.binding());
                }
            }
        }
        // The name and the attributes are composed in buffers the writer keeps, so that a
        // start tag allocates nothing once the buffers have grown.
        let mut names = std::mem::take(&mut self.open_names);
        let name_start = names.len();
        self.element_prefix(name, hint, &mut new_decls, &mut names);
        names.push_str(&name.local);
        let mut attr_text = std::mem::take(&mut self.attr_buf);
        attr_text.clear();
        for a in attrs {
            attr_text.push(' ');
            self.attribute_prefix(a, &mut new_decls, &mut attr_text);
            attr_text.push_str(&a.name.local);
            attr_text.push_str("=\"");
            escape_attr(&a.value, &mut attr_text);
            attr_text.push('"');
        }
        self.out.push('<');
        self.out.push_str(&names[name_start..]);
        // Unless the name or an attribute needed one more declaration.
        if let Some(text) = fresh.filter(|_| new_decls.len() == decls.len()) {
            self.out.push_str(text);
        } else {
            for (p, u) in &new_decls {
                push_xmlns(&mut self.out, p, u);
            }
        }
        self.out.push_str(&attr_text);
        self.tag_open = true;
        self.open_names = names;
        self.name_marks.push(name_start);
        self.attr_buf = attr_text;
        self.decl_buf = new_decls;
    }

    fn bind(&mut self, new_decls: &mut Vec<Binding>, prefix: &str, uri: &str) {
        self.declare(new_decls, (super::intern::prefix(prefix), ns::intern(uri)));
    }

    /// Puts a binding in scope and among the declarations of the tag being written.
    fn declare(&mut self, new_decls: &mut Vec<Binding>, binding: Binding) {
        new_decls.push(binding.clone());
        self.scope.push(binding);
    }

    /// Chooses (declaring it if needed) the prefix for an element and appends `prefix:` to
    /// `into`, or nothing for the default namespace.
    fn element_prefix(
        &mut self,
        name: &QName,
        hint: Option<&str>,
        new_decls: &mut Vec<Binding>,
        into: &mut String,
    ) {
        let uri = name.ns.as_ref();
        if uri.is_empty() {
            if self.lookup("").is_some_and(|d| !d.is_empty()) {
                self.bind(new_decls, "", "");
            }
            return;
        }
        if uri == ns::XML {
            // The `xml` prefix is bound by definition and may be bound to nothing else.
            return push_prefix(into, "xml");
        }
        let preferred = self.preferred_prefix(uri, hint);
        if self.style == PrefixStyle::Preserve && hint.is_none() && self.lookup("") == Some(uri) {
            return;
        }
        if let Some(p) = preferred
            && self.lookup(p) == Some(uri)
        {
            return push_prefix(into, p);
        }
        if let Some(p) = self.bound_prefix(uri) {
            return push_prefix(into, p);
        }
        if self.style == PrefixStyle::Preserve && hint.is_none() {
            self.bind(new_decls, "", uri);
            return;
        }
        let p = self.fresh_prefix(preferred, new_decls);
        self.bind(new_decls, &p, uri);
        push_prefix(into, &p);
    }

    /// As [`Self::element_prefix`], for an attribute (never the default namespace).
    fn attribute_prefix(&mut self, a: &Attribute, new_decls: &mut Vec<Binding>, into: &mut String) {
        let uri = a.name.ns.as_ref();
        if uri.is_empty() {
            return;
        }
        if uri == ns::XML {
            return push_prefix(into, "xml");
        }
        let preferred = self.preferred_prefix(uri, a.prefix.as_deref());
        if let Some(p) = preferred
            && self.lookup(p) == Some(uri)
        {
            return push_prefix(into, p);
        }
        if let Some(p) = self.bound_prefix(uri) {
            return push_prefix(into, p);
        }
        let p = self.fresh_prefix(preferred, new_decls);
        self.bind(new_decls, &p, uri);
        push_prefix(into, &p);
    }

    fn preferred_prefix<'h>(&self, uri: &str, hint: Option<&'h str>) -> Option<&'h str> {
        let windows = ns::windows_prefix(uri).filter(|p| *p != "xml");
        match self.style {
            PrefixStyle::Windows => windows.or(hint),
            PrefixStyle::Preserve => hint.or(windows),
        }
    }

    /// A prefix not already declared on this element: the preferred one, else `nsN`.
    fn fresh_prefix(&mut self, preferred: Option<&str>, new_decls: &[Binding]) -> String {
        if let Some(p) = preferred
            && !p.is_empty()
            && !new_decls.iter().any(|(q, _)| q == p)
        {
            return p.to_owned();
        }
        loop {
            self.generated += 1;
            let p = format!("ns{}", self.generated);
            if !new_decls.iter().any(|(q, _)| *q == p) && self.lookup(&p).is_none() {
                return p;
            }
        }
    }

    /// Prefix to write a QName-valued text (fault subcodes) with, declaring it on the element
    /// just opened when it is not in scope.
    pub fn qname_text(&mut self, name: &QName) -> String {
        if name.ns.is_empty() {
            return name.local.to_string();
        }
        let p = match self.bound_prefix(&name.ns) {
            Some(p) => p.to_owned(),
            None => {
                assert!(self.tag_open, "qname_text needs an open start tag");
                let preferred = self.preferred_prefix(&name.ns, None);
                let p = self.fresh_prefix(preferred, &[]);
                push_xmlns(&mut self.out, &p, &name.ns);
                self.scope.push((Cow::Owned(p.clone()), name.ns.clone()));
                p
            }
        };
        format!("{p}:{}", name.local)
    }

    /// Writes character data.
    pub fn text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.close_tag();
        escape_text(s, &mut self.out);
    }

    /// Closes the innermost element (self-closing when it had no content).
    pub fn end(&mut self) {
        let start = self.name_marks.pop().unwrap_or(self.open_names.len());
        if self.tag_open {
            self.out.push_str("/>");
            self.tag_open = false;
        } else {
            self.out.push_str("</");
            self.out.push_str(&self.open_names[start..]);
            self.out.push('>');
        }
        self.open_names.truncate(start);
        let mark = self.marks.pop().unwrap_or(0);
        self.scope.truncate(mark);
    }

    /// Writes an element holding only text.
    pub fn text_element(&mut self, name: &QName, attrs: &[Attribute], text: &str) {
        self.start(name, None, &[], attrs);
        self.text(text);
        self.end();
    }

    /// Writes a generic element tree.
    pub fn element(&mut self, e: &Element) {
        self.start(&e.name, e.prefix.as_deref(), &e.ns_decls, &e.attrs);
        for n in &e.children {
            match n {
                Node::Element(c) => self.element(c),
                Node::Text(t) => self.text(t),
            }
        }
        self.end();
    }

    /// Writes one element kept as source text, declaring on its root whatever bindings of its
    /// source scope differ from the writer's scope. The text was checked when it was read.
    pub fn raw_element(&mut self, src: &str, scope: &[(String, String)]) {
        self.close_tag();
        // Bytes, not chars: the delimiters are ASCII, so the index is a character boundary.
        let name_len = src.as_bytes()[1..]
            .iter()
            .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
            .unwrap_or(src.len() - 1);
        // The fragment's own declarations matter only when it brings a scope or a default
        // namespace is in force here; generated items (the hot path of large enumerations)
        // need neither, so their start tag is not read again.
        let default_in_force = self.lookup("").is_some_and(|d| !d.is_empty());
        let own = if scope.is_empty() && !default_in_force {
            Vec::new()
        } else {
            own_declared_prefixes(src)
        };
        let mut inject = String::new();
        for (p, u) in scope {
            if self.lookup(p).unwrap_or("") == u || own.iter().any(|o| o == p) {
                continue;
            }
            push_xmlns(&mut inject, p, u);
        }
        if default_in_force
            && !scope.iter().any(|(p, _)| p.is_empty())
            && !own.iter().any(|o| o.is_empty())
        {
            inject.push_str(" xmlns=\"\"");
        }
        self.out.push_str(&src[..1 + name_len]);
        self.out.push_str(&inject);
        self.out.push_str(&src[1 + name_len..]);
    }

    fn close_tag(&mut self) {
        if self.tag_open {
            self.out.push('>');
            self.tag_open = false;
        }
    }
}

/// The prefixes the first start tag of `src` declares itself (`""` for `xmlns=`).
fn own_declared_prefixes(src: &str) -> Vec<String> {
    let mut r = quick_xml::Reader::from_str(src);
    let mut out = Vec::new();
    if let Ok(quick_xml::events::Event::Start(t) | quick_xml::events::Event::Empty(t)) =
        r.read_event()
    {
        for a in t.attributes().flatten() {
            if let Some(d) = a.key.as_namespace_binding() {
                out.push(match d {
                    quick_xml::name::PrefixDeclaration::Default => String::new(),
                    quick_xml::name::PrefixDeclaration::Named(p) => p.to_owned(),
                });
            }
        }
    }
    out
}

/// The declarations of [`ns::WINDOWS_PREFIXES`] as written on a root, composed once.
fn windows_declarations() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let mut s = String::new();
        for (p, u) in ns::WINDOWS_PREFIXES {
            push_xmlns(&mut s, p, u);
        }
        s
    })
}

/// Appends ` xmlns:p="uri"` (or ` xmlns="uri"` for the default namespace). URIs are raw.
pub(crate) fn push_xmlns(out: &mut String, prefix: &str, uri: &str) {
    if prefix.is_empty() {
        out.push_str(" xmlns=\"");
    } else {
        out.push_str(" xmlns:");
        out.push_str(prefix);
        out.push_str("=\"");
    }
    out.push_str(uri);
    out.push('"');
}

fn push_prefix(into: &mut String, prefix: &str) {
    into.push_str(prefix);
    into.push(':');
}

/// Appends `s` with the bytes `escape` maps replaced; runs between them are copied whole.
/// Every mapped byte is ASCII, so the slices fall on character boundaries.
fn escape_with(s: &str, out: &mut String, escape: impl Fn(u8) -> Option<&'static str>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(rep) = escape(b) {
            out.push_str(&s[last..i]);
            out.push_str(rep);
            last = i + 1;
        }
    }
    out.push_str(&s[last..]);
}

fn escape_text(s: &str, out: &mut String) {
    // Nearly all text needs no escaping: two vectorised scans beat a byte-by-byte match.
    let b = s.as_bytes();
    if memchr::memchr3(b'&', b'<', b'>', b).is_none() && memchr::memchr(b'\r', b).is_none() {
        out.push_str(s);
        return;
    }
    escape_with(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'\r' => Some("&#13;"),
        _ => None,
    });
}

/// Escapes an attribute value so that attribute-value normalisation gives it back unchanged.
fn escape_attr(s: &str, out: &mut String) {
    let b = s.as_bytes();
    if memchr::memchr3(b'&', b'<', b'"', b).is_none()
        && memchr::memchr3(b'\t', b'\n', b'\r', b).is_none()
    {
        out.push_str(s);
        return;
    }
    escape_with(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'"' => Some("&quot;"),
        b'\t' => Some("&#9;"),
        b'\n' => Some("&#10;"),
        b'\r' => Some("&#13;"),
        _ => None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{QName, Run};

    /// Spliced runs land where they were written, as chunks and as one string alike.
    #[test]
    fn a_windows_root_is_written_as_the_general_path_writes_it() {
        let owned: Vec<(String, String)> = ns::WINDOWS_PREFIXES
            .iter()
            .map(|(p, u)| ((*p).to_owned(), (*u).to_owned()))
            .collect();
        let envelope = QName::new(ns::SOAP, "Envelope");
        let lang = [Attribute::qualified(QName::new(ns::XML, "lang"), "en-US")];
        // With and without an attribute, and with a name that needs a declaration of its own.
        for (name, attrs) in [
            (envelope.clone(), &lang[..]),
            (envelope, &[][..]),
            (QName::new("urn:other", "Root"), &lang[..]),
        ] {
            let mut fast = XmlWriter::new(PrefixStyle::Windows);
            fast.start_windows_root(&name, Some("s"), attrs);
            fast.end();
            let mut general = XmlWriter::new(PrefixStyle::Windows);
            general.start(&name, Some("s"), &owned, attrs);
            general.end();
            assert_eq!(fast.finish(), general.finish());
        }
    }

    #[test]
    fn spliced_runs_read_the_same_as_chunks_and_as_a_string() {
        let run = Run::from_elements(["<i:a xmlns:i=\"urn:i\"/>", "<i:b xmlns:i=\"urn:i\"/>"]);
        let mut w = XmlWriter::new(PrefixStyle::Windows);
        w.start(&QName::new("urn:x", "Items"), Some("x"), &[], &[]);
        w.splice_run(&run);
        w.text_element(&QName::new("urn:x", "Mid"), &[], "m");
        w.splice_run(&run.take(1, 1, usize::MAX));
        w.end();
        let written = w.finish_written();
        let chunks = written.clone().into_chunks();
        assert!(chunks.len() >= 4, "{chunks:?}");
        assert!(chunks.iter().all(|c| !c.is_empty()));
        let joined: Vec<u8> = chunks.concat();
        let text = written.clone().into_string();
        assert_eq!(joined, text.as_bytes());
        assert_eq!(written.len(), text.len());
        assert_eq!(
            text,
            "<x:Items xmlns:x=\"urn:x\"><i:a xmlns:i=\"urn:i\"/><i:b xmlns:i=\"urn:i\"/>\
             <x:Mid>m</x:Mid><i:b xmlns:i=\"urn:i\"/></x:Items>"
        );
        // A run at the very start and end of the output, nothing of the writer's own around it.
        let mut w = XmlWriter::new(PrefixStyle::Windows);
        w.splice_run(&run);
        assert_eq!(
            w.finish_written().into_chunks().concat(),
            run.text().to_vec()
        );
    }

    /// Under a default namespace the run's elements get `xmlns=""` each, as fragments do.
    #[test]
    fn runs_under_a_default_namespace_are_written_element_by_element() {
        let run = Run::from_elements(["<a/>"]);
        let mut w = XmlWriter::new(PrefixStyle::Preserve);
        let decls = [(String::new(), "urn:d".to_owned())];
        w.start(&QName::new("urn:d", "Root"), None, &decls, &[]);
        w.splice_run(&run);
        w.end();
        let text = w.finish();
        assert!(text.contains("<a xmlns=\"\"/>"), "{text}");
    }
}
