//! The protocol core: parsed request in, response envelope and HTTP status out. No sockets, so
//! tests, the fuzzer and benchmarks drive it in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::reply::{fault, response};
use super::shell::{self, Shell};
use super::{Deviation, ServerConfig};
use crate::envelope::Part as _;
use crate::envelope::{
    Body, CommandResponse, CommandState, Envelope, Epr, IdentifyResponse, ReceiveResponse,
    ResourceCreated, SelectorSet, Shell as ShellBody, SignalResponse, Stream, Text, parse_with,
};
use crate::ids::format_message_id;
use crate::ns::{self, action};
use crate::xml::{ErrorKind, Limits, PrefixStyle, QName, Written};

/// Who sent a request, as the HTTP layer established it.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// The authenticated user; `None` only for an unauthenticated Identify.
    pub user: Option<String>,
    /// The operation's time is up: answer now (a Receive with no output then faults
    /// `w:TimedOut`) instead of asking the caller to wait.
    pub deadline_passed: bool,
}

/// What to send back. The HTTP layer takes it as `Reply<Written>`
/// ([`Service::handle_shared`]), whose body may still share text with the service's caches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply<B = String> {
    /// HTTP status.
    pub status: u16,
    /// Body (empty for none).
    pub body: B,
    /// Nothing to answer yet: ask again until this much time has passed since the request
    /// arrived, then once more with [`RequestContext::deadline_passed`] set.
    pub wait: Option<std::time::Duration>,
}

/// Something other than the reference service answering SOAP requests behind the same HTTP,
/// authentication and encryption layer: the replay server answers from recordings.
pub trait Responder: Send + Sync {
    /// Answers one request body (already unsealed and authenticated).
    fn respond(&self, body: &[u8], ctx: &RequestContext) -> Reply;
}

impl Reply {
    /// A reply with a status and a body.
    pub fn new(status: u16, body: String) -> Self {
        Self {
            status,
            body,
            wait: None,
        }
    }
}

impl Reply<Written> {
    fn envelope(status: u16, env: &Envelope) -> Self {
        Self {
            status,
            body: crate::envelope::write_shared(env, PrefixStyle::Windows),
            wait: None,
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            body: Written::default(),
            wait: None,
        }
    }

    /// The same reply with its body in one string.
    pub fn into_plain(self) -> Reply {
        Reply {
            status: self.status,
            body: self.body.into_string(),
            wait: self.wait,
        }
    }
}

impl From<Reply> for Reply<Written> {
    fn from(r: Reply) -> Self {
        Reply {
            status: r.status,
            body: r.body.into(),
            wait: r.wait,
        }
    }
}

/// The reference service.
pub struct Service {
    /// Replaced whole on every Put, so a request sees one consistent configuration.
    config: std::sync::RwLock<Arc<ServerConfig>>,
    shells: Mutex<HashMap<String, Shell>>,
    enumerations: Mutex<super::enumeration::Enumerations>,
    /// Always locked after `enumerations` when both are needed.
    instances: Mutex<super::enumeration::Overlay>,
    active: std::sync::atomic::AtomicUsize,
    responder: Option<Arc<dyn Responder>>,
    /// `winrm/config` sections already written, for the configuration version they were
    /// written from: a Get copies text instead of building and writing a tree each time.
    config_text: Mutex<Option<ConfigText>>,
}

/// Written `winrm/config` sections and Identify answers of one configuration version.
struct ConfigText {
    version: Arc<ServerConfig>,
    sections: Vec<(String, crate::xml::Fragment)>,
    /// The IdentifyResponse body for unauthenticated (0) and authenticated (1) requests.
    identify: [Option<crate::xml::Fragment>; 2],
}

/// Counts a request in flight for MaxConnections; released on drop.
pub struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The smallest MaxEnvelopeSize a client may ask for (MS-WSMV 3.1.4.1.7).
const MIN_ENVELOPE_SIZE: u64 = 8192;

/// Room kept for the envelope around shell output when sizing a ReceiveResponse.
const RECEIVE_OVERHEAD: usize = 4096;

impl ConfigText {
    /// The cache for `current`, emptied first when it holds text of an older version.
    fn of<'c>(slot: &'c mut Option<ConfigText>, current: &Arc<ServerConfig>) -> &'c mut Self {
        if slot
            .as_ref()
            .is_some_and(|t| !Arc::ptr_eq(&t.version, current))
        {
            *slot = None;
        }
        slot.get_or_insert_with(|| ConfigText {
            version: current.clone(),
            sections: Vec::new(),
            identify: [None, None],
        })
    }
}

impl Service {
    fn text_cache(&self) -> std::sync::MutexGuard<'_, Option<ConfigText>> {
        self.config_text
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A service with a configuration.
    pub fn new(mut config: ServerConfig) -> Self {
        if config.deviates(Deviation::ConfigDrift) {
            let _ = config.model.set("MaxTimeoutms", "30000");
        }
        Self {
            config: std::sync::RwLock::new(Arc::new(config)),
            shells: Mutex::new(HashMap::new()),
            enumerations: Mutex::new(Default::default()),
            instances: Mutex::new(Default::default()),
            active: std::sync::atomic::AtomicUsize::new(0),
            responder: None,
            config_text: Mutex::new(None),
        }
    }

    /// A service whose SOAP answers come from `responder`; the configuration still governs
    /// authentication, encryption and limits.
    pub fn with_responder(config: ServerConfig, responder: Arc<dyn Responder>) -> Self {
        let mut s = Self::new(config);
        s.responder = Some(responder);
        s
    }

