//! `wsman-harness winrm VERB ...`: reads the Windows tool's command line, runs the verb, prints
//! the answer. Output goes to stdout; errors, faults and quickconfig's question to stderr.

use std::io::{BufRead, Write};
use std::time::Duration;

use clap::Args;

use super::exit;
use crate::client::{AuthMethod, Client, ClientOptions, Target};
use crate::envelope::Fault;
use crate::winrm::args::{self, Auth, Format, Invocation, Verb};
use crate::winrm::ops::{Failure, Input, Session};
use crate::winrm::{hash, help, render, validate};
use crate::xml::Element;

/// Arguments of `winrm`: everything after it, read with the Windows tool's syntax
/// (`-r:URL`, `@{Key="Value"}`), which clap's grammar cannot express.
#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct WinrmArgs {
    /// VERB [RESOURCE_URI] [-SWITCH:VALUE]... [@{KEY="VALUE";...}]; `winrm help` explains.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

impl std::fmt::Debug for WinrmArgs {
    /// The arguments may hold `-p:PASSWORD`; debug output never shows them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WinrmArgs({} arguments)", self.args.len())
    }
}

/// The environment variable read when `-p:` is not given.
pub const PASSWORD_ENV: &str = "WSMAN_PASSWORD";

/// Runs `winrm` with the process's streams.
pub fn run(a: &WinrmArgs) -> u8 {
    let stdin = std::io::stdin();
    run_with(
        &a.args,
        &mut stdin.lock(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
}

/// Runs `winrm` with the given streams (tests drive it in process).
pub fn run_with(
    argv: &[String],
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let inv = match args::parse(argv) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(
                err,
                "error: {e}\n(`wsman-harness winrm help` lists verbs and switches)"
            );
            return exit::USAGE;
        }
    };
    let Some(verb) = inv.verb else {
        let _ = write!(err, "{}", help::topic("").unwrap_or_default());
        return exit::USAGE;
    };
    if verb == Verb::Help {
        let name = inv.topics.first().map_or("", String::as_str);
        return match help::topic(name) {
            Some(text) => {
                let _ = write!(out, "{text}");
                exit::OK
            }
            None => {
                let _ = writeln!(
                    err,
                    "error: no help topic {name:?}; topics: {}",
                    help::TOPICS
                );
                exit::USAGE
            }
        };
    }
    let input = match input(&inv) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let opts = match options(&inv, verb) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let timeout = operation_timeout(&inv);
    let client = match Client::new(opts) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::UNREACHABLE;
        }
    };
    let mut session = Session::new(client, !inv.unencrypted, timeout);
    let result = execute(&inv, verb, &input, &mut session, stdin, out, err);
    match result {
        Ok(()) => exit::OK,
        Err(f) => report_failure(&inv, verb, &f, out, err),
    }
}

/// The `@{...}` pairs (checked against the configuration model) or the `-file` element.
fn input(inv: &Invocation) -> Result<Input, String> {
    if let Some((h, text)) = &inv.hash {
        if matches!(inv.verb, Some(Verb::Set | Verb::Create))
            && let Some(r) = &inv.resource
            && let Err(refused) = validate::check(r, h)
        {
            return Err(format!(
                "{}; nothing was sent\n{}",
                refused.reason,
                hash::caret(text, refused.at)
            ));
        }
        return Ok(Input::Hash(h.clone()));
    }
    if let Some(path) = &inv.file {
        let bytes = crate::files::read_limited(path, crate::xml::DEFAULT_MAX_BYTES)
            .map_err(|e| format!("-file:{}: {e}", path.display()))?;
        if bytes.len() > crate::xml::DEFAULT_MAX_BYTES {
            return Err(format!(
                "-file:{}: larger than {} bytes",
                path.display(),
                crate::xml::DEFAULT_MAX_BYTES
            ));
        }
        let e = crate::xml::parse_document(&bytes, crate::xml::Limits::default())
            .map_err(|e| format!("-file:{}: {e}", path.display()))?;
        return Ok(Input::Element(e));
    }
    Ok(Input::None)
}

/// `-r:` as a target: a URL, or `host[:port]` completed like the Windows tool does.
pub fn target(remote: Option<&str>, use_ssl: bool) -> Result<Target, String> {
    let scheme = if use_ssl { "https" } else { "http" };
    let url = match remote {
        None => format!(
            "{scheme}://localhost:{}/wsman",
            if use_ssl { 5986 } else { 5985 }
        ),
        Some(r) if r.contains("://") => r.to_owned(),
        Some(r) => format!("{scheme}://{r}"),
    };
    Target::parse(&url).map_err(|e| format!("-r: {e}"))
}

