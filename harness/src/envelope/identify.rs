//! Identify (DSP0226 §11, MS-WSMV 3.1.4.1.23): the one operation with no Action header.

use std::borrow::Cow;

use super::part::{Part, child_text, push_text, scoped};
use crate::ns;
use crate::xml::{Element, Node, QName};

/// `wsmid:Identify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identify {
    /// The identify namespace as written: the wire spelling, or MS-WSMV's `identify` typo.
    pub namespace: Cow<'static, str>,
}

impl Default for Identify {
    fn default() -> Self {
        Self {
            namespace: Cow::Borrowed(ns::IDENTITY),
        }
    }
}

impl Part for Identify {
    fn read(e: &Element, _: &[(String, String)]) -> Option<Self> {
        (ns::is_identify_ns(&e.name.ns) && e.name.local == "Identify").then(|| Self {
            namespace: e.name.ns.clone(),
        })
    }
    fn to_element(&self) -> Element {
        let mut e = Element::new(QName {
            ns: self.namespace.clone(),
            local: Cow::Borrowed("Identify"),
        });
        e.prefix = Some("wsmid".into());
        e
    }
}

/// `wsmid:IdentifyResponse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifyResponse {
    /// The identify namespace as written.
    pub namespace: Cow<'static, str>,
    /// `ProtocolVersion` values (the WS-Man namespace URI for WinRM).
    pub protocol_versions: Vec<String>,
    /// `ProductVendor`, e.g. "Microsoft Corporation".
    pub product_vendor: Option<String>,
    /// `ProductVersion`, e.g. "OS: 10.0.17763 SP: 0.0 Stack: 3.0".
    pub product_version: Option<String>,
    /// Other children before SecurityProfiles (DASH/SMASH versions, OMI capabilities).
    pub extra: Vec<Element>,
    /// `SecurityProfiles/SecurityProfileName` (authenticated responses only).
    pub security_profiles: Option<Vec<String>>,
}

impl IdentifyResponse {
    fn name(&self, local: &'static str) -> QName {
        QName {
            ns: self.namespace.clone(),
            local: Cow::Borrowed(local),
        }
    }
}

impl Part for IdentifyResponse {
    fn read(e: &Element, scope: &[(String, String)]) -> Option<Self> {
        if !(ns::is_identify_ns(&e.name.ns) && e.name.local == "IdentifyResponse") {
            return None;
        }
        let n = e.name.ns.clone();
        let known = [
            "ProtocolVersion",
            "ProductVendor",
            "ProductVersion",
            "SecurityProfiles",
        ];
        Some(Self {
            protocol_versions: e
                .elements()
                .filter(|c| c.name.is(&n, "ProtocolVersion"))
                .map(Element::text)
                .collect(),
            product_vendor: child_text(e, &n, "ProductVendor"),
            product_version: child_text(e, &n, "ProductVersion"),
            extra: e
                .elements()
                .filter(|c| !(c.name.ns == n && known.contains(&c.name.local.as_ref())))
                .map(|c| scoped(c, e, scope))
                .collect(),
            security_profiles: e
                .find(&n, "SecurityProfiles")
                .map(|s| s.elements().map(Element::text).collect()),
            namespace: n,
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(self.name("IdentifyResponse"));
        e.prefix = Some("wsmid".into());
        for v in &self.protocol_versions {
            push_text(&mut e, self.name("ProtocolVersion"), Some(v));
        }
        push_text(
            &mut e,
            self.name("ProductVendor"),
            self.product_vendor.as_deref(),
        );
        push_text(
            &mut e,
            self.name("ProductVersion"),
            self.product_version.as_deref(),
        );
        e.children
            .extend(self.extra.iter().cloned().map(Node::Element));
        if let Some(list) = &self.security_profiles {
            let mut s = Element::new(self.name("SecurityProfiles"));
            for p in list {
                push_text(&mut s, self.name("SecurityProfileName"), Some(p));
            }
            e.children.push(Node::Element(s));
        }
        e
    }
}
