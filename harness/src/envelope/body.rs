//! The SOAP body: one typed variant per message WS-Man defines, generic content otherwise.

use super::enumeration::{Enumerate, EnumerateResponse, Pull, PullResponse, Release};
use super::fault::Fault;
use super::identify::{Identify, IdentifyResponse};
use super::part::{Part, faithful};
use super::shell::{
    CommandLine, CommandResponse, Receive, ReceiveResponse, Send, Shell, Signal, SignalResponse,
};
use super::transfer::ResourceCreated;
use crate::xml::{Element, Fragment};

/// The content of `s:Body`.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Body {
    /// No content (Get, Delete, DeleteResponse, ReleaseResponse, ...).
    #[default]
    Empty,
    /// `wsmid:Identify`.
    Identify(Identify),
    /// `wsmid:IdentifyResponse`.
    IdentifyResponse(IdentifyResponse),
    /// `x:ResourceCreated`.
    ResourceCreated(ResourceCreated),
    /// `x:ResourceCreated` followed by `rsp:Shell`: Windows' answer to a shell Create.
    ShellCreated(ResourceCreated, Shell),
    /// `wsen:Enumerate`.
    Enumerate(Enumerate),
    /// `wsen:EnumerateResponse`.
    EnumerateResponse(EnumerateResponse),
    /// `wsen:Pull`.
    Pull(Pull),
    /// `wsen:PullResponse`.
    PullResponse(PullResponse),
    /// `wsen:Release`.
    Release(Release),
    /// `rsp:Shell`.
    Shell(Shell),
    /// `rsp:CommandLine`.
    CommandLine(CommandLine),
    /// `rsp:CommandResponse`.
    CommandResponse(CommandResponse),
    /// `rsp:Send`.
    Send(Send),
    /// `rsp:Receive`.
    Receive(Receive),
    /// `rsp:ReceiveResponse`.
    ReceiveResponse(ReceiveResponse),
    /// `rsp:Signal`.
    Signal(Signal),
    /// `rsp:SignalResponse`.
    SignalResponse(SignalResponse),
    /// `s:Fault`.
    Fault(Fault),
    /// Anything else: resource representations (Get/Put/Create), method calls, several elements,
    /// or a known element in a shape the typed model does not reproduce exactly.
    Other(Vec<Fragment>),
}

impl Body {
    /// Types one body element; `scope` is the namespace scope at the body.
    pub(crate) fn from_element(e: Element, scope: &[(String, String)]) -> Body {
        macro_rules! try_typed {
            ($($variant:ident),*) => {{
                $(if let Some(v) = faithful::<$variant>(&e, scope) {
                    return Body::$variant(v);
                })*
            }};
        }
        match (e.name.ns.as_ref(), e.name.local.as_ref()) {
            (_, "Identify") => try_typed!(Identify),
            (_, "IdentifyResponse") => try_typed!(IdentifyResponse),
            (crate::ns::TRANSFER, _) => try_typed!(ResourceCreated),
            (crate::ns::ENUMERATION, _) => {
                try_typed!(Enumerate, EnumerateResponse, Pull, PullResponse, Release)
            }
            (crate::ns::SHELL, _) => try_typed!(
                Shell,
                CommandLine,
                CommandResponse,
                Send,
                Receive,
                ReceiveResponse,
                Signal,
                SignalResponse
            ),
            (crate::ns::SOAP, "Fault") => try_typed!(Fault),
            _ => {}
        }
        Body::Other(vec![Fragment::from(e.with_outer_scope(scope))])
    }

    /// The body as elements (empty for [`Body::Empty`]).
    pub fn to_elements(&self) -> Vec<Fragment> {
        let one = |e: Element| vec![Fragment::from(e)];
        match self {
            Body::Empty => Vec::new(),
            Body::Identify(v) => one(v.to_element()),
            Body::IdentifyResponse(v) => one(v.to_element()),
            Body::ResourceCreated(v) => one(v.to_element()),
            Body::ShellCreated(r, s) => vec![r.to_element().into(), s.to_element().into()],
            Body::Enumerate(v) => one(v.to_element()),
            Body::EnumerateResponse(v) => one(v.to_element()),
            Body::Pull(v) => one(v.to_element()),
            Body::PullResponse(v) => one(v.to_element()),
            Body::Release(v) => one(v.to_element()),
            Body::Shell(v) => one(v.to_element()),
            Body::CommandLine(v) => one(v.to_element()),
            Body::CommandResponse(v) => one(v.to_element()),
            Body::Send(v) => one(v.to_element()),
            Body::Receive(v) => one(v.to_element()),
            Body::ReceiveResponse(v) => one(v.to_element()),
            Body::Signal(v) => one(v.to_element()),
            Body::SignalResponse(v) => one(v.to_element()),
            Body::Fault(v) => one(v.to_element()),
            Body::Other(v) => v.clone(),
        }
    }

    /// Combines several body elements: the shell-creation pair is typed, anything else generic.
    pub(crate) fn from_parts(mut parts: Vec<Body>) -> Body {
        match parts.len() {
            0 => Body::Empty,
            1 => parts.pop().unwrap_or_default(),
            2 if matches!(
                (&parts[0], &parts[1]),
                (Body::ResourceCreated(_), Body::Shell(_))
            ) =>
            {
                match (parts.remove(0), parts.remove(0)) {
                    (Body::ResourceCreated(r), Body::Shell(s)) => Body::ShellCreated(r, s),
                    _ => Body::Empty,
                }
            }
            _ => Body::Other(parts.iter().flat_map(Body::to_elements).collect()),
        }
    }

    /// A short name of the body's kind, for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Empty => "empty",
            Body::Identify(_) => "Identify",
            Body::IdentifyResponse(_) => "IdentifyResponse",
            Body::ResourceCreated(_) => "ResourceCreated",
            Body::ShellCreated(..) => "ShellCreated",
            Body::Enumerate(_) => "Enumerate",
            Body::EnumerateResponse(_) => "EnumerateResponse",
            Body::Pull(_) => "Pull",
            Body::PullResponse(_) => "PullResponse",
            Body::Release(_) => "Release",
            Body::Shell(_) => "Shell",
            Body::CommandLine(_) => "CommandLine",
            Body::CommandResponse(_) => "CommandResponse",
            Body::Send(_) => "Send",
            Body::Receive(_) => "Receive",
            Body::ReceiveResponse(_) => "ReceiveResponse",
            Body::Signal(_) => "Signal",
            Body::SignalResponse(_) => "SignalResponse",
            Body::Fault(_) => "Fault",
            Body::Other(_) => "other",
        }
    }
}
