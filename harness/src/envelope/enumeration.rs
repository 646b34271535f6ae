//! WS-Enumeration bodies with the WS-Management extensions (DSP0226 §8, MS-WSMV 3.1.4.8-3.1.4.10).
//!
//! Items are kept as [`Fragment`]s, or as one [`Run`] of shared text when a server hands out a
//! cached collection: the enumeration of a large collection is where envelopes are big, and
//! most callers only count or forward the items.

use std::borrow::Cow;

use super::part::{Part, child_text, push_text, scoped};
use crate::ns;
use crate::xml::{Element, Fragment, Node, QName, Run};

/// Which namespace an `Items`/`EndOfSequence` element was in: optimized enumerations put them in
/// the WS-Man namespace (MS-WSMV 3.1.4.8, seen on the wire), Pull responses in WS-Enumeration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnumNs {
    /// `http://schemas.xmlsoap.org/ws/2004/09/enumeration`.
    #[default]
    Enumeration,
    /// `http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd`.
    Wsman,
}

impl EnumNs {
    /// The namespace URI.
    pub fn uri(self) -> &'static str {
        match self {
            EnumNs::Enumeration => ns::ENUMERATION,
            EnumNs::Wsman => ns::WSMAN,
        }
    }

    /// The variant for a namespace URI.
    pub fn of(uri: &str) -> Option<Self> {
        match uri {
            ns::ENUMERATION => Some(EnumNs::Enumeration),
            ns::WSMAN => Some(EnumNs::Wsman),
            _ => None,
        }
    }
}

/// An `Items` element.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Items {
    /// Its namespace.
    pub ns: EnumNs,
    /// The items, one element each.
    pub items: ItemList,
}

/// The items of a batch: fragments (what a reader keeps), or a run of self-contained elements
/// in shared text (what the reference server answers from its cached collection, written
/// without a copy).
#[derive(Clone, Debug)]
pub enum ItemList {
    /// One fragment per item.
    Fragments(Vec<Fragment>),
    /// Consecutive items of one shared text.
    Run(Run),
}

impl Default for ItemList {
    fn default() -> Self {
        ItemList::Fragments(Vec::new())
    }
}

impl From<Vec<Fragment>> for ItemList {
    fn from(v: Vec<Fragment>) -> Self {
        ItemList::Fragments(v)
    }
}

impl FromIterator<Fragment> for ItemList {
    fn from_iter<I: IntoIterator<Item = Fragment>>(iter: I) -> Self {
        ItemList::Fragments(iter.into_iter().collect())
    }
}

impl IntoIterator for ItemList {
    type Item = Fragment;
    type IntoIter = std::vec::IntoIter<Fragment>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl ItemList {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ItemList::Fragments(v) => v.len(),
            ItemList::Run(r) => r.len(),
        }
    }

    /// True for no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items as fragments (those of a run are copied out of the shared text).
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, Fragment>> + '_ {
        let (frags, run) = match self {
            ItemList::Fragments(v) => (v.as_slice(), None),
            ItemList::Run(r) => (&[][..], Some(r)),
        };
        frags.iter().map(Cow::Borrowed).chain(
            run.into_iter()
                .flat_map(Run::iter)
                .map(|t| Cow::Owned(Fragment::from_xml(t.to_owned()))),
        )
    }

    /// The items as owned fragments.
    pub fn into_vec(self) -> Vec<Fragment> {
        match self {
            ItemList::Fragments(v) => v,
            run @ ItemList::Run(_) => run.iter().map(Cow::into_owned).collect(),
        }
    }

    /// Bytes of item text, where it is known without writing (a tree counts `per_tree`).
    pub fn text_len(&self, per_tree: usize) -> usize {
        match self {
            ItemList::Fragments(v) => v
                .iter()
                .map(|f| f.source().map_or(per_tree, str::len))
                .sum(),
            ItemList::Run(r) => r.byte_len(),
        }
    }
}

impl PartialEq for ItemList {
    /// Item by item, structurally, however each side keeps them.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

/// A filter (`wsman:Filter` or `wsen:Filter`, treated alike by Windows).
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The whole element (dialect attribute and content such as WQL text or a SelectorSet).
    pub element: Element,
}

