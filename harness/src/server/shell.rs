//! Remote shells with a deterministic built-in command set: the reference server never runs host
//! processes, so what a client sees is the same on every machine.
//!
//! Commands (the first word, case-insensitive; `cmd /c` prefixes are stripped):
//! `echo ARGS…` prints its arguments; `exit N` ends with code N; `hostname` prints the machine
//! name; `type`/`more`/`findstr` copy stdin to stdout once stdin ends; `big N` prints N lines;
//! anything else fails like cmd.exe does (code 1, message on stderr).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One command's state.
#[derive(Debug, Default)]
pub struct Command {
    /// Output not yet received, per stream.
    pub stdout: Vec<u8>,
    /// Output not yet received.
    pub stderr: Vec<u8>,
    /// Exit code once done.
    pub exit_code: Option<i32>,
    /// Copies stdin to stdout when stdin ends.
    pub echo_stdin: bool,
    /// stdin received so far.
    pub stdin: Vec<u8>,
}

/// One shell.
#[derive(Debug)]
pub struct Shell {
    /// The owner (authenticated user).
    pub owner: String,
    /// Commands by id.
    pub commands: HashMap<String, Command>,
    /// When the shell was created (MaxShellRunTime counts from here).
    pub created: Instant,
    /// Last request that touched the shell (IdleTimeout counts from here).
    pub last_used: Instant,
}

impl Shell {
    /// A new shell for a user.
    pub fn new(owner: &str) -> Self {
        let now = Instant::now();
        Self {
            owner: owner.to_owned(),
            commands: HashMap::new(),
            created: now,
            last_used: now,
        }
    }

    /// True while neither IdleTimeout nor MaxShellRunTime (0: unlimited) has run out
    /// (MS-WSMV 3.1.4.1.31.7-8: the service deletes such shells).
    pub fn alive(&self, idle: Duration, max_run: Duration) -> bool {
        self.last_used.elapsed() < idle && (max_run.is_zero() || self.created.elapsed() < max_run)
    }
}

/// Starts a command line in a shell.
pub fn run(command: &str, args: &[String], machine: &str) -> Command {
    let mut words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
    words.extend(
        args.iter()
            .flat_map(|a| a.split_whitespace().map(str::to_owned)),
    );
    while words.len() >= 2
        && words[0].eq_ignore_ascii_case("cmd")
        && words[1].eq_ignore_ascii_case("/c")
    {
        words.drain(..2);
    }
    let mut c = Command::default();
    let Some(first) = words.first() else {
        c.exit_code = Some(0);
        return c;
    };
    let rest = words[1..].join(" ");
    match first.to_ascii_lowercase().as_str() {
        "echo" => {
            c.stdout = format!("{rest}\r\n").into_bytes();
            c.exit_code = Some(0);
        }
        "exit" => c.exit_code = Some(rest.trim().parse().unwrap_or(0)),
        "hostname" => {
            c.stdout = format!("{machine}\r\n").into_bytes();
            c.exit_code = Some(0);
        }
        "type" | "more" | "findstr" if words.len() == 1 => c.echo_stdin = true,
        "big" => {
            let n: usize = rest.trim().parse().unwrap_or(1000).min(1_000_000);
            for i in 0..n {
                c.stdout
                    .extend_from_slice(format!("line {i:08}\r\n").as_bytes());
            }
            c.exit_code = Some(0);
        }
        _ => {
            c.stderr = format!(
                "'{first}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
            )
            .into_bytes();
            c.exit_code = Some(1);
        }
    }
    c
}

impl Command {
    /// Takes stdin; `end` closes it.
    pub fn send(&mut self, data: &[u8], end: bool) {
        self.stdin.extend_from_slice(data);
        if end && self.exit_code.is_none() {
            if self.echo_stdin {
                self.stdout.append(&mut self.stdin);
            }
            self.exit_code = Some(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_expire_when_idle_or_too_old() {
        let s = Shell::new("u");
        let long = Duration::from_secs(3600);
        assert!(s.alive(long, long));
        assert!(
            s.alive(long, Duration::ZERO),
            "MaxShellRunTime 0 means unlimited"
        );
        std::thread::sleep(Duration::from_millis(5));
        assert!(!s.alive(Duration::from_millis(1), long), "idle too long");
        assert!(!s.alive(long, Duration::from_millis(1)), "ran too long");
    }

    #[test]
    fn built_ins_behave_like_cmd() {
        let c = run("echo", &["hello".into(), "world".into()], "M");
        assert_eq!(
            (c.stdout.as_slice(), c.exit_code),
            (&b"hello world\r\n"[..], Some(0))
        );
        assert_eq!(run("cmd /c exit 3", &[], "M").exit_code, Some(3));
        assert_eq!(run("hostname", &[], "M").stdout, b"M\r\n");
        let bad = run("frobnicate", &[], "M");
        assert_eq!(bad.exit_code, Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("is not recognized"));
        let mut t = run("type", &[], "M");
        assert_eq!(t.exit_code, None);
        t.send(b"abc", false);
        t.send(b"def", true);
        assert_eq!(
            (t.stdout.as_slice(), t.exit_code),
            (&b"abcdef"[..], Some(0))
        );
        assert_eq!(run("big 3", &[], "M").stdout.len(), 3 * 15);
    }
}
