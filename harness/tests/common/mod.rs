//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod kdc;

use std::path::{Path, PathBuf};

/// A new, empty directory under the system's temporary directory (the test removes it).
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "wsman-harness-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `fixtures/recordings` in the repository.
pub fn recordings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/recordings")
}

/// Every `.xml` file below `dir`, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "xml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// Starts the `wsman-harness serve` binary on a free loopback port with extra arguments;
/// returns the child (stdout consumed up to the "listening on" line) and the listener's URL.
pub fn spawn_serve(
    bin: &str,
    args: &[&str],
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the wsman-harness binary starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("the server prints its address");
    let url = line.trim().trim_start_matches("listening on ").to_owned();
    (child, url)
}

/// `host:port` of an `http://host:port/prefix` URL.
pub fn authority(url: &str) -> String {
    url.split("//")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// Runs a script of `tests/interop` with python3 and fails with its transcript unless it exits
/// 0; `secret` is masked in the transcript printed to the test log.
#[allow(dead_code)]
pub fn python(secret: &str, script: &str, args: &[&str]) -> String {
    python_env(secret, script, args, &[])
}

/// [`python`] with extra environment variables (a Kerberos realm's configuration, say).
pub fn python_env(
    secret: &str,
    script: &str,
    args: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/interop")
        .join(script);
    let out = std::process::Command::new("python3")
        .arg(&path)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("python3 runs (install the interop clients with scripts/test)");
    let transcript = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The transcript goes to the test log on purpose: it is the evidence of interop.
    println!(
        "--- {script} {}\n{}",
        args.join(" ").replace(secret, "<password>"),
        transcript.replace(secret, "<password>")
    );
    assert!(
        out.status.success(),
        "{script} failed (pip install -r tests/interop/requirements.txt if a module is missing):\n{transcript}"
    );
    transcript
}
