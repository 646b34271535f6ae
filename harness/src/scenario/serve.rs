//! Answering a client from recordings (`serve --recordings`).
//!
//! Each incoming request is matched to the recorded step it is closest to: same Action and
//! ResourceURI, then the fewest structural differences under the scenario's normalisation, with
//! a preference for the step that follows the last one served (a conversation in progress).
//! The recorded response goes back with the client's MessageID in RelatesTo, a fresh MessageID
//! and every correlation value the client chose (its ShellId, CommandId) substituted, so the
//! client sees a consistent conversation. A request that matches nothing gets a SOAP fault and
//! a log entry naming the nearest recorded step and how it differs.

use std::sync::Mutex;

use super::compare::{Comparison, Mismatch, compare};
use super::header_text;
use super::model::Scenario;
use super::replay::learn;
use super::symbols::{Bindings, Symbols, in_recorded_form};
use crate::ns;
use crate::server::{Reply, RequestContext, Responder};
use crate::xml::{Element, Limits, Node, PrefixStyle, XmlWriter, parse_document};

struct Prepared {
    scenario: Scenario,
    symbols: Symbols,
    /// Each step's request in the canonical form requests are matched in.
    match_trees: Vec<Element>,
    /// Each step's recorded Action and ResourceURI.
    keys: Vec<(Option<String>, Option<String>)>,
}

/// The form requests are matched in: a command line as one `rsp:Command` text (WinRM joins
/// `Command` and `Arguments` with a space; clients split them differently).
pub fn canonical(e: &Element) -> Element {
    let mut out = e.clone();
    join_command_lines(&mut out);
    out
}

fn join_command_lines(e: &mut Element) {
    if e.name.is(ns::SHELL, "CommandLine") {
        let mut words = Vec::new();
        for local in ["Command", "Arguments"] {
            for c in e.elements().filter(|c| c.name.is(ns::SHELL, local)) {
                let t = c.text();
                if !t.trim().is_empty() {
                    words.push(t.trim().to_owned());
                }
            }
        }
        let mut command = Element::with_text(
            crate::xml::QName::new(ns::SHELL, "Command"),
            words.join(" "),
        );
        command.prefix = Some("rsp".into());
        e.children.retain(|n| {
            !matches!(n, Node::Element(c) if c.name.is(ns::SHELL, "Command") || c.name.is(ns::SHELL, "Arguments"))
        });
        e.children.insert(0, Node::Element(command));
        return;
    }
    for c in &mut e.children {
        if let Node::Element(c) = c {
            join_command_lines(c);
        }
    }
}

#[derive(Default)]
struct State {
    /// Per scenario: the next step expected and the live bindings.
    cursor: Vec<usize>,
    bindings: Vec<Bindings>,
    /// The scenario served last.
    active: Option<usize>,
    served: usize,
    unmatched: usize,
}

/// Answers requests from a set of scenarios.
pub struct ReplayResponder {
    scenarios: Vec<Prepared>,
    state: Mutex<State>,
    machine: String,
}

/// Most request differences considered when ranking candidates.
const RANK_LIMIT: usize = 64;

/// How a request was matched (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Scenario index.
    pub scenario: usize,
    /// Step index.
    pub step: usize,
    /// Differences between the request and the recorded one.
    pub differences: usize,
}

/// Request headers that differ between clients without changing what is asked.
const CLIENT_CHOICES: &[&str] = &[
    "/s:Envelope/s:Header/a:MessageID",
    "/s:Envelope/s:Header/a:To",
    "/s:Envelope/s:Header/a:ReplyTo",
    "/s:Envelope/s:Header/p:SessionId",
    "/s:Envelope/s:Header/p:OperationID",
    "/s:Envelope/s:Header/p:SequenceId",
    "/s:Envelope/s:Header/w:Locale",
    "/s:Envelope/s:Header/p:DataLocale",
    "/s:Envelope/s:Header/w:MaxEnvelopeSize",
    "/s:Envelope/s:Header/w:OperationTimeout",
    "/s:Envelope/s:Header/w:OptionSet",
    // Clients disagree on qualifying it (pywinrm 0.5 writes it without a prefix).
    "//@s:mustUnderstand",
    "//@mustUnderstand",
];

/// What a difference says about a candidate: a different body is a different question, a
/// different header or order is a different client asking it.
fn weight(d: &Mismatch) -> i64 {
    if d.note.as_deref() == Some(super::compare::ORDER_NOTE) {
        10
    } else if d.path.starts_with("/s:Envelope/s:Body") {
        100
    } else {
        20
    }
}

