//! One self-contained HTML page (no scripts, no external resources): a summary, a table of
//! cases, and per case the Expected/Actual block and the full wire log with secrets already
//! redacted by the client. `matrix` renders several runs side by side (targets × cases).

use std::fmt::Write as _;

use crate::check::{RunReport, Verdict};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\
.OK{background:#d9f2d9}.NON-STRICT,.INFORMATIONAL{background:#fff3c4}.FAILED,.WRONG-FAULT{background:#f8d0d0}\
.SKIPPED,.UNIMPLEMENTED{background:#eee}pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em}\
summary{cursor:pointer}.failing{font-weight:bold;color:#a00}";

/// Escapes text for HTML content and attributes (quick-xml's escaping covers both).
pub fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
}

/// The report of one run.
pub fn render(report: &RunReport) -> String {
    let mut b = String::new();
    let failing = report.failing().count();
    let _ = write!(
        b,
        "<h1>wsman-harness check</h1>\n<p id=\"summary\">Target <code>{}</code>, profile <b>{}</b>{}; {}<br>{} cases in {:.1} s: <b class=\"{}\">{}</b></p>\n<p>",
        esc(&report.target),
        report.profile.as_str(),
        if report.strict { " (strict)" } else { "" },
        esc(report
            .product
            .as_deref()
            .unwrap_or("no Identify product line")),
        report.results.len(),
        report.millis as f64 / 1000.0,
        if failing == 0 { "OK" } else { "FAILED" },
        if failing == 0 {
            "PASSED".to_owned()
        } else {
            format!("FAILED ({failing} failing)")
        }
    );
    for (v, n) in report.counts() {
        if n > 0 {
            let _ = write!(
                b,
                "<span class=\"{}\">{} {}</span> ",
                v.as_str(),
                n,
                v.as_str()
            );
        }
    }
    b.push_str("</p>\n<table id=\"cases\"><tr><th>verdict</th><th>level</th><th>case</th><th>summary</th></tr>\n");
    for r in &report.results {
        let _ = writeln!(
            b,
            "<tr><td class=\"{v}\">{v}</td><td>{}</td><td><a href=\"#{id}\">{id}</a></td><td>{}{}</td></tr>",
            r.case.level.as_str(),
            esc(&r.outcome.summary),
            if r.failing {
                " <span class=\"failing\">(fails the run)</span>"
            } else {
                ""
            },
            v = r.outcome.verdict.as_str(),
            id = esc(r.case.id),
        );
    }
    b.push_str("</table>\n<h2>Cases</h2>\n");
    for r in &report.results {
        let _ = write!(
            b,
            "<section id=\"{id}\"><h3 class=\"{v}\">{v} — {id}</h3>\n<p>{}<br>Source: {}<br>Level: {}",
            esc(r.case.title),
            esc(r.case.source),
            r.case.level.as_str(),
            v = r.outcome.verdict.as_str(),
            id = esc(r.case.id),
        );
        if !r.case.alternatives.is_empty() {
            let _ = write!(b, "<br>Accepted alternatives: {}", esc(r.case.alternatives));
        }
        let _ = write!(b, "</p>\n<p>{}</p>\n", esc(&r.outcome.summary));
        if let Some(why) = &r.failing_reason {
            let _ = writeln!(b, "<p class=\"failing\">{}</p>", esc(why));
        }
        if let Some(w) = &r.waiver {
            let _ = writeln!(b, "<p>Waiver: {}</p>", esc(&format!("{w:?}")));
        }
        if let (Some(e), Some(a)) = (&r.outcome.expected, &r.outcome.actual) {
            let _ = writeln!(
                b,
                "<table class=\"expected-actual\"><tr><th>Expected</th><td><pre>{}</pre></td></tr><tr><th>Actual</th><td><pre>{}</pre></td></tr></table>",
                esc(e),
                esc(a)
            );
        }
        if !r.exchanges.is_empty() {
            let _ = writeln!(
                b,
                "<details><summary>wire log: {} exchange(s)</summary>",
                r.exchanges.len()
            );
            for (i, x) in r.exchanges.iter().enumerate() {
                let _ = writeln!(
                    b,
                    "<h4>#{} ({} ms)</h4><pre>{}</pre>",
                    i + 1,
                    x.millis,
                    esc(&x.request.to_text())
                );
                match (&x.response, &x.error) {
                    (Some(resp), _) => {
                        let _ = writeln!(b, "<pre>{}</pre>", esc(&resp.to_text()));
                    }
                    (None, Some(e)) => {
                        let _ = writeln!(b, "<p class=\"failing\">{}</p>", esc(e));
                    }
                    _ => {}
                }
            }
            b.push_str("</details>\n");
        }
        b.push_str("</section>\n");
    }
    page(&format!("wsman-harness check: {}", report.target), &b)
}

/// Several runs (from their JSON reports) as a matrix of targets × cases.
pub fn matrix(runs: &[serde_json::Value]) -> String {
    let label = |r: &serde_json::Value| {
        format!(
            "{} ({})",
            r["target"].as_str().unwrap_or("?"),
            r["profile"].as_str().unwrap_or("?")
        )
    };
    let mut ids: Vec<String> = Vec::new();
    for r in runs {
        for c in r["results"].as_array().into_iter().flatten() {
            if let Some(id) = c["case"]["id"].as_str()
                && !ids.iter().any(|x| x == id)
            {
                ids.push(id.to_owned());
            }
        }
    }
    let mut b = String::from(
        "<h1>wsman-harness: targets × cases</h1>\n<table id=\"matrix\"><tr><th>case</th>",
    );
    for r in runs {
        let _ = write!(b, "<th>{}</th>", esc(&label(r)));
    }
    b.push_str("</tr>\n");
    for id in &ids {
        let _ = write!(b, "<tr><td>{}</td>", esc(id));
        for r in runs {
            let found = r["results"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["case"]["id"].as_str() == Some(id));
            match found {
                Some(c) => {
                    let v = c["outcome"]["verdict"].as_str().unwrap_or("?");
                    let known = Verdict::ALL.iter().any(|x| x.as_str() == v);
                    let _ = write!(
                        b,
                        "<td class=\"{}\" title=\"{}\">{}</td>",
                        if known { v } else { "" },
                        esc(c["outcome"]["summary"].as_str().unwrap_or("")),
                        esc(v)
                    );
                }
                None => b.push_str("<td>—</td>"),
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</table>\n");
    page("wsman-harness: targets × cases", &b)
}
