//! SOAP header blocks: WS-Addressing 2004/08, DMTF WS-Management and the Microsoft extensions.
//!
//! Blocks are kept in wire order, duplicates included: a harness must be able to read and send
//! a message with two MessageIDs. Accessors return the first block of a kind.

use super::part::{Part, Text, faithful, faithful_by, must_understand, scoped};
use crate::ns;
use crate::xml::{Attribute, Element, Node, QName, attr};

/// The `s:Header` element.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    /// Attributes of `s:Header` itself (rare).
    pub attrs: Vec<Attribute>,
    /// Header blocks in wire order.
    pub blocks: Vec<HeaderBlock>,
}

/// One header block.
#[derive(Clone, Debug, PartialEq)]
pub enum HeaderBlock {
    /// `wsa:To`: the endpoint URL (requests) or the anonymous role (Windows responses).
    To(Text),
    /// `wsa:Action`.
    Action(Text),
    /// `wsa:MessageID`, `uuid:` + UUID by convention (MS-WSMV 3.1.4.1.5).
    MessageId(Text),
    /// `wsa:RelatesTo`: the request's MessageID in a reply.
    RelatesTo(Text),
    /// `wsa:ReplyTo`: must be the anonymous address for WinRM (MS-WSMV 3.1.4.1.3).
    ReplyTo(Epr),
    /// `wsa:FaultTo`.
    FaultTo(Epr),
    /// `wsman:ResourceURI`.
    ResourceUri(Text),
    /// `wsman:SelectorSet`.
    SelectorSet(SelectorSet),
    /// `wsman:OptionSet`.
    OptionSet(OptionSet),
    /// `wsman:MaxEnvelopeSize` in octets; clamped by the server, faulted below 8192.
    MaxEnvelopeSize(Text),
    /// `wsman:OperationTimeout`, an xs:duration.
    OperationTimeout(Text),
    /// `wsman:Locale` (value in `xml:lang`).
    Locale(Text),
    /// `wsmv:DataLocale` (value in `xml:lang`).
    DataLocale(Text),
    /// `wsman:FragmentTransfer`.
    FragmentTransfer(Text),
    /// `wsmv:SessionId`.
    SessionId(Text),
    /// `wsmv:OperationID` (robust connections).
    OperationId(Text),
    /// `wsmv:SequenceId` (robust connections).
    SequenceId(Text),
    /// `wsmv:ActivityId` (ETW correlation).
    ActivityId(Text),
    /// `rsp:CompressionType` on shell creation.
    CompressionType(Text),
    /// Any other block, kept whole with its mustUnderstand flag.
    Unknown(Element),
}

/// The text-valued header blocks by element name (the reverse of [`HeaderBlock::name`]).
/// Builds the header block variant for a text value.
type MakeBlock = fn(Text) -> HeaderBlock;

const TEXT_BLOCKS: &[(&str, &str, MakeBlock)] = &[
    (ns::ADDRESSING, "To", HeaderBlock::To),
    (ns::ADDRESSING, "Action", HeaderBlock::Action),
    (ns::ADDRESSING, "MessageID", HeaderBlock::MessageId),
    (ns::ADDRESSING, "RelatesTo", HeaderBlock::RelatesTo),
    (ns::WSMAN, "ResourceURI", HeaderBlock::ResourceUri),
    (ns::WSMAN, "MaxEnvelopeSize", HeaderBlock::MaxEnvelopeSize),
    (ns::WSMAN, "OperationTimeout", HeaderBlock::OperationTimeout),
    (ns::WSMAN, "Locale", HeaderBlock::Locale),
    (ns::WSMAN_MS, "DataLocale", HeaderBlock::DataLocale),
    (ns::WSMAN, "FragmentTransfer", HeaderBlock::FragmentTransfer),
    (ns::WSMAN_MS, "SessionId", HeaderBlock::SessionId),
    (ns::WSMAN_MS, "OperationID", HeaderBlock::OperationId),
    (ns::WSMAN_MS, "SequenceId", HeaderBlock::SequenceId),
    (ns::WSMAN_MS, "ActivityId", HeaderBlock::ActivityId),
    (ns::SHELL, "CompressionType", HeaderBlock::CompressionType),
];

