//! Message and resource identifiers as WinRM writes them.

use uuid::Uuid;

/// A new MessageID in the Windows form: `uuid:` + upper-case UUID (MS-WSMV 3.1.4.1.5).
pub fn new_message_id() -> String {
    format_message_id(random_uuid())
}

/// A random (version 4) UUID from a per-thread generator seeded once from the operating
/// system. Every answer the server writes carries a fresh MessageID, and a system call per id
/// was a measurable part of answering; MessageIDs and shell ids must be unique, not secret.
pub fn random_uuid() -> Uuid {
    thread_local! {
        static RNG: std::cell::RefCell<fastrand::Rng> = std::cell::RefCell::new({
            let mut seed = [0u8; 8];
            match getrandom::fill(&mut seed) {
                Ok(()) => fastrand::Rng::with_seed(u64::from_le_bytes(seed)),
                // fastrand's own seed (time and thread) still gives distinct sequences.
                Err(_) => fastrand::Rng::new(),
            }
        });
    }
    let bits = RNG.with(|r| r.borrow_mut().u128(..));
    uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid()
}

/// A MessageID for a given UUID: `uuid:` + upper-case hyphenated form.
pub fn format_message_id(u: Uuid) -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let mut s = String::with_capacity(5 + buf.len());
    s.push_str("uuid:");
    s.push_str(u.hyphenated().encode_upper(&mut buf));
    s
}

/// The UUID inside a MessageID-like value (`uuid:...` or a bare UUID), in any letter case.
pub fn parse_uuid(value: &str) -> Option<Uuid> {
    let v = value.trim();
    let bare = v
        .strip_prefix("uuid:")
        .or_else(|| v.strip_prefix("urn:uuid:"))
        .unwrap_or(v);
    Uuid::parse_str(bare).ok()
}

/// True when the value looks like a GUID-based identifier (MessageID, ShellId, CommandId, ...),
/// which the scenario engine normalises.
pub fn is_guid_like(value: &str) -> bool {
    parse_uuid(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_round_trip_in_windows_form() {
        let id = new_message_id();
        assert!(id.starts_with("uuid:"));
        assert_eq!(id.len(), 41);
        assert_eq!(id[5..], id[5..].to_ascii_uppercase());
        let u = parse_uuid(&id).unwrap();
        assert_eq!(format_message_id(u), id);
    }

    #[test]
    fn lower_case_and_bare_forms_are_read() {
        let u = parse_uuid("uuid:11111111-1111-1111-1111-111111111111").unwrap();
        assert_eq!(parse_uuid("11111111-1111-1111-1111-111111111111"), Some(u));
        assert_eq!(
            parse_uuid("urn:uuid:11111111-1111-1111-1111-111111111111"),
            Some(u)
        );
        assert!(!is_guid_like("uuid:not-a-guid"));
        assert_ne!(new_message_id(), new_message_id());
    }
}
