//! Correlation values as named symbols.
//!
//! A recorded exchange is full of values that change on every run (MessageIDs, ShellIds,
//! enumeration contexts) but must stay consistent within a run. Each distinct recorded value
//! becomes a symbol named after where it was first seen (`ShellId#1`); a replay binds each
//! symbol to the value the live peer used and checks every later use against that binding.

use std::collections::HashMap;

use crate::ids;
use crate::ns;
use crate::xml::{Element, Node, QName};

/// What a correlation value identifies, for naming its symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `a:MessageID` / `a:RelatesTo`.
    MessageId,
    /// A shell (`rsp:ShellId`, the `ShellId` selector).
    ShellId,
    /// A command (`rsp:CommandId`, `CommandId` attributes).
    CommandId,
    /// `p:SessionId`.
    SessionId,
    /// `p:OperationID`.
    OperationId,
    /// `p:ActivityId`.
    ActivityId,
    /// `n:EnumerationContext`.
    EnumerationContext,
    /// Any other GUID-shaped value.
    Guid,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::MessageId => "MessageID",
            Kind::ShellId => "ShellId",
            Kind::CommandId => "CommandId",
            Kind::SessionId => "SessionId",
            Kind::OperationId => "OperationID",
            Kind::ActivityId => "ActivityId",
            Kind::EnumerationContext => "EnumerationContext",
            Kind::Guid => "Guid",
        }
    }
}

/// The kind of the text of an element, when it is a correlation value by its name alone.
pub fn element_kind(name: &QName, selector_name: Option<&str>) -> Option<Kind> {
    let local = name.local.as_ref();
    match name.ns.as_ref() {
        ns::ADDRESSING if matches!(local, "MessageID" | "RelatesTo") => Some(Kind::MessageId),
        ns::SHELL if local == "ShellId" => Some(Kind::ShellId),
        ns::SHELL if local == "CommandId" => Some(Kind::CommandId),
        ns::WSMAN_MS if local == "SessionId" => Some(Kind::SessionId),
        ns::WSMAN_MS if local == "OperationID" => Some(Kind::OperationId),
        ns::WSMAN_MS if local == "ActivityId" => Some(Kind::ActivityId),
        ns::ENUMERATION if local == "EnumerationContext" => Some(Kind::EnumerationContext),
        ns::WSMAN if local == "Selector" => match selector_name {
            Some("ShellId") => Some(Kind::ShellId),
            Some("CommandId") => Some(Kind::CommandId),
            _ => None,
        },
        _ => None,
    }
}

/// The kind of an attribute value, when it is a correlation value by its name alone.
pub fn attribute_kind(name: &QName) -> Option<Kind> {
    (name.ns.is_empty() && name.local == "CommandId").then_some(Kind::CommandId)
}

/// The identity of a value: GUIDs compare without `uuid:` and letter case, others verbatim.
pub fn key(value: &str) -> String {
    key_of(value).into_owned()
}

/// [`key`], borrowing the value when it is not a UUID (lookups need no copy).
fn key_of(value: &str) -> std::borrow::Cow<'_, str> {
    match ids::parse_uuid(value) {
        Some(u) => u.hyphenated().to_string().into(),
        None => value.trim().into(),
    }
}

/// True for the all-ones UUID pywinrm's test data puts in place of every real id: a value
/// that says nothing about correlation.
pub fn is_sanitised_placeholder(value: &str) -> bool {
    key(value) == "11111111-1111-1111-1111-111111111111"
}

/// Symbol index.
pub type SymbolId = usize;

/// The recorded side's symbol table.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    by_key: HashMap<String, SymbolId>,
    names: Vec<String>,
    counters: HashMap<Kind, usize>,
}

impl Symbols {
    /// The symbol of a recorded value, if it is one.
    pub fn lookup(&self, value: &str) -> Option<SymbolId> {
        if value.trim().is_empty() {
            return None;
        }
        self.by_key.get(key_of(value).as_ref()).copied()
    }

    /// A symbol's name, `ShellId#1`.
    pub fn name(&self, id: SymbolId) -> &str {
        &self.names[id]
    }

    /// Registers a value under a kind (a value already known keeps its first symbol).
    pub fn intern(&mut self, kind: Kind, value: &str) -> SymbolId {
        let k = key(value);
        if let Some(id) = self.by_key.get(&k) {
            return *id;
        }
        let n = self.counters.entry(kind).or_default();
        *n += 1;
        let id = self.names.len();
        self.names.push(format!("{}#{n}", kind.label()));
        self.by_key.insert(k, id);
        id
    }

    /// Registers a value under an explicit name (a scenario's capture); a value already known
    /// is renamed so reports use the scenario's word for it.
    pub fn intern_named(&mut self, name: &str, value: &str) -> SymbolId {
        let k = key(value);
        if let Some(id) = self.by_key.get(&k) {
            self.names[*id] = name.to_owned();
            return *id;
        }
        let id = self.names.len();
        self.names.push(name.to_owned());
        self.by_key.insert(k, id);
        id
    }

    /// Learns every correlation value of a recorded message. `skip` holds keys that are not
    /// symbols here (a request's own MessageID: replay sends a fresh one every time).
    pub fn learn(&mut self, root: &Element, skip_message_id: bool) {
        self.walk(root, skip_message_id);
    }

