//! Writing an envelope: typed parts become trees, kept fragments are copied.

use super::Envelope;
use super::body::Body;
use super::enumeration::ItemList;
use super::enumeration::{ContextAt, EnumerationBatch};
use super::header::HeaderBlock;
use crate::ns;
use crate::xml::{PrefixStyle, QName, Written, XmlWriter};

/// Writes an envelope with the given prefix policy.
pub fn write(env: &Envelope, style: PrefixStyle) -> String {
    write_shared(env, style).into_string()
}

/// Writes an envelope with the given prefix policy, leaving the text of item runs shared
/// (the reference server sends the parts as they are).
pub fn write_shared(env: &Envelope, style: PrefixStyle) -> Written {
    // Most answers without a batch (Identify, config sections, shell output) fit in 2 KB.
    let capacity = 2048 + env_size_hint(env);
    let mut w = XmlWriter::with_capacity(style, capacity);
    let preserve = style == PrefixStyle::Preserve;
    let envelope = QName::new(ns::SOAP, "Envelope");
    if preserve && !env.prefixes.envelope.is_empty() {
        w.start(&envelope, Some("s"), &env.prefixes.envelope, &env.attrs);
    } else {
        w.start_windows_root(&envelope, Some("s"), &env.attrs);
    }
    if let Some(h) = &env.header {
        let decls = if preserve {
            &env.prefixes.header[..]
        } else {
            &[]
        };
        w.start(&QName::new(ns::SOAP, "Header"), Some("s"), decls, &h.attrs);
        for b in &h.blocks {
            write_block(&mut w, b);
        }
        w.end();
    }
    for e in &env.misplaced {
        w.element(e);
    }
    let decls = if preserve {
        &env.prefixes.body[..]
    } else {
        &[]
    };
    w.start(
        &QName::new(ns::SOAP, "Body"),
        Some("s"),
        decls,
        &env.body_attrs,
    );
    match &env.body {
        Body::EnumerateResponse(r) => write_batch(
            &mut w,
            &r.0,
            QName::new(ns::ENUMERATION, "EnumerateResponse"),
        ),
        Body::PullResponse(r) => {
            write_batch(&mut w, &r.0, QName::new(ns::ENUMERATION, "PullResponse"))
        }
        Body::Other(frags) => frags.iter().for_each(|f| f.write(&mut w)),
        other => other.to_elements().iter().for_each(|f| f.write(&mut w)),
    }
    w.end();
    w.end();
    w.finish_written()
}

/// Writes a header block; the usual ones (text blocks, a plain ReplyTo) straight from the
/// model, without building a tree first.
fn write_block(w: &mut XmlWriter, b: &HeaderBlock) {
    match b {
        HeaderBlock::Unknown(e) => w.element(e),
        HeaderBlock::ReplyTo(epr) | HeaderBlock::FaultTo(epr)
            if epr.reference_parameters.is_none() =>
        {
            w.start(&b.name(), None, &[], &epr.attrs);
            let a = &epr.address;
            w.text_element(&QName::new(ns::ADDRESSING, "Address"), &a.attrs, &a.value);
            w.end();
        }
        other => match other.text() {
            Some(t) => w.text_element(&other.name(), &t.attrs, &t.value),
            None => w.element(&other.to_element()),
        },
    }
}

/// Items are written straight from their source text: this is the large part of a big response.
fn write_batch(w: &mut XmlWriter, b: &EnumerationBatch, name: QName) {
    w.start(&name, None, &[], &[]);
    if let Some(x) = &b.expires {
        w.text_element(&QName::new(ns::ENUMERATION, "Expires"), &[], x);
    }
    let context = QName::new(ns::ENUMERATION, "EnumerationContext");
    let context_at = |w: &mut XmlWriter, at: ContextAt| {
        if let Some(c) = b.context.as_ref().filter(|_| b.context_at == at) {
            w.text_element(&context, &[], c);
        }
    };
    context_at(w, ContextAt::BeforeItems);
    if let Some(items) = &b.items {
        w.start(&QName::new(items.ns.uri(), "Items"), None, &[], &[]);
        match &items.items {
            ItemList::Fragments(v) => v.iter().for_each(|f| f.write(w)),
            ItemList::Run(r) => w.splice_run(r),
        }
        w.end();
    }
    context_at(w, ContextAt::AfterItems);
    if let Some(n) = b.end_of_sequence {
        w.start(&QName::new(n.uri(), "EndOfSequence"), None, &[], &[]);
        w.end();
    }
    context_at(w, ContextAt::Last);
    w.end();
}

fn env_size_hint(env: &Envelope) -> usize {
    let frag_len = |f: &crate::xml::Fragment| f.source().map_or(256, str::len);
    match &env.body {
        Body::EnumerateResponse(r) => batch_hint(&r.0),
        Body::PullResponse(r) => batch_hint(&r.0),
        Body::Other(v) => v.iter().map(frag_len).sum(),
        _ => 0,
    }
}

/// Room for a batch's items: a run is spliced in, not copied, so it needs none.
fn batch_hint(b: &EnumerationBatch) -> usize {
    match b.items.as_ref().map(|i| &i.items) {
        Some(ItemList::Run(_)) | None => 0,
        Some(list) => list.text_len(256),
    }
}
