//! Reproducers: a minimised finding written as a scenario file (requests as XML, wire damage
//! in each step's `wire` list) and a ready `#[test]` that runs it and fails while the server
//! still misbehaves. `wsman-harness fuzz --reproduce FILE` runs the same file by hand.

use std::path::{Path, PathBuf};

use super::exec::FuzzTarget;
use super::minimise::attempt;
use super::oracle::{Bucket, Suspicion};
use super::restart::Restarter;
use crate::scenario::Scenario;
use crate::scenario::file::{WriteExtras, write};

/// Writes `<bucket>-<n>.scenario.toml` and `<bucket>-<n>.rs` into `dir`; returns both paths.
pub fn write_reproducer(
    dir: &Path,
    n: usize,
    case: &Scenario,
    suspicion: &Suspicion,
    how_found: &str,
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let stem = format!("{}-{n}", suspicion.bucket);
    let mut s = case.clone();
    s.name = stem.clone();
    s.meta.description = Some(format!(
        "{} at step {} ({}): {}",
        suspicion.bucket,
        suspicion.step + 1,
        s.steps
            .get(suspicion.step)
            .map_or("-", |st| st.name.as_str()),
        one_line(&suspicion.detail)
    ));
    s.meta.source = Some(how_found.to_owned());
    s.meta.reference = false;
    s.meta.reference_note = Some(
        "a fuzzer reproducer: run it with `wsman-harness fuzz --reproduce FILE`; it passes \
         once the server no longer fails this way"
            .into(),
    );
    let scenario_path = dir.join(format!("{stem}{}", crate::scenario::file::EXTENSION));
    crate::files::write_atomic(
        &scenario_path,
        write(&s, &WriteExtras::default()).as_bytes(),
    )?;
    let test_path = dir.join(format!("{stem}.rs"));
    crate::files::write_atomic(
        &test_path,
        snippet(&stem, suspicion.bucket, how_found).as_bytes(),
    )?;
    Ok((scenario_path, test_path))
}

/// The `#[test]` for a reproducer stored next to it.
pub fn snippet(stem: &str, bucket: Bucket, how_found: &str) -> String {
    let fn_name: String = format!("fuzz_{stem}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "// Reproducer for a {bucket} finding ({how_found}).\n\
         // Copy `{stem}.scenario.toml` into the crate's tests/ folder and this test into a test\n\
         // file; WSMAN_TARGET, WSMAN_USER, WSMAN_PASSWORD (and WSMAN_AUTH) name the server, the\n\
         // embedded reference server is used without them.\n\
         #[test]\n\
         fn {fn_name}() {{\n    \
             let file = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\"))\n        \
                 .join(\"tests/{stem}.scenario.toml\");\n    \
             let finding = wsman_harness::fuzzer::reproduce_from_env(&file)\n        \
                 .expect(\"the reproducer runs\");\n    \
             assert!(finding.is_none(), \"the server still fails: {{}}\", finding.unwrap());\n\
         }}\n"
    )
}

/// Runs a reproducer once against a target (restarting it first when it is down and a
/// restart command is known); `Some` when the server still fails.
pub fn reproduce(
    target: &FuzzTarget,
    case: &Scenario,
    restarter: &Restarter,
) -> Result<Option<Suspicion>, String> {
    attempt(target, case, restarter)
}

/// Runs a reproducer file against the server the environment names (as the scenario test
/// harness reads it: `WSMAN_TARGET`, `WSMAN_USER`, `WSMAN_PASSWORD`, `WSMAN_AUTH`,
/// `WSMAN_INSECURE`), or against an embedded reference server started for the call.
pub fn reproduce_from_env(path: &Path) -> Result<Option<Suspicion>, String> {
    let case = crate::scenario::load(path).map_err(|e| e.to_string())?;
    let env = crate::scenario::harness::TestTarget::from_env()?;
    let target = FuzzTarget::new(env.options())?;
    reproduce(
        &target,
        &case,
        &Restarter::new(None, std::time::Duration::from_secs(10)),
    )
}

fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > 300 {
        flat.chars().take(300).chain("…".chars()).collect()
    } else {
        flat
    }
}

impl std::fmt::Display for Suspicion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at step {}: {}",
            self.bucket,
            self.step + 1,
            self.detail
        )
    }
}
