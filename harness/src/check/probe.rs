//! Limit discovery (`wsman-harness probe`): the limits a server actually enforces, found by
//! measurement, next to what it declares (its `winrm/config`, when readable) and the profile's
//! default, each with the exchanges that show it. It reads and measures; it changes nothing
//! on the target.
//!
//! - **Envelope size** (MaxEnvelopeSizekb): authenticated Identify requests padded with
//!   whitespace, sizes doubled from 8 KiB until one is refused (HTTP 413 or w:EncodingLimit),
//!   then bisected to the byte.
//! - **Items per batch** (MaxBatchItems): an optimized Enumerate asking for more items than the
//!   declared (or default) MaxBatchItems; what limited the answer is named: the clamp, the end of
//!   the collection, or the response's envelope size.
//! - **OperationTimeout clamp** (MaxTimeoutms, `slow`): a Receive on a command waiting for
//!   stdin, asking for 30 s more than the declared maximum; the time until w:TimedOut is the
//!   enforced maximum.

use std::time::{Duration, Instant};

use super::case::Outcome;
use super::cases::{limits::identify_of_size, shell, transfer::config_value};
use super::ctx::{Cleanup, Ctx, Reply, RunSettings};
use crate::envelope::{Body, Enumerate};
use crate::ns::action;

/// Largest request the envelope probe sends by default.
pub const DEFAULT_SIZE_CAP: usize = 4 << 20;
/// Smallest size the doubling starts from (DSP0226's minimum MaxEnvelopeSize).
const START: usize = 8192;

/// What to measure.
#[derive(Clone, Debug)]
pub struct ProbeSettings {
    /// Largest request sent while looking for the envelope limit.
    pub size_cap: usize,
    /// Measure the OperationTimeout clamp (waits up to MaxTimeoutms + 30 s).
    pub slow: bool,
}

/// One limit.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Limit {
    /// The WinRM setting it corresponds to.
    pub setting: &'static str,
    /// The unit of `declared`, `enforced` and `default`.
    pub unit: &'static str,
    /// What the target's configuration says (`None` when it cannot be read).
    pub declared: Option<u64>,
    /// Why `declared` is missing.
    pub declared_note: Option<String>,
    /// What was measured.
    pub enforced: Measured,
    /// The profile's default.
    pub default: Option<u64>,
    /// The exchanges that show it, one line each.
    pub evidence: Vec<String>,
}

/// A measurement.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Measured {
    /// The limit, exactly.
    Exactly {
        /// Value.
        value: u64,
    },
    /// At least this much: something else stopped the measurement first.
    AtLeast {
        /// Value.
        value: u64,
        /// What stopped it.
        because: String,
    },
    /// Not measured.
    NotMeasured {
        /// Why.
        because: String,
    },
}

impl Limit {
    /// True when the measurement contradicts the declared value.
    pub fn contradicts_declared(&self) -> bool {
        match (&self.enforced, self.declared) {
            (Measured::Exactly { value }, Some(d)) => *value != d,
            (Measured::AtLeast { value, .. }, Some(d)) => *value > d,
            _ => false,
        }
    }
}

/// The probe's findings.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProbeReport {
    /// The target URL.
    pub target: String,
    /// The profile the defaults come from.
    pub profile: String,
    /// Every limit.
    pub limits: Vec<Limit>,
    /// Requests sent.
    pub exchanges: usize,
}

/// Runs the probes; `Err` when the target cannot be reached at all.
pub fn probe(settings: &RunSettings, what: &ProbeSettings) -> Result<ProbeReport, String> {
    let mut ctx = Ctx::new(settings).map_err(|e| e.to_string())?;
    // Reachable and authenticated, or nothing else is worth trying.
    let first = ctx
        .call_bytes(Ctx::identify_bytes())
        .map_err(|o| o.summary)?;
    if first.response.status != 200 {
        return Err(format!("Identify answered {}", first.describe()));
    }
    let mut limits = vec![envelope_limit(&mut ctx, what.size_cap)];
    limits.push(batch_limit(&mut ctx));
    limits.push(if what.slow {
        timeout_limit(&mut ctx)
    } else {
        let mut l = declared_limit(&mut ctx, "MaxTimeoutms", "ms");
        l.enforced = Measured::NotMeasured {
            because: "waits up to MaxTimeoutms + 30 s: run with --slow".into(),
        };
        l
    });
    let _ = ctx.cleanup();
    let exchanges = ctx.into_log().len();
    Ok(ProbeReport {
        target: settings.client.target.url(),
        profile: settings.profile.name.as_str().to_owned(),
        limits,
        exchanges,
    })
}

