//! Envelope size and timeout limits (the seed document's MaxEnvelopeSizekb and MaxTimeoutms).

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::Ctx;
use crate::envelope::{Body, Enumerate};
use crate::ns::{self, action};

pub(super) const CASES: &[Case] = &[
    case(
        "limits.max-envelope.under-by-one",
        "A request one byte under MaxEnvelopeSizekb is processed",
        "seed: MaxEnvelopeSizekb; MS-WSMV 3.1.4.1.20",
        under_by_one,
    ),
    case(
        "limits.max-envelope.exact",
        "A request of exactly MaxEnvelopeSizekb is processed",
        "seed: MaxEnvelopeSizekb; MS-WSMV 3.1.4.1.20",
        exact,
    ),
    case(
        "limits.max-envelope.over-by-one",
        "A request one byte over MaxEnvelopeSizekb is refused with HTTP 413",
        "seed: MaxEnvelopeSizekb; MS-WSMV 3.1.4.1.20",
        over_by_one,
    )
    .alt("a w:EncodingLimit fault instead of 413 (NON-STRICT)"),
    case(
        "limits.max-envelope.response-clamped",
        "A response fits in the client's MaxEnvelopeSize (8192): fewer items per batch",
        "MS-WSMV 3.1.4.1.7, 3.1.4.14; DSP0226 R6.2-3",
        response_clamped,
    )
    .alt("a w:EncodingLimit fault (NON-STRICT)"),
    case(
        "limits.max-envelope.below-minimum",
        "MaxEnvelopeSize below 8192 is refused with w:EncodingLimit",
        "DSP0226 R6.2-4; MS-WSMV 3.1.4.1.7",
        below_minimum,
    ),
    case(
        "limits.operation-timeout.above-max",
        "OperationTimeout above MaxTimeoutms is clamped, not faulted",
        "seed: MaxTimeoutms; MS-WSMV 3.1.4.1.6",
        timeout_above_max,
    ),
    case(
        "limits.operation-timeout.negative",
        "A negative OperationTimeout is refused with a:InvalidMessageInformationHeader",
        "DSP0226 R6.1-4; MS-WSMV 3.1.4.1.6",
        timeout_negative,
    ),
    case(
        "limits.operation-timeout.malformed",
        "An OperationTimeout that is not an xs:duration is refused",
        "DSP0226 R6.1-4; MS-WSMV 3.1.4.1.6",
        timeout_malformed,
    ),
];

/// An authenticated Identify of exactly `size` bytes (padding is whitespace inside the Body).
pub(crate) fn identify_of_size(size: usize) -> Vec<u8> {
    let base = Ctx::identify_bytes();
    let text = String::from_utf8(base).expect("written as UTF-8");
    let at = text.find("<s:Body>").expect("a body") + "<s:Body>".len();
    let pad = size.saturating_sub(text.len());
    let mut out = String::with_capacity(size);
    out.push_str(&text[..at]);
    out.extend(std::iter::repeat_n(' ', pad));
    out.push_str(&text[at..]);
    out.into_bytes()
}

fn accepted(ctx: &mut Ctx<'_>, size: usize) -> Result<Outcome, Outcome> {
    let body = identify_of_size(size);
    let reply = ctx.call_bytes(body)?;
    ctx.expect_body(&reply, "IdentifyResponse", |b| {
        matches!(b, Body::IdentifyResponse(_))
    })?;
    Ok(Outcome::ok(format!("{size}-byte request processed")))
}

fn under_by_one(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let n = ctx.profile().max_envelope_bytes();
    accepted(ctx, n - 1)
}

fn exact(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let n = ctx.profile().max_envelope_bytes();
    accepted(ctx, n)
}

fn over_by_one(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let n = ctx.profile().max_envelope_bytes() + 1;
    let reply = ctx.call_bytes(identify_of_size(n))?;
    if reply.response.status == 413 {
        return Ok(Outcome::ok(format!("{n}-byte request refused with 413")));
    }
    if reply
        .fault()
        .and_then(|f| f.subcode.as_ref())
        .is_some_and(|s| s.is(ns::WSMAN, "EncodingLimit"))
    {
        return Ok(Outcome::non_strict(
            "refused with a w:EncodingLimit fault, not HTTP 413",
        ));
    }
    Err(Outcome::failed(
        format!("a {n}-byte request was not refused"),
        "HTTP 413",
        reply.describe(),
    ))
}

