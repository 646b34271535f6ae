//! Runs one fuzz case against a target: each step's request is rebuilt with live correlation
//! values (as replay does), damaged on the wire as its mutations say, sent over a raw
//! connection and answered; NTLM handshakes and MS-WSMV sealing are done here, step by step,
//! so that they can be damaged too. What happened is returned as data for the oracle.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::mutation::{Mutation, apply_bytes, tamper_token};
use super::wire::{RawConn, RawResponse, ReadError};
use crate::auth::encrypted_body::EncryptedBody;
use crate::auth::message_security::{SOAP_UTF8, seal_ntlm, unseal_ntlm};
use crate::auth::ntlm::Session;
use crate::client::{AuthMethod, ClientOptions, Response};
use crate::ns;
use crate::scenario::Scenario;
use crate::scenario::replay::Run;

/// Where and how the fuzzer talks.
#[derive(Clone)]
pub struct FuzzTarget {
    /// URL, account and auth method.
    pub client: ClientOptions,
    /// TLS configuration on HTTPS.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Time for a response beyond the wait the request asks for (OperationTimeout).
    pub timeout: Duration,
    /// Longest OperationTimeout a server may legitimately wait (MaxTimeoutms).
    pub max_wait: Duration,
    /// Largest response body read.
    pub max_body: usize,
}

impl FuzzTarget {
    /// A target for these client options.
    pub fn new(client: ClientOptions) -> Result<Self, String> {
        let tls = client.tls().map_err(|e| e.to_string())?;
        Ok(Self {
            timeout: client.timeout,
            client,
            tls,
            max_wait: Duration::from_secs(60),
            max_body: 16 << 20,
        })
    }

    fn connect(&self) -> Result<RawConn, String> {
        RawConn::connect(&self.client.target, self.tls.as_ref(), self.timeout)
    }

    /// Seals bodies (NTLM over plain HTTP), as WinRM's clients do.
    fn seals(&self) -> bool {
        !self.client.target.https
            && matches!(self.client.auth, AuthMethod::Negotiate | AuthMethod::Ntlm)
    }
}

/// What one step got.
#[derive(Clone, Debug)]
pub struct StepOutcome {
    /// Index in the case.
    pub index: usize,
    /// The step's name.
    pub name: String,
    /// Local name of its Action (`Command`, `Pull`, ...), for signatures.
    pub action: String,
    /// The mutations that were actually applied (a replay with nothing to replay is not).
    pub applied: Vec<Mutation>,
    /// The HTTP request framing was broken on purpose.
    pub framing_broken: bool,
    /// The body went out in the clear (or labelled so) on a connection that seals: WinRM
    /// refuses it with an empty 500 while AllowUnencrypted is false.
    pub clear_on_sealing: bool,
    /// What happened.
    pub result: StepResult,
    /// Time taken.
    pub elapsed: Duration,
}

impl StepOutcome {
    /// Nothing happened yet.
    fn new(index: usize, step: &crate::scenario::Step) -> Self {
        Self {
            index,
            name: step.name.clone(),
            action: action_name(&step.request_tree),
            applied: Vec::new(),
            framing_broken: false,
            clear_on_sealing: false,
            result: StepResult::Connect(String::new()),
            elapsed: Duration::ZERO,
        }
    }
}

/// The outcome of a step.
#[derive(Clone, Debug)]
pub enum StepResult {
    /// No connection.
    Connect(String),
    /// The request could not be written (the peer went away).
    Send(String),
    /// The handshake ended before the request: the final leg's status (0 without a response).
    Handshake {
        /// Status of the last leg.
        status: u16,
        /// Why it stopped.
        detail: String,
    },
    /// Answers (two with pipelining).
    Answered(Vec<Answer>),
    /// An answer could not be read.
    Read(ReadError),
}

/// One response.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The response as read.
    pub raw: RawResponse,
    /// The body, unsealed when it was sealed (shares the raw bytes when it was not).
    pub plain: bytes::Bytes,
    /// Why a sealed body did not unseal.
    pub unseal_error: Option<String>,
    /// The body as a tree, read once on first use: the state tracker, the replay judge and the
    /// oracle all look at it.
    tree: std::sync::OnceLock<Result<crate::xml::Element, crate::xml::ParseError>>,
}