/// A limit with its declared and default values filled in.
fn declared_limit(ctx: &mut Ctx<'_>, setting: &'static str, unit: &'static str) -> Limit {
    let (declared, declared_note) = if ctx.profile().winrm() {
        match config_value(ctx, "", setting) {
            Ok(v) => match v.parse::<u64>() {
                Ok(n) => (Some(n), None),
                Err(_) => (None, Some(format!("winrm/config says {v:?}, not a number"))),
            },
            Err(o) => (
                None,
                Some(format!("winrm/config not readable: {}", o.summary)),
            ),
        }
    } else {
        (None, Some("not a WinRM target (no winrm/config)".into()))
    };
    Limit {
        setting,
        unit,
        declared,
        declared_note,
        enforced: Measured::NotMeasured {
            because: "not measured".into(),
        },
        default: ctx.profile().number(setting),
        evidence: Vec::new(),
    }
}

/// How the target answered a padded Identify.
enum SizeAnswer {
    Accepted,
    Refused(String),
    Other(String),
}

fn try_size(ctx: &mut Ctx<'_>, size: usize, evidence: &mut Vec<String>) -> SizeAnswer {
    let answer = match ctx.call_bytes(identify_of_size(size)) {
        Err(o) => SizeAnswer::Other(o.summary),
        Ok(r) => classify(&r),
    };
    let said = match &answer {
        SizeAnswer::Accepted => "accepted (IdentifyResponse)".to_owned(),
        SizeAnswer::Refused(how) => format!("refused: {how}"),
        SizeAnswer::Other(what) => format!("unexpected: {what}"),
    };
    evidence.push(format!("Identify of {size} bytes: {said}"));
    answer
}

fn classify(r: &Reply) -> SizeAnswer {
    if r.response.status == 413 {
        return SizeAnswer::Refused("HTTP 413".into());
    }
    if let Some(f) = r.fault()
        && f.subcode
            .as_ref()
            .is_some_and(|s| s.local == "EncodingLimit")
    {
        return SizeAnswer::Refused(format!("HTTP {} w:EncodingLimit", r.response.status));
    }
    match r.body() {
        Some(Body::IdentifyResponse(_)) if r.response.status == 200 => SizeAnswer::Accepted,
        _ => SizeAnswer::Other(r.describe()),
    }
}

fn envelope_limit(ctx: &mut Ctx<'_>, cap: usize) -> Limit {
    let mut l = declared_limit(ctx, "MaxEnvelopeSizekb", "bytes");
    l.declared = l.declared.map(|kb| kb * 1024);
    l.default = l.default.map(|kb| kb * 1024);
    let mut evidence = Vec::new();
    // Double until refused.
    let mut ok = 0usize;
    let mut size = START;
    let refused = loop {
        if size > cap {
            break None;
        }
        match try_size(ctx, size, &mut evidence) {
            SizeAnswer::Accepted => ok = size,
            SizeAnswer::Refused(_) => break Some(size),
            SizeAnswer::Other(what) => {
                l.enforced = Measured::NotMeasured {
                    because: format!("at {size} bytes: {what}"),
                };
                l.evidence = evidence;
                return l;
            }
        }
        size = (size * 2).min(if size < cap { cap } else { size + 1 });
    };
    let Some(mut bad) = refused else {
        l.enforced = Measured::AtLeast {
            value: ok as u64,
            because: format!("nothing up to the probe's cap of {cap} bytes was refused"),
        };
        l.evidence = evidence;
        return l;
    };
    if ok == 0 {
        l.enforced = Measured::NotMeasured {
            because: format!("already {START} bytes were refused"),
        };
        l.evidence = evidence;
        return l;
    }
    // Bisect: `ok` accepted, `bad` refused.
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        match try_size(ctx, mid, &mut evidence) {
            SizeAnswer::Accepted => ok = mid,
            SizeAnswer::Refused(_) => bad = mid,
            SizeAnswer::Other(what) => {
                l.enforced = Measured::AtLeast {
                    value: ok as u64,
                    because: format!("at {mid} bytes: {what}"),
                };
                l.evidence = evidence;
                return l;
            }
        }
    }
    l.enforced = Measured::Exactly { value: ok as u64 };
    // The two exchanges at the boundary say it; the search before them is summarised.
    let n = evidence.len();
    l.evidence = evidence
        .into_iter()
        .enumerate()
        .filter(|(i, e)| {
            *i + 2 >= n
                || e.contains(&format!(" {ok} bytes"))
                || e.contains(&format!(" {bad} bytes"))
        })
        .map(|(_, e)| e)
        .collect();
    l.evidence.insert(
        0,
        format!("{n} requests: doubled from {START} bytes, then bisected"),
    );
    l
}

