//! `wsman-harness fuzz`: the remote fuzzer against a server (or the embedded reference server),
//! and `--reproduce FILE` to run one reproducer.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::exit;
use super::target::TargetArgs;
use crate::bench::parse_span;
use crate::check::embedded::Embedded;
use crate::fuzzer::{
    Bucket, Event, FuzzTarget, Generator, Layer, Liveness, Plan, Restarter, Settings, Summary,
};

/// Flags of `fuzz`.
#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// Target and credentials.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Run seed; the same seed repeats the same cases (default: a random one, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long to fuzz (`60s`, `5m`); the default when --cases is not given.
    #[arg(long, value_parser = parse_span, conflicts_with = "cases")]
    pub duration: Option<Duration>,
    /// How many cases to run.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: Option<u64>,
    /// Parallel connections.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,
    /// Where reproducers and summary.json go.
    #[arg(long, value_name = "DIR", default_value = "fuzz-findings")]
    pub out: PathBuf,
    /// Shell command that restarts the target after a crash (run with `sh -c`, `cmd /C` on
    /// Windows); without it a crash ends the run.
    #[arg(long, value_name = "CMD")]
    pub restart_cmd: Option<String>,
    /// How long the target may take to answer after --restart-cmd.
    #[arg(long, default_value = "30s", value_parser = parse_span)]
    pub restart_wait: Duration,
    /// Scenario files or folders to start from (default: the built-in recorded conversations).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Layers to mutate (default: all that apply to the auth method).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub layers: Vec<Layer>,
    /// Time for an answer beyond the OperationTimeout a request asks for.
    #[arg(long, default_value = "5s", value_parser = parse_span)]
    pub timeout: Duration,
    /// Longest OperationTimeout a server may legitimately wait (WinRM's MaxTimeoutms).
    #[arg(long, default_value = "60s", value_parser = parse_span)]
    pub max_wait: Duration,
    /// OperationTimeout written into the seed requests, so that waits stay short.
    #[arg(long, default_value = "PT0.25S")]
    pub operation_timeout: String,
    /// Distinct findings confirmed, minimised and written per bucket.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_per_bucket: u32,
    /// Time for minimising one finding.
    #[arg(long, default_value = "60s", value_parser = parse_span)]
    pub minimise_time: Duration,
    /// Replay the generated cases without mutating them (the speed baseline).
    #[arg(long)]
    pub baseline: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Embedded server only: break one rule on purpose (repeatable; `serve --deviate help`).
    #[arg(long = "deviate", value_name = "NAME")]
    pub deviate: Vec<String>,
    /// Run one reproducer file and report whether the server still fails (exit 1) or not (0).
    #[arg(long, value_name = "FILE")]
    pub reproduce: Option<PathBuf>,
}

/// Runs `fuzz`.
pub fn run(args: &FuzzArgs, out: &mut dyn Write, err: &mut (dyn Write + Send)) -> u8 {
    let (target, _embedded) = match resolve(args, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let restarter = Restarter::new(args.restart_cmd.clone(), args.restart_wait);
    if let Some(file) = &args.reproduce {
        return reproduce(file, &target, &restarter, out, err);
    }
    match crate::fuzzer::probe(&target) {
        Liveness::Alive => {}
        other => {
            let _ = writeln!(
                err,
                "error: {} does not answer: {other:?}",
                target.client.target.url()
            );
            return exit::UNREACHABLE;
        }
    }
    let seeds = match load_seeds(&args.scenarios, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let plan = Plan {
        auth: target.client.auth,
        https: target.client.target.https,
        layers: args.layers.clone(),
        operation_timeout: args.operation_timeout.clone(),
        baseline: args.baseline,
    };
    if crate::duration::parse_timeout(&plan.operation_timeout).is_err() {
        let _ = writeln!(
            err,
            "error: --operation-timeout {:?} is not an xs:duration such as PT1S",
            plan.operation_timeout
        );
        return exit::USAGE;
    }
    let generator = Generator::new(seeds, plan);
    let seed = args.seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b) >> 16
    });
    let settings = Settings {
        seed,
        cases: args.cases,
        duration: match (args.cases, args.duration) {
            (None, None) => Some(Duration::from_secs(60)),
            (_, d) => d,
        },
        jobs: args.jobs as usize,
        out: Some(args.out.clone()),
        max_per_bucket: args.max_per_bucket as usize,
        minimise_budget: args.minimise_time,
        minimise_attempts: 200,
    };
    let layers: Vec<String> = generator
        .layers()
        .iter()
        .map(|l| format!("{l:?}").to_lowercase())
        .collect();
    let _ = writeln!(
        err,
        "fuzzing {} from {} scenarios, layers {}, seed {seed}{} ({})",
        target.client.target.url(),
        generator.seeds().len(),
        if args.baseline {
            "none (baseline)".to_owned()
        } else {
            layers.join(",")
        },
        match settings.cases {
            Some(n) => format!(", {n} cases"),
            None => String::new(),
        },
        match settings.duration {
            Some(d) => format!("for at most {d:?}"),
            None => "no time limit".into(),
        }
    );
    let err_lock = std::sync::Mutex::new(&mut *err);
    let on_event = |e: Event| {
        let Ok(mut w) = err_lock.lock() else {
            return;
        };
        match e {
            Event::Progress { cases, findings } => {
                let _ = writeln!(w, "  {cases} cases, {findings} findings");
            }
            Event::Restarted { count } => {
                let _ = writeln!(w, "  target restarted ({count})");
            }
            Event::Finding(f) => {
                let _ = writeln!(
                    w,
                    "  FINDING {} ({}): {}\n    minimised {}→{} steps, {}→{} elements{}",
                    f.bucket,
                    f.signature,
                    f.detail,
                    f.steps.0,
                    f.steps.1,
                    f.elements.0,
                    f.elements.1,
                    f.reproducer
                        .as_ref()
                        .map(|p| format!("; reproducer {}", p.display()))
                        .unwrap_or_default()
                );
            }
        }
    };
    let summary = crate::fuzzer::run(&target, &generator, &settings, &restarter, &on_event);
    let err = err_lock.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut unwritten = false;
    if !summary.findings.is_empty() || args.out.exists() {
        let path = args.out.join("summary.json");
        let json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
        if let Err(e) = std::fs::create_dir_all(&args.out)
            .and_then(|_| crate::files::write_atomic(&path, &json))
        {
            let _ = writeln!(err, "error: cannot write {}: {e}", path.display());
            unwritten = true;
        }
    }
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else {
        print_summary(&summary, out);
    }
    if let Some(why) = &summary.stopped {
        let _ = writeln!(err, "stopped early: {why}");
    }
    // A summary that could not be written is lost data: never a clean exit.
    if !summary.findings.is_empty() || unwritten {
        exit::FAILURE
    } else if summary.stopped.is_some() {
        exit::UNREACHABLE
    } else {
        exit::OK
    }
}