impl Answer {
    fn new(raw: RawResponse, plain: bytes::Bytes, unseal_error: Option<String>) -> Self {
        Self {
            raw,
            plain,
            unseal_error,
            tree: std::sync::OnceLock::new(),
        }
    }

    /// The (unsealed) body read as an XML document.
    pub fn tree(&self) -> Result<&crate::xml::Element, &crate::xml::ParseError> {
        self.tree
            .get_or_init(|| crate::xml::parse_document(&self.plain, crate::xml::Limits::default()))
            .as_ref()
    }
}

/// Per-worker execution state: the open connection survives from case to case (keep-alive,
/// as real clients do) until a step damages it.
pub struct Exec {
    target: FuzzTarget,
    live: Option<Live>,
}

struct Live {
    conn: RawConn,
    session: Option<Box<Session>>,
    /// The last sealed body (for `seal:replay`).
    last_sealed: Option<(Vec<u8>, String)>,
}

impl Exec {
    /// An executor with no connection yet.
    pub fn new(target: FuzzTarget) -> Self {
        Self { target, live: None }
    }

    /// The target.
    pub fn target(&self) -> &FuzzTarget {
        &self.target
    }

    /// Drops the connection (the next step opens a new one).
    pub fn disconnect(&mut self) {
        self.live = None;
    }

    /// Runs every step of a case; stops after a step that got no answer at all. Shells and
    /// enumerations the case opened are closed afterwards (best effort, not judged).
    pub fn run(&mut self, case: &Scenario) -> Vec<StepOutcome> {
        let mut run = Run::new(case);
        let url = self.target.client.target.url();
        let mut out = Vec::with_capacity(case.steps.len());
        let mut opened = Opened::default();
        for (index, step) in case.steps.iter().enumerate() {
            let start = Instant::now();
            let (body, message_id) = run.request(step, &url);
            let mut o = StepOutcome::new(index, step);
            o.result = self.step(step, body.as_bytes(), &mut o);
            o.elapsed = start.elapsed();
            let stop = !matches!(
                o.result,
                StepResult::Answered(_) | StepResult::Handshake { .. }
            );
            if let StepResult::Answered(answers) = &o.result
                && let Some(a) = answers.first()
            {
                opened.note(a, &body);
                let resp = Response {
                    status: a.raw.status,
                    headers: a.raw.headers.clone(),
                    body: a.plain.clone(),
                    sealed: a
                        .raw
                        .header("Content-Type")
                        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/")),
                    elapsed: o.elapsed,
                    keep_alive: !a.raw.closes,
                };
                let _ = run.judge_parsed(step, &message_id, &resp, a.tree());
            }
            out.push(o);
            if stop {
                break;
            }
        }
        self.clean_up(&opened, &url);
        out
    }