/// Correlation values in a request that a scenario recorded: the client repeating a ShellId or
/// CommandId this server handed out from that scenario is the strongest sign of which
/// conversation it is in.
fn evidence(e: &Element, symbols: &Symbols) -> usize {
    let own = |v: &str| symbols.lookup(v).is_some() && crate::ids::is_guid_like(v);
    let mut n = e.attrs.iter().filter(|a| own(&a.value)).count();
    for c in &e.children {
        match c {
            Node::Text(t) if own(t) => n += 1,
            Node::Element(c) => n += evidence(c, symbols),
            _ => {}
        }
    }
    n
}

impl ReplayResponder {
    /// A responder over scenarios (at least one).
    pub fn new(scenarios: Vec<Scenario>, machine: &str) -> Self {
        let n = scenarios.len();
        let scenarios = scenarios
            .into_iter()
            .map(|mut s| {
                for p in CLIENT_CHOICES {
                    if let Ok(p) = super::ElementPath::parse(p, &[]) {
                        s.rules.ignore.push(p);
                    }
                }
                Prepared {
                    symbols: learn(&s),
                    match_trees: s
                        .steps
                        .iter()
                        .map(|st| canonical(&st.request_tree))
                        .collect(),
                    keys: s
                        .steps
                        .iter()
                        .map(|st| {
                            (
                                header_text(&st.request_tree, ns::ADDRESSING, "Action"),
                                header_text(&st.request_tree, ns::WSMAN, "ResourceURI"),
                            )
                        })
                        .collect(),
                    scenario: s,
                }
            })
            .collect();
        Self {
            scenarios,
            state: Mutex::new(State {
                cursor: vec![0; n],
                bindings: vec![Bindings::default(); n],
                ..State::default()
            }),
            machine: machine.to_owned(),
        }
    }

    /// Requests answered from a recording, and requests that matched none.
    pub fn counts(&self) -> (usize, usize) {
        self.state
            .lock()
            .map(|s| (s.served, s.unmatched))
            .unwrap_or_default()
    }

    fn differences(
        &self,
        i: usize,
        step: usize,
        request: &Element,
        bindings: &mut Bindings,
    ) -> Vec<Mismatch> {
        let p = &self.scenarios[i];
        let cmp = Comparison {
            max: RANK_LIMIT,
            loose_attributes: true,
            ..Comparison::new(&p.scenario.rules, &p.symbols)
        };
        compare(&cmp, &p.match_trees[step], request, bindings)
    }

    /// The best recorded step for a request, or the nearest one with its differences.
    pub fn find(&self, request: &Element) -> Result<Match, Option<(Match, Vec<Mismatch>)>> {
        let state = self.state.lock().map_err(|_| None)?;
        let action = header_text(request, ns::ADDRESSING, "Action");
        let resource = header_text(request, ns::WSMAN, "ResourceURI");
        let answers = |(a, r): &(Option<String>, Option<String>)| {
            *a == action && (r.is_none() || resource.is_none() || *r == resource)
        };
        let mut best: Option<(i64, Match)> = None;
        for (i, p) in self.scenarios.iter().enumerate() {
            let mut candidates = p
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| answers(k))
                .peekable();
            if candidates.peek().is_none() {
                continue;
            }
            let evidence = 15 * evidence(request, &p.symbols) as i64;
            for (j, _) in candidates {
                let diffs = self.differences(i, j, request, &mut state.bindings[i].clone());
                // Fewest differences first, body differences (what is asked) weighing more
                // than header ones (how a client asks); then the conversation in progress,
                // then steps not served yet, then recording order.
                let mut score: i64 = diffs.iter().map(weight).sum::<i64>() - evidence;
                if state.active == Some(i) {
                    score -= 30;
                }
                if state.cursor[i] == j {
                    score -= 50;
                } else if j < state.cursor[i] {
                    score += 10;
                }
                if best.as_ref().is_none_or(|(s, _)| score < *s) {
                    let m = Match {
                        scenario: i,
                        step: j,
                        differences: diffs.len(),
                    };
                    best = Some((score, m));
                }
            }
        }
        if let Some((_, m)) = best {
            return Ok(m);
        }
        // Nothing answers this request: find the nearest step to explain why (rare, so the
        // full comparison against every step is affordable here).
        let mut nearest: Option<(Match, Vec<Mismatch>)> = None;
        for (i, p) in self.scenarios.iter().enumerate() {
            for j in 0..p.scenario.steps.len() {
                let diffs = self.differences(i, j, request, &mut state.bindings[i].clone());
                if nearest
                    .as_ref()
                    .is_none_or(|(m, _)| diffs.len() < m.differences)
                {
                    let m = Match {
                        scenario: i,
                        step: j,
                        differences: diffs.len(),
                    };
                    nearest = Some((m, diffs));
                }
            }
        }
        Err(nearest)
    }

    fn answer(&self, request: &Element, m: &Match) -> Reply {
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let p = &self.scenarios[m.scenario];
        // Commit what the client chose for each symbol.
        let mut bindings = std::mem::take(&mut state.bindings[m.scenario]);
        let _ = self.differences(m.scenario, m.step, request, &mut bindings);
        let step = &p.scenario.steps[m.step];
        let message_id = header_text(request, ns::ADDRESSING, "MessageID");
        let reply = match step.response.as_ref() {
            Some(rec) => match &rec.tree {
                Some(tree) => {
                    let mut out = Element::clone(tree);
                    rewrite(&mut out, &p.symbols, &bindings, message_id.as_deref());
                    let body =
                        XmlWriter::document(&out, PrefixStyle::Preserve, rec.body.len() + 64);
                    Reply::new(rec.status, body)
                }
                None => Reply::new(rec.status, String::new()),
            },
            None => Reply::new(500, String::new()),
        };
        state.bindings[m.scenario] = bindings;
        state.cursor[m.scenario] = m.step + 1;
        if state.cursor[m.scenario] >= p.scenario.steps.len() {
            // A finished conversation may start again (the next client run).
            state.cursor[m.scenario] = 0;
        }
        state.active = Some(m.scenario);
        state.served += 1;
        tracing::info!(
            "answered from {} step {} ({}), {} request differences",
            p.scenario.name,
            m.step + 1,
            step.name,
            m.differences
        );
        reply
    }
}

