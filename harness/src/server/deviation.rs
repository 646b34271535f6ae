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
    /// IdentifyResponse without ProtocolVersion and ProductVendor.
    BadIdentify,
    /// the WSMANIDENTIFY: unauthenticated header is ignored (401 without credentials).
    IdentifyRequiresAuth,
    /// requests are refused with 413 from 1 KB below MaxEnvelopeSizekb.
    MaxEnvelopeShort,
    /// enumeration batches are not cut to the client's MaxEnvelopeSize.
    IgnoreClientMaxEnvelope,
    /// MaxEnvelopeSize below 8192 is accepted instead of faulted.
    AcceptSmallEnvelope,
    /// OperationTimeout above MaxTimeoutms is faulted instead of clamped.
    FaultLargeTimeout,
    /// missing MessageID or ReplyTo and non-anonymous ReplyTo are accepted.
    LaxAddressing,
    /// unknown resources, actions, selectors, shells and contexts get w:InternalError.
    GenericFaults,
    /// OptimizeEnumeration is ignored (no items in the EnumerateResponse).
    IgnoreOptimize,
    /// Pull returns one item more than its MaxElements.
    PullOverfills,
    /// the end of an enumeration is never signalled (empty batches keep coming).
    NoEndOfSequence,
    /// Release answers but leaves the context usable.
    ReleaseNoop,
    /// enumeration contexts never expire (EnumerationTimeoutms ignored).
    NeverExpireEnumerations,
    /// starts with MaxTimeoutms=30000 instead of the profile's default.
    ConfigDrift,
    /// a Put on winrm/config answers but changes nothing.
    PutIgnored,
    /// enumerating winrm/config/listener returns no listener.
    HideListeners,
    /// command output (stdout) never reaches the client.
    ShellOutputLost,
    /// every command reports ExitCode 0.
    ShellExitCodeLost,
    /// Signal is refused with a:ActionNotSupported.
    SignalUnsupported,
    /// Receive with no output answers at once with an empty ReceiveResponse instead of w:TimedOut.
    ReceiveIgnoresTimeout,
    /// MaxShellsPerUser and MaxConcurrentOperationsPerUser are not enforced.
    NoQuotas,
    /// requests without Authorization are served.
    AllowAnonymous,
    /// NTLM accepts any password for a known user.
    AcceptAnyPassword,
    /// GET on the WS-Man URL is answered with 200 instead of 405.
    AllowGet,
    /// responses are labelled text/xml instead of application/soap+xml.
    WrongContentType,
    /// every response closes the connection.
    CloseConnections,
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
    (
        Deviation::BadIdentify,
        "bad-identify",
        "IdentifyResponse without ProtocolVersion and ProductVendor",
    ),
    (
        Deviation::IdentifyRequiresAuth,
        "identify-requires-auth",
        "the WSMANIDENTIFY: unauthenticated header is ignored (401 without credentials)",
    ),
    (
        Deviation::MaxEnvelopeShort,
        "max-envelope-short",
        "requests are refused with 413 from 1 KB below MaxEnvelopeSizekb",
    ),
    (
        Deviation::IgnoreClientMaxEnvelope,
        "ignore-client-max-envelope",
        "enumeration batches are not cut to the client's MaxEnvelopeSize",
    ),
    (
        Deviation::AcceptSmallEnvelope,
        "accept-small-envelope",
        "MaxEnvelopeSize below 8192 is accepted instead of faulted",
    ),
    (
        Deviation::FaultLargeTimeout,
        "fault-large-timeout",
        "OperationTimeout above MaxTimeoutms is faulted instead of clamped",
    ),
    (
        Deviation::LaxAddressing,
        "lax-addressing",
        "missing MessageID or ReplyTo and non-anonymous ReplyTo are accepted",
    ),
    (
        Deviation::GenericFaults,
        "generic-faults",
        "unknown resources, actions, selectors, shells and contexts get w:InternalError",
    ),
    (
        Deviation::IgnoreOptimize,
        "ignore-optimize",
        "OptimizeEnumeration is ignored (no items in the EnumerateResponse)",
    ),
    (
        Deviation::PullOverfills,
        "pull-overfills",
        "Pull returns one item more than its MaxElements",
    ),
    (
        Deviation::NoEndOfSequence,
        "no-end-of-sequence",
        "the end of an enumeration is never signalled (empty batches keep coming)",
    ),
    (
        Deviation::ReleaseNoop,
        "release-noop",
        "Release answers but leaves the context usable",
    ),
    (
        Deviation::NeverExpireEnumerations,
        "never-expire-enumerations",
        "enumeration contexts never expire (EnumerationTimeoutms ignored)",
    ),
    (
        Deviation::ConfigDrift,
        "config-drift",
        "starts with MaxTimeoutms=30000 instead of the profile's default",
    ),
    (
        Deviation::PutIgnored,
        "put-ignored",
        "a Put on winrm/config answers but changes nothing",
    ),
    (
        Deviation::HideListeners,
        "hide-listeners",
        "enumerating winrm/config/listener returns no listener",
    ),
    (
        Deviation::ShellOutputLost,
        "shell-output-lost",
        "command output (stdout) never reaches the client",
    ),
    (
        Deviation::ShellExitCodeLost,
        "shell-exit-code-lost",
        "every command reports ExitCode 0",
    ),
    (
        Deviation::SignalUnsupported,
        "signal-unsupported",
        "Signal is refused with a:ActionNotSupported",
    ),
    (
        Deviation::ReceiveIgnoresTimeout,
        "receive-ignores-timeout",
        "Receive with no output answers at once with an empty ReceiveResponse instead of w:TimedOut",
    ),
    (
        Deviation::NoQuotas,
        "no-quotas",
        "MaxShellsPerUser and MaxConcurrentOperationsPerUser are not enforced",
    ),
    (
        Deviation::AllowAnonymous,
        "allow-anonymous",
        "requests without Authorization are served",
    ),
    (
        Deviation::AcceptAnyPassword,
        "accept-any-password",
        "NTLM accepts any password for a known user",
    ),
    (
        Deviation::AllowGet,
        "allow-get",
        "GET on the WS-Man URL is answered with 200 instead of 405",
    ),
    (
        Deviation::WrongContentType,
        "wrong-content-type",
        "responses are labelled text/xml instead of application/soap+xml",
    ),
    (
        Deviation::CloseConnections,
        "close-connections",
        "every response closes the connection",
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