impl HeaderBlock {
    /// Reads the blocks whose typed form needs no namespace scope and is faithful by shape: text
    /// blocks, and a ReplyTo/FaultTo holding only a text Address (what every client sends).
    /// Anything else is left for [`HeaderBlock::from_element`].
    ///
    /// `e` and `text` are what [`crate::xml::Cursor::read_text_element`] read: `text` is the
    /// whole content of an element that held only text (it then has no children). The parts of
    /// `e` the block is made of are moved out of it; when the answer is `None`, `e` is the
    /// element as [`crate::xml::Cursor::read_element`] reads it (the text put back as its child).
    pub(crate) fn read_unscoped(e: &mut Element, text: Option<String>) -> Option<Self> {
        if let Some(value) = text {
            if let Some((_, _, make)) = TEXT_BLOCKS.iter().find(|(ns, l, _)| e.name.is(ns, l)) {
                return Some(make(Text {
                    value,
                    attrs: std::mem::take(&mut e.attrs),
                }));
            }
            if !value.is_empty() {
                e.children.push(Node::Text(value));
            }
            return None;
        }
        let n = &e.name;
        // A text block with child elements is not text: `from_element` keeps it generic.
        if TEXT_BLOCKS.iter().any(|(ns, l, _)| n.is(ns, l)) {
            return None;
        }
        let reply_to = n.is(ns::ADDRESSING, "ReplyTo");
        if !(reply_to || n.is(ns::ADDRESSING, "FaultTo")) {
            return None;
        }
        let address = match e.children.as_mut_slice() {
            [Node::Element(a)] if a.name.is(ns::ADDRESSING, "Address") => Text::take(a)?,
            _ => return None,
        };
        let epr = Epr {
            attrs: std::mem::take(&mut e.attrs),
            address,
            reference_parameters: None,
        };
        Some(if reply_to {
            HeaderBlock::ReplyTo(epr)
        } else {
            HeaderBlock::FaultTo(epr)
        })
    }

    /// Reads a block, keeping it generic when its typed form would not be faithful.
    pub(crate) fn from_element(e: Element, scope: &[(String, String)]) -> Self {
        let n = &e.name;
        if let Some((_, _, make)) = TEXT_BLOCKS.iter().find(|(ns, l, _)| n.is(ns, l)) {
            if let Some(t) = Text::read(&e) {
                return make(t);
            }
        } else if n.is(ns::ADDRESSING, "ReplyTo") || n.is(ns::ADDRESSING, "FaultTo") {
            let name = n.clone();
            let read = |x: &Element| Epr::read_epr(x, scope);
            if let Some(v) = faithful_by(&e, scope, read, |v| v.to_named(name.clone())) {
                return if name.local == "ReplyTo" {
                    HeaderBlock::ReplyTo(v)
                } else {
                    HeaderBlock::FaultTo(v)
                };
            }
        } else if n.is(ns::WSMAN, "SelectorSet") {
            if let Some(v) = faithful(&e, scope) {
                return HeaderBlock::SelectorSet(v);
            }
        } else if n.is(ns::WSMAN, "OptionSet")
            && let Some(v) = faithful(&e, scope)
        {
            return HeaderBlock::OptionSet(v);
        }
        HeaderBlock::Unknown(e.with_outer_scope(scope))
    }

    /// The block's element name.
    pub fn name(&self) -> QName {
        match self {
            HeaderBlock::ReplyTo(_) => QName::new(ns::ADDRESSING, "ReplyTo"),
            HeaderBlock::FaultTo(_) => QName::new(ns::ADDRESSING, "FaultTo"),
            HeaderBlock::SelectorSet(_) => QName::new(ns::WSMAN, "SelectorSet"),
            HeaderBlock::OptionSet(_) => QName::new(ns::WSMAN, "OptionSet"),
            HeaderBlock::Unknown(e) => e.name.clone(),
            HeaderBlock::To(_) => QName::new(ns::ADDRESSING, "To"),
            HeaderBlock::Action(_) => QName::new(ns::ADDRESSING, "Action"),
            HeaderBlock::MessageId(_) => QName::new(ns::ADDRESSING, "MessageID"),
            HeaderBlock::RelatesTo(_) => QName::new(ns::ADDRESSING, "RelatesTo"),
            HeaderBlock::ResourceUri(_) => QName::new(ns::WSMAN, "ResourceURI"),
            HeaderBlock::MaxEnvelopeSize(_) => QName::new(ns::WSMAN, "MaxEnvelopeSize"),
            HeaderBlock::OperationTimeout(_) => QName::new(ns::WSMAN, "OperationTimeout"),
            HeaderBlock::Locale(_) => QName::new(ns::WSMAN, "Locale"),
            HeaderBlock::DataLocale(_) => QName::new(ns::WSMAN_MS, "DataLocale"),
            HeaderBlock::FragmentTransfer(_) => QName::new(ns::WSMAN, "FragmentTransfer"),
            HeaderBlock::SessionId(_) => QName::new(ns::WSMAN_MS, "SessionId"),
            HeaderBlock::OperationId(_) => QName::new(ns::WSMAN_MS, "OperationID"),
            HeaderBlock::SequenceId(_) => QName::new(ns::WSMAN_MS, "SequenceId"),
            HeaderBlock::ActivityId(_) => QName::new(ns::WSMAN_MS, "ActivityId"),
            HeaderBlock::CompressionType(_) => QName::new(ns::SHELL, "CompressionType"),
        }
    }

