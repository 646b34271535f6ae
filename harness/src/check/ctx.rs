//! What a case body works with: a client for the target, request builders, judgements shared by
//! many cases, and cleanups that run whether the case passed or not.

use std::time::Duration;

use super::case::Outcome;
use super::profile::Profile;
use crate::client::{Client, ClientError, ClientOptions, Exchange, Request, Response};
use crate::envelope::{Body, Envelope, Fault, Header, HeaderBlock, SelectorSet, Text, write};
use crate::ns;
use crate::xml::{Element, PrefixStyle};

/// Settings shared by every case of a run.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// How to reach and authenticate to the target.
    pub client: ClientOptions,
    /// The resolved profile.
    pub profile: Profile,
    /// A collection with more than a few instances, for the enumeration cases.
    pub enumerate_resource: String,
}

/// Undo work a case did on the target.
#[derive(Clone, Debug)]
pub enum Cleanup {
    /// Delete a shell.
    DeleteShell(String),
    /// Release an enumeration context.
    Release(String, String),
    /// Put a configuration section back: (resource URI, body).
    RestoreConfig(String, Element),
}

/// A reply: the HTTP response and, when the body is one, the envelope.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP.
    pub response: Response,
    /// The body as an envelope.
    pub envelope: Result<Envelope, String>,
}

impl Reply {
    /// The fault, if the body is one.
    pub fn fault(&self) -> Option<&Fault> {
        self.envelope.as_ref().ok()?.fault()
    }

    /// The envelope's body, when there is an envelope.
    pub fn body(&self) -> Option<&Body> {
        self.envelope.as_ref().ok().map(|e| &e.body)
    }

    /// One line for Expected/Actual blocks: status, body kind, fault subcode and code.
    pub fn describe(&self) -> String {
        let status = format!("HTTP {}", self.response.status);
        match &self.envelope {
            _ if self.response.body.is_empty() => format!("{status}, empty body"),
            Err(e) => format!("{status}, body is not a SOAP envelope ({e})"),
            Ok(env) => match env.fault() {
                Some(f) => format!("{status}, fault {}", describe_fault(f)),
                None => format!("{status}, {}", env.body.kind()),
            },
        }
    }
}

/// `s:Sender/w:InvalidSelectors (WSManFault 2150858843): reason`.
pub fn describe_fault(f: &Fault) -> String {
    let mut s = f.code.to_string();
    if let Some(sub) = &f.subcode {
        s.push('/');
        s.push_str(&sub.to_string());
    }
    if let Some(w) = f.wsman_fault() {
        s.push_str(&format!(" (WSManFault {})", w.code));
    }
    if let Some(r) = f.reason() {
        let r = r.trim();
        if !r.is_empty() {
            let short: String = r.chars().take(120).collect();
            s.push_str(&format!(": {short}"));
        }
    }
    s
}

/// A request under construction.
#[derive(Clone, Debug)]
pub struct Req {
    /// The envelope.
    pub envelope: Envelope,
}

impl Req {
    /// Sets (replaces) a header block.
    pub fn header(mut self, block: HeaderBlock) -> Self {
        self.envelope.header_mut().set(block);
        self
    }

    /// Removes every block of the kind `probe` is.
    pub fn without(mut self, probe: &HeaderBlock) -> Self {
        let d = std::mem::discriminant(probe);
        self.envelope
            .header_mut()
            .blocks
            .retain(|b| std::mem::discriminant(b) != d);
        self
    }

    /// Appends a block (even of a kind already present, or unknown).
    pub fn push(mut self, block: HeaderBlock) -> Self {
        self.envelope.header_mut().blocks.push(block);
        self
    }

    /// Sets the selectors.
    pub fn selectors(self, pairs: &[(&str, &str)]) -> Self {
        self.header(HeaderBlock::SelectorSet(SelectorSet::of(pairs)))
    }

