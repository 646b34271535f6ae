//! The report of a load run: a JSON document with a fixed shape (what `bench compare` reads
//! back), the human table, and the side-by-side comparison of several runs with ratios.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Measured;
use super::stats::Errors;

/// Format version of the JSON report.
pub const VERSION: u32 = 1;

/// Latency percentiles, microseconds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th.
    pub p99: u64,
    /// 99.9th.
    pub p99_9: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

/// One run's report.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Results {
    /// Format version.
    pub version: u32,
    /// A name for comparisons (`--label`, default the target URL).
    pub label: String,
    /// Target URL.
    pub target: String,
    /// Operation or `scenario`.
    pub workload: String,
    /// Authentication used.
    pub auth: String,
    /// Connections.
    pub connections: usize,
    /// `closed` or `open`.
    pub mode: String,
    /// Asked iterations per second (open loop).
    pub rate: Option<f64>,
    /// Measured seconds.
    pub duration_s: f64,
    /// Warm-up seconds.
    pub warmup_s: f64,
    /// Requests in the measured window (answered or failed).
    pub requests: u64,
    /// Successful requests.
    pub ok: u64,
    /// Iterations completed without error.
    pub iterations: u64,
    /// Requests per second.
    pub throughput_rps: f64,
    /// Iterations per second.
    pub iterations_per_s: f64,
    /// Latency percentiles.
    pub latency_us: Latency,
    /// `[percentile, microseconds]` points of the latency curve (for plots).
    pub percentiles: Vec<(f64, u64)>,
    /// Errors by class.
    pub errors: Errors,
    /// Request bytes.
    pub bytes_out: u64,
    /// Response bytes.
    pub bytes_in: u64,
    /// Resources the run left open.
    pub leaked: BTreeMap<String, u64>,
    /// CPU seconds of the generator's own threads (Linux).
    pub generator_cpu_s: Option<f64>,
    /// Generator CPU as a share of one core over the run, in percent.
    pub generator_cpu_percent: Option<f64>,
}

/// What the command line knows about the run.
pub struct Meta {
    /// Label.
    pub label: String,
    /// Target URL.
    pub target: String,
    /// Workload name.
    pub workload: String,
    /// Auth name.
    pub auth: String,
    /// Connections.
    pub connections: usize,
    /// Rate.
    pub rate: Option<f64>,
    /// Warm-up.
    pub warmup_s: f64,
}

impl Results {
    /// Builds the report from what a run measured.
    pub fn new(meta: Meta, m: &Measured) -> Self {
        let r = &m.recorder;
        let h = &r.latency;
        let secs = m.window.as_secs_f64().max(1e-9);
        let requests = h.len();
        let mut percentiles = Vec::new();
        if requests > 0 {
            for v in h.iter_quantiles(2) {
                let p = v.quantile_iterated_to() * 100.0;
                if percentiles.last().is_none_or(|(q, _)| p - q > 1e-9) {
                    percentiles.push((p, v.value_iterated_to()));
                }
                if percentiles.len() >= 400 {
                    break;
                }
            }
        }
        let q = |x: f64| {
            if requests > 0 {
                h.value_at_quantile(x)
            } else {
                0
            }
        };
        let mut leaked = BTreeMap::new();
        leaked.insert("shells".into(), r.leaked_shells);
        leaked.insert("enumerations".into(), r.leaked_enumerations);
        let cpu = m.generator_cpu.map(|d| d.as_secs_f64());
        Self {
            version: VERSION,
            label: meta.label,
            target: meta.target,
            workload: meta.workload,
            auth: meta.auth,
            connections: meta.connections,
            mode: if meta.rate.is_some() {
                "open"
            } else {
                "closed"
            }
            .into(),
            rate: meta.rate,
            duration_s: secs,
            warmup_s: meta.warmup_s,
            requests,
            ok: r.ok,
            iterations: r.iterations,
            throughput_rps: requests as f64 / secs,
            iterations_per_s: r.iterations as f64 / secs,
            latency_us: Latency {
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p99_9: q(0.999),
                max: h.max(),
                mean: if requests > 0 { h.mean() } else { 0.0 },
            },
            percentiles,
            errors: r.errors.clone(),
            bytes_out: r.bytes_out,
            bytes_in: r.bytes_in,
            leaked,
            generator_cpu_s: cpu,
            generator_cpu_percent: cpu.map(|c| c / m.wall.as_secs_f64().max(1e-9) * 100.0),
        }
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — {} over {} connection(s), {} loop{}, {:.1} s measured after {:.1} s warm-up",
            self.label,
            self.workload,
            self.connections,
            self.mode,
            self.rate.map_or(String::new(), |r| format!(" at {r}/s")),
            self.duration_s,
            self.warmup_s
        );
        let _ = writeln!(
            s,
            "  requests    {:>12}   ({:.1}/s; iterations {} = {:.1}/s)",
            self.requests, self.throughput_rps, self.iterations, self.iterations_per_s
        );
        let l = &self.latency_us;
        let _ = writeln!(
            s,
            "  latency     p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}",
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p99_9),
            ms(l.max),
            ms(l.mean as u64)
        );
        let e = &self.errors;
        let mut errs = format!("{}", e.total());
        if e.total() > 0 {
            let mut parts = Vec::new();
            if e.transport > 0 {
                parts.push(format!("transport {}", e.transport));
            }
            for (k, v) in &e.http {
                parts.push(format!("HTTP {k} {v}"));
            }
            for (k, v) in &e.faults {
                parts.push(format!("{k} {v}"));
            }
            if e.quota > 0 {
                parts.push(format!("quota {}", e.quota));
            }
            if e.protocol > 0 {
                parts.push(format!("protocol {}", e.protocol));
            }
            errs = format!("{errs} ({})", parts.join(", "));
        }
        let _ = writeln!(s, "  errors      {errs}");
        let _ = writeln!(
            s,
            "  bytes       out {}  in {}",
            bytes(self.bytes_out),
            bytes(self.bytes_in)
        );
        let leaked: Vec<String> = self
            .leaked
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "  left open   {}", leaked.join(", "));
        match (self.generator_cpu_s, self.generator_cpu_percent) {
            (Some(c), Some(p)) => {
                let _ = writeln!(s, "  generator   {c:.2} CPU s ({p:.0}% of one core)");
            }
            _ => {
                let _ = writeln!(s, "  generator   CPU use not measured on this system");
            }
        }
        s
    }
}

