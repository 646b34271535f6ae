//! The verbs as WS-Man exchanges: what each sends, in which order, and what it returns. No
//! output formatting and no command-line handling here; errors come back typed.

use std::time::Duration;

use super::hash::Hash;
use super::resource::ResourceRef;
use crate::client::{Client, ClientError, Request, Response};
use crate::envelope::{
    Body, Enumerate, Envelope, Fault, Header, HeaderBlock, Pull, Release, SelectorSet, Text, write,
};
use crate::ns::{self, action};
use crate::xml::{Element, Fragment, Node, PrefixStyle, QName};

/// The namespace of `winrm/config/service`'s quickconfig methods.
pub const SERVICE_URI: &str = "http://schemas.microsoft.com/wbem/wsman/1/config/service";

/// Why a verb did not complete.
#[derive(Debug)]
pub enum Failure {
    /// No exchange (connection, TLS, authentication, time limit).
    Transport(ClientError),
    /// The service answered with a SOAP fault.
    Fault(Box<Fault>),
    /// The answer was neither a success nor a fault.
    Protocol(String),
    /// The request cannot be made as asked (found out from the service's answer).
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(e) => write!(f, "{e}"),
            Failure::Fault(fault) => write!(f, "{}", crate::check::ctx::describe_fault(fault)),
            Failure::Protocol(s) | Failure::Refused(s) => f.write_str(s),
        }
    }
}

/// What a verb sends besides headers: pairs from `@{...}` or a whole element from `-file`.
#[derive(Clone, Debug)]
pub enum Input {
    /// Nothing.
    None,
    /// `@{Key="Value"}`.
    Hash(Hash),
    /// The element read from `-file:`.
    Element(Element),
}

/// The result of quickconfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuickConfig {
    /// Changes were made.
    pub changed: bool,
    /// The service's account of what it found or did.
    pub results: String,
}

/// A connected `winrm` session against one target.
pub struct Session {
    client: Client,
    to: String,
    encrypt: bool,
    timeout: String,
}

impl Session {
    /// A session; `encrypt` false sends bodies plain even where NTLM could seal them
    /// (`-unencrypted`); `timeout` is the OperationTimeout asked of the service.
    pub fn new(client: Client, encrypt: bool, timeout: Duration) -> Self {
        let to = client.options().target.url();
        Self {
            client,
            to,
            encrypt,
            timeout: crate::duration::format(timeout),
        }
    }

    fn envelope(&self, act: &str, r: &ResourceRef, body: Body) -> Envelope {
        let mut header = Header::request(&self.to, act, &r.uri).with(
            HeaderBlock::OperationTimeout(Text::new(self.timeout.clone())),
        );
        if !r.selectors.is_empty() {
            header.set(HeaderBlock::SelectorSet(SelectorSet::of(
                &r.selector_pairs(),
            )));
        }
        Envelope::new(header, body)
    }

    fn call(&mut self, env: &Envelope) -> Result<Envelope, Failure> {
        let mut req = Request::soap(write(env, PrefixStyle::Windows).into_bytes());
        req.encrypt = self.encrypt;
        self.send(req)
    }

    /// Sends; the client's wire log is dropped after each exchange, so that a long enumeration
    /// holds one batch in memory, not every page it printed.
    fn send(&mut self, req: Request) -> Result<Envelope, Failure> {
        let resp = self.client.send(req);
        self.client.log.clear();
        answer(&resp.map_err(Failure::Transport)?)
    }

    /// WS-Transfer Get: the resource's representation.
    pub fn get(&mut self, r: &ResourceRef) -> Result<Vec<Element>, Failure> {
        let env = self.envelope(action::GET, r, Body::Empty);
        Ok(elements(&self.call(&env)?.body))
    }

    /// Get, change the named properties (direct children, letter case ignored), Put; returns
    /// the representation the service answers with. With an element, Put it as it is.
    pub fn set(&mut self, r: &ResourceRef, input: &Input) -> Result<Vec<Element>, Failure> {
        let body = match input {
            Input::Element(e) => e.clone(),
            Input::Hash(h) => {
                let current = self.get(r)?;
                let [mut e] = <[Element; 1]>::try_from(current).map_err(|v| {
                    Failure::Protocol(format!(
                        "Get returned {} elements; set needs exactly one to change",
                        v.len()
                    ))
                })?;
                change(&mut e, h)?;
                e
            }
            Input::None => return Err(Failure::Refused("set needs @{...} or -file".into())),
        };
        let env = self.envelope(action::PUT, r, Body::Other(vec![Fragment::written(&body)]));
        Ok(elements(&self.call(&env)?.body))
    }

    /// WS-Transfer Create with a body built from the pairs (`<p:CLASS xmlns:p=URI>`) or read
    /// from a file; returns the ResourceCreated reference.
    pub fn create(&mut self, r: &ResourceRef, input: &Input) -> Result<Vec<Element>, Failure> {
        let body = build(r, r.class_name(), input);
        let env = self.envelope(action::CREATE, r, body);
        Ok(elements(&self.call(&env)?.body))
    }