fn options(inv: &Invocation, verb: Verb) -> Result<ClientOptions, String> {
    let target = target(inv.remote.as_deref(), inv.use_ssl)?;
    let auth = inv.auth.unwrap_or(Auth::Negotiate);
    let method = match auth {
        Auth::None if verb == Verb::Identify => AuthMethod::None,
        Auth::None => {
            return Err("-a:none is only for identify; other verbs need credentials".into());
        }
        Auth::Basic => AuthMethod::Basic,
        Auth::Negotiate => AuthMethod::Negotiate,
        Auth::Kerberos => AuthMethod::Kerberos,
    };
    if method == AuthMethod::Basic && !target.https && !inv.unencrypted {
        return Err(
            "Basic over HTTP sends the password readable by anyone on the path: add -unencrypted \
             to do it anyway, or use -a:negotiate or HTTPS"
                .into(),
        );
    }
    let (user, password) =
        if method == AuthMethod::None || (method == AuthMethod::Kerberos && inv.user.is_none()) {
            // Kerberos without -u: tickets from the credential cache (kinit).
            (String::new(), String::new())
        } else {
            let user = inv
                .user
                .clone()
                .ok_or("-u:USER is needed (or -a:none for identify)")?;
            let password = match &inv.password {
                Some(p) => p.0.clone(),
                None => std::env::var(PASSWORD_ENV)
                    .map_err(|_| format!("no password: set ${PASSWORD_ENV} or give -p:PASSWORD"))?,
            };
            (user, password)
        };
    let mut o = ClientOptions::new(target, &user, &password);
    o.auth = method;
    o.insecure = inv.skip_ca;
    o.any_name = inv.skip_cn;
    o.ca = inv.ca.clone();
    if o.target.https && !o.insecure && o.ca.is_none() {
        return Err(
            "HTTPS needs -cacert:FILE (PEM) to verify the server, or -skipCAcheck to accept any \
             certificate"
                .into(),
        );
    }
    // The client waits a little longer than the service may take.
    o.timeout = operation_timeout(inv) + Duration::from_secs(5);
    Ok(o)
}

/// `-timeout:` (default 60 s, WinRM's MaxTimeoutms): the OperationTimeout asked for.
fn operation_timeout(inv: &Invocation) -> Duration {
    Duration::from_millis(inv.timeout_ms.unwrap_or(60_000))
}

fn execute(
    inv: &Invocation,
    verb: Verb,
    input: &Input,
    session: &mut Session,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let resource = inv.resource.as_ref();
    let need = || resource.ok_or_else(|| Failure::Refused("no resource".into()));
    let items = match verb {
        Verb::Get => session.get(need()?)?,
        Verb::Set => session.set(need()?, input)?,
        Verb::Create => session.create(need()?, input)?,
        Verb::Invoke => {
            let action = inv.action.as_deref().unwrap_or_default();
            session.invoke(action, need()?, input)?
        }
        Verb::Identify => session.identify(inv.auth != Some(Auth::None))?,
        Verb::Delete => {
            session.delete(need()?)?;
            Vec::new()
        }
        Verb::Enumerate => return enumerate(inv, need()?, session, out),
        Verb::QuickConfig => return quickconfig(inv, session, stdin, out, err),
        Verb::Help => Vec::new(),
    };
    print_items(inv, verb, &items, out).map_err(io_failure)
}

fn io_failure(e: std::io::Error) -> Failure {
    Failure::Refused(format!("cannot write the output: {e}"))
}

/// `{"verb", "resource", "selectors"` — the opening every JSON answer shares.
fn json_head(inv: &Invocation, verb: Verb) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("verb".into(), verb.name().into());
    if let Some(a) = &inv.action {
        m.insert("action".into(), a.clone().into());
    }
    if let Some(r) = &inv.resource {
        m.insert("resource".into(), r.uri.clone().into());
        let sel: serde_json::Map<_, _> = r
            .selectors
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
            .collect();
        m.insert("selectors".into(), sel.into());
    }
    m
}

fn print_items(
    inv: &Invocation,
    verb: Verb,
    items: &[Element],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if inv.json {
        let mut m = json_head(inv, verb);
        m.insert(
            "items".into(),
            items.iter().map(render::json).collect::<Vec<_>>().into(),
        );
        return writeln!(out, "{}", serde_json::Value::Object(m));
    }
    for (i, e) in items.iter().enumerate() {
        if i > 0 && inv.format == Format::Text {
            writeln!(out)?;
        }
        write_item(inv.format, e, out)?;
    }
    Ok(())
}

fn write_item(format: Format, e: &Element, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Text => {
            let mut s = String::new();
            render::text(e, 0, &mut s);
            out.write_all(s.as_bytes())
        }
        Format::Pretty => writeln!(out, "{}", render::pretty(e)),
        Format::Xml => writeln!(out, "{}", render::xml(e)),
    }
}

