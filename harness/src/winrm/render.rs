//! Output forms of `winrm`: the Windows tool's text layout, indented XML, the XML as received,
//! and JSON with a fixed shape.
//!
//! Text layout (what the Windows tool prints): an element with children prints its local name
//! and its children four spaces further in; a leaf prints `Name = value`, or only `Name` when
//! empty, or `Name = null` when `xsi:nil`; leaves of one name under one parent share a line
//! (`ListeningOn = 127.0.0.1, ::1`); attributes other than namespace, `xml:` and `xsi:` ones are
//! shown as notes (`AllowUnencrypted = false [Source="GPO"]`); a selector set prints as
//! `Selector: Address = *, Transport = HTTP`.

use quick_xml::events::Event;

use crate::ns;
use crate::xml::{Element, PrefixStyle, XmlWriter};

/// Appends the text layout of `e` at `depth` levels of four spaces.
pub fn text(e: &Element, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    if e.name.local == "SelectorSet" && e.elements().all(|c| c.name.local == "Selector") {
        let parts: Vec<String> = e
            .elements()
            .map(|s| {
                format!(
                    "{} = {}",
                    s.attr_value("", "Name").unwrap_or("?"),
                    s.text().trim()
                )
            })
            .collect();
        out.push_str(&format!("{pad}Selector: {}\n", parts.join(", ")));
        return;
    }
    if e.is_simple() {
        out.push_str(&pad);
        out.push_str(&leaf(e, &[e]));
        out.push('\n');
        return;
    }
    out.push_str(&format!("{pad}{}{}\n", e.name.local, notes(e)));
    let children: Vec<&Element> = e.elements().collect();
    let mut done = vec![false; children.len()];
    for i in 0..children.len() {
        if done[i] {
            continue;
        }
        let c = children[i];
        if !c.is_simple() || c.name.local == "SelectorSet" {
            text(c, depth + 1, out);
            continue;
        }
        let same: Vec<&Element> = (i..children.len())
            .filter(|&j| children[j].is_simple() && children[j].name == c.name)
            .inspect(|&j| done[j] = true)
            .map(|j| children[j])
            .collect();
        out.push_str(&format!("{pad}    {}\n", leaf(c, &same)));
    }
}

fn leaf(first: &Element, all: &[&Element]) -> String {
    let values: Vec<String> = all
        .iter()
        .map(|e| {
            if e.attr_value(ns::XSI, "nil") == Some("true") {
                "null".to_owned()
            } else {
                e.text().trim().to_owned()
            }
        })
        .filter(|v| !v.is_empty())
        .collect();
    let mut s = first.name.local.to_string();
    if !values.is_empty() {
        s.push_str(" = ");
        s.push_str(&values.join(", "));
    }
    s.push_str(&notes(first));
    s
}

/// ` [Source="GPO"]`-style notes for an element's own attributes.
fn notes(e: &Element) -> String {
    e.attrs
        .iter()
        .filter(|a| a.name.ns != ns::XSI && a.name.ns != ns::XML)
        .map(|a| format!(" [{}=\"{}\"]", a.name.local, a.value))
        .collect()
}

/// The element as XML, with the prefixes it came with and only the namespace declarations it
/// uses (a body element carries the whole envelope's scope).
pub fn xml(e: &Element) -> String {
    let mut uris = Vec::new();
    let mut texts = Vec::new();
    used(e, &mut uris, &mut texts);
    let mut copy = e.clone();
    prune(&mut copy, &uris, &texts);
    XmlWriter::document(&copy, PrefixStyle::Preserve, 1024)
}

/// Namespace URIs of names, and the texts and attribute values (which may hold QNames such
/// as `xsi:type="p:Foo"`), in a tree.
fn used<'a>(e: &'a Element, uris: &mut Vec<&'a str>, texts: &mut Vec<&'a str>) {
    uris.push(&e.name.ns);
    for a in &e.attrs {
        uris.push(&a.name.ns);
        texts.push(&a.value);
    }
    for n in &e.children {
        match n {
            crate::xml::Node::Element(c) => used(c, uris, texts),
            crate::xml::Node::Text(t) => texts.push(t),
        }
    }
}

fn prune(e: &mut Element, uris: &[&str], texts: &[&str]) {
    e.ns_decls.retain(|(prefix, uri)| {
        uris.contains(&uri.as_str())
            || (!prefix.is_empty()
                && texts
                    .iter()
                    .any(|t| t.trim_start().starts_with(&format!("{prefix}:"))))
    });
    for n in &mut e.children {
        if let crate::xml::Node::Element(c) = n {
            prune(c, uris, texts);
        }
    }
}

