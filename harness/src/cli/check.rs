//! `wsman-harness check`, `list` and `report merge`: the conformance suite's command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::exit;
use super::target::{TargetArgs, start_embedded};
use crate::check::profile::{Profile, ProfileName};
use crate::check::runner::{self, Plan, RunError};
use crate::check::waivers::Waivers;
use crate::check::{DEFAULT_ENUMERATE_RESOURCE, RunSettings};
use crate::client::ClientOptions;
use crate::report;

/// Largest waiver file read (a waiver is a few lines).
const WAIVERS_LIMIT: usize = 1 << 20;
/// Largest JSON report `report merge` reads (wire logs make reports large, not this large).
const REPORT_LIMIT: usize = 256 << 20;

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text on stdout.
    Human,
    /// `report.json` in `--out`.
    Json,
    /// `junit.xml` in `--out`.
    Junit,
    /// `report.html` in `--out`.
    Html,
}

/// Arguments of `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The server to check (the embedded reference server without `--target`) and the
    /// credentials.
    #[command(flatten)]
    pub conn: TargetArgs,
    /// Expectations: seed document defaults, current Windows, plain DSP0226, or from Identify
    /// (default: seed for the embedded server, auto for a target).
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// Only cases whose id matches (glob, repeatable).
    #[arg(long = "cases", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Leave out cases whose id matches (glob, repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// NON-STRICT verdicts and SHOULD failures fail the run.
    #[arg(long)]
    pub strict: bool,
    /// Also run the slow tier (waits for server-side timers, about a minute each).
    #[arg(long)]
    pub slow: bool,
    /// Waiver file (TOML): known failures with a reason and an expiry date.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Report formats (repeatable); files go to `--out`.
    #[arg(long = "report", value_enum, default_values_t = vec![Format::Human])]
    pub report: Vec<Format>,
    /// Directory for report files.
    #[arg(long, value_name = "DIR", default_value = "wsman-harness-report")]
    pub out: PathBuf,
    /// Cases run in parallel (those that change the configuration always run alone).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Time limit per exchange, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Collection used by the enumeration cases.
    #[arg(long, value_name = "URI", default_value = DEFAULT_ENUMERATE_RESOURCE)]
    pub enumerate_resource: String,
}

/// Arguments of `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// One JSON object per case instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// `report` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ReportCommand {
    /// Combine JSON reports of several runs into one HTML matrix (targets × cases).
    Merge {
        /// JSON reports written by `check --report json`.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// The HTML file to write.
        #[arg(long, value_name = "FILE", default_value = "wsman-harness-matrix.html")]
        out: PathBuf,
    },
}

/// Runs `check`.
pub fn run(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let catalogue = crate::check::catalogue();
    let cases = match runner::select(&catalogue, &args.cases, &args.exclude) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    if cases.is_empty() {
        let _ = writeln!(
            err,
            "error: no case matches the --cases/--exclude patterns (see `wsman-harness list`)"
        );
        return exit::NOTHING_SELECTED;
    }
    let waivers = match &args.waivers {
        None => Waivers::default(),
        Some(path) => {
            let ids: Vec<&str> = catalogue.iter().map(|c| c.info.id).collect();
            match crate::files::read_text(path, WAIVERS_LIMIT)
                .and_then(|t| Waivers::parse(&t, &ids))
            {
                Ok(w) => w,
                Err(e) => {
                    let _ = writeln!(err, "error: {}: {e}", path.display());
                    return exit::USAGE;
                }
            }
        }
    };
    // Without a target: the embedded reference server, checked against the seed profile.
    let embedded;
    let timeout = Duration::from_secs(args.timeout);
    let (client, default_profile) = match &args.conn.target {
        Some(url) => (args.conn.options(url, None, timeout), ProfileName::Auto),
        None => {
            embedded = match start_embedded(err) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let account = Some((embedded.user.as_str(), embedded.password.as_str()));
            (
                args.conn.options(&embedded.url(), account, timeout),
                ProfileName::Seed,
            )
        }
    };
    match client {
        Ok(client) => check_with(args, cases, waivers, client, default_profile, out, err),
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            exit::USAGE
        }
    }
}

