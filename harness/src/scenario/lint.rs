//! Lint: a passive validator for recorded exchanges. It reads request/response pairs (any
//! scenario, whatever produced it) and reports protocol violations with the rule and where it
//! is written down. Recordings are evidence, so the rules are careful: what a recording cannot
//! show (a sanitised MessageID, a shell created before the recording started) is reported as
//! informational, never as a violation, and documented Windows behaviour is informational too.

use std::collections::HashSet;

use serde::Serialize;

use super::model::Scenario;
use super::symbols::{is_sanitised_placeholder, key};
use super::{header, header_text};
use crate::ns;
use crate::xml::Element;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks a rule of the protocol.
    Violation,
    /// Worth knowing; not a violation (quirks, what the recording cannot show).
    Info,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Violation or info.
    pub severity: Severity,
    /// Rule id (`relates-to`, `response-action`, ...).
    pub rule: &'static str,
    /// Where the rule is written down.
    pub reference: &'static str,
    /// The scenario.
    pub scenario: String,
    /// 1-based step.
    pub step: usize,
    /// What is wrong.
    pub message: String,
}

/// The rules, for `lint --list` and the README.
pub const RULES: &[(&str, &str, &str)] = &[
    (
        "relates-to",
        "a response's RelatesTo repeats the request's MessageID",
        "WS-Addressing 2004/08 §3.3; DSP0226 R5.4.2-1",
    ),
    (
        "response-action",
        "a response's Action is the request's Action + `Response`, or a fault Action with a Fault body",
        "DSP0226 §7 (R7.1-1), §14.5",
    ),
    (
        "required-headers",
        "requests carry Action, To, MessageID, ReplyTo (anonymous) and ResourceURI; responses Action, MessageID",
        "DSP0226 R5.4.2-1, R6.1-1, R5.4.2-3",
    ),
    (
        "fault-structure",
        "a Fault has Code/Value (Sender or Receiver), a known Subcode and a Reason; it travels with HTTP 500",
        "SOAP 1.2 §5.4; DSP0226 §14; MS-WSMV 3.1.4.1.2",
    ),
    (
        "enumeration-context",
        "Pull and Release use a context an earlier Enumerate or Pull returned, not one that was finished or released",
        "WS-Enumeration §3.2-3.4; DSP0226 §8.2",
    ),
    (
        "shell-flow",
        "Command, Send, Receive, Signal and Delete name a shell (and command) created earlier in the recording",
        "MS-WSMV 3.1.4.1.31, 3.1.4.11-16",
    ),
];

fn reference(rule: &str) -> &'static str {
    RULES
        .iter()
        .find(|(r, ..)| *r == rule)
        .map(|(_, _, r)| *r)
        .unwrap_or("")
}

fn body_first(tree: &Element) -> Option<&Element> {
    tree.find(ns::SOAP, "Body")
        .and_then(|b| b.elements().next())
}

fn selector(tree: &Element, name: &str) -> Option<String> {
    header(tree, ns::WSMAN, "SelectorSet").and_then(|s| {
        s.elements()
            .find(|e| e.name.is(ns::WSMAN, "Selector") && e.attr_value("", "Name") == Some(name))
            .map(|e| e.text().trim().to_owned())
    })
}

fn command_id_attr(e: &Element) -> Option<String> {
    e.attr_value("", "CommandId")
        .or_else(|| e.attr_value(ns::SHELL, "CommandId"))
        .map(|v| v.trim().to_owned())
}

struct Linter<'s> {
    scenario: &'s Scenario,
    out: Vec<Finding>,
    shells: HashSet<String>,
    shells_created: bool,
    commands: HashSet<String>,
    contexts: HashSet<String>,
    finished: HashSet<String>,
    enumerated: bool,
}