    /// The configuration now.
    pub fn config(&self) -> Arc<ServerConfig> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Admits a request unless `Service/MaxConnections` requests are already in flight.
    pub fn admit(&self) -> Option<InFlight<'_>> {
        let limit = self.config().model.number("Service/MaxConnections") as usize;
        let now = self
            .active
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let guard = InFlight(&self.active);
        (now <= limit).then_some(guard)
    }

    /// Number of open shells (for tests and leak checks).
    pub fn open_shells(&self) -> usize {
        self.shells.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Handles one request body.
    pub fn handle(&self, body: &[u8], ctx: &RequestContext) -> Reply {
        self.handle_shared(body, ctx).into_plain()
    }

    /// Handles one request body; the answer's item text stays shared with the service's
    /// cache (what the HTTP layer sends without copying).
    pub fn handle_shared(&self, body: &[u8], ctx: &RequestContext) -> Reply<Written> {
        if let Some(r) = &self.responder {
            return r.respond(body, ctx).into();
        }
        let config = self.config();
        let limits = Limits {
            max_bytes: if config.deviates(Deviation::IgnoreMaxEnvelope) {
                64 << 20
            } else {
                (config.max_envelope_size_kb() * 1024) as usize
            },
            ..Limits::default()
        };
        let env = match parse_with(body, limits) {
            Ok(env) => env,
            Err(e) if e.kind == ErrorKind::Soap11 => {
                let (s, env) = fault("version-mismatch", None, &config.machine, None);
                return Reply::envelope(s, &env);
            }
            Err(e) => {
                tracing::warn!("refused a malformed request: {e}");
                return Reply::empty(400);
            }
        };
        for e in &env.misplaced {
            tracing::warn!(
                "ignored <{}> between </s:Header> and <s:Body>: SOAP 1.2 allows nothing there \
                 (Windows is reported to accept it)",
                e.name
            );
        }
        if let Body::Identify(_) = env.body {
            return Reply::envelope(200, &self.identify(ctx.user.is_some()));
        }
        let Some(user) = ctx.user.as_deref() else {
            return Reply::empty(401);
        };
        let relates = env.message_id();
        match self.check_headers(&env, &config) {
            Ok(()) => {}
            Err((condition, message)) => {
                let (s, f) = fault(condition, relates, &config.machine, message.as_deref());
                return Reply::envelope(s, &f);
            }
        }
        if !ctx.deadline_passed && self.receive_would_wait(&env, user) {
            return Reply {
                wait: Some(self.operation_timeout(&env)),
                ..Reply::empty(200)
            };
        }
        let (mut status, mut out) = self.dispatch(&env, user);
        if config.deviates(Deviation::GenericFaults) {
            let specific = out
                .fault()
                .and_then(|f| f.subcode.as_ref())
                .is_some_and(|s| {
                    matches!(
                        s.local.as_ref(),
                        "DestinationUnreachable"
                            | "ActionNotSupported"
                            | "InvalidSelectors"
                            | "InvalidEnumerationContext"
                    )
                });
            if specific {
                (status, out) = fault("internal-error", relates, &config.machine, None);
            }
        }
        if config.deviates(Deviation::WrongRelatesTo) {
            let wrong = crate::ids::new_message_id();
            out.header_mut()
                .set(crate::envelope::HeaderBlock::RelatesTo(Text::new(wrong)));
        }
        if config.deviates(Deviation::Fault400) && out.fault().is_some() {
            status = 400;
        }
        let reply = Reply::envelope(status, &out);
        // Batches and shell output are sized to fit already; anything else that does not fit
        // the client's MaxEnvelopeSize is refused (DSP0226 R6.2-3, MS-WSMV 3.1.4.1.7).
        if out.fault().is_none() && reply.body.len() > self.effective_envelope_size(&env) {
            let (s, f) = fault("response-too-large", relates, &config.machine, None);
            return Reply::envelope(s, &f);
        }
        reply
    }

    /// The Identify answer. Its body depends only on the configuration and on whether the
    /// request was authenticated, so it is written once per configuration version.
    fn identify(&self, authenticated: bool) -> Envelope {
        let config = self.config();
        let body = {
            let mut cache = self.text_cache();
            let text = ConfigText::of(&mut cache, &config);
            text.identify[usize::from(authenticated)]
                .get_or_insert_with(|| {
                    let body = Self::identify_body(&config, authenticated);
                    crate::xml::Fragment::written(&body.to_element())
                })
                .clone()
        };
        Envelope {
            header: Some(Default::default()),
            body: Body::Other(vec![body]),
            ..Envelope::default()
        }
    }

    /// The IdentifyResponse this configuration gives.
    fn identify_body(config: &ServerConfig, authenticated: bool) -> IdentifyResponse {
        let profiles = authenticated.then(|| {
            let base = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/";
            let mut p = Vec::new();
            if config.basic() {
                p.push(format!("{base}http/basic"));
                p.push(format!("{base}https/basic"));
            }
            if config.negotiate() {
                p.push(format!("{base}http/spnego-kerberos"));
                p.push(format!("{base}https/spnego-kerberos"));
            }
            p
        });
        let bad = config.deviates(Deviation::BadIdentify);
        IdentifyResponse {
            namespace: ns::IDENTITY.into(),
            protocol_versions: if bad {
                Vec::new()
            } else {
                vec![ns::WSMAN.into()]
            },
            product_vendor: (!bad).then(|| "Microsoft Corporation".into()),
            // Windows zeroes the OS part for unauthenticated requests (wire, §7.2 of the facts).
            product_version: Some(
                if authenticated {
                    "OS: 10.0.17763 SP: 0.0 Stack: 3.0"
                } else {
                    "OS: 0.0.0 SP: 0.0 Stack: 3.0"
                }
                .into(),
            ),
            extra: Vec::new(),
            security_profiles: profiles,
        }
    }

    /// Header rules every operation shares (MS-WSMV 3.1.4.1).
    fn check_headers(
        &self,
        env: &Envelope,
        config: &ServerConfig,
    ) -> Result<(), (&'static str, Option<String>)> {
        let h = env.header();
        if !config.deviates(Deviation::IgnoreMustUnderstand)
            && let Some(u) = h
                .unknown()
                .find(|e| crate::envelope::must_understand(&e.attrs) == Some(true))
        {
            return Err((
                "must-understand",
                Some(format!(
                    "The header {} is marked mustUnderstand and is not understood.",
                    u.name
                )),
            ));
        }
        if !config.deviates(Deviation::LaxAddressing) {
            let reply_to = h.reply_to().ok_or(("missing-reply-to", None))?;
            if reply_to.address.value.trim().trim_end_matches('/') != ns::ANONYMOUS {
                return Err(("non-anonymous-reply-to", None));
            }
            if h.message_id().is_none_or(str::is_empty) {
                return Err(("missing-message-id", None));
            }
        }
        if config.deviates(Deviation::FaultLargeTimeout)
            && let Some(Ok(t)) = h.operation_timeout().map(crate::duration::parse_timeout)
            && t > std::time::Duration::from_millis(config.max_timeout_ms())
        {
            return Err(("invalid-operation-timeout", None));
        }
        if let Some(t) = h.operation_timeout()
            && !config.deviates(Deviation::AcceptBadTimeout)
            && let Err(e) = crate::duration::parse_timeout(t)
        {
            return Err((
                "invalid-operation-timeout",
                Some(format!(
                    "The OperationTimeout value {t:?} is not valid: {}.",
                    e.reason
                )),
            ));
        }
        if let Some(m) = h.max_envelope_size() {
            match m.value.trim().parse::<u64>() {
                Ok(n) if n >= MIN_ENVELOPE_SIZE => {}
                Ok(_) if config.deviates(Deviation::AcceptSmallEnvelope) => {}
                _ => return Err(("min-envelope-size", None)),
            }
        }
        Ok(())
    }

    /// OperationTimeout, clamped to MaxTimeoutms (MS-WSMV 3.1.4.1.6); absent means the maximum.
    fn operation_timeout(&self, env: &Envelope) -> std::time::Duration {
        let max = std::time::Duration::from_millis(self.config().max_timeout_ms());
        env.header()
            .operation_timeout()
            .and_then(|t| crate::duration::parse_timeout(t).ok())
            .map_or(max, |t| t.min(max))
    }

    /// True for a Receive on a command that has neither output nor an exit code yet.
    fn receive_would_wait(&self, env: &Envelope, user: &str) -> bool {
        let Body::Receive(r) = &env.body else {
            return false;
        };
        if self.config().deviates(Deviation::ReceiveIgnoresTimeout) {
            return false;
        }
        let Some(cid) = r.desired.first().and_then(|d| d.command_id.as_deref()) else {
            return false;
        };
        let Some(sid) = env.header().selector_set().and_then(|s| s.get("ShellId")) else {
            return false;
        };
        let Ok(shells) = self.shells.lock() else {
            return false;
        };
        shells
            .get(&sid.trim().to_ascii_uppercase())
            .filter(|s| s.owner.eq_ignore_ascii_case(user))
            .and_then(|s| s.commands.get(&cid.to_ascii_uppercase()))
            .is_some_and(|c| c.exit_code.is_none() && c.stdout.is_empty() && c.stderr.is_empty())
    }

    /// The response size the client allows, after clamping to the service limit.
    fn effective_envelope_size(&self, env: &Envelope) -> usize {
        let config = self.config();
        let server = config.max_envelope_size_kb() * 1024;
        if config.deviates(Deviation::IgnoreClientMaxEnvelope) {
            return server as usize;
        }
        let client = env
            .header()
            .max_envelope_size()
            .and_then(|m| m.value.trim().parse::<u64>().ok())
            .unwrap_or(server);
        client.min(server) as usize
    }

    fn dispatch(&self, env: &Envelope, user: &str) -> (u16, Envelope) {
        let relates = env.message_id();
        let config = self.config();
        let machine = &config.machine;
        let resource = env.resource_uri().unwrap_or_default();
        let Some(act) = env.action() else {
            return fault(
                "action-not-supported",
                relates,
                machine,
                Some("The request has no Action header."),
            );
        };
        if let Some(section) = crate::config::resource_path(resource) {
            return self.config_resource(env, act, &section);
        }
        if resource.eq_ignore_ascii_case(super::enumeration::PROCESS_URI) {
            return self.collection(env, act, user);
        }
        if resource.eq_ignore_ascii_case(super::listeners::LISTENER_URI) {
            return self.listener_resource(env, act, user);
        }
        if !resource.eq_ignore_ascii_case(ns::CMD_SHELL_URI) {
            return fault("resource-not-found", relates, machine, None);
        }
        let shell_id = env
            .header()
            .selector_set()
            .and_then(|s| s.get("ShellId"))
            .map(str::to_owned);
        match (act, &env.body) {
            (action::CREATE, Body::Shell(_)) => self.create_shell(env, user),
            (action::DELETE, _) => self.with_shell(env, shell_id, user, |shells, id| {
                shells.remove(id);
                (200, response(action::DELETE_RESPONSE, relates, Body::Empty))
            }),
            (action::COMMAND, Body::CommandLine(cl)) => {
                self.with_shell(env, shell_id, user, |shells, id| {
                    let command_id = format_message_id(uuid::Uuid::new_v4())[5..].to_owned();
                    let c = shell::run(
                        cl.command.as_deref().unwrap_or_default(),
                        &cl.arguments,
                        machine,
                    );
                    if let Some(s) = shells.get_mut(id) {
                        s.commands.insert(command_id.clone(), c);
                    }
                    let body = Body::CommandResponse(CommandResponse { command_id });
                    (200, response(action::COMMAND_RESPONSE, relates, body))
                })
            }
            (action::SEND, Body::Send(send)) => {
                self.with_shell(env, shell_id, user, |shells, id| {
                    for s in &send.streams {
                        let cmd = s.command_id.as_deref().and_then(|c| {
                            shells
                                .get_mut(id)?
                                .commands
                                .get_mut(&c.to_ascii_uppercase())
                        });
                        let Some(cmd) = cmd else {
                            return fault(
                                "unexpected-selectors",
                                relates,
                                machine,
                                Some("The CommandId is not valid."),
                            );
                        };
                        let Ok(data) = s.decode() else {
                            return fault(
                                "invalid-parameter",
                                relates,
                                machine,
                                Some("The stream content is not valid base64."),
                            );
                        };
                        cmd.send(&data, s.is_end());
                    }
                    (200, response(action::SEND_RESPONSE, relates, Body::Empty))
                })
            }
            (action::RECEIVE, Body::Receive(r)) => {
                let budget = self
                    .effective_envelope_size(env)
                    .saturating_sub(RECEIVE_OVERHEAD)
                    / 4
                    * 3;
                self.with_shell(env, shell_id, user, |shells, id| {
                    let Some(cid) = r.desired.first().and_then(|d| d.command_id.clone()) else {
                        return fault("invalid-parameter", relates, machine, None);
                    };
                    let Some(cmd) = shells
                        .get_mut(id)
                        .and_then(|s| s.commands.get_mut(&cid.to_ascii_uppercase()))
                    else {
                        return fault(
                            "unexpected-selectors",
                            relates,
                            machine,
                            Some("The CommandId is not valid."),
                        );
                    };
                    receive(cmd, &cid, budget, relates, machine, &config.deviations)
                })
            }
            (action::SIGNAL, Body::Signal(_)) if config.deviates(Deviation::SignalUnsupported) => {
                fault("action-not-supported", relates, machine, None)
            }
            (action::SIGNAL, Body::Signal(sig)) => {
                self.with_shell(env, shell_id, user, |shells, id| {
                    if let (Some(cid), Some(s)) = (&sig.command_id, shells.get_mut(id)) {
                        let code = sig.code.trim().to_ascii_lowercase();
                        if code == ns::signal::TERMINATE
                            || code == ns::signal::CTRL_C
                            || code == ns::signal::CTRL_BREAK
                        {
                            s.commands.remove(&cid.to_ascii_uppercase());
                        }
                    }
                    (
                        200,
                        response(
                            action::SIGNAL_RESPONSE,
                            relates,
                            Body::SignalResponse(SignalResponse),
                        ),
                    )
                })
            }
            (
                action::CREATE | action::COMMAND | action::SEND | action::RECEIVE | action::SIGNAL,
                _,
            ) => fault("schema-validation", relates, machine, None),
            _ => fault("action-not-supported", relates, machine, None),
        }
    }

    /// A `winrm/config` section of `current` as written text (cached per version; a Put
    /// replaces the configuration, hence the version).
    fn config_section(&self, current: &Arc<ServerConfig>, section: &str) -> crate::xml::Fragment {
        let mut cache = self.text_cache();
        let text = ConfigText::of(&mut cache, current);
        if let Some((_, f)) = text.sections.iter().find(|(s, _)| s == section) {
            return f.clone();
        }
        let f = crate::xml::Fragment::written(&crate::config::to_element(&current.model, section));
        text.sections.push((section.to_owned(), f.clone()));
        f
    }

    /// Get and Put on `winrm/config` and its sections; a Put is validated whole, persisted
    /// atomically when the server has a store, then takes effect for later requests.
    fn config_resource(&self, env: &Envelope, act: &str, section: &str) -> (u16, Envelope) {
        use crate::config::{ConfigErrorKind, apply_put, to_element};
        let relates = env.message_id();
        let current = self.config();
        let machine = current.machine.clone();
        match act {
            action::GET => {
                let body = Body::Other(vec![self.config_section(&current, section)]);
                (200, response(action::GET_RESPONSE, relates, body))
            }
            action::PUT => {
                let element = single_element(&env.body);
                let Some(element) = element else {
                    return fault(
                        "schema-validation",
                        relates,
                        &machine,
                        Some("Put needs one configuration element in the body."),
                    );
                };
                let model = match apply_put(&current.model, section, &element) {
                    Ok(m) => m,
                    Err(e) => {
                        let condition = match (&e.kind, e.path.as_str()) {
                            (ConfigErrorKind::ReadOnly, _) => "read-only-setting",
                            (ConfigErrorKind::Deprecated, _) => "deprecated-config-setting",
                            (_, p) if p.ends_with("CbtHardeningLevel") => "invalid-cbt-hardening",
                            (_, p) if p.ends_with("IdleTimeout") => "idle-timeout-out-of-bounds",
                            _ => "invalid-parameter",
                        };
                        return fault(condition, relates, &machine, Some(&e.to_string()));
                    }
                };
                if current.deviates(Deviation::PutIgnored) {
                    let body = Body::Other(vec![to_element(&current.model, section).into()]);
                    return (200, response(action::PUT_RESPONSE, relates, body));
                }
                let body = Body::Other(vec![to_element(&model, section).into()]);
                if let Err(f) = self.commit(model, relates, &machine) {
                    return *f;
                }
                (200, response(action::PUT_RESPONSE, relates, body))
            }
            _ => match super::quickconfig::Method::of(section, act) {
                Some(m) => self.config_method(env, m),
                None => fault("action-not-supported", relates, &machine, None),
            },
        }
    }

    /// Restore, Analyze and EnableRemoting (see [`super::quickconfig`]).
    fn config_method(&self, env: &Envelope, m: super::quickconfig::Method) -> (u16, Envelope) {
        use super::quickconfig::{Method, analyze, enable, restore};
        let relates = env.message_id();
        let current = self.config();
        let machine = current.machine.clone();
        let input = single_element(&env.body);
        let cert = current.certificate.as_ref();
        let (model, out) = match m {
            Method::Analyze => match analyze(&current.model, input.as_ref(), cert) {
                Ok(out) => (None, out),
                Err(msg) => return fault("invalid-parameter", relates, &machine, Some(&msg)),
            },
            Method::EnableRemoting => match enable(&current.model, input.as_ref(), cert) {
                Ok((model, out)) => (Some(model), out),
                Err(msg) => return fault("invalid-parameter", relates, &machine, Some(&msg)),
            },
            Method::Restore => {
                let (model, out) = restore(&current.model);
                (Some(model), out)
            }
        };
        if let Some(model) = model
            && let Err(f) = self.commit(model, relates, &machine)
        {
            return *f;
        }
        let body = Body::Other(vec![out.into()]);
        (200, response(&m.response_action(), relates, body))
    }

    /// Get, Enumerate, Pull and Release on the sample collection.
    fn collection(&self, env: &Envelope, act: &str, user: &str) -> (u16, Envelope) {
        use super::enumeration::{collection_batch, fill_from};
        use crate::envelope::{EnumNs, EnumerateResponse, PullResponse};
        let relates = env.message_id();
        let config = self.config();
        let machine = config.machine.clone();
        let base = config.collection_size;
        let batch_max = if config.deviates(Deviation::NoClampMaxElements) {
            usize::MAX
        } else {
            config.model.number("MaxBatchItems").max(1) as usize
        };
        let timeout = if config.deviates(Deviation::NeverExpireEnumerations) {
            std::time::Duration::from_secs(10 * 365 * 86_400)
        } else {
            std::time::Duration::from_millis(config.model.number("Service/EnumerationTimeoutms"))
        };
        let budget = self
            .effective_envelope_size(env)
            .saturating_sub(RECEIVE_OVERHEAD);
        let clamp = |m: Option<&String>| -> Result<usize, ()> {
            match m {
                None => Ok(1),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| ())
                    .map(|n| (n.max(1) as usize).min(batch_max)),
            }
        };
        let Ok(mut open) = self.enumerations.lock() else {
            return fault("internal-error", relates, &machine, None);
        };
        let Ok(mut instances) = self.instances.lock() else {
            return fault("internal-error", relates, &machine, None);
        };
        let total = instances.slots(base);
        if matches!(act, action::ENUMERATE | action::PULL) {
            instances.generate(base);
        }
        match (act, &env.body) {
            (action::GET | action::PUT | action::DELETE, _) => {
                let selectors = env.header().selector_set();
                let key = selectors.and_then(|s| s.get("Handle").or_else(|| s.get("ProcessId")));
                // Selector names the class does not have, or none at all (MS-WSMV 3.1.4.1.4).
                if key.is_none() {
                    let condition = if selectors.is_some_and(|s| !s.selectors.is_empty()) {
                        "unexpected-selectors"
                    } else {
                        "insufficient-selectors"
                    };
                    return fault(condition, relates, &machine, None);
                }
                let id = key.and_then(|h| h.trim().parse::<usize>().ok());
                let Some(i) = id.filter(|i| instances.get(*i, base).is_some()) else {
                    return fault("resource-not-found", relates, &machine, None);
                };
                match act {
                    action::GET => {
                        let body =
                            Body::Other(vec![instances.get(i, base).unwrap_or_default().into()]);
                        (200, response(action::GET_RESPONSE, relates, body))
                    }
                    action::PUT => match process_body(&env.body) {
                        Some(e) => {
                            instances.put(i, e.clone());
                            (
                                200,
                                response(
                                    action::PUT_RESPONSE,
                                    relates,
                                    Body::Other(vec![e.into()]),
                                ),
                            )
                        }
                        None => fault(
                            "schema-validation",
                            relates,
                            &machine,
                            Some("Put needs one Win32_Process element."),
                        ),
                    },
                    _ => {
                        instances.delete(i);
                        (200, response(action::DELETE_RESPONSE, relates, Body::Empty))
                    }
                }
            }
            (action::CREATE, _) => match process_body(&env.body) {
                Some(e) => {
                    let i = instances.create(base, e);
                    let created = created_epr(
                        super::enumeration::PROCESS_URI,
                        &[("Handle", &i.to_string())],
                        ns::ANONYMOUS,
                    );
                    created_response(relates, created)
                }
                None => fault(
                    "schema-validation",
                    relates,
                    &machine,
                    Some("Create needs one Win32_Process element."),
                ),
            },
            (action::ENUMERATE, Body::Enumerate(e)) => {
                if e.filter.is_some() {
                    return fault("cannot-process-filter", relates, &machine, None);
                }
                let Ok(mode) = super::enumeration::ItemMode::parse(e.mode.as_deref()) else {
                    return fault("enumeration-mode-unsupported", relates, &machine, None);
                };
                let limit = config
                    .model
                    .number("Service/MaxConcurrentOperationsPerUser")
                    as usize;
                if open.count(user) >= limit && !config.deviates(Deviation::NoQuotas) {
                    return fault("quota-max-operations", relates, &machine, None);
                }
                let Ok(max) = clamp(e.max_elements.as_ref()) else {
                    return fault(
                        "invalid-parameter",
                        relates,
                        &machine,
                        Some("MaxElements is not a number."),
                    );
                };
                let mut batch = if e.optimize && !config.deviates(Deviation::IgnoreOptimize) {
                    let (mut b, next) =
                        collection_batch(&instances, 0, base, max, budget, EnumNs::Wsman, mode);
                    // Windows sends an empty context when everything fit.
                    b.context = Some(if next >= total {
                        String::new()
                    } else {
                        open.open(user, next, timeout, mode)
                    });
                    b
                } else {
                    crate::envelope::EnumerationBatch {
                        context: Some(open.open(user, 0, timeout, mode)),
                        ..Default::default()
                    }
                };
                batch.expires = None;
                (
                    200,
                    response(
                        action::ENUMERATE_RESPONSE,
                        relates,
                        Body::EnumerateResponse(EnumerateResponse(batch)),
                    ),
                )
            }
            (action::PULL, Body::Pull(p)) => {
                let Some(ctx) = open.take(&p.context, user) else {
                    return fault("invalid-enumeration-context", relates, &machine, None);
                };
                let overfill = usize::from(config.deviates(Deviation::PullOverfills));
                let Ok(max) = clamp(p.max_elements.as_ref()).map(|m| m + overfill) else {
                    return fault(
                        "invalid-parameter",
                        relates,
                        &machine,
                        Some("MaxElements is not a number."),
                    );
                };
                let (mut batch, next) = match &ctx.snapshot {
                    Some(items) => fill_from(
                        ctx.next,
                        items.len(),
                        max,
                        budget,
                        EnumNs::Enumeration,
                        |i| Some(crate::xml::Fragment::written(&items[i])),
                    ),
                    None => collection_batch(
                        &instances,
                        ctx.next,
                        base,
                        max,
                        budget,
                        EnumNs::Enumeration,
                        ctx.mode,
                    ),
                };
                let total = ctx.snapshot.as_ref().map_or(total, Vec::len);
                if config.deviates(Deviation::NoEndOfSequence) {
                    batch.end_of_sequence = None;
                }
                if next < total || config.deviates(Deviation::NoEndOfSequence) {
                    open.keep(
                        &p.context,
                        super::enumeration::Context { next, ..ctx },
                        timeout,
                    );
                    batch.context = Some(p.context.trim().to_owned());
                }
                (
                    200,
                    response(
                        action::PULL_RESPONSE,
                        relates,
                        Body::PullResponse(PullResponse(batch)),
                    ),
                )
            }
            (action::RELEASE, Body::Release(r)) => match open.take(&r.context, user) {
                Some(c) => {
                    if config.deviates(Deviation::ReleaseNoop) {
                        open.keep(&r.context, c, timeout);
                    }
                    (
                        200,
                        response(action::RELEASE_RESPONSE, relates, Body::Empty),
                    )
                }
                None => fault("invalid-enumeration-context", relates, &machine, None),
            },
            (action::ENUMERATE | action::PULL | action::RELEASE, _) => {
                fault("schema-validation", relates, &machine, None)
            }
            _ => fault("action-not-supported", relates, &machine, None),
        }
    }

    /// Listeners: Get/Put/Create/Delete by Address+Transport, Enumerate/Pull/Release of all.
    fn listener_resource(&self, env: &Envelope, act: &str, user: &str) -> (u16, Envelope) {
        use super::listeners::{apply, find, from_create, key, to_element};
        let relates = env.message_id();
        let current = self.config();
        let machine = current.machine.clone();
        let body_element = single_element(&env.body);
        if matches!(act, action::ENUMERATE | action::PULL | action::RELEASE) {
            if let Body::Enumerate(e) = &env.body {
                let items: Vec<_> = current
                    .model
                    .listeners
                    .iter()
                    .filter(|_| !current.deviates(Deviation::HideListeners))
                    .map(|l| to_element(l, &current.model))
                    .collect();
                let timeout = std::time::Duration::from_millis(
                    current.model.number("Service/EnumerationTimeoutms"),
                );
                let mut batch = crate::envelope::EnumerationBatch::default();
                if e.optimize {
                    batch.items = Some(crate::envelope::Items {
                        ns: crate::envelope::EnumNs::Wsman,
                        items: items.into_iter().map(Into::into).collect(),
                    });
                    batch.end_of_sequence = Some(crate::envelope::EnumNs::Wsman);
                    batch.context = Some(String::new());
                } else {
                    let Ok(mut open) = self.enumerations.lock() else {
                        return fault("internal-error", relates, &machine, None);
                    };
                    batch.context = Some(open.open_snapshot(user, 0, timeout, Some(items)));
                }
                let body = Body::EnumerateResponse(crate::envelope::EnumerateResponse(batch));
                return (200, response(action::ENUMERATE_RESPONSE, relates, body));
            }
            // Pull and Release work on any context, whatever it enumerates.
            return self.collection(env, act, user);
        }
        let Some(k) = key(env.header().selector_set()) else {
            return fault(
                "insufficient-selectors",
                relates,
                &machine,
                Some("Listeners are selected by Address and Transport."),
            );
        };
        let mut model = current.model.clone();
        let index = find(&model, &k);
        let (status, reply) = match (act, index) {
            (action::GET, Some(i)) => {
                let body = Body::Other(vec![to_element(&model.listeners[i], &model).into()]);
                return (200, response(action::GET_RESPONSE, relates, body));
            }
            (action::CREATE, Some(_)) => return fault("already-exists", relates, &machine, None),
            (action::CREATE, None) => match from_create(&model, &k, body_element.as_ref()) {
                Ok(l) => {
                    model.listeners.push(l);
                    let created = created_epr(
                        super::listeners::LISTENER_URI,
                        &[("Address", &k.0), ("Transport", &k.1)],
                        ns::ANONYMOUS,
                    );
                    created_response(relates, created)
                }
                Err((c, m)) => return fault(c, relates, &machine, Some(&m)),
            },
            (action::PUT, Some(i)) => {
                let Some(b) = body_element.as_ref() else {
                    return fault("schema-validation", relates, &machine, None);
                };
                if let Err((c, m)) = apply(&mut model.listeners[i], b, &current.model) {
                    return fault(c, relates, &machine, Some(&m));
                }
                if let Err(e) = crate::config::validate_listener(&model.listeners[i]) {
                    return fault("invalid-parameter", relates, &machine, Some(&e.to_string()));
                }
                let body = Body::Other(vec![to_element(&model.listeners[i], &model).into()]);
                (200, response(action::PUT_RESPONSE, relates, body))
            }
            (action::DELETE, Some(i)) => {
                model.listeners.remove(i);
                (200, response(action::DELETE_RESPONSE, relates, Body::Empty))
            }
            (action::GET | action::PUT | action::DELETE, None) => {
                return fault("resource-not-found", relates, &machine, None);
            }
            _ => return fault("action-not-supported", relates, &machine, None),
        };
        self.commit(model, relates, &machine)
            .map(|()| (status, reply))
            .unwrap_or_else(|f| *f)
    }

    /// Persists and installs a changed model.
    fn commit(
        &self,
        model: crate::config::Config,
        relates: Option<&str>,
        machine: &str,
    ) -> Result<(), Box<(u16, Envelope)>> {
        let mut next = (*self.config()).clone();
        next.model = model;
        if let Some(path) = &next.store
            && let Err(e) = crate::config::save(path, &next.model)
        {
            return Err(Box::new(fault(
                "internal-error",
                relates,
                machine,
                Some(&format!("The configuration could not be saved: {e}")),
            )));
        }
        if let Ok(mut slot) = self.config.write() {
            *slot = Arc::new(next);
        }
        Ok(())
    }

    fn create_shell(&self, env: &Envelope, user: &str) -> (u16, Envelope) {
        let relates = env.message_id();
        let config = self.config();
        let machine = &config.machine;
        let id = format_message_id(uuid::Uuid::new_v4())[5..].to_owned();
        let Ok(mut shells) = self.shells.lock() else {
            return fault("internal-error", relates, machine, None);
        };
        expire_shells(&mut shells, &config);
        // Quotas in the order Windows applies them (MS-WSMV 3.1.4.5.2, 3.1.4.5.2.1).
        if !config.model.flag("Winrs/AllowRemoteShellAccess") {
            return fault("remote-shells-not-allowed", relates, machine, None);
        }
        let mine = shells
            .values()
            .filter(|s| s.owner.eq_ignore_ascii_case(user))
            .count() as u64;
        if mine >= config.model.number("Winrs/MaxShellsPerUser")
            && !config.deviates(Deviation::NoQuotas)
        {
            return fault("quota-max-shells", relates, machine, None);
        }
        let mut users: Vec<String> = shells
            .values()
            .map(|s| s.owner.to_ascii_lowercase())
            .collect();
        users.sort();
        users.dedup();
        if mine == 0 && users.len() as u64 >= config.model.number("Winrs/MaxConcurrentUsers") {
            return fault("quota-max-shell-users", relates, machine, None);
        }
        shells.insert(id.clone(), Shell::new(user));
        drop(shells);
        let created = created_epr(
            ns::CMD_SHELL_URI,
            &[("ShellId", &id)],
            env.header().to().unwrap_or(ns::ANONYMOUS),
        );
        let shell = ShellBody::default()
            .field("ShellId", &id)
            .field("ResourceUri", ns::CMD_SHELL_URI)
            .field("Owner", user)
            .field("ClientIP", "127.0.0.1")
            .field("IdleTimeOut", "PT7200.000S")
            .field("InputStreams", "stdin")
            .field("OutputStreams", "stdout stderr")
            .field("ShellRunTime", "P0DT0H0M0S")
            .field("ShellInactivity", "P0DT0H0M0S");
        (
            200,
            response(
                action::CREATE_RESPONSE,
                env.message_id(),
                Body::ShellCreated(created, shell),
            ),
        )
    }

    /// Runs `f` on the user's shell named by the ShellId selector, or answers the fault Windows
    /// sends for a missing or unknown one.
    fn with_shell(
        &self,
        env: &Envelope,
        shell_id: Option<String>,
        user: &str,
        f: impl FnOnce(&mut HashMap<String, Shell>, &str) -> (u16, Envelope),
    ) -> (u16, Envelope) {
        let relates = env.message_id();
        let config = self.config();
        let machine = &config.machine;
        let Some(id) = shell_id.map(|s| s.trim().to_ascii_uppercase()) else {
            return fault("insufficient-selectors", relates, machine, None);
        };
        let Ok(mut shells) = self.shells.lock() else {
            return fault("internal-error", relates, machine, None);
        };
        expire_shells(&mut shells, &config);
        if let Some(s) = shells.get_mut(&id) {
            s.last_used = std::time::Instant::now();
        }
        // Another user's shell is as invisible as a missing one.
        if shells
            .get(&id)
            .is_none_or(|s| !s.owner.eq_ignore_ascii_case(user))
        {
            return fault("unexpected-selectors", relates, machine, None);
        }
        f(&mut shells, &id)
    }
}

