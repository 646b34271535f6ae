//! `wsman-harness winrm`: the Windows `winrm` tool's verbs against any WS-Management service,
//! for people on Linux and macOS and for inspecting a target.
//!
//! Data flows one way: the command line ([`args`], with [`hash`] and [`resource`]) becomes an
//! invocation; [`validate`] checks values against the configuration model before anything is
//! sent; [`ops`] turns the verb into exchanges; [`render`] prints the answer as the Windows tool
//! lays it out, as XML or as JSON. [`help`] holds the help topics.

pub mod args;
pub mod hash;
pub mod help;
pub mod ops;
pub mod render;
pub mod resource;
pub mod validate;
