//! Reading an envelope from bytes in one forward pass.

use std::sync::Arc;

use super::body::Body;
use super::enumeration::{
    ContextAt, EnumNs, EnumerateResponse, EnumerationBatch, Items, PullResponse,
};
use super::header::{Header, HeaderBlock};
use super::{Envelope, SourcePrefixes};
use crate::ns;
use crate::xml::{
    Cursor, ErrorKind, Ev, Fragment, Limits, ParseError, QName, Tag, decode, describe,
};

/// Parses an envelope with the default [`Limits`].
pub fn parse(input: &[u8]) -> Result<Envelope, ParseError> {
    parse_with(input, Limits::default())
}

/// Parses an envelope with explicit limits.
pub fn parse_with(input: &[u8], limits: Limits) -> Result<Envelope, ParseError> {
    let decoded = decode(input, limits)?;
    let mut cur = Cursor::new(&decoded, limits);
    let mut p = Parser {
        cur: &mut cur,
        text: &decoded.text,
        doc: None,
    };
    let env = p.envelope()?;
    p.cur.expect_eof()?;
    Ok(env)
}

struct Parser<'c, 'i> {
    cur: &'c mut Cursor<'i>,
    text: &'i str,
    /// The text shared by the fragments that keep parts of it (enumeration items, unknown
    /// batches), copied once when the first one does: most requests keep none.
    doc: Option<Arc<str>>,
}

