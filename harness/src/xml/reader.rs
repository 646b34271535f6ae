//! Bounded, namespace-resolving reading of XML input: the single entry point from bytes.
//!
//! Every error carries a byte offset into the caller's input (for UTF-16 input the offset is
//! mapped back from the transcoded text) and says what was expected. DOCTYPE declarations are
//! refused outright, so no entity is ever expanded; limits are checked while reading.

use std::borrow::Cow;
use std::fmt;

use quick_xml::name::PrefixDeclaration;

use super::element::{Element, Node};
use super::lexer::{Lexer, Tag, Token};
use super::name::{Attribute, QName};
use super::scopes::{Resolved, Scopes};
use crate::ns;

/// Bounds applied while reading one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
}

impl Limits {
    /// No practical bound; for trusted, already-bounded input such as test fixtures.
    pub const UNBOUNDED: Limits = Limits {
        max_bytes: usize::MAX,
        max_depth: 4096,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// WinRM caps MaxEnvelopeSizekb at 1039440 KiB, but nothing real comes near it; 8 MiB holds a
/// response at the 512 KB client default many times over and keeps memory bounded by default.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Real envelopes nest about 15 levels (envelope, body, items, CIM instance, embedded objects);
/// 256 leaves room for deep resource bodies and stops nesting bombs long before the stack.
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// Why input could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the original input.
    pub offset: u64,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// The kinds of reading errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input exceeds [`Limits::max_bytes`].
    TooLarge {
        /// Input size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Nesting exceeds [`Limits::max_depth`].
    TooDeep {
        /// Configured limit.
        limit: usize,
    },
    /// A `<!DOCTYPE` declaration: refused so that entities are never expanded.
    Doctype,
    /// The bytes are not valid in the detected encoding, or the encoding is not supported.
    Encoding(String),
    /// An entity reference other than the five predefined ones or a character reference.
    UnknownEntity(String),
    /// Malformed XML, as reported by the tokenizer.
    Syntax(String),
    /// A prefix with no namespace declaration in scope.
    Namespace(String),
    /// Well-formed XML that is not the structure expected here.
    Unexpected {
        /// What the reader was looking for.
        expected: String,
        /// What it found.
        found: String,
    },
    /// A SOAP 1.1 envelope; WinRM answers these with `s:VersionMismatch`.
    Soap11,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::TooLarge { size, limit } => {
                write!(
                    f,
                    "input of {size} bytes exceeds the limit of {limit} bytes"
                )
            }
            ErrorKind::TooDeep { limit } => {
                write!(f, "elements nest deeper than the limit of {limit}")
            }
            ErrorKind::Doctype => f.write_str(
                "DOCTYPE declarations are refused (entity expansion is never performed)",
            ),
            ErrorKind::Encoding(m) => write!(f, "encoding error: {m}"),
            ErrorKind::UnknownEntity(n) => write!(
                f,
                "unknown entity reference '&{n};' (only the predefined entities and character references are allowed)"
            ),
            ErrorKind::Syntax(m) => write!(f, "malformed XML: {m}"),
            ErrorKind::Namespace(m) => write!(f, "namespace error: {m}"),
            ErrorKind::Unexpected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ErrorKind::Soap11 => f.write_str(
                "expected a SOAP 1.2 envelope, found SOAP 1.1 (WS-Management requires SOAP 1.2)",
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// The detected encoding of the input, used to map text offsets back to input bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8 { bom: usize },
    Utf16 { bom: usize, big_endian: bool },
}

/// Input turned into UTF-8 text, plus what is needed to report offsets in the original bytes.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    encoding: Encoding,
}

impl Decoded<'_> {
    /// The same decoding over another copy of the same text (e.g. one shared by fragments).
    pub fn view<'b>(&self, text: &'b str) -> Decoded<'b> {
        Decoded {
            text: std::borrow::Cow::Borrowed(text),
            encoding: self.encoding,
        }
    }

    /// Maps a byte offset in [`Decoded::text`] to one in the original input.
    pub fn input_offset(&self, text_offset: usize) -> u64 {
        let text_offset = text_offset.min(self.text.len());
        match self.encoding {
            Encoding::Utf8 { bom } => (bom + text_offset) as u64,
            Encoding::Utf16 { bom, .. } => {
                let head = self.text.get(..text_offset).unwrap_or(&self.text);
                (bom + head.encode_utf16().count() * 2) as u64
            }
        }
    }

    /// A parse error at a text offset, reported in input bytes.
    pub fn error(&self, text_offset: usize, kind: ErrorKind) -> ParseError {
        ParseError {
            offset: self.input_offset(text_offset),
            kind,
        }
    }

    fn is_utf16(&self) -> bool {
        matches!(self.encoding, Encoding::Utf16 { .. })
    }
}

