//! WS-Addressing rules, SOAP processing rules, unknown resources/actions/selectors, and the HTTP
//! status of faults.

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::{Ctx, Req};
use crate::envelope::{Body, Epr, HeaderBlock, Text};
use crate::ns::{self, action};
use crate::xml::{Attribute, Element, QName};

pub(super) const CASES: &[Case] = &[
    case(
        "addressing.relates-to",
        "Every response's RelatesTo is the request's MessageID",
        "WS-Addressing 2004/08 §3.2; DSP0226 R5.4.6-1",
        relates_to,
    ),
    case(
        "addressing.message-id.missing",
        "A request without MessageID is refused with a:InvalidMessageInformationHeader",
        "MS-WSMV 3.1.4.1.5; DSP0226 R5.4.4-1",
        missing_message_id,
    )
    .should()
    .alt("a:MessageInformationHeaderRequired (DSP0226's choice: NON-STRICT under WinRM profiles, OK under dmtf)"),
    case(
        "addressing.reply-to.missing",
        "A request without ReplyTo is refused with a:MessageInformationHeaderRequired",
        "DSP0226 R5.4.2-1; MS-WSMV 3.1.4.1.3",
        missing_reply_to,
    ),
    case(
        "addressing.reply-to.non-anonymous",
        "A ReplyTo other than the anonymous address is refused (WinRM only answers on the HTTP connection)",
        "MS-WSMV 3.1.4.1.3; DSP0226 R5.4.2-3",
        non_anonymous_reply_to,
    )
    .alt("dmtf: any Sender fault"),
    case(
        "soap.must-understand.unknown",
        "An unknown header with mustUnderstand=true is refused with s:MustUnderstand",
        "SOAP 1.2 part 1 §5.2.3; DSP0226 R5.1-2",
        must_understand,
    ),
    case(
        "soap.doctype",
        "A request with a DOCTYPE is refused within the time limit and the service stays up",
        "SOAP 1.2 part 1 §5 (no DTDs); MS-WSMV 3.1.4.1",
        doctype,
    ),
    case(
        "resource.unknown-uri",
        "A Get on an unknown ResourceURI is refused with a:DestinationUnreachable",
        "DSP0226 R5.1.2-1; MS-WSMV 3.1.4.1.2",
        unknown_resource,
    )
    .alt("w:InvalidResourceURI (NON-STRICT under WinRM profiles, OK under dmtf)"),
    case(
        "resource.unknown-action",
        "An unknown Action is refused with a:ActionNotSupported",
        "WS-Addressing 2004/08 §4; DSP0226 R5.4.5-1",
        unknown_action,
    ),
    case(
        "resource.unknown-selector",
        "A Get with a selector the resource does not have is refused with w:InvalidSelectors",
        "DSP0226 R5.1.2.1-5 (UnexpectedSelectors); MS-WSMV 3.1.4.1.4",
        unknown_selector,
    ),
    case(
        "resource.instance-not-found",
        "A Get whose selectors name no instance is refused with a:DestinationUnreachable",
        "DSP0226 R5.1.2.1-5; MS-WSMV 3.1.4.1.2 (RESOURCE_NOT_FOUND)",
        instance_not_found,
    ),
    case(
        "faults.http-status",
        "SOAP faults are sent with HTTP 500, as Windows sends every fault",
        "SOAP 1.2 part 2 §7.5.1.2; MS-WSMV 3.1.4.1 (observed: every Windows fault rides on 500)",
        fault_status,
    )
    .alt("dmtf: 400 for Sender faults (NON-STRICT)"),
];

fn get_config(ctx: &Ctx<'_>) -> Req {
    ctx.req(action::GET, crate::config::CONFIG_URI)
}