/// A `CreateResponse` carrying what was made.
fn created_response(relates: Option<&str>, created: ResourceCreated) -> (u16, Envelope) {
    (
        200,
        response(
            action::CREATE_RESPONSE,
            relates,
            Body::ResourceCreated(created),
        ),
    )
}

/// The `x:ResourceCreated` endpoint reference Windows returns: address, then the resource URI
/// and selectors of what was made as reference parameters.
fn created_epr(resource_uri: &str, selectors: &[(&str, &str)], address: &str) -> ResourceCreated {
    let params = crate::xml::Element::new(QName::new(ns::ADDRESSING, "ReferenceParameters"))
        .child(crate::xml::Element::with_text(
            QName::new(ns::WSMAN, "ResourceURI"),
            resource_uri,
        ))
        .child(crate::envelope::HeaderBlock::SelectorSet(SelectorSet::of(selectors)).to_element());
    ResourceCreated(Epr {
        attrs: Vec::new(),
        address: Text::new(address),
        reference_parameters: Some(params),
    })
}

/// The Win32_Process element of a Put or Create body.
/// The one element of a generic body (a resource representation or a method's input).
fn single_element(body: &Body) -> Option<crate::xml::Element> {
    match body {
        Body::Other(parts) if parts.len() == 1 => parts[0].element().ok().map(|e| e.into_owned()),
        _ => None,
    }
}

