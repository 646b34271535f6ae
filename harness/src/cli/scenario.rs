//! `wsman-harness replay` and `import`: the scenario engine's command line.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::exit;
use super::target::TargetArgs;
use crate::client::Client;
use crate::scenario::file::{self, WriteExtras};
use crate::scenario::import::{Layout, import};
use crate::scenario::replay::{ScenarioResult, StepVerdict, replay};
use crate::scenario::{Scenario, load};

/// Arguments of `replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Scenario files or directories (searched for `*.scenario.toml`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The server and credentials.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only scenarios whose name matches (glob, repeatable).
    #[arg(long = "scenario", value_name = "GLOB")]
    pub only: Vec<String>,
    /// Against the embedded server, also run scenarios marked `reference = false`.
    #[arg(long)]
    pub all: bool,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print what was sent and received for failed steps.
    #[arg(long, short)]
    pub verbose: bool,
    /// Time limit per exchange, in seconds (recorded Receives may wait their OperationTimeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Arguments of `import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The layout of the recordings.
    #[arg(long, value_enum)]
    pub format: Layout,
    /// Where the recordings are.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where the scenario files go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Prefix for scenario names (and file names).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub prefix: String,
    /// License of the recorded data, when no LICENSE-NOTE.txt says it.
    #[arg(long, value_name = "SPDX")]
    pub license: Option<String>,
    /// Mark the scenarios as not replaying green against the reference server, and say why.
    #[arg(long, value_name = "WHY")]
    pub not_reference: Option<String>,
}

/// Loads scenarios from paths, filtered by name globs.
pub fn load_selected(
    paths: &[PathBuf],
    only: &[String],
    err: &mut dyn Write,
) -> Result<Vec<Scenario>, u8> {
    let patterns: Vec<glob::Pattern> = match only.iter().map(|g| glob::Pattern::new(g)).collect() {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "error: --scenario: {e}");
            return Err(exit::USAGE);
        }
    };
    let files = match file::discover(paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Err(exit::USAGE);
        }
    };
    let mut out = Vec::new();
    let mut bad = false;
    for f in files {
        match load(&f) {
            Ok(s) if patterns.is_empty() || patterns.iter().any(|p| p.matches(&s.name)) => {
                out.push(s)
            }
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                bad = true;
            }
        }
    }
    if bad {
        return Err(exit::FAILURE);
    }
    Ok(out)
}

