//! The cmd shell (MS-WSMV 3.1.4.5–3.1.4.13): lifecycle, streams, exit codes, signals, timeouts.

use std::time::Duration;

use super::case;
use crate::check::case::{Case, Outcome};
use crate::check::ctx::{Cleanup, Ctx};
use crate::envelope::{Body, CommandLine, DesiredStream, Receive, Send, Shell, Signal, Stream};
use crate::ns::{self, action};

pub(super) const CASES: &[Case] = &[
    case(
        "shell.lifecycle",
        "Create a cmd shell, run a command, receive its output, delete the shell",
        "MS-WSMV 3.1.4.5, 3.1.4.11, 3.1.4.14, 3.1.4.6",
        lifecycle,
    ),
    case(
        "shell.exit-code",
        "A command's exit code comes back in CommandState/ExitCode",
        "MS-WSMV 2.2.4.7 (CommandStateType)",
        exit_code,
    ),
    case(
        "shell.stdin",
        "Input sent to a command's stdin reaches it",
        "MS-WSMV 3.1.4.12 (Send)",
        stdin,
    ),
    case(
        "shell.signal",
        "Signal terminate on a running command is answered with SignalResponse",
        "MS-WSMV 3.1.4.13 (Signal)",
        signal,
    ),
    case(
        "shell.receive-timeout",
        "Receive on a command with no output ends with w:TimedOut after OperationTimeout",
        "MS-WSMV 3.1.4.14; DSP0226 R6.1-3",
        receive_timeout,
    ),
    case(
        "shell.invalid-shell-id",
        "A Command on an unknown ShellId is refused with w:InvalidSelectors",
        "MS-WSMV 3.1.4.11; DSP0226 R5.1.2.1-5",
        invalid_shell_id,
    ),
];

fn winrm_only(ctx: &Ctx<'_>) -> Option<Outcome> {
    (!ctx.profile().winrm()).then(|| Outcome::skipped("the cmd shell is a WinRM resource"))
}

/// Creates a cmd shell (deleted after the case) and returns its id.
pub(crate) fn create_shell(ctx: &mut Ctx<'_>) -> Result<String, Outcome> {
    let req = ctx
        .req(action::CREATE, ns::CMD_SHELL_URI)
        .body(Body::Shell(Shell::cmd()));
    let reply = ctx.call(&req)?;
    let env = ctx.expect_body(&reply, "ResourceCreated with a ShellId", |b| {
        matches!(b, Body::ShellCreated(..) | Body::ResourceCreated(_))
    })?;
    let id = match &env.body {
        Body::ShellCreated(c, s) => c.selector("ShellId").or_else(|| s.shell_id()),
        Body::ResourceCreated(c) => c.selector("ShellId"),
        _ => None,
    }
    .ok_or_else(|| {
        Outcome::failed(
            "the Create response names no ShellId",
            "a ShellId selector in ResourceCreated",
            reply.describe(),
        )
    })?;
    ctx.defer(Cleanup::DeleteShell(id.clone()));
    Ok(id)
}

pub(crate) fn command(
    ctx: &mut Ctx<'_>,
    shell: &str,
    cmd: &str,
    args: &[&str],
) -> Result<String, Outcome> {
    let req = ctx
        .req(action::COMMAND, ns::CMD_SHELL_URI)
        .selectors(&[("ShellId", shell)])
        .body(Body::CommandLine(CommandLine {
            command: Some(cmd.into()),
            arguments: args.iter().map(|a| a.to_string()).collect(),
            ..CommandLine::default()
        }));
    let reply = ctx.call(&req)?;
    let env = ctx.expect_body(&reply, "CommandResponse", |b| {
        matches!(b, Body::CommandResponse(_))
    })?;
    match &env.body {
        Body::CommandResponse(c) => Ok(c.command_id.clone()),
        _ => unreachable!("checked"),
    }
}

pub(crate) fn receive_req(ctx: &Ctx<'_>, shell: &str, cid: &str) -> crate::check::ctx::Req {
    ctx.req(action::RECEIVE, ns::CMD_SHELL_URI)
        .selectors(&[("ShellId", shell)])
        .body(Body::Receive(Receive {
            desired: vec![DesiredStream {
                command_id: Some(cid.into()),
                streams: "stdout stderr".into(),
                ..DesiredStream::default()
            }],
            ..Receive::default()
        }))
}

/// Receives until the command is Done (bounded): stdout and the exit code.
fn receive_all(
    ctx: &mut Ctx<'_>,
    shell: &str,
    cid: &str,
) -> Result<(Vec<u8>, Option<String>), Outcome> {
    let mut out = Vec::new();
    for _ in 0..50 {
        let req = receive_req(ctx, shell, cid).timeout("PT5S");
        let reply = ctx.call(&req)?;
        if reply
            .fault()
            .and_then(|f| f.subcode.as_ref())
            .is_some_and(|s| s.is(ns::WSMAN, "TimedOut"))
        {
            continue;
        }
        let env = ctx.expect_body(&reply, "ReceiveResponse", |b| {
            matches!(b, Body::ReceiveResponse(_))
        })?;
        let Body::ReceiveResponse(r) = &env.body else {
            unreachable!("checked")
        };
        for s in r.streams.iter().filter(|s| s.name == "stdout") {
            out.extend(s.decode().unwrap_or_default());
        }
        if let Some(state) = r.command_state.as_ref().filter(|s| s.is_done()) {
            return Ok((out, state.exit_code.clone()));
        }
    }
    Err(Outcome::failed(
        "the command did not finish within 50 Receives",
        "CommandState Done",
        format!("{} bytes of stdout so far", out.len()),
    ))
}