impl Filter {
    /// The `Dialect` attribute.
    pub fn dialect(&self) -> Option<&str> {
        self.element.attr_value("", "Dialect")
    }
}

/// `wsen:Enumerate`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Enumerate {
    /// `wsen:Expires`.
    pub expires: Option<String>,
    /// `wsman:OptimizeEnumeration` present: items come back in the EnumerateResponse.
    pub optimize: bool,
    /// `wsman:MaxElements`, as written (servers clamp it to MaxBatchItems).
    pub max_elements: Option<String>,
    /// `wsman:EnumerationMode`: `EnumerateEPR` or `EnumerateObjectAndEPR`.
    pub mode: Option<String>,
    /// The filter, if any.
    pub filter: Option<Filter>,
}

impl Part for Enumerate {
    fn read(e: &Element, scope: &[(String, String)]) -> Option<Self> {
        if !e.name.is(ns::ENUMERATION, "Enumerate") {
            return None;
        }
        Some(Self {
            expires: child_text(e, ns::ENUMERATION, "Expires"),
            optimize: e.find(ns::WSMAN, "OptimizeEnumeration").is_some(),
            max_elements: child_text(e, ns::WSMAN, "MaxElements"),
            mode: child_text(e, ns::WSMAN, "EnumerationMode"),
            filter: e
                .elements()
                .find(|c| {
                    c.name.local == "Filter"
                        && (c.name.ns == ns::WSMAN || c.name.ns == ns::ENUMERATION)
                })
                .map(|f| Filter {
                    element: scoped(f, e, scope),
                }),
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(QName::new(ns::ENUMERATION, "Enumerate"));
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "Expires"),
            self.expires.as_deref(),
        );
        let wsen_filter = self
            .filter
            .as_ref()
            .filter(|f| f.element.name.ns == ns::ENUMERATION);
        if let Some(f) = wsen_filter {
            e.children.push(Node::Element(f.element.clone()));
        }
        if self.optimize {
            e.children.push(Node::Element(Element::new(QName::new(
                ns::WSMAN,
                "OptimizeEnumeration",
            ))));
        }
        push_text(
            &mut e,
            QName::new(ns::WSMAN, "MaxElements"),
            self.max_elements.as_deref(),
        );
        push_text(
            &mut e,
            QName::new(ns::WSMAN, "EnumerationMode"),
            self.mode.as_deref(),
        );
        if let Some(f) = self.filter.as_ref().filter(|_| wsen_filter.is_none()) {
            e.children.push(Node::Element(f.element.clone()));
        }
        e
    }
}

/// `wsen:Pull`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pull {
    /// `wsen:EnumerationContext`.
    pub context: String,
    /// `wsen:MaxTime`.
    pub max_time: Option<String>,
    /// `wsen:MaxElements`, as written.
    pub max_elements: Option<String>,
    /// `wsen:MaxCharacters`.
    pub max_characters: Option<String>,
}

impl Part for Pull {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        if !e.name.is(ns::ENUMERATION, "Pull") {
            return None;
        }
        Some(Self {
            context: child_text(e, ns::ENUMERATION, "EnumerationContext")?,
            max_time: child_text(e, ns::ENUMERATION, "MaxTime"),
            max_elements: child_text(e, ns::ENUMERATION, "MaxElements"),
            max_characters: child_text(e, ns::ENUMERATION, "MaxCharacters"),
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(QName::new(ns::ENUMERATION, "Pull"));
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "EnumerationContext"),
            Some(&self.context),
        );
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "MaxTime"),
            self.max_time.as_deref(),
        );
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "MaxElements"),
            self.max_elements.as_deref(),
        );
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "MaxCharacters"),
            self.max_characters.as_deref(),
        );
        e
    }
}

/// `wsen:Release`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Release {
    /// `wsen:EnumerationContext`.
    pub context: String,
}

impl Part for Release {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::ENUMERATION, "Release").then_some(())?;
        Some(Self {
            context: child_text(e, ns::ENUMERATION, "EnumerationContext")?,
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(QName::new(ns::ENUMERATION, "Release"));
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "EnumerationContext"),
            Some(&self.context),
        );
        e
    }
}

