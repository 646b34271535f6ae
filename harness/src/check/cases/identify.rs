//! Identify (DSP0226 §11, MS-WSMV 3.1.4.1.23).

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::Ctx;
use crate::envelope::{Body, IdentifyResponse};
use crate::ns;

pub(super) const CASES: &[Case] = &[
    case(
        "identify.authenticated",
        "Identify answers with an IdentifyResponse naming the WS-Man protocol version",
        "DSP0226 §11; MS-WSMV 3.1.4.1.23",
        authenticated,
    ),
    case(
        "identify.unauthenticated",
        "Identify without credentials is answered when the request carries WSMANIDENTIFY: unauthenticated",
        "MS-WSMV 3.1.4.1.23 (unauthenticated Identify)",
        unauthenticated,
    )
    .alt("dmtf: HTTP 401 is accepted (NON-STRICT); the header is a WinRM extension"),
];

fn check_response(r: &IdentifyResponse) -> Result<(), String> {
    if !r.protocol_versions.iter().any(|v| v.trim() == ns::WSMAN) {
        return Err(format!(
            "ProtocolVersion {:?} does not name {}",
            r.protocol_versions,
            ns::WSMAN
        ));
    }
    if r.product_vendor
        .as_deref()
        .is_none_or(|v| v.trim().is_empty())
    {
        return Err("ProductVendor is missing or empty".into());
    }
    Ok(())
}

fn judge(ctx: &Ctx<'_>, reply: &crate::check::ctx::Reply) -> Result<Outcome, Outcome> {
    let env = ctx.expect_body(reply, "IdentifyResponse", |b| {
        matches!(b, Body::IdentifyResponse(_))
    })?;
    let Body::IdentifyResponse(r) = &env.body else {
        unreachable!("checked by expect_body")
    };
    match check_response(r) {
        Ok(()) => Ok(Outcome::ok(format!(
            "{} {}",
            r.product_vendor.as_deref().unwrap_or_default(),
            r.product_version.as_deref().unwrap_or_default()
        ))),
        Err(e) => Err(Outcome::failed(
            e,
            format!("ProtocolVersion {} and a ProductVendor", ns::WSMAN),
            format!(
                "ProtocolVersion {:?}, ProductVendor {:?}",
                r.protocol_versions, r.product_vendor
            ),
        )),
    }
}

fn authenticated(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let reply = ctx.call_bytes(Ctx::identify_bytes())?;
    judge(ctx, &reply)
}

fn unauthenticated(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let reply = ctx.send(Ctx::unauthenticated_identify())?;
    if reply.response.status == 401 && !ctx.profile().winrm() {
        return Ok(Outcome::non_strict(
            "the target wants credentials even for Identify (allowed outside WinRM)",
        ));
    }
    judge(ctx, &reply)
}
