//! Windows remote shell bodies (MS-WSMV 2.2.4.37 and 3.1.4.11-3.1.4.17).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::part::{Part, child_text, push_text, scoped};
use crate::ns;
use crate::xml::{Attribute, Element, Node, QName, attr};

fn rsp(local: &'static str) -> QName {
    QName::new(ns::SHELL, local)
}

/// Attributes other than the listed unqualified ones.
fn other_attrs(e: &Element, known: &[&str]) -> Vec<Attribute> {
    e.attrs
        .iter()
        .filter(|a| !(a.name.ns.is_empty() && known.contains(&a.name.local.as_ref())))
        .cloned()
        .collect()
}

/// `rsp:Shell`: the Create request body and the shell description in responses. Its children vary
/// by Windows version and shell kind (ShellId, Owner, ClientIP, IdleTimeOut, Environment, ...),
/// so they are kept in order and read through accessors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shell {
    /// Attributes (`ShellId`, `Name` on PowerShell shells).
    pub attrs: Vec<Attribute>,
    /// Child elements in wire order.
    pub children: Vec<Element>,
}

impl Shell {
    /// The body pywinrm and the Windows client send to create a cmd shell.
    pub fn cmd() -> Self {
        Self::default()
            .field("InputStreams", "stdin")
            .field("OutputStreams", "stdout stderr")
    }

    /// Builder: appends a text field in the shell namespace.
    pub fn field(mut self, local: &'static str, value: &str) -> Self {
        self.children.push(Element::with_text(rsp(local), value));
        self
    }

    /// The text of a field in the shell namespace.
    pub fn get(&self, local: &str) -> Option<String> {
        self.children
            .iter()
            .find(|c| c.name.is(ns::SHELL, local))
            .map(Element::text)
    }

    /// `rsp:ShellId` (child or attribute).
    pub fn shell_id(&self) -> Option<String> {
        self.get("ShellId")
            .or_else(|| attr(&self.attrs, "", "ShellId").map(str::to_owned))
    }
}

impl Part for Shell {
    fn read(e: &Element, scope: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "Shell").then(|| Self {
            attrs: e.attrs.clone(),
            children: e.elements().map(|c| scoped(c, e, scope)).collect(),
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("Shell"));
        e.attrs = self.attrs.clone();
        e.children = self.children.iter().cloned().map(Node::Element).collect();
        e
    }
}

/// `rsp:CommandLine`: the Command request body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommandLine {
    /// Attributes (`CommandId` from clients that choose the id).
    pub attrs: Vec<Attribute>,
    /// `rsp:Command`.
    pub command: Option<String>,
    /// `rsp:Arguments`, in order.
    pub arguments: Vec<String>,
    /// Arguments written before Command (pywinrm does this; the schema order is Command first).
    pub arguments_first: bool,
}

impl Part for CommandLine {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "CommandLine").then_some(())?;
        Some(Self {
            attrs: e.attrs.clone(),
            command: child_text(e, ns::SHELL, "Command"),
            arguments: e
                .elements()
                .filter(|c| c.name.is(ns::SHELL, "Arguments"))
                .map(Element::text)
                .collect(),
            arguments_first: e
                .elements()
                .next()
                .is_some_and(|c| c.name.is(ns::SHELL, "Arguments")),
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("CommandLine"));
        e.attrs = self.attrs.clone();
        if !self.arguments_first {
            push_text(&mut e, rsp("Command"), self.command.as_deref());
        }
        for a in &self.arguments {
            push_text(&mut e, rsp("Arguments"), Some(a));
        }
        if self.arguments_first {
            push_text(&mut e, rsp("Command"), self.command.as_deref());
        }
        e
    }
}

/// `rsp:CommandResponse`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommandResponse {
    /// `rsp:CommandId`.
    pub command_id: String,
}

impl Part for CommandResponse {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "CommandResponse").then_some(())?;
        Some(Self {
            command_id: child_text(e, ns::SHELL, "CommandId")?,
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("CommandResponse"));
        push_text(&mut e, rsp("CommandId"), Some(&self.command_id));
        e
    }
}

/// `rsp:Stream`: base64 content of one input or output stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    /// `Name` (stdin, stdout, stderr, pr).
    pub name: String,
    /// `CommandId`.
    pub command_id: Option<String>,
    /// `End` as written ("true" on the last chunk).
    pub end: Option<String>,
    /// Other attributes.
    pub attrs: Vec<Attribute>,
    /// Base64 text exactly as on the wire.
    pub content: String,
}

impl Stream {
    /// A stream chunk holding `data`.
    pub fn new(name: &str, command_id: Option<&str>, data: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            command_id: command_id.map(str::to_owned),
            content: B64.encode(data),
            ..Self::default()
        }
    }

    /// The decoded bytes, or the base64 error.
    pub fn decode(&self) -> Result<Vec<u8>, base64::DecodeError> {
        let compact: String = self
            .content
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        B64.decode(compact)
    }

    /// True when `End` says this is the stream's last chunk. Compared case-insensitively:
    /// pypsrp sends `End="True"` and Windows accepts it.
    pub fn is_end(&self) -> bool {
        self.end
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("true") || e.trim() == "1")
    }

    fn read(e: &Element) -> Option<Self> {
        (e.name.is(ns::SHELL, "Stream") && e.is_simple()).then(|| Self {
            name: attr(&e.attrs, "", "Name").unwrap_or_default().to_owned(),
            command_id: attr(&e.attrs, "", "CommandId").map(str::to_owned),
            end: attr(&e.attrs, "", "End").map(str::to_owned),
            attrs: other_attrs(e, &["Name", "CommandId", "End"]),
            content: e.text(),
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::with_text(rsp("Stream"), self.content.clone())
            .attr(Attribute::plain("Name", self.name.clone()));
        if let Some(c) = &self.command_id {
            e.attrs.push(Attribute::plain("CommandId", c.clone()));
        }
        if let Some(x) = &self.end {
            e.attrs.push(Attribute::plain("End", x.clone()));
        }
        e.attrs.extend(self.attrs.iter().cloned());
        e
    }
}

/// `rsp:Send`: stdin for a command.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Send {
    /// Stream chunks.
    pub streams: Vec<Stream>,
}