    fn step(
        &mut self,
        step: &crate::scenario::Step,
        body: &[u8],
        o: &mut StepOutcome,
    ) -> StepResult {
        let unauthenticated = step.request_headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("WSMANIDENTIFY") && v.eq_ignore_ascii_case("unauthenticated")
        });
        let wire = &step.wire;
        let auth_mutation = wire.iter().any(Mutation::needs_fresh_connection);
        if auth_mutation || self.live.as_ref().is_none() {
            self.live = None;
            match self.target.connect() {
                Ok(conn) => {
                    self.live = Some(Live {
                        conn,
                        session: None,
                        last_sealed: None,
                    })
                }
                Err(e) => return StepResult::Connect(e),
            }
            if !unauthenticated && let Some(stop) = self.handshake(wire, &mut o.applied) {
                self.live = None;
                return stop;
            }
        }
        let plain = apply_bytes(body, wire);
        o.applied.extend(
            wire.iter()
                .filter(|m| m.layer() == super::mutation::Layer::Bytes)
                .cloned(),
        );
        let wait = requested_wait(&step.request_tree).min(self.target.max_wait);
        let deadline = Instant::now() + self.target.timeout + wait;
        let Some(live) = self.live.as_mut() else {
            return StepResult::Connect("not connected".into());
        };
        // The body: sealed on NTLM over HTTP unless the step sends it in the clear.
        let mut content_type = SOAP_UTF8.to_owned();
        let mut sealed_body = None;
        let seal = !unauthenticated && live.session.is_some() && self.target.seals();
        if seal && wire.contains(&Mutation::SealOff) {
            o.applied.push(Mutation::SealOff);
        } else if seal && let Some(session) = live.session.as_deref_mut() {
            let replay = wire
                .contains(&Mutation::SealReplay)
                .then(|| live.last_sealed.clone())
                .flatten();
            if let Some((b, t)) = replay {
                o.applied.push(Mutation::SealReplay);
                sealed_body = Some(b);
                content_type = t;
            } else {
                if wire.contains(&Mutation::SealSkipSequence) {
                    o.applied.push(Mutation::SealSkipSequence);
                    let _ = seal_ntlm(session, b"skipped", SOAP_UTF8);
                }
                let mut sealed = seal_ntlm(session, &plain, SOAP_UTF8);
                live.last_sealed = Some((sealed.encode(), sealed.content_type()));
                for m in wire {
                    match m {
                        Mutation::SealFlip(at, mask) => {
                            let b = &mut sealed.blocks[0];
                            let n = b.header.len() + b.ciphertext.len();
                            let i = at % n.max(1);
                            if i < b.header.len() {
                                b.header[i] ^= mask;
                            } else if let Some(c) = b.ciphertext.get_mut(i - b.header.len()) {
                                *c ^= mask;
                            }
                            o.applied.push(m.clone());
                        }
                        Mutation::SealLength(d) => {
                            let b = &mut sealed.blocks[0];
                            b.length = (b.length as i64 + d).max(0) as usize;
                            o.applied.push(m.clone());
                        }
                        _ => {}
                    }
                }
                sealed_body = Some(sealed.encode());
                content_type = sealed.content_type();
            }
        }
        let wire_body = sealed_body.unwrap_or(plain);
        let mut headers: Vec<(String, String)> = step.request_headers.clone();
        if !unauthenticated && self.target.client.auth == AuthMethod::Basic {
            if wire.contains(&Mutation::NoAuth) {
                o.applied.push(Mutation::NoAuth);
            } else {
                headers.push((
                    "Authorization".into(),
                    basic_value(&self.target.client, wire, &mut o.applied),
                ));
            }
        }
        let http: Vec<&Mutation> = wire
            .iter()
            .filter(|m| m.layer() == super::mutation::Layer::Http)
            .collect();
        o.applied.extend(http.iter().map(|m| (*m).clone()));
        o.framing_broken = http.iter().any(|m| m.breaks_framing());
        let request = frame(
            &self.target.client,
            &content_type,
            &wire_body,
            &headers,
            &http,
        );
        o.clear_on_sealing = seal
            && !sent_content_type(&content_type, &http)
                .to_ascii_lowercase()
                .starts_with("multipart/");
        let pieces = http.iter().find_map(|m| match m {
            Mutation::Slow { chunk, pause_ms } => Some((*chunk, Duration::from_millis(*pause_ms))),
            _ => None,
        });
        let pipelined = http.contains(&&Mutation::Pipeline);
        let bytes = if pipelined {
            [request.as_slice(), request.as_slice()].concat()
        } else {
            request
        };
        if let Err(e) = live.conn.write(&bytes, pieces, deadline) {
            // A server may answer (413, 400) and close before reading all of a request; the
            // answer is then waiting to be read.
            let early = live
                .conn
                .read_response(deadline, self.target.max_body, false);
            self.live = None;
            return match early {
                Ok(raw) => {
                    let plain = raw.body.clone();
                    StepResult::Answered(vec![Answer::new(raw, plain, None)])
                }
                Err(_) => StepResult::Send(e),
            };
        }
        if o.framing_broken {
            // A server that waits for the rest of a body we will never send must see the end.
            live.conn.finish_writing();
        }
        let mut answers = Vec::new();
        let head = http
            .iter()
            .any(|m| matches!(m, Mutation::Method(x) if x.eq_ignore_ascii_case("HEAD")));
        for _ in 0..if pipelined { 2 } else { 1 } {
            match live
                .conn
                .read_response(deadline, self.target.max_body, head)
            {
                Ok(raw) => {
                    let (plain, unseal_error) = unseal(live.session.as_deref_mut(), &raw);
                    let closes = raw.closes;
                    answers.push(Answer::new(raw, plain, unseal_error));
                    if closes {
                        break;
                    }
                }
                Err(e) if answers.is_empty() => {
                    self.live = None;
                    return StepResult::Read(e);
                }
                Err(_) => break,
            }
        }
        // After any framing change the connection may hold bytes of a request the server read
        // differently (a body taken for the next request): it is not used again.
        if !http.is_empty() || answers.iter().any(|a| a.raw.closes) {
            self.live = None;
        }
        StepResult::Answered(answers)
    }

    /// The NTLM handshake of a new connection, damaged as the step's auth mutations say.
    /// `None` when the connection is authenticated and the request may follow.
    fn handshake(&mut self, wire: &[Mutation], applied: &mut Vec<Mutation>) -> Option<StepResult> {
        let auth = self.target.client.auth;
        if !matches!(auth, AuthMethod::Negotiate | AuthMethod::Ntlm) {
            return None;
        }
        if wire.contains(&Mutation::NoAuth) {
            applied.push(Mutation::NoAuth);
            return None;
        }
        let mut opts = self.target.client.clone();
        if wire.contains(&Mutation::WrongPassword) {
            applied.push(Mutation::WrongPassword);
            opts.password.0.push_str("-wrong");
        }
        let scheme = wire
            .iter()
            .find_map(|m| match m {
                Mutation::Scheme(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "Negotiate".to_owned());
        if scheme != "Negotiate" {
            applied.push(Mutation::Scheme(scheme.clone()));
        }
        let bad_base64 = wire.contains(&Mutation::BadBase64);
        let bindings = self.live.as_ref().and_then(|l| l.conn.bindings);
        let (sent, negotiate) = crate::client::ntlm_start(&opts, bindings);
        let negotiate = tampered(negotiate, wire, applied, |m| match m {
            Mutation::NegotiateToken(t) => Some(*t),
            _ => None,
        });
        if wire.contains(&Mutation::NegotiateTwice) {
            applied.push(Mutation::NegotiateTwice);
            if let Err(stop) = self.leg(&scheme, &negotiate, false) {
                return Some(stop);
            }
        }
        let first = match self.leg(&scheme, &negotiate, bad_base64) {
            Ok(r) => r,
            Err(stop) => return Some(stop),
        };
        if bad_base64 {
            applied.push(Mutation::BadBase64);
            // The server has an undecodable token; whatever it said ends the handshake (a
            // 200 is the finding).
            return Some(StepResult::Handshake {
                status: first.status,
                detail: "answered a token that is not base64".into(),
            });
        }
        let values = first
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("WWW-Authenticate"))
            .map(|(_, v)| v.as_str());
        let (established, authenticate) =
            match crate::client::ntlm_answer(sent, first.status, values) {
                Ok(x) => x,
                Err(e) => {
                    return Some(StepResult::Handshake {
                        status: first.status,
                        detail: e.to_string(),
                    });
                }
            };
        let authenticate = tampered(authenticate, wire, applied, |m| match m {
            Mutation::AuthenticateToken(t) => Some(*t),
            _ => None,
        });
        if wire.contains(&Mutation::AuthenticateElsewhere) {
            applied.push(Mutation::AuthenticateElsewhere);
            if let Err(stop) = self.new_socket() {
                return Some(stop);
            }
        }
        if let Err(stop) = self.last_leg(&scheme, &authenticate, "AUTHENTICATE") {
            return Some(stop);
        }
        if wire.contains(&Mutation::ReplayAuthenticate) {
            applied.push(Mutation::ReplayAuthenticate);
            // A new connection, a new CHALLENGE, and the old AUTHENTICATE again.
            if let Err(stop) = self.new_socket() {
                return Some(stop);
            }
            let (_, again) = crate::client::ntlm_start(&opts, bindings);
            if let Err(stop) = self.leg(&scheme, &again, false) {
                return Some(stop);
            }
            if let Err(stop) = self.last_leg(&scheme, &authenticate, "the replayed AUTHENTICATE") {
                return Some(stop);
            }
        }
        if applied.iter().any(Mutation::breaks_integrity) {
            // Accepting it is the finding; no request should follow on such a connection.
            return Some(StepResult::Handshake {
                status: 200,
                detail: "the server accepted the handshake".into(),
            });
        }
        if let Some(l) = self.live.as_mut() {
            l.session = Some(Box::new(established.session));
        }
        None
    }

    /// Replaces the connection's socket mid-handshake (the NTLM state stays with us).
    fn new_socket(&mut self) -> Result<(), StepResult> {
        let conn = self.target.connect().map_err(StepResult::Connect)?;
        if let Some(l) = self.live.as_mut() {
            l.conn = conn;
        }
        Ok(())
    }

    /// The leg that should end the handshake: anything but 200 stops the step.
    fn last_leg(&mut self, scheme: &str, token: &[u8], what: &str) -> Result<(), StepResult> {
        let r = self.leg(scheme, token, false)?;
        if r.status == 200 {
            return Ok(());
        }
        Err(StepResult::Handshake {
            status: r.status,
            detail: format!("the server refused {what}"),
        })
    }

    /// One handshake leg: an empty POST with a token.
    fn leg(
        &mut self,
        scheme: &str,
        token: &[u8],
        bad_base64: bool,
    ) -> Result<RawResponse, StepResult> {
        let value = if bad_base64 {
            format!("{scheme} !!not*base64!!")
        } else {
            format!("{scheme} {}", B64.encode(token))
        };
        let headers = vec![("Authorization".to_owned(), value)];
        let request = frame(&self.target.client, SOAP_UTF8, &[], &headers, &[]);
        let deadline = Instant::now() + self.target.timeout;
        let Some(live) = self.live.as_mut() else {
            return Err(StepResult::Connect("not connected".into()));
        };
        live.conn
            .write(&request, None, deadline)
            .map_err(StepResult::Send)?;
        live.conn
            .read_response(deadline, self.target.max_body, false)
            .map_err(StepResult::Read)
    }

    /// Deletes the shells and releases the enumerations a case left open, on a connection of
    /// its own, so that quotas (MaxShellsPerUser) do not fill up run after run.
    fn clean_up(&mut self, opened: &Opened, url: &str) {
        use crate::envelope::{Body, Envelope, Header, HeaderBlock, Release, SelectorSet};
        let shells = opened.shells.iter().map(|id| {
            let h = Header::request(url, ns::action::DELETE, ns::CMD_SHELL_URI).with(
                HeaderBlock::SelectorSet(SelectorSet::of(&[("ShellId", id.as_str())])),
            );
            Envelope::new(h, Body::Empty)
        });
        // Responses do not name their ResourceURI; the sample collection is what enumerates.
        let contexts = opened.contexts.iter().map(|c| {
            Envelope::new(
                Header::request(url, ns::action::RELEASE, crate::server::PROCESS_URI),
                Body::Release(Release { context: c.clone() }),
            )
        });
        for env in shells.chain(contexts) {
            let text = crate::write(&env, crate::PrefixStyle::Windows);
            let Some(step) = cleanup_step(&text) else {
                continue;
            };
            let mut o = StepOutcome::new(0, &step);
            if !matches!(
                self.step(&step, text.as_bytes(), &mut o),
                StepResult::Answered(_)
            ) {
                break;
            }
        }
    }
}