/// Items are printed as they arrive; JSON is written as a stream too (`"items": [` ... `]`).
fn enumerate(
    inv: &Invocation,
    r: &crate::winrm::resource::ResourceRef,
    session: &mut Session,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if inv.json {
        let head = serde_json::Value::Object(json_head(inv, Verb::Enumerate)).to_string();
        // The head is an object; open it again to append the streamed array.
        let open = head.strip_suffix('}').unwrap_or(&head);
        let sep = if open.ends_with('{') { "" } else { "," };
        write!(out, "{open}{sep}\"items\":[").map_err(io_failure)?;
    }
    let mut first = true;
    let json = inv.json;
    let format = inv.format;
    let result = session.enumerate(r, &mut |e| {
        if json {
            if !first {
                write!(out, ",")?;
            }
            write!(out, "{}", render::json(&e))?;
        } else {
            if !first && format == Format::Text {
                writeln!(out)?;
            }
            write_item(format, &e, out)?;
        }
        first = false;
        Ok(())
    });
    if json {
        // Close the document even after a failure, so that what was printed still parses;
        // the failure itself is reported separately.
        writeln!(out, "]}}").map_err(io_failure)?;
    }
    result.map(|_| ())
}

fn quickconfig(
    inv: &Invocation,
    session: &mut Session,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let force = inv.force;
    let mut ask = |plan: &str| -> bool {
        if force {
            return true;
        }
        let _ = write!(
            err,
            "WinRM is not set up for remote management on this target.\n{plan}\n\nMake these changes [y/n]? "
        );
        let _ = err.flush();
        let mut line = String::new();
        // A bounded read: one answer line, not an endless stream.
        let mut limited = std::io::Read::take(&mut *stdin, 256);
        let _ = limited.read_line(&mut line);
        matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    };
    let result = session.quickconfig(inv.transport_https, &mut ask)?;
    if inv.json {
        let mut m = json_head(inv, Verb::QuickConfig);
        m.insert(
            "transport".into(),
            if inv.transport_https { "https" } else { "http" }.into(),
        );
        m.insert("changed".into(), result.changed.into());
        m.insert("results".into(), result.results.into());
        return writeln!(out, "{}", serde_json::Value::Object(m)).map_err(io_failure);
    }
    let text = if result.changed {
        format!(
            "WinRM has been updated for remote management.\n\n{}\n",
            result.results
        )
    } else {
        format!(
            "WinRM is already set up for remote management on this target.\n{}\n",
            result.results
        )
    };
    out.write_all(text.as_bytes()).map_err(io_failure)
}

/// Prints a failure (faults as the Windows tool does: the WSManFault, its error number as
/// signed and hex HRESULT, the message) and maps it to an exit code.
fn report_failure(
    inv: &Invocation,
    verb: Verb,
    f: &Failure,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let code = match f {
        Failure::Transport(e) if e.is_unreachable() => exit::UNREACHABLE,
        _ => exit::FAILURE,
    };
    if inv.json {
        let mut m = json_head(inv, verb);
        m.insert("error".into(), failure_json(f));
        let _ = writeln!(out, "{}", serde_json::Value::Object(m));
        return code;
    }
    let _ = match f {
        Failure::Fault(fault) => write!(err, "{}", fault_text(fault)),
        other => writeln!(err, "error: {other}"),
    };
    code
}

fn failure_json(f: &Failure) -> serde_json::Value {
    use serde_json::json;
    match f {
        Failure::Fault(fault) => {
            let w = fault.wsman_fault();
            json!({
                "kind": "fault",
                "code": fault.code.local.to_string(),
                "subcode": fault.subcode.as_ref().map(|s| s.local.to_string()),
                "wsman_code": w.as_ref().map(|w| w.code.clone()),
                "message": w.as_ref().and_then(|w| w.message.clone()),
                "reason": fault.reason().map(|r| r.trim().to_owned()),
            })
        }
        Failure::Transport(e) => json!({"kind": "transport", "message": e.to_string()}),
        Failure::Protocol(s) => json!({"kind": "protocol", "message": s}),
        Failure::Refused(s) => json!({"kind": "refused", "message": s}),
    }
}

/// `WSManFault` / `Message = ...`, then `Error number:  -2144108453 0x8033805B`, then the reason.
pub fn fault_text(fault: &Fault) -> String {
    let mut s = String::new();
    let reason = fault
        .reason()
        .map(|r| r.trim().to_owned())
        .unwrap_or_default();
    match fault
        .detail
        .as_ref()
        .and_then(|d| d.elements().find(|e| e.name.local == "WSManFault"))
    {
        Some(w) => render::text(w, 0, &mut s),
        None => {
            s.push_str("Fault\n");
            s.push_str(&format!("    Code = {}\n", fault.code.local));
            if let Some(sub) = &fault.subcode {
                s.push_str(&format!("    Subcode = {}\n", sub.local));
            }
        }
    }
    if let Some(code) = fault
        .wsman_fault()
        .and_then(|w| w.code.trim().parse::<u32>().ok())
    {
        s.push_str(&format!("\nError number:  {} 0x{code:X}\n", code as i32));
    }
    if !reason.is_empty() {
        s.push_str(&reason);
        s.push('\n');
    }
    s
}
