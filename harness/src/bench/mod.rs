//! The load generator behind `wsman-harness bench`: N kept-alive connections driven by a small
//! tokio runtime, either as fast as the server answers (closed loop) or at a constant arrival
//! rate (open loop, latency measured from when each iteration was due, so that a stalled server
//! cannot hide its queue: the coordinated-omission correction of wrk2 and HdrHistogram).
//!
//! [`conn`] speaks HTTP and auth, [`workload`] decides what to send, [`stats`] counts, [`results`]
//! turns counts into the report (JSON, table, comparison) and [`plot`] draws the latency curve.
//! Nothing here prints; the command line does.

pub mod conn;
pub mod plot;
pub mod results;
pub mod stats;
pub mod workload;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{ClientError, ClientOptions};
use conn::Conn;
use stats::{Outcome, Recorder};
use workload::Workload;

/// How hard and how long.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Connections (one worker each).
    pub connections: usize,
    /// Measured time, after the warm-up.
    pub duration: Duration,
    /// Time before measuring starts (connections warm, caches filled).
    pub warmup: Duration,
    /// Iterations per second across all connections; `None` runs a closed loop.
    pub rate: Option<f64>,
    /// Runtime threads driving the connections.
    pub threads: usize,
}

/// What a run measured.
#[derive(Debug)]
pub struct Measured {
    /// Merged counts of the measured window.
    pub recorder: Recorder,
    /// Length of the measured window.
    pub window: Duration,
    /// CPU time the generator's own threads used over the whole run (Linux; `None` elsewhere).
    pub generator_cpu: Option<Duration>,
    /// Wall time of the whole run (warm-up included).
    pub wall: Duration,
}

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests answered so far (warm-up included).
    pub requests: AtomicU64,
}

/// Runs the load. Fails only when no connection can be opened at the start.
pub fn run(
    opts: &ClientOptions,
    workload: Arc<Workload>,
    settings: &Settings,
    progress: Arc<Progress>,
) -> Result<Measured, ClientError> {
    let cpu = Arc::new(AtomicU64::new(0));
    let cpu_hook = cpu.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.threads.max(1))
        .enable_all()
        .on_thread_stop(move || {
            if let Some(d) = thread_cpu() {
                cpu_hook.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
            }
        })
        .build()
        .map_err(|e| ClientError::Connect(format!("cannot start a runtime: {e}")))?;
    let tls = opts.tls()?;
    let started = Instant::now();
    let result = rt.block_on(async {
        // Open every connection before the clock starts; the first failure ends the run.
        let mut conns = Vec::with_capacity(settings.connections);
        for _ in 0..settings.connections {
            conns.push(Conn::open(opts, tls.as_ref()).await?);
        }
        let t0 = Instant::now();
        let measure_from = t0 + settings.warmup;
        let end = measure_from + settings.duration;
        let slots = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for (i, conn) in conns.into_iter().enumerate() {
            let w = Worker {
                opts: opts.clone(),
                tls: tls.clone(),
                workload: workload.clone(),
                rate: settings.rate,
                slots: slots.clone(),
                progress: progress.clone(),
                t0,
                measure_from,
                end,
                turn: i,
            };
            tasks.push(tokio::spawn(w.run(conn)));
        }
        let mut total = Recorder::default();
        for t in tasks {
            if let Ok(r) = t.await {
                total.merge(&r);
            }
        }
        let window = Instant::now().saturating_duration_since(measure_from);
        Ok::<_, ClientError>((
            total,
            window.min(settings.duration + Duration::from_secs(60)),
        ))
    });
    drop(rt);
    let (recorder, window) = result?;
    let micros = cpu.load(Ordering::Relaxed);
    Ok(Measured {
        recorder,
        window,
        generator_cpu: thread_cpu_supported().then(|| Duration::from_micros(micros)),
        wall: started.elapsed(),
    })
}

struct Worker {
    opts: ClientOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
    workload: Arc<Workload>,
    rate: Option<f64>,
    slots: Arc<AtomicU64>,
    progress: Arc<Progress>,
    t0: Instant,
    measure_from: Instant,
    end: Instant,
    turn: usize,
}

impl Worker {
    async fn run(self, conn: Conn) -> Recorder {
        let mut rec = Recorder::default();
        let mut measuring = false;
        let mut conn = Some(conn);
        let mut turn = self.turn;
        loop {
            let due = match self.rate {
                None => Instant::now(),
                Some(rate) => {
                    let slot = self.slots.fetch_add(1, Ordering::Relaxed);
                    let due = self.t0 + Duration::from_secs_f64(slot as f64 / rate);
                    if due >= self.end {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    due
                }
            };
            if due >= self.end {
                break;
            }
            if !measuring && due >= self.measure_from {
                rec.reset();
                measuring = true;
            }
            let mut c = match conn.take() {
                Some(c) => c,
                None => match Conn::open(&self.opts, self.tls.as_ref()).await {
                    Ok(c) => c,
                    Err(_) => {
                        rec.request(due.elapsed().as_micros() as u64, &Outcome::Transport, 0, 0);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // Every request, failed ones included, lands in the histogram once.
            let before = rec.latency.len();
            let alive = self.workload.iterate(&mut c, &mut rec, due, turn).await;
            turn += 1;
            let after = rec.latency.len();
            self.progress
                .requests
                .fetch_add(after.saturating_sub(before), Ordering::Relaxed);
            if alive {
                conn = Some(c);
            }
        }
        if !measuring {
            rec.reset();
        }
        rec
    }
}

/// CPU time of the calling thread (user + system), from `/proc/thread-self/stat`.
#[cfg(target_os = "linux")]
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised name: state is field 3, utime 14 and stime 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis(ticks * 10))
}

/// Other systems: no per-thread CPU reading without platform calls; the report says so.
#[cfg(not(target_os = "linux"))]
fn thread_cpu() -> Option<Duration> {
    None
}

fn thread_cpu_supported() -> bool {
    cfg!(target_os = "linux")
}

/// Parses `10s`, `500ms`, `2m`, `1.5s` or a bare number of seconds.
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with s, ms or m (e.g. 10s)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        other => return Err(format!("{text:?}: unknown unit {other:?}; use ms, s or m")),
    };
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("{text:?}: out of range (0 to 24 h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_with_units() {
        assert_eq!(parse_span("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_span("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_span("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_span("3").unwrap(), Duration::from_secs(3));
        assert!(parse_span("10h").unwrap_err().contains("unknown unit"));
        assert!(parse_span("x").is_err());
        assert!(parse_span("99999999").is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn thread_cpu_reads_this_threads_time() {
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(thread_cpu().unwrap() >= Duration::from_millis(20));
    }
}
