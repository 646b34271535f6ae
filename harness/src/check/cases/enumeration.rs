//! WS-Enumeration as WinRM serves it (DSP0226 §8, MS-WSMV 3.1.4.8–3.1.4.10).

use std::time::Duration;

use super::case;
use super::transfer::{config_value, put_config};
use crate::check::case::{Case, Outcome};
use crate::check::ctx::{Cleanup, Ctx, Reply};
use crate::envelope::{Body, Enumerate, EnumerationBatch, Pull, Release};
use crate::ns::{self, action};

pub(super) const CASES: &[Case] = &[
    case(
        "enumeration.max-elements.clamped",
        "MaxElements above MaxBatchItems is clamped to MaxBatchItems, not faulted",
        "seed: MaxBatchItems; MS-WSMV 3.1.4.1.14",
        max_elements_clamped,
    )
    .exclusive(),
    case(
        "enumeration.optimized",
        "An optimized Enumerate returns the first items in the EnumerateResponse",
        "DSP0226 §8.2.3 (OptimizeEnumeration); MS-WSMV 3.1.4.8",
        optimized,
    ),
    case(
        "enumeration.pull.paging",
        "Pull never returns more items than its MaxElements",
        "DSP0226 §8.4 R8.4-3; WS-Enumeration §3.2",
        pull_paging,
    ),
    case(
        "enumeration.end-of-sequence",
        "Pulling to the end of the collection ends with EndOfSequence",
        "WS-Enumeration §3.2; DSP0226 §8.4",
        end_of_sequence,
    ),
    case(
        "enumeration.release",
        "After Release the context is invalid: Pull gets wsen:InvalidEnumerationContext",
        "WS-Enumeration §3.4; DSP0226 §8.5",
        release,
    ),
    case(
        "enumeration.invalid-context",
        "Pull with an unknown context is refused with wsen:InvalidEnumerationContext",
        "WS-Enumeration §3.2; MS-WSMV 3.1.4.9",
        invalid_context,
    ),
    case(
        "enumeration.expiry",
        "An enumeration context expires after EnumerationTimeoutms",
        "seed: Service/EnumerationTimeoutms; MS-WSMV 3.1.4.1.31",
        expiry,
    )
    .slow(),
];

fn enumerate(ctx: &mut Ctx<'_>, optimize: bool, max: Option<&str>) -> Result<Reply, Outcome> {
    let resource = ctx.settings.enumerate_resource.clone();
    let req = ctx
        .req(action::ENUMERATE, &resource)
        .body(Body::Enumerate(Enumerate {
            optimize,
            max_elements: max.map(str::to_owned),
            ..Enumerate::default()
        }));
    let reply = ctx.call(&req)?;
    super::limits::release_open(ctx, &reply);
    Ok(reply)
}

fn batch<'r>(ctx: &Ctx<'_>, reply: &'r Reply, what: &str) -> Result<&'r EnumerationBatch, Outcome> {
    let env = ctx.expect_body(reply, what, |b| {
        matches!(b, Body::EnumerateResponse(_) | Body::PullResponse(_))
    })?;
    Ok(match &env.body {
        Body::EnumerateResponse(r) => &r.0,
        Body::PullResponse(r) => &r.0,
        _ => unreachable!("checked by expect_body"),
    })
}

/// An open (non-optimized) enumeration's context.
fn open_context(ctx: &mut Ctx<'_>) -> Result<String, Outcome> {
    let reply = enumerate(ctx, false, None)?;
    let b = batch(ctx, &reply, "EnumerateResponse")?;
    b.context
        .clone()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            Outcome::failed(
                "the EnumerateResponse carries no context",
                "wsen:EnumerationContext",
                reply.describe(),
            )
        })
}

fn pull(ctx: &mut Ctx<'_>, context: &str, max: &str) -> Result<Reply, Outcome> {
    let resource = ctx.settings.enumerate_resource.clone();
    let req = ctx.req(action::PULL, &resource).body(Body::Pull(Pull {
        context: context.to_owned(),
        max_elements: Some(max.to_owned()),
        ..Pull::default()
    }));
    ctx.call(&req)
}

fn max_elements_clamped(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if !ctx.profile().winrm() {
        return Ok(Outcome::skipped("MaxBatchItems is a WinRM setting"));
    }
    const SMALL: usize = 3;
    let original = config_value(ctx, "", "MaxBatchItems")?;
    put_config(
        ctx,
        "",
        "MaxBatchItems",
        &SMALL.to_string(),
        Some(&original),
    )?;
    let reply = enumerate(ctx, true, Some("20"))?;
    let n = batch(ctx, &reply, "EnumerateResponse")?.item_count();
    if n == 0 || n > SMALL {
        return Err(Outcome::failed(
            format!("MaxElements 20 gave {n} items with MaxBatchItems={SMALL}"),
            format!("1 to {SMALL} items"),
            format!("{n} items"),
        ));
    }
    Ok(Outcome::ok(format!(
        "MaxElements 20 clamped to {n} item(s) with MaxBatchItems={SMALL}"
    )))
}

