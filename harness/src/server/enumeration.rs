//! WS-Enumeration over a synthetic CIM collection (Win32_Process-like instances), sized by
//! configuration so that it can exceed MaxBatchItems, with WinRM's rules: MaxElements clamped to
//! MaxBatchItems (implied 1 when absent, DSP0226 R8.2.3), batches cut to the client's envelope
//! size, contexts that expire after EnumerationTimeoutms without a Pull (MS-WSMV 3.1.4.1.36), and
//! EndOfSequence/empty context in the WS-Man namespace for optimized enumerations.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::envelope::{EnumNs, EnumerationBatch, ItemList, Items};
use crate::xml::{Element, Fragment, QName, Run};

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
    /// What each item is (the Enumerate's EnumerationMode); Pull continues it.
    pub mode: ItemMode,
}

/// What an enumeration returns per instance (`wsman:EnumerationMode`, DSP0226 8.7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ItemMode {
    /// The object (no EnumerationMode).
    #[default]
    Object,
    /// `EnumerateEPR`: an endpoint reference per instance.
    Epr,
    /// `EnumerateObjectAndEPR`: a `wsman:Item` holding the object, then its endpoint reference.
    ObjectAndEpr,
}

impl ItemMode {
    /// The mode an EnumerationMode text names; `Err` for one DSP0226 does not define.
    pub fn parse(mode: Option<&str>) -> Result<Self, ()> {
        match mode.map(str::trim) {
            None => Ok(ItemMode::Object),
            Some("EnumerateEPR") => Ok(ItemMode::Epr),
            Some("EnumerateObjectAndEPR") => Ok(ItemMode::ObjectAndEpr),
            Some(_) => Err(()),
        }
    }
}

/// Open enumerations by context id.
#[derive(Debug, Default)]
pub struct Enumerations {
    contexts: HashMap<String, Context>,
}

impl Enumerations {
    /// Opens a context at `next`.
    pub fn open(&mut self, user: &str, next: usize, timeout: Duration, mode: ItemMode) -> String {
        let id = self.open_snapshot(user, next, timeout, None);
        if let Some(c) = self.contexts.get_mut(&id) {
            c.mode = mode;
        }
        id
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
                mode: ItemMode::Object,
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
    /// The generated instances' text, built once (up to [`GENERATED_CACHE`] of them) into one
    /// shared buffer: an unchanged collection answers a batch with a slice of it.
    generated: Run,
}

/// Generated instances kept as text (about 350 bytes each: ~17 MB at most); beyond it they
/// are formatted per request.
const GENERATED_CACHE: usize = 50_000;

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

    /// Builds the text of the first generated instances once, so that enumerations copy it.
    pub fn generate(&mut self, base: usize) {
        let want = base.min(GENERATED_CACHE);
        if self.generated.len() < want {
            self.generated = Run::from_elements((0..want).map(item_text));
        }
    }

    /// The batch from `next` as one slice of the cached text: at most `max` items and `budget`
    /// bytes of them (one at least). Only for the unchanged collection read as objects and
    /// cached whole (up to [`GENERATED_CACHE`] items), the usual case; `None` sends the caller
    /// item by item through [`Overlay::fragment`].
    pub fn run(
        &self,
        next: usize,
        base: usize,
        max: usize,
        budget: usize,
        mode: ItemMode,
    ) -> Option<Run> {
        let unchanged = self.changed.is_empty() && self.deleted.is_empty() && self.created == 0;
        (unchanged && mode == ItemMode::Object && self.generated.len() == base)
            .then(|| self.generated.take(next, max, budget))
    }