    /// The text of a text-valued block.
    pub fn text(&self) -> Option<&Text> {
        match self {
            HeaderBlock::To(t)
            | HeaderBlock::Action(t)
            | HeaderBlock::MessageId(t)
            | HeaderBlock::RelatesTo(t)
            | HeaderBlock::ResourceUri(t)
            | HeaderBlock::MaxEnvelopeSize(t)
            | HeaderBlock::OperationTimeout(t)
            | HeaderBlock::Locale(t)
            | HeaderBlock::DataLocale(t)
            | HeaderBlock::FragmentTransfer(t)
            | HeaderBlock::SessionId(t)
            | HeaderBlock::OperationId(t)
            | HeaderBlock::SequenceId(t)
            | HeaderBlock::ActivityId(t)
            | HeaderBlock::CompressionType(t) => Some(t),
            _ => None,
        }
    }

    /// The block's attributes.
    pub fn attrs(&self) -> &[Attribute] {
        match self {
            HeaderBlock::ReplyTo(e) | HeaderBlock::FaultTo(e) => &e.attrs,
            HeaderBlock::SelectorSet(s) => &s.attrs,
            HeaderBlock::OptionSet(o) => &o.attrs,
            HeaderBlock::Unknown(e) => &e.attrs,
            other => other.text().map(|t| t.attrs.as_slice()).unwrap_or(&[]),
        }
    }

    /// The block's `s:mustUnderstand` flag.
    pub fn must_understand(&self) -> Option<bool> {
        must_understand(self.attrs())
    }

    /// The block as a tree.
    pub fn to_element(&self) -> Element {
        match self {
            HeaderBlock::ReplyTo(e) => e.to_named(QName::new(ns::ADDRESSING, "ReplyTo")),
            HeaderBlock::FaultTo(e) => e.to_named(QName::new(ns::ADDRESSING, "FaultTo")),
            HeaderBlock::SelectorSet(s) => s.to_element(),
            HeaderBlock::OptionSet(o) => o.to_element(),
            HeaderBlock::Unknown(e) => e.clone(),
            other => other
                .text()
                .map(|t| t.to_element(other.name()))
                .unwrap_or_default(),
        }
    }
}

impl Header {
    /// The first block for which `f` gives a value.
    fn first<'a, T>(&'a self, f: impl Fn(&'a HeaderBlock) -> Option<T>) -> Option<T> {
        self.blocks.iter().find_map(f)
    }

    fn text_of(&self, name: &QName) -> Option<&str> {
        self.first(|b| match b.text() {
            Some(t) if b.name() == *name => Some(t.value.as_str()),
            _ => None,
        })
    }

    /// `wsa:Action`.
    pub fn action(&self) -> Option<&str> {
        self.first(|b| match b {
            HeaderBlock::Action(t) => Some(t.value.trim()),
            _ => None,
        })
    }

    /// `wsa:MessageID`.
    pub fn message_id(&self) -> Option<&str> {
        self.first(|b| match b {
            HeaderBlock::MessageId(t) => Some(t.value.trim()),
            _ => None,
        })
    }

    /// `wsa:RelatesTo`.
    pub fn relates_to(&self) -> Option<&str> {
        self.first(|b| match b {
            HeaderBlock::RelatesTo(t) => Some(t.value.trim()),
            _ => None,
        })
    }

    /// `wsa:To`.
    pub fn to(&self) -> Option<&str> {
        self.text_of(&QName::new(ns::ADDRESSING, "To"))
            .map(str::trim)
    }

    /// `wsman:ResourceURI`.
    pub fn resource_uri(&self) -> Option<&str> {
        self.first(|b| match b {
            HeaderBlock::ResourceUri(t) => Some(t.value.trim()),
            _ => None,
        })
    }

