//! The WS-Management message model and its codec: bytes → [`Envelope`] → bytes.
//!
//! Reading matches every name by namespace URI, never by prefix, so envelopes from Windows,
//! openwsman, OMI, iDRAC and AMT read alike. Every typed part is checked to write back to what it
//! was read from; whatever the model cannot reproduce exactly stays a generic tree, so
//! `write(parse(x))` is XML-equivalent to `x` for every well-formed envelope.
//!
//! This module does no I/O and knows nothing of HTTP or servers.

mod body;
mod enumeration;
mod fault;
mod header;
mod identify;
mod operation;
mod parse;
mod part;
mod shell;
mod transfer;
mod write;

pub use body::Body;
pub use enumeration::{
    ContextAt, EnumNs, Enumerate, EnumerateResponse, EnumerationBatch, Filter, ItemList, Items,
    Pull, PullResponse, Release,
};
pub use fault::{Fault, Reason, WsmanFault};
pub use header::{
    Epr, Header, HeaderBlock, OptionSet, Selector, SelectorSet, SelectorValue, WsOption,
};
pub use identify::{Identify, IdentifyResponse};
pub use operation::Operation;
pub use parse::{parse, parse_with};
pub(crate) use part::Part;
pub use part::{Text, must_understand};
pub use shell::{
    CommandLine, CommandResponse, CommandState, DesiredStream, Receive, ReceiveResponse, Send,
    Shell, Signal, SignalResponse, Stream,
};
pub use transfer::ResourceCreated;
pub use write::{write, write_shared};

use crate::xml::Attribute;

/// A SOAP 1.2 envelope.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    /// Attributes of `s:Envelope` (Windows responses carry `xml:lang="en-US"`).
    pub attrs: Vec<Attribute>,
    /// `s:Header`, when present (Identify requests may omit it).
    pub header: Option<Header>,
    /// Elements between the header and the body, kept verbatim. SOAP 1.2 (part 1, 5.1) allows
    /// none; winrm-rs puts its shell `OptionSet` there and tests it against real Windows hosts,
    /// so readers keep them (a server ignores them and says so) instead of refusing the message.
    pub misplaced: Vec<crate::xml::Element>,
    /// Attributes of `s:Body`.
    pub body_attrs: Vec<Attribute>,
    /// The body.
    pub body: Body,
    /// Namespace declarations the source made, for writing with preserved prefixes.
    pub prefixes: SourcePrefixes,
}

/// Where the source declared its prefixes. Presentation only: it never affects equality.
#[derive(Clone, Debug, Default)]
pub struct SourcePrefixes {
    /// Declarations on `s:Envelope`.
    pub envelope: Vec<(String, String)>,
    /// Declarations on `s:Header`.
    pub header: Vec<(String, String)>,
    /// Declarations on `s:Body`.
    pub body: Vec<(String, String)>,
}

impl PartialEq for SourcePrefixes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

static EMPTY_HEADER: Header = Header {
    attrs: Vec::new(),
    blocks: Vec::new(),
};

impl Envelope {
    /// An envelope with the given header and body.
    pub fn new(header: Header, body: Body) -> Self {
        Self {
            header: Some(header),
            body,
            ..Self::default()
        }
    }

    /// The header (an empty one when absent).
    pub fn header(&self) -> &Header {
        self.header.as_ref().unwrap_or(&EMPTY_HEADER)
    }

    /// The header, created when absent.
    pub fn header_mut(&mut self) -> &mut Header {
        self.header.get_or_insert_with(Header::default)
    }

    /// `wsa:Action`.
    pub fn action(&self) -> Option<&str> {
        self.header().action()
    }

    /// `wsa:MessageID`.
    pub fn message_id(&self) -> Option<&str> {
        self.header().message_id()
    }

    /// `wsa:RelatesTo`.
    pub fn relates_to(&self) -> Option<&str> {
        self.header().relates_to()
    }

    /// `wsman:ResourceURI`.
    pub fn resource_uri(&self) -> Option<&str> {
        self.header().resource_uri()
    }

    /// What kind of message this is.
    pub fn operation(&self) -> Operation {
        Operation::of(self)
    }

    /// The fault, when the body is one.
    pub fn fault(&self) -> Option<&Fault> {
        match &self.body {
            Body::Fault(f) => Some(f),
            _ => None,
        }
    }
}
