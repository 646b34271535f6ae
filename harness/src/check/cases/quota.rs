//! Per-user quotas of the seed document (Winrs/MaxShellsPerUser,
//! Service/MaxConcurrentOperationsPerUser). Each case lowers the quota with a Put, hits it, and
//! restores the value and every resource it opened.

use super::case;
use super::shell::create_shell;
use super::transfer::{config_value, put_config};
use crate::check::case::{Case, Outcome};
use crate::check::ctx::Ctx;
use crate::envelope::{Body, Enumerate, Shell};
use crate::ns::{self, action};

pub(super) const CASES: &[Case] = &[
    case(
        "quota.max-shells-per-user",
        "One shell more than Winrs/MaxShellsPerUser is refused with w:QuotaLimit",
        "seed: Winrs/MaxShellsPerUser; MS-WSMV 3.1.4.5.2",
        max_shells,
    )
    .exclusive(),
    case(
        "quota.max-operations-per-user",
        "Open enumerations beyond Service/MaxConcurrentOperationsPerUser are refused with w:QuotaLimit",
        "seed: Service/MaxConcurrentOperationsPerUser; MS-WSMV 3.1.4.1.27",
        max_operations,
    )
    .should()
    .exclusive(),
];

const LIMIT: usize = 2;

fn max_shells(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if !ctx.profile().winrm() {
        return Ok(Outcome::skipped("MaxShellsPerUser is a WinRM setting"));
    }
    let original = config_value(ctx, "Winrs", "MaxShellsPerUser")?;
    put_config(
        ctx,
        "Winrs",
        "MaxShellsPerUser",
        &LIMIT.to_string(),
        Some(&original),
    )?;
    for _ in 0..LIMIT {
        create_shell(ctx)?;
    }
    let req = ctx
        .req(action::CREATE, ns::CMD_SHELL_URI)
        .body(Body::Shell(Shell::cmd()));
    let reply = ctx.call(&req)?;
    if let Some(Body::ShellCreated(c, _)) = reply.body()
        && let Some(id) = c.selector("ShellId")
    {
        ctx.defer(crate::check::ctx::Cleanup::DeleteShell(id));
    }
    Ok(ctx.expect_fault(&reply, ns::WSMAN, "QuotaLimit", Some("2150859173")))
}

fn max_operations(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if !ctx.profile().winrm() {
        return Ok(Outcome::skipped(
            "MaxConcurrentOperationsPerUser is a WinRM setting",
        ));
    }
    let original = config_value(ctx, "Service", "MaxConcurrentOperationsPerUser")?;
    put_config(
        ctx,
        "Service",
        "MaxConcurrentOperationsPerUser",
        &LIMIT.to_string(),
        Some(&original),
    )?;
    let resource = ctx.settings.enumerate_resource.clone();
    let mut last = None;
    for _ in 0..=LIMIT {
        let req = ctx
            .req(action::ENUMERATE, &resource)
            .body(Body::Enumerate(Enumerate::default()));
        let reply = ctx.call(&req)?;
        super::limits::release_open(ctx, &reply);
        last = Some(reply);
    }
    let reply = last.expect("at least one request");
    Ok(ctx.expect_fault(&reply, ns::WSMAN, "QuotaLimit", Some("2150859174")))
}