fn lifecycle(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if let Some(o) = winrm_only(ctx) {
        return Ok(o);
    }
    let shell = create_shell(ctx)?;
    let cid = command(ctx, &shell, "echo", &["wsman-harness"])?;
    let (out, _) = receive_all(ctx, &shell, &cid)?;
    let text = String::from_utf8_lossy(&out);
    if !text.contains("wsman-harness") {
        return Err(Outcome::failed(
            "the command's output did not come back",
            "stdout containing \"wsman-harness\"",
            format!("stdout {text:?}"),
        ));
    }
    let req = ctx
        .req(action::DELETE, ns::CMD_SHELL_URI)
        .selectors(&[("ShellId", &shell)]);
    let reply = ctx.call(&req)?;
    if reply.response.status != 200 || reply.fault().is_some() {
        return Err(Outcome::failed(
            "Delete of the shell was refused",
            "HTTP 200, DeleteResponse",
            reply.describe(),
        ));
    }
    ctx.done(|c| matches!(c, Cleanup::DeleteShell(id) if *id == shell));
    Ok(Outcome::ok("create, command, receive, delete"))
}

fn exit_code(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if let Some(o) = winrm_only(ctx) {
        return Ok(o);
    }
    let shell = create_shell(ctx)?;
    let cid = command(ctx, &shell, "exit", &["7"])?;
    let (_, code) = receive_all(ctx, &shell, &cid)?;
    match code.as_deref().map(str::trim) {
        Some("7") => Ok(Outcome::ok("exit 7 reported as ExitCode 7")),
        other => Err(Outcome::failed(
            "the exit code was not reported",
            "ExitCode 7",
            format!("ExitCode {other:?}"),
        )),
    }
}

fn stdin(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if let Some(o) = winrm_only(ctx) {
        return Ok(o);
    }
    let shell = create_shell(ctx)?;
    let cid = command(ctx, &shell, "more", &[])?;
    let mut s = Stream::new("stdin", Some(&cid), b"wsman-harness stdin\r\n");
    s.end = Some("true".into());
    let req = ctx
        .req(action::SEND, ns::CMD_SHELL_URI)
        .selectors(&[("ShellId", &shell)])
        .body(Body::Send(Send { streams: vec![s] }));
    let reply = ctx.call(&req)?;
    if reply.response.status != 200 || reply.fault().is_some() {
        return Err(Outcome::failed(
            "Send was refused",
            "HTTP 200, SendResponse",
            reply.describe(),
        ));
    }
    let (out, _) = receive_all(ctx, &shell, &cid)?;
    let text = String::from_utf8_lossy(&out);
    if !text.contains("wsman-harness stdin") {
        return Err(Outcome::failed(
            "stdin did not reach the command",
            "stdout echoing \"wsman-harness stdin\"",
            format!("stdout {text:?}"),
        ));
    }
    Ok(Outcome::ok("stdin echoed by more"))
}

fn signal(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if let Some(o) = winrm_only(ctx) {
        return Ok(o);
    }
    let shell = create_shell(ctx)?;
    let cid = command(ctx, &shell, "more", &[])?;
    let req = ctx
        .req(action::SIGNAL, ns::CMD_SHELL_URI)
        .selectors(&[("ShellId", &shell)])
        .body(Body::Signal(Signal {
            command_id: Some(cid),
            code: ns::signal::TERMINATE.into(),
        }));
    let reply = ctx.call(&req)?;
    ctx.expect_body(&reply, "SignalResponse", |b| {
        matches!(b, Body::SignalResponse(_))
    })?;
    Ok(Outcome::ok("terminate answered with SignalResponse"))
}

fn receive_timeout(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if let Some(o) = winrm_only(ctx) {
        return Ok(o);
    }
    let shell = create_shell(ctx)?;
    let cid = command(ctx, &shell, "more", &[])?;
    let req = receive_req(ctx, &shell, &cid).timeout("PT1S");
    let start = std::time::Instant::now();
    let reply = ctx.call(&req)?;
    let waited = start.elapsed();
    let outcome = ctx.expect_fault(&reply, ns::WSMAN, "TimedOut", Some("2150858793"));
    if outcome.verdict == crate::check::case::Verdict::Ok && waited < Duration::from_millis(500) {
        return Err(Outcome::failed(
            "TimedOut came before the OperationTimeout elapsed",
            "w:TimedOut after about 1 s",
            format!("after {}", crate::check::ctx::secs(waited)),
        ));
    }
    Ok(outcome)
}

fn invalid_shell_id(ctx: &mut Ctx<'_>) -> Result<Outcome, Outcome> {
    if let Some(o) = winrm_only(ctx) {
        return Ok(o);
    }
    let req = ctx
        .req(action::COMMAND, ns::CMD_SHELL_URI)
        .selectors(&[("ShellId", "00000000-0000-0000-0000-00000000DEAD")])
        .body(Body::CommandLine(CommandLine {
            command: Some("echo".into()),
            arguments: vec!["x".into()],
            ..CommandLine::default()
        }));
    let reply = ctx.call(&req)?;
    Ok(ctx.expect_fault(&reply, ns::WSMAN, "InvalidSelectors", Some("2150858843")))
}
