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
