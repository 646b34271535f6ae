//! `winrm/config/listener`: Get, Enumerate, Create, Put and Delete of listeners, selected by
//! Address and Transport (MS-WSMV 2.2.4.19, 3.1.4.1.29.5). The wire element lives in the
//! `…/config/listener` namespace with `xml:lang`, as Windows sends it.

use crate::config::{Config, Listener, validate_listener};
use crate::envelope::SelectorSet;
use crate::ns;
use crate::xml::{Attribute, Element, QName};

/// The listener resource URI.
pub const LISTENER_URI: &str = "http://schemas.microsoft.com/wbem/wsman/1/config/listener";

fn name(local: &str) -> QName {
    QName::owned(LISTENER_URI, local)
}

/// The wire element of a listener. ListeningOn is computed from the address and the service's
/// IPv4Filter/IPv6Filter.
pub fn to_element(l: &Listener, config: &Config) -> Element {
    let mut e = Element::new(name("Listener"))
        .attr(Attribute::qualified(QName::new(ns::XML, "lang"), "en-US"));
    e.prefix = Some("cfg".into());
    e.ns_decls.push(("cfg".into(), LISTENER_URI.into()));
    let fields = [
        ("Address", l.address.clone()),
        ("Transport", l.transport.clone()),
        ("Port", l.port.to_string()),
        ("Hostname", l.hostname.clone()),
        ("Enabled", l.enabled.to_string()),
        ("URLPrefix", l.url_prefix.clone()),
        ("CertificateThumbprint", l.certificate_thumbprint.clone()),
    ];
    for (n, v) in fields {
        e = e.child(Element::with_text(name(n), v));
    }
    for ip in listening_on(&l.address, config) {
        e = e.child(Element::with_text(name("ListeningOn"), ip));
    }
    e
}

/// The addresses a listener binds: loopback for `*` (the reference server only ever listens
/// there), the address itself for `IP:`; only those the IP filters admit (MS-WSMV 2.2.4.36).
fn listening_on(address: &str, config: &Config) -> Vec<String> {
    let candidates = match address.strip_prefix("IP:") {
        Some(ip) => vec![ip.to_owned()],
        None => vec!["127.0.0.1".into(), "::1".into()],
    };
    candidates
        .into_iter()
        .filter(|a| match a.parse::<std::net::IpAddr>() {
            Ok(ip @ std::net::IpAddr::V4(_)) => {
                crate::config::filter_allows(config.get("Service/IPv4Filter").unwrap_or("*"), ip)
            }
            Ok(ip) => {
                crate::config::filter_allows(config.get("Service/IPv6Filter").unwrap_or("*"), ip)
            }
            Err(_) => false,
        })
        .collect()
}

/// The (Address, Transport) selectors, with Transport upper-cased; `None` when either is missing.
pub fn key(set: Option<&SelectorSet>) -> Option<(String, String)> {
    let s = set?;
    Some((
        s.get("Address")?.trim().to_owned(),
        s.get("Transport")?.trim().to_ascii_uppercase(),
    ))
}

/// Index of the listener with these selectors (compared case-insensitively, MS-WSMV 3.1.4.1.2).
pub fn find(config: &Config, key: &(String, String)) -> Option<usize> {
    config.listeners.iter().position(|l| {
        l.address.eq_ignore_ascii_case(&key.0) && l.transport.eq_ignore_ascii_case(&key.1)
    })
}

/// Why a listener change was refused, as a catalogue condition and message.
pub type Refusal = (&'static str, String);

/// A listener from a Create body over the selectors; absent fields take their defaults.
pub fn from_create(
    config: &Config,
    key: &(String, String),
    body: Option<&Element>,
) -> Result<Listener, Refusal> {
    let mut l = Listener::new(&key.0, &key.1, config.default_port(key.1 == "HTTPS"));
    if let Some(b) = body {
        apply(&mut l, b, config)?;
    }
    validate_listener(&l).map_err(|e| ("invalid-parameter", e.to_string()))?;
    Ok(l)
}

/// Applies the fields of a Create or Put body. ListeningOn is computed: the values the service
/// reports now may come back (a client Puts what it got), any other is refused.
pub fn apply(l: &mut Listener, body: &Element, config: &Config) -> Result<(), Refusal> {
    let computed = listening_on(&l.address, config);
    for c in body.elements() {
        let v = c.text().trim().to_owned();
        match c.name.local.as_ref() {
            "Port" => {
                l.port = v.parse().map_err(|_| {
                    (
                        "invalid-parameter",
                        format!("Port {v:?} is not a port number"),
                    )
                })?
            }
            "Hostname" => l.hostname = v,
            "Enabled" => {
                l.enabled = crate::config::parse_bool(&v)
                    .map_err(|e| ("invalid-parameter", format!("Enabled: {}", e.reason)))?
            }
            "URLPrefix" => l.url_prefix = v,
            "CertificateThumbprint" => l.certificate_thumbprint = v,
            // The selectors themselves may be repeated in the body.
            "Address" | "Transport" => {}
            "ListeningOn" if computed.contains(&v) => {}
            "ListeningOn" => {
                return Err((
                    "internal-error",
                    "ListeningOn is computed and cannot be set".into(),
                ));
            }
            other => {
                return Err((
                    "invalid-parameter",
                    format!("unknown listener setting {other:?}"),
                ));
            }
        }
    }
    Ok(())
}
