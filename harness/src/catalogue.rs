//! The fault catalogue: every fault subcode and every WinRM fault condition, from the embedded
//! data file `data/faults.toml`, and a builder that turns any entry into a Windows-shaped fault
//! envelope.
//!
//! The reference server answers from this table and the conformance checks judge by it, so the
//! two can never disagree on a code.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::envelope::{Body, Envelope, Fault, Header, HeaderBlock, Reason, Text};
use crate::ids;
use crate::ns;
use crate::xml::{Attribute, Element, QName};

const DATA: &str = include_str!("../data/faults.toml");

/// The HTTP status Windows sends with every SOAP fault, Sender faults included (WIRE: every
/// pypsrp fault fixture records 500).
pub const WINDOWS_FAULT_STATUS: u16 = 500;

/// One fault subcode.
#[derive(Clone, Debug)]
pub struct SubcodeEntry {
    /// The subcode (for the SOAP codes without subcode: the code itself).
    pub name: QName,
    /// The name with the prefix Windows writes, e.g. `w:TimedOut`.
    pub prefixed: String,
    /// The SOAP `Code` value (Sender, Receiver, MustUnderstand, ...).
    pub code: QName,
    /// Detail URIs that may accompany it (full URIs).
    pub details: Vec<String>,
    /// The Windows WSManFault code, where Windows has one.
    pub windows_code: Option<u32>,
    /// The `wsa:Action` of the fault message.
    pub action: &'static str,
    /// HTTP status Windows uses.
    pub http_status: u16,
    /// Reason text.
    pub reason: String,
    /// Where the facts come from.
    pub source: String,
}

/// A concrete fault condition of a WinRM service.
#[derive(Clone, Debug)]
pub struct Condition {
    /// Stable identifier, e.g. `quota-max-shells`.
    pub id: String,
    /// Index of the subcode in [`Catalogue::subcodes`].
    subcode: usize,
    /// Full detail URI, if any.
    pub detail: Option<String>,
    /// The WSManFault code.
    pub windows_code: Option<u32>,
    /// HTTP status.
    pub http_status: u16,
    /// WSManFault message and reason text.
    pub message: String,
    /// Where the facts come from.
    pub source: String,
}

/// The whole catalogue.
#[derive(Debug)]
pub struct Catalogue {
    /// Subcodes in file order.
    pub subcodes: Vec<SubcodeEntry>,
    /// Conditions in file order.
    pub conditions: Vec<Condition>,
}

/// Who and what a fault answers: the request's MessageID and the machine name to report.
#[derive(Clone, Debug, Default)]
pub struct FaultContext<'a> {
    /// The request's MessageID, copied into RelatesTo.
    pub relates_to: Option<&'a str>,
    /// `WSManFault/@Machine`.
    pub machine: &'a str,
    /// Replaces the catalogue message (e.g. to name the offending value).
    pub message: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    subcode: Vec<RawSubcode>,
    condition: Vec<RawCondition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubcode {
    name: String,
    code: String,
    #[serde(default)]
    details: Vec<String>,
    windows_code: Option<u32>,
    http_status: Option<u16>,
    reason: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    id: String,
    subcode: String,
    detail: Option<String>,
    windows_code: Option<u32>,
    http_status: Option<u16>,
    message: String,
    source: String,
}

/// The embedded catalogue (parsed once; its validity is checked by the unit tests).
pub fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        Catalogue::parse(DATA).unwrap_or_else(|e| panic!("embedded faults.toml: {e}"))
    })
}

/// Resolves a Windows-prefixed name such as `w:TimedOut`.
fn windows_qname(prefixed: &str) -> Result<QName, String> {
    let (p, local) = prefixed
        .split_once(':')
        .ok_or_else(|| format!("'{prefixed}' has no prefix"))?;
    let uri = ns::WINDOWS_PREFIXES
        .iter()
        .find(|(q, _)| *q == p)
        .map(|(_, u)| *u)
        .ok_or_else(|| format!("unknown prefix '{p}' in '{prefixed}'"))?;
    Ok(QName::owned(uri, local))
}

fn fault_action(name: &QName) -> &'static str {
    match name.ns.as_ref() {
        ns::WSMAN => ns::action::FAULT_WSMAN,
        ns::ENUMERATION => ns::action::FAULT_ENUMERATION,
        ns::TRANSFER => ns::action::FAULT_TRANSFER,
        ns::EVENTING => ns::action::FAULT_EVENTING,
        _ => ns::action::FAULT_ADDRESSING,
    }
}

