//! The JSON report. Schema (stable; new fields may be added, none removed or renamed):
//!
//! ```text
//! { "schema": "wsman-harness/check-report/1", "target", "profile", "product", "strict",
//!   "started", "millis", "passed": bool,
//!   "counts": { "OK": n, "NON-STRICT": n, ... },
//!   "results": [ { "case": { "id", "title", "source", "level", "alternatives", "tier",
//!                            "exclusive" },
//!                  "outcome": { "verdict", "summary", "expected", "actual" },
//!                  "waiver": null | { "state": "active"|"expired", "reason", "expires" },
//!                  "failing", "failing_reason", "cleanup_problems": [..], "millis",
//!                  "exchanges": [ { "request": {"start_line","headers","body","wire_bytes","note"},
//!                                   "response": {..} | null, "error", "millis" } ] } ] }
//! ```

use crate::check::RunReport;

/// Schema identifier written into every report.
pub const SCHEMA: &str = "wsman-harness/check-report/1";

/// Renders the report.
pub fn render(report: &RunReport) -> String {
    let counts: serde_json::Map<String, serde_json::Value> = report
        .counts()
        .into_iter()
        .map(|(v, n)| (v.as_str().to_owned(), n.into()))
        .collect();
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(o) = value.as_object_mut() {
        o.insert("schema".into(), SCHEMA.into());
        o.insert("passed".into(), report.passed().into());
        o.insert("counts".into(), counts.into());
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