    /// Instance `i` as a fragment ready to copy into a response, as `mode` wants it.
    pub fn fragment(&self, i: usize, base: usize, mode: ItemMode) -> Option<Fragment> {
        // The usual collection is unchanged: one branch instead of three hash lookups per item.
        if self.changed.is_empty() && self.deleted.is_empty() && mode == ItemMode::Object {
            return (i < base).then(|| self.generated_fragment(i));
        }
        if self.deleted.contains(&i) {
            return None;
        }
        let object = || match self.changed.get(&i) {
            Some(e) => crate::xml::XmlWriter::document(e, crate::xml::PrefixStyle::Preserve, 512),
            None => item_text(i),
        };
        if !self.changed.contains_key(&i) && i >= base {
            return None;
        }
        Some(match (mode, self.changed.get(&i)) {
            (ItemMode::Object, Some(e)) => Fragment::written(e),
            (ItemMode::Object, None) => self.generated_fragment(i),
            (ItemMode::Epr, _) => Fragment::from_xml(epr_text(i)),
            (ItemMode::ObjectAndEpr, _) => Fragment::from_xml(format!(
                "<w:Item xmlns:w=\"{}\">{}{}</w:Item>",
                crate::ns::WSMAN,
                object(),
                epr_text(i)
            )),
        })
    }

    fn generated_fragment(&self, i: usize) -> Fragment {
        Fragment::from_xml(match self.generated.get(i) {
            Some(text) => text.to_owned(),
            None => item_text(i),
        })
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

/// Instance `i` of the collection as XML text: written directly, since large enumerations are
/// where the server spends its time.
pub fn item_text(i: usize) -> String {
    format!(
        "<p:Win32_Process xmlns:p=\"{PROCESS_URI}\"><p:Caption>process{i}.exe</p:Caption><p:CommandLine>C:\\Windows\\System32\\process{i}.exe -k harness</p:CommandLine><p:Handle>{i}</p:Handle><p:Name>process{i}.exe</p:Name><p:ProcessId>{i}</p:ProcessId><p:ThreadCount>{}</p:ThreadCount></p:Win32_Process>",
        i % 64 + 1
    )
}

/// The endpoint reference of instance `i`: the anonymous address and the reference parameters
/// a Get needs (ResourceURI and the Handle selector), as WinRM writes EPRs.
pub fn epr_text(i: usize) -> String {
    format!(
        "<a:EndpointReference xmlns:a=\"{}\" xmlns:w=\"{}\"><a:Address>{}</a:Address><a:ReferenceParameters><w:ResourceURI>{PROCESS_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name=\"Handle\">{i}</w:Selector></w:SelectorSet></a:ReferenceParameters></a:EndpointReference>",
        crate::ns::ADDRESSING,
        crate::ns::WSMAN,
        crate::ns::ANONYMOUS
    )
}

/// Instance `i` of the collection as a tree.
pub fn item(i: usize) -> Element {
    crate::xml::parse_document(item_text(i).as_bytes(), crate::xml::Limits::default())
        .unwrap_or_else(|_| Element::new(QName::owned(PROCESS_URI, "Win32_Process")))
}

/// A batch of the sample collection from `next` (see [`fill_from`]): one slice of the cached
/// text when [`Overlay::run`] can give it, else item by item.
pub fn collection_batch(
    overlay: &Overlay,
    next: usize,
    base: usize,
    max_elements: usize,
    budget: usize,
    ns: EnumNs,
    mode: ItemMode,
) -> (EnumerationBatch, usize) {
    let total = overlay.slots(base);
    let Some(run) = overlay.run(next, base, max_elements, budget, mode) else {
        return fill_from(next, total, max_elements, budget, ns, |i| {
            overlay.fragment(i, base, mode)
        });
    };
    let after = next.min(total) + run.len();
    let batch = EnumerationBatch {
        items: Some(Items {
            ns,
            items: ItemList::Run(run),
        }),
        end_of_sequence: (after >= total).then_some(ns),
        ..EnumerationBatch::default()
    };
    (batch, after)
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
    source: impl Fn(usize) -> Option<Fragment>,
) -> (EnumerationBatch, usize) {
    let mut items = Vec::new();
    let mut used = 0;
    let mut i = next;
    while i < total && items.len() < max_elements {
        let Some(f) = source(i) else {
            i += 1;
            continue;
        };
        // Size of the item as written, to stay inside the client's MaxEnvelopeSize.
        let n = f.source().map_or(0, str::len);
        if used + n > budget && !items.is_empty() {
            break;
        }
        used += n;
        items.push(f);
        i += 1;
    }
    let done = i >= total;
    let batch = EnumerationBatch {
        items: Some(Items {
            ns,
            items: items.into(),
        }),
        end_of_sequence: done.then_some(ns),
        ..EnumerationBatch::default()
    };
    (batch, i)
}
