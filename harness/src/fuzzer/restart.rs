//! Bringing a crashed target back: `--restart-cmd` runs through the platform's shell (`sh -c`,
//! or `cmd /C` on Windows), then the liveness probe is polled until the server answers.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::exec::FuzzTarget;
use super::oracle::{Liveness, probe};

/// Restarts a target, when the user said how.
pub struct Restarter {
    command: Option<String>,
    /// How long the server may take to answer after the command.
    pub wait: Duration,
    restarts: AtomicU64,
}

impl Restarter {
    /// A restarter for this command (none: a down target ends the run).
    pub fn new(command: Option<String>, wait: Duration) -> Self {
        Self {
            command,
            wait,
            restarts: AtomicU64::new(0),
        }
    }

    /// Restarts made so far.
    pub fn count(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Ok when the target answers, restarting it first if it does not.
    pub fn ensure_up(&self, target: &FuzzTarget) -> Result<(), String> {
        match probe(target) {
            Liveness::Alive => Ok(()),
            _ => self.restart(target),
        }
    }

    /// Runs the command and waits until the target answers.
    pub fn restart(&self, target: &FuzzTarget) -> Result<(), String> {
        let Some(cmd) = &self.command else {
            return Err("the target is down and no --restart-cmd was given".into());
        };
        let (shell, flag) = if cfg!(windows) {
            ("cmd", "/C")
        } else {
            ("sh", "-c")
        };
        let mut child = Command::new(shell)
            .args([flag, cmd])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("--restart-cmd could not start: {e}"))?;
        let deadline = Instant::now() + self.wait;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if !status.success() => {
                    return Err(format!("--restart-cmd failed ({status})"));
                }
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("--restart-cmd still running after {:?}", self.wait));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(format!("--restart-cmd: {e}")),
            }
        }
        self.restarts.fetch_add(1, Ordering::Relaxed);
        loop {
            if probe(target) == Liveness::Alive {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the target did not answer within {:?} of --restart-cmd",
                    self.wait
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
