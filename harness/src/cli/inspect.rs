//! `wsman-harness inspect FILE...`

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::exit;
use crate::inspect::summarize;
use crate::xml::Limits;

/// Arguments of `inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Envelope files (raw XML, UTF-8 or UTF-16).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per file instead of a text line.
    #[arg(long)]
    pub json: bool,
    /// Largest accepted file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::xml::DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    #[arg(long, value_name = "N", default_value_t = crate::xml::DEFAULT_MAX_DEPTH)]
    pub max_depth: usize,
}

/// Inspects every file; exit 0 when all parse, 1 when any fails.
pub fn run(args: &InspectArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let limits = Limits {
        max_bytes: args.max_bytes,
        max_depth: args.max_depth,
    };
    let mut failed = false;
    for path in &args.files {
        let shown = path.display().to_string();
        let outcome = crate::files::read_limited(path, limits.max_bytes)
            .map_err(Failure::Io)
            .and_then(|bytes| crate::envelope::parse_with(&bytes, limits).map_err(Failure::Parse));
        let line = match (&outcome, args.json) {
            (Ok(env), false) => writeln!(out, "{shown}: {}", summarize(env)),
            (Ok(env), true) => writeln!(
                out,
                "{}",
                json!({ "file": shown, "ok": true, "summary": summarize(env) })
            ),
            (Err(e), false) => writeln!(err, "{shown}: error: {e}"),
            (Err(e), true) => writeln!(
                out,
                "{}",
                json!({ "file": shown, "ok": false, "error": e.to_json() })
            ),
        };
        failed |= outcome.is_err();
        if line.is_err() {
            return exit::FAILURE;
        }
    }
    if failed { exit::FAILURE } else { exit::OK }
}

enum Failure {
    Io(std::io::Error),
    Parse(crate::xml::ParseError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Io(e) => write!(f, "cannot read: {e}"),
            Failure::Parse(e) => e.fmt(f),
        }
    }
}

impl Failure {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Failure::Io(e) => json!({ "kind": "io", "message": e.to_string() }),
            Failure::Parse(e) => {
                json!({ "kind": "parse", "offset": e.offset, "message": e.kind.to_string() })
            }
        }
    }
}