/// Detects UTF-8 or UTF-16 (by byte order mark, or by the `<?` pattern of XML 1.0 appendix F)
/// and returns UTF-8 text. Other encodings are refused: WinRM uses only these two.
pub fn decode(input: &[u8], limits: Limits) -> Result<Decoded<'_>, ParseError> {
    if input.len() > limits.max_bytes {
        return Err(ParseError {
            offset: limits.max_bytes as u64,
            kind: ErrorKind::TooLarge {
                size: input.len(),
                limit: limits.max_bytes,
            },
        });
    }
    let (encoding, body) = match input {
        [0, 0, 0xFE, 0xFF, ..] | [0xFF, 0xFE, 0, 0, ..] | [0, 0, 0, b'<', ..] => {
            return Err(ParseError {
                offset: 0,
                kind: ErrorKind::Encoding("UTF-32 is not supported".into()),
            });
        }
        [0xEF, 0xBB, 0xBF, rest @ ..] => (Encoding::Utf8 { bom: 3 }, rest),
        [0xFF, 0xFE, rest @ ..] => (
            Encoding::Utf16 {
                bom: 2,
                big_endian: false,
            },
            rest,
        ),
        [0xFE, 0xFF, rest @ ..] => (
            Encoding::Utf16 {
                bom: 2,
                big_endian: true,
            },
            rest,
        ),
        [b'<', 0, b'?', 0, ..] => (
            Encoding::Utf16 {
                bom: 0,
                big_endian: false,
            },
            input,
        ),
        [0, b'<', 0, b'?', ..] => (
            Encoding::Utf16 {
                bom: 0,
                big_endian: true,
            },
            input,
        ),
        _ => (Encoding::Utf8 { bom: 0 }, input),
    };
    let text = match encoding {
        Encoding::Utf8 { bom } => match std::str::from_utf8(body) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => {
                return Err(ParseError {
                    offset: (bom + e.valid_up_to()) as u64,
                    kind: ErrorKind::Encoding("invalid UTF-8 sequence".into()),
                });
            }
        },
        Encoding::Utf16 { bom, big_endian } => Cow::Owned(decode_utf16(body, bom, big_endian)?),
    };
    Ok(Decoded { text, encoding })
}

fn decode_utf16(body: &[u8], bom: usize, big_endian: bool) -> Result<String, ParseError> {
    if !body.len().is_multiple_of(2) {
        return Err(ParseError {
            offset: (bom + body.len() - 1) as u64,
            kind: ErrorKind::Encoding("UTF-16 input has an odd number of bytes".into()),
        });
    }
    let units = body.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    let mut out = String::with_capacity(body.len() / 2);
    for (i, r) in char::decode_utf16(units).enumerate() {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(ParseError {
                    offset: (bom + i * 2) as u64,
                    kind: ErrorKind::Encoding("unpaired UTF-16 surrogate".into()),
                });
            }
        }
    }
    Ok(out)
}

/// A forward-only, namespace-resolving reader over decoded text.
pub struct Cursor<'i> {
    lexer: Lexer<'i>,
    scopes: Scopes,
    src: &'i Decoded<'i>,
    depth: usize,
    limits: Limits,
    seen_root: bool,
    /// The namespace the last start tag's name resolved to, with the tag's offset: every tag is
    /// resolved when it is checked, and naming it right after must not search the scope again.
    last_ns: Option<(usize, Cow<'static, str>)>,
}

/// An event after comments, processing instructions and the XML declaration are dealt with.
pub enum Ev<'i> {
    /// A start tag (`empty` for `<x/>`), with the text offset of its `<`.
    Start {
        /// The tag.
        tag: Tag<'i>,
        /// True for a self-closing tag: no End follows.
        empty: bool,
        /// Offset of `<` in the decoded text.
        offset: usize,
    },
    /// An end tag.
    End,
    /// Character data with entities resolved.
    Text(Cow<'i, str>),
    /// End of input.
    Eof,
}