fn relates_to(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let mut checked = 0;
    let resource = ctx.settings.enumerate_resource.clone();
    let requests = [
        get_config(ctx),
        ctx.req(
            action::GET,
            "http://example.org/wsman-harness/no-such-resource",
        ),
        ctx.req(action::ENUMERATE, &resource)
            .body(Body::Enumerate(crate::envelope::Enumerate {
                optimize: true,
                max_elements: Some("1".into()),
                ..Default::default()
            })),
    ];
    for req in requests {
        let reply = ctx.call(&req)?;
        super::limits::release_open(ctx, &reply);
        let Ok(env) = &reply.envelope else {
            continue;
        };
        let id = req.message_id();
        if env.relates_to().map(str::trim) != Some(id.as_str()) {
            return Err(Outcome::failed(
                "RelatesTo does not match the request's MessageID",
                format!("RelatesTo {id}"),
                format!(
                    "RelatesTo {} ({})",
                    env.relates_to().unwrap_or("(none)"),
                    reply.describe()
                ),
            ));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(Outcome::failed(
            "no response carried an envelope",
            "SOAP envelopes",
            "none",
        ));
    }
    Ok(Outcome::ok(format!(
        "{checked} responses relate to their requests"
    )))
}

fn missing_message_id(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = get_config(ctx).without(&HeaderBlock::MessageId(Text::new("")));
    let reply = ctx.call(&req)?;
    if reply
        .fault()
        .and_then(|f| f.subcode.as_ref())
        .is_some_and(|s| s.is(ns::ADDRESSING, "MessageInformationHeaderRequired"))
    {
        return Ok(if ctx.profile().winrm() {
            Outcome::non_strict(
                "a:MessageInformationHeaderRequired (WinRM sends InvalidMessageInformationHeader)",
            )
        } else {
            Outcome::ok("a:MessageInformationHeaderRequired")
        });
    }
    Ok(ctx.expect_fault(
        &reply,
        ns::ADDRESSING,
        "InvalidMessageInformationHeader",
        Some("2150858767"),
    ))
}

fn missing_reply_to(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = get_config(ctx).without(&HeaderBlock::ReplyTo(Epr::anonymous()));
    let reply = ctx.call(&req)?;
    Ok(ctx.expect_fault(
        &reply,
        ns::ADDRESSING,
        "MessageInformationHeaderRequired",
        Some("2150858769"),
    ))
}

fn non_anonymous_reply_to(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let mut epr = Epr::anonymous();
    epr.address = Text::new("http://example.org/elsewhere");
    let req = get_config(ctx).header(HeaderBlock::ReplyTo(epr));
    let reply = ctx.call(&req)?;
    if !ctx.profile().winrm() && reply.fault().is_some_and(|f| f.code.is(ns::SOAP, "Sender")) {
        return Ok(Outcome::ok("refused with a Sender fault"));
    }
    Ok(ctx.expect_fault(&reply, ns::WSMAN, "UnsupportedFeature", Some("2150858818")))
}

fn must_understand(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let mut e = Element::with_text(QName::owned("urn:wsman-harness:unknown", "Frobnicate"), "1");
    e.prefix = Some("x".into());
    e.ns_decls
        .push(("x".into(), "urn:wsman-harness:unknown".into()));
    e.attrs.push(Attribute::qualified(
        QName::new(ns::SOAP, "mustUnderstand"),
        "true",
    ));
    let req = get_config(ctx).push(HeaderBlock::Unknown(e));
    let reply = ctx.call(&req)?;
    Ok(ctx.expect_fault(&reply, ns::SOAP, "MustUnderstand", Some("2150858768")))
}

fn doctype(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let body = String::from_utf8(get_config(ctx).bytes()).expect("UTF-8");
    let evil = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x \"xx\">]>{}",
        body.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    let mut request = crate::client::Request::soap(evil.into_bytes());
    request.timeout = Some(
        ctx.settings
            .client
            .timeout
            .min(std::time::Duration::from_secs(10)),
    );
    let reply = ctx.send(request)?;
    let refused = reply.response.status >= 400 && reply.response.status < 600;
    if !refused || reply.body().is_some_and(|b| b.kind() == "Other") {
        return Err(Outcome::failed(
            "a request with a DOCTYPE was processed",
            "HTTP 400 or a SOAP fault",
            reply.describe(),
        ));
    }
    // The service must still answer afterwards.
    let after = ctx.call_bytes(Ctx::identify_bytes())?;
    ctx.expect_body(&after, "IdentifyResponse after the DOCTYPE request", |b| {
        matches!(b, Body::IdentifyResponse(_))
    })?;
    Ok(Outcome::ok(format!("refused ({})", reply.describe())))
}

fn unknown_resource(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = ctx.req(
        action::GET,
        "http://example.org/wsman-harness/no-such-resource",
    );
    let reply = ctx.call(&req)?;
    if reply
        .fault()
        .and_then(|f| f.subcode.as_ref())
        .is_some_and(|s| s.is(ns::WSMAN, "InvalidResourceURI"))
    {
        return Ok(if ctx.profile().winrm() {
            Outcome::non_strict("w:InvalidResourceURI (Windows sends a:DestinationUnreachable)")
        } else {
            Outcome::ok("w:InvalidResourceURI")
        });
    }
    Ok(ctx.expect_fault(
        &reply,
        ns::ADDRESSING,
        "DestinationUnreachable",
        Some("2150858752"),
    ))
}

fn unknown_action(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = ctx.req(
        "http://example.org/wsman-harness/Frobnicate",
        crate::config::CONFIG_URI,
    );
    let reply = ctx.call(&req)?;
    Ok(ctx.expect_fault(
        &reply,
        ns::ADDRESSING,
        "ActionNotSupported",
        Some("2150858771"),
    ))
}

fn unknown_selector(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let resource = ctx.settings.enumerate_resource.clone();
    let req = ctx
        .req(action::GET, &resource)
        .selectors(&[("WsmanHarnessNoSuchKey", "1")]);
    let reply = ctx.call(&req)?;
    Ok(ctx.expect_fault(&reply, ns::WSMAN, "InvalidSelectors", Some("2150858843")))
}

fn instance_not_found(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let resource = ctx.settings.enumerate_resource.clone();
    let req = ctx
        .req(action::GET, &resource)
        .selectors(&[("Handle", "4294967295")]);
    let reply = ctx.call(&req)?;
    Ok(ctx.expect_fault(
        &reply,
        ns::ADDRESSING,
        "DestinationUnreachable",
        Some("2150858752"),
    ))
}

fn fault_status(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let req = ctx.req(
        action::GET,
        "http://example.org/wsman-harness/no-such-resource",
    );
    let reply = ctx.call(&req)?;
    if reply.fault().is_none() {
        return Err(Outcome::failed(
            "no fault to judge",
            "a SOAP fault",
            reply.describe(),
        ));
    }
    match (reply.response.status, ctx.profile().winrm()) {
        (500, _) => Ok(Outcome::ok("fault with HTTP 500")),
        (400..=599, false) => Ok(Outcome::non_strict(format!(
            "fault with HTTP {}",
            reply.response.status
        ))),
        (s, _) => Err(Outcome::failed(
            format!("a SOAP fault with HTTP {s}"),
            "HTTP 500",
            reply.describe(),
        )),
    }
}
