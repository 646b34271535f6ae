//! The scenario model: what a scenario file says once read and checked.

use std::path::PathBuf;

use super::compare::Rules;
use super::path::ElementPath;
use crate::xml::{Element, QName};

/// A recorded conversation with a WS-Man server.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Short name (unique within a corpus; test names use it).
    pub name: String,
    /// Where it came from and what it is for.
    pub meta: Meta,
    /// Prefixes the paths use, beyond the conventional WinRM ones.
    pub namespaces: Vec<(String, String)>,
    /// Comparison rules.
    pub rules: Rules,
    /// The exchanges, in order.
    pub steps: Vec<Step>,
    /// The file it was read from.
    pub file: Option<PathBuf>,
}

/// Descriptive metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// What the scenario shows.
    pub description: Option<String>,
    /// Where the recording comes from (project, commit, path, or "recorded by ...").
    pub source: Option<String>,
    /// The license of the recorded data.
    pub license: Option<String>,
    /// Specification sections the exchanges exercise.
    pub spec: Vec<String>,
    /// The kind of server it was recorded from (`windows`, `reference`, `openwsman`, ...).
    pub profile: Option<String>,
    /// Replays green against the embedded reference server (the corpus test runs it there);
    /// false for recordings of behaviour the reference server does not have.
    pub reference: bool,
    /// Why `reference` is false.
    pub reference_note: Option<String>,
}

/// One exchange.
#[derive(Clone, Debug)]
pub struct Step {
    /// A label for reports (`create shell`).
    pub name: String,
    /// The request envelope as recorded (may hold `${var}` placeholders).
    pub request: String,
    /// The request, parsed (shared: the remote fuzzer clones a scenario per case and changes
    /// only the trees it damages).
    pub request_tree: std::sync::Arc<Element>,
    /// Extra request headers to send (e.g. `WSMANIDENTIFY: unauthenticated`).
    pub request_headers: Vec<(String, String)>,
    /// The recorded response, when there is one.
    pub response: Option<Recorded>,
    /// Checks on the live response beyond the comparison.
    pub asserts: Vec<Assertion>,
    /// Values to name from the live response for later steps.
    pub captures: Vec<Capture>,
    /// Line of the step in its file (for reports).
    pub line: usize,
    /// The request was not recorded but rebuilt from the response (importers); lint does not
    /// judge it.
    pub synthetic: bool,
    /// How the request is damaged on the wire (remote fuzzer reproducers; empty elsewhere).
    /// Only `wsman-harness fuzz --reproduce` can send such a step.
    pub wire: Vec<crate::fuzzer::Mutation>,
}

/// A recorded response.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// HTTP status.
    pub status: u16,
    /// Selected headers (compared when present).
    pub headers: Vec<(String, String)>,
    /// The body as recorded (empty for none).
    pub body: String,
    /// The body parsed, when it is XML (shared, as [`Step::request_tree`]).
    pub tree: Option<std::sync::Arc<Element>>,
}

/// A check on the live response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assertion {
    /// The HTTP status.
    Status(u16),
    /// A SOAP fault whose subcode is this name.
    Fault(QName),
    /// The first value at a path equals this text (trimmed).
    Equals(ElementPath, String),
    /// The number of elements at a path.
    Count(ElementPath, usize),
    /// Something is (or is not) at a path.
    Exists(ElementPath, bool),
}

/// A named value taken from the live response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    /// The variable (`${name}` in later requests).
    pub name: String,
    /// Where the value is.
    pub path: ElementPath,
}

impl std::fmt::Display for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Assertion::Status(s) => write!(f, "HTTP status {s}"),
            Assertion::Fault(q) => write!(f, "fault {q}"),
            Assertion::Equals(p, v) => write!(f, "{p} = {v:?}"),
            Assertion::Count(p, n) => write!(f, "count({p}) = {n}"),
            Assertion::Exists(p, true) => write!(f, "{p} exists"),
            Assertion::Exists(p, false) => write!(f, "{p} absent"),
        }
    }
}