fn batch_limit(ctx: &mut Ctx<'_>) -> Limit {
    let mut l = declared_limit(ctx, "MaxBatchItems", "items");
    let asked = l.declared.or(l.default).unwrap_or(32000) + 1000;
    let resource = ctx.settings.enumerate_resource.clone();
    let req = ctx
        .req(action::ENUMERATE, &resource)
        .max_envelope(ctx.profile().max_envelope_bytes())
        .body(Body::Enumerate(Enumerate {
            optimize: true,
            max_elements: Some(asked.to_string()),
            ..Enumerate::default()
        }));
    let reply = match ctx.call(&req) {
        Ok(r) => r,
        Err(o) => {
            l.enforced = Measured::NotMeasured { because: o.summary };
            return l;
        }
    };
    let batch = match reply.body() {
        Some(Body::EnumerateResponse(r)) => r.0.clone(),
        _ => {
            l.enforced = Measured::NotMeasured {
                because: format!("Enumerate of {resource} answered {}", reply.describe()),
            };
            l.evidence.push(format!(
                "optimized Enumerate, MaxElements {asked}: {}",
                reply.describe()
            ));
            return l;
        }
    };
    if let Some(c) = batch
        .context
        .clone()
        .filter(|c| !c.trim().is_empty() && batch.end_of_sequence.is_none())
    {
        ctx.defer(Cleanup::Release(resource.clone(), c));
    }
    let n = batch.item_count() as u64;
    let size = reply.response.body.len();
    let envelope = ctx.profile().max_envelope_bytes();
    l.evidence.push(format!(
        "optimized Enumerate of {resource}, MaxElements {asked}: {n} items in {size} bytes{}",
        if batch.end_of_sequence.is_some() {
            ", EndOfSequence"
        } else {
            ""
        }
    ));
    l.enforced = if batch.end_of_sequence.is_some() {
        Measured::AtLeast {
            value: n,
            because: format!("the collection ended after {n} items"),
        }
    } else if size + 2048 >= envelope {
        Measured::AtLeast {
            value: n,
            because: format!("the response filled the {envelope}-byte envelope"),
        }
    } else if n == 0 {
        Measured::NotMeasured {
            because: "no items in an optimized EnumerateResponse".into(),
        }
    } else {
        Measured::Exactly { value: n }
    };
    l
}

fn timeout_limit(ctx: &mut Ctx<'_>) -> Limit {
    let mut l = declared_limit(ctx, "MaxTimeoutms", "ms");
    if !ctx.profile().winrm() {
        l.enforced = Measured::NotMeasured {
            because: "needs a WinRS shell".into(),
        };
        return l;
    }
    let max = l.declared.or(l.default).unwrap_or(60_000);
    let asked = Duration::from_millis(max + 30_000);
    let measured = (|| -> Result<(Duration, Reply), Outcome> {
        let id = shell::create_shell(ctx)?;
        // A command that waits for stdin: no output until the client sends some.
        let cid = shell::command(ctx, &id, "more", &[])?;
        let req = shell::receive_req(ctx, &id, &cid).timeout(&crate::duration::format(asked));
        let mut request = crate::client::Request::soap(req.bytes());
        request.timeout = Some(asked + Duration::from_secs(30));
        let start = Instant::now();
        let reply = ctx.send(request)?;
        Ok((start.elapsed(), reply))
    })();
    match measured {
        Err(o) => l.enforced = Measured::NotMeasured { because: o.summary },
        Ok((waited, reply)) => {
            let timed_out = reply
                .fault()
                .and_then(|f| f.subcode.as_ref())
                .is_some_and(|s| s.local == "TimedOut");
            l.evidence.push(format!(
                "Receive on a command waiting for stdin, OperationTimeout {}: {} after {} ms",
                crate::duration::format(asked),
                reply.describe(),
                waited.as_millis()
            ));
            l.enforced = if !timed_out {
                Measured::NotMeasured {
                    because: "the Receive did not end with w:TimedOut".into(),
                }
            } else if waited + Duration::from_secs(5) >= asked {
                Measured::AtLeast {
                    value: waited.as_millis() as u64,
                    because: "the requested OperationTimeout was honoured in full (not clamped)"
                        .into(),
                }
            } else {
                // Servers poll; a clamp reads as the wait rounded to the nearest 100 ms.
                Measured::Exactly {
                    value: (waited.as_millis() as u64 + 50) / 100 * 100,
                }
            };
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradictions_are_what_the_measurement_rules_out() {
        let l = |enforced, declared| Limit {
            setting: "MaxEnvelopeSizekb",
            unit: "bytes",
            declared,
            declared_note: None,
            enforced,
            default: None,
            evidence: vec![],
        };
        assert!(!l(Measured::Exactly { value: 10 }, Some(10)).contradicts_declared());
        assert!(l(Measured::Exactly { value: 9 }, Some(10)).contradicts_declared());
        let at_least = |v| Measured::AtLeast {
            value: v,
            because: String::new(),
        };
        assert!(!l(at_least(5), Some(10)).contradicts_declared());
        assert!(l(at_least(11), Some(10)).contradicts_declared());
        assert!(!l(Measured::Exactly { value: 9 }, None).contradicts_declared());
    }
}
