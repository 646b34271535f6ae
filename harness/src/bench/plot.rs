//! The latency-by-percentile curve as SVG, one line per run: x on a log scale of 1/(1−p) so
//! that the tail (99 %, 99.9 %, 99.99 %) gets as much room as the median, y in milliseconds.

use std::fmt::Write as _;

use super::results::Results;

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];
/// The x axis ends at 99.999 %.
const MAX_DECADES: f64 = 5.0;

fn x_of(percentile: f64) -> f64 {
    let p = (percentile / 100.0).clamp(0.0, 0.99999);
    let decades = (-(1.0 - p).log10()).min(MAX_DECADES);
    LEFT + decades / MAX_DECADES * (W - LEFT - RIGHT)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG document.
pub fn svg(runs: &[Results]) -> String {
    let max_us = runs
        .iter()
        .flat_map(|r| r.percentiles.iter().map(|(_, v)| *v))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let y_of = |us: u64| TOP + (1.0 - us as f64 / max_us) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">Latency by percentile</text>"#,
        W / 2.0
    );
    // Axes and grid.
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = writeln!(
        s,
        r#"<path d="M{x0},{y1} L{x0},{y0} L{x1},{y0}" stroke="black" fill="none"/>"#
    );
    for (label, p) in [
        ("0%", 0.0),
        ("90%", 90.0),
        ("99%", 99.0),
        ("99.9%", 99.9),
        ("99.99%", 99.99),
        ("99.999%", 99.999),
    ] {
        let x = x_of(p);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{y0}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"##,
            y0 + 18.0
        );
    }
    for i in 0..=4 {
        let us = (max_us * i as f64 / 4.0) as u64;
        let y = y_of(us);
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{:.2} ms</text>"##,
            x0 - 6.0,
            y + 4.0,
            us as f64 / 1000.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">percentile</text>"#,
        (x0 + x1) / 2.0,
        H - 12.0
    );
    for (i, r) in runs.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = r
            .percentiles
            .iter()
            .filter(|(p, _)| *p <= 99.999)
            .map(|(p, v)| format!("{:.1},{:.1}", x_of(*p), y_of(*v)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let ly = TOP + 10.0 + 16.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="3" fill="{colour}"/><text x="{}" y="{}">{} ({:.0} req/s)</text>"#,
            x0 + 12.0,
            ly - 4.0,
            x0 + 30.0,
            ly,
            escape(&r.label),
            r.throughput_rps
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_gets_room_and_the_document_reads_as_xml() {
        assert!((x_of(0.0) - LEFT).abs() < 1e-9);
        assert!(
            x_of(99.0) - x_of(90.0) > 100.0,
            "each decade of the tail is as wide"
        );
        let r = Results {
            version: 1,
            label: "a <b>".into(),
            target: String::new(),
            workload: "get".into(),
            auth: "none".into(),
            connections: 1,
            mode: "closed".into(),
            rate: None,
            duration_s: 1.0,
            warmup_s: 0.0,
            requests: 3,
            ok: 3,
            iterations: 3,
            throughput_rps: 3.0,
            iterations_per_s: 3.0,
            latency_us: Default::default(),
            percentiles: vec![(0.0, 100), (50.0, 200), (99.0, 900)],
            errors: Default::default(),
            bytes_out: 0,
            bytes_in: 0,
            leaked: Default::default(),
            generator_cpu_s: None,
            generator_cpu_percent: None,
        };
        let doc = svg(&[r]);
        let e = crate::xml::parse_document(doc.as_bytes(), crate::xml::Limits::default()).unwrap();
        assert_eq!(e.name.local, "svg");
        assert!(doc.contains("a &lt;b&gt;"));
        assert_eq!(doc.matches("<polyline").count(), 1);
    }
}