/// `wsen:EnumerateResponse` and `wsen:PullResponse` share one shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnumerationBatch {
    /// `wsen:Expires` (EnumerateResponse only).
    pub expires: Option<String>,
    /// `wsen:EnumerationContext`; Windows sends it empty when an optimized enumeration is done.
    pub context: Option<String>,
    /// `Items`.
    pub items: Option<Items>,
    /// `EndOfSequence`, with its namespace.
    pub end_of_sequence: Option<EnumNs>,
    /// Where the context stood: the schema puts it first, iDRAC after Items or last.
    pub context_at: ContextAt,
}

/// Position of `wsen:EnumerationContext` among the children of a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContextAt {
    /// Before Items (schema order; Windows).
    #[default]
    BeforeItems,
    /// Between Items and EndOfSequence.
    AfterItems,
    /// After EndOfSequence.
    Last,
}

/// `wsen:EnumerateResponse`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnumerateResponse(pub EnumerationBatch);

/// `wsen:PullResponse`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PullResponse(pub EnumerationBatch);

impl EnumerationBatch {
    /// Number of items.
    pub fn item_count(&self) -> usize {
        self.items.as_ref().map_or(0, |i| i.items.len())
    }

    pub(crate) fn read_tree(e: &Element) -> Option<Self> {
        let mut b = Self {
            expires: child_text(e, ns::ENUMERATION, "Expires"),
            context: child_text(e, ns::ENUMERATION, "EnumerationContext"),
            ..Self::default()
        };
        let mut seen_items = false;
        for c in e.elements() {
            match (EnumNs::of(&c.name.ns), c.name.local.as_ref()) {
                (Some(EnumNs::Enumeration), "EnumerationContext") => {
                    b.context_at = match (seen_items, b.end_of_sequence.is_some()) {
                        (_, true) => ContextAt::Last,
                        (true, false) => ContextAt::AfterItems,
                        _ => ContextAt::BeforeItems,
                    }
                }
                (Some(n), "Items") => {
                    seen_items = true;
                    b.items = Some(Items {
                        ns: n,
                        items: ItemList::Fragments(
                            c.elements().cloned().map(Fragment::from).collect(),
                        ),
                    })
                }
                (Some(n), "EndOfSequence") => b.end_of_sequence = Some(n),
                _ => {}
            }
        }
        Some(b)
    }

    pub(crate) fn to_named(&self, name: QName) -> Element {
        let mut e = Element::new(name);
        push_text(
            &mut e,
            QName::new(ns::ENUMERATION, "Expires"),
            self.expires.as_deref(),
        );
        let context = QName::new(ns::ENUMERATION, "EnumerationContext");
        let context_at = |at: ContextAt| self.context.as_deref().filter(|_| self.context_at == at);
        push_text(&mut e, context.clone(), context_at(ContextAt::BeforeItems));
        if let Some(items) = &self.items {
            let mut i = Element::new(QName::new(items.ns.uri(), "Items"));
            for f in items.items.iter() {
                if let Ok(x) = f.element() {
                    i.children.push(Node::Element(x.into_owned()));
                }
            }
            e.children.push(Node::Element(i));
        }
        push_text(&mut e, context.clone(), context_at(ContextAt::AfterItems));
        if let Some(n) = self.end_of_sequence {
            e.children.push(Node::Element(Element::new(QName::new(
                n.uri(),
                "EndOfSequence",
            ))));
        }
        push_text(&mut e, context, context_at(ContextAt::Last));
        e
    }
}

impl Part for EnumerateResponse {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name
            .is(ns::ENUMERATION, "EnumerateResponse")
            .then_some(())?;
        EnumerationBatch::read_tree(e).map(Self)
    }
    fn to_element(&self) -> Element {
        self.0
            .to_named(QName::new(ns::ENUMERATION, "EnumerateResponse"))
    }
}

impl Part for PullResponse {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::ENUMERATION, "PullResponse").then_some(())?;
        EnumerationBatch::read_tree(e).map(Self)
    }
    fn to_element(&self) -> Element {
        self.0.to_named(QName::new(ns::ENUMERATION, "PullResponse"))
    }
}
