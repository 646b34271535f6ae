//! `wsman-harness bench`: load against a server (or the embedded reference server), a table and
//! optional JSON/SVG; `bench compare` puts saved runs side by side.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::exit;
use super::target::TargetArgs;
use crate::bench::results::{Meta, Results, compare};
use crate::bench::workload::{Op, Workload};
use crate::bench::{Progress, Settings, parse_span, plot};
use crate::client::AuthMethod;

/// Arguments of `bench`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// `compare`: saved runs side by side.
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// Target and credentials.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The operation each iteration performs.
    #[arg(long, value_enum, default_value_t = Op::Identify, conflicts_with = "scenario")]
    pub op: Op,
    /// Replay recorded scenarios instead (files or directories, repeatable), with live
    /// correlation of shell ids and enumeration contexts.
    #[arg(long, value_name = "PATH")]
    pub scenario: Vec<PathBuf>,
    /// Resource URI for `get` and `enumerate` (defaults: winrm/config, Win32_Process).
    #[arg(long, value_name = "URI")]
    pub resource: Option<String>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Measured time (`10s`, `500ms`, `2m`).
    #[arg(long, default_value = "10s", value_parser = parse_span)]
    pub duration: Duration,
    /// Time before measuring.
    #[arg(long, default_value = "2s", value_parser = parse_span)]
    pub warmup: Duration,
    /// Constant arrival rate in iterations per second (open loop); without it, closed loop.
    #[arg(long, value_name = "PER_SECOND", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Runtime threads of the generator (default: 2, or 1 on a single core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Items per Pull for `--op enumerate`.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub page: u32,
    /// A name for this run in comparisons (default: the target URL).
    #[arg(long)]
    pub label: Option<String>,
    /// Write the report as JSON (what `bench compare` reads).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the latency-by-percentile plot as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Print the request body of `--op identify|get` and exit (to feed another load tool).
    #[arg(long)]
    pub print_request: bool,
    /// Time limit per exchange, seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

/// `bench` subcommands.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Print saved runs side by side, with ratios to the first.
    Compare(CompareArgs),
}

/// Arguments of `bench compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// JSON reports of `bench --json`.
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Also draw their latency curves into one SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 10_000_000.0 => Ok(r),
        _ => Err(format!("{s:?}: expected iterations per second above 0")),
    }
}

/// Runs `bench`.
pub fn run(args: &BenchArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if let Some(BenchCommand::Compare(c)) = &args.command {
        return compare_cmd(c, out, err);
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let (opts, _embedded) = match args.target.resolve(timeout, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let url = opts.target.url();
    let (workload, name) = if args.scenario.is_empty() {
        let mut w = Workload::op(
            args.op,
            &url,
            args.resource.as_deref(),
            opts.auth == AuthMethod::None,
        );
        w.page = args.page;
        (w, format!("{:?}", args.op).to_ascii_lowercase())
    } else {
        let scenarios = match super::scenario::load_selected(&args.scenario, &[], err) {
            Ok(s) if s.is_empty() => {
                let _ = writeln!(err, "error: no scenario selected");
                return exit::NOTHING_SELECTED;
            }
            Ok(s) => s,
            Err(code) => return code,
        };
        let n = scenarios.len();
        (
            Workload::scenarios(scenarios, &url),
            format!("scenario ×{n}"),
        )
    };
    if args.print_request {
        return match workload.sample_request() {
            Some(body) => {
                let _ = out.write_all(&body);
                exit::OK
            }
            None => {
                let _ = writeln!(
                    err,
                    "error: --print-request needs --op identify or get (one request per iteration)"
                );
                exit::USAGE
            }
        };
    }
    let threads = args.threads.map_or_else(
        || {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(2)
        },
        |t| t as usize,
    );
    let settings = Settings {
        connections: args.connections as usize,
        duration: args.duration,
        warmup: args.warmup,
        rate: args.rate,
        threads,
    };
    let progress = Arc::new(Progress::default());
    let ticker = (!args.quiet).then(|| spawn_ticker(progress.clone(), &settings));
    let measured = crate::bench::run(&opts, Arc::new(workload), &settings, progress);
    if let Some((stop, handle)) = ticker {
        stop.store(true, Ordering::Relaxed);
        let _ = handle.join();
    }
    let measured = match measured {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return if e.is_unreachable() {
                exit::UNREACHABLE
            } else {
                exit::FAILURE
            };
        }
    };
    let results = Results::new(
        Meta {
            label: args.label.clone().unwrap_or_else(|| url.clone()),
            target: url,
            workload: name,
            auth: format!("{:?}", opts.auth).to_ascii_lowercase(),
            connections: settings.connections,
            rate: settings.rate,
            warmup_s: settings.warmup.as_secs_f64(),
        },
        &measured,
    );
    let _ = write!(out, "{}", results.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results).unwrap_or_default();
        if let Err(e) = crate::files::write_atomic(path, text.as_bytes()) {
            let _ = writeln!(err, "error: {}: {e}", path.display());
            return exit::FAILURE;
        }
    }
    if let Some(path) = &args.svg
        && let Err(e) =
            crate::files::write_atomic(path, plot::svg(std::slice::from_ref(&results)).as_bytes())
    {
        let _ = writeln!(err, "error: {}: {e}", path.display());
        return exit::FAILURE;
    }
    if results.ok == 0 {
        let _ = writeln!(err, "error: no request succeeded");
        return exit::FAILURE;
    }
    exit::OK
}

/// A progress bar on stderr (drawn only on a terminal) until `stop` is set.
fn spawn_ticker(
    progress: Arc<Progress>,
    settings: &Settings,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let total = (settings.warmup + settings.duration).as_millis() as u64;
    let handle = std::thread::spawn(move || {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {elapsed}/{duration} {msg}")
        {
            bar.set_style(style);
        }
        let start = std::time::Instant::now();
        while !flag.load(Ordering::Relaxed) {
            let n = progress.requests.load(Ordering::Relaxed);
            let secs = start.elapsed().as_secs_f64().max(1e-3);
            bar.set_position((start.elapsed().as_millis() as u64).min(total));
            bar.set_message(format!("{n} requests ({:.0}/s)", n as f64 / secs));
            std::thread::sleep(Duration::from_millis(200));
        }
        bar.finish_and_clear();
    });
    (stop, handle)
}

fn compare_cmd(args: &CompareArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut runs = Vec::new();
    for path in &args.runs {
        let text = match crate::files::read_text(path, 64 << 20) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "error: {}: {e}", path.display());
                return exit::USAGE;
            }
        };
        match serde_json::from_str::<Results>(&text) {
            Ok(r) if r.version == crate::bench::results::VERSION => runs.push(r),
            Ok(r) => {
                let _ = writeln!(
                    err,
                    "error: {}: report version {}, this build reads {}",
                    path.display(),
                    r.version,
                    crate::bench::results::VERSION
                );
                return exit::USAGE;
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: {}:{}:{}: not a bench report: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                );
                return exit::USAGE;
            }
        }
    }
    let _ = write!(out, "{}", compare(&runs));
    if let Some(path) = &args.svg
        && let Err(e) = crate::files::write_atomic(path, plot::svg(&runs).as_bytes())
    {
        let _ = writeln!(err, "error: {}: {e}", path.display());
        return exit::FAILURE;
    }
    exit::OK
}
