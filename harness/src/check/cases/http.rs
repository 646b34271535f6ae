//! HTTP hygiene: methods, content types, connection reuse.

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::Ctx;
use crate::client::Request;

pub(super) const CASES: &[Case] = &[
    case(
        "http.get-refused",
        "GET on the WS-Man URL is refused with 405 (only POST carries SOAP)",
        "MS-WSMV 2.2.1; RFC 9110 §15.5.6",
        get_refused,
    )
    .should()
    .alt("any 4xx (NON-STRICT)"),
    case(
        "http.content-type",
        "Responses declare application/soap+xml with charset UTF-8 (or the MS-WSMV encrypted multipart)",
        "SOAP 1.2 part 2 §7.1.4; MS-WSMV 2.2.1, 2.2.9.1",
        content_type,
    ),
    case(
        "http.keep-alive",
        "The connection stays open between requests (NTLM authenticates the connection)",
        "RFC 9112 §9.3; MS-WSMV 2.2.9.1",
        keep_alive,
    ),
];

fn get_refused(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let mut req = Request::soap(Vec::new());
    req.method = hyper::Method::GET;
    req.content_type = String::new();
    req.authenticate = false;
    req.encrypt = false;
    req.fresh_connection = true;
    let reply = ctx.send(req)?;
    match reply.response.status {
        405 => Ok(Outcome::ok("405")),
        s @ 400..=499 => Ok(Outcome::non_strict(format!("HTTP {s} instead of 405"))),
        s => Err(Outcome::failed(
            "GET was not refused",
            "HTTP 405",
            format!("HTTP {s}"),
        )),
    }
}

fn content_type(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let reply = ctx.call_bytes(Ctx::identify_bytes())?;
    let mut seen = vec![judge_type(&reply)?];
    // A plain response too, where the connection seals: an unauthenticated Identify.
    if reply.response.sealed {
        let plain = ctx.send(Ctx::unauthenticated_identify())?;
        if plain.response.status == 200 {
            seen.push(judge_type(&plain)?);
        }
    }
    Ok(Outcome::ok(seen.join("; ")))
}

fn judge_type(reply: &crate::check::ctx::Reply) -> Result<String, Outcome> {
    let ct = reply
        .response
        .header("Content-Type")
        .unwrap_or_default()
        .to_owned();
    let lower = ct.to_ascii_lowercase().replace(' ', "");
    let plain_ok = lower.starts_with("application/soap+xml") && lower.contains("charset=utf-8");
    let sealed_ok = lower.starts_with("multipart/encrypted")
        || lower.starts_with("multipart/x-multi-encrypted");
    if !(plain_ok || (reply.response.sealed && sealed_ok)) {
        return Err(Outcome::failed(
            "unexpected Content-Type",
            "application/soap+xml;charset=UTF-8 (or multipart/encrypted when sealed)",
            format!("Content-Type {ct:?} ({})", reply.describe()),
        ));
    }
    Ok(ct)
}

fn keep_alive(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let first = ctx.call_bytes(Ctx::identify_bytes())?;
    let handshakes_before = ctx.client.log.len();
    let second = ctx.call_bytes(Ctx::identify_bytes())?;
    let extra = ctx.client.log.len() - handshakes_before;
    if !first.response.keep_alive || extra > 1 {
        return Err(Outcome::failed(
            "the connection was not kept open",
            "one connection for both requests",
            format!(
                "first response keep-alive: {}; {} exchange(s) for the second request",
                first.response.keep_alive, extra
            ),
        ));
    }
    ctx.expect_body(&second, "IdentifyResponse on the reused connection", |b| {
        matches!(b, crate::envelope::Body::IdentifyResponse(_))
    })?;
    Ok(Outcome::ok("two requests on one connection"))
}
