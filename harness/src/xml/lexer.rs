//! The tokenizer under [`super::Cursor`]: splits decoded text into tags, text, references and
//! markup that is skipped, in one pass over bytes that are already known to be UTF-8.
//!
//! Why not quick-xml's reader: profiles of request parsing showed its event loop re-validating
//! UTF-8 for every event (the input is a `&str` already) and its attribute iterator allocating
//! per tag for the duplicate check; together with a second attribute pass they were half of the
//! cost of answering a Get. This lexer accepts exactly what quick-xml's reader accepts with the
//! settings the cursor used (end names checked, empty elements not expanded, text untrimmed),
//! gives the same tokens and reports the same errors, so nothing above it changes: the
//! differential tests in `tests/lexer_differential.rs` and the `xml_lexer` fuzz target hold
//! it to that. Values that need normalising (references, line ends) are rare in WS-Man and
//! still go through quick-xml's own functions.

use std::borrow::Cow;

use quick_xml::errors::{Error, IllFormedError, SyntaxError};
use quick_xml::events::attributes::{AttrError, Attribute};
use quick_xml::name::QName;

/// XML's white space, as quick-xml counts it.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// One token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'i> {
    /// `<name ...>`.
    Start(Tag<'i>),
    /// `<name .../>`.
    Empty(Tag<'i>),
    /// `</name>`, checked against the open start tag.
    End,
    /// Character data up to the next `<` or `&`, raw (line ends not yet normalised); never empty.
    Text(&'i str),
    /// The content of `<![CDATA[...]]>`.
    CData(&'i str),
    /// `&name;`: the name between `&` and `;`.
    Ref(&'i str),
    /// `<?xml ...?>`: the declaration, its attributes after `xml`.
    Decl(Tag<'i>),
    /// `<!DOCTYPE` (any case): the cursor refuses it, so it is not read further.
    DocType,
    /// A comment or a processing instruction.
    Skipped,
    /// End of input.
    Eof,
}

/// The content of a start tag between `<` and `>` (or `/>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag<'i> {
    content: &'i str,
    name_len: usize,
    /// Offset of the name's first `:`, found while the name is measured.
    colon: Option<usize>,
}

impl<'i> Tag<'i> {
    /// A tag over `content` (what lies between `<` and `>` or `/>`): its name runs up to the
    /// first white space.
    pub fn new(content: &'i str) -> Self {
        let bytes = content.as_bytes();
        let mut colon = None;
        let mut i = 0;
        while i < bytes.len() && !is_space(bytes[i]) {
            if bytes[i] == b':' && colon.is_none() {
                colon = Some(i);
            }
            i += 1;
        }
        Self {
            content,
            name_len: i,
            colon,
        }
    }

    /// The prefix of the name, if it has one (the part before the first `:`).
    #[inline]
    pub fn prefix(&self) -> Option<&'i str> {
        self.colon.map(|c| &self.content[..c])
    }

    /// The local part of the name (after the first `:`, or all of it).
    #[inline]
    pub fn local(&self) -> &'i str {
        match self.colon {
            Some(c) => &self.content[c + 1..self.name_len],
            None => &self.content[..self.name_len],
        }
    }

    /// Whether the name is `local` or `prefix:local` with both parts non-empty and one colon at
    /// most (Namespaces in XML 1.0 §4).
    #[inline]
    pub fn is_qname(&self) -> bool {
        match self.colon {
            None => self.name_len > 0,
            Some(c) => {
                let local = &self.content.as_bytes()[c + 1..self.name_len];
                c > 0 && !local.is_empty() && memchr::memchr(b':', local).is_none()
            }
        }
    }

    /// The qualified name as written.
    #[inline]
    pub fn name(&self) -> QName<'i> {
        QName(&self.content[..self.name_len])
    }

    /// Everything after the name: the attributes, unparsed.
    #[inline]
    pub fn attributes_raw(&self) -> &'i str {
        &self.content[self.name_len..]
    }

    /// The attributes, refusing duplicates.
    #[inline]
    pub fn attributes(&self) -> Attributes<'i> {
        Attributes {
            content: self.content,
            pos: self.name_len,
            checks: true,
            seen: Seen::default(),
        }
    }
}

