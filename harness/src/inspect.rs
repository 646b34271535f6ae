//! One-line summaries of envelopes: what `wsman-harness inspect` prints.

use std::fmt;

use serde::Serialize;

use crate::envelope::{Body, Envelope, SelectorValue};

/// What a message is, in a few fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Operation name (`Get`, `PullResponse`, `Fault`, ...).
    pub operation: String,
    /// `wsa:Action`.
    pub action: Option<String>,
    /// `wsman:ResourceURI`.
    pub resource_uri: Option<String>,
    /// Selectors as `(name, value)`; embedded EPRs are shown as `<EPR>`.
    pub selectors: Vec<(String, String)>,
    /// `wsa:MessageID`.
    pub message_id: Option<String>,
    /// `wsa:RelatesTo`.
    pub relates_to: Option<String>,
    /// The fault subcode (or code), with Windows prefixes.
    pub fault_subcode: Option<String>,
    /// The `f:WSManFault` code.
    pub fault_code: Option<String>,
    /// Number of enumeration items carried.
    pub items: Option<usize>,
    /// Kind of body (`Shell`, `ReceiveResponse`, `other`, ...).
    pub body: String,
}

/// Summarises an envelope.
pub fn summarize(env: &Envelope) -> Summary {
    let h = env.header();
    let fault = env.fault();
    Summary {
        operation: env.operation().name().to_owned(),
        action: h.action().map(str::to_owned),
        resource_uri: h.resource_uri().map(str::to_owned),
        selectors: h
            .selector_set()
            .map(|s| {
                s.selectors
                    .iter()
                    .map(|x| {
                        let v = match &x.value {
                            SelectorValue::Text(t) => t.clone(),
                            SelectorValue::Element(_) => "<EPR>".into(),
                        };
                        (x.name.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        message_id: h.message_id().map(str::to_owned),
        relates_to: h.relates_to().map(str::to_owned),
        fault_subcode: fault.map(|f| f.subcode.as_ref().unwrap_or(&f.code).to_string()),
        fault_code: fault.and_then(|f| f.wsman_fault()).map(|w| w.code),
        items: match &env.body {
            Body::EnumerateResponse(r) => Some(r.0.item_count()),
            Body::PullResponse(r) => Some(r.0.item_count()),
            _ => None,
        },
        body: env.body.kind().to_owned(),
    }
}

/// Keeps a summary on one line whatever the values hold.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        std::borrow::Cow::Owned(s.escape_debug().to_string())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.operation)?;
        if let Some(a) = &self.action {
            write!(f, " action={}", one_line(a))?;
        }
        if let Some(r) = &self.resource_uri {
            write!(f, " resource={}", one_line(r))?;
        }
        if !self.selectors.is_empty() {
            let s: Vec<String> = self
                .selectors
                .iter()
                .map(|(n, v)| format!("{}={}", one_line(n), one_line(v)))
                .collect();
            write!(f, " selectors={}", s.join(","))?;
        }
        if let Some(m) = &self.message_id {
            write!(f, " id={}", one_line(m))?;
        }
        if let Some(r) = &self.relates_to {
            write!(f, " relates-to={}", one_line(r))?;
        }
        if let Some(s) = &self.fault_subcode {
            write!(f, " fault={s}")?;
        }
        if let Some(c) = &self.fault_code {
            write!(f, " wsman-code={}", one_line(c))?;
        }
        if let Some(n) = self.items {
            write!(f, " items={n}")?;
        }
        write!(f, " body={}", self.body)
    }
}
