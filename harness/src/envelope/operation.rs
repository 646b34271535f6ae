//! Classification of a message by action and body, for summaries and dispatch.

use super::{Body, Envelope};
use crate::ns::action;

/// The operation a message requests or answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A known operation, by its short name (`Get`, `PullResponse`, `Receive`, ...).
    Known(&'static str),
    /// A fault.
    Fault,
    /// An action this model does not name (custom methods, eventing, robust connections).
    Other(String),
    /// No action and no body that identifies the message.
    Unknown,
}

const ACTIONS: &[(&str, &str)] = &[
    (action::GET, "Get"),
    (action::GET_RESPONSE, "GetResponse"),
    (action::PUT, "Put"),
    (action::PUT_RESPONSE, "PutResponse"),
    (action::CREATE, "Create"),
    (action::CREATE_RESPONSE, "CreateResponse"),
    (action::DELETE, "Delete"),
    (action::DELETE_RESPONSE, "DeleteResponse"),
    (action::ENUMERATE, "Enumerate"),
    (action::ENUMERATE_RESPONSE, "EnumerateResponse"),
    (action::PULL, "Pull"),
    (action::PULL_RESPONSE, "PullResponse"),
    (action::RELEASE, "Release"),
    (action::RELEASE_RESPONSE, "ReleaseResponse"),
    (action::COMMAND, "Command"),
    (action::COMMAND_RESPONSE, "CommandResponse"),
    (action::SEND, "Send"),
    (action::SEND_RESPONSE, "SendResponse"),
    (action::RECEIVE, "Receive"),
    (action::RECEIVE_RESPONSE, "ReceiveResponse"),
    (action::SIGNAL, "Signal"),
    (action::SIGNAL_RESPONSE, "SignalResponse"),
];

impl Operation {
    /// Classifies an envelope: a fault body wins, then the action, then the body.
    pub fn of(env: &Envelope) -> Self {
        if matches!(env.body, Body::Fault(_)) {
            return Operation::Fault;
        }
        if let Some(a) = env.action() {
            return match ACTIONS.iter().find(|(u, _)| *u == a) {
                Some((_, name)) => Operation::Known(name),
                None => Operation::Other(a.to_owned()),
            };
        }
        match &env.body {
            Body::Identify(_) => Operation::Known("Identify"),
            Body::IdentifyResponse(_) => Operation::Known("IdentifyResponse"),
            Body::Other(_) | Body::Empty => Operation::Unknown,
            other => Operation::Known(other.kind()),
        }
    }

    /// Short name for display.
    pub fn name(&self) -> &str {
        match self {
            Operation::Known(n) => n,
            Operation::Fault => "Fault",
            Operation::Other(a) => a.rsplit('/').next().unwrap_or(a),
            Operation::Unknown => "Unknown",
        }
    }
}
