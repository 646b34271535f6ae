//! `wsman-harness probe`: the limits a server enforces, measured, next to what it declares and
//! the profile's defaults.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::exit;
use super::target::TargetArgs;
use crate::check::DEFAULT_ENUMERATE_RESOURCE;
use crate::check::RunSettings;
use crate::check::embedded::Embedded;
use crate::check::probe::{DEFAULT_SIZE_CAP, Limit, Measured, ProbeReport, ProbeSettings, probe};
use crate::check::profile::{Profile, ProfileName};
use crate::check::runner::{RunError, preflight};

/// Flags of `probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Target and credentials (without --target: the embedded reference server).
    #[command(flatten)]
    pub target: TargetArgs,
    /// Whose defaults to compare with (default: seed for the embedded server, auto for a target).
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// Collection enumerated to measure items per batch.
    #[arg(long, value_name = "URI", default_value = DEFAULT_ENUMERATE_RESOURCE)]
    pub enumerate_resource: String,
    /// Also measure the OperationTimeout clamp (waits up to MaxTimeoutms + 30 s).
    #[arg(long)]
    pub slow: bool,
    /// Largest request sent while looking for the envelope limit, in bytes.
    #[arg(long, default_value_t = DEFAULT_SIZE_CAP as u64, value_parser = clap::value_parser!(u64).range(8192..=(256 << 20)))]
    pub max_size: u64,
    /// Seconds allowed per exchange.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Embedded server only: break one rule on purpose (repeatable; `serve --deviate help`).
    #[arg(long = "deviate", value_name = "NAME")]
    pub deviate: Vec<String>,
    /// Embedded server only: override a setting at start (`MaxTimeoutms=3000`), as `serve --set`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

/// Runs `probe`: 0 when every measurement agrees with what the target declares, 1 when one
/// contradicts it, 2 usage, 3 unreachable.
pub fn run(args: &ProbeArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let timeout = Duration::from_secs(args.timeout);
    let (embedded, default_profile) = match &args.target.target {
        Some(_) if !args.deviate.is_empty() || !args.set.is_empty() => {
            let _ = writeln!(
                err,
                "error: --deviate and --set apply to the embedded server only (no --target)"
            );
            return exit::USAGE;
        }
        Some(_) => (None, ProfileName::Auto),
        None => match start(args) {
            Ok(e) => (Some(e), ProfileName::Seed),
            Err((code, why)) => {
                let _ = writeln!(err, "error: {why}");
                return code;
            }
        },
    };
    let options = match (&args.target.target, &embedded) {
        (Some(url), _) => args.target.options(url, None, timeout),
        (None, Some(e)) => args
            .target
            .options(&e.url(), Some((&e.user, &e.password)), timeout),
        (None, None) => unreachable!("started above"),
    };
    let client = match options {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let settings = RunSettings {
        client,
        profile: Profile::new(args.profile.unwrap_or(default_profile)),
        enumerate_resource: args.enumerate_resource.clone(),
    };
    let settings = match preflight(&settings) {
        Ok((s, _)) => s,
        Err(RunError::Unreachable(e)) => {
            let _ = writeln!(
                err,
                "error: target unreachable or authentication failed: {e}"
            );
            return exit::UNREACHABLE;
        }
        Err(RunError::NoCases) => return exit::NOTHING_SELECTED,
    };
    let report = match probe(
        &settings,
        &ProbeSettings {
            size_cap: args.max_size as usize,
            slow: args.slow,
        },
    ) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::UNREACHABLE;
        }
    };
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        render(&report, out);
    }
    if report.limits.iter().any(Limit::contradicts_declared) {
        exit::FAILURE
    } else {
        exit::OK
    }
}

fn start(args: &ProbeArgs) -> Result<Embedded, (u8, String)> {
    let mut config = crate::server::ServerConfig {
        deviations: super::target::embedded_deviations(&args.deviate)
            .map_err(|e| (exit::USAGE, e))?,
        ..Default::default()
    };
    for s in &args.set {
        config
            .set(s)
            .map_err(|e| (exit::USAGE, format!("--set {s}: {e}")))?;
    }
    Embedded::start_with(config).map_err(|e| {
        (
            exit::UNREACHABLE,
            format!("cannot start the embedded server: {e}"),
        )
    })
}

fn render(r: &ProbeReport, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "limits of {} (profile {}, {} requests)\n",
        r.target, r.profile, r.exchanges
    );
    let _ = writeln!(
        out,
        "{:<18} {:>14} {:>28} {:>14}",
        "setting", "declared", "enforced", "default"
    );
    for l in &r.limits {
        let num = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v} {}", l.unit));
        let enforced = match &l.enforced {
            Measured::Exactly { value } => format!("{value} {}", l.unit),
            Measured::AtLeast { value, .. } => format!("≥ {value} {}", l.unit),
            Measured::NotMeasured { .. } => "not measured".into(),
        };
        let flag = if l.contradicts_declared() {
            "  ≠ declared"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<18} {:>14} {:>28} {:>14}{flag}",
            l.setting,
            num(l.declared),
            enforced,
            num(l.default)
        );
    }
    for l in &r.limits {
        let _ = writeln!(out, "\n{}:", l.setting);
        if let Some(n) = &l.declared_note {
            let _ = writeln!(out, "  declared: {n}");
        }
        match &l.enforced {
            Measured::AtLeast { because, .. } | Measured::NotMeasured { because } => {
                let _ = writeln!(out, "  measurement: {because}");
            }
            Measured::Exactly { .. } => {}
        }
        for e in &l.evidence {
            let _ = writeln!(out, "  - {e}");
        }
    }
}