impl<'i> Cursor<'i> {
    /// A cursor over decoded input.
    pub fn new(src: &'i Decoded<'i>, limits: Limits) -> Self {
        Self {
            lexer: Lexer::new(&src.text),
            scopes: Scopes::default(),
            src,
            depth: 0,
            limits,
            seen_root: false,
            last_ns: None,
        }
    }

    /// The decoded text being read.
    pub fn text(&self) -> &'i str {
        &self.src.text
    }

    /// Current element nesting depth (0 outside the root).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Current offset in the decoded text.
    pub fn position(&self) -> usize {
        self.lexer.position()
    }

    /// An error at a text offset.
    pub fn error(&self, offset: usize, kind: ErrorKind) -> ParseError {
        self.src.error(offset, kind)
    }

    /// An "expected X, found Y" error at a text offset.
    pub fn unexpected(
        &self,
        offset: usize,
        expected: &str,
        found: impl Into<String>,
    ) -> ParseError {
        self.error(
            offset,
            ErrorKind::Unexpected {
                expected: expected.into(),
                found: found.into(),
            },
        )
    }

    /// The next significant event. Comments and processing instructions are skipped, the XML
    /// declaration is checked against the detected encoding, DOCTYPE is refused.
    pub fn next_event(&mut self) -> Result<Ev<'i>, ParseError> {
        loop {
            let (offset, event) = self.read_raw()?;
            match event {
                Token::Start(tag) => {
                    self.open_tag(&tag, false, offset)?;
                    return Ok(Ev::Start {
                        tag,
                        empty: false,
                        offset,
                    });
                }
                Token::Empty(tag) => {
                    self.open_tag(&tag, true, offset)?;
                    return Ok(Ev::Start {
                        tag,
                        empty: true,
                        offset,
                    });
                }
                Token::End => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Ev::End);
                }
                Token::Text(t) => return Ok(Ev::Text(xml10_text(t))),
                Token::CData(c) => return Ok(Ev::Text(Cow::Borrowed(c))),
                Token::Ref(r) => return Ok(Ev::Text(self.resolve_ref(r, offset)?)),
                Token::Decl(d) => self.check_decl(&d, offset)?,
                Token::DocType => return Err(self.error(offset, ErrorKind::Doctype)),
                Token::Skipped => {}
                Token::Eof => return Ok(Ev::Eof),
            }
        }
    }

    /// The text of a character reference or one of the five predefined entities; any other
    /// entity is refused (no DTD is ever read, so none can be declared).
    fn resolve_ref(&self, name: &str, offset: usize) -> Result<Cow<'static, str>, ParseError> {
        let r = quick_xml::events::BytesRef::new(name);
        match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(Cow::Owned(c.to_string())),
            Ok(None) => match quick_xml::escape::resolve_predefined_entity(name) {
                Some(s) => Ok(Cow::Borrowed(s)),
                None => Err(self.error(offset, ErrorKind::UnknownEntity(name.to_owned()))),
            },
            Err(e) => Err(self.error(offset, ErrorKind::Syntax(e.to_string()))),
        }
    }

    /// One tokenizer event with the offset it started at.
    #[inline]
    fn read_raw(&mut self) -> Result<(usize, Token<'i>), ParseError> {
        let offset = self.position();
        self.scopes.settle();
        let event = match self.lexer.next_token() {
            Ok(e) => e,
            Err(e) => return Err(self.error(e.at, ErrorKind::Syntax(e.error.to_string()))),
        };
        let scoped = match &event {
            Token::Start(tag) => self.scopes.push(tag, false),
            Token::Empty(tag) => self.scopes.push(tag, true),
            Token::End => {
                self.scopes.end();
                Ok(())
            }
            _ => Ok(()),
        };
        scoped.map_err(|m| self.error(offset, ErrorKind::Namespace(m)))?;
        Ok((offset, event))
    }

    /// Depth accounting and every check a start tag gets, on any reading path.
    fn open_tag(&mut self, tag: &Tag<'_>, empty: bool, offset: usize) -> Result<(), ParseError> {
        self.enter(offset)?;
        if empty {
            self.depth -= 1;
        }
        self.check_prefixes(tag, offset)
    }

    #[inline]
    fn enter(&mut self, offset: usize) -> Result<(), ParseError> {
        self.depth += 1;
        self.seen_root = true;
        if self.depth > self.limits.max_depth {
            return Err(self.error(
                offset,
                ErrorKind::TooDeep {
                    limit: self.limits.max_depth,
                },
            ));
        }
        Ok(())
    }

    /// Refuses malformed attributes (names, syntax, entity references), undeclared prefixes and
    /// namespace URIs that could not be written back, on an element without building names: one
    /// pass over the attributes, which [`Cursor::start_element`] then need not check again.
    #[inline]
    pub fn check_prefixes(&mut self, tag: &Tag<'_>, offset: usize) -> Result<(), ParseError> {
        let name: &str = tag.name().into_inner();
        if !tag.is_qname() {
            return Err(self.error(
                offset,
                ErrorKind::Syntax(format!("malformed element name {name:?}")),
            ));
        }
        if name.starts_with("xmlns:") {
            let msg = format!("element {name:?} uses the reserved prefix 'xmlns'");
            return Err(self.error(offset, ErrorKind::Namespace(msg)));
        }
        let prefix = tag.prefix();
        // Remembered only when naming the tag later costs no allocation: tags that are skipped
        // (enumeration items, often in namespaces of their own) are never named.
        self.last_ns = match self.scopes.resolve_known(prefix) {
            Ok(known) => known.map(|k| (offset, Cow::Borrowed(k))),
            Err(()) => return Err(self.undeclared(offset, "prefix", prefix)),
        };
        // Attributes are tokenized lazily by quick-xml, so this is also where a kept fragment's
        // attribute syntax is checked.
        if tag.attributes_raw().trim_ascii().is_empty() {
            return Ok(());
        }
        for a in tag.attributes() {
            let a = a.map_err(|e| self.error(offset, ErrorKind::Syntax(e.to_string())))?;
            let key: &str = a.key.into_inner();
            if !is_qname(key) {
                return Err(self.error(
                    offset,
                    ErrorKind::Syntax(format!("malformed attribute name {key:?}")),
                ));
            }
            let raw: &str = a.value.as_ref();
            if a.key.as_namespace_binding().is_some() {
                check_namespace_uri(raw).map_err(|m| self.error(offset, m))?;
                continue;
            }
            if raw.contains('&') {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| self.attr_error(offset, e))?;
            }
            let prefix = a.key.prefix().map(|p| p.into_inner());
            if prefix.is_some() && self.scopes.resolve(prefix, false) == Resolved::Unknown {
                return Err(self.undeclared(offset, "attribute prefix", prefix));
            }
        }
        Ok(())
    }

    fn check_decl(&self, d: &Tag<'_>, offset: usize) -> Result<(), ParseError> {
        if self.seen_root || offset > 0 {
            return Err(self.error(
                offset,
                ErrorKind::Syntax("XML declaration is only allowed at the very start".into()),
            ));
        }
        // As quick-xml's `BytesDecl::encoding`: the first `encoding` attribute, unless a
        // malformed attribute comes before it.
        let encoding = d
            .attributes()
            .with_checks(false)
            .map_while(Result::ok)
            .find(|a| a.key.0 == "encoding");
        if let Some(enc) = encoding {
            let enc = enc.value.to_ascii_lowercase();
            let declared_utf16 = enc.starts_with("utf-16") || enc == "unicode";
            let declared_utf8 = enc == "utf-8" || enc == "utf8" || enc == "us-ascii";
            if !(declared_utf8 || declared_utf16) {
                return Err(self.error(
                    offset,
                    ErrorKind::Encoding(format!("declared encoding '{enc}' is not supported")),
                ));
            }
            if declared_utf16 != self.src.is_utf16() {
                return Err(self.error(
                    offset,
                    ErrorKind::Encoding(format!(
                        "declared encoding '{enc}' does not match the bytes (detected {})",
                        if self.src.is_utf16() {
                            "UTF-16"
                        } else {
                            "UTF-8"
                        }
                    )),
                ));
            }
        }
        Ok(())
    }

    /// Resolves a start tag's name. Call right after the tag was read, while its scope is current.
    pub fn resolve(&self, tag: &Tag<'_>, offset: usize) -> Result<QName, ParseError> {
        if let Some((at, ns)) = &self.last_ns
            && *at == offset
        {
            return Ok(QName {
                ns: ns.clone(),
                local: super::intern::local(tag.local()),
            });
        }
        let prefix = tag.prefix();
        let ns = match self.scopes.resolve(prefix, true) {
            Resolved::Bound(n) => n,
            Resolved::Unbound => "",
            Resolved::Unknown => return Err(self.undeclared(offset, "prefix", prefix)),
        };
        Ok(QName::owned(ns, tag.local()))
    }

    /// Builds an owned element from a start tag: name, prefix, declarations, attributes.
    pub fn start_element(&self, tag: &Tag<'_>, offset: usize) -> Result<Element, ParseError> {
        let name = self.resolve(tag, offset)?;
        let prefix = tag.prefix().map(super::intern::prefix);
        let mut el = Element {
            name,
            prefix,
            ..Element::default()
        };
        // Every start tag passed `check_prefixes` when it was read (duplicates included).
        for a in tag.attributes().with_checks(false) {
            let a = a.map_err(|e| self.error(offset, ErrorKind::Syntax(e.to_string())))?;
            if let Some(decl) = a.key.as_namespace_binding() {
                let p = match decl {
                    PrefixDeclaration::Default => String::new(),
                    PrefixDeclaration::Named(p) => p.to_owned(),
                };
                // The raw value, as the tokenizer's namespace resolver uses it, so that the
                // declarations we keep bind exactly the URIs names were resolved to.
                let raw: &str = a.value.as_ref();
                el.ns_decls.push((p, raw.to_owned()));
                continue;
            }
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| self.attr_error(offset, e))?
                .into_owned();
            let prefix = a.key.prefix().map(|p| p.into_inner());
            let ns = match self.scopes.resolve(prefix, false) {
                Resolved::Bound(n) => n,
                Resolved::Unbound => "",
                Resolved::Unknown => {
                    return Err(self.undeclared(offset, "attribute prefix", prefix));
                }
            };
            el.attrs.push(Attribute {
                name: QName::owned(ns, a.key.local_name().into_inner()),
                prefix: a.key.prefix().map(|p| super::intern::prefix(p.as_ref())),
                value,
            });
        }
        Ok(el)
    }

    /// A prefix with no declaration in scope (`what`: "prefix" or "attribute prefix").
    fn undeclared(&self, offset: usize, what: &str, prefix: Option<&str>) -> ParseError {
        let p = prefix.unwrap_or_default();
        self.error(
            offset,
            ErrorKind::Namespace(format!("{what} '{p}' is not declared")),
        )
    }

    fn attr_error(&self, offset: usize, e: quick_xml::Error) -> ParseError {
        match e {
            quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, n)) => {
                self.error(offset, ErrorKind::UnknownEntity(n))
            }
            other => self.error(offset, ErrorKind::Syntax(other.to_string())),
        }
    }

    /// Reads the rest of an element whose start tag was just read, into an owned tree.
    pub fn read_element(
        &mut self,
        tag: &Tag<'_>,
        empty: bool,
        offset: usize,
    ) -> Result<Element, ParseError> {
        let mut el = self.start_element(tag, offset)?;
        if !empty {
            self.read_children(&mut el)?;
        }
        Ok(el)
    }

    /// [`Cursor::read_element`] for elements that nearly always hold only text (header blocks):
    /// the text of a text-only element comes back on its own and the element has no children,
    /// so that no child list is built only to be taken apart. An element with child elements
    /// comes back whole, exactly as [`Cursor::read_element`] reads it, with `None`.
    pub fn read_text_element(
        &mut self,
        tag: &Tag<'_>,
        empty: bool,
        offset: usize,
    ) -> Result<(Element, Option<String>), ParseError> {
        let mut el = self.start_element(tag, offset)?;
        let mut text = String::new();
        if empty {
            return Ok((el, Some(text)));
        }
        loop {
            match self.next_event()? {
                Ev::Text(t) if text.is_empty() => text = t.into_owned(),
                Ev::Text(t) => text.push_str(&t),
                Ev::End => return Ok((el, Some(text))),
                Ev::Start { tag, empty, offset } => {
                    // From here on as `read_children`: the text so far is the first child.
                    flush_text(&mut text, &mut el.children);
                    let child = self.read_element(&tag, empty, offset)?;
                    el.children.push(Node::Element(child));
                    self.read_children(&mut el)?;
                    return Ok((el, None));
                }
                Ev::Eof => {
                    let at = self.position();
                    return Err(self.unexpected(at, &format!("</{}>", el.name), "end of input"));
                }
            }
        }
    }

    /// Reads child nodes until the end tag of the current element.
    pub fn read_children(&mut self, el: &mut Element) -> Result<(), ParseError> {
        let mut text = String::new();
        loop {
            match self.next_event()? {
                Ev::Start { tag, empty, offset } => {
                    flush_text(&mut text, &mut el.children);
                    let child = self.read_element(&tag, empty, offset)?;
                    el.children.push(Node::Element(child));
                }
                Ev::Text(t) => text.push_str(&t),
                Ev::End => break,
                Ev::Eof => {
                    let at = self.position();
                    return Err(self.unexpected(at, &format!("</{}>", el.name), "end of input"));
                }
            }
        }
        flush_text(&mut text, &mut el.children);
        drop_layout_whitespace(&mut el.children);
        Ok(())
    }

    /// Skips the rest of an element whose start tag was just read; returns the text offset just
    /// past its end. Used for lazily kept fragments: no tree is built, but everything that would
    /// make the fragment unreadable later (unknown entities, undeclared prefixes) is refused now.
    pub fn skip_element(&mut self, empty: bool) -> Result<usize, ParseError> {
        // The hot loop of large responses: tokens are checked but text is neither normalised
        // nor copied.
        let mut depth = usize::from(!empty);
        while depth > 0 {
            let (offset, event) = self.read_raw()?;
            match event {
                Token::Start(tag) => {
                    self.open_tag(&tag, false, offset)?;
                    depth += 1;
                }
                Token::Empty(tag) => self.open_tag(&tag, true, offset)?,
                Token::End => {
                    self.depth = self.depth.saturating_sub(1);
                    depth -= 1;
                }
                Token::Ref(r) => {
                    self.resolve_ref(r, offset)?;
                }
                Token::DocType => return Err(self.error(offset, ErrorKind::Doctype)),
                Token::Decl(d) => self.check_decl(&d, offset)?,
                Token::Eof => {
                    return Err(self.unexpected(offset, "an end tag", "end of input"));
                }
                Token::Text(_) | Token::CData(_) | Token::Skipped => {}
            }
        }
        Ok(self.position())
    }

    /// Reads the text content of an element whose start tag was just read; child elements are
    /// an error. Returns the text (entities resolved).
    pub fn read_text(&mut self, empty: bool, what: &str) -> Result<String, ParseError> {
        let mut text = String::new();
        if empty {
            return Ok(text);
        }
        loop {
            match self.next_event()? {
                Ev::Text(t) => text.push_str(&t),
                Ev::End => return Ok(text),
                Ev::Start { offset, .. } => {
                    return Err(self.unexpected(
                        offset,
                        &format!("text content in {what}"),
                        "an element",
                    ));
                }
                Ev::Eof => {
                    let at = self.position();
                    return Err(self.unexpected(at, &format!("end of {what}"), "end of input"));
                }
            }
        }
    }

    /// The namespace bindings in scope in the element open now, latest binding per prefix; `""`
    /// is the default. Bindings of a child that was just closed do not count, so this may be
    /// called after reading children.
    pub fn scope(&self) -> Vec<(String, String)> {
        self.scope_at(self.depth)
    }

    /// The namespace bindings in scope in the open element at `depth` (this one or an
    /// ancestor), as [`Cursor::scope`] gives them.
    pub fn scope_at(&self, depth: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (p, uri) in self.scopes.up_to(depth.min(self.depth)) {
            match out.iter_mut().find(|(q, _)| q == p) {
                Some(slot) => uri.clone_into(&mut slot.1),
                None => out.push((p.to_owned(), uri.to_owned())),
            }
        }
        out
    }

    /// Requires that only whitespace, comments and processing instructions remain.
    pub fn expect_eof(&mut self) -> Result<(), ParseError> {
        loop {
            let offset = self.position();
            match self.next_event()? {
                Ev::Eof => return Ok(()),
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Text(_) => return Err(self.unexpected(offset, "end of input", "text")),
                Ev::Start { .. } | Ev::End => {
                    return Err(self.unexpected(
                        offset,
                        "end of input",
                        "content after the root element",
                    ));
                }
            }
        }
    }
}

