//! Confirming and minimising a finding: the case is run again on a fresh connection (after a
//! restart when the server went down); then steps, wire mutations and XML elements are taken
//! away one at a time, keeping each removal after which the same kind of finding still occurs.
//! The result is the shortest step sequence and smallest tree found within the budget.

use std::time::{Duration, Instant};

use super::exec::{Exec, FuzzTarget};
use super::generate::{count, remove_nth, render};
use super::oracle::{Bucket, Liveness, Suspicion, confirm_with_probe, judge};
use super::restart::Restarter;
use crate::scenario::Scenario;

/// Runs a case once on new connections and judges it; a server that went down is brought
/// back (when it can be) so that the next attempt finds it up.
pub fn attempt(
    target: &FuzzTarget,
    case: &Scenario,
    restarter: &Restarter,
) -> Result<Option<Suspicion>, String> {
    restarter.ensure_up(target)?;
    let mut exec = Exec::new(target.clone());
    let outcomes = exec.run(case);
    drop(exec);
    let Some(s) = judge(&outcomes) else {
        return Ok(None);
    };
    let (s, live) = confirm_with_probe(s, target);
    if live != Liveness::Alive {
        restarter.restart(target)?;
    }
    Ok(Some(s))
}

/// What minimisation achieved.
#[derive(Clone, Debug)]
pub struct Minimised {
    /// The smallest case that still shows the finding.
    pub case: Scenario,
    /// The suspicion it shows.
    pub suspicion: Suspicion,
    /// Steps and elements before and after.
    pub steps: (usize, usize),
    /// Elements of the failing step's request before and after.
    pub elements: (usize, usize),
    /// Runs made.
    pub attempts: usize,
}

/// Shrinks `case`, which showed `found`, within `budget` (time) and `max_attempts` runs.
pub fn minimise(
    target: &FuzzTarget,
    case: &Scenario,
    found: &Suspicion,
    restarter: &Restarter,
    budget: Duration,
    max_attempts: usize,
) -> Result<Minimised, String> {
    let start = Instant::now();
    let bucket = found.bucket;
    let mut best = case.clone();
    let mut best_s = found.clone();
    let mut attempts = 0usize;
    let elements_before = count(&case.steps[found.step].request_tree);
    let steps_before = case.steps.len();
    let try_it =
        |candidate: &Scenario, attempts: &mut usize| -> Result<Option<Suspicion>, String> {
            if *attempts >= max_attempts || start.elapsed() > budget {
                return Ok(None);
            }
            *attempts += 1;
            Ok(attempt(target, candidate, restarter)?.filter(|s| same_kind(s.bucket, bucket)))
        };
    // Steps after the failing one never matter.
    if best.steps.len() > best_s.step + 1 {
        let mut c = best.clone();
        c.steps.truncate(best_s.step + 1);
        if let Some(s) = try_it(&c, &mut attempts)? {
            best = c;
            best_s = s;
        }
    }
    // Earlier steps, from the last to the first.
    let mut i = best.steps.len();
    while i > 0 {
        i -= 1;
        if best.steps.len() == 1 {
            break;
        }
        let mut c = best.clone();
        c.steps.remove(i);
        if let Some(s) = try_it(&c, &mut attempts)? {
            best = c;
            best_s = s;
        }
    }
    // Wire mutations one by one.
    for si in 0..best.steps.len() {
        let mut j = best.steps[si].wire.len();
        while j > 0 {
            j -= 1;
            let mut c = best.clone();
            c.steps[si].wire.remove(j);
            if let Some(s) = try_it(&c, &mut attempts)? {
                best = c;
                best_s = s;
            }
        }
    }
    // Elements of the failing step's request, from the last in document order (removing a
    // later element never renumbers an earlier one).
    let si = best_s.step.min(best.steps.len() - 1);
    let mut n = count(&best.steps[si].request_tree);
    while n > 1 {
        n -= 1;
        let mut c = best.clone();
        if remove_nth(std::sync::Arc::make_mut(&mut c.steps[si].request_tree), n).is_none() {
            continue;
        }
        c.steps[si].request = render(&c.steps[si].request_tree);
        if let Some(s) = try_it(&c, &mut attempts)? {
            best = c;
            best_s = s;
        }
    }
    let elements_after = count(&best.steps[si].request_tree);
    Ok(Minimised {
        steps: (steps_before, best.steps.len()),
        elements: (elements_before, elements_after),
        case: best,
        suspicion: best_s,
        attempts,
    })
}

/// A crash seen as a hang (or the reverse) on a second run is the same failure: a server that
/// dies mid-request may first look wedged.
fn same_kind(a: Bucket, b: Bucket) -> bool {
    a == b
        || matches!(
            (a, b),
            (Bucket::Crash, Bucket::Hang) | (Bucket::Hang, Bucket::Crash)
        )
}