/// Keys already seen in one tag, for the duplicate check: inline for the usual few, a hash map
/// past that so that a tag with thousands of attributes costs linear time.
#[derive(Debug, Default)]
struct Seen<'i> {
    /// Start and length of each key, in the tag's content.
    inline: [(u32, u32); INLINE_KEYS],
    len: usize,
    more: Option<std::collections::HashMap<&'i str, usize>>,
}

const INLINE_KEYS: usize = 8;

impl<'i> Seen<'i> {
    /// The position of an earlier `key`, or records this one at `at`.
    fn check(&mut self, content: &'i str, key: &'i str, at: usize) -> Option<usize> {
        let slice = |&(s, l): &(u32, u32)| &content[s as usize..(s + l) as usize];
        if let Some(more) = &mut self.more {
            if let Some(&prev) = more.get(key) {
                return Some(prev);
            }
            more.insert(key, at);
            return None;
        }
        if let Some(prev) = self.inline[..self.len].iter().find(|r| slice(r) == key) {
            return Some(prev.0 as usize);
        }
        // Tags are shorter than 4 GiB: the input is bounded far below (`Limits::max_bytes`).
        match (u32::try_from(at), u32::try_from(key.len())) {
            (Ok(s), Ok(l)) if self.len < INLINE_KEYS => {
                self.inline[self.len] = (s, l);
                self.len += 1;
            }
            _ => {
                let mut more: std::collections::HashMap<&'i str, usize> = self.inline[..self.len]
                    .iter()
                    .map(|r| (slice(r), r.0 as usize))
                    .collect();
                more.insert(key, at);
                self.more = Some(more);
            }
        }
        None
    }
}

/// The attributes of one tag, read as quick-xml reads them: `key = "value"` or `'value'`,
/// white space around `=` allowed, none required between attributes. Positions in errors count
/// from the start of the tag's name. Stops after the first error.
#[derive(Debug)]
pub struct Attributes<'i> {
    content: &'i str,
    pos: usize,
    checks: bool,
    seen: Seen<'i>,
}

impl<'i> Attributes<'i> {
    /// Whether duplicate keys are refused (on by default).
    pub fn with_checks(mut self, checks: bool) -> Self {
        self.checks = checks;
        self
    }

    fn fail(&mut self, e: AttrError) -> Option<Result<Attribute<'i>, AttrError>> {
        self.pos = usize::MAX;
        Some(Err(e))
    }
}

impl<'i> Iterator for Attributes<'i> {
    type Item = Result<Attribute<'i>, AttrError>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.content.as_bytes();
        let len = bytes.len();
        if self.pos >= len {
            return None;
        }
        let skip = |mut i: usize| {
            while i < len && is_space(bytes[i]) {
                i += 1;
            }
            i
        };
        let start_key = skip(self.pos);
        if start_key == len {
            self.pos = len;
            return None;
        }
        // The key's first byte is taken whatever it is (even `=`), as quick-xml takes it.
        let mut i = start_key + 1;
        while i < len && bytes[i] != b'=' && !is_space(bytes[i]) {
            i += 1;
        }
        let key_end = i;
        if i == len {
            return self.fail(AttrError::ExpectedEq(len));
        }
        if bytes[i] != b'=' {
            i = skip(i);
            if i == len {
                return self.fail(AttrError::ExpectedEq(len));
            }
            if bytes[i] != b'=' {
                return self.fail(AttrError::ExpectedEq(i));
            }
        }
        let key = &self.content[start_key..key_end];
        if self.checks
            && let Some(prev) = self.seen.check(self.content, key, start_key)
        {
            return self.fail(AttrError::Duplicated(start_key, prev));
        }
        let v = skip(i + 1);
        let quote = match bytes.get(v) {
            Some(&q @ (b'"' | b'\'')) => q,
            Some(_) => return self.fail(AttrError::UnquotedValue(v)),
            None => return self.fail(AttrError::ExpectedValue(len)),
        };
        let Some(close) = memchr::memchr(quote, &bytes[v + 1..]) else {
            return self.fail(AttrError::ExpectedQuote(len, quote));
        };
        let end = v + 1 + close;
        self.pos = end + 1;
        Some(Ok(Attribute {
            key: QName(key),
            value: Cow::Borrowed(&self.content[v + 1..end]),
        }))
    }
}