/// Namespace URIs are kept raw (as the resolver uses them), so a `"` or `<` in one could not
/// be written back; neither may appear in a URI (RFC 3986), so such declarations are refused.
fn check_namespace_uri(v: &str) -> Result<(), ErrorKind> {
    // A byte search: a char-set `contains` walks chars one by one, which shows under the fuzz
    // targets' comparison tracing.
    if memchr::memchr2(b'"', b'<', v.as_bytes()).is_some() {
        return Err(ErrorKind::Namespace(format!(
            "namespace URI {v:?} contains a character not allowed in a URI"
        )));
    }
    Ok(())
}

/// `local` or `prefix:local`, both parts non-empty (Namespaces in XML 1.0 §4).
fn is_qname(name: &str) -> bool {
    match name.split_once(':') {
        None => !name.is_empty(),
        Some((p, l)) => !p.is_empty() && !l.is_empty() && !l.contains(':'),
    }
}

/// Text with XML 1.0 line ends normalised (`\r\n` and `\r` to `\n`); borrowed when there are
/// none, as in nearly every WS-Man message.
#[inline]
fn xml10_text(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(
        quick_xml::events::BytesText::from_escaped(raw)
            .xml10_content()
            .into_owned(),
    )
}

fn flush_text(text: &mut String, children: &mut Vec<Node>) {
    if !text.is_empty() {
        children.push(Node::Text(std::mem::take(text)));
    }
}

