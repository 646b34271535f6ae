//! The terminal report: one line per case, an Expected/Actual block per failure (like h2spec),
//! and a summary line.

use std::fmt::Write as _;

use crate::check::{CaseResult, RunReport, Verdict};

/// Colours on or off.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// ANSI colours (only on a terminal).
    pub color: bool,
}

fn paint(style: Style, code: &str, s: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

fn verdict_colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "32",
        Verdict::NonStrict | Verdict::Informational => "33",
        Verdict::WrongFault | Verdict::Failed => "31",
        Verdict::Unimplemented | Verdict::Skipped => "90",
    }
}

/// One result line (and its block when it fails).
pub fn case_line(r: &CaseResult, style: Style) -> String {
    let mut s = format!(
        "{:<13} {:<6} {}  {}",
        paint(
            style,
            verdict_colour(r.outcome.verdict),
            r.outcome.verdict.as_str()
        ),
        r.case.level.as_str(),
        r.case.id,
        r.outcome.summary
    );
    if r.waiver.is_some() && !r.failing {
        s.push_str("  [waived]");
    }
    if let Some(why) = &r.failing_reason {
        let _ = write!(s, "\n    {}", paint(style, "31", why));
    }
    if r.failing || matches!(r.outcome.verdict, Verdict::Failed | Verdict::WrongFault) {
        if let Some(e) = &r.outcome.expected {
            let _ = write!(s, "\n    Expected: {}", indent(e));
        }
        if let Some(a) = &r.outcome.actual {
            let _ = write!(s, "\n      Actual: {}", indent(a));
        }
        let _ = write!(s, "\n      Source: {}", r.case.source);
    }
    for p in &r.cleanup_problems {
        let _ = write!(s, "\n    cleanup: {p}");
    }
    s
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n              ")
}

/// The whole report.
pub fn render(report: &RunReport, style: Style) -> String {
    let mut s = format!(
        "wsman-harness check: {} (profile {}{})\n{}\n\n",
        report.target,
        report.profile.as_str(),
        if report.strict { ", strict" } else { "" },
        report
            .product
            .as_deref()
            .unwrap_or("(no Identify product line)")
    );
    for r in &report.results {
        s.push_str(&case_line(r, style));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(&summary(report, style));
    s.push('\n');
    s
}

/// `41 cases: 38 OK, 1 NON-STRICT, … — PASSED in 3.2 s`.
pub fn summary(report: &RunReport, style: Style) -> String {
    let counts: Vec<String> = report
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{n} {}", v.as_str()))
        .collect();
    let failing = report.failing().count();
    let verdict = if failing == 0 {
        paint(style, "32", "PASSED")
    } else {
        paint(style, "31", &format!("FAILED ({failing} failing)"))
    };
    format!(
        "{} cases: {} — {verdict} in {:.1} s",
        report.results.len(),
        counts.join(", "),
        report.millis as f64 / 1000.0
    )
}
