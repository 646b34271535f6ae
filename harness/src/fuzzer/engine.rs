//! The fuzzing loop: workers take case numbers from a shared counter, run and judge them;
//! a suspicious case takes the gate exclusively (the other workers finish their case and
//! wait) to be probed, confirmed on a quiet server, minimised and written as a reproducer.
//! Collateral failures of cases that ran while the server was down do not reproduce on the
//! quiet server and are counted as unconfirmed, never reported as findings.
//!
//! The engine prints nothing: it reports [`Event`]s and returns a [`Summary`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use super::exec::{Exec, FuzzTarget};
use super::generate::{Case, Generator, label_kind};
use super::minimise::{attempt, minimise};
use super::mutation::Layer;
use super::oracle::{Bucket, Liveness, Suspicion, confirm_with_probe, judge};
use super::reproducer::write_reproducer;
use super::restart::Restarter;

/// How long and how hard to fuzz.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The run seed (the same seed repeats the same cases).
    pub seed: u64,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Parallel workers (connections).
    pub jobs: usize,
    /// Where reproducers and the summary go.
    pub out: Option<PathBuf>,
    /// Distinct findings written per bucket.
    pub max_per_bucket: usize,
    /// Time for minimising one finding.
    pub minimise_budget: Duration,
    /// Runs for minimising one finding.
    pub minimise_attempts: usize,
}

/// What the engine reports while it runs.
#[derive(Clone, Debug)]
pub enum Event {
    /// Cases done so far, with the number of distinct findings.
    Progress {
        /// Cases run.
        cases: u64,
        /// Distinct confirmed findings.
        findings: usize,
    },
    /// A confirmed, minimised finding.
    Finding(Finding),
    /// The target was restarted.
    Restarted {
        /// How many restarts so far.
        count: u64,
    },
}

/// A confirmed finding.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    /// The kind.
    pub bucket: Bucket,
    /// What groups equal findings: bucket, failing Action, mutation kinds.
    pub signature: String,
    /// What the oracle saw (minimised case).
    pub detail: String,
    /// The case that found it.
    pub case: u64,
    /// The seed scenario it came from.
    pub origin: String,
    /// What was done to the case.
    pub mutations: Vec<String>,
    /// Steps before and after minimisation.
    pub steps: (usize, usize),
    /// Elements of the failing request before and after minimisation.
    pub elements: (usize, usize),
    /// The reproducer scenario file.
    pub reproducer: Option<PathBuf>,
    /// The `#[test]` snippet.
    pub test: Option<PathBuf>,
    /// Cases that showed this signature.
    pub occurrences: u64,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    /// The run seed.
    pub seed: u64,
    /// Cases run.
    pub cases: u64,
    /// Requests sent in cases (handshake legs and clean-up not counted).
    pub steps: u64,
    /// Wall time.
    pub seconds: f64,
    /// Cases per second.
    pub cases_per_second: f64,
    /// Cases per mutated layer.
    pub layers: BTreeMap<Layer, u64>,
    /// Suspicious cases per bucket, duplicates and unconfirmed included.
    pub suspicious: BTreeMap<Bucket, u64>,
    /// Distinct confirmed findings.
    pub findings: Vec<Finding>,
    /// Suspicions that did not happen again on a quiet server.
    pub unconfirmed: u64,
    /// Target restarts.
    pub restarts: u64,
    /// A digest of every case generated (equal for equal seeds and case counts).
    pub digest: String,
    /// Why the run stopped early.
    pub stopped: Option<String>,
}

struct Shared {
    summary: Mutex<Summary>,
    seen: Mutex<HashMap<String, usize>>,
    digest: AtomicU64,
    stop: AtomicBool,
}