fn check_with(
    args: &CheckArgs,
    cases: Vec<crate::check::Case>,
    waivers: Waivers,
    client: ClientOptions,
    default_profile: ProfileName,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let plan = Plan {
        settings: RunSettings {
            client,
            profile: Profile::new(args.profile.unwrap_or(default_profile)),
            enumerate_resource: args.enumerate_resource.clone(),
        },
        cases,
        strict: args.strict,
        slow: args.slow,
        jobs: args.jobs as usize,
        waivers,
        today: chrono::Utc::now().date_naive(),
    };
    let tty = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(plan.cases.len() as u64);
    if tty {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let report = runner::run(&plan, &|r| {
        bar.set_message(r.case.id);
        bar.inc(1);
    });
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(RunError::Unreachable(e)) => {
            let _ = writeln!(
                err,
                "error: target unreachable or authentication failed: {e}"
            );
            return exit::UNREACHABLE;
        }
        Err(RunError::NoCases) => {
            let _ = writeln!(err, "error: no case selected");
            return exit::NOTHING_SELECTED;
        }
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for f in &args.report {
        let (name, body) = match f {
            Format::Human => {
                let _ = write!(
                    out,
                    "{}",
                    report::human::render(&report, report::human::Style { color })
                );
                continue;
            }
            Format::Json => ("report.json", report::json::render(&report)),
            Format::Junit => match report::junit::render(&report) {
                Ok(x) => ("junit.xml", x),
                Err(e) => {
                    let _ = writeln!(err, "error: JUnit report: {e}");
                    return exit::FAILURE;
                }
            },
            Format::Html => ("report.html", report::html::render(&report)),
        };
        let path = args.out.join(name);
        if let Err(e) = crate::files::write_atomic(&path, body.as_bytes()) {
            let _ = writeln!(err, "error: {}: {e}", path.display());
            return exit::FAILURE;
        }
        let _ = writeln!(err, "wrote {}", path.display());
    }
    if report.passed() {
        exit::OK
    } else {
        exit::FAILURE
    }
}

/// Runs `list`.
pub fn list(args: &ListArgs, out: &mut dyn Write) -> u8 {
    for c in crate::check::catalogue() {
        let i = &c.info;
        let line = if args.json {
            serde_json::to_string(i).unwrap_or_default()
        } else {
            format!(
                "{:<42} {:<6} {:<6} {}  [{}]",
                i.id,
                i.level.as_str(),
                if i.tier == crate::check::Tier::Slow {
                    "slow"
                } else {
                    ""
                },
                i.title,
                i.source
            )
        };
        if writeln!(out, "{line}").is_err() {
            return exit::FAILURE;
        }
    }
    exit::OK
}

/// Runs `report`.
pub fn report_cmd(args: &ReportArgs, err: &mut dyn Write) -> u8 {
    match &args.command {
        ReportCommand::Merge { reports, out } => {
            let mut runs = Vec::new();
            for p in reports {
                let parsed = crate::files::read_text(p, REPORT_LIMIT).and_then(|t| {
                    serde_json::from_str::<serde_json::Value>(&t)
                        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))
                });
                match parsed {
                    Ok(v) if v["schema"] == report::json::SCHEMA => runs.push(v),
                    Ok(_) => {
                        let _ = writeln!(
                            err,
                            "error: {}: not a wsman-harness check report ({})",
                            p.display(),
                            report::json::SCHEMA
                        );
                        return exit::USAGE;
                    }
                    Err(e) => {
                        let _ = writeln!(err, "error: {}: {e}", p.display());
                        return exit::USAGE;
                    }
                }
            }
            if let Err(e) = crate::files::write_atomic(out, report::html::matrix(&runs).as_bytes())
            {
                let _ = writeln!(err, "error: {}: {e}", out.display());
                return exit::FAILURE;
            }
            let _ = writeln!(err, "wrote {}", out.display());
            exit::OK
        }
    }
}
