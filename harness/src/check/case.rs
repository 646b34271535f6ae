//! What a conformance case is and what it can conclude.

use serde::Serialize;

use super::ctx::Ctx;

/// How binding the rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Level {
    /// A failure fails the run.
    #[serde(rename = "MUST")]
    Must,
    /// A failure fails the run only with `--strict`.
    #[serde(rename = "SHOULD")]
    Should,
    /// An observation; never fails the run.
    #[serde(rename = "INFO")]
    Info,
}

impl Level {
    /// `MUST`, `SHOULD`, `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Info => "INFO",
        }
    }
}

/// The graded result of one case (Autobahn-style: more than pass/fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The rule holds.
    #[serde(rename = "OK")]
    Ok,
    /// The rule holds through an accepted alternative (e.g. a different but documented status).
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    /// A fault came, but not the one the rule names.
    #[serde(rename = "WRONG-FAULT")]
    WrongFault,
    /// The rule is broken.
    #[serde(rename = "FAILED")]
    Failed,
    /// An observation for the report.
    #[serde(rename = "INFORMATIONAL")]
    Informational,
    /// The target does not implement the feature the case exercises.
    #[serde(rename = "UNIMPLEMENTED")]
    Unimplemented,
    /// Not run (the reason says why).
    #[serde(rename = "SKIPPED")]
    Skipped,
}

impl Verdict {
    /// The name reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::WrongFault => "WRONG-FAULT",
            Verdict::Failed => "FAILED",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::Skipped => "SKIPPED",
        }
    }

    /// Every verdict, in report order.
    pub const ALL: [Verdict; 7] = [
        Verdict::Ok,
        Verdict::NonStrict,
        Verdict::WrongFault,
        Verdict::Failed,
        Verdict::Informational,
        Verdict::Unimplemented,
        Verdict::Skipped,
    ];
}

/// When a case runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Every run.
    Normal,
    /// Only with `--slow` (waits for server-side timers).
    Slow,
}

/// A case's identity and rule, independent of any run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CaseInfo {
    /// Stable id (`family.rule.variant`); never reused for another rule.
    pub id: &'static str,
    /// One line.
    pub title: &'static str,
    /// Where the rule comes from: DSP0226 / MS-WSMV section, or the seed document's setting.
    pub source: &'static str,
    /// How binding it is.
    pub level: Level,
    /// Outcomes accepted besides the expected one (shown in reports).
    pub alternatives: &'static str,
    /// Normal or slow.
    pub tier: Tier,
    /// Changes the target's configuration (restored afterwards): never runs beside other cases.
    pub exclusive: bool,
}

/// What a case concluded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// One-line explanation.
    pub summary: String,
    /// What the rule wanted, when it was not met (Expected/Actual block).
    pub expected: Option<String>,
    /// What the target did.
    pub actual: Option<String>,
}

impl Outcome {
    fn new(verdict: Verdict, summary: impl Into<String>) -> Self {
        Self {
            verdict,
            summary: summary.into(),
            expected: None,
            actual: None,
        }
    }

    /// The rule holds.
    pub fn ok(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Ok, summary)
    }

    /// Holds through an accepted alternative.
    pub fn non_strict(summary: impl Into<String>) -> Self {
        Self::new(Verdict::NonStrict, summary)
    }

    /// An observation.
    pub fn info(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Informational, summary)
    }

    /// Not run.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::new(Verdict::Skipped, reason)
    }

    /// Feature absent.
    pub fn unimplemented(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Unimplemented, summary)
    }

    /// Broken, with the Expected/Actual block.
    pub fn failed(
        summary: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self {
            expected: Some(expected.into()),
            actual: Some(actual.into()),
            ..Self::new(Verdict::Failed, summary)
        }
    }

    /// A different fault than the rule names.
    pub fn wrong_fault(
        summary: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self {
            verdict: Verdict::WrongFault,
            ..Self::failed(summary, expected, actual)
        }
    }

    /// Keeps the verdict, adds an Expected/Actual block.
    pub fn with_detail(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}

/// A case body: `Err` carries an early verdict (usually a failed precondition).
pub type CaseFn = fn(&mut Ctx<'_>) -> Result<Outcome, Outcome>;

/// A registered case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Identity and rule.
    pub info: CaseInfo,
    /// The check.
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.info.id)
    }
}