fn rewrite(e: &mut Element, symbols: &Symbols, bindings: &Bindings, relates_to: Option<&str>) {
    if e.name.is(ns::ADDRESSING, "RelatesTo")
        && let Some(r) = relates_to
    {
        e.children = vec![Node::Text(r.to_owned())];
        return;
    }
    if e.name.is(ns::ADDRESSING, "MessageID") {
        e.children = vec![Node::Text(crate::ids::new_message_id())];
        return;
    }
    let live = |v: &str| -> Option<String> {
        let id = symbols.lookup(v)?;
        bindings.get(id).map(|b| in_recorded_form(v, b))
    };
    for a in &mut e.attrs {
        if let Some(v) = live(&a.value) {
            a.value = v;
        }
    }
    for c in &mut e.children {
        match c {
            Node::Text(t) => {
                if let Some(v) = live(t) {
                    *t = v;
                }
            }
            Node::Element(c) => rewrite(c, symbols, bindings, relates_to),
        }
    }
}

impl Responder for ReplayResponder {
    fn respond(&self, body: &[u8], _ctx: &RequestContext) -> Reply {
        let request = match parse_document(body, Limits::default()) {
            Ok(t) => canonical(&t),
            Err(e) => {
                tracing::warn!("refused a request that is not XML: {e}");
                return Reply::new(400, String::new());
            }
        };
        match self.find(&request) {
            Ok(m) => self.answer(&request, &m),
            Err(nearest) => {
                if let Ok(mut s) = self.state.lock() {
                    s.unmatched += 1;
                }
                let action = header_text(&request, ns::ADDRESSING, "Action").unwrap_or_default();
                let mut why = format!("no recorded step answers Action {action}");
                if let Some((m, diffs)) = nearest {
                    let p = &self.scenarios[m.scenario];
                    why.push_str(&format!(
                        "; nearest is {} step {} ({}):",
                        p.scenario.name,
                        m.step + 1,
                        p.scenario.steps[m.step].name
                    ));
                    for d in diffs.iter().take(5) {
                        why.push_str(&format!("\n{d}"));
                    }
                }
                tracing::warn!("{why}");
                let relates = header_text(&request, ns::ADDRESSING, "MessageID");
                let first_line = why.lines().next().unwrap_or_default().to_owned();
                let (status, env) = crate::server::fault(
                    "action-not-supported",
                    relates.as_deref(),
                    &self.machine,
                    Some(&format!("wsman-harness replay server: {first_line}")),
                );
                Reply::new(status, crate::write(&env, PrefixStyle::Windows))
            }
        }
    }
}