fn optimized(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let reply = enumerate(ctx, true, Some("5"))?;
    let b = batch(ctx, &reply, "EnumerateResponse")?;
    match b.item_count() {
        0 => Err(Outcome::failed(
            "an optimized Enumerate returned no items",
            "1 to 5 items in the EnumerateResponse",
            "0 items",
        )),
        n if n > 5 => Err(Outcome::failed(
            "more items than MaxElements",
            "at most 5 items",
            format!("{n} items"),
        )),
        n => Ok(Outcome::ok(format!("{n} item(s) in the EnumerateResponse"))),
    }
}

/// Pulls with MaxElements `page` until EndOfSequence (bounded); returns the batch sizes and
/// whether EndOfSequence came.
fn pull_all(ctx: &mut Ctx<'_>, page: usize) -> Result<(Vec<usize>, bool), Outcome> {
    const MAX_PULLS: usize = 400;
    let mut context = open_context(ctx)?;
    // The context is released by reaching the end; a cleanup is only needed if it is not.
    ctx.done(|c| matches!(c, Cleanup::Release(..)));
    let resource = ctx.settings.enumerate_resource.clone();
    let mut sizes = Vec::new();
    for _ in 0..MAX_PULLS {
        let reply = pull(ctx, &context, &page.to_string())?;
        let b = batch(ctx, &reply, "PullResponse")?;
        sizes.push(b.item_count());
        if b.end_of_sequence.is_some() {
            return Ok((sizes, true));
        }
        match b.context.clone().filter(|c| !c.trim().is_empty()) {
            Some(c) => context = c,
            None => return Ok((sizes, false)),
        }
    }
    ctx.defer(Cleanup::Release(resource, context));
    Ok((sizes, false))
}

fn pull_paging(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    const PAGE: usize = 7;
    let (sizes, _) = pull_all(ctx, PAGE)?;
    if let Some((i, n)) = sizes.iter().enumerate().find(|(_, n)| **n > PAGE) {
        return Err(Outcome::failed(
            format!("Pull {} returned {n} items with MaxElements {PAGE}", i + 1),
            format!("at most {PAGE} items per Pull"),
            format!("batch sizes {sizes:?}"),
        ));
    }
    Ok(Outcome::ok(format!(
        "{} items in {} pulls of at most {PAGE}",
        sizes.iter().sum::<usize>(),
        sizes.len()
    )))
}

fn end_of_sequence(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let (sizes, eos) = pull_all(ctx, 50)?;
    if !eos {
        return Err(Outcome::failed(
            "the enumeration never signalled EndOfSequence",
            "EndOfSequence in the last PullResponse",
            format!(
                "{} pulls ({} items) without it",
                sizes.len(),
                sizes.iter().sum::<usize>()
            ),
        ));
    }
    Ok(Outcome::ok(format!(
        "EndOfSequence after {} items",
        sizes.iter().sum::<usize>()
    )))
}

fn release(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let context = open_context(ctx)?;
    ctx.done(|c| matches!(c, Cleanup::Release(_, x) if *x == context));
    let resource = ctx.settings.enumerate_resource.clone();
    let req = ctx
        .req(action::RELEASE, &resource)
        .body(Body::Release(Release {
            context: context.clone(),
        }));
    let reply = ctx.call(&req)?;
    if reply.response.status != 200 || reply.fault().is_some() {
        return Err(Outcome::failed(
            "Release was refused",
            "HTTP 200, ReleaseResponse",
            reply.describe(),
        ));
    }
    let after = pull(ctx, &context, "1")?;
    Ok(ctx.expect_fault(
        &after,
        ns::ENUMERATION,
        "InvalidEnumerationContext",
        Some("2150858779"),
    ))
}

fn invalid_context(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let reply = pull(ctx, "uuid:00000000-0000-0000-0000-00000000dead", "1")?;
    Ok(ctx.expect_fault(
        &reply,
        ns::ENUMERATION,
        "InvalidEnumerationContext",
        Some("2150858779"),
    ))
}

fn expiry(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let declared = if ctx.profile().winrm() {
        config_value(ctx, "Service", "EnumerationTimeoutms")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    } else {
        None
    };
    let ms = declared
        .or_else(|| ctx.profile().number("Service/EnumerationTimeoutms"))
        .unwrap_or(60_000);
    if ms > 300_000 {
        return Ok(Outcome::skipped(format!(
            "EnumerationTimeoutms is {ms} ms; waiting more than 5 minutes is not attempted"
        )));
    }
    let context = open_context(ctx)?;
    std::thread::sleep(Duration::from_millis(ms) + Duration::from_secs(2));
    let reply = pull(ctx, &context, "1")?;
    if reply.fault().is_none() {
        super::limits::release_open(ctx, &reply);
    } else {
        ctx.done(|c| matches!(c, Cleanup::Release(_, x) if *x == context));
    }
    Ok(ctx.expect_fault(
        &reply,
        ns::ENUMERATION,
        "InvalidEnumerationContext",
        Some("2150858779"),
    ))
}