impl Linter<'_> {
    fn push(&mut self, severity: Severity, rule: &'static str, step: usize, message: String) {
        self.out.push(Finding {
            severity,
            rule,
            reference: reference(rule),
            scenario: self.scenario.name.clone(),
            step: step + 1,
            message,
        });
    }
}

/// Lints one scenario.
pub fn lint(s: &Scenario) -> Vec<Finding> {
    let mut l = Linter {
        scenario: s,
        out: Vec::new(),
        shells: HashSet::new(),
        shells_created: false,
        commands: HashSet::new(),
        contexts: HashSet::new(),
        finished: HashSet::new(),
        enumerated: false,
    };
    for (i, step) in s.steps.iter().enumerate() {
        let req = &step.request_tree;
        let is_identify = body_first(req).is_some_and(|b| ns::is_identify_ns(&b.name.ns));
        let mark = l.out.len();
        if !is_identify && !step.synthetic {
            request_headers(&mut l, i, req);
            flow_before(&mut l, i, req);
        }
        let Some(resp) = step.response.as_ref() else {
            continue;
        };
        let Some(tree) = resp.tree.as_ref() else {
            continue;
        };
        if !tree.name.is(ns::SOAP, "Envelope") {
            continue;
        }
        let fault = body_first(tree).filter(|b| b.name.is(ns::SOAP, "Fault"));
        if fault.is_some() {
            // A client breaking the flow on purpose and a server refusing it is the protocol
            // working; only a server accepting it is a violation.
            for f in &mut l.out[mark..] {
                if f.severity == Severity::Violation
                    && matches!(f.rule, "enumeration-context" | "shell-flow")
                {
                    f.severity = Severity::Info;
                    f.message.push_str(" (the server refused it)");
                }
            }
        }
        if let Some(f) = fault {
            fault_structure(&mut l, i, f, resp.status);
        }
        if is_identify || step.synthetic {
            continue;
        }
        relates_to(&mut l, i, req, tree);
        response_action(&mut l, i, req, tree, fault.is_some());
        if fault.is_none() {
            flow_after(&mut l, req, tree);
        }
    }
    l.out
}

fn request_headers(l: &mut Linter<'_>, i: usize, req: &Element) {
    let mut missing = Vec::new();
    for (nsu, local) in [
        (ns::ADDRESSING, "Action"),
        (ns::ADDRESSING, "To"),
        (ns::ADDRESSING, "MessageID"),
        (ns::ADDRESSING, "ReplyTo"),
        (ns::WSMAN, "ResourceURI"),
    ] {
        if header(req, nsu, local).is_none() {
            missing.push(format!(
                "{}:{local}",
                ns::windows_prefix(nsu).unwrap_or("?")
            ));
        }
    }
    if !missing.is_empty() {
        l.push(
            Severity::Violation,
            "required-headers",
            i,
            format!("request lacks {}", missing.join(", ")),
        );
    }
    if let Some(addr) =
        header(req, ns::ADDRESSING, "ReplyTo").and_then(|r| r.find(ns::ADDRESSING, "Address"))
        && addr.text().trim() != ns::ANONYMOUS
    {
        l.push(
            Severity::Violation,
            "required-headers",
            i,
            format!(
                "ReplyTo is {:?}, not the anonymous role",
                addr.text().trim()
            ),
        );
    }
}

fn relates_to(l: &mut Linter<'_>, i: usize, req: &Element, resp: &Element) {
    let Some(id) = header_text(req, ns::ADDRESSING, "MessageID") else {
        return;
    };
    let sanitised = is_sanitised_placeholder(&id);
    match header_text(resp, ns::ADDRESSING, "RelatesTo") {
        None if sanitised => l.push(
            Severity::Info,
            "relates-to",
            i,
            "response has no RelatesTo; the request's MessageID is a sanitised placeholder, so \
             the recording may have lost it"
                .into(),
        ),
        None => l.push(
            Severity::Violation,
            "relates-to",
            i,
            format!("response has no RelatesTo (request MessageID {id})"),
        ),
        Some(r) if key(&r) != key(&id) => l.push(
            if sanitised {
                Severity::Info
            } else {
                Severity::Violation
            },
            "relates-to",
            i,
            format!("RelatesTo {r} does not repeat the request's MessageID {id}"),
        ),
        Some(_) => {}
    }
    if header(resp, ns::ADDRESSING, "MessageID").is_none() {
        l.push(
            Severity::Violation,
            "required-headers",
            i,
            "response has no MessageID".into(),
        );
    }
}