impl Catalogue {
    /// Parses catalogue text; errors name the row.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut subcodes = Vec::new();
        for r in raw.subcode {
            let name = windows_qname(&r.name)?;
            let code = QName::owned(ns::SOAP, &r.code);
            if ![
                "Sender",
                "Receiver",
                "MustUnderstand",
                "VersionMismatch",
                "DataEncodingUnknown",
            ]
            .contains(&r.code.as_str())
            {
                return Err(format!("{}: unknown SOAP code '{}'", r.name, r.code));
            }
            subcodes.push(SubcodeEntry {
                action: fault_action(&name),
                prefixed: r.name,
                name,
                code,
                details: r
                    .details
                    .iter()
                    .map(|d| format!("{}{d}", ns::FAULT_DETAIL))
                    .collect(),
                windows_code: r.windows_code,
                http_status: r.http_status.unwrap_or(WINDOWS_FAULT_STATUS),
                reason: r.reason,
                source: r.source,
            });
        }
        let mut conditions = Vec::new();
        for r in raw.condition {
            let subcode = subcodes
                .iter()
                .position(|s| s.prefixed == r.subcode)
                .ok_or_else(|| format!("condition {}: unknown subcode {}", r.id, r.subcode))?;
            let detail = r.detail.map(|d| format!("{}{d}", ns::FAULT_DETAIL));
            if let Some(d) = &detail
                && !subcodes[subcode].details.contains(d)
            {
                return Err(format!(
                    "condition {}: detail {d} is not listed for {}",
                    r.id, r.subcode
                ));
            }
            if conditions.iter().any(|c: &Condition| c.id == r.id) {
                return Err(format!("condition {} is listed twice", r.id));
            }
            conditions.push(Condition {
                id: r.id,
                subcode,
                detail,
                windows_code: r.windows_code,
                http_status: r.http_status.unwrap_or(WINDOWS_FAULT_STATUS),
                message: r.message,
                source: r.source,
            });
        }
        Ok(Self {
            subcodes,
            conditions,
        })
    }

    /// The entry for a subcode (or SOAP code for MustUnderstand/VersionMismatch).
    pub fn subcode(&self, name: &QName) -> Option<&SubcodeEntry> {
        self.subcodes.iter().find(|s| s.name == *name)
    }

    /// The entry that describes a fault: its subcode, or its code when it has none.
    pub fn entry_for(&self, fault: &Fault) -> Option<&SubcodeEntry> {
        self.subcode(fault.subcode.as_ref().unwrap_or(&fault.code))
    }

    /// A condition by id.
    pub fn condition(&self, id: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.id == id)
    }

    /// The subcode entry of a condition.
    pub fn subcode_of(&self, c: &Condition) -> &SubcodeEntry {
        &self.subcodes[c.subcode]
    }

    /// Conditions with a given Windows code.
    pub fn by_windows_code(&self, code: u32) -> impl Iterator<Item = &Condition> {
        self.conditions
            .iter()
            .filter(move |c| c.windows_code == Some(code))
    }

    /// A Windows-shaped fault envelope for a condition.
    pub fn condition_envelope(&self, c: &Condition, ctx: &FaultContext<'_>) -> Envelope {
        let entry = self.subcode_of(c);
        build(entry, c.detail.as_deref(), c.windows_code, &c.message, ctx)
    }
}

impl SubcodeEntry {
    /// The Windows code as `0x8033XXXX`.
    pub fn windows_code_hex(&self) -> Option<String> {
        self.windows_code.map(|c| format!("0x{c:08X}"))
    }

    /// A Windows-shaped fault envelope for this subcode.
    pub fn envelope(&self, detail: Option<&str>, ctx: &FaultContext<'_>) -> Envelope {
        build(self, detail, self.windows_code, &self.reason, ctx)
    }

    /// True for the SOAP codes that carry no subcode.
    pub fn is_bare_code(&self) -> bool {
        self.name.ns == ns::SOAP
    }
}

