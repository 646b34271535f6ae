//! `xs:duration` as WS-Management uses it (OperationTimeout, MaxTime, IdleTimeOut).
//!
//! Grammar (XML Schema 1.0 part 2, §3.2.6): `-?P(nY)?(nM)?(nD)?(T(nH)?(nM)?(n(.n)?S)?)?` with at
//! least one component and at least one after `T`. WinRM rejects negative durations
//! (`wsa:InvalidMessageInformationHeader`, seen on the wire) and, per MS-WSMAN, year and month
//! parts, whose length in seconds is not fixed.

use std::fmt;
use std::time::Duration;

/// A parsed duration, kept in its components so that the original form can be reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XsDuration {
    /// A leading `-`.
    pub negative: bool,
    /// `nY`.
    pub years: u64,
    /// `nM` before `T`.
    pub months: u64,
    /// `nD`.
    pub days: u64,
    /// `nH`.
    pub hours: u64,
    /// `nM` after `T`.
    pub minutes: u64,
    /// Whole seconds.
    pub seconds: u64,
    /// Fraction of a second, in nanoseconds (digits beyond nine are truncated).
    pub nanos: u32,
}

/// Why a duration was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError {
    /// Character offset in the input.
    pub offset: usize,
    /// The reason.
    pub reason: String,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid xs:duration at character {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for DurationError {}

fn err(offset: usize, reason: impl Into<String>) -> DurationError {
    DurationError {
        offset,
        reason: reason.into(),
    }
}

impl XsDuration {
    /// Parses the lexical form (surrounding whitespace allowed, as xs:duration collapses it).
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let lead = text.len() - text.trim_start().len();
        let s = text.trim();
        let b = s.as_bytes();
        let mut d = XsDuration::default();
        let mut i = 0;
        if b.first() == Some(&b'-') {
            d.negative = true;
            i = 1;
        }
        if b.get(i) != Some(&b'P') {
            return Err(err(lead + i, "expected 'P'"));
        }
        i += 1;
        let mut in_time = false;
        let mut any = false;
        let mut time_any = false;
        let mut last = 0u8; // order rank of the last designator
        while i < b.len() {
            if b[i] == b'T' {
                if in_time {
                    return Err(err(lead + i, "second 'T'"));
                }
                in_time = true;
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut frac: Option<(usize, usize)> = None;
            if i < b.len() && b[i] == b'.' {
                let f0 = i + 1;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == f0 {
                    return Err(err(lead + i, "expected digits after '.'"));
                }
                frac = Some((f0, i));
            }
            if i == start {
                return Err(err(
                    lead + i,
                    format!(
                        "expected a number, found {:?}",
                        s[i..].chars().next().unwrap_or(' ')
                    ),
                ));
            }
            let Some(&designator) = b.get(i) else {
                return Err(err(
                    lead + i,
                    "number without a designator (Y, M, D, H, M or S)",
                ));
            };
            let int_end = frac.map_or(i, |(f0, _)| f0 - 1);
            let n: u64 = s[start..int_end]
                .parse()
                .map_err(|_| err(lead + start, "number too large"))?;
            let rank = match (in_time, designator) {
                (false, b'Y') => 1,
                (false, b'M') => 2,
                (false, b'D') => 3,
                (true, b'H') => 4,
                (true, b'M') => 5,
                (true, b'S') => 6,
                (_, c) => {
                    return Err(err(
                        lead + i,
                        format!(
                            "unexpected designator '{}' {}",
                            c as char,
                            if in_time { "after T" } else { "before T" }
                        ),
                    ));
                }
            };
            if rank <= last {
                return Err(err(lead + i, "designators out of order or repeated"));
            }
            if frac.is_some() && rank != 6 {
                return Err(err(lead + start, "only seconds may have a fraction"));
            }
            last = rank;
            match rank {
                1 => d.years = n,
                2 => d.months = n,
                3 => d.days = n,
                4 => d.hours = n,
                5 => d.minutes = n,
                _ => {
                    d.seconds = n;
                    if let Some((f0, f1)) = frac {
                        let digits = &s[f0..f1.min(f0 + 9)];
                        let scale = 10u32.pow(9 - digits.len() as u32);
                        d.nanos = digits.parse::<u32>().unwrap_or(0) * scale;
                    }
                }
            }
            any = true;
            time_any |= in_time;
            i += 1;
        }
        if in_time && !time_any {
            return Err(err(
                lead + i,
                "'T' must be followed by hours, minutes or seconds",
            ));
        }
        if !any {
            return Err(err(lead + i, "no component (e.g. PT60S)"));
        }
        Ok(d)
    }

    /// The length as a [`Duration`], for WinRM: refuses negative values and years/months.
    pub fn to_std(&self) -> Result<Duration, DurationError> {
        if self.negative {
            return Err(err(0, "negative durations are not allowed"));
        }
        if self.years != 0 || self.months != 0 {
            return Err(err(
                0,
                "years and months have no fixed length and are not supported",
            ));
        }
        let secs = self
            .days
            .checked_mul(86_400)
            .and_then(|s| s.checked_add(self.hours.checked_mul(3600)?))
            .and_then(|s| s.checked_add(self.minutes.checked_mul(60)?))
            .and_then(|s| s.checked_add(self.seconds))
            .ok_or_else(|| err(0, "duration too long"))?;
        Ok(Duration::new(secs, self.nanos))
    }
}

/// Parses an OperationTimeout-style value straight to a [`Duration`].
pub fn parse_timeout(text: &str) -> Result<Duration, DurationError> {
    XsDuration::parse(text)?.to_std()
}

/// Formats a duration the way Windows writes timeouts: `PT60.000S`.
pub fn format(d: Duration) -> String {
    format!("PT{}.{:03}S", d.as_secs(), d.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_forms_parse() {
        assert_eq!(parse_timeout("PT60.000S").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_timeout("PT20S").unwrap(), Duration::from_secs(20));
        assert_eq!(parse_timeout("P0DT0H0M0S").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_timeout("PT2147483.647S").unwrap(),
            Duration::from_millis(2_147_483_647)
        );
        assert_eq!(
            parse_timeout("P1DT1H1M1.5S").unwrap(),
            Duration::from_millis(90_061_500)
        );
        assert_eq!(parse_timeout(" PT1S ").unwrap(), Duration::from_secs(1));
    }

    #[test]
    fn malformed_values_are_rejected_with_a_reason() {
        for (text, reason) in [
            ("", "expected 'P'"),
            ("P", "no component"),
            ("PT", "'T' must be followed"),
            ("PT-1S", "expected a number"),
            ("60", "expected 'P'"),
            ("PT1.S", "digits after '.'"),
            ("PT1", "without a designator"),
            ("P1S", "before T"),
            ("PT1D", "after T"),
            ("PT1S1M", "out of order"),
            ("P1.5D", "only seconds"),
            ("PT99999999999999999999S", "too large"),
            ("PTT1S", "second 'T'"),
        ] {
            let e = XsDuration::parse(text).unwrap_err();
            assert!(e.reason.contains(reason), "{text:?}: {e}");
        }
    }

    #[test]
    fn negative_and_calendar_durations_parse_but_are_not_timeouts() {
        assert!(XsDuration::parse("-PT1S").unwrap().negative);
        assert!(
            parse_timeout("-PT1S")
                .unwrap_err()
                .reason
                .contains("negative")
        );
        assert!(parse_timeout("P1M").unwrap_err().reason.contains("months"));
        assert!(parse_timeout("P1Y").unwrap_err().reason.contains("years"));
    }

    #[test]
    fn format_matches_windows() {
        assert_eq!(format(Duration::from_secs(60)), "PT60.000S");
        assert_eq!(format(Duration::from_millis(7_200_500)), "PT7200.500S");
    }

    proptest::proptest! {
        #[test]
        fn format_then_parse_is_identity(ms in 0u64..10_000_000_000) {
            let d = Duration::from_millis(ms);
            proptest::prop_assert_eq!(parse_timeout(&format(d)).unwrap(), d);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = XsDuration::parse(&s);
        }
    }
}
