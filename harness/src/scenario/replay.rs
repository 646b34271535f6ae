//! Replaying a scenario against a live server: each recorded request is sent with fresh
//! MessageIDs and the live values of earlier correlation symbols, and each live response is
//! compared with the recording, checked against the step's assertions and mined for captures.
//!
//! The engine only needs something that answers requests ([`Exchanger`]); the blocking
//! WS-Man client is the usual one, tests may plug anything.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::compare::{Comparison, Mismatch, compare, show_text};
use super::model::{Assertion, Scenario, Step};
use super::symbols::{Bindings, Symbols, in_recorded_form, key};
use crate::client::{Client, ClientError, Request, Response};
use crate::ns;
use crate::xml::{Element, Limits, Node, ParseError, PrefixStyle, XmlWriter, parse_document};

/// Sends one request and returns the response.
pub trait Exchanger {
    /// Sends `body` (plus extra headers) and waits for the answer.
    fn exchange(
        &mut self,
        body: Vec<u8>,
        headers: &[(String, String)],
    ) -> Result<Response, ClientError>;
    /// The URL requests go to (what `a:To` and `${serviceUrl}` become).
    fn url(&self) -> String;
}

impl Exchanger for Client {
    fn exchange(
        &mut self,
        body: Vec<u8>,
        headers: &[(String, String)],
    ) -> Result<Response, ClientError> {
        let mut req = Request::soap(body);
        req.headers = headers.to_vec();
        // `WSMANIDENTIFY: unauthenticated` means exactly that.
        if headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("WSMANIDENTIFY") && v.eq_ignore_ascii_case("unauthenticated")
        }) {
            req.authenticate = false;
            req.encrypt = false;
        }
        self.send(req)
    }

    fn url(&self) -> String {
        self.options().target.url()
    }
}

/// How a step went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepVerdict {
    /// The response matched and every assertion held.
    Passed,
    /// Differences or failed assertions.
    Failed,
    /// No response (transport error).
    Error(String),
}

/// One step's result.
#[derive(Clone, Debug)]
pub struct StepResult {
    /// The step's name.
    pub name: String,
    /// Its line in the scenario file.
    pub line: usize,
    /// The verdict.
    pub verdict: StepVerdict,
    /// Differences from the recording.
    pub mismatches: Vec<Mismatch>,
    /// Assertions that did not hold, explained.
    pub failed_assertions: Vec<String>,
    /// The request as sent.
    pub sent: String,
    /// The live response body (empty on error).
    pub received: String,
    /// Live HTTP status (0 on error).
    pub status: u16,
    /// Time for the exchange.
    pub elapsed: Duration,
}

/// One scenario's result.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: Option<std::path::PathBuf>,
    /// Per step, in order.
    pub steps: Vec<StepResult>,
}

impl ScenarioResult {
    /// Every step passed.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.verdict == StepVerdict::Passed)
    }
}

/// The symbols of a whole recording, learned in step order; captures name theirs.
pub fn learn(s: &Scenario) -> Symbols {
    let mut symbols = Symbols::default();
    for step in &s.steps {
        symbols.learn(&step.request_tree, true);
        if let Some(tree) = step.response.as_ref().and_then(|r| r.tree.as_ref()) {
            for c in &step.captures {
                for v in c.path.values(tree) {
                    if !v.is_empty() {
                        symbols.intern_named(&c.name, &v);
                    }
                }
            }
            symbols.learn(tree, false);
        }
    }
    symbols
}

/// Live state of one replay run.
pub struct Run<'s> {
    scenario: &'s Scenario,
    symbols: Symbols,
    bindings: Bindings,
    vars: HashMap<String, String>,
}

impl<'s> Run<'s> {
    /// Starts a run.
    pub fn new(scenario: &'s Scenario) -> Self {
        Self {
            scenario,
            symbols: learn(scenario),
            bindings: Bindings::default(),
            vars: HashMap::new(),
        }
    }

    /// The request of a step as it goes on the wire: fresh MessageID, the target's address
    /// in `a:To`, live values for bound symbols and `${vars}`. Returns the body and the id.
    pub fn request(&self, step: &Step, url: &str) -> (String, String) {
        let message_id = crate::ids::new_message_id();
        let mut tree = Element::clone(&step.request_tree);
        let mut vars = self.vars.clone();
        vars.insert("messageId".into(), message_id.clone());
        vars.insert("serviceUrl".into(), url.to_owned());
        self.rewrite(&mut tree, &message_id, url, &vars);
        let body = XmlWriter::document(&tree, PrefixStyle::Preserve, step.request.len() + 64);
        (body, message_id)
    }