    /// `wsa:ReplyTo`.
    pub fn reply_to(&self) -> Option<&Epr> {
        self.first(|b| match b {
            HeaderBlock::ReplyTo(e) => Some(e),
            _ => None,
        })
    }

    /// `wsman:SelectorSet`.
    pub fn selector_set(&self) -> Option<&SelectorSet> {
        self.first(|b| match b {
            HeaderBlock::SelectorSet(s) => Some(s),
            _ => None,
        })
    }

    /// `wsman:OptionSet`.
    pub fn option_set(&self) -> Option<&OptionSet> {
        self.first(|b| match b {
            HeaderBlock::OptionSet(s) => Some(s),
            _ => None,
        })
    }

    /// `wsman:MaxEnvelopeSize` as written.
    pub fn max_envelope_size(&self) -> Option<&Text> {
        self.first(|b| match b {
            HeaderBlock::MaxEnvelopeSize(t) => Some(t),
            _ => None,
        })
    }

    /// `wsman:OperationTimeout` as written.
    pub fn operation_timeout(&self) -> Option<&str> {
        self.first(|b| match b {
            HeaderBlock::OperationTimeout(t) => Some(t.value.as_str()),
            _ => None,
        })
    }

    /// `wsmv:SessionId`.
    pub fn session_id(&self) -> Option<&str> {
        self.text_of(&QName::new(ns::WSMAN_MS, "SessionId"))
    }

    /// Blocks this model does not know, with their mustUnderstand flags.
    pub fn unknown(&self) -> impl Iterator<Item = &Element> {
        self.blocks.iter().filter_map(|b| match b {
            HeaderBlock::Unknown(e) => Some(e),
            _ => None,
        })
    }

    /// Replaces the first block of the same kind, or appends.
    pub fn set(&mut self, block: HeaderBlock) {
        let d = std::mem::discriminant(&block);
        match self
            .blocks
            .iter_mut()
            .find(|b| std::mem::discriminant(*b) == d && !matches!(b, HeaderBlock::Unknown(_)))
        {
            Some(slot) => *slot = block,
            None => self.blocks.push(block),
        }
    }

    /// Builder form of [`Header::set`].
    pub fn with(mut self, block: HeaderBlock) -> Self {
        self.set(block);
        self
    }

    /// The headers every WS-Man client request carries: To, ResourceURI, ReplyTo anonymous,
    /// Action, a fresh MessageID, MaxEnvelopeSize 153600 (what the Windows client asks for) and
    /// OperationTimeout PT20S.
    pub fn request(to: &str, action: &str, resource: &str) -> Self {
        Header::default()
            .with(HeaderBlock::To(Text::new(to)))
            .with(HeaderBlock::ResourceUri(Text::new(resource)))
            .with(HeaderBlock::ReplyTo(Epr::anonymous()))
            .with(HeaderBlock::Action(Text::new(action)))
            .with(HeaderBlock::MessageId(Text::new(
                crate::ids::new_message_id(),
            )))
            .with(HeaderBlock::MaxEnvelopeSize(Text::new("153600")))
            .with(HeaderBlock::OperationTimeout(Text::new("PT20S")))
    }
}

/// A WS-Addressing endpoint reference (ReplyTo, FaultTo, ResourceCreated).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Epr {
    /// Attributes of the EPR element.
    pub attrs: Vec<Attribute>,
    /// `wsa:Address`.
    pub address: Text,
    /// `wsa:ReferenceParameters` (WS-Man puts ResourceURI and SelectorSet here).
    pub reference_parameters: Option<Element>,
}

impl Epr {
    /// An EPR with the anonymous address, as WinRM requires for ReplyTo.
    pub fn anonymous() -> Self {
        Self {
            address: Text::new(ns::ANONYMOUS).must_understand(true),
            ..Self::default()
        }
    }

    /// Reads an EPR whose children are Address and optionally ReferenceParameters; `scope`
    /// is the namespace scope the EPR element stood in.
    pub(crate) fn read_epr(e: &Element, scope: &[(String, String)]) -> Option<Self> {
        let address = Text::read(e.find(ns::ADDRESSING, "Address")?)?;
        Some(Self {
            attrs: e.attrs.clone(),
            address,
            reference_parameters: e
                .find(ns::ADDRESSING, "ReferenceParameters")
                .map(|r| scoped(r, e, scope)),
        })
    }

