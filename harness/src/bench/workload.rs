//! What one load iteration sends: a single Identify or Get, an enumeration paged to its end, a
//! shell round trip (Create, Command, Receive until done, Signal, Delete), or a recorded scenario
//! replayed with live correlation (ShellIds, CommandIds, enumeration contexts bound as they come
//! back, through [`crate::scenario::replay::Run`]).
//!
//! Single requests are rendered once into a template and only the MessageID is rewritten per
//! request, so the generator spends its time on the wire, not on XML.

use std::time::Instant;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};

use super::conn::{Conn, Reply};
use super::stats::{Outcome, Recorder};
use crate::envelope::{
    Body, CommandLine, DesiredStream, Enumerate, Envelope, Header, HeaderBlock, Identify, Pull,
    Receive, Release, SelectorSet, Shell, Signal, write,
};
use crate::ns::{self, action};
use crate::scenario::model::Scenario;
use crate::xml::PrefixStyle;

/// The built-in operations.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Identify (authenticated; unauthenticated with `--auth none`).
    Identify,
    /// WS-Transfer Get of `--resource` (default `winrm/config`).
    Get,
    /// Enumerate `--resource` (default the Win32_Process collection) and Pull to the end.
    Enumerate,
    /// cmd shell: Create, Command `echo`, Receive until done, Signal terminate, Delete.
    Shell,
}

/// The default resource of an operation.
pub fn default_resource(op: Op) -> &'static str {
    match op {
        Op::Get => crate::config::CONFIG_URI,
        Op::Enumerate => "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process",
        Op::Identify | Op::Shell => "",
    }
}

/// A request rendered once, with the place of its MessageID.
#[derive(Clone, Debug)]
struct Template {
    bytes: Vec<u8>,
    id_at: Option<usize>,
}

const PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";

impl Template {
    fn new(env: &Envelope) -> Self {
        let text = write(env, PrefixStyle::Windows);
        let id_at = text.find(PLACEHOLDER);
        Self {
            bytes: text.into_bytes(),
            id_at,
        }
    }

    /// The request with a fresh MessageID.
    fn render(&self) -> Bytes {
        let mut b = self.bytes.clone();
        if let Some(at) = self.id_at {
            let mut buf = uuid::Uuid::encode_buffer();
            let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
            b[at..at + PLACEHOLDER.len()].copy_from_slice(id.as_bytes());
        }
        Bytes::from(b)
    }
}

enum Kind {
    Single(Template),
    Enumerate,
    Shell,
    Scenarios(Vec<Scenario>),
}

/// What every iteration sends.
pub struct Workload {
    kind: Kind,
    url: String,
    resource: String,
    extra: Vec<(HeaderName, HeaderValue)>,
    /// Items per Pull.
    pub page: u32,
}

impl Workload {
    /// A built-in operation against `url`.
    pub fn op(op: Op, url: &str, resource: Option<&str>, unauthenticated: bool) -> Self {
        let resource = resource
            .map(str::to_owned)
            .unwrap_or_else(|| default_resource(op).to_owned());
        let mut extra = Vec::new();
        let kind = match op {
            Op::Identify => {
                if unauthenticated {
                    extra.push((
                        HeaderName::from_static("wsmanidentify"),
                        HeaderValue::from_static("unauthenticated"),
                    ));
                }
                Kind::Single(Template::new(&Envelope::new(
                    Header::default(),
                    Body::Identify(Identify::default()),
                )))
            }
            Op::Get => {
                let mut header = Header::request(url, action::GET, &resource);
                header.set(HeaderBlock::MessageId(crate::envelope::Text::new(format!(
                    "uuid:{PLACEHOLDER}"
                ))));
                Kind::Single(Template::new(&Envelope::new(header, Body::Empty)))
            }
            Op::Enumerate => Kind::Enumerate,
            Op::Shell => Kind::Shell,
        };
        Self {
            kind,
            url: url.to_owned(),
            resource,
            extra,
            page: 100,
        }
    }

    /// Recorded scenarios, replayed in turn (worker `w` starts with scenario `w % n`).
    pub fn scenarios(scenarios: Vec<Scenario>, url: &str) -> Self {
        Self {
            kind: Kind::Scenarios(scenarios),
            url: url.to_owned(),
            resource: String::new(),
            extra: Vec::new(),
            page: 100,
        }
    }

    /// The request a single-request operation sends (with a fresh MessageID), e.g. for another
    /// load tool to post; `None` for flows and scenarios.
    pub fn sample_request(&self) -> Option<Bytes> {
        match &self.kind {
            Kind::Single(t) => Some(t.render()),
            _ => None,
        }
    }

    fn envelope(&self, act: &str, resource: &str, selectors: &[(&str, &str)], body: Body) -> Bytes {
        let mut header = Header::request(&self.url, act, resource);
        if !selectors.is_empty() {
            header.set(HeaderBlock::SelectorSet(SelectorSet::of(selectors)));
        }
        Bytes::from(write(&Envelope::new(header, body), PrefixStyle::Windows).into_bytes())
    }