fn enumerate(ctx: &Ctx<'_>, max_elements: &str) -> crate::check::ctx::Req {
    ctx.req(action::ENUMERATE, &ctx.settings.enumerate_resource)
        .body(Body::Enumerate(Enumerate {
            optimize: true,
            max_elements: Some(max_elements.into()),
            ..Enumerate::default()
        }))
}

/// Releases the context of an enumeration reply, if it left one open.
pub(super) fn release_open(ctx: &mut Ctx<'_>, reply: &crate::check::ctx::Reply) {
    let context = match reply.body() {
        Some(Body::EnumerateResponse(r)) => r.0.context.clone(),
        Some(Body::PullResponse(r)) if r.0.end_of_sequence.is_none() => r.0.context.clone(),
        _ => None,
    };
    if let Some(c) = context.filter(|c| !c.trim().is_empty()) {
        let resource = ctx.settings.enumerate_resource.clone();
        ctx.defer(crate::check::ctx::Cleanup::Release(resource, c));
    }
}

fn response_clamped(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    const LIMIT: usize = 8192;
    let req = enumerate(ctx, "1000").max_envelope(LIMIT);
    let reply = ctx.call(&req)?;
    release_open(ctx, &reply);
    if reply
        .fault()
        .and_then(|f| f.subcode.as_ref())
        .is_some_and(|s| s.is(ns::WSMAN, "EncodingLimit"))
    {
        return Ok(Outcome::non_strict(
            "w:EncodingLimit fault instead of a smaller batch",
        ));
    }
    let env = ctx.expect_body(&reply, "EnumerateResponse", |b| {
        matches!(b, Body::EnumerateResponse(_))
    })?;
    let items = match &env.body {
        Body::EnumerateResponse(r) => r.0.item_count(),
        _ => 0,
    };
    let size = reply.response.body.len();
    if size > LIMIT {
        return Err(Outcome::failed(
            format!("a {size}-byte response to a request allowing {LIMIT}"),
            format!("a response of at most {LIMIT} bytes"),
            format!("{size} bytes with {items} items"),
        ));
    }
    Ok(Outcome::ok(format!(
        "{size}-byte response with {items} items"
    )))
}

fn below_minimum(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = enumerate(ctx, "1").max_envelope(8191);
    let reply = ctx.call(&req)?;
    release_open(ctx, &reply);
    Ok(ctx.expect_fault(&reply, ns::WSMAN, "EncodingLimit", Some("2150858878")))
}

fn timeout_above_max(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let max = ctx.profile().number("MaxTimeoutms").unwrap_or(60_000);
    let value = format!("PT{}S", max / 1000 * 10 + 1);
    let req = enumerate(ctx, "1").timeout(&value);
    let reply = ctx.call(&req)?;
    release_open(ctx, &reply);
    ctx.expect_body(&reply, "EnumerateResponse", |b| {
        matches!(b, Body::EnumerateResponse(_))
    })
    .map_err(|o| Outcome {
        summary: format!("OperationTimeout {value} was not clamped"),
        ..o
    })?;
    Ok(Outcome::ok(format!("OperationTimeout {value} accepted")))
}

fn bad_timeout(ctx: &mut Ctx<'_>, value: &str) -> Result<Outcome, Outcome> {
    let req = enumerate(ctx, "1").timeout(value);
    let reply = ctx.call(&req)?;
    release_open(ctx, &reply);
    Ok(ctx.expect_fault(
        &reply,
        ns::ADDRESSING,
        "InvalidMessageInformationHeader",
        Some("2150858767"),
    ))
}

fn timeout_negative(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    bad_timeout(ctx, "PT-1S")
}

fn timeout_malformed(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    bad_timeout(ctx, "soon")
}

#[cfg(test)]
mod tests {
    #[test]
    fn padded_identify_has_the_exact_size_and_parses() {
        for n in [2000, 153_600] {
            let b = super::identify_of_size(n);
            assert_eq!(b.len(), n);
            assert!(crate::envelope::parse(&b).is_ok());
        }
    }
}
