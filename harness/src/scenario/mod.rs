//! The scenario engine: recorded WS-Man exchanges as files, compared structurally with
//! correlation values normalised to symbols, replayed against servers, served to clients,
//! recorded from live traffic, imported from public layouts and linted.
//!
//! Data flows one way: file → [`Scenario`] → replay/matching → [`Mismatch`] reports.

pub mod compare;
pub mod file;
pub mod harness;
pub mod import;
pub mod lint;
pub mod model;
pub mod path;
pub mod record;
pub mod replay;
pub mod serve;
pub mod symbols;

pub use compare::{Comparison, Mismatch, Rules, compare};
pub use file::{ScenarioError, load};
pub use model::{Assertion, Capture, Meta, Recorded, Scenario, Step};
pub use path::ElementPath;
pub use symbols::{Bindings, Symbols};

use crate::xml::Element;

/// A SOAP header block of an envelope tree.
pub(crate) fn header<'e>(tree: &'e Element, ns_uri: &str, local: &str) -> Option<&'e Element> {
    tree.find(crate::ns::SOAP, "Header")
        .and_then(|h| h.find(ns_uri, local))
}

/// The trimmed text of a SOAP header block (Action, MessageID, ResourceURI, ...).
pub(crate) fn header_text(tree: &Element, ns_uri: &str, local: &str) -> Option<String> {
    header(tree, ns_uri, local).map(|e| e.text().trim().to_owned())
}
