//! The command line: typed flags, one module per subcommand, documented exit codes.

mod bench;
mod check;
mod fuzz;
mod inspect;
mod probe;
mod scenario;

pub use scenario::render_result as render_replay;
mod serve;
mod target;
pub mod winrm;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every subcommand.
pub mod exit {
    /// Everything succeeded.
    pub const OK: u8 = 0;
    /// At least one input failed (parse error, failed check).
    pub const FAILURE: u8 = 1;
    /// The command line was wrong.
    pub const USAGE: u8 = 2;
    /// The target could not be reached or refused the credentials.
    pub const UNREACHABLE: u8 = 3;
    /// Nothing was selected (no case, no scenario).
    pub const NOTHING_SELECTED: u8 = 4;
}

/// Conformance harness, reference server, fuzzer and benchmark for WS-Management (WinRM).
#[derive(Parser, Debug)]
#[command(name = "wsman-harness", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse envelope files and print a one-line summary of each.
    Inspect(inspect::InspectArgs),
    /// Run the embedded reference WinRM server.
    Serve(serve::ServeArgs),
    /// Check a WS-Man server (or, without --target, the embedded reference server) against
    /// the conformance catalogue.
    Check(check::CheckArgs),
    /// Measure the limits a server enforces (envelope size, items per batch, OperationTimeout
    /// clamp) next to what it declares and the profile's defaults.
    Probe(probe::ProbeArgs),
    /// Print the case catalogue.
    List(check::ListArgs),
    /// Work with check reports.
    Report(check::ReportArgs),
    /// Replay recorded scenarios against a server (or, without --target, the embedded
    /// reference server) and compare every response with the recording.
    Replay(scenario::ReplayArgs),
    /// Convert public recording layouts (pywinrm, winrm4j, request/response pairs) into
    /// scenario files.
    Import(scenario::ImportArgs),
    /// Record real traffic between a client and a server into scenario files (a proxy).
    Record(scenario::RecordArgs),
    /// Check recorded exchanges for protocol violations (RelatesTo, Actions, headers, faults,
    /// enumeration contexts, shell and command ids).
    Lint(scenario::LintArgs),
    /// Load a server (or the embedded reference server) and report throughput, latency
    /// percentiles and errors; `bench compare` puts saved runs side by side.
    Bench(bench::BenchArgs),
    /// Fuzz a server (or the embedded reference server): mutated requests at every layer,
    /// findings confirmed, minimised and written as reproducers; `--reproduce FILE` runs one.
    Fuzz(fuzz::FuzzArgs),
    /// The Windows `winrm` tool's verbs (get, set, enumerate, create, delete, identify, invoke,
    /// quickconfig, help config) against any WS-Man server; `winrm help` explains.
    Winrm(winrm::WinrmArgs),
}

/// Runs the command line and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let code = match cli.command {
        Command::Inspect(a) => inspect::run(&a, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::Serve(a) => serve::run(&a),
        Command::Check(a) => check::run(&a, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::List(a) => check::list(&a, &mut std::io::stdout()),
        Command::Report(a) => check::report_cmd(&a, &mut std::io::stderr()),
        Command::Replay(a) => {
            scenario::replay_cmd(&a, &mut std::io::stdout(), &mut std::io::stderr())
        }
        Command::Record(a) => scenario::record_cmd(&a),
        Command::Lint(a) => scenario::lint_cmd(&a, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::Winrm(a) => winrm::run(&a),
        Command::Probe(a) => probe::run(&a, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::Fuzz(a) => fuzz::run(&a, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::Bench(a) => bench::run(&a, &mut std::io::stdout(), &mut std::io::stderr()),
        Command::Import(a) => {
            scenario::import_cmd(&a, &mut std::io::stdout(), &mut std::io::stderr())
        }
    };
    ExitCode::from(code)
}
