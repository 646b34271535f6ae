//! The conformance suite: a catalogue of cases with stable ids ([`catalogue`]), each judging one
//! rule of DSP0226, MS-WSMV or the seed document's defaults against a target, graded verdicts
//! ([`Verdict`]), profiles of expectations ([`profile`]), waivers, and a runner. Reports are
//! rendered elsewhere ([`crate::report`]): the engine only produces a [`RunReport`].

pub mod case;
mod cases;
pub mod ctx;
pub mod embedded;
pub mod probe;
pub mod profile;
pub mod runner;
pub mod waivers;

pub use case::{Case, CaseInfo, Level, Outcome, Tier, Verdict};
pub use ctx::RunSettings;
pub use runner::{CaseResult, Plan, RunError, RunReport};

/// Every case, in report order.
pub fn catalogue() -> Vec<Case> {
    cases::all()
}

/// The collection the enumeration cases use unless told otherwise.
pub const DEFAULT_ENUMERATE_RESOURCE: &str = crate::server::PROCESS_URI;
