//! The remote, stateful fuzzer (`wsman-harness fuzz`): it breaks other people's servers and
//! leaves a reproducer for every way it found.
//!
//! Data flows one way: seed scenarios → [`Generator`] (cases: state, tree and wire
//! mutations) → [`Exec`] (raw HTTP, own NTLM handshakes and sealing) → [`oracle`] (buckets,
//! liveness probe) → confirmation and [`minimise`] → reproducer files and a [`Summary`].
//! The in-process invariants for cargo-fuzz are elsewhere (`crate::fuzzing`).

pub mod engine;
pub mod exec;
pub mod generate;
pub mod minimise;
pub mod mutation;
pub mod oracle;
pub mod reproducer;
pub mod restart;
pub mod wire;

pub use engine::{Event, Finding, Settings, Summary, run};
pub use exec::{Exec, FuzzTarget};
pub use generate::{Case, Generator, Plan};
pub use mutation::{Layer, Mutation, NtlmField, Tamper};
pub use oracle::{Bucket, Liveness, Suspicion, probe};
pub use reproducer::{reproduce, reproduce_from_env};
pub use restart::Restarter;

use crate::scenario::Scenario;

/// The scenarios the fuzzer starts from when none are given: conversations recorded from real
/// clients (pywinrm, pypsrp) and from the conformance client against the reference server
/// (corpus/scenarios/reference, MIT, see its LICENSE-NOTE). They exercise Identify, shells with
/// stdin and signals, and enumerations to the end and released.
pub fn builtin_seeds() -> Vec<Scenario> {
    BUILTIN
        .iter()
        .filter_map(|(name, text)| crate::scenario::file::parse(text, name, None).ok())
        .collect()
}

macro_rules! seeds {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../corpus/scenarios/reference/", $name, ".scenario.toml")))),*]
    };
}

const BUILTIN: &[(&str, &str)] = seeds!(
    "enumeration-release",
    "enumeration-to-the-end",
    "identify-unauthenticated",
    "pypsrp-winrs-spnego-sealed",
    "pywinrm-ntlm-sealed-1",
    "pywinrm-ntlm-sealed-2",
    "pywinrm-ntlm-sealed-3",
    "pywinrm-ntlm-sealed-4",
    "shell-invalid-id",
    "shell-signal",
    "shell-stdin",
);

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_seed_reads() {
        assert_eq!(super::builtin_seeds().len(), super::BUILTIN.len());
    }
}