    /// Sets `wsman:OperationTimeout`.
    pub fn timeout(self, value: &str) -> Self {
        self.header(HeaderBlock::OperationTimeout(Text::new(value)))
    }

    /// Sets `wsman:MaxEnvelopeSize`.
    pub fn max_envelope(self, bytes: usize) -> Self {
        self.header(HeaderBlock::MaxEnvelopeSize(Text::new(bytes.to_string())))
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.envelope.body = body;
        self
    }

    /// The MessageID.
    pub fn message_id(&self) -> String {
        self.envelope.message_id().unwrap_or_default().to_owned()
    }

    /// Serialised as Windows would.
    pub fn bytes(&self) -> Vec<u8> {
        write(&self.envelope, PrefixStyle::Windows).into_bytes()
    }
}

/// The context of one running case.
pub struct Ctx<'a> {
    /// Shared settings.
    pub settings: &'a RunSettings,
    /// The case's own client (own connection and authentication).
    pub client: Client,
    others: Vec<Exchange>,
    cleanups: Vec<Cleanup>,
}

impl<'a> Ctx<'a> {
    /// A context with a fresh client.
    pub fn new(settings: &'a RunSettings) -> Result<Self, ClientError> {
        Ok(Self {
            settings,
            client: Client::new(settings.client.clone())?,
            others: Vec::new(),
            cleanups: Vec::new(),
        })
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.settings.profile
    }

    /// A request with the headers every WS-Man client sends (To, ResourceURI, ReplyTo
    /// anonymous, Action, a fresh MessageID, MaxEnvelopeSize 153600, OperationTimeout PT20S).
    pub fn req(&self, action: &str, resource: &str) -> Req {
        let to = self.settings.client.target.url();
        Req {
            envelope: Envelope::new(Header::request(&to, action, resource), Body::Empty),
        }
    }

    /// An Identify request (no WS-Addressing headers, as DSP0226 §11 shows it).
    pub fn identify_bytes() -> Vec<u8> {
        let env = Envelope::new(
            Header::default(),
            Body::Identify(crate::envelope::Identify::default()),
        );
        write(&env, PrefixStyle::Windows).into_bytes()
    }

    /// Identify without credentials on a new connection, with the header WinRM wants for it
    /// (`WSMANIDENTIFY: unauthenticated`, MS-WSMV 3.1.4.1.23).
    pub fn unauthenticated_identify() -> Request {
        let mut req = Request::soap(Self::identify_bytes());
        req.authenticate = false;
        req.encrypt = false;
        req.fresh_connection = true;
        req.headers
            .push(("WSMANIDENTIFY".into(), "unauthenticated".into()));
        req
    }

    /// Sends a request; a transport failure ends the case as FAILED.
    pub fn call(&mut self, req: &Req) -> Result<Reply, Outcome> {
        self.call_bytes(req.bytes())
    }

    /// Sends raw envelope bytes through the authenticated client.
    pub fn call_bytes(&mut self, bytes: Vec<u8>) -> Result<Reply, Outcome> {
        self.send(Request::soap(bytes))
    }

    /// Sends a fully described request.
    pub fn send(&mut self, request: Request) -> Result<Reply, Outcome> {
        let what = format!("{} request", request.method);
        match self.client.send(request) {
            Ok(r) => Ok(to_reply(r)),
            Err(e) => Err(transport_failure(&what, &e)),
        }
    }

    /// A second client with changed options (e.g. other credentials); its exchanges join
    /// this case's wire log.
    pub fn with_client<T>(
        &mut self,
        change: impl FnOnce(&mut ClientOptions),
        body: impl FnOnce(&mut Client) -> T,
    ) -> Result<T, Outcome> {
        let mut opts = self.settings.client.clone();
        change(&mut opts);
        let mut c = Client::new(opts).map_err(|e| transport_failure("client setup", &e))?;
        let out = body(&mut c);
        self.others.append(&mut c.log);
        Ok(out)
    }

    /// Registers an undo step (run in reverse order after the case).
    pub fn defer(&mut self, c: Cleanup) {
        self.cleanups.push(c);
    }