    fn walk(&mut self, e: &Element, skip_message_id: bool) {
        let selector = e.attr_value("", "Name");
        let text = e.text();
        if e.is_simple() && !text.trim().is_empty() {
            let own_message_id = skip_message_id && e.name.is(ns::ADDRESSING, "MessageID");
            match element_kind(&e.name, selector) {
                Some(_) if own_message_id => {}
                Some(k) => {
                    self.intern(k, &text);
                }
                None if ids::is_guid_like(&text) => {
                    self.intern(Kind::Guid, &text);
                }
                None => {}
            }
        }
        for a in &e.attrs {
            match attribute_kind(&a.name) {
                Some(k) if !a.value.trim().is_empty() => {
                    self.intern(k, &a.value);
                }
                _ if ids::is_guid_like(&a.value) => {
                    self.intern(Kind::Guid, &a.value);
                }
                _ => {}
            }
        }
        for c in &e.children {
            if let Node::Element(c) = c {
                self.walk(c, skip_message_id);
            }
        }
    }
}

/// What each symbol stands for in one live run.
#[derive(Clone, Debug, Default)]
pub struct Bindings {
    actual: HashMap<SymbolId, String>,
    reverse: HashMap<String, SymbolId>,
}

impl Bindings {
    /// The live value of a symbol.
    pub fn get(&self, id: SymbolId) -> Option<&str> {
        self.actual.get(&id).map(String::as_str)
    }

    /// Checks a live value against a symbol, binding it on first use. The error says what the
    /// symbol (or the value) was bound to before.
    pub fn bind(&mut self, symbols: &Symbols, id: SymbolId, value: &str) -> Result<(), String> {
        let k = key(value);
        if let Some(before) = self.actual.get(&id) {
            return if key(before) == k {
                Ok(())
            } else {
                Err(format!(
                    "{} stood for {before:?} earlier in this run",
                    symbols.name(id)
                ))
            };
        }
        if let Some(other) = self.reverse.get(&k)
            && *other != id
        {
            return Err(format!(
                "{value:?} already stands for {}, a different value in the recording",
                symbols.name(*other)
            ));
        }
        self.actual.insert(id, value.trim().to_owned());
        self.reverse.insert(k, id);
        Ok(())
    }

    /// Binds a symbol to a value, replacing an earlier binding (values a replay chooses itself).
    pub fn set(&mut self, id: SymbolId, value: &str) {
        if let Some(old) = self.actual.insert(id, value.trim().to_owned()) {
            self.reverse.remove(&key(&old));
        }
        self.reverse.insert(key(value), id);
    }
}

/// Replaces a recorded value by its live counterpart in the recorded form (`uuid:` prefix and
/// letter case of the original kept when both are GUIDs).
pub fn in_recorded_form(recorded: &str, live: &str) -> String {
    match (ids::parse_uuid(recorded), ids::parse_uuid(live)) {
        (Some(_), Some(u)) => {
            let r = recorded.trim();
            let bare = r.strip_prefix("uuid:").unwrap_or(r);
            let mut s = u.hyphenated().to_string();
            if bare.chars().any(|c| c.is_ascii_uppercase()) {
                s = s.to_ascii_uppercase();
            }
            if r.starts_with("uuid:") {
                format!("uuid:{s}")
            } else if r.starts_with("urn:uuid:") {
                format!("urn:uuid:{s}")
            } else {
                s
            }
        }
        _ => live.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_get_kinded_names_and_keep_identity_across_forms() {
        let mut s = Symbols::default();
        let a = s.intern(Kind::ShellId, "4C7F3BB5-B508-4F20-9B6E-C8980CFCADCA");
        let b = s.intern(Kind::Guid, "uuid:4c7f3bb5-b508-4f20-9b6e-c8980cfcadca");
        assert_eq!(a, b);
        assert_eq!(s.name(a), "ShellId#1");
        let c = s.intern(Kind::ShellId, "11111111-1111-1111-1111-111111111111");
        assert_eq!(s.name(c), "ShellId#2");
        assert_eq!(s.lookup("UUID-not"), None);
    }

    #[test]
    fn bindings_refuse_inconsistent_use() {
        let mut s = Symbols::default();
        let one = s.intern(Kind::ShellId, "A1");
        let two = s.intern(Kind::ShellId, "A2");
        let mut b = Bindings::default();
        b.bind(&s, one, "X").unwrap();
        b.bind(&s, one, "X").unwrap();
        let e = b.bind(&s, one, "Y").unwrap_err();
        assert!(e.contains("ShellId#1 stood for \"X\""), "{e}");
        let e = b.bind(&s, two, "X").unwrap_err();
        assert!(e.contains("already stands for ShellId#1"), "{e}");
    }

    #[test]
    fn live_values_take_the_recorded_form() {
        let live = "uuid:0a0b0c0d-0000-4000-8000-000000000001";
        assert_eq!(
            in_recorded_form("4C7F3BB5-B508-4F20-9B6E-C8980CFCADCA", live),
            "0A0B0C0D-0000-4000-8000-000000000001"
        );
        assert_eq!(
            in_recorded_form(
                "uuid:11111111-1111-1111-1111-111111111111",
                "0a0b0c0d-0000-4000-8000-000000000001"
            ),
            "uuid:0a0b0c0d-0000-4000-8000-000000000001"
        );
        assert_eq!(in_recorded_form("ctx-1", "ctx-9"), "ctx-9");
    }
}