    /// Runs one iteration; `since` is when its first request was due (the intended time under
    /// a constant rate, so that queueing shows in the latency). Returns false when the
    /// connection broke and must be reopened.
    pub async fn iterate(
        &self,
        conn: &mut Conn,
        rec: &mut Recorder,
        since: Instant,
        turn: usize,
    ) -> bool {
        let mut call = Caller {
            conn,
            rec,
            since: Some(since),
        };
        let done = match &self.kind {
            Kind::Single(t) => call.send(t.render(), &self.extra).await.map(|_| ()),
            Kind::Enumerate => self.enumerate(&mut call).await,
            Kind::Shell => self.shell(&mut call).await,
            Kind::Scenarios(list) => match list.get(turn % list.len().max(1)) {
                Some(s) => self.scenario(&mut call, s).await,
                None => Err(call.protocol()),
            },
        };
        match done {
            Ok(()) => {
                call.rec.iterations += 1;
                true
            }
            Err(Stop::Failed) => true,
            Err(Stop::Broken) => false,
        }
    }

    async fn enumerate(&self, call: &mut Caller<'_>) -> Result<(), Stop> {
        let page = self.page.to_string();
        let body = self.envelope(
            action::ENUMERATE,
            &self.resource,
            &[],
            Body::Enumerate(Enumerate::default()),
        );
        let env = call.send_envelope(body).await?;
        let mut batch = match env.body {
            Body::EnumerateResponse(b) => b.0,
            _ => return Err(call.protocol()),
        };
        for _ in 0..100_000 {
            let context = match batch.context.take() {
                Some(c) if !c.is_empty() && batch.end_of_sequence.is_none() => c,
                _ => return Ok(()),
            };
            let pull = Pull {
                context: context.clone(),
                max_elements: Some(page.clone()),
                ..Pull::default()
            };
            let body = self.envelope(action::PULL, &self.resource, &[], Body::Pull(pull));
            let reply = match call.send(body, &[]).await {
                Ok(r) => r,
                Err(stop) => {
                    self.release(call, context, stop).await;
                    return Err(stop);
                }
            };
            batch = match call.envelope(reply)?.body {
                Body::PullResponse(b) => b.0,
                _ => return Err(call.protocol()),
            };
        }
        Err(call.protocol())
    }

    /// Releases a context a failed Pull left open; counts it as leaked when that fails too.
    async fn release(&self, call: &mut Caller<'_>, context: String, stop: Stop) {
        if stop == Stop::Broken {
            call.rec.leaked_enumerations += 1;
            return;
        }
        let body = self.envelope(
            action::RELEASE,
            &self.resource,
            &[],
            Body::Release(Release { context }),
        );
        if call.send(body, &[]).await.is_err() {
            call.rec.leaked_enumerations += 1;
        }
    }

    async fn shell(&self, call: &mut Caller<'_>) -> Result<(), Stop> {
        let shell_uri = ns::CMD_SHELL_URI;
        let body = self.envelope(action::CREATE, shell_uri, &[], Body::Shell(Shell::cmd()));
        let env = call.send_envelope(body).await?;
        let shell_id = match &env.body {
            Body::ShellCreated(c, s) => c.selector("ShellId").or_else(|| s.shell_id()),
            Body::ResourceCreated(c) => c.selector("ShellId"),
            _ => None,
        }
        .ok_or_else(|| call.protocol())?;
        let ran = self.command(call, &shell_id).await;
        if ran == Err(Stop::Broken) {
            call.rec.leaked_shells += 1;
            return ran;
        }
        let sel = [("ShellId", shell_id.as_str())];
        let body = self.envelope(action::DELETE, shell_uri, &sel, Body::Empty);
        match call.send(body, &[]).await {
            Ok(_) => ran,
            Err(stop) => {
                call.rec.leaked_shells += 1;
                Err(stop)
            }
        }
    }

    async fn command(&self, call: &mut Caller<'_>, shell_id: &str) -> Result<(), Stop> {
        let shell_uri = ns::CMD_SHELL_URI;
        let sel = [("ShellId", shell_id)];
        let cmd = CommandLine {
            command: Some("echo".into()),
            arguments: vec!["hello".into()],
            ..CommandLine::default()
        };
        let body = self.envelope(action::COMMAND, shell_uri, &sel, Body::CommandLine(cmd));
        let env = call.send_envelope(body).await?;
        let Body::CommandResponse(cr) = env.body else {
            return Err(call.protocol());
        };
        let mut done = false;
        for _ in 0..20 {
            let receive = Receive {
                desired: vec![DesiredStream {
                    command_id: Some(cr.command_id.clone()),
                    streams: "stdout stderr".into(),
                    ..DesiredStream::default()
                }],
                ..Receive::default()
            };
            let body = self.envelope(action::RECEIVE, shell_uri, &sel, Body::Receive(receive));
            let env = call.send_envelope(body).await?;
            let Body::ReceiveResponse(r) = env.body else {
                return Err(call.protocol());
            };
            if r.command_state.as_ref().is_some_and(|s| s.is_done()) {
                done = true;
                break;
            }
        }
        let signal = Signal {
            command_id: Some(cr.command_id),
            code: ns::signal::TERMINATE.into(),
        };
        let body = self.envelope(action::SIGNAL, shell_uri, &sel, Body::Signal(signal));
        call.send(body, &[]).await?;
        if done { Ok(()) } else { Err(call.protocol()) }
    }

