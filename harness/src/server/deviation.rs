//! Deviation switches: each makes the reference server break one rule, so that every
//! conformance check can be shown to fail against a server that deviates. Safe by default:
//! nothing deviates unless asked.

use std::fmt;

/// One way to break a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Deviation {
    /// Responses carry a RelatesTo that is not the request's MessageID.
    WrongRelatesTo,
    /// SOAP faults go out with HTTP 400 instead of Windows' 500.
    Fault400,
    /// Requests over MaxEnvelopeSizekb are processed instead of refused with 413.
    IgnoreMaxEnvelope,
    /// MaxElements is not clamped to MaxBatchItems.
    NoClampMaxElements,
    /// Basic authentication is accepted even when disabled or over plain HTTP.
    AcceptBasic,
    /// Unencrypted bodies are accepted while AllowUnencrypted is false.
    AcceptUnencrypted,
    /// Unknown headers marked mustUnderstand are ignored instead of faulted.
    IgnoreMustUnderstand,
    /// Malformed OperationTimeout values are ignored instead of faulted.
    AcceptBadTimeout,
    /// A request containing a DOCTYPE never gets an answer.
    HangOnDoctype,
    /// A request containing a DOCTYPE aborts the server process.
    CrashOnDoctype,
}

/// Every switch with its name and what it breaks.
pub const ALL: &[(Deviation, &str, &str)] = &[
    (
        Deviation::WrongRelatesTo,
        "wrong-relates-to",
        "RelatesTo differs from the request's MessageID (WS-Addressing reply rule)",
    ),
    (
        Deviation::Fault400,
        "fault-400",
        "SOAP faults are sent with HTTP 400 instead of 500 (Windows sends 500 for every fault)",
    ),
    (
        Deviation::IgnoreMaxEnvelope,
        "ignore-max-envelope",
        "requests over MaxEnvelopeSizekb are processed instead of refused with HTTP 413",
    ),
    (
        Deviation::NoClampMaxElements,
        "no-clamp-max-elements",
        "MaxElements above MaxBatchItems is honoured instead of clamped",
    ),
    (
        Deviation::AcceptBasic,
        "accept-basic",
        "Basic authentication is accepted although Service/Auth/Basic is false",
    ),
    (
        Deviation::AcceptUnencrypted,
        "accept-unencrypted",
        "unencrypted bodies over HTTP are accepted although AllowUnencrypted is false",
    ),
    (
        Deviation::IgnoreMustUnderstand,
        "ignore-must-understand",
        "unknown mustUnderstand headers are ignored instead of faulted",
    ),
    (
        Deviation::AcceptBadTimeout,
        "accept-bad-timeout",
        "malformed or negative OperationTimeout values are accepted",
    ),
    (
        Deviation::HangOnDoctype,
        "hang-on-doctype",
        "a request with a DOCTYPE is never answered",
    ),
    (
        Deviation::CrashOnDoctype,
        "crash-on-doctype",
        "a request with a DOCTYPE aborts the server process",
    ),
];

impl Deviation {
    /// The switch's name.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(d, ..)| *d == self)
            .map_or("?", |(_, n, _)| n)
    }

    /// Parses a name; the error lists the valid ones.
    pub fn parse(name: &str) -> Result<Self, String> {
        ALL.iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(d, ..)| *d)
            .ok_or_else(|| {
                let names: Vec<&str> = ALL.iter().map(|(_, n, _)| *n).collect();
                format!("unknown deviation {name:?}; one of: {}", names.join(", "))
            })
    }

    /// The `--deviate help` text.
    pub fn help() -> String {
        let mut s = String::from(
            "Deviation switches (each breaks one rule; --deviate NAME, repeatable):\n",
        );
        for (_, n, d) in ALL {
            s.push_str(&format!("  {n:<24} {d}\n"));
        }
        s
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_valid_ones() {
        for (d, n, _) in ALL {
            assert_eq!(Deviation::parse(n).unwrap(), *d);
            assert_eq!(d.name(), *n);
        }
        assert!(
            Deviation::parse("nope")
                .unwrap_err()
                .contains("wrong-relates-to")
        );
        assert_eq!(Deviation::help().lines().count(), ALL.len() + 1);
    }
}
