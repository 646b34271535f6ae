//! The wire form of `winrm get/put winrm/config[/section]` (MS-WSMV 2.2.4.x; element order and
//! lower-case booleans as a live Windows emits them).

use super::{Config, ConfigError, ConfigErrorKind, settings};
use crate::xml::{Element, Node, QName};

/// The configuration resource URI (`winrm/config`).
pub const CONFIG_URI: &str = "http://schemas.microsoft.com/wbem/wsman/1/config";

/// The section a ResourceURI names: `""` for `winrm/config`, `Service/Auth` for
/// `…/config/service/auth`; `None` when no setting lives there.
pub fn resource_path(uri: &str) -> Option<String> {
    let lower = uri.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix(CONFIG_URI)?;
    let rest = rest.trim_matches('/');
    if rest.is_empty() {
        return Some(String::new());
    }
    // Canonical case comes from the setting paths.
    settings()
        .iter()
        .find_map(|s| below(&s.path, rest).map(|_| s.path[..rest.len()].to_owned()))
}

fn cfg(local: &str) -> QName {
    QName::owned(CONFIG_URI, local)
}

/// The resource URI of a section (the inverse of [`resource_path`]).
pub fn section_uri(section: &str) -> String {
    if section.is_empty() {
        CONFIG_URI.to_owned()
    } else {
        format!("{CONFIG_URI}/{}", section.to_ascii_lowercase())
    }
}

/// The local name of a section's element: `Config` for `winrm/config`, else its last part.
pub fn section_element(section: &str) -> &str {
    if section.is_empty() {
        "Config"
    } else {
        section.rsplit('/').next().unwrap_or(section)
    }
}

/// The element `Get` returns for a section.
pub fn to_element(config: &Config, section: &str) -> Element {
    let mut root = Element::new(cfg(section_element(section)));
    root.prefix = Some("cfg".into());
    root.ns_decls.push(("cfg".into(), CONFIG_URI.into()));
    // Setting paths are static, so element names borrow them: a Get allocates only values.
    for (path, value) in config.iter() {
        if let Some(rel) = below(path, section) {
            insert(&mut root, rel, value);
        }
    }
    root
}

/// `path` relative to `section` (case-insensitive), when it lies below it.
fn below<'p>(path: &'p str, section: &str) -> Option<&'p str> {
    if section.is_empty() {
        return Some(path);
    }
    let n = section.len();
    (path.len() > n
        && path.as_bytes()[n] == b'/'
        && path.as_bytes()[..n].eq_ignore_ascii_case(section.as_bytes()))
    .then(|| &path[n + 1..])
}

fn insert(parent: &mut Element, rel: &'static str, value: &str) {
    let Some((name, rest)) = rel.split_once('/') else {
        parent.children.push(Node::Element(Element::with_text(
            QName::new(CONFIG_URI, rel),
            value,
        )));
        return;
    };
    let existing = parent.children.iter_mut().rev().find_map(|n| match n {
        Node::Element(e) if e.name.local == name && !e.is_simple() => Some(e),
        _ => None,
    });
    match existing {
        Some(e) => insert(e, rest, value),
        None => {
            let mut e = Element::new(QName::new(CONFIG_URI, name));
            insert(&mut e, rest, value);
            parent.children.push(Node::Element(e));
        }
    }
}

/// Applies a `Put` body to a copy of the configuration: all changes or none.
pub fn apply_put(config: &Config, section: &str, body: &Element) -> Result<Config, ConfigError> {
    let expected = section_element(section);
    if !body.name.local.eq_ignore_ascii_case(expected) {
        return Err(ConfigError {
            path: section.to_owned(),
            kind: ConfigErrorKind::Invalid {
                value: body.name.to_string(),
                at: 0,
                reason: format!("expected a {expected} element"),
            },
        });
    }
    let mut next = config.clone();
    walk(&mut next, section, body)?;
    Ok(next)
}

fn walk(config: &mut Config, path: &str, e: &Element) -> Result<(), ConfigError> {
    for c in e.elements() {
        let p = if path.is_empty() {
            c.name.local.to_string()
        } else {
            format!("{path}/{}", c.name.local)
        };
        if c.is_simple() {
            // Put carries the whole representation; unchanged read-only values are not changes.
            if config.get(&p) == Some(c.text().as_str()) {
                continue;
            }
            config.set(&p, &c.text())?;
        } else {
            walk(config, &p, c)?;
        }
    }
    Ok(())
}
