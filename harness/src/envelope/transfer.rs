//! WS-Transfer bodies (MS-WSMV 3.1.4.2-3.1.4.5). Get and Delete have empty bodies, Get/Put/Create
//! carry the resource itself (generic); only CreateResponse has a shape of its own.

use super::header::Epr;
use super::part::Part;
use crate::ns;
use crate::xml::{Element, QName};

/// `x:ResourceCreated`: the endpoint reference of what Create made (a shell, a listener).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceCreated(pub Epr);

impl ResourceCreated {
    /// The ShellId (or other) selector of the created resource.
    pub fn selector(&self, name: &str) -> Option<String> {
        let params = self.0.reference_parameters.as_ref()?;
        let set = params.find(ns::WSMAN, "SelectorSet")?;
        set.elements()
            .find(|s| {
                s.attr_value("", "Name")
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(Element::text)
    }
}

impl Part for ResourceCreated {
    fn read(e: &Element, scope: &[(String, String)]) -> Option<Self> {
        e.name
            .is(ns::TRANSFER, "ResourceCreated")
            .then(|| Epr::read_epr(e, scope))
            .flatten()
            .map(Self)
    }
    fn to_element(&self) -> Element {
        self.0.to_named(QName::new(ns::TRANSFER, "ResourceCreated"))
    }
}