    fn rewrite(
        &self,
        e: &mut Element,
        message_id: &str,
        url: &str,
        vars: &HashMap<String, String>,
    ) {
        let fixed = if e.name.is(ns::ADDRESSING, "MessageID") {
            Some(message_id.to_owned())
        } else if e.name.is(ns::ADDRESSING, "To") && e.is_simple() {
            Some(url.to_owned())
        } else {
            None
        };
        if let Some(v) = fixed {
            e.children = vec![Node::Text(v)];
            return;
        }
        for a in &mut e.attrs {
            if let Some(v) = self.live_value(&a.value, vars) {
                a.value = v;
            }
        }
        for c in &mut e.children {
            match c {
                Node::Text(t) => {
                    if let Some(v) = self.live_value(t, vars) {
                        *t = v;
                    }
                }
                Node::Element(c) => self.rewrite(c, message_id, url, vars),
            }
        }
    }

    /// The value to send in place of a recorded one; `None` when it goes out unchanged (most
    /// text of a request: the tree is rewritten per step, so copies are avoided).
    fn live_value(&self, v: &str, vars: &HashMap<String, String>) -> Option<String> {
        let substituted = v.contains("${").then(|| substitute(v, vars));
        let v = substituted.as_deref().unwrap_or(v);
        match self.symbols.lookup(v).and_then(|s| self.bindings.get(s)) {
            Some(live) => {
                let lead = &v[..v.len() - v.trim_start().len()];
                let trail = &v[v.trim_end().len()..];
                Some(format!("{lead}{}{trail}", in_recorded_form(v, live)))
            }
            None => substituted,
        }
    }

    /// Judges a live response to a step's request.
    pub fn judge(
        &mut self,
        step: &Step,
        sent_id: &str,
        resp: &Response,
    ) -> (Vec<Mismatch>, Vec<String>) {
        let live_tree = parse_document(&resp.body, Limits::default());
        self.judge_parsed(step, sent_id, resp, live_tree.as_ref())
    }

    /// [`Run::judge`] with the response body already read as a tree (or the reason it is not
    /// one), for callers that need the tree themselves.
    pub fn judge_parsed(
        &mut self,
        step: &Step,
        sent_id: &str,
        resp: &Response,
        live_tree: Result<&Element, &ParseError>,
    ) -> (Vec<Mismatch>, Vec<String>) {
        let mut mismatches = Vec::new();
        if let Some(rec) = &step.response {
            if rec.status != resp.status {
                mismatches.push(Mismatch {
                    path: "HTTP status".into(),
                    expected: rec.status.to_string(),
                    actual: resp.status.to_string(),
                    note: None,
                });
            }
            for (name, value) in &rec.headers {
                let live = resp.header(name);
                if !same_header(name, value, live) {
                    mismatches.push(Mismatch {
                        path: format!("HTTP header {name}"),
                        expected: value.clone(),
                        actual: live.unwrap_or("(absent)").to_owned(),
                        note: None,
                    });
                }
            }
            match (&rec.tree, live_tree) {
                (Some(expected), Ok(actual)) => {
                    let recorded_id =
                        super::header_text(&step.request_tree, ns::ADDRESSING, "MessageID")
                            .map(|m| key(&m));
                    let cmp = Comparison {
                        relates_to: recorded_id.map(|r| (r, sent_id.to_owned())),
                        ..Comparison::new(&self.scenario.rules, &self.symbols)
                    };
                    mismatches.extend(compare(&cmp, expected, actual, &mut self.bindings));
                }
                (Some(_), Err(e)) => mismatches.push(Mismatch {
                    path: "body".into(),
                    expected: "an XML envelope".into(),
                    actual: if resp.body.is_empty() {
                        "no body".into()
                    } else {
                        format!("not XML: {e}")
                    },
                    note: None,
                }),
                // No recorded body: the status (compared above) is what the recording says.
                (None, _) => {}
            }
        }
        let tree = live_tree.ok();
        let failed = step
            .asserts
            .iter()
            .filter_map(|a| check(a, resp, tree).err())
            .collect();
        if let Some(tree) = tree {
            for c in &step.captures {
                if let Some(v) = c.path.values(tree).into_iter().next() {
                    self.vars.insert(c.name.clone(), v);
                }
            }
        }
        (mismatches, failed)
    }