/// Whitespace between child elements is layout (pretty-printing), not content.
pub(crate) fn drop_layout_whitespace(children: &mut Vec<Node>) {
    if children.iter().any(|n| matches!(n, Node::Element(_))) {
        children.retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    }
}

/// Parses a standalone document into an element tree.
pub fn parse_document(input: &[u8], limits: Limits) -> Result<Element, ParseError> {
    let src = decode(input, limits)?;
    let mut cur = Cursor::new(&src, limits);
    let root = loop {
        let at = cur.position();
        match cur.next_event()? {
            Ev::Start { tag, empty, offset } => break cur.read_element(&tag, empty, offset)?,
            Ev::Text(t) if t.trim().is_empty() => {}
            Ev::Text(_) => return Err(cur.unexpected(at, "a root element", "text")),
            Ev::End => return Err(cur.unexpected(at, "a root element", "an end tag")),
            Ev::Eof => return Err(cur.unexpected(at, "a root element", "end of input")),
        }
    };
    cur.expect_eof()?;
    Ok(root)
}

/// Name of a namespace URI for messages: its Windows prefix when it has one.
pub fn describe(name: &QName) -> String {
    match ns::windows_prefix(&name.ns) {
        Some(_) => format!("<{name}>"),
        None if name.ns.is_empty() => format!("<{}>", name.local),
        None => format!("<{}> in namespace {}", name.local, name.ns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_that_of_the_open_element_even_after_a_child_closed() {
        let src = decode(
            br#"<r xmlns:a="urn:a"><c xmlns:b="urn:b"/><d xmlns:a="urn:other"></d></r>"#,
            Limits::default(),
        )
        .unwrap();
        let mut cur = Cursor::new(&src, Limits::default());
        let pair = |p: &str, u: &str| (p.to_owned(), u.to_owned());
        assert!(matches!(cur.next_event().unwrap(), Ev::Start { .. }));
        assert_eq!(cur.scope(), vec![pair("a", "urn:a")]);
        // An empty child: its scope ends only with the next token.
        assert!(matches!(
            cur.next_event().unwrap(),
            Ev::Start { empty: true, .. }
        ));
        assert_eq!(cur.scope(), vec![pair("a", "urn:a")]);
        // Inside a child that rebinds `a`, its binding wins; after it closes, the outer one.
        assert!(matches!(
            cur.next_event().unwrap(),
            Ev::Start { empty: false, .. }
        ));
        assert_eq!(cur.scope(), vec![pair("a", "urn:other")]);
        assert!(matches!(cur.next_event().unwrap(), Ev::End));
        assert_eq!(cur.scope(), vec![pair("a", "urn:a")]);
    }

    #[test]
    fn one_attribute_pass_still_refuses_each_kind_of_bad_attribute() {
        for (doc, needle) in [
            (r#"<r xmlns:p='urn:"x'/>"#, "not allowed in a URI"),
            (r#"<r x:y="1"/>"#, "attribute prefix 'x' is not declared"),
            (r#"<r a="1" a="2"/>"#, "duplicated attribute"),
            (r#"<r a="&bogus;"/>"#, "bogus"),
            (r#"<r :a="1"/>"#, "malformed attribute name"),
        ] {
            let err = parse_document(doc.as_bytes(), Limits::default()).unwrap_err();
            assert!(err.to_string().contains(needle), "{doc}: {err}");
        }
    }
}