/// Runs `replay`.
pub fn replay_cmd(args: &ReplayArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut scenarios = match load_selected(&args.paths, &args.only, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A fuzzer reproducer damages requests on the wire; replaying it through the ordinary
    // client would send undamaged requests and prove nothing.
    if let Some((s, step)) = scenarios.iter().find_map(|s| {
        s.steps
            .iter()
            .find(|st| !st.wire.is_empty())
            .map(|st| (s, st))
    }) {
        let _ = writeln!(
            err,
            "error: scenario {:?} step {:?} (line {}) has wire mutations (a fuzzer \
             reproducer); run it with `wsman-harness fuzz --reproduce FILE`",
            s.name, step.name, step.line
        );
        return exit::USAGE;
    }
    let timeout = std::time::Duration::from_secs(args.timeout);
    let (opts, embedded) = match args.target.resolve(timeout, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if embedded.is_some() && !args.all {
        let skipped = scenarios.iter().filter(|s| !s.meta.reference).count();
        if skipped > 0 {
            let _ = writeln!(
                out,
                "skipped {skipped} scenarios marked `reference = false` (recorded \
                 behaviour the reference server does not have; --all runs them)"
            );
        }
        scenarios.retain(|s| s.meta.reference);
    }
    if scenarios.is_empty() {
        let _ = writeln!(err, "error: no scenario selected");
        return exit::NOTHING_SELECTED;
    }
    let mut results = Vec::new();
    let mut any_response = false;
    let mut unreachable = None;
    for s in &scenarios {
        // A fresh connection per scenario: one scenario's state never leaks into the next.
        let mut client = match Client::new(opts.clone()) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return exit::USAGE;
            }
        };
        let r = replay(s, &mut client);
        for st in &r.steps {
            match &st.verdict {
                StepVerdict::Error(e) if unreachable.is_none() => unreachable = Some(e.clone()),
                StepVerdict::Error(_) => {}
                _ => any_response = true,
            }
        }
        let _ = write!(out, "{}", render_result(&r, args.verbose));
        results.push(r);
    }
    if !any_response && let Some(e) = unreachable {
        let _ = writeln!(
            err,
            "error: target unreachable or authentication failed: {e}"
        );
        return exit::UNREACHABLE;
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    let _ = writeln!(
        out,
        "\n{} scenarios: {} passed, {failed} failed",
        results.len(),
        results.len() - failed
    );
    if let Some(path) = &args.json {
        let body = serde_json::to_string_pretty(&json(&results)).unwrap_or_default();
        if let Err(e) = crate::files::write_atomic(path, body.as_bytes()) {
            let _ = writeln!(err, "error: {}: {e}", path.display());
            return exit::FAILURE;
        }
    }
    if failed == 0 { exit::OK } else { exit::FAILURE }
}

/// A result as text: one line per scenario, and for failures each failed step with its
/// differences in Expected/Actual blocks.
pub fn render_result(r: &ScenarioResult, verbose: bool) -> String {
    let mut s = String::new();
    let where_ = r
        .file
        .as_ref()
        .map(|f| format!(" ({})", f.display()))
        .unwrap_or_default();
    if r.passed() {
        s.push_str(&format!("PASS  {} [{} steps]\n", r.name, r.steps.len()));
        return s;
    }
    s.push_str(&format!("FAIL  {}{where_}\n", r.name));
    for (i, st) in r.steps.iter().enumerate() {
        let line = if st.line > 0 {
            format!(", line {}", st.line)
        } else {
            String::new()
        };
        match &st.verdict {
            StepVerdict::Passed => {
                s.push_str(&format!("  ok    step {}: {}\n", i + 1, st.name));
                continue;
            }
            StepVerdict::Error(e) => {
                s.push_str(&format!("  ERROR step {}: {}{line}: {e}\n", i + 1, st.name));
            }
            StepVerdict::Failed => {
                s.push_str(&format!(
                    "  FAIL  step {}: {}{line} (HTTP {})\n",
                    i + 1,
                    st.name,
                    st.status
                ));
                for m in &st.mismatches {
                    for l in m.to_string().lines() {
                        s.push_str(&format!("        {l}\n"));
                    }
                }
                for a in &st.failed_assertions {
                    s.push_str(&format!("        assertion: {a}\n"));
                }
            }
        }
        if verbose {
            s.push_str(&format!("        sent:\n{}\n", indent(&st.sent)));
            s.push_str(&format!("        received:\n{}\n", indent(&st.received)));
        }
    }
    s
}

fn indent(t: &str) -> String {
    t.lines()
        .map(|l| format!("          {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Schema id of `replay --json`.
pub const REPLAY_SCHEMA: &str = "wsman-harness/replay-report/1";

fn json(results: &[ScenarioResult]) -> serde_json::Value {
    let scenarios: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let steps: Vec<serde_json::Value> = r
                .steps
                .iter()
                .map(|st| {
                    let (verdict, error) = match &st.verdict {
                        StepVerdict::Passed => ("passed", None),
                        StepVerdict::Failed => ("failed", None),
                        StepVerdict::Error(e) => ("error", Some(e.clone())),
                    };
                    serde_json::json!({
                        "name": st.name,
                        "line": st.line,
                        "verdict": verdict,
                        "error": error,
                        "status": st.status,
                        "millis": st.elapsed.as_millis() as u64,
                        "mismatches": st.mismatches.iter().map(|m| serde_json::json!({
                            "path": m.path, "expected": m.expected, "actual": m.actual, "note": m.note,
                        })).collect::<Vec<_>>(),
                        "failed_assertions": st.failed_assertions,
                    })
                })
                .collect();
            serde_json::json!({
                "name": r.name,
                "file": r.file.as_ref().map(|f| f.display().to_string()),
                "passed": r.passed(),
                "steps": steps,
            })
        })
        .collect();
    serde_json::json!({ "schema": REPLAY_SCHEMA, "scenarios": scenarios })
}

/// Runs `import`.
pub fn import_cmd(args: &ImportArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let imported = match import(args.format, &args.dir) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    for (p, why) in &imported.skipped {
        let _ = writeln!(err, "skipped {}: {why}", p.display());
    }
    if imported.scenarios.is_empty() {
        let _ = writeln!(
            err,
            "error: no recording of that layout under {}",
            args.dir.display()
        );
        return exit::NOTHING_SELECTED;
    }
    for mut s in imported.scenarios {
        s.name = format!("{}{}", args.prefix, s.name);
        if s.meta.license.is_none() {
            s.meta.license = args.license.clone();
        }
        if let Some(why) = &args.not_reference {
            s.meta.reference = false;
            s.meta.reference_note = Some(why.clone());
        }
        let text = file::write(&s, &WriteExtras::default());
        // The written file must read back: a scenario the tool cannot load is lost data.
        if let Err(e) = file::parse(&text, &s.name, None) {
            let _ = writeln!(
                err,
                "error: {}: the converted scenario does not read back: {e}",
                s.name
            );
            return exit::FAILURE;
        }
        let path = args.out.join(format!("{}{}", s.name, file::EXTENSION));
        if let Err(e) = crate::files::write_atomic(&path, text.as_bytes()) {
            let _ = writeln!(err, "error: {}: {e}", path.display());
            return exit::FAILURE;
        }
        let _ = writeln!(out, "wrote {} ({} steps)", path.display(), s.steps.len());
    }
    if imported.skipped.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    }
}

/// Arguments of `record`.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Address the proxy listens on (point the client here).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5986")]
    pub listen: std::net::SocketAddr,
    /// The real server's WS-Man URL.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Directory for the scenario files (one per client connection).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Scenario name prefix.
    #[arg(long, value_name = "NAME", default_value = "recording")]
    pub name: String,
    /// The account the client logs on with: with its password the proxy reads bodies sealed
    /// by MS-WSMV message encryption.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Environment variable holding that password.
    #[arg(long, value_name = "VAR", default_value = "WSMAN_PASSWORD")]
    pub password_env: String,
    /// Environment variable holding another secret to redact (repeatable).
    #[arg(long = "redact-env", value_name = "VAR")]
    pub redact_env: Vec<String>,
    /// Accept any TLS certificate from an HTTPS upstream.
    #[arg(long)]
    pub insecure: bool,
    /// PEM file of trusted certificates for an HTTPS upstream.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Upstream time limit per exchange, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Builds the proxy options from `record`'s arguments.
pub fn proxy_options(args: &RecordArgs) -> Result<crate::proxy::ProxyOptions, String> {
    let upstream = crate::client::Target::parse(&args.upstream).map_err(|e| e.to_string())?;
    let tls = if upstream.https {
        Some(
            crate::client::transport::tls_config(args.insecure, false, args.ca.as_deref())
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let password = std::env::var(&args.password_env).ok();
    let account = match (&args.user, password) {
        (Some(u), Some(p)) => Some((u.rsplit('\\').next().unwrap_or(u).to_owned(), p)),
        (Some(_), None) => {
            return Err(format!(
                "--user needs the password in ${} to read sealed bodies",
                args.password_env
            ));
        }
        (None, _) => None,
    };
    let mut secrets = Vec::new();
    for v in &args.redact_env {
        match std::env::var(v) {
            Ok(s) if !s.is_empty() => secrets.push(s),
            _ => return Err(format!("--redact-env {v}: the variable is not set")),
        }
    }
    if !args
        .name
        .chars()
        .all(|c| c.is_alphanumeric() || "-_.".contains(c))
        || args.name.is_empty()
    {
        return Err(format!(
            "--name {:?}: letters, digits, '-', '_' and '.' only",
            args.name
        ));
    }
    Ok(crate::proxy::ProxyOptions {
        upstream,
        tls,
        out: args.out.clone(),
        name: args.name.clone(),
        account,
        secrets,
        timeout: std::time::Duration::from_secs(args.timeout),
    })
}

/// Runs `record` until Ctrl-C.
pub fn record_cmd(args: &RecordArgs) -> u8 {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    let opts = match proxy_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::FAILURE;
        }
    };
    rt.block_on(async {
        let l = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                return exit::FAILURE;
            }
        };
        println!(
            "recording on http://{}{} -> {} into {}",
            l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            opts.upstream.path,
            opts.upstream.url(),
            opts.out.display()
        );
        let files = crate::proxy::serve(l, opts, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        eprintln!("stopped; {} scenario files written", files.len());
        exit::OK
    })
}