/// Why the text is not well-formed, and where (a byte offset into the text).
#[derive(Debug)]
pub struct LexError {
    /// Offset of the construct in error (its `<` for markup, its `&` for a reference).
    pub at: usize,
    /// What is wrong, in quick-xml's words.
    pub error: Error,
}

/// Builds the token for a section's content (a comment's is dropped).
type MakeToken<'i> = fn(&'i str) -> Token<'i>;

/// The tokenizer's state over one text.
pub struct Lexer<'i> {
    text: &'i str,
    pos: usize,
    /// The names of the start tags not yet closed, as ranges of `text`.
    open: Vec<(usize, usize)>,
    done: bool,
}

impl<'i> Lexer<'i> {
    /// A lexer at the start of `text`; a leading byte order mark is skipped.
    pub fn new(text: &'i str) -> Self {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Self {
            text,
            pos,
            open: Vec::new(),
            done: false,
        }
    }

    /// Offset of the next unread byte.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    fn fail(&mut self, at: usize, error: Error) -> LexError {
        self.done = true;
        LexError { at, error }
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Token<'i>, LexError> {
        let bytes = self.text.as_bytes();
        if self.done || self.pos >= bytes.len() {
            self.done = true;
            self.pos = self.pos.min(bytes.len());
            return Ok(Token::Eof);
        }
        let start = self.pos;
        match bytes[start] {
            b'<' => self.markup(start),
            b'&' => self.reference(start),
            _ => {
                let end =
                    memchr::memchr2(b'<', b'&', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                self.pos = end;
                Ok(Token::Text(&self.text[start..end]))
            }
        }
    }

    fn reference(&mut self, start: usize) -> Result<Token<'i>, LexError> {
        let bytes = self.text.as_bytes();
        match memchr::memchr3(b';', b'&', b'<', &bytes[start + 1..]) {
            Some(i) if bytes[start + 1 + i] == b';' => {
                self.pos = start + i + 2;
                Ok(Token::Ref(&self.text[start + 1..start + 1 + i]))
            }
            _ => Err(self.fail(start, Error::IllFormed(IllFormedError::UnclosedReference))),
        }
    }

    /// Markup at `start` (a `<`).
    fn markup(&mut self, start: usize) -> Result<Token<'i>, LexError> {
        let bytes = self.text.as_bytes();
        match bytes.get(start + 1) {
            None => Err(self.fail(start, Error::Syntax(SyntaxError::UnclosedTag))),
            Some(b'!') => self.bang(start),
            Some(b'?') => self.question(start),
            Some(b'/') => {
                let end = self.tag_end(start)?;
                self.end_tag(start, end)
            }
            Some(_) => {
                let end = self.tag_end(start)?;
                self.pos = end + 1;
                let inner = &self.text[start + 1..end];
                if let Some(content) = inner.strip_suffix('/') {
                    return Ok(Token::Empty(Tag::new(content)));
                }
                let tag = Tag::new(inner);
                self.open.push((start + 1, tag.name_len));
                Ok(Token::Start(tag))
            }
        }
    }

    /// The offset of the `>` that closes the tag at `start`, skipping quoted values.
    #[inline]
    fn tag_end(&mut self, start: usize) -> Result<usize, LexError> {
        let bytes = self.text.as_bytes();
        let mut i = start;
        loop {
            let Some(k) = memchr::memchr3(b'>', b'"', b'\'', &bytes[i..]) else {
                return Err(self.fail(start, Error::Syntax(SyntaxError::UnclosedTag)));
            };
            let at = i + k;
            let quote = bytes[at];
            if quote == b'>' {
                return Ok(at);
            }
            let Some(close) = memchr::memchr(quote, &bytes[at + 1..]) else {
                let e = if quote == b'"' {
                    SyntaxError::UnclosedDoubleQuotedAttributeValue
                } else {
                    SyntaxError::UnclosedSingleQuotedAttributeValue
                };
                return Err(self.fail(start, Error::Syntax(e)));
            };
            i = at + 1 + close + 1;
        }
    }

    fn end_tag(&mut self, start: usize, end: usize) -> Result<Token<'i>, LexError> {
        self.pos = end + 1;
        let content = &self.text[start + 2..end];
        let name = content.trim_end_matches([' ', '\t', '\r', '\n']);
        let name = if name.is_empty() { content } else { name };
        match self.open.pop() {
            Some((s, l)) if &self.text[s..s + l] == name => Ok(Token::End),
            Some((s, l)) => {
                let expected = self.text[s..s + l].to_owned();
                let found = name.to_owned();
                Err(self.fail(
                    start,
                    Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }),
                ))
            }
            None => Err(self.fail(
                start,
                Error::IllFormed(IllFormedError::UnmatchedEndTag(name.to_owned())),
            )),
        }
    }

    /// `<!`: a comment, a CDATA section or a DOCTYPE.
    fn bang(&mut self, start: usize) -> Result<Token<'i>, LexError> {
        let rest = &self.text.as_bytes()[start..];
        let (open, close, token_of): (&[u8], &[u8], MakeToken<'i>) = match rest.get(2) {
            Some(b'-') => (b"<!--", b"-->", |_| Token::Skipped),
            Some(b'[') => (b"<![CDATA[", b"]]>", Token::CData),
            Some(b'D' | b'd') => {
                if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
                    self.done = true;
                    return Ok(Token::DocType);
                }
                return Err(self.fail(start, Error::Syntax(SyntaxError::UnclosedDoctype)));
            }
            _ => return Err(self.fail(start, Error::Syntax(SyntaxError::InvalidBangMarkup))),
        };
        let unclosed = || {
            if open.len() == 4 {
                SyntaxError::UnclosedComment
            } else {
                SyntaxError::UnclosedCData
            }
        };
        // quick-xml finds the end first and then checks the opening; either way it is an error.
        if !rest.starts_with(open) {
            return Err(self.fail(start, Error::Syntax(unclosed())));
        }
        let body = &rest[open.len()..];
        let Some(i) = memchr::memmem::find(body, close) else {
            return Err(self.fail(start, Error::Syntax(unclosed())));
        };
        let from = start + open.len();
        self.pos = from + i + close.len();
        Ok(token_of(&self.text[from..from + i]))
    }

    /// `<?`: the XML declaration or a processing instruction.
    fn question(&mut self, start: usize) -> Result<Token<'i>, LexError> {
        let bytes = self.text.as_bytes();
        let unclosed = |bytes: &[u8]| {
            let decl = bytes[start..].starts_with(b"<?xml")
                && bytes
                    .get(start + 5)
                    .is_none_or(|&b| is_space(b) || b == b'?');
            if decl {
                SyntaxError::UnclosedXmlDecl
            } else {
                SyntaxError::UnclosedPI
            }
        };
        // The first `?>` whose `?` is not the opening one's... or is: `<?>` is an error.
        let Some(i) = memchr::memmem::find(&bytes[start + 1..], b"?>") else {
            return Err(self.fail(start, Error::Syntax(unclosed(bytes))));
        };
        let gt = start + 1 + i + 1;
        if gt - start < 3 {
            return Err(self.fail(start, Error::Syntax(unclosed(bytes))));
        }
        self.pos = gt + 1;
        let content = &self.text[start + 2..gt - 1];
        let c = content.as_bytes();
        if c.starts_with(b"xml") && (c.len() == 3 || is_space(c[3])) {
            // `xml` then white space or nothing: the name is the three bytes, as quick-xml has it.
            return Ok(Token::Decl(Tag::new(content)));
        }
        Ok(Token::Skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Result<Vec<String>, String> {
        let mut l = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            match l
                .next_token()
                .map_err(|e| format!("{} at {}", e.error, e.at))?
            {
                Token::Eof => return Ok(out),
                Token::Start(t) => out.push(format!("start {}", t.name().0)),
                Token::Empty(t) => out.push(format!("empty {}", t.name().0)),
                Token::End => out.push("end".into()),
                Token::Text(t) => out.push(format!("text {t}")),
                Token::CData(t) => out.push(format!("cdata {t}")),
                Token::Ref(r) => out.push(format!("ref {r}")),
                Token::Decl(_) => out.push("decl".into()),
                Token::DocType => out.push("doctype".into()),
                Token::Skipped => out.push("skipped".into()),
            }
        }
    }

    #[test]
    fn splits_a_document_into_tokens() {
        let got = tokens(
            "<?xml version='1.0'?><!-- c --><a x=\"1>\"><b/>t&amp;u<![CDATA[<x>]]><?pi?></a >",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "decl",
                "skipped",
                "start a",
                "empty b",
                "text t",
                "ref amp",
                "text u",
                "cdata <x>",
                "skipped",
                "end"
            ]
        );
    }

    #[test]
    fn refuses_what_quick_xml_refuses_at_the_construct() {
        for (text, at, needle) in [
            ("<a></b>", 3, "expected `</a>`, but `</b>` was found"),
            ("</a>", 0, "does not match any open tag"),
            ("<a b='1", 0, "`'` not found"),
            ("x<!-- y", 1, "comment not closed"),
            ("<!--->", 0, "comment not closed"),
            ("<?>", 0, "processing instruction not closed"),
            ("<a>&amp</a>", 3, "reference not closed"),
            ("<!x>", 0, "unknown or missed symbol"),
            ("<", 0, "tag not closed"),
        ] {
            let e = tokens(text).unwrap_err();
            assert!(
                e.contains(needle) && e.ends_with(&format!("at {at}")),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn attributes_are_read_like_quick_xml_reads_them() {
        let tag = Tag::new("a b = \"1\" c='2'd=\"3\"");
        let got: Vec<_> = tag
            .attributes()
            .map(|a| a.map(|a| (a.key.0, a.value.into_owned())))
            .collect();
        assert_eq!(
            got,
            [
                Ok(("b", "1".to_owned())),
                Ok(("c", "2".to_owned())),
                Ok(("d", "3".to_owned()))
            ]
        );
        let dup = Tag::new("a x='1' x='2'").attributes().nth(1).unwrap();
        assert_eq!(dup, Err(AttrError::Duplicated(8, 2)));
        assert!(
            Tag::new("a x='1' x='2'")
                .attributes()
                .with_checks(false)
                .all(|a| a.is_ok())
        );
        assert_eq!(
            Tag::new("a x").attributes().next(),
            Some(Err(AttrError::ExpectedEq(3)))
        );
        assert_eq!(
            Tag::new("a x=1").attributes().next(),
            Some(Err(AttrError::UnquotedValue(4)))
        );
    }

    #[test]
    fn many_attributes_are_checked_for_duplicates_in_linear_time() {
        let mut content = String::from("a");
        for i in 0..20_000 {
            content.push_str(&format!(" k{i}='v'"));
        }
        assert!(Tag::new(&content).attributes().all(|a| a.is_ok()));
        content.push_str(" k17='again'");
        assert!(matches!(
            Tag::new(&content).attributes().last(),
            Some(Err(AttrError::Duplicated(_, _)))
        ));
    }
}
