//! The seed document's authentication policy: Basic off, Negotiate on, unencrypted bodies
//! refused, no request served without credentials.

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::Ctx;
use crate::client::{AuthMethod, Request};
use crate::config::CONFIG_URI;
use crate::ns::action;

pub(super) const CASES: &[Case] = &[
    case(
        "auth.missing-authorization",
        "A request without Authorization is answered with 401, never served",
        "MS-WSMV 3.1.4.1.28; RFC 9110 §11.6.1",
        missing_authorization,
    ),
    case(
        "auth.offers",
        "The 401 offers Negotiate, and Basic only when Service/Auth/Basic is true",
        "seed: Service/Auth/Basic, Service/Auth/Negotiate; MS-WSMV 2.2.9.1",
        offers,
    ),
    case(
        "auth.basic-refused",
        "Basic authentication is refused while Service/Auth/Basic is false (the default)",
        "seed: Service/Auth/Basic = false",
        basic_refused,
    ),
    case(
        "auth.wrong-password",
        "NTLM with a wrong password is refused with 401",
        "MS-NLMP 3.2.5.1.2; MS-WSMV 3.1.4.1.28",
        wrong_password,
    ),
    case(
        "auth.unencrypted-refused",
        "An authenticated but unencrypted body over HTTP is refused while AllowUnencrypted is false",
        "seed: Service/AllowUnencrypted = false; MS-WSMV 2.2.9.1",
        unencrypted_refused,
    ),
];

fn get_config(ctx: &Ctx<'_>) -> Vec<u8> {
    ctx.req(action::GET, CONFIG_URI).bytes()
}

fn unauthenticated(ctx: &Ctx<'_>) -> Request {
    let mut r = Request::soap(get_config(ctx));
    r.authenticate = false;
    r.encrypt = false;
    r.fresh_connection = true;
    r
}

fn missing_authorization(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = unauthenticated(ctx);
    let reply = ctx.send(req)?;
    if reply.response.status != 401 {
        return Err(Outcome::failed(
            "a request without credentials was not refused with 401",
            "HTTP 401 with WWW-Authenticate",
            reply.describe(),
        ));
    }
    if reply.response.header("WWW-Authenticate").is_none() {
        return Err(Outcome::failed(
            "the 401 has no WWW-Authenticate",
            "at least one WWW-Authenticate challenge",
            "none",
        ));
    }
    Ok(Outcome::ok("401 with a challenge"))
}

fn offers(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = unauthenticated(ctx);
    let reply = ctx.send(req)?;
    let schemes: Vec<String> = reply
        .response
        .headers_named("WWW-Authenticate")
        .filter_map(|v| crate::auth::header::parse_challenges(v).ok())
        .flatten()
        .map(|c| c.scheme)
        .collect();
    let has = |s: &str| schemes.iter().any(|x| x.eq_ignore_ascii_case(s));
    let profile = ctx.profile();
    if !profile.winrm() {
        return Ok(Outcome::info(format!("offers: {}", schemes.join(", "))));
    }
    let want_basic = profile.flag("Service/Auth/Basic").unwrap_or(false);
    let want_negotiate = profile.flag("Service/Auth/Negotiate").unwrap_or(true);
    let expected = format!(
        "Negotiate {}; Basic {}",
        if want_negotiate {
            "offered"
        } else {
            "not offered"
        },
        if want_basic { "offered" } else { "not offered" }
    );
    if has("Negotiate") != want_negotiate || has("Basic") != want_basic {
        return Err(Outcome::failed(
            "the offered schemes differ from the profile",
            expected,
            format!("offered: {}", schemes.join(", ")),
        ));
    }
    Ok(Outcome::ok(format!("offers: {}", schemes.join(", "))))
}

fn basic_refused(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if ctx.profile().flag("Service/Auth/Basic") != Some(false) {
        return Ok(Outcome::skipped("the profile does not disable Basic"));
    }
    let body = get_config(ctx);
    let status = ctx.with_client(
        |o| o.auth = AuthMethod::Basic,
        |c| {
            let mut r = Request::soap(body);
            r.fresh_connection = true;
            c.send(r).map(|r| r.status)
        },
    )?;
    match status {
        Ok(401) => Ok(Outcome::ok("Basic refused with 401")),
        Ok(s) => Err(Outcome::failed(
            "Basic credentials were accepted",
            "HTTP 401",
            format!("HTTP {s}"),
        )),
        Err(e) => Err(crate::check::ctx::transport_failure("Basic request", &e)),
    }
}

fn wrong_password(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if !matches!(
        ctx.settings.client.auth,
        AuthMethod::Negotiate | AuthMethod::Ntlm
    ) {
        return Ok(Outcome::skipped("the run does not use NTLM"));
    }
    let body = get_config(ctx);
    let result = ctx.with_client(
        |o| o.password.0.push_str("-wrong"),
        |c| c.soap(body).map(|r| r.status),
    )?;
    match result {
        Err(crate::client::ClientError::Auth(e)) => Ok(Outcome::ok(format!("refused: {e}"))),
        Ok(s) => Err(Outcome::failed(
            "a wrong password was accepted",
            "HTTP 401 after AUTHENTICATE",
            format!("HTTP {s}"),
        )),
        Err(e) => Err(crate::check::ctx::transport_failure("NTLM handshake", &e)),
    }
}

fn unencrypted_refused(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if ctx.settings.client.target.https {
        return Ok(Outcome::skipped(
            "over HTTPS the TLS channel protects plain bodies",
        ));
    }
    if ctx.profile().flag("Service/AllowUnencrypted") != Some(false) {
        return Ok(Outcome::skipped("the profile allows unencrypted traffic"));
    }
    if !matches!(
        ctx.settings.client.auth,
        AuthMethod::Negotiate | AuthMethod::Ntlm
    ) {
        return Ok(Outcome::skipped("needs a sealing method (Negotiate)"));
    }
    let mut req = Request::soap(get_config(ctx));
    req.encrypt = false;
    let reply = ctx.send(req)?;
    let served = reply.response.status == 200 && reply.envelope.is_ok();
    if served {
        return Err(Outcome::failed(
            "an unencrypted body was served",
            "refused (HTTP 4xx/5xx, not processed)",
            reply.describe(),
        ));
    }
    Ok(Outcome::ok(format!("refused ({})", reply.describe())))
}
