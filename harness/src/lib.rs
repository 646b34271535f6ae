//! wsman-harness: conformance checks, a reference server, replay, fuzzing and benchmarks for
//! WS-Management as Windows Remote Management speaks it.
//!
//! Data flows one way: bytes → [`xml`] → [`envelope`] (the model) → engines → reports → CLI.
//! The codec and model do no I/O.

pub mod auth;
pub mod bench;
pub mod catalogue;
pub mod check;
pub mod cli;
pub mod client;
pub mod config;
pub mod duration;
pub mod envelope;
pub mod files;
pub mod fuzzer;
pub mod fuzzing;
pub mod ids;
pub mod inspect;
pub mod ns;
pub mod proxy;
pub mod report;
pub mod scenario;
pub mod server;
pub mod winrm;
pub mod xml;

pub use envelope::{Envelope, parse, write};
pub use xml::PrefixStyle;
