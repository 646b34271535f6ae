//! Waivers: known failures of one implementation, each with a reason and an expiry date, so that
//! a run can stay green while the failure is tracked, and turns red when it is fixed (an
//! unexpected pass) or forgotten (an expired waiver).
//!
//! ```toml
//! [[waiver]]
//! case = "limits.max-envelope.over-by-one"   # an id or a glob
//! reason = "answers 400 with EncodingLimit; tracked upstream"
//! expires = "2027-03-31"
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One waiver.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Case id or glob.
    pub case: String,
    /// Why.
    pub reason: String,
    /// Last day it applies (YYYY-MM-DD).
    pub expires: String,
    #[serde(skip)]
    pattern: Option<glob::Pattern>,
    #[serde(skip)]
    date: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    waiver: Vec<Waiver>,
}

/// A set of waivers.
#[derive(Clone, Debug, Default)]
pub struct Waivers(pub Vec<Waiver>);

/// How a waiver bears on a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum WaiverState {
    /// In force.
    Active {
        /// Why.
        reason: String,
        /// Until.
        expires: String,
    },
    /// Past its date: fails the run until renewed or removed.
    Expired {
        /// Why.
        reason: String,
        /// Since.
        expires: String,
    },
}

impl Waivers {
    /// Parses a waiver file; errors name the line and column or the waiver.
    pub fn parse(text: &str, known_ids: &[&str]) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message())
        })?;
        let mut out = Vec::new();
        for (i, mut w) in file.waiver.into_iter().enumerate() {
            let which = format!("waiver {} ({:?})", i + 1, w.case);
            let pattern =
                glob::Pattern::new(&w.case).map_err(|e| format!("{which}: bad pattern: {e}"))?;
            if !known_ids.iter().any(|id| pattern.matches(id)) {
                return Err(format!(
                    "{which}: matches no case id (see `wsman-harness list`)"
                ));
            }
            let date = NaiveDate::parse_from_str(w.expires.trim(), "%Y-%m-%d").map_err(|e| {
                format!("{which}: expires {:?}: {e}; expected YYYY-MM-DD", w.expires)
            })?;
            if w.reason.trim().is_empty() {
                return Err(format!("{which}: the reason is empty"));
            }
            w.pattern = Some(pattern);
            w.date = Some(date);
            out.push(w);
        }
        Ok(Self(out))
    }

    /// The waiver for a case on `today`, if any.
    pub fn lookup(&self, id: &str, today: NaiveDate) -> Option<WaiverState> {
        let w = self
            .0
            .iter()
            .find(|w| w.pattern.as_ref().is_some_and(|p| p.matches(id)))?;
        let (reason, expires) = (w.reason.clone(), w.expires.clone());
        Some(if w.date.is_some_and(|d| d < today) {
            WaiverState::Expired { reason, expires }
        } else {
            WaiverState::Active { reason, expires }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &[&str] = &["a.b", "a.c", "x.y"];

    #[test]
    fn waivers_match_by_glob_and_expire() {
        let w = Waivers::parse(
            "[[waiver]]\ncase = \"a.*\"\nreason = \"known\"\nexpires = \"2026-01-31\"\n",
            IDS,
        )
        .unwrap();
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(matches!(
            w.lookup("a.c", day("2026-01-31")),
            Some(WaiverState::Active { .. })
        ));
        assert!(matches!(
            w.lookup("a.c", day("2026-02-01")),
            Some(WaiverState::Expired { .. })
        ));
        assert_eq!(w.lookup("x.y", day("2026-01-01")), None);
    }

    #[test]
    fn bad_files_say_where() {
        let e = Waivers::parse("[[waiver]]\ncase = \"a.b\"\nreason = 1\n", IDS).unwrap_err();
        assert!(e.starts_with("line 3"), "{e}");
        let e = Waivers::parse(
            "[[waiver]]\ncase = \"nope\"\nreason = \"r\"\nexpires = \"2026-01-01\"\n",
            IDS,
        )
        .unwrap_err();
        assert!(e.contains("matches no case id"), "{e}");
        let e = Waivers::parse(
            "[[waiver]]\ncase = \"a.b\"\nreason = \"r\"\nexpires = \"31.1.2026\"\n",
            IDS,
        )
        .unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
    }
}
