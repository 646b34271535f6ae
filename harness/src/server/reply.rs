//! Response envelopes as Windows shapes them: Action, MessageID (`uuid:` upper case), To the
//! anonymous role, RelatesTo the request's MessageID.

use crate::catalogue::{FaultContext, catalogue};
use crate::envelope::{Body, Envelope, Header, HeaderBlock, Text};
use crate::ids::new_message_id;
use crate::ns;
use crate::xml::{Attribute, QName};

/// A response to a request with `relates_to` as its MessageID.
pub fn response(action: &str, relates_to: Option<&str>, body: Body) -> Envelope {
    let mut h = Header::default()
        .with(HeaderBlock::Action(Text::new(action)))
        .with(HeaderBlock::MessageId(Text::new(new_message_id())))
        .with(HeaderBlock::To(Text::new(ns::ANONYMOUS)));
    if let Some(r) = relates_to {
        h.set(HeaderBlock::RelatesTo(Text::new(r)));
    }
    let mut env = Envelope::new(h, body);
    env.attrs
        .push(Attribute::qualified(QName::new(ns::XML, "lang"), "en-US"));
    env
}

/// A fault for a catalogue condition, with HTTP status.
pub fn fault(
    condition: &str,
    relates_to: Option<&str>,
    machine: &str,
    message: Option<&str>,
) -> (u16, Envelope) {
    let cat = catalogue();
    // Server code names conditions by literal id; a test checks each exists. Should one not,
    // the client still gets a well-formed internal error rather than a dropped connection.
    let Some(c) = cat
        .condition(condition)
        .or_else(|| cat.condition("internal-error"))
    else {
        return (
            500,
            response(ns::action::FAULT_WSMAN, relates_to, Body::Empty),
        );
    };
    let ctx = FaultContext {
        relates_to,
        machine,
        message,
    };
    (c.http_status, cat.condition_envelope(c, &ctx))
}