fn response_action(l: &mut Linter<'_>, i: usize, req: &Element, resp: &Element, fault: bool) {
    let Some(ra) = header_text(resp, ns::ADDRESSING, "Action") else {
        l.push(
            Severity::Violation,
            "required-headers",
            i,
            "response has no Action".into(),
        );
        return;
    };
    let is_fault_action = ra.ends_with("/fault") || ra.ends_with("/Fault");
    if fault {
        if !is_fault_action {
            l.push(
                Severity::Violation,
                "response-action",
                i,
                format!("a Fault body under Action {ra}"),
            );
        }
        return;
    }
    if is_fault_action {
        l.push(
            Severity::Violation,
            "response-action",
            i,
            format!("fault Action {ra} without a Fault body"),
        );
        return;
    }
    let Some(qa) = header_text(req, ns::ADDRESSING, "Action") else {
        return;
    };
    let expected = format!("{qa}Response");
    if ra != expected {
        l.push(
            Severity::Violation,
            "response-action",
            i,
            format!("Action {ra}, expected {expected}"),
        );
    }
}

fn fault_structure(l: &mut Linter<'_>, i: usize, f: &Element, status: u16) {
    let code = f.find(ns::SOAP, "Code");
    let value = code
        .and_then(|c| c.find(ns::SOAP, "Value"))
        .map(|v| v.text());
    match value
        .as_deref()
        .map(|v| v.trim().rsplit(':').next().unwrap_or("").to_owned())
    {
        Some(v)
            if [
                "Sender",
                "Receiver",
                "MustUnderstand",
                "VersionMismatch",
                "DataEncodingUnknown",
            ]
            .contains(&v.as_str()) => {}
        Some(v) => l.push(
            Severity::Violation,
            "fault-structure",
            i,
            format!("fault code {v:?} is not a SOAP 1.2 code"),
        ),
        None => l.push(
            Severity::Violation,
            "fault-structure",
            i,
            "fault without Code/Value".into(),
        ),
    }
    if f.find(ns::SOAP, "Reason")
        .and_then(|r| r.find(ns::SOAP, "Text"))
        .is_none()
    {
        l.push(
            Severity::Violation,
            "fault-structure",
            i,
            "fault without Reason/Text".into(),
        );
    }
    let sub = code
        .and_then(|c| c.find(ns::SOAP, "Subcode"))
        .and_then(|s| s.find(ns::SOAP, "Value"))
        .map(|v| v.text().trim().to_owned());
    if let Some(sub) = sub {
        let local = sub.rsplit(':').next().unwrap_or(&sub);
        let known = crate::catalogue::catalogue()
            .subcodes
            .iter()
            .any(|e| e.name.local == local);
        if !known {
            l.push(
                Severity::Info,
                "fault-structure",
                i,
                format!("subcode {sub} is not in the fault catalogue"),
            );
        }
    }
    if status != 0 && status != 500 {
        // Windows answers every fault with 500; DSP0226 allows 400 for Sender faults in
        // some bindings, so this is worth a note rather than a violation.
        l.push(
            Severity::Info,
            "fault-structure",
            i,
            format!("fault with HTTP {status} (Windows uses 500)"),
        );
    }
}

