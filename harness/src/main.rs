//! The `wsman-harness` command.

fn main() -> std::process::ExitCode {
    wsman_harness::cli::main()
}