    /// WS-Transfer Delete.
    pub fn delete(&mut self, r: &ResourceRef) -> Result<(), Failure> {
        let env = self.envelope(action::DELETE, r, Body::Empty);
        self.call(&env).map(|_| ())
    }

    /// A custom action `RESOURCE/ACTION` with an `ACTION_INPUT` body.
    pub fn invoke(
        &mut self,
        method: &str,
        r: &ResourceRef,
        input: &Input,
    ) -> Result<Vec<Element>, Failure> {
        let act = format!("{}/{method}", r.uri.trim_end_matches('/'));
        let body = build(r, &format!("{method}_INPUT"), input);
        let env = self.envelope(&act, r, body);
        Ok(elements(&self.call(&env)?.body))
    }

    /// Identify; `authenticated` false sends it without credentials and with
    /// `WSMANIDENTIFY: unauthenticated`, as `winrm id -a:none` does.
    pub fn identify(&mut self, authenticated: bool) -> Result<Vec<Element>, Failure> {
        let mut req = if authenticated {
            Request::soap(crate::check::ctx::Ctx::identify_bytes())
        } else {
            crate::check::ctx::Ctx::unauthenticated_identify()
        };
        req.encrypt = self.encrypt && authenticated;
        Ok(elements(&self.send(req)?.body))
    }

    /// Enumerate (optimized) and Pull until the end, handing each item to `sink` as it comes,
    /// so that memory stays bounded by one batch. When the sink fails, the context is released.
    pub fn enumerate(
        &mut self,
        r: &ResourceRef,
        sink: &mut dyn FnMut(Element) -> std::io::Result<()>,
    ) -> Result<usize, Failure> {
        let request = Enumerate {
            optimize: true,
            max_elements: Some("100".into()),
            ..Enumerate::default()
        };
        let env = self.envelope(action::ENUMERATE, r, Body::Enumerate(request));
        let mut batch = match self.call(&env)?.body {
            Body::EnumerateResponse(b) => b.0,
            other => {
                return Err(Failure::Protocol(format!(
                    "expected an EnumerateResponse, got {}",
                    other.kind()
                )));
            }
        };
        let mut count = 0;
        // Bounded: a service that never ends the sequence still has to send items each time.
        for _ in 0..1_000_000 {
            for item in batch.items.take().map(|i| i.items).unwrap_or_default() {
                let e = item
                    .into_element()
                    .map_err(|e| Failure::Protocol(format!("an item does not read: {e}")))?;
                count += 1;
                if let Err(e) = sink(e) {
                    if let Some(ctx) = batch.context.as_ref().filter(|c| !c.is_empty()) {
                        let release = Release {
                            context: ctx.clone(),
                        };
                        let env = self.envelope(action::RELEASE, r, Body::Release(release));
                        let _ = self.call(&env);
                    }
                    return Err(Failure::Refused(format!("cannot write the output: {e}")));
                }
            }
            let context = match batch.context.take() {
                Some(c) if !c.is_empty() && batch.end_of_sequence.is_none() => c,
                _ => return Ok(count),
            };
            let pull = Pull {
                context,
                max_elements: Some("100".into()),
                ..Pull::default()
            };
            let env = self.envelope(action::PULL, r, Body::Pull(pull));
            batch = match self.call(&env)?.body {
                Body::PullResponse(b) => b.0,
                other => {
                    return Err(Failure::Protocol(format!(
                        "expected a PullResponse, got {}",
                        other.kind()
                    )));
                }
            };
        }
        Err(Failure::Protocol(
            "the enumeration did not end after a million Pulls".into(),
        ))
    }