fn flow_before(l: &mut Linter<'_>, i: usize, req: &Element) {
    let action = header_text(req, ns::ADDRESSING, "Action").unwrap_or_default();
    let body = body_first(req);
    if action == ns::action::PULL || action == ns::action::RELEASE {
        let ctx = body
            .and_then(|b| b.find(ns::ENUMERATION, "EnumerationContext"))
            .map(|c| c.text().trim().to_owned());
        if let Some(ctx) = ctx {
            if l.finished.contains(&ctx) {
                l.push(
                    Severity::Violation,
                    "enumeration-context",
                    i,
                    format!("context {ctx} was already finished or released"),
                );
            } else if !l.contexts.contains(&ctx) {
                l.push(
                    if l.enumerated {
                        Severity::Violation
                    } else {
                        Severity::Info
                    },
                    "enumeration-context",
                    i,
                    if l.enumerated {
                        format!("context {ctx} was never returned by this server")
                    } else {
                        format!("context {ctx} comes from before the recording")
                    },
                );
            }
            if action == ns::action::RELEASE {
                l.contexts.remove(&ctx);
                l.finished.insert(ctx);
            }
        }
    }
    let shell_op = [
        ns::action::COMMAND,
        ns::action::SEND,
        ns::action::RECEIVE,
        ns::action::SIGNAL,
    ]
    .contains(&action.as_str())
        || (action == ns::action::DELETE
            && header_text(req, ns::WSMAN, "ResourceURI").is_some_and(|r| {
                r.starts_with("http://schemas.microsoft.com/wbem/wsman/1/windows/shell")
            }));
    if !shell_op {
        return;
    }
    match selector(req, "ShellId") {
        None => l.push(
            Severity::Violation,
            "shell-flow",
            i,
            "shell operation without a ShellId selector".into(),
        ),
        Some(id) if !l.shells.contains(&key(&id)) => l.push(
            if l.shells_created {
                Severity::Violation
            } else {
                Severity::Info
            },
            "shell-flow",
            i,
            if l.shells_created {
                format!("ShellId {id} was not created in this recording")
            } else {
                format!("ShellId {id} comes from before the recording")
            },
        ),
        Some(_) => {}
    }
    let ids: Vec<String> = body
        .into_iter()
        .flat_map(|b| std::iter::once(b).chain(b.elements()))
        .filter_map(command_id_attr)
        .collect();
    for id in ids {
        // A client may choose the CommandId in the Command request itself (MS-WSMV 3.1.4.11).
        if action == ns::action::COMMAND {
            l.commands.insert(key(&id));
            continue;
        }
        if !l.commands.contains(&key(&id)) {
            l.push(
                if l.shells_created {
                    Severity::Violation
                } else {
                    Severity::Info
                },
                "shell-flow",
                i,
                format!("CommandId {id} was not started in this recording"),
            );
        }
    }
    if action == ns::action::DELETE
        && let Some(id) = selector(req, "ShellId")
    {
        l.shells.remove(&key(&id));
    }
}