/// A token damaged by every mutation `pick` selects, in order.
fn tampered(
    mut token: Vec<u8>,
    wire: &[Mutation],
    applied: &mut Vec<Mutation>,
    pick: impl Fn(&Mutation) -> Option<super::mutation::Tamper>,
) -> Vec<u8> {
    for m in wire {
        if let Some(t) = pick(m) {
            let changed = tamper_token(&token, t);
            // A tamper with nothing to change (an empty domain emptied) leaves a valid token:
            // it must not count as damage the server should have refused.
            if changed != token {
                token = changed;
                applied.push(m.clone());
            }
        }
    }
    token
}

/// Shells and enumeration contexts seen in responses.
#[derive(Default)]
struct Opened {
    shells: Vec<String>,
    contexts: Vec<String>,
}

impl Opened {
    fn is_empty(&self) -> bool {
        self.shells.is_empty() && self.contexts.is_empty()
    }

    /// Learns from one exchange: what a response opened, and what a successful request
    /// closed (a shell Delete, a Release, the end of an enumeration).
    fn note(&mut self, answer: &Answer, request: &str) {
        let (body, status) = (&answer.plain[..], answer.raw.status);
        if body.is_empty() || self.shells.len() + self.contexts.len() > 64 {
            return;
        }
        // Most responses open and close nothing; a byte search spares them a second parse.
        let mentions = |w: &[u8]| body.windows(w.len()).any(|x| x == w);
        if !mentions(b"ResourceCreated")
            && !mentions(b"EnumerationContext")
            && (self.is_empty() || status != 200)
        {
            return;
        }
        let Ok(tree) = answer.tree() else {
            return;
        };
        if status == 200 && !self.is_empty() {
            let ended = body
                .windows(b"EndOfSequence".len())
                .any(|w| w == b"EndOfSequence");
            self.closed_by(request, ended);
        }
        let Some(b) = tree.find(ns::SOAP, "Body") else {
            return;
        };
        // A ResourceCreated for a shell carries its ShellId selector; a Shell body its ShellId.
        if let Some(rc) = b.find(ns::TRANSFER, "ResourceCreated") {
            for sel in descendants(rc).filter(|e| e.name.is(ns::WSMAN, "Selector")) {
                if sel.attr_value("", "Name") == Some("ShellId") {
                    self.shells.push(sel.text().trim().to_owned());
                }
            }
        }
        for r in [("EnumerateResponse", true), ("PullResponse", false)] {
            if let Some(er) = b.find(ns::ENUMERATION, r.0)
                && let Some(ctx) = er.find(ns::ENUMERATION, "EnumerationContext")
            {
                let ctx = ctx.text().trim().to_owned();
                self.contexts.retain(|c| *c != ctx);
                if !ctx.is_empty() && er.find(ns::ENUMERATION, "EndOfSequence").is_none() {
                    self.contexts.push(ctx);
                }
            }
        }
    }
}