    /// Writes the EPR under the given element name.
    pub fn to_named(&self, name: QName) -> Element {
        let mut e = Element::new(name);
        e.attrs = self.attrs.clone();
        e.children.push(Node::Element(
            self.address
                .to_element(QName::new(ns::ADDRESSING, "Address")),
        ));
        if let Some(r) = &self.reference_parameters {
            e.children.push(Node::Element(r.clone()));
        }
        e
    }
}

/// `wsman:SelectorSet`: identifies one instance of a resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectorSet {
    /// Attributes of the set.
    pub attrs: Vec<Attribute>,
    /// Selectors in order.
    pub selectors: Vec<Selector>,
}

/// `wsman:Selector Name="..."`.
#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    /// The `Name` attribute.
    pub name: String,
    /// Text value or nested endpoint reference.
    pub value: SelectorValue,
}

/// The value of a selector.
#[derive(Clone, Debug, PartialEq)]
pub enum SelectorValue {
    /// A text value (compared case-insensitively by Windows, MS-WSMV 3.1.4.1.2).
    Text(String),
    /// An embedded element, usually `wsa:EndpointReference`.
    Element(Element),
}

impl SelectorSet {
    /// A set from name/value pairs.
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Self {
            attrs: Vec::new(),
            selectors: pairs
                .iter()
                .map(|(n, v)| Selector {
                    name: (*n).to_owned(),
                    value: SelectorValue::Text((*v).to_owned()),
                })
                .collect(),
        }
    }

    /// The text value of a selector, its name compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.selectors.iter().find_map(|s| match &s.value {
            SelectorValue::Text(v) if s.name.eq_ignore_ascii_case(name) => Some(v.as_str()),
            _ => None,
        })
    }
}

impl Part for SelectorSet {
    fn read(e: &Element, scope: &[(String, String)]) -> Option<Self> {
        let mut selectors = Vec::new();
        for s in e.elements() {
            let name = attr(&s.attrs, "", "Name")?.to_owned();
            let value = if s.is_simple() {
                SelectorValue::Text(s.text())
            } else {
                let mut outer = scope.to_vec();
                outer.extend(e.ns_decls.iter().cloned());
                SelectorValue::Element(scoped(s.elements().next()?, s, &outer))
            };
            selectors.push(Selector { name, value });
        }
        Some(Self {
            attrs: e.attrs.clone(),
            selectors,
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(QName::new(ns::WSMAN, "SelectorSet"));
        e.attrs = self.attrs.clone();
        for s in &self.selectors {
            let mut c = Element::new(QName::new(ns::WSMAN, "Selector"))
                .attr(Attribute::plain("Name", s.name.clone()));
            match &s.value {
                SelectorValue::Text(t) if !t.is_empty() => c.children.push(Node::Text(t.clone())),
                SelectorValue::Text(_) => {}
                SelectorValue::Element(x) => c.children.push(Node::Element(x.clone())),
            }
            e.children.push(Node::Element(c));
        }
        e
    }
}

/// `wsman:OptionSet`: switches for one operation (`WINRS_NOPROFILE`, `WINRS_CODEPAGE`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptionSet {
    /// Attributes of the set (pywinrm sends `s:mustUnderstand="true"`).
    pub attrs: Vec<Attribute>,
    /// Options in order.
    pub options: Vec<WsOption>,
}

/// `wsman:Option Name="..." [MustComply="true"] [Type="..."]`.
#[derive(Clone, Debug, PartialEq)]
pub struct WsOption {
    /// The `Name` attribute.
    pub name: String,
    /// The text value.
    pub value: String,
    /// The remaining attributes (`MustComply`, `Type`, ...).
    pub attrs: Vec<Attribute>,
}

impl OptionSet {
    /// The value of an option, by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.value.as_str())
    }
}

impl Part for OptionSet {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        let mut options = Vec::new();
        for o in e.elements() {
            if !o.is_simple() {
                return None;
            }
            options.push(WsOption {
                name: attr(&o.attrs, "", "Name")?.to_owned(),
                value: o.text(),
                attrs: o
                    .attrs
                    .iter()
                    .filter(|a| !a.name.is("", "Name"))
                    .cloned()
                    .collect(),
            });
        }
        Some(Self {
            attrs: e.attrs.clone(),
            options,
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(QName::new(ns::WSMAN, "OptionSet"));
        e.attrs = self.attrs.clone();
        for o in &self.options {
            let mut c = Element::with_text(QName::new(ns::WSMAN, "Option"), o.value.clone())
                .attr(Attribute::plain("Name", o.name.clone()));
            c.attrs.extend(o.attrs.iter().cloned());
            e.children.push(Node::Element(c));
        }
        e
    }
}