fn process_body(body: &Body) -> Option<crate::xml::Element> {
    single_element(body).filter(|e| e.name.is(super::enumeration::PROCESS_URI, "Win32_Process"))
}

/// Deletes shells idle longer than Winrs/IdleTimeout or older than Winrs/MaxShellRunTime.
fn expire_shells(shells: &mut HashMap<String, Shell>, config: &ServerConfig) {
    let ms = |p: &str| std::time::Duration::from_millis(config.model.number(p));
    let (idle, max_run) = (ms("Winrs/IdleTimeout"), ms("Winrs/MaxShellRunTime"));
    shells.retain(|_, s| s.alive(idle, max_run));
}

/// Drains up to `budget` bytes of output; Done with the exit code once all is drained.
fn receive(
    cmd: &mut shell::Command,
    cid: &str,
    budget: usize,
    relates: Option<&str>,
    machine: &str,
    deviations: &[Deviation],
) -> (u16, Envelope) {
    let idle = cmd.exit_code.is_none() && cmd.stdout.is_empty() && cmd.stderr.is_empty();
    if idle && !deviations.contains(&Deviation::ReceiveIgnoresTimeout) {
        // Nothing yet (a command waiting for stdin): Windows answers after OperationTimeout.
        return fault("operation-timeout", relates, machine, None);
    }
    if deviations.contains(&Deviation::ShellOutputLost) {
        cmd.stdout.clear();
    }
    let mut streams = Vec::new();
    let mut left = budget.max(1024);
    for (name, buf) in [("stdout", &mut cmd.stdout), ("stderr", &mut cmd.stderr)] {
        if !buf.is_empty() && left > 0 {
            let n = buf.len().min(left);
            let chunk: Vec<u8> = buf.drain(..n).collect();
            left -= n;
            streams.push(Stream::new(name, Some(cid), &chunk));
        }
    }
    let drained = cmd.stdout.is_empty() && cmd.stderr.is_empty();
    let command_state = match cmd.exit_code {
        Some(code) if drained => {
            for name in ["stdout", "stderr"] {
                let mut end = Stream::new(name, Some(cid), b"");
                end.end = Some("true".into());
                streams.push(end);
            }
            CommandState {
                command_id: Some(cid.to_owned()),
                state: ns::command_state::DONE.into(),
                exit_code: Some(if deviations.contains(&Deviation::ShellExitCodeLost) {
                    "0".to_owned()
                } else {
                    code.to_string()
                }),
            }
        }
        _ => CommandState {
            command_id: Some(cid.to_owned()),
            state: ns::command_state::RUNNING.into(),
            exit_code: None,
        },
    };
    let body = Body::ReceiveResponse(ReceiveResponse {
        attrs: Vec::new(),
        streams,
        command_state: Some(command_state),
    });
    (200, response(action::RECEIVE_RESPONSE, relates, body))
}
