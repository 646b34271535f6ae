//! Selecting and running cases: parallel where cases are independent, alone where they change
//! the target's configuration; cleanups after every case; waivers applied to the verdicts.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;

use super::case::{Case, CaseInfo, Level, Outcome, Tier, Verdict};
use super::ctx::{Ctx, RunSettings, transport_failure};
use super::profile::{Profile, ProfileName};
use super::waivers::{WaiverState, Waivers};
use crate::client::{Client, Exchange, Request};
use crate::envelope::Body;

/// What to run.
pub struct Plan {
    /// Target, credentials, profile (possibly `Auto`), enumeration resource.
    pub settings: RunSettings,
    /// Cases in catalogue order (already filtered by `select`).
    pub cases: Vec<Case>,
    /// NON-STRICT, SHOULD failures and UNIMPLEMENTED fail the run.
    pub strict: bool,
    /// Run the slow tier.
    pub slow: bool,
    /// Parallel cases.
    pub jobs: usize,
    /// Known failures.
    pub waivers: Waivers,
    /// The day waivers are judged against.
    pub today: NaiveDate,
}

/// One case's result.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case.
    pub case: CaseInfo,
    /// What it concluded.
    pub outcome: Outcome,
    /// The waiver that applies, if any.
    pub waiver: Option<WaiverState>,
    /// Whether this result fails the run (after level, strictness and waivers).
    pub failing: bool,
    /// Why it fails the run when the verdict alone does not say (unexpected pass, expired waiver).
    pub failing_reason: Option<String>,
    /// Cleanup steps that did not work (resources possibly left on the target).
    pub cleanup_problems: Vec<String>,
    /// Every exchange, redacted.
    pub exchanges: Vec<Exchange>,
    /// Duration.
    pub millis: u64,
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Target URL.
    pub target: String,
    /// The profile the run judged against.
    pub profile: ProfileName,
    /// What Identify said (vendor and version).
    pub product: Option<String>,
    /// Strict mode.
    pub strict: bool,
    /// Start, RFC 3339.
    pub started: String,
    /// Duration of the run.
    pub millis: u64,
    /// Results in catalogue order.
    pub results: Vec<CaseResult>,
}

impl RunReport {
    /// Count of each verdict, in report order.
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        Verdict::ALL
            .iter()
            .map(|v| {
                (
                    *v,
                    self.results
                        .iter()
                        .filter(|r| r.outcome.verdict == *v)
                        .count(),
                )
            })
            .collect()
    }

    /// Results that fail the run.
    pub fn failing(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| r.failing)
    }

    /// 0 when nothing fails the run, 1 otherwise.
    pub fn passed(&self) -> bool {
        self.failing().next().is_none()
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be reached or refused the credentials (exit 3).
    #[error("{0}")]
    Unreachable(String),
    /// No case was selected (exit 4).
    #[error("no case selected")]
    NoCases,
}

/// Filters the catalogue by globs; an empty include list selects everything.
pub fn select(
    catalogue: &[Case],
    include: &[String],
    exclude: &[String],
) -> Result<Vec<Case>, String> {
    let compile = |g: &String| glob::Pattern::new(g).map_err(|e| format!("bad pattern {g:?}: {e}"));
    let inc = include.iter().map(compile).collect::<Result<Vec<_>, _>>()?;
    let exc = exclude.iter().map(compile).collect::<Result<Vec<_>, _>>()?;
    Ok(catalogue
        .iter()
        .filter(|c| inc.is_empty() || inc.iter().any(|p| p.matches(c.info.id)))
        .filter(|c| !exc.iter().any(|p| p.matches(c.info.id)))
        .copied()
        .collect())
}