    async fn scenario(&self, call: &mut Caller<'_>, s: &Scenario) -> Result<(), Stop> {
        let mut run = crate::scenario::replay::Run::new(s);
        let mut clean = true;
        for step in &s.steps {
            let (body, sent_id) = run.request(step, &self.url);
            let extra: Vec<(HeaderName, HeaderValue)> = step
                .request_headers
                .iter()
                .filter_map(|(n, v)| {
                    Some((
                        HeaderName::from_bytes(n.as_bytes()).ok()?,
                        HeaderValue::from_str(v).ok()?,
                    ))
                })
                .collect();
            let reply = call
                .send_any(Bytes::from(body.into_bytes()), &extra)
                .await?;
            let resp = crate::client::Response {
                status: reply.status,
                headers: reply
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: reply.body,
                sealed: false,
                elapsed: std::time::Duration::ZERO,
                keep_alive: true,
            };
            let (mismatches, failed) = run.judge(step, &sent_id, &resp);
            if !mismatches.is_empty() || !failed.is_empty() {
                clean = false;
            }
        }
        if clean { Ok(()) } else { Err(call.protocol()) }
    }
}

/// Why an iteration stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// An error answer or an unusable one; the connection is fine.
    Failed,
    /// No answer: the connection must be reopened.
    Broken,
}

/// Sends and records, measuring the first request from the iteration's due time.
struct Caller<'a> {
    conn: &'a mut Conn,
    rec: &'a mut Recorder,
    since: Option<Instant>,
}

impl Caller<'_> {
    /// Sends; anything but a 200 ends the iteration.
    async fn send(
        &mut self,
        body: Bytes,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<Reply, Stop> {
        let r = self.send_any(body, extra).await?;
        if r.status == 200 {
            Ok(r)
        } else {
            Err(Stop::Failed)
        }
    }

    /// Sends; any HTTP answer is returned (scenarios record faults on purpose).
    async fn send_any(
        &mut self,
        body: Bytes,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<Reply, Stop> {
        let start = self.since.take().unwrap_or_else(Instant::now);
        let result = self.conn.exchange(body, extra).await;
        let micros = start.elapsed().as_micros() as u64;
        match result {
            Err(_) => {
                self.rec.request(micros, &Outcome::Transport, 0, 0);
                Err(Stop::Broken)
            }
            Ok(r) => {
                let outcome = classify(&r);
                self.rec.request(micros, &outcome, r.bytes_out, r.bytes_in);
                Ok(r)
            }
        }
    }

    /// Sends; the 200 answer as an envelope.
    async fn send_envelope(&mut self, body: Bytes) -> Result<Envelope, Stop> {
        let r = self.send(body, &[]).await?;
        self.envelope(r)
    }

    fn envelope(&mut self, r: Reply) -> Result<Envelope, Stop> {
        crate::envelope::parse(&r.body).map_err(|_| self.protocol())
    }

    fn protocol(&mut self) -> Stop {
        self.rec.errors.protocol += 1;
        Stop::Failed
    }
}

/// 200 is success; otherwise the fault's subcode (quota apart), or the status.
fn classify(r: &Reply) -> Outcome {
    if r.status == 200 {
        return Outcome::Ok;
    }
    let fault = crate::envelope::parse(&r.body)
        .ok()
        .and_then(|env| env.fault().cloned());
    match fault {
        Some(f) => match &f.subcode {
            Some(s) if s.local == "QuotaLimit" => Outcome::Quota,
            Some(s) => Outcome::Fault(s.to_string()),
            None => Outcome::Fault(f.code.to_string()),
        },
        None => Outcome::Http(r.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_get_a_fresh_message_id_each_time() {
        let w = Workload::op(Op::Get, "http://127.0.0.1:5985/wsman", None, false);
        let Kind::Single(t) = &w.kind else {
            panic!("Get is a single request")
        };
        let (a, b) = (t.render(), t.render());
        assert_ne!(a, b);
        let env = crate::envelope::parse(&a).unwrap();
        assert!(env.message_id().unwrap().starts_with("uuid:"));
        assert_ne!(env.message_id().unwrap(), format!("uuid:{PLACEHOLDER}"));
        assert_eq!(env.resource_uri(), Some(crate::config::CONFIG_URI));
    }
}
