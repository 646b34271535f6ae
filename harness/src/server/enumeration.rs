//! WS-Enumeration over a synthetic CIM collection (Win32_Process-like instances), sized by
//! configuration so that it can exceed MaxBatchItems, with WinRM's rules: MaxElements clamped to
//! MaxBatchItems (implied 1 when absent, DSP0226 R8.2.3), batches cut to the client's envelope
//! size, contexts that expire after EnumerationTimeoutms without a Pull (MS-WSMV 3.1.4.1.36), and
//! EndOfSequence/empty context in the WS-Man namespace for optimized enumerations.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::envelope::{EnumNs, EnumerationBatch, Items};
use crate::xml::{Element, Fragment, QName};

/// The sample collection's ResourceURI.
pub const PROCESS_URI: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process";

/// An open enumeration.
#[derive(Debug)]
pub struct Context {
    /// Owner.
    pub user: String,
    /// Next item index.
    pub next: usize,
    /// When the context is discarded unless pulled.
    pub expires: Instant,
    /// Items fixed at Enumerate time (listeners); `None` for the sample collection.
    pub snapshot: Option<Vec<Element>>,
}

/// Open enumerations by context id.
#[derive(Debug, Default)]
pub struct Enumerations {
    contexts: HashMap<String, Context>,
}

impl Enumerations {
    /// Opens a context at `next`.
    pub fn open(&mut self, user: &str, next: usize, timeout: Duration) -> String {
        self.open_snapshot(user, next, timeout, None)
    }

    /// Opens a context over fixed items.
    pub fn open_snapshot(
        &mut self,
        user: &str,
        next: usize,
        timeout: Duration,
        snapshot: Option<Vec<Element>>,
    ) -> String {
        let id = crate::ids::new_message_id();
        self.contexts.insert(
            id.clone(),
            Context {
                user: user.to_owned(),
                next,
                expires: Instant::now() + timeout,
                snapshot,
            },
        );
        id
    }

    /// Takes a live context of this user (expired ones are dropped).
    pub fn take(&mut self, id: &str, user: &str) -> Option<Context> {
        let c = self.contexts.remove(id.trim())?;
        (c.user.eq_ignore_ascii_case(user) && c.expires > Instant::now()).then_some(c)
    }

    /// Puts a context back under the same id with a fresh expiry.
    pub fn keep(&mut self, id: &str, mut c: Context, timeout: Duration) {
        c.expires = Instant::now() + timeout;
        self.contexts.insert(id.trim().to_owned(), c);
    }

    /// Live contexts of a user (MaxConcurrentOperationsPerUser counts them).
    pub fn count(&mut self, user: &str) -> usize {
        let now = Instant::now();
        self.contexts.retain(|_, c| c.expires > now);
        self.contexts
            .values()
            .filter(|c| c.user.eq_ignore_ascii_case(user))
            .count()
    }
}

/// Changes made to the sample collection by Put, Create and Delete (the generated instances
/// stay as they are underneath).
#[derive(Debug, Default)]
pub struct Overlay {
    changed: HashMap<usize, Element>,
    deleted: HashSet<usize>,
    created: usize,
}

impl Overlay {
    /// Number of slots (generated plus created); deleted ones still count as slots.
    pub fn slots(&self, base: usize) -> usize {
        base + self.created
    }

    /// Instance `i`, if it exists.
    pub fn get(&self, i: usize, base: usize) -> Option<Element> {
        if self.deleted.contains(&i) {
            return None;
        }
        self.changed
            .get(&i)
            .cloned()
            .or_else(|| (i < base).then(|| item(i)))
    }

    /// Replaces instance `i`.
    pub fn put(&mut self, i: usize, e: Element) {
        self.changed.insert(i, e);
    }

    /// Adds an instance; returns its handle.
    pub fn create(&mut self, base: usize, e: Element) -> usize {
        let i = self.slots(base);
        self.changed.insert(i, e);
        self.created += 1;
        i
    }

    /// Deletes instance `i`.
    pub fn delete(&mut self, i: usize) {
        self.deleted.insert(i);
        self.changed.remove(&i);
    }
}

/// Instance `i` of the collection.
pub fn item(i: usize) -> Element {
    let name = |l: &str| QName::owned(PROCESS_URI, l);
    let mut e = Element::new(name("Win32_Process"));
    e.prefix = Some("p".into());
    e.ns_decls.push(("p".into(), PROCESS_URI.into()));
    for (field, value) in [
        ("Caption", format!("process{i}.exe")),
        (
            "CommandLine",
            format!("C:\\Windows\\System32\\process{i}.exe -k harness"),
        ),
        ("Handle", i.to_string()),
        ("Name", format!("process{i}.exe")),
        ("ProcessId", i.to_string()),
        ("ThreadCount", (i % 64 + 1).to_string()),
    ] {
        let mut c = Element::with_text(name(field), value);
        c.prefix = Some("p".into());
        e = e.child(c);
    }
    e
}

/// Fills a batch from `next`: at most `max_elements` items and `budget` bytes of items, taken
/// from `source` (which skips missing slots). Returns the batch and the index after the last slot
/// read.
pub fn fill_from(
    next: usize,
    total: usize,
    max_elements: usize,
    budget: usize,
    ns: EnumNs,
    source: impl Fn(usize) -> Option<Element>,
) -> (EnumerationBatch, usize) {
    let mut items = Vec::new();
    let mut used = 0;
    let mut i = next;
    while i < total && items.len() < max_elements {
        let Some(e) = source(i) else {
            i += 1;
            continue;
        };
        // Size of the item as written, to stay inside the client's MaxEnvelopeSize.
        let mut w = crate::xml::XmlWriter::new(crate::xml::PrefixStyle::Windows);
        w.element(&e);
        let n = w.finish().len();
        if used + n > budget && !items.is_empty() {
            break;
        }
        used += n;
        items.push(Fragment::from(e));
        i += 1;
    }
    let done = i >= total;
    let batch = EnumerationBatch {
        items: Some(Items { ns, items }),
        end_of_sequence: done.then_some(ns),
        ..EnumerationBatch::default()
    };
    (batch, i)
}