impl Opened {
    fn closed_by(&mut self, request: &str, ended: bool) {
        let Ok(tree) =
            crate::xml::parse_document(request.as_bytes(), crate::xml::Limits::default())
        else {
            return;
        };
        let action =
            crate::scenario::header_text(&tree, ns::ADDRESSING, "Action").unwrap_or_default();
        if action == ns::action::DELETE {
            let header = tree.find(ns::SOAP, "Header");
            let ids: Vec<String> = header
                .and_then(|h| h.find(ns::WSMAN, "SelectorSet"))
                .map(|set| set.elements().map(|s| s.text().trim().to_owned()).collect())
                .unwrap_or_default();
            self.shells.retain(|s| !ids.contains(s));
        } else if action == ns::action::RELEASE || (action == ns::action::PULL && ended) {
            // A released context, or one whose Pull reached the end, needs no clean-up.
            let ctx = tree
                .find(ns::SOAP, "Body")
                .and_then(|b| b.elements().next())
                .and_then(|r| r.find(ns::ENUMERATION, "EnumerationContext"))
                .map(|c| c.text().trim().to_owned());
            self.contexts.retain(|c| Some(c) != ctx.as_ref());
        }
    }
}

fn descendants(e: &crate::xml::Element) -> Box<dyn Iterator<Item = &crate::xml::Element> + '_> {
    Box::new(
        e.elements()
            .flat_map(|c| std::iter::once(c).chain(descendants(c))),
    )
}