impl Part for Send {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "Send").then_some(())?;
        Some(Self {
            streams: e.elements().filter_map(Stream::read).collect(),
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("Send"));
        e.children = self
            .streams
            .iter()
            .map(|s| Node::Element(s.to_element()))
            .collect();
        e
    }
}

/// `rsp:DesiredStream`: which streams a Receive asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesiredStream {
    /// `CommandId` (required by the cmd plugin, MS-WSMV wire capture).
    pub command_id: Option<String>,
    /// The id came as `rsp:CommandId` (JAX-WS clients such as winrm4j qualify it; Windows
    /// accepts both forms), kept so the message writes back as it came.
    pub qualified_id: bool,
    /// Space-separated stream names.
    pub streams: String,
}

/// `rsp:Receive`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Receive {
    /// Attributes (`SequenceId` with robust connections).
    pub attrs: Vec<Attribute>,
    /// Desired streams.
    pub desired: Vec<DesiredStream>,
}

impl Part for Receive {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "Receive").then_some(())?;
        Some(Self {
            attrs: e.attrs.clone(),
            desired: e
                .elements()
                .filter(|c| c.name.is(ns::SHELL, "DesiredStream"))
                .map(|c| {
                    let plain = c.attr_value("", "CommandId");
                    let qualified = c.attr_value(ns::SHELL, "CommandId");
                    DesiredStream {
                        command_id: plain.or(qualified).map(str::to_owned),
                        qualified_id: plain.is_none() && qualified.is_some(),
                        streams: c.text(),
                    }
                })
                .collect(),
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("Receive"));
        e.attrs = self.attrs.clone();
        for d in &self.desired {
            let mut c = Element::with_text(rsp("DesiredStream"), d.streams.clone());
            if let Some(id) = &d.command_id {
                c.attrs.push(if d.qualified_id {
                    Attribute::qualified(rsp("CommandId"), id.clone())
                } else {
                    Attribute::plain("CommandId", id.clone())
                });
            }
            e.children.push(Node::Element(c));
        }
        e
    }
}

/// `rsp:CommandState`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommandState {
    /// `CommandId`.
    pub command_id: Option<String>,
    /// `State` URI (Done, Pending, Running).
    pub state: String,
    /// `rsp:ExitCode` as written (present with Done).
    pub exit_code: Option<String>,
}

impl CommandState {
    /// True when the state is `.../CommandState/Done`.
    pub fn is_done(&self) -> bool {
        self.state.trim() == ns::command_state::DONE
    }
}

/// `rsp:ReceiveResponse`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceiveResponse {
    /// Attributes (`SequenceID` with robust connections).
    pub attrs: Vec<Attribute>,
    /// Output chunks in order.
    pub streams: Vec<Stream>,
    /// The command's state, when reported.
    pub command_state: Option<CommandState>,
}

impl ReceiveResponse {
    /// The concatenated, decoded output of one stream.
    pub fn output(&self, name: &str) -> Result<Vec<u8>, base64::DecodeError> {
        let mut out = Vec::new();
        for s in self.streams.iter().filter(|s| s.name == name) {
            out.extend(s.decode()?);
        }
        Ok(out)
    }
}

impl Part for ReceiveResponse {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "ReceiveResponse").then_some(())?;
        Some(Self {
            attrs: e.attrs.clone(),
            streams: e.elements().filter_map(Stream::read).collect(),
            command_state: e.find(ns::SHELL, "CommandState").map(|c| CommandState {
                command_id: c.attr_value("", "CommandId").map(str::to_owned),
                state: c.attr_value("", "State").unwrap_or_default().to_owned(),
                exit_code: child_text(c, ns::SHELL, "ExitCode"),
            }),
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("ReceiveResponse"));
        e.attrs = self.attrs.clone();
        e.children = self
            .streams
            .iter()
            .map(|s| Node::Element(s.to_element()))
            .collect();
        if let Some(cs) = &self.command_state {
            let mut c = Element::new(rsp("CommandState"));
            if let Some(id) = &cs.command_id {
                c.attrs.push(Attribute::plain("CommandId", id.clone()));
            }
            c.attrs.push(Attribute::plain("State", cs.state.clone()));
            push_text(&mut c, rsp("ExitCode"), cs.exit_code.as_deref());
            e.children.push(Node::Element(c));
        }
        e
    }
}

/// `rsp:Signal`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signal {
    /// `CommandId`.
    pub command_id: Option<String>,
    /// `rsp:Code`: a signal URI (compared case-insensitively by Windows).
    pub code: String,
}

impl Part for Signal {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SHELL, "Signal").then_some(())?;
        Some(Self {
            command_id: e.attr_value("", "CommandId").map(str::to_owned),
            code: child_text(e, ns::SHELL, "Code")?,
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(rsp("Signal"));
        if let Some(id) = &self.command_id {
            e.attrs.push(Attribute::plain("CommandId", id.clone()));
        }
        push_text(&mut e, rsp("Code"), Some(&self.code));
        e
    }
}

/// `rsp:SignalResponse` (empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalResponse;

impl Part for SignalResponse {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        e.name
            .is(ns::SHELL, "SignalResponse")
            .then_some(SignalResponse)
    }
    fn to_element(&self) -> Element {
        Element::new(rsp("SignalResponse"))
    }
}