/// Runs the loop until the case count or the duration is reached, or the target is down for
/// good.
pub fn run(
    target: &FuzzTarget,
    generator: &Generator,
    settings: &Settings,
    restarter: &Restarter,
    on_event: &(dyn Fn(Event) + Sync),
) -> Summary {
    let start = Instant::now();
    if generator.seeds().is_empty() {
        return Summary {
            seed: settings.seed,
            stopped: Some("no seed scenario to start from".into()),
            ..Summary::default()
        };
    }
    let next = AtomicU64::new(0);
    let gate = RwLock::new(());
    let shared = Shared {
        summary: Mutex::new(Summary {
            seed: settings.seed,
            ..Summary::default()
        }),
        seen: Mutex::new(HashMap::new()),
        digest: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    let done = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..settings.jobs.max(1) {
            scope.spawn(|| {
                let mut exec = Exec::new(target.clone());
                loop {
                    if shared.stop.load(Ordering::Relaxed)
                        || settings.duration.is_some_and(|d| start.elapsed() >= d)
                    {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if settings.cases.is_some_and(|n| index >= n) {
                        break;
                    }
                    let case = generator.case(settings.seed, index);
                    shared
                        .digest
                        .fetch_add(case_digest(&case), Ordering::Relaxed);
                    let guard = gate.read().unwrap_or_else(|e| e.into_inner());
                    let outcomes = exec.run(&case.scenario);
                    drop(guard);
                    let suspicion = judge(&outcomes);
                    {
                        let mut s = lock(&shared.summary);
                        s.cases += 1;
                        s.steps += outcomes.len() as u64;
                        *s.layers.entry(case_layer(&case)).or_default() += 1;
                    }
                    if let Some(sus) = suspicion {
                        exec.disconnect();
                        let action = outcomes
                            .get(sus.step)
                            .map_or("-".to_owned(), |o| o.action.clone());
                        let _exclusive = gate.write().unwrap_or_else(|e| e.into_inner());
                        handle(
                            target, restarter, settings, &shared, &case, sus, &action, on_event,
                        );
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(250) {
                        let findings = lock(&shared.summary).findings.len();
                        on_event(Event::Progress { cases: n, findings });
                    }
                }
            });
        }
    });
    let mut s = shared
        .summary
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    s.seconds = start.elapsed().as_secs_f64();
    s.cases_per_second = if s.seconds > 0.0 {
        s.cases as f64 / s.seconds
    } else {
        0.0
    };
    s.restarts = restarter.count();
    s.digest = format!("{:016x}", shared.digest.load(Ordering::Relaxed) ^ s.cases);
    s
}

#[allow(clippy::too_many_arguments)]
fn handle(
    target: &FuzzTarget,
    restarter: &Restarter,
    settings: &Settings,
    shared: &Shared,
    case: &Case,
    sus: Suspicion,
    action: &str,
    on_event: &(dyn Fn(Event) + Sync),
) {
    let (sus, live) = confirm_with_probe(sus, target);
    *lock(&shared.summary)
        .suspicious
        .entry(sus.bucket)
        .or_default() += 1;
    if live != Liveness::Alive {
        let before = restarter.count();
        if let Err(e) = restarter.restart(target) {
            // Keep the evidence even though it cannot be confirmed.
            record(shared, settings, case, &sus, action, None, on_event);
            lock(&shared.summary).stopped = Some(e);
            shared.stop.store(true, Ordering::Relaxed);
            return;
        }
        if restarter.count() > before {
            on_event(Event::Restarted {
                count: restarter.count(),
            });
        }
    }
    let signature = signature(sus.bucket, action, case);
    {
        let mut seen = lock(&shared.seen);
        if let Some(i) = seen.get(&signature) {
            let mut s = lock(&shared.summary);
            if let Some(f) = s.findings.get_mut(*i) {
                f.occurrences += 1;
            }
            return;
        }
        let per_bucket = lock(&shared.summary)
            .findings
            .iter()
            .filter(|f| f.bucket == sus.bucket)
            .count();
        if per_bucket >= settings.max_per_bucket {
            return;
        }
        seen.insert(signature.clone(), usize::MAX);
    }
    // Confirm on a quiet server, then minimise.
    match attempt(target, &case.scenario, restarter) {
        Ok(Some(again)) if again.bucket == sus.bucket || live != Liveness::Alive => {
            let m = minimise(
                target,
                &case.scenario,
                &again,
                restarter,
                settings.minimise_budget,
                settings.minimise_attempts,
            );
            match m {
                Ok(m) => {
                    let min = Some((m.case, m.suspicion, m.steps, m.elements));
                    record(shared, settings, case, &sus, action, min, on_event);
                }
                Err(e) => {
                    record(shared, settings, case, &sus, action, None, on_event);
                    lock(&shared.summary).stopped = Some(e);
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        Ok(_) => {
            lock(&shared.summary).unconfirmed += 1;
            lock(&shared.seen).remove(&signature);
        }
        Err(e) => {
            record(shared, settings, case, &sus, action, None, on_event);
            lock(&shared.summary).stopped = Some(e);
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
}

type Min = (
    crate::scenario::Scenario,
    Suspicion,
    (usize, usize),
    (usize, usize),
);

fn record(
    shared: &Shared,
    settings: &Settings,
    case: &Case,
    sus: &Suspicion,
    action: &str,
    minimised: Option<Min>,
    on_event: &(dyn Fn(Event) + Sync),
) {
    let signature = signature(sus.bucket, action, case);
    let n = lock(&shared.summary)
        .findings
        .iter()
        .filter(|f| f.bucket == sus.bucket)
        .count()
        + 1;
    let steps_before = case.scenario.steps.len();
    let (scenario, shown, steps, elements) = match minimised {
        Some((c, s, steps, elements)) => (c, s, steps, elements),
        None => {
            let e = case
                .scenario
                .steps
                .get(sus.step)
                .map_or(0, |s| super::generate::count(&s.request_tree));
            (
                case.scenario.clone(),
                sus.clone(),
                (steps_before, steps_before),
                (e, e),
            )
        }
    };
    let how = format!(
        "found by wsman-harness fuzz --seed {} (case {}, from scenario {})",
        settings.seed, case.index, case.origin
    );
    let (reproducer, test) = match &settings.out {
        Some(dir) => match write_reproducer(dir, n, &scenario, &shown, &how) {
            Ok((r, t)) => (Some(r), Some(t)),
            Err(e) => {
                lock(&shared.summary).stopped = Some(format!(
                    "cannot write a reproducer in {}: {e}",
                    dir.display()
                ));
                (None, None)
            }
        },
        None => (None, None),
    };
    let finding = Finding {
        bucket: shown.bucket,
        signature: signature.clone(),
        detail: shown.detail.clone(),
        case: case.index,
        origin: case.origin.clone(),
        mutations: case.labels.clone(),
        steps,
        elements,
        reproducer,
        test,
        occurrences: 1,
    };
    let index = {
        let mut s = lock(&shared.summary);
        s.findings.push(finding.clone());
        s.findings.len() - 1
    };
    lock(&shared.seen).insert(signature, index);
    on_event(Event::Finding(finding));
}

/// Bucket, failing Action and the kinds of mutation: equal signatures are one finding.
fn signature(bucket: Bucket, action: &str, case: &Case) -> String {
    let mut kinds: Vec<String> = case
        .labels
        .iter()
        .map(|l| label_kind(l).into_owned())
        .collect();
    kinds.sort();
    kinds.dedup();
    format!("{bucket}|{action}|{}", kinds.join("+"))
}

fn case_layer(case: &Case) -> Layer {
    let Some(first) = case.labels.first() else {
        return Layer::State;
    };
    if first.starts_with("tree:") {
        Layer::Tree
    } else if first.starts_with("state:") {
        Layer::State
    } else {
        case.scenario.steps[case.target]
            .wire
            .first()
            .map_or(Layer::Bytes, |m| m.layer())
    }
}

/// FNV-1a over what makes a case: origin, labels, every request and its wire list.
fn case_digest(case: &Case) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for x in b {
            h ^= u64::from(*x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(case.origin.as_bytes());
    for l in &case.labels {
        eat(l.as_bytes());
    }
    for s in &case.scenario.steps {
        eat(s.request.as_bytes());
        for w in &s.wire {
            eat(w.to_string().as_bytes());
        }
    }
    h.wrapping_add(case.index)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