fn cleanup_step(request: &str) -> Option<crate::scenario::Step> {
    let tree =
        crate::xml::parse_document(request.as_bytes(), crate::xml::Limits::default()).ok()?;
    Some(crate::scenario::Step {
        name: "clean up".into(),
        request: request.to_owned(),
        request_tree: std::sync::Arc::new(tree),
        request_headers: Vec::new(),
        response: None,
        asserts: Vec::new(),
        captures: Vec::new(),
        line: 0,
        synthetic: false,
        wire: Vec::new(),
    })
}

/// The Authorization value for Basic, damaged as asked.
fn basic_value(o: &ClientOptions, wire: &[Mutation], applied: &mut Vec<Mutation>) -> String {
    let mut password = o.password.0.clone();
    if wire.contains(&Mutation::WrongPassword) {
        applied.push(Mutation::WrongPassword);
        password.push_str("-wrong");
    }
    let scheme = wire
        .iter()
        .find_map(|m| match m {
            Mutation::Scheme(s) => {
                applied.push(m.clone());
                Some(s.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| "Basic".into());
    if wire.contains(&Mutation::BadBase64) {
        applied.push(Mutation::BadBase64);
        return format!("{scheme} !!not*base64!!");
    }
    format!("{scheme} {}", B64.encode(format!("{}:{password}", o.user)))
}

/// The request bytes: start line, headers and body, with the HTTP mutations applied.
fn frame(
    o: &ClientOptions,
    content_type: &str,
    body: &[u8],
    headers: &[(String, String)],
    http: &[&Mutation],
) -> Vec<u8> {
    let method = http
        .iter()
        .find_map(|m| match m {
            Mutation::Method(x) => Some(x.as_str()),
            _ => None,
        })
        .unwrap_or("POST");
    let mut head = format!("{method} {} HTTP/1.1\r\n", o.target.path);
    if !http.contains(&&Mutation::NoHost) {
        head.push_str(&format!("Host: {}:{}\r\n", o.target.host, o.target.port));
    }
    head.push_str("User-Agent: wsman-harness fuzz\r\n");
    let content_type = sent_content_type(content_type, http);
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let chunked = http
        .iter()
        .any(|m| matches!(m, Mutation::Chunked | Mutation::BadChunk));
    let delta = http
        .iter()
        .find_map(|m| match m {
            Mutation::ContentLength(d) => Some(*d),
            _ => None,
        })
        .unwrap_or(0);
    let length = (body.len() as i64 + delta).max(0);
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if http.contains(&&Mutation::DoubleContentLength) {
        head.push_str(&format!(
            "Content-Length: {length}\r\nContent-Length: {}\r\n",
            length + 1
        ));
    } else if !http.contains(&&Mutation::NoContentLength) {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if chunked {
        let bad = http.contains(&&Mutation::BadChunk);
        for piece in body.chunks(1000) {
            if bad {
                out.extend_from_slice(b"zz\r\n");
            } else {
                out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            }
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(body);
    }
    out
}

/// The Content-Type that goes on the wire: the body's, unless a mutation replaces it.
fn sent_content_type<'a>(content_type: &'a str, http: &[&'a Mutation]) -> &'a str {
    http.iter()
        .find_map(|m| match m {
            Mutation::ContentType(t) => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or(content_type)
}

fn unseal(session: Option<&mut Session>, raw: &RawResponse) -> (bytes::Bytes, Option<String>) {
    let ctype = raw.header("Content-Type").unwrap_or("");
    if !ctype.to_ascii_lowercase().starts_with("multipart/") {
        return (raw.body.clone(), None);
    }
    let Some(session) = session else {
        return (
            raw.body.clone(),
            Some("a sealed response on a connection without a security context".into()),
        );
    };
    match EncryptedBody::decode(ctype, &raw.body)
        .map_err(|e| e.to_string())
        .and_then(|(b, _)| unseal_ntlm(session, &b).map_err(|e| e.to_string()))
    {
        Ok(p) => (bytes::Bytes::from(p), None),
        Err(e) => (raw.body.clone(), Some(e)),
    }
}

/// The local name of a request's Action (`Command`, `Pull`, ...), or `Identify`.
pub fn action_name(tree: &crate::xml::Element) -> String {
    if let Some(a) = crate::scenario::header_text(tree, ns::ADDRESSING, "Action") {
        return a.rsplit('/').next().unwrap_or(&a).to_owned();
    }
    tree.find(ns::SOAP, "Body")
        .and_then(|b| b.elements().next())
        .map(|e| e.name.local.to_string())
        .unwrap_or_else(|| "-".into())
}

/// How long the request asks the server to wait (its OperationTimeout), zero without one.
pub fn requested_wait(tree: &crate::xml::Element) -> Duration {
    crate::scenario::header_text(tree, ns::WSMAN, "OperationTimeout")
        .and_then(|t| crate::duration::parse_timeout(&t).ok())
        .unwrap_or(Duration::ZERO)
}
