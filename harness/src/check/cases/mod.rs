//! The case catalogue, one module per family. Ids are stable: a new rule gets a new id, a
//! removed rule's id is never reused.

mod addressing;
mod auth;
mod enumeration;
mod http;
mod identify;
pub(super) mod limits;
mod quota;
pub(super) mod shell;
pub(super) mod transfer;

use super::case::{Case, CaseFn, CaseInfo, Level, Tier};

/// Every case, in report order.
pub fn all() -> Vec<Case> {
    [
        identify::CASES,
        limits::CASES,
        addressing::CASES,
        enumeration::CASES,
        transfer::CASES,
        shell::CASES,
        quota::CASES,
        auth::CASES,
        http::CASES,
    ]
    .concat()
}

/// A case with the usual defaults (MUST, normal tier, runs beside others).
const fn case(id: &'static str, title: &'static str, source: &'static str, run: CaseFn) -> Case {
    Case {
        info: CaseInfo {
            id,
            title,
            source,
            level: Level::Must,
            alternatives: "",
            tier: Tier::Normal,
            exclusive: false,
        },
        run,
    }
}

impl Case {
    /// Lowers the level to SHOULD.
    const fn should(mut self) -> Self {
        self.info.level = Level::Should;
        self
    }

    /// Only with `--slow`.
    const fn slow(mut self) -> Self {
        self.info.tier = Tier::Slow;
        self
    }

    /// Changes the target's configuration: runs alone.
    const fn exclusive(mut self) -> Self {
        self.info.exclusive = true;
        self
    }

    /// Outcomes accepted besides the expected one.
    const fn alt(mut self, alternatives: &'static str) -> Self {
        self.info.alternatives = alternatives;
        self
    }
}