impl<'i> Parser<'_, 'i> {
    fn doc(&mut self) -> Arc<str> {
        self.doc.get_or_insert_with(|| Arc::from(self.text)).clone()
    }

    fn envelope(&mut self) -> Result<Envelope, ParseError> {
        let (tag, empty, offset) = self.first_start("a SOAP 1.2 <s:Envelope>")?;
        let root = self.cur.start_element(&tag, offset)?;
        if root.name.is(ns::SOAP11, "Envelope") {
            return Err(self.cur.error(offset, ErrorKind::Soap11));
        }
        if !root.name.is(ns::SOAP, "Envelope") {
            return Err(self.unexpected(offset, "a SOAP 1.2 <s:Envelope>", &root.name));
        }
        let mut env = Envelope {
            attrs: root.attrs,
            prefixes: SourcePrefixes {
                envelope: root.ns_decls,
                ..SourcePrefixes::default()
            },
            ..Envelope::default()
        };
        if empty {
            return Err(self.cur.unexpected(
                offset,
                "<s:Body> inside the envelope",
                "an empty envelope",
            ));
        }
        let mut seen_body = false;
        loop {
            let at = self.cur.position();
            match self.cur.next_event()? {
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Start { tag, empty, offset } => {
                    let name = self.cur.resolve(&tag, offset)?;
                    if seen_body {
                        return Err(self.unexpected(offset, "</s:Envelope> after the body", &name));
                    }
                    if name.is(ns::SOAP, "Header") && env.header.is_none() {
                        self.header(&tag, empty, offset, &mut env)?;
                    } else if name.is(ns::SOAP, "Body") {
                        self.body(&tag, empty, offset, &mut env)?;
                        seen_body = true;
                    } else if env.header.is_some() && !name.is(ns::SOAP, "Header") {
                        // Between the header and the body: kept, see `Envelope::misplaced`.
                        let scope = self.cur.scope();
                        let e = self.cur.read_element(&tag, empty, offset)?;
                        env.misplaced.push(e.with_outer_scope(&scope));
                    } else {
                        return Err(self.unexpected(offset, "<s:Header> or <s:Body>", &name));
                    }
                }
                Ev::End if seen_body => return Ok(env),
                Ev::End => return Err(self.cur.unexpected(at, "<s:Body>", "</s:Envelope>")),
                Ev::Text(_) => {
                    return Err(self.cur.unexpected(at, "<s:Header> or <s:Body>", "text"));
                }
                Ev::Eof => return Err(self.cur.unexpected(at, "</s:Envelope>", "end of input")),
            }
        }
    }

    fn first_start(&mut self, expected: &str) -> Result<(Tag<'i>, bool, usize), ParseError> {
        loop {
            let at = self.cur.position();
            match self.cur.next_event()? {
                Ev::Start { tag, empty, offset } => return Ok((tag, empty, offset)),
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Text(_) => return Err(self.cur.unexpected(at, expected, "text")),
                Ev::End => return Err(self.cur.unexpected(at, expected, "an end tag")),
                Ev::Eof => return Err(self.cur.unexpected(at, expected, "end of input")),
            }
        }
    }

    fn unexpected(&self, offset: usize, expected: &str, found: &QName) -> ParseError {
        self.cur.unexpected(offset, expected, describe(found))
    }

    fn header(
        &mut self,
        tag: &Tag<'_>,
        empty: bool,
        offset: usize,
        env: &mut Envelope,
    ) -> Result<(), ParseError> {
        let h = self.cur.start_element(tag, offset)?;
        env.prefixes.header = h.ns_decls;
        let mut header = Header {
            attrs: h.attrs,
            // Room for what clients usually send (Action, MessageID, ReplyTo, To, ResourceURI,
            // MaxEnvelopeSize, OperationTimeout, Locale, a selector or option set): one allocation.
            blocks: Vec::with_capacity(if empty { 0 } else { 10 }),
        };
        if !empty {
            // Most blocks read without the namespace scope; it is built once, when one needs it.
            let mut scope = None;
            loop {
                let at = self.cur.position();
                match self.cur.next_event()? {
                    Ev::Text(t) if t.trim().is_empty() => {}
                    Ev::Start { tag, empty, offset } => {
                        let (mut e, text) = self.cur.read_text_element(&tag, empty, offset)?;
                        let block = match HeaderBlock::read_unscoped(&mut e, text) {
                            Some(block) => block,
                            None => {
                                let scope = scope.get_or_insert_with(|| self.cur.scope());
                                HeaderBlock::from_element(e, scope)
                            }
                        };
                        header.blocks.push(block);
                    }
                    Ev::End => break,
                    Ev::Text(_) => return Err(self.cur.unexpected(at, "a header block", "text")),
                    Ev::Eof => return Err(self.cur.unexpected(at, "</s:Header>", "end of input")),
                }
            }
        }
        env.header = Some(header);
        Ok(())
    }

    fn body(
        &mut self,
        tag: &Tag<'_>,
        empty: bool,
        offset: usize,
        env: &mut Envelope,
    ) -> Result<(), ParseError> {
        let b = self.cur.start_element(tag, offset)?;
        env.body_attrs = b.attrs;
        env.prefixes.body = b.ns_decls;
        if empty {
            return Ok(());
        }
        // Built when the first part needs it (an empty body, as in Get, never does).
        let depth = self.cur.depth();
        let mut scope = None;
        let mut parts: Vec<Body> = Vec::new();
        loop {
            let at = self.cur.position();
            match self.cur.next_event()? {
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Start { tag, empty, offset } => {
                    let scope: &[(String, String)] =
                        scope.get_or_insert_with(|| self.cur.scope_at(depth));
                    let name = self.cur.resolve(&tag, offset)?;
                    let part = if name.is(ns::ENUMERATION, "PullResponse")
                        || name.is(ns::ENUMERATION, "EnumerateResponse")
                    {
                        self.batch(&name, &tag, empty, offset)?
                    } else {
                        let e = self.cur.read_element(&tag, empty, offset)?;
                        if name.is(ns::SOAP, "Fault")
                            && let Some(v) = super::fault::unresolved_value(&e, scope)
                        {
                            let msg = format!("the prefix of fault code '{v}' is not declared");
                            return Err(self.cur.error(offset, ErrorKind::Namespace(msg)));
                        }
                        Body::from_element(e, scope)
                    };
                    parts.push(part);
                }
                Ev::End => break,
                Ev::Text(_) => return Err(self.cur.unexpected(at, "a body element", "text")),
                Ev::Eof => return Err(self.cur.unexpected(at, "</s:Body>", "end of input")),
            }
        }
        env.body = Body::from_parts(parts);
        Ok(())
    }

    /// Reads an EnumerateResponse/PullResponse without building its items: each item is kept as
    /// a slice of the document. Anything outside the expected shape keeps the whole response as
    /// one generic fragment.
    fn batch(
        &mut self,
        name: &QName,
        tag: &Tag<'_>,
        empty: bool,
        offset: usize,
    ) -> Result<Body, ParseError> {
        let scope: Arc<[(String, String)]> = Arc::from(self.cur.scope());
        let has_attrs = tag
            .attributes()
            .flatten()
            .any(|a| a.key.as_namespace_binding().is_none());
        let mut batch = EnumerationBatch::default();
        let depth = self.cur.depth();
        let typed = if has_attrs {
            false
        } else {
            empty || self.batch_children(&mut batch)?
        };
        if !typed {
            let end = if empty {
                self.cur.position()
            } else {
                self.finish_element(depth)?
            };
            let frag = Fragment::raw(self.doc(), offset, end, scope);
            return Ok(Body::Other(vec![frag]));
        }
        Ok(if name.local == "PullResponse" {
            Body::PullResponse(PullResponse(batch))
        } else {
            Body::EnumerateResponse(EnumerateResponse(batch))
        })
    }

    /// Reads the children of a batch; `Ok(false)` when they do not fit the typed shape, with the
    /// cursor left inside the response element for [`Parser::finish_element`].
    fn batch_children(&mut self, batch: &mut EnumerationBatch) -> Result<bool, ParseError> {
        let mut stage = 0u8;
        loop {
            match self.cur.next_event()? {
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::End => return Ok(true),
                Ev::Start { tag, empty, offset } => {
                    let name = self.cur.resolve(&tag, offset)?;
                    let plain = !tag
                        .attributes()
                        .flatten()
                        .any(|a| a.key.as_namespace_binding().is_none());
                    let enum_ns = EnumNs::of(&name.ns);
                    match (name.local.as_ref(), enum_ns) {
                        ("Expires", Some(EnumNs::Enumeration))
                            if plain && stage == 0 && batch.expires.is_none() =>
                        {
                            batch.expires = Some(self.cur.read_text(empty, "wsen:Expires")?);
                        }
                        ("EnumerationContext", Some(EnumNs::Enumeration))
                            if plain && batch.context.is_none() =>
                        {
                            batch.context =
                                Some(self.cur.read_text(empty, "wsen:EnumerationContext")?);
                            batch.context_at = match stage {
                                0 | 1 => ContextAt::BeforeItems,
                                2 => ContextAt::AfterItems,
                                _ => ContextAt::Last,
                            };
                            stage = stage.max(1);
                        }
                        ("Items", Some(n)) if plain && stage <= 1 && batch.items.is_none() => {
                            stage = 2;
                            match self.items(n, empty)? {
                                Some(items) => batch.items = Some(items),
                                None => return Ok(false),
                            }
                        }
                        ("EndOfSequence", Some(n)) if plain && stage <= 2 => {
                            stage = 3;
                            if !self
                                .cur
                                .read_text(empty, "EndOfSequence")?
                                .trim()
                                .is_empty()
                            {
                                return Ok(false);
                            }
                            batch.end_of_sequence = Some(n);
                        }
                        _ => return Ok(false),
                    }
                }
                Ev::Text(_) | Ev::Eof => return Ok(false),
            }
        }
    }

    /// Consumes the rest of the element opened at `depth`; returns the offset just past it.
    fn finish_element(&mut self, depth: usize) -> Result<usize, ParseError> {
        while self.cur.depth() >= depth {
            if let Ev::Eof = self.cur.next_event()? {
                let at = self.cur.position();
                return Err(self.cur.unexpected(at, "an end tag", "end of input"));
            }
        }
        Ok(self.cur.position())
    }

    fn items(&mut self, ns: EnumNs, empty: bool) -> Result<Option<Items>, ParseError> {
        let mut items = Vec::new();
        if empty {
            return Ok(Some(Items {
                ns,
                items: items.into(),
            }));
        }
        let scope: Arc<[(String, String)]> = Arc::from(self.cur.scope());
        let doc = self.doc();
        loop {
            match self.cur.next_event()? {
                Ev::Start { empty, offset, .. } => {
                    let end = self.cur.skip_element(empty)?;
                    items.push(Fragment::raw(doc.clone(), offset, end, scope.clone()));
                }
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::End => {
                    return Ok(Some(Items {
                        ns,
                        items: items.into(),
                    }));
                }
                Ev::Text(_) | Ev::Eof => return Ok(None),
            }
        }
    }
}