    /// Forgets a registered undo step that the case already did itself.
    pub fn done(&mut self, pred: impl Fn(&Cleanup) -> bool) {
        self.cleanups.retain(|c| !pred(c));
    }

    /// Runs the cleanups; returns what failed.
    pub fn cleanup(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        while let Some(c) = self.cleanups.pop() {
            let req = match &c {
                Cleanup::DeleteShell(id) => self
                    .req(ns::action::DELETE, ns::CMD_SHELL_URI)
                    .selectors(&[("ShellId", id)]),
                Cleanup::Release(resource, context) => self
                    .req(ns::action::RELEASE, resource)
                    .body(Body::Release(crate::envelope::Release {
                        context: context.clone(),
                    })),
                Cleanup::RestoreConfig(resource, element) => self
                    .req(ns::action::PUT, resource)
                    .body(Body::Other(vec![crate::xml::Fragment::written(element)])),
            };
            match self.call(&req) {
                Ok(r) if r.response.status == 200 && r.fault().is_none() => {}
                Ok(r) => problems.push(format!("cleanup {c:?}: {}", r.describe())),
                Err(o) => problems.push(format!("cleanup {c:?}: {}", o.summary)),
            }
        }
        problems
    }

    /// The wire log of the case so far.
    pub fn into_log(mut self) -> Vec<Exchange> {
        let mut log = std::mem::take(&mut self.client.log);
        log.append(&mut self.others);
        log
    }

    /// Judges a reply that should be the fault `ns:local`, with `windows_code` the WSManFault
    /// code Windows sends (checked under the WinRM profiles; a different code is NON-STRICT).
    pub fn expect_fault(
        &self,
        reply: &Reply,
        fault_ns: &str,
        local: &str,
        windows_code: Option<&str>,
    ) -> Outcome {
        let want = format!(
            "fault {}:{local}",
            ns::windows_prefix(fault_ns).unwrap_or("?")
        );
        let Some(f) = reply.fault() else {
            return Outcome::failed(
                format!("expected the {local} fault"),
                want,
                reply.describe(),
            );
        };
        let got = f.subcode.as_ref().unwrap_or(&f.code);
        let matches = got.is(fault_ns, local) || f.code.is(fault_ns, local);
        if !matches {
            return Outcome::wrong_fault(
                format!("a fault, but not {local}"),
                want,
                reply.describe(),
            );
        }
        match (windows_code, f.wsman_fault(), self.profile().winrm()) {
            (Some(code), Some(w), true) if w.code != code => Outcome::non_strict(format!(
                "{local} fault with WSManFault code {} (Windows sends {code})",
                w.code
            ))
            .with_detail(format!("{want} (WSManFault {code})"), reply.describe()),
            _ => Outcome::ok(format!("{local} fault")),
        }
    }

    /// A successful reply of the given body kind, or the case's early verdict.
    pub fn expect_body<'r>(
        &self,
        reply: &'r Reply,
        what: &str,
        pick: impl Fn(&Body) -> bool,
    ) -> Result<&'r Envelope, Outcome> {
        match &reply.envelope {
            Ok(env) if reply.response.status == 200 && pick(&env.body) => Ok(env),
            _ => Err(Outcome::failed(
                format!("expected {what}"),
                format!("HTTP 200, {what}"),
                reply.describe(),
            )),
        }
    }
}

fn to_reply(response: Response) -> Reply {
    let envelope = if response.body.is_empty() {
        Err("empty body".to_owned())
    } else {
        response.envelope().map_err(|e| e.to_string())
    };
    Reply { response, envelope }
}

/// A transport failure as the case's verdict.
pub fn transport_failure(what: &str, e: &ClientError) -> Outcome {
    Outcome::failed(
        format!("the {what} did not complete: {e}"),
        "a complete HTTP response",
        e.to_string(),
    )
}

/// A duration for display in summaries.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