fn reproduce(
    file: &std::path::Path,
    target: &FuzzTarget,
    restarter: &Restarter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let case = match crate::scenario::load(file) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    match crate::fuzzer::reproduce(target, &case, restarter) {
        Ok(Some(s)) => {
            let _ = writeln!(out, "{}: the server still fails: {s}", file.display());
            exit::FAILURE
        }
        Ok(None) => {
            let _ = writeln!(
                out,
                "{}: no finding (the server handles it)",
                file.display()
            );
            exit::OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            exit::UNREACHABLE
        }
    }
}

/// The target: `--target`, or an embedded reference server (with the asked deviations).
fn resolve(args: &FuzzArgs, err: &mut dyn Write) -> Result<(FuzzTarget, Option<Embedded>), u8> {
    let deviations = match super::target::embedded_deviations(&args.deviate) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Err(exit::USAGE);
        }
    };
    if !deviations.is_empty() && args.target.target.is_some() {
        let _ = writeln!(
            err,
            "error: --deviate applies to the embedded server only (no --target)"
        );
        return Err(exit::USAGE);
    }
    let (opts, embedded) = match &args.target.target {
        Some(url) => match args.target.options(url, None, args.timeout) {
            Ok(o) => (o, None),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return Err(exit::USAGE);
            }
        },
        None => {
            let e = Embedded::start(&deviations).map_err(|e| {
                let _ = writeln!(err, "error: cannot start the embedded server: {e}");
                exit::UNREACHABLE
            })?;
            match args
                .target
                .options(&e.url(), Some((&e.user, &e.password)), args.timeout)
            {
                Ok(o) => (o, Some(e)),
                Err(m) => {
                    let _ = writeln!(err, "error: {m}");
                    return Err(exit::USAGE);
                }
            }
        }
    };
    let mut target = FuzzTarget::new(opts).map_err(|e| {
        let _ = writeln!(err, "error: {e}");
        exit::USAGE
    })?;
    target.max_wait = args.max_wait;
    Ok((target, embedded))
}

fn load_seeds(
    paths: &[PathBuf],
    err: &mut dyn Write,
) -> Result<Vec<crate::scenario::Scenario>, u8> {
    if paths.is_empty() {
        return Ok(crate::fuzzer::builtin_seeds());
    }
    let seeds = super::scenario::load_selected(paths, &[], err)?;
    if seeds.is_empty() {
        let _ = writeln!(err, "error: no *.scenario.toml under {paths:?}");
        return Err(exit::NOTHING_SELECTED);
    }
    Ok(seeds)
}

fn print_summary(s: &Summary, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "\n{} cases ({} requests) in {:.1}s: {:.0} cases/s, seed {}, digest {}",
        s.cases, s.steps, s.seconds, s.cases_per_second, s.seed, s.digest
    );
    let layers: Vec<String> = s
        .layers
        .iter()
        .map(|(l, n)| format!("{}={n}", format!("{l:?}").to_lowercase()))
        .collect();
    let _ = writeln!(out, "cases by layer: {}", layers.join(" "));
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>9}",
        "bucket", "suspicious", "findings"
    );
    for b in Bucket::ALL {
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>9}",
            b.name(),
            s.suspicious.get(&b).copied().unwrap_or(0),
            s.findings.iter().filter(|f| f.bucket == b).count()
        );
    }
    let _ = writeln!(
        out,
        "unconfirmed: {}, restarts: {}",
        s.unconfirmed, s.restarts
    );
    for f in &s.findings {
        let _ = writeln!(
            out,
            "- {} ×{}: {}\n  {}",
            f.signature,
            f.occurrences,
            f.detail,
            f.reproducer
                .as_ref()
                .map(|p| format!("reproducer: {}", p.display()))
                .unwrap_or_else(|| "no reproducer written".into())
        );
    }
}