fn flow_after(l: &mut Linter<'_>, req: &Element, resp: &Element) {
    let action = header_text(req, ns::ADDRESSING, "Action").unwrap_or_default();
    let body = body_first(resp);
    if action == ns::action::CREATE {
        let mut ids = Vec::new();
        if let Some(b) = resp.find(ns::SOAP, "Body") {
            for e in b.elements() {
                if let Some(s) = e.find(ns::SHELL, "ShellId") {
                    ids.push(s.text());
                }
                if e.name.is(ns::TRANSFER, "ResourceCreated")
                    && let Some(rp) = e.find(ns::ADDRESSING, "ReferenceParameters")
                    && let Some(ss) = rp.find(ns::WSMAN, "SelectorSet")
                {
                    for sel in ss.elements() {
                        if sel.attr_value("", "Name") == Some("ShellId") {
                            ids.push(sel.text());
                        }
                    }
                }
            }
        }
        if !ids.is_empty() {
            l.shells_created = true;
        }
        for id in ids {
            l.shells.insert(key(&id));
        }
    }
    if action == ns::action::COMMAND
        && let Some(id) = body.and_then(|b| b.find(ns::SHELL, "CommandId"))
    {
        l.commands.insert(key(&id.text()));
    }
    if action == ns::action::ENUMERATE || action == ns::action::PULL {
        l.enumerated = true;
        let Some(b) = body else { return };
        let sent = req
            .find(ns::SOAP, "Body")
            .and_then(|x| x.elements().next())
            .and_then(|x| x.find(ns::ENUMERATION, "EnumerationContext"))
            .map(|c| c.text().trim().to_owned());
        // PullResponse ends with n:EndOfSequence, an optimized EnumerateResponse with
        // w:EndOfSequence.
        let end = b.find(ns::ENUMERATION, "EndOfSequence").is_some()
            || b.find(ns::WSMAN, "EndOfSequence").is_some();
        if let Some(old) = sent {
            l.contexts.remove(&old);
            l.finished.insert(old);
        }
        if let Some(ctx) = b
            .find(ns::ENUMERATION, "EnumerationContext")
            .map(|c| c.text().trim().to_owned())
            && !ctx.is_empty()
        {
            if end {
                l.finished.insert(ctx);
            } else {
                l.finished.remove(&ctx);
                l.contexts.insert(ctx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::file::parse;

    fn scenario(steps: &[(&str, &str)]) -> Scenario {
        let mut t = String::from("[scenario]\nname = \"t\"\n");
        for (q, r) in steps {
            t.push_str(&format!(
                "[[step]]\nrequest = '''\n{q}'''\nresponse = '''\n{r}'''\n"
            ));
        }
        parse(&t, "t", None).unwrap()
    }

    const H: &str = r#"xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd""#;

    fn req(action: &str, id: &str) -> String {
        format!(
            r#"<s:Envelope {H}><s:Header><a:Action>{action}</a:Action><a:To>http://h/wsman</a:To><a:MessageID>{id}</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/config</w:ResourceURI></s:Header><s:Body/></s:Envelope>"#
        )
    }

    fn resp(action: &str, relates: &str) -> String {
        format!(
            r#"<s:Envelope {H}><s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:9c8ffb3e-0d4b-4a4f-9a42-7d7d1c1e0001</a:MessageID><a:RelatesTo>{relates}</a:RelatesTo></s:Header><s:Body/></s:Envelope>"#
        )
    }

    const GET: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
    const ID: &str = "uuid:3d8b2b0a-49b2-4c71-9b8e-2f4f0c1a0001";

    #[test]
    fn a_correct_pair_is_clean_and_each_break_is_named() {
        let ok = scenario(&[(&req(GET, ID), &resp(&format!("{GET}Response"), ID))]);
        assert!(lint(&ok).is_empty(), "{:#?}", lint(&ok));
        let wrong = scenario(&[(
            &req(GET, ID),
            &resp(
                &format!("{GET}Response"),
                "uuid:3d8b2b0a-49b2-4c71-9b8e-2f4f0c1a0002",
            ),
        )]);
        let f = lint(&wrong);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].rule, f[0].severity),
            ("relates-to", Severity::Violation)
        );
        let action = scenario(&[(&req(GET, ID), &resp("http://x/PutResponse", ID))]);
        assert_eq!(lint(&action)[0].rule, "response-action");
        let sanitised = "uuid:11111111-1111-1111-1111-111111111111";
        let s = scenario(&[(&req(GET, sanitised), &resp(&format!("{GET}Response"), ID))]);
        assert_eq!(lint(&s)[0].severity, Severity::Info);
        let no_to = req(GET, ID).replace("<a:To>http://h/wsman</a:To>", "");
        let s = scenario(&[(&no_to, &resp(&format!("{GET}Response"), ID))]);
        assert!(lint(&s)[0].message.contains("a:To"), "{:?}", lint(&s));
    }
}