/// Builds the envelope Windows sends: fault action, new MessageID, anonymous To, RelatesTo; a
/// Code/Subcode, an `en-US` reason, and a detail with FaultDetail and `f:WSManFault`.
fn build(
    entry: &SubcodeEntry,
    detail: Option<&str>,
    windows_code: Option<u32>,
    default_message: &str,
    ctx: &FaultContext<'_>,
) -> Envelope {
    let message = ctx.message.unwrap_or(default_message);
    let mut header = Header::default()
        .with(HeaderBlock::Action(Text::new(entry.action)))
        .with(HeaderBlock::MessageId(Text::new(ids::new_message_id())))
        .with(HeaderBlock::To(Text::new(ns::ANONYMOUS)));
    if let Some(r) = ctx.relates_to {
        header.set(HeaderBlock::RelatesTo(Text::new(r)));
    }
    let mut det = Element::new(QName::new(ns::SOAP, "Detail"));
    if let Some(d) = detail {
        det = det.child(Element::with_text(QName::new(ns::WSMAN, "FaultDetail"), d));
    }
    if let Some(code) = windows_code {
        let mut wf = Element::new(QName::new(ns::WSMAN_FAULT, "WSManFault"))
            .attr(Attribute::plain("Code", code.to_string()))
            .attr(Attribute::plain("Machine", ctx.machine))
            .child(Element::with_text(
                QName::new(ns::WSMAN_FAULT, "Message"),
                message,
            ));
        wf.prefix = Some("f".into());
        wf.ns_decls.push(("f".into(), ns::WSMAN_FAULT.into()));
        det = det.child(wf);
    }
    let fault = Fault {
        code: entry.code.clone(),
        subcode: (!entry.is_bare_code()).then(|| entry.name.clone()),
        reasons: vec![Reason {
            lang: Some("en-US".into()),
            text: message.to_owned(),
        }],
        node: None,
        role: None,
        detail: (!det.children.is_empty()).then_some(det),
    };
    let mut env = Envelope::new(header, Body::Fault(fault));
    env.attrs
        .push(Attribute::qualified(QName::new(ns::XML, "lang"), "en-US"));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_is_valid_and_complete() {
        let c = Catalogue::parse(DATA).unwrap();
        assert!(c.subcodes.len() >= 40, "{} subcodes", c.subcodes.len());
        for name in [
            "w:TimedOut",
            "w:EncodingLimit",
            "w:QuotaLimit",
            "a:DestinationUnreachable",
            "n:InvalidEnumerationContext",
            "x:InvalidRepresentation",
            "s:MustUnderstand",
            "e:InvalidMessage",
        ] {
            assert!(
                c.subcodes.iter().any(|s| s.prefixed == name),
                "{name} missing"
            );
        }
        let names: std::collections::HashSet<_> = c.subcodes.iter().map(|s| &s.name).collect();
        assert_eq!(names.len(), c.subcodes.len(), "duplicate subcode rows");
    }

    #[test]
    fn actions_follow_the_subcode_family() {
        let c = catalogue();
        let action = |n: &str| c.subcodes.iter().find(|s| s.prefixed == n).unwrap().action;
        assert_eq!(action("w:TimedOut"), ns::action::FAULT_WSMAN);
        assert_eq!(action("a:ActionNotSupported"), ns::action::FAULT_ADDRESSING);
        assert_eq!(action("s:MustUnderstand"), ns::action::FAULT_ADDRESSING);
        assert_eq!(action("n:TimedOut"), ns::action::FAULT_ENUMERATION);
        assert_eq!(
            action("x:InvalidRepresentation"),
            ns::action::FAULT_TRANSFER
        );
    }

    #[test]
    fn windows_codes_print_in_hex() {
        let e = catalogue()
            .subcode(&QName::new(ns::WSMAN, "TimedOut"))
            .unwrap();
        assert_eq!(e.windows_code, Some(2_150_858_793));
        assert_eq!(e.windows_code_hex().as_deref(), Some("0x80338029"));
    }

    #[test]
    fn bad_rows_are_refused_with_the_row_named() {
        let bad = "[[subcode]]\nname=\"w:X\"\ncode=\"Nope\"\nreason=\"r\"\nsource=\"s\"\n[[condition]]\nid=\"c\"\nsubcode=\"w:X\"\nmessage=\"m\"\nsource=\"s\"\n";
        assert!(Catalogue::parse(bad).unwrap_err().contains("w:X"));
        let bad =
            "subcode = []\n[[condition]]\nid=\"c\"\nsubcode=\"w:Y\"\nmessage=\"m\"\nsource=\"s\"\n";
        assert!(Catalogue::parse(bad).unwrap_err().contains("condition c"));
    }
}