    /// Runs every step against `to`.
    pub fn run(mut self, to: &mut dyn Exchanger) -> ScenarioResult {
        let url = to.url();
        let mut steps = Vec::with_capacity(self.scenario.steps.len());
        for step in &self.scenario.steps {
            let (body, sent_id) = self.request(step, &url);
            let start = Instant::now();
            let result = to.exchange(body.clone().into_bytes(), &step.request_headers);
            let elapsed = start.elapsed();
            let r = match result {
                Err(e) => StepResult {
                    name: step.name.clone(),
                    line: step.line,
                    verdict: StepVerdict::Error(e.to_string()),
                    mismatches: Vec::new(),
                    failed_assertions: Vec::new(),
                    sent: body,
                    received: String::new(),
                    status: 0,
                    elapsed,
                },
                Ok(resp) => {
                    let (mismatches, failed) = self.judge(step, &sent_id, &resp);
                    let verdict = if mismatches.is_empty() && failed.is_empty() {
                        StepVerdict::Passed
                    } else {
                        StepVerdict::Failed
                    };
                    StepResult {
                        name: step.name.clone(),
                        line: step.line,
                        verdict,
                        mismatches,
                        failed_assertions: failed,
                        sent: body,
                        received: String::from_utf8_lossy(&resp.body).into_owned(),
                        status: resp.status,
                        elapsed,
                    }
                }
            };
            steps.push(r);
        }
        ScenarioResult {
            name: self.scenario.name.clone(),
            file: self.scenario.file.clone(),
            steps,
        }
    }
}

/// Replays a scenario.
pub fn replay(s: &Scenario, to: &mut dyn Exchanger) -> ScenarioResult {
    Run::new(s).run(to)
}

/// `${name}` placeholders replaced by known variables; unknown ones stay as they are (a
/// PowerShell `${env:X}` in a command line is not ours).
pub fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    if !text.contains("${") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) if vars.contains_key(&after[..j]) => {
                out.push_str(&vars[&after[..j]]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Content-Type compares by media type and charset, case-insensitively; other headers by value.
fn same_header(name: &str, expected: &str, live: Option<&str>) -> bool {
    let Some(live) = live else { return false };
    if name.eq_ignore_ascii_case("content-type") {
        let norm = |v: &str| {
            let mut parts: Vec<String> = v
                .split(';')
                .map(|p| p.trim().to_ascii_lowercase().replace(' ', ""))
                .filter(|p| !p.is_empty())
                .collect();
            // Parameters in any order; the media type stays first.
            if let Some(params) = parts.get_mut(1..) {
                params.sort();
            }
            parts
        };
        norm(expected) == norm(live)
    } else {
        expected.trim() == live.trim()
    }
}

fn check(a: &Assertion, resp: &Response, tree: Option<&Element>) -> Result<(), String> {
    let fail = |got: String| Err(format!("expected {a}, got {got}"));
    match a {
        Assertion::Status(s) => {
            if resp.status == *s {
                Ok(())
            } else {
                fail(resp.status.to_string())
            }
        }
        Assertion::Fault(q) => {
            if tree.is_none() {
                return fail("no XML body".into());
            }
            let env = crate::envelope::parse(&resp.body);
            match env.as_ref().ok().and_then(|e| e.fault()) {
                Some(f) => match &f.subcode {
                    Some(s) if s == q => Ok(()),
                    Some(s) => fail(format!("fault {s}")),
                    None => fail("a fault without subcode".into()),
                },
                None => fail("no fault".into()),
            }
        }
        Assertion::Equals(p, v) => {
            let Some(tree) = tree else {
                return fail("no XML body".into());
            };
            match p.values(tree).first() {
                Some(x) if x == v.trim() => Ok(()),
                Some(x) => fail(show_text(x)),
                None => fail("nothing there".into()),
            }
        }
        Assertion::Count(p, n) => {
            let got = tree.map(|t| p.values(t).len()).unwrap_or(0);
            if got == *n {
                Ok(())
            } else {
                fail(got.to_string())
            }
        }
        Assertion::Exists(p, want) => {
            let got = tree.is_some_and(|t| !p.select(t).is_empty());
            if got == *want {
                Ok(())
            } else if got {
                fail("it is there".into())
            } else {
                fail("it is absent".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_substitute_known_names_only() {
        let vars: HashMap<String, String> = [("shell".to_owned(), "S1".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(substitute("a ${shell} b", &vars), "a S1 b");
        assert_eq!(substitute("${env:PATH} ${shell}", &vars), "${env:PATH} S1");
        assert_eq!(substitute("${unclosed", &vars), "${unclosed");
        assert_eq!(substitute("plain", &vars), "plain");
    }

    #[test]
    fn content_types_compare_by_meaning() {
        let ct = "application/soap+xml;charset=UTF-8";
        assert!(same_header(
            "Content-Type",
            ct,
            Some("application/soap+xml; charset=utf-8")
        ));
        assert!(!same_header(
            "Content-Type",
            ct,
            Some("text/xml; charset=utf-8")
        ));
        assert!(!same_header("Content-Type", ct, None));
        assert!(!same_header("Content-Type", ct, Some("")));
        assert!(same_header("Content-Type", "", Some(" ; ")));
    }
}