    /// `winrm quickconfig`: Analyze on `winrm/config/service`, and unless remoting is on
    /// already, `confirm` the service's plan, then EnableRemoting with the input it proposed
    /// (the sequence the Windows tool and `Set-WSManQuickConfig` use).
    pub fn quickconfig(
        &mut self,
        https: bool,
        confirm: &mut dyn FnMut(&str) -> bool,
    ) -> Result<QuickConfig, Failure> {
        let service = ResourceRef {
            uri: SERVICE_URI.into(),
            selectors: Vec::new(),
        };
        let q = |l: &str| QName::owned(SERVICE_URI, l);
        let mut input = Element::new(q("Analyze_INPUT"));
        input.prefix = Some("cfg".into());
        input.ns_decls.push(("cfg".into(), SERVICE_URI.into()));
        let transport = if https { "https" } else { "http" };
        input
            .children
            .push(Node::Element(Element::with_text(q("Transport"), transport)));
        let analysis = self.invoke("Analyze", &service, &Input::Element(input))?;
        let out = analysis
            .iter()
            .find(|e| e.name.local == "Analyze_OUTPUT")
            .ok_or_else(|| Failure::Protocol("Analyze did not answer Analyze_OUTPUT".into()))?;
        let field = |name: &str| out.elements().find(|c| c.name.local == name);
        let enabled = field("RemotingEnabled")
            .map(|e| e.text().trim().to_owned())
            .unwrap_or_default();
        let results = field("Results")
            .map(|e| e.text().trim().to_owned())
            .unwrap_or_default();
        match enabled.as_str() {
            "true" => {
                return Ok(QuickConfig {
                    changed: false,
                    results,
                });
            }
            "false" => {}
            other => {
                return Err(Failure::Protocol(format!(
                    "Analyze_OUTPUT/RemotingEnabled is {other:?}, expected true or false"
                )));
            }
        }
        if field("RemotingEnabled").and_then(|e| e.attr_value("", "Source")) == Some("GPO") {
            return Err(Failure::Refused(format!(
                "remote management is turned off by Group Policy; the service says: {results}"
            )));
        }
        let plan = field("EnableRemoting_INPUT").cloned().ok_or_else(|| {
            Failure::Protocol("Analyze_OUTPUT has no EnableRemoting_INPUT to send back".into())
        })?;
        if !confirm(&results) {
            return Err(Failure::Refused("no changes made".into()));
        }
        let done = self.invoke("EnableRemoting", &service, &Input::Element(plan))?;
        let out = done
            .iter()
            .find(|e| e.name.local == "EnableRemoting_OUTPUT")
            .ok_or_else(|| {
                Failure::Protocol("EnableRemoting did not answer EnableRemoting_OUTPUT".into())
            })?;
        let status = out
            .elements()
            .find(|c| c.name.local == "Status")
            .map(|e| e.text().trim().to_owned())
            .unwrap_or_default();
        let results = out
            .elements()
            .find(|c| c.name.local == "Results")
            .map(|e| e.text().trim().to_owned())
            .unwrap_or_default();
        if status != "succeeded" {
            return Err(Failure::Refused(format!(
                "EnableRemoting reports {status:?}: {results}"
            )));
        }
        Ok(QuickConfig {
            changed: true,
            results,
        })
    }
}

/// The envelope of a successful answer; faults and other statuses become failures.
fn answer(resp: &Response) -> Result<Envelope, Failure> {
    match resp.envelope() {
        Ok(env) => match env.fault() {
            Some(f) => Err(Failure::Fault(Box::new(f.clone()))),
            None if resp.status == 200 => Ok(env),
            None => Err(Failure::Protocol(format!(
                "HTTP {} with a {} body",
                resp.status,
                env.body.kind()
            ))),
        },
        Err(_) if resp.status == 401 => Err(Failure::Transport(ClientError::Auth(
            "the service refused the credentials (HTTP 401)".into(),
        ))),
        Err(e) if resp.body.is_empty() || resp.status != 200 => Err(Failure::Protocol(format!(
            "HTTP {} without a SOAP envelope{}",
            resp.status,
            if resp.body.is_empty() {
                String::new()
            } else {
                format!(" ({e})")
            }
        ))),
        Err(e) => Err(Failure::Protocol(format!(
            "the response is not a SOAP envelope: {e}"
        ))),
    }
}

/// The body's elements.
fn elements(body: &Body) -> Vec<Element> {
    body.to_elements()
        .iter()
        .filter_map(|f| f.element().ok().map(|e| e.into_owned()))
        .collect()
}

/// A request body `<p:ROOT xmlns:p=URI>` with one child per pair, or the file's element.
fn build(r: &ResourceRef, root: &str, input: &Input) -> Body {
    match input {
        Input::Element(e) => Body::Other(vec![Fragment::written(e)]),
        Input::None | Input::Hash(_) => {
            let mut e = Element::new(QName::owned(&r.uri, root));
            e.prefix = Some("p".into());
            e.ns_decls.push(("p".into(), r.uri.clone()));
            if let Input::Hash(h) = input {
                for p in &h.pairs {
                    e.children.push(Node::Element(Element::with_text(
                        QName::owned(&r.uri, &p.key),
                        p.value.clone(),
                    )));
                }
            }
            Body::Other(vec![Fragment::written(&e)])
        }
    }
}

/// Sets the named direct children of a representation; a missing property or a section given
/// a value is refused.
fn change(e: &mut Element, h: &Hash) -> Result<(), Failure> {
    for p in &h.pairs {
        let slot = e.children.iter_mut().find_map(|n| match n {
            Node::Element(c) if c.name.local.eq_ignore_ascii_case(&p.key) => Some(c),
            _ => None,
        });
        let Some(c) = slot else {
            let names: Vec<String> = e
                .elements()
                .filter(|c| c.is_simple())
                .map(|c| c.name.local.to_string())
                .collect();
            return Err(Failure::Refused(format!(
                "{} has no property {}; it has {}",
                e.name.local,
                p.key,
                names.join(", ")
            )));
        };
        if !c.is_simple() {
            return Err(Failure::Refused(format!(
                "{} is a section of {}, not a value",
                c.name.local, e.name.local
            )));
        }
        c.attrs.retain(|a| !a.name.is(ns::XSI, "nil"));
        c.children = if p.value.is_empty() {
            Vec::new()
        } else {
            vec![Node::Text(p.value.clone())]
        };
    }
    Ok(())
}