fn ms(us: u64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.2} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// Several runs side by side; every column after the first also shows its ratio to the first
/// (`×` for throughput: higher is better; for latencies lower is better).
pub fn compare(runs: &[Results]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let base = &runs[0];
    let ratio = |v: f64, b: f64| {
        if b > 0.0 {
            format!(" ({:.2}×)", v / b)
        } else {
            String::new()
        }
    };
    let mut row = |name: &str, f: &dyn Fn(&Results) -> (String, f64)| {
        let (_, b) = f(base);
        let cells = runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (text, v) = f(r);
                if i == 0 {
                    text
                } else {
                    format!("{text}{}", ratio(v, b))
                }
            })
            .collect();
        rows.push((name.to_owned(), cells));
    };
    row("workload", &|r| (r.workload.clone(), 0.0));
    row("connections", &|r| {
        (format!("{} {}", r.connections, r.mode), 0.0)
    });
    row("requests/s", &|r| {
        (format!("{:.1}", r.throughput_rps), r.throughput_rps)
    });
    row("iterations/s", &|r| {
        (format!("{:.1}", r.iterations_per_s), r.iterations_per_s)
    });
    for (name, pick) in [
        ("p50", (|l: &Latency| l.p50) as fn(&Latency) -> u64),
        ("p90", |l| l.p90),
        ("p99", |l| l.p99),
        ("p99.9", |l| l.p99_9),
        ("max", |l| l.max),
    ] {
        row(name, &|r| {
            let v = pick(&r.latency_us);
            (ms(v), v as f64)
        });
    }
    row("errors", &|r| {
        let n = r.errors.total();
        (n.to_string(), n as f64)
    });
    row("bytes in/out", &|r| {
        (
            format!("{} / {}", bytes(r.bytes_in), bytes(r.bytes_out)),
            0.0,
        )
    });
    row("generator CPU", &|r| {
        (
            r.generator_cpu_percent
                .map_or("n/a".into(), |p| format!("{p:.0}%")),
            0.0,
        )
    });
    let headers: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    let name_w = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max(6);
    let widths: Vec<usize> = (0..runs.len())
        .map(|i| {
            rows.iter()
                .map(|(_, c)| c[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    let _ = write!(s, "{:name_w$}", "");
    for (h, w) in headers.iter().zip(&widths) {
        let _ = write!(s, "  {h:>w$}");
    }
    s.push('\n');
    for (name, cells) in &rows {
        let _ = write!(s, "{name:name_w$}");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(s, "  {c:>w$}");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::{Outcome, Recorder};
    use std::time::Duration;

    fn run(label: &str, micros: &[u64], secs: u64) -> Results {
        let mut r = Recorder::default();
        for m in micros {
            r.request(*m, &Outcome::Ok, 100, 200);
        }
        r.iterations = micros.len() as u64;
        let m = Measured {
            recorder: r,
            window: Duration::from_secs(secs),
            generator_cpu: Some(Duration::from_millis(500)),
            wall: Duration::from_secs(secs),
        };
        Results::new(
            Meta {
                label: label.into(),
                target: "http://x".into(),
                workload: "get".into(),
                auth: "basic".into(),
                connections: 4,
                rate: None,
                warmup_s: 0.0,
            },
            &m,
        )
    }

    #[test]
    fn results_compute_rates_percentiles_and_round_trip_as_json() {
        let r = run("a", &(1..=1000).collect::<Vec<_>>(), 2);
        assert_eq!(r.requests, 1000);
        assert!((r.throughput_rps - 500.0).abs() < 1e-6);
        assert!(
            (499..=501).contains(&r.latency_us.p50),
            "{}",
            r.latency_us.p50
        );
        assert!(
            (989..=991).contains(&r.latency_us.p99),
            "{}",
            r.latency_us.p99
        );
        assert_eq!(r.latency_us.max, 1000);
        assert_eq!(r.generator_cpu_percent, Some(25.0));
        assert!(r.percentiles.len() > 5);
        assert!(
            r.percentiles
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        let back: Results = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(r.table().contains("requests            1000   (500.0/s"));
    }

    #[test]
    fn compare_prints_ratios_to_the_first_run() {
        let a = run("plain", &[100; 100], 1);
        let b = run("sealed", &[200; 50], 1);
        let t = compare(&[a, b]);
        assert!(t.lines().next().unwrap().contains("plain") && t.contains("sealed"));
        let line = t.lines().find(|l| l.starts_with("requests/s")).unwrap();
        assert!(line.contains("50.0 (0.50×)"), "{line}");
        let p50 = t.lines().find(|l| l.starts_with("p50")).unwrap();
        assert!(p50.contains("(2.00×)"), "{p50}");
    }
}