/// The element as indented XML (two spaces per level, as `-format:#pretty` shows it).
pub fn pretty(e: &Element) -> String {
    let compact = xml(e);
    let mut reader = quick_xml::Reader::from_str(&compact);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(ev) => {
                if writer.write_event(ev).is_err() {
                    return compact;
                }
            }
            // The writer's own output always reads; fall back to it unchanged if not.
            Err(_) => return compact,
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or(compact)
}

/// The element as JSON: `{"Name": value}` where a leaf's value is its text (`null` for
/// `xsi:nil`), a parent's value is an object of its children, children of one name become an
/// array, and attributes appear as `"@name"` keys (the text then as `"#text"`).
pub fn json(e: &Element) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert(e.name.local.to_string(), value(e));
    serde_json::Value::Object(map)
}

fn value(e: &Element) -> serde_json::Value {
    use serde_json::Value;
    let attrs: Vec<_> = e
        .attrs
        .iter()
        .filter(|a| a.name.ns != ns::XSI && a.name.ns != ns::XML)
        .collect();
    if e.is_simple() {
        let v = if e.attr_value(ns::XSI, "nil") == Some("true") {
            Value::Null
        } else {
            Value::String(e.text())
        };
        if attrs.is_empty() {
            return v;
        }
        let mut m = serde_json::Map::new();
        for a in attrs {
            m.insert(format!("@{}", a.name.local), Value::String(a.value.clone()));
        }
        m.insert("#text".into(), v);
        return Value::Object(m);
    }
    let mut m = serde_json::Map::new();
    for a in attrs {
        m.insert(format!("@{}", a.name.local), Value::String(a.value.clone()));
    }
    // Names seen more than once among the children become arrays.
    let mut counts: std::collections::HashMap<&crate::xml::QName, usize> =
        std::collections::HashMap::new();
    for c in e.elements() {
        *counts.entry(&c.name).or_default() += 1;
    }
    for c in e.elements() {
        let v = value(c);
        let key = c.name.local.to_string();
        if counts[&c.name] > 1 {
            if let Value::Array(list) = m.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
                list.push(v);
            }
        } else {
            m.entry(key).or_insert(v);
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Attribute, QName};

    fn cfg(local: &str) -> QName {
        QName::owned("urn:x", local)
    }

    fn sample() -> Element {
        Element::new(cfg("Listener"))
            .attr(Attribute::qualified(QName::new(ns::XML, "lang"), "en-US"))
            .child(Element::with_text(cfg("Address"), "*"))
            .child(Element::new(cfg("Hostname")))
            .child(
                Element::with_text(cfg("Enabled"), "false").attr(Attribute::plain("Source", "GPO")),
            )
            .child(Element::with_text(cfg("ListeningOn"), "127.0.0.1"))
            .child(Element::with_text(cfg("ListeningOn"), "::1"))
            .child(
                Element::new(cfg("Thumb"))
                    .attr(Attribute::qualified(QName::new(ns::XSI, "nil"), "true")),
            )
    }

    #[test]
    fn text_layout_follows_the_windows_tool() {
        let mut out = String::new();
        text(&sample(), 0, &mut out);
        assert_eq!(
            out,
            "Listener\n    Address = *\n    Hostname\n    Enabled = false [Source=\"GPO\"]\n    ListeningOn = 127.0.0.1, ::1\n    Thumb = null\n"
        );
    }

    #[test]
    fn json_has_a_fixed_shape() {
        let j = json(&sample());
        assert_eq!(j["Listener"]["Address"], "*");
        assert_eq!(j["Listener"]["Hostname"], "");
        assert_eq!(j["Listener"]["Enabled"]["@Source"], "GPO");
        assert_eq!(j["Listener"]["Enabled"]["#text"], "false");
        assert_eq!(
            j["Listener"]["ListeningOn"],
            serde_json::json!(["127.0.0.1", "::1"])
        );
        assert!(j["Listener"]["Thumb"].is_null());
    }

    #[test]
    fn pretty_indents_and_keeps_content() {
        let p = pretty(&sample());
        assert!(p.contains("\n  <"), "{p}");
        let again = crate::xml::parse_document(p.as_bytes(), crate::xml::Limits::default())
            .expect("pretty output reads");
        assert_eq!(again.elements().count(), 6);
    }
}