/// Arguments of `lint`.
#[derive(Args, Debug)]
pub struct LintArgs {
    /// Scenario files or directories; with --format, recording folders of that layout.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read recordings of a public layout instead of scenario files.
    #[arg(long, value_enum)]
    pub format: Option<Layout>,
    /// One JSON document with every finding instead of text.
    #[arg(long)]
    pub json: bool,
    /// Leave informational findings out of the text output.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `lint`.
pub fn lint_cmd(args: &LintArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    use crate::scenario::lint::{Severity, lint};
    let scenarios = match args.format {
        None => match load_selected(&args.paths, &[], err) {
            Ok(s) => s,
            Err(code) => return code,
        },
        Some(layout) => {
            let mut all = Vec::new();
            for p in &args.paths {
                match import(layout, p) {
                    Ok(i) => {
                        for (f, why) in &i.skipped {
                            let _ = writeln!(err, "skipped {}: {why}", f.display());
                        }
                        all.extend(i.scenarios);
                    }
                    Err(e) => {
                        let _ = writeln!(err, "error: {e}");
                        return exit::USAGE;
                    }
                }
            }
            all
        }
    };
    if scenarios.is_empty() {
        let _ = writeln!(err, "error: nothing to lint");
        return exit::NOTHING_SELECTED;
    }
    let findings: Vec<_> = scenarios.iter().flat_map(lint).collect();
    let violations = findings
        .iter()
        .filter(|f| f.severity == Severity::Violation)
        .count();
    if args.json {
        let doc = serde_json::json!({
            "schema": "wsman-harness/lint-report/1",
            "scenarios": scenarios.len(),
            "violations": violations,
            "findings": findings,
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        );
    } else {
        for f in &findings {
            if args.quiet && f.severity == Severity::Info {
                continue;
            }
            let tag = match f.severity {
                Severity::Violation => "VIOLATION",
                Severity::Info => "info     ",
            };
            let _ = writeln!(
                out,
                "{tag} {:<20} {} step {}: {}  [{}]",
                f.rule, f.scenario, f.step, f.message, f.reference
            );
        }
        let steps: usize = scenarios.iter().map(|s| s.steps.len()).sum();
        let _ = writeln!(
            out,
            "{} scenarios, {steps} exchanges: {violations} violations, {} informational",
            scenarios.len(),
            findings.len() - violations
        );
    }
    if violations == 0 {
        exit::OK
    } else {
        exit::FAILURE
    }
}
