//! SOAP 1.2 faults with the WS-Management detail and the Windows `f:WSManFault` element
//! (SOAP 1.2 part 1 §5.4; DSP0226 §14; MS-WSMV 2.2.4.43).

use super::part::{Part, scoped};
use crate::ns;
use crate::xml::{Attribute, Element, Node, QName, resolve};

fn soap(local: &'static str) -> QName {
    QName::new(ns::SOAP, local)
}

/// `s:Fault`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// `s:Code/s:Value`: Sender, Receiver, MustUnderstand, VersionMismatch, DataEncodingUnknown.
    pub code: QName,
    /// `s:Code/s:Subcode/s:Value`, e.g. `w:TimedOut` (absent for MustUnderstand).
    pub subcode: Option<QName>,
    /// `s:Reason/s:Text`, one per language.
    pub reasons: Vec<Reason>,
    /// `s:Node`.
    pub node: Option<String>,
    /// `s:Role`.
    pub role: Option<String>,
    /// `s:Detail`, kept whole: its content varies (FaultDetail URI, WSManFault, MSFT_WmiError).
    pub detail: Option<Element>,
}

/// One `s:Reason/s:Text`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reason {
    /// `xml:lang` (Windows sometimes writes it empty).
    pub lang: Option<String>,
    /// The text, untrimmed (Windows pads it).
    pub text: String,
}

/// The Windows `f:WSManFault` inside a detail, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsmanFault {
    /// `Code`: a Win32 error, a FACILITY_WINRM HRESULT (0x8033xxxx) or a provider code.
    pub code: String,
    /// `Machine`.
    pub machine: Option<String>,
    /// `f:Message` text, including the text of a nested ProviderFault.
    pub message: Option<String>,
}

impl Fault {
    /// `wsman:FaultDetail` URI from the detail.
    pub fn fault_detail(&self) -> Option<String> {
        self.detail
            .as_ref()?
            .find(ns::WSMAN, "FaultDetail")
            .map(|e| e.text().trim().to_owned())
    }

    /// The first `f:WSManFault` in the detail.
    pub fn wsman_fault(&self) -> Option<WsmanFault> {
        let f = self.detail.as_ref()?.find(ns::WSMAN_FAULT, "WSManFault")?;
        Some(WsmanFault {
            code: f
                .attr_value("", "Code")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            machine: f.attr_value("", "Machine").map(str::to_owned),
            message: f
                .find(ns::WSMAN_FAULT, "Message")
                .map(|m| m.deep_text().trim().to_owned()),
        })
    }

    /// The first reason text.
    pub fn reason(&self) -> Option<&str> {
        self.reasons.first().map(|r| r.text.as_str())
    }

    fn value_element(name: &QName) -> Element {
        let mut v = Element::new(soap("Value"));
        if name.ns.is_empty() {
            v.children.push(Node::Text(name.local.to_string()));
            return v;
        }
        let p = ns::windows_prefix(&name.ns).unwrap_or("sc");
        v.ns_decls.push((p.to_owned(), name.ns.to_string()));
        v.children.push(Node::Text(format!("{p}:{}", name.local)));
        v
    }
}

/// Resolves the QName text of an `s:Value`, given the scope down to it.
fn read_value(parent: &Element, scope: &mut Vec<(String, String)>) -> Option<QName> {
    let v = parent.find(ns::SOAP, "Value")?;
    let mark = scope.len();
    scope.extend(v.ns_decls.iter().cloned());
    let q = resolve(&v.text(), scope);
    scope.truncate(mark);
    q
}

/// A `s:Code` or `s:Subcode` value whose prefix is not declared, if any. Such a value has no
/// meaning (SOAP 1.2 part 1 §5.4.6: the value is a QName), so the parser refuses the envelope
/// rather than guess.
pub(crate) fn unresolved_value(e: &Element, scope: &[(String, String)]) -> Option<String> {
    let mut scope = scope.to_vec();
    scope.extend(e.ns_decls.iter().cloned());
    let mut level = e.find(ns::SOAP, "Code")?;
    loop {
        scope.extend(level.ns_decls.iter().cloned());
        if let Some(v) = level.find(ns::SOAP, "Value") {
            let mark = scope.len();
            scope.extend(v.ns_decls.iter().cloned());
            let text = v.text();
            if text.contains(':') && resolve(&text, &scope).is_none() {
                return Some(text.trim().to_owned());
            }
            scope.truncate(mark);
        }
        level = level.find(ns::SOAP, "Subcode")?;
    }
}

impl Part for Fault {
    fn read(e: &Element, body_scope: &[(String, String)]) -> Option<Self> {
        e.name.is(ns::SOAP, "Fault").then_some(())?;
        let mut scope = body_scope.to_vec();
        scope.extend(e.ns_decls.iter().cloned());
        let code_el = e.find(ns::SOAP, "Code")?;
        scope.extend(code_el.ns_decls.iter().cloned());
        let code = read_value(code_el, &mut scope)?;
        let subcode = match code_el.find(ns::SOAP, "Subcode") {
            Some(s) => {
                scope.extend(s.ns_decls.iter().cloned());
                Some(read_value(s, &mut scope)?)
            }
            None => None,
        };
        let reasons = e
            .find(ns::SOAP, "Reason")
            .map(|r| {
                r.elements()
                    .map(|t| Reason {
                        lang: t.attr_value(ns::XML, "lang").map(str::to_owned),
                        text: t.text(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            code,
            subcode,
            reasons,
            node: e.find(ns::SOAP, "Node").map(Element::text),
            role: e.find(ns::SOAP, "Role").map(Element::text),
            detail: e.find(ns::SOAP, "Detail").map(|d| scoped(d, e, body_scope)),
        })
    }

    fn to_element(&self) -> Element {
        let mut code = Element::new(soap("Code")).child(Self::value_element(&self.code));
        if let Some(s) = &self.subcode {
            code = code.child(Element::new(soap("Subcode")).child(Self::value_element(s)));
        }
        let mut reason = Element::new(soap("Reason"));
        for r in &self.reasons {
            let mut t = Element::with_text(soap("Text"), r.text.clone());
            if let Some(l) = &r.lang {
                t.attrs
                    .push(Attribute::qualified(QName::new(ns::XML, "lang"), l.clone()));
            }
            reason.children.push(Node::Element(t));
        }
        let mut f = Element::new(soap("Fault")).child(code).child(reason);
        if let Some(n) = &self.node {
            f = f.child(Element::with_text(soap("Node"), n.clone()));
        }
        if let Some(r) = &self.role {
            f = f.child(Element::with_text(soap("Role"), r.clone()));
        }
        if let Some(d) = &self.detail {
            f = f.child(d.clone());
        }
        f
    }
}
