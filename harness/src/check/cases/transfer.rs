//! WS-Transfer on `winrm/config` and the listener collection (MS-WSMV 3.1.4.1.x, the seed
//! document's configuration).

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::{Cleanup, Ctx};
use crate::config::{CONFIG_URI, section_element, section_uri};
use crate::envelope::{Body, Enumerate};
use crate::ns::action;
use crate::server::LISTENER_URI;
use crate::xml::{Element, Node, QName};

pub(super) const CASES: &[Case] = &[
    case(
        "config.get.defaults",
        "Get winrm/config reports the profile's defaults",
        "seed: every setting of winrm/config; MS-WSMV 3.1.4.1.30",
        get_defaults,
    ),
    case(
        "config.put.round-trip",
        "A Put on winrm/config changes the value Get reports, and a second Put restores it",
        "WS-Transfer §3.3; MS-WSMV 3.1.4.1.30",
        put_round_trip,
    )
    .exclusive(),
    case(
        "config.listener.enumerate",
        "Enumerating winrm/config/listener lists the listener being used, with Address, Transport and Port",
        "seed: Listener; MS-WSMV 3.1.4.1.30",
        listeners,
    ),
];

/// The element a Get of a section returns.
pub(crate) fn get_section(ctx: &mut Ctx<'_>, section: &str) -> Result<Element, Outcome> {
    let req = ctx.req(action::GET, &section_uri(section));
    let reply = ctx.call(&req)?;
    let env = ctx.expect_body(&reply, "the configuration", |b| matches!(b, Body::Other(_)))?;
    let Body::Other(parts) = &env.body else {
        unreachable!("checked")
    };
    parts
        .first()
        .and_then(|p| p.element().ok().map(|e| e.into_owned()))
        .ok_or_else(|| {
            Outcome::failed(
                "the Get response has no configuration element",
                "a cfg element in the body",
                reply.describe(),
            )
        })
}

/// Follows a relative path of local names (case-insensitive).
fn lookup<'e>(root: &'e Element, rel: &str) -> Option<&'e Element> {
    rel.split('/').try_fold(root, |e, name| {
        e.elements()
            .find(|c| c.name.local.eq_ignore_ascii_case(name))
    })
}

/// A setting's value as the target reports it.
pub(crate) fn config_value(
    ctx: &mut Ctx<'_>,
    section: &str,
    name: &str,
) -> Result<String, Outcome> {
    let root = get_section(ctx, section)?;
    lookup(&root, name)
        .map(|e| e.text().trim().to_owned())
        .ok_or_else(|| {
            Outcome::failed(
                format!("{section}/{name} is missing from the Get response"),
                format!("a {name} element"),
                "none",
            )
        })
}

/// Puts one value of a section; with `restore`, registers a Put back to that value.
pub(crate) fn put_config(
    ctx: &mut Ctx<'_>,
    section: &str,
    name: &str,
    value: &str,
    restore: Option<&str>,
) -> Result<(), Outcome> {
    let body = |v: &str| {
        let mut root = Element::new(QName::owned(CONFIG_URI, section_element(section)));
        root.prefix = Some("cfg".into());
        root.ns_decls.push(("cfg".into(), CONFIG_URI.into()));
        root.children.push(Node::Element(Element::with_text(
            QName::owned(CONFIG_URI, name),
            v,
        )));
        root
    };
    let uri = section_uri(section);
    if let Some(old) = restore {
        ctx.defer(Cleanup::RestoreConfig(uri.clone(), body(old)));
    }
    let req = ctx
        .req(action::PUT, &uri)
        .body(Body::Other(vec![crate::xml::Fragment::written(&body(
            value,
        ))]));
    let reply = ctx.call(&req)?;
    if reply.response.status != 200 || reply.fault().is_some() {
        return Err(Outcome::failed(
            format!("Put {name}={value} was refused"),
            "HTTP 200, PutResponse",
            reply.describe(),
        ));
    }
    Ok(())
}

