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
    let (child, mut urls) = start_serve(std::process::Command::new(bin), args, stderr);
    (child, urls.remove(0))
}

/// Runs `cmd` (the binary, with whatever environment the caller set) as `serve --listen
/// 127.0.0.1:0 ARGS` and reads one "listening on" line per listener: HTTP, then HTTPS when
/// `--https-listen` is among the arguments. Returns the child and the listeners' URLs.
pub fn start_serve(
    mut cmd: std::process::Command,
    args: &[&str],
    stderr: std::process::Stdio,
) -> (std::process::Child, Vec<String>) {
    use std::io::BufRead;
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the wsman-harness binary starts");
    let listeners = if args.contains(&"--https-listen") {
        2
    } else {
        1
    };
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut urls = Vec::new();
    for _ in 0..listeners {
        let mut line = String::new();
        out.read_line(&mut line)
            .expect("the server prints its address");
        let Some(rest) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!("serve did not start: {line:?}");
        };
        // The HTTPS line goes on with the certificate thumbprint.
        urls.push(rest.split(' ').next().unwrap_or_default().to_owned());
    }
    (child, urls)
}

/// A `serve` child that is killed when dropped, also when the test fails half way.
pub struct Served {
    pub child: std::process::Child,
    /// One URL per listener, HTTP first.
    pub urls: Vec<String>,
}

impl Served {
    pub fn start(cmd: std::process::Command, args: &[&str], stderr: std::process::Stdio) -> Self {
        let (child, urls) = start_serve(cmd, args, stderr);
        Served { child, urls }
    }

    /// The port of listener `i` (0 = HTTP, 1 = HTTPS).
    pub fn port(&self, i: usize) -> u16 {
        authority(&self.urls[i])
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the listener URL")
    }

    /// Stops the server now (so that its log is complete).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
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