/// Checks that the target answers and accepts the credentials; resolves `auto`; returns the
/// resolved settings and Identify's product line.
pub fn preflight(settings: &RunSettings) -> Result<(RunSettings, Option<String>), RunError> {
    let mut client =
        Client::new(settings.client.clone()).map_err(|e| RunError::Unreachable(e.to_string()))?;
    let reply = client
        .send(Request::soap(Ctx::identify_bytes()))
        .map_err(|e| RunError::Unreachable(e.to_string()))?;
    if reply.status == 401 {
        return Err(RunError::Unreachable(format!(
            "{}: the credentials were refused (HTTP 401)",
            settings.client.target.url()
        )));
    }
    let identify = reply.envelope().ok().and_then(|e| match e.body {
        Body::IdentifyResponse(r) => Some(r),
        _ => None,
    });
    let vendor = identify.as_ref().and_then(|r| r.product_vendor.clone());
    let product = identify.as_ref().map(|r| {
        format!(
            "{} {}",
            r.product_vendor.as_deref().unwrap_or("?"),
            r.product_version.as_deref().unwrap_or("")
        )
        .trim()
        .to_owned()
    });
    let mut resolved = settings.clone();
    if settings.profile.name == ProfileName::Auto {
        resolved.profile = Profile::from_vendor(vendor.as_deref());
    }
    Ok((resolved, product))
}

/// Runs a plan; `progress` sees every result as it completes.
pub fn run(plan: &Plan, progress: &(dyn Fn(&CaseResult) + Sync)) -> Result<RunReport, RunError> {
    if plan.cases.is_empty() {
        return Err(RunError::NoCases);
    }
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let clock = Instant::now();
    let (settings, product) = preflight(&plan.settings)?;
    let slots: Vec<Mutex<Option<CaseResult>>> =
        plan.cases.iter().map(|_| Mutex::new(None)).collect();
    let (shared, alone): (Vec<usize>, Vec<usize>) =
        (0..plan.cases.len()).partition(|i| !plan.cases[*i].info.exclusive);
    let next = AtomicUsize::new(0);
    let run_one = |i: usize| {
        let r = run_case(plan, &settings, plan.cases[i]);
        progress(&r);
        if let Ok(mut s) = slots[i].lock() {
            *s = Some(r);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.max(1).min(shared.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = shared.get(k) else { break };
                    run_one(i);
                }
            });
        }
    });
    for i in alone {
        run_one(i);
    }
    let results = slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect();
    Ok(RunReport {
        target: settings.client.target.url(),
        profile: settings.profile.name,
        product,
        strict: plan.strict,
        started,
        millis: clock.elapsed().as_millis() as u64,
        results,
    })
}

fn run_case(plan: &Plan, settings: &RunSettings, case: Case) -> CaseResult {
    let start = Instant::now();
    let (outcome, exchanges, cleanup_problems) = if case.info.tier == Tier::Slow && !plan.slow {
        (
            Outcome::skipped("slow tier: run with --slow"),
            Vec::new(),
            Vec::new(),
        )
    } else {
        match Ctx::new(settings) {
            Err(e) => (
                transport_failure("client setup", &e),
                Vec::new(),
                Vec::new(),
            ),
            Ok(mut ctx) => {
                let outcome = match (case.run)(&mut ctx) {
                    Ok(o) | Err(o) => o,
                };
                let problems = ctx.cleanup();
                (outcome, ctx.into_log(), problems)
            }
        }
    };
    let waiver = plan.waivers.lookup(case.info.id, plan.today);
    let (failing, failing_reason) = judge(&case.info, &outcome, waiver.as_ref(), plan.strict);
    CaseResult {
        case: case.info,
        outcome,
        waiver,
        failing,
        failing_reason,
        cleanup_problems,
        exchanges,
        millis: start.elapsed().as_millis() as u64,
    }
}

/// Whether a result fails the run, and why when the verdict alone does not say.
pub fn judge(
    info: &CaseInfo,
    outcome: &Outcome,
    waiver: Option<&WaiverState>,
    strict: bool,
) -> (bool, Option<String>) {
    let counts = match info.level {
        Level::Must => true,
        Level::Should => strict,
        Level::Info => false,
    };
    let bad = counts
        && match outcome.verdict {
            Verdict::Failed | Verdict::WrongFault => true,
            Verdict::NonStrict | Verdict::Unimplemented => strict,
            Verdict::Ok | Verdict::Informational | Verdict::Skipped => false,
        };
    match waiver {
        Some(WaiverState::Expired { expires, .. }) => {
            (true, Some(format!("the waiver expired on {expires}")))
        }
        Some(WaiverState::Active { .. }) if bad => (false, None),
        Some(WaiverState::Active { .. })
            if matches!(outcome.verdict, Verdict::Ok | Verdict::NonStrict) =>
        {
            (
                true,
                Some("unexpected pass: the case is waived but passes; remove the waiver".into()),
            )
        }
        _ => (bad, None),
    }
}