fn get_defaults(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    let Some(defaults) = ctx.profile().defaults.clone() else {
        return Ok(Outcome::skipped("winrm/config is a WinRM resource"));
    };
    let root = get_section(ctx, "")?;
    let (mut same, mut missing, mut differ) = (0, Vec::new(), Vec::new());
    for (path, want) in defaults.iter() {
        match lookup(&root, path) {
            None => missing.push(path),
            Some(e) => {
                let got = e.text();
                let got = got.trim();
                if got.eq_ignore_ascii_case(want) {
                    same += 1;
                } else {
                    differ.push(format!("{path} = {got:?} (profile: {want:?})"));
                }
            }
        }
    }
    if !differ.is_empty() {
        return Err(Outcome::failed(
            format!(
                "{} setting(s) differ from the {} profile",
                differ.len(),
                ctx.profile().name.as_str()
            ),
            format!("the {} profile's defaults", ctx.profile().name.as_str()),
            differ.join("\n"),
        ));
    }
    let mut summary = format!("{same} settings match the profile");
    if !missing.is_empty() {
        summary.push_str(&format!("; not reported: {}", missing.join(", ")));
    }
    Ok(Outcome::ok(summary))
}

fn put_round_trip(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if !ctx.profile().winrm() {
        return Ok(Outcome::skipped("winrm/config is a WinRM resource"));
    }
    let original = config_value(ctx, "", "MaxTimeoutms")?;
    let n: u64 = original.parse().map_err(|_| {
        Outcome::failed(
            "MaxTimeoutms is not a number",
            "a number of milliseconds",
            original.clone(),
        )
    })?;
    let changed = if n > 1000 { n - 1000 } else { n + 1000 }.to_string();
    put_config(ctx, "", "MaxTimeoutms", &changed, Some(&original))?;
    let seen = config_value(ctx, "", "MaxTimeoutms")?;
    if seen != changed {
        return Err(Outcome::failed(
            "Get does not show the value just Put",
            format!("MaxTimeoutms {changed}"),
            format!("MaxTimeoutms {seen}"),
        ));
    }
    put_config(ctx, "", "MaxTimeoutms", &original, None)?;
    ctx.done(|c| matches!(c, Cleanup::RestoreConfig(..)));
    let back = config_value(ctx, "", "MaxTimeoutms")?;
    if back != original {
        return Err(Outcome::failed(
            "the second Put did not restore the value",
            format!("MaxTimeoutms {original}"),
            format!("MaxTimeoutms {back}"),
        ));
    }
    Ok(Outcome::ok(format!(
        "MaxTimeoutms {original} → {changed} → {original}"
    )))
}

fn listeners(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if !ctx.profile().winrm() {
        return Ok(Outcome::skipped(
            "winrm/config/listener is a WinRM resource",
        ));
    }
    let req = ctx
        .req(action::ENUMERATE, LISTENER_URI)
        .body(Body::Enumerate(Enumerate {
            optimize: true,
            max_elements: Some("100".into()),
            ..Enumerate::default()
        }));
    let reply = ctx.call(&req)?;
    let env = ctx.expect_body(&reply, "EnumerateResponse", |b| {
        matches!(b, Body::EnumerateResponse(_))
    })?;
    let Body::EnumerateResponse(r) = &env.body else {
        unreachable!("checked")
    };
    let target = ctx.settings.client.target.clone();
    let transport = if target.https { "HTTPS" } else { "HTTP" };
    let mut seen = Vec::new();
    let mut ours = false;
    for item in r.0.items.iter().flat_map(|i| i.items.iter()) {
        let Ok(e) = item.element() else { continue };
        let field = |n: &str| lookup(&e, n).map(|x| x.text().trim().to_owned());
        let (Some(a), Some(t), Some(p)) = (field("Address"), field("Transport"), field("Port"))
        else {
            return Err(Outcome::failed(
                "a listener lacks Address, Transport or Port",
                "Address, Transport and Port in every listener",
                item.source()
                    .unwrap_or("(listener)")
                    .chars()
                    .take(400)
                    .collect::<String>(),
            ));
        };
        ours |= t.eq_ignore_ascii_case(transport) && p == target.port.to_string();
        seen.push(format!("{a}/{t}:{p}"));
    }
    if !ours {
        return Err(Outcome::failed(
            "the listener in use is not enumerated",
            format!("a {transport} listener on port {}", target.port),
            if seen.is_empty() {
                "no listeners".into()
            } else {
                seen.join(", ")
            },
        ));
    }
    Ok(Outcome::ok(format!("listeners: {}", seen.join(", "))))
}
