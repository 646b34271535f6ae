//! Importers: public recording layouts turned into scenarios.
//!
//! - `pywinrm`: folders of `N-request.xml` / `N-response.xml` (one folder, one scenario).
//! - `winrm4j`: `<recording><item><request action=..>ENVELOPE</request><response>ENVELOPE
//!   </response></item>...` files; `${messageId}`/`${serviceUrl}` placeholders become values.
//! - `pairs`: folders of `<stem>request<rest>.xml` / `<stem>response<rest>.xml` files paired by
//!   name; a response without a request gets a minimal request built from its Action and
//!   RelatesTo, and the scenario is marked as not replayable against the reference server.
//!
//! The license comes from the nearest `LICENSE-NOTE.txt` (its `License:` line) unless given.

use std::path::{Path, PathBuf};

use super::compare::Rules;
use super::header_text;
use super::model::{Meta, Recorded, Scenario, Step};
use super::symbols::{is_sanitised_placeholder, key};
use crate::ns;
use crate::xml::{Element, Limits, Node, PrefixStyle, XmlWriter, parse_document};

/// The layouts `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// pywinrm's `N-request.xml` / `N-response.xml` folders.
    Pywinrm,
    /// winrm4j's `<recording>` files.
    Winrm4j,
    /// Request/response files paired by name, or responses alone.
    Pairs,
}

/// What an import produced and what it left out.
#[derive(Debug, Default)]
pub struct Imported {
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
    /// Files not imported, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Largest recording file read.
const LIMIT: usize = 16 << 20;

/// Imports every recording of a layout under `dir`.
pub fn import(layout: Layout, dir: &Path) -> Result<Imported, String> {
    let mut out = Imported::default();
    match layout {
        Layout::Pywinrm => {
            for folder in folders_with(dir, &|n| n.ends_with("-request.xml"))? {
                pywinrm_folder(dir, &folder, &mut out);
            }
        }
        Layout::Winrm4j => {
            for f in files(dir, &|n| n.ends_with(".xml"))? {
                winrm4j_file(dir, &f, &mut out);
            }
        }
        Layout::Pairs => {
            for folder in folders_with(dir, &|n| n.ends_with(".xml"))? {
                pairs_folder(dir, &folder, &mut out);
            }
        }
    }
    Ok(out)
}

fn files(dir: &Path, want: &dyn Fn(&str) -> bool) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    fn walk(d: &Path, want: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, want, out)?;
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(want) {
                out.push(p);
            }
        }
        Ok(())
    }
    walk(dir, want, &mut out).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(out)
}

fn folders_with(dir: &Path, want: &dyn Fn(&str) -> bool) -> Result<Vec<PathBuf>, String> {
    let mut folders: Vec<PathBuf> = files(dir, want)?
        .into_iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    folders.dedup();
    Ok(folders)
}

/// The scenario name for a folder or file: its path below the import root, `/` → `-`.
fn name_for(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let mut name = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("-");
    if name.is_empty() {
        name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
    }
    name.replace(".py.d", "")
}

/// `License:` of the nearest LICENSE-NOTE.txt at or above `p`.
fn license_of(p: &Path) -> Option<String> {
    let mut dir = if p.is_dir() { Some(p) } else { p.parent() };
    while let Some(d) = dir {
        if let Ok(t) = crate::files::read_text(&d.join("LICENSE-NOTE.txt"), 1 << 20) {
            return t
                .lines()
                .find_map(|l| l.strip_prefix("License:"))
                .map(|l| l.trim().to_owned());
        }
        dir = d.parent();
    }
    None
}

fn read_xml(p: &Path) -> Result<(String, Element), String> {
    let text = crate::files::read_text(p, LIMIT)?;
    let tree = parse_document(text.as_bytes(), Limits::default()).map_err(|e| e.to_string())?;
    Ok((text, tree))
}

/// A label for a step from its request: the action's last word and the resource's.
pub fn step_label(request: &Element) -> String {
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
    let action = header_text(request, ns::ADDRESSING, "Action").map(|a| last(&a));
    let resource = header_text(request, ns::WSMAN, "ResourceURI").map(|r| last(&r));
    let body = request
        .find(ns::SOAP, "Body")
        .and_then(|b| b.elements().next())
        .map(|e| e.name.local.to_string());
    match (action, resource) {
        (Some(a), Some(r)) => format!("{a} {r}"),
        (Some(a), None) => a,
        (None, _) => body.unwrap_or_else(|| "request".into()),
    }
}

fn scenario(name: String, source: String, license: Option<String>, steps: Vec<Step>) -> Scenario {
    Scenario {
        name,
        meta: Meta {
            source: Some(source),
            license,
            profile: Some("windows".into()),
            reference: true,
            ..Meta::default()
        },
        namespaces: Vec::new(),
        rules: Rules::defaults(),
        steps,
        file: None,
    }
}

fn step(request: (String, Element), response: Option<(String, Element)>, status: u16) -> Step {
    let response = response.map(|(body, tree)| {
        let status = if tree
            .find(ns::SOAP, "Body")
            .is_some_and(|b| b.find(ns::SOAP, "Fault").is_some())
            && status == 200
        {
            500
        } else {
            status
        };
        Recorded {
            status,
            headers: Vec::new(),
            body,
            tree: Some(tree.into()),
        }
    });
    Step {
        name: step_label(&request.1),
        request: request.0,
        request_tree: request.1.into(),
        request_headers: Vec::new(),
        response,
        asserts: Vec::new(),
        captures: Vec::new(),
        line: 0,
        synthetic: false,
        wire: Vec::new(),
    }
}

/// The sorted names of the `.xml` files directly in a folder (an unreadable folder is noted
/// as skipped).
fn xml_names(folder: &Path, out: &mut Imported) -> Vec<String> {
    let entries = match std::fs::read_dir(folder) {
        Ok(rd) => rd,
        Err(e) => {
            out.skipped.push((folder.to_path_buf(), e.to_string()));
            return Vec::new();
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    names
}

fn pywinrm_folder(root: &Path, folder: &Path, out: &mut Imported) {
    let mut numbered: Vec<(u32, PathBuf)> = xml_names(folder, out)
        .into_iter()
        .filter_map(|n| {
            let k = n.strip_suffix("-request.xml")?.parse().ok()?;
            Some((k, folder.join(n)))
        })
        .collect();
    numbered.sort();
    let mut steps = Vec::new();
    for (n, req) in numbered {
        let resp = folder.join(format!("{n}-response.xml"));
        match (read_xml(&req), read_xml(&resp)) {
            (Ok(q), Ok(r)) => steps.push(step(q, Some(r), 200)),
            (Err(e), _) => out.skipped.push((req, e)),
            (_, Err(e)) => out.skipped.push((resp, e)),
        }
    }
    if !steps.is_empty() {
        let rel = relative(root, folder);
        out.scenarios.push(scenario(
            name_for(root, folder),
            format!("pywinrm layout: {rel}"),
            license_of(folder),
            steps,
        ));
    }
}

/// Removes a DOCTYPE that only declares element structure; one declaring entities is refused
/// (the harness never expands entities).
fn strip_doctype(text: &str) -> Result<String, String> {
    let Some(start) = text.find("<!DOCTYPE") else {
        return Ok(text.to_owned());
    };
    let rest = &text[start..];
    let end = match rest.find('[') {
        Some(open) if open < rest.find('>').unwrap_or(usize::MAX) => rest
            .find("]>")
            .map(|i| i + 2)
            .ok_or("unterminated DOCTYPE internal subset")?,
        _ => rest
            .find('>')
            .map(|i| i + 1)
            .ok_or("unterminated DOCTYPE")?,
    };
    if rest[..end].contains("<!ENTITY") {
        return Err("the DOCTYPE declares entities; refusing to expand them".into());
    }
    Ok(format!("{}{}", &text[..start], &rest[end..]))
}

fn inner_envelope(e: &Element) -> Option<Element> {
    e.elements()
        .find(|c| c.name.is(ns::SOAP, "Envelope"))
        .cloned()
}

fn written(e: &Element) -> String {
    XmlWriter::document(e, PrefixStyle::Preserve, 4096)
}

/// Replaces winrm4j's placeholders in text and attribute values.
fn fill(e: &mut Element, message_id: &str, url: &str) {
    let f = |s: &str| {
        s.replace("${messageId}", message_id)
            .replace("${serviceUrl}", url)
    };
    for a in &mut e.attrs {
        a.value = f(&a.value);
    }
    for c in &mut e.children {
        match c {
            Node::Text(t) => *t = f(t),
            Node::Element(c) => fill(c, message_id, url),
        }
    }
}

/// What winrm4j's `${serviceUrl}` stood for; replay rewrites `a:To` to the real target anyway.
const RECORDED_URL: &str = "http://windows-host:5985/wsman";

fn winrm4j_file(root: &Path, f: &Path, out: &mut Imported) {
    let parsed = crate::files::read_text(f, LIMIT)
        .and_then(|t| strip_doctype(&t))
        .and_then(|t| parse_document(t.as_bytes(), Limits::default()).map_err(|e| e.to_string()));
    let doc = match parsed {
        Ok(d) if d.name.local == "recording" => d,
        Ok(d) => {
            out.skipped.push((
                f.to_path_buf(),
                format!("root is <{}>, not <recording>", d.name.local),
            ));
            return;
        }
        Err(e) => {
            out.skipped.push((f.to_path_buf(), e));
            return;
        }
    };
    let mut steps = Vec::new();
    for (i, item) in doc
        .elements()
        .filter(|e| e.name.local == "item")
        .enumerate()
    {
        let req = item
            .elements()
            .find(|e| e.name.local == "request")
            .and_then(inner_envelope);
        let resp = item
            .elements()
            .find(|e| e.name.local == "response")
            .and_then(inner_envelope);
        let Some(mut req) = req else {
            out.skipped.push((
                f.to_path_buf(),
                format!("item {}: no request envelope", i + 1),
            ));
            continue;
        };
        let id = crate::ids::format_message_id(uuid::Uuid::from_u128(0x1000 + i as u128));
        fill(&mut req, &id, RECORDED_URL);
        let resp = resp.map(|mut r| {
            fill(&mut r, &id, RECORDED_URL);
            (written(&r), r)
        });
        steps.push(step((written(&req), req), resp, 200));
    }
    if !steps.is_empty() {
        let rel = relative(root, f);
        out.scenarios.push(scenario(
            name_for(root, f),
            format!("winrm4j recording: {rel}"),
            license_of(f),
            steps,
        ));
    }
}

/// A response by its content: it relates to a request, or answers with a `...Response` or
/// fault Action, or has no addressing at all but a Fault or a typed response body.
fn is_response(tree: &Element) -> bool {
    if header_text(tree, ns::ADDRESSING, "RelatesTo").is_some() {
        return true;
    }
    if let Some(a) = header_text(tree, ns::ADDRESSING, "Action") {
        return a.ends_with("Response") || a.ends_with("/fault") || a.ends_with("/Fault");
    }
    tree.find(ns::SOAP, "Body")
        .and_then(|b| b.elements().next())
        .is_some_and(|b| b.name.local.ends_with("Response") || b.name.local == "Fault")
}

fn pairs_folder(root: &Path, folder: &Path, out: &mut Imported) {
    let names = xml_names(folder, out);
    // Read and classify every envelope by its content (file names are only a hint).
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for n in &names {
        match read_xml(&folder.join(n)) {
            Ok((text, tree)) if tree.name.is(ns::SOAP, "Envelope") => {
                if is_response(&tree) {
                    responses.push((n.clone(), text, tree));
                } else {
                    requests.push((n.clone(), text, tree));
                }
            }
            Ok(_) => out
                .skipped
                .push((folder.join(n), "not a SOAP envelope".into())),
            Err(e) => out.skipped.push((folder.join(n), e)),
        }
    }
    let mut used = vec![false; responses.len()];
    let mut steps = Vec::new();
    for (n, text, tree) in requests {
        // The partner: same name with request→response, or the response relating to it.
        let id = header_text(&tree, ns::ADDRESSING, "MessageID")
            .filter(|id| !is_sanitised_placeholder(id))
            .map(|id| key(&id));
        let by_name = n.replacen("request", "response", 1);
        let stem = n.trim_end_matches(".xml");
        let partner = responses.iter().enumerate().position(|(i, (rn, _, rt))| {
            !used[i]
                && ((n.contains("request") && *rn == by_name)
                    || rn.trim_end_matches("_response.xml") == stem
                    || id.as_ref().is_some_and(|id| {
                        header_text(rt, ns::ADDRESSING, "RelatesTo").is_some_and(|r| key(&r) == *id)
                    }))
        });
        let resp = partner.map(|i| {
            used[i] = true;
            (responses[i].1.clone(), responses[i].2.clone())
        });
        steps.push(step((text, tree), resp, 200));
    }
    let mut synthesised = false;
    for (i, (_, text, tree)) in responses.into_iter().enumerate() {
        if used[i] {
            continue;
        }
        let req = request_for(&tree);
        synthesised = true;
        let mut st = step((written(&req), req), Some((text, tree)), 200);
        st.synthetic = true;
        steps.push(st);
    }
    if !steps.is_empty() {
        let rel = relative(root, folder);
        let mut s = scenario(
            name_for(root, folder),
            format!("pairs layout: {rel}"),
            license_of(folder),
            steps,
        );
        s.meta.profile = None;
        if synthesised {
            s.meta.reference = false;
            s.meta.reference_note = Some(
                "some requests were not recorded; they are rebuilt from the responses' Action \
                 and RelatesTo only (good for lint and serve, not for replay)"
                    .into(),
            );
        }
        out.scenarios.push(s);
    }
}

/// A minimal request for a recorded response: the action without `Response`, the response's
/// RelatesTo as MessageID.
fn request_for(response: &Element) -> Element {
    use crate::xml::QName;
    let get = |local: &str| header_text(response, ns::ADDRESSING, local);
    let action = get("Action")
        .map(|a| a.strip_suffix("Response").map(str::to_owned).unwrap_or(a))
        .unwrap_or_default();
    let id = get("RelatesTo").unwrap_or_else(crate::ids::new_message_id);
    let mut env = Element::new(QName::new(ns::SOAP, "Envelope"));
    env.prefix = Some("s".into());
    env.ns_decls = vec![
        ("s".into(), ns::SOAP.into()),
        ("a".into(), ns::ADDRESSING.into()),
    ];
    let text = |local: &'static str, v: String| {
        let mut e = Element::with_text(QName::new(ns::ADDRESSING, local), v);
        e.prefix = Some("a".into());
        e
    };
    let mut h = Element::new(QName::new(ns::SOAP, "Header"));
    h.prefix = Some("s".into());
    h = h.child(text("Action", action)).child(text("MessageID", id));
    let mut b = Element::new(QName::new(ns::SOAP, "Body"));
    b.prefix = Some("s".into());
    env.child(h).child(b)
}

/// `folder` below `root`, for scenario descriptions.
fn relative(root: &Path, folder: &Path) -> String {
    folder
        .strip_prefix(root)
        .unwrap_or(folder)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctypes_without_entities_are_dropped_and_with_entities_refused() {
        let t = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [\n<!ELEMENT r ANY>\n]>\n<r/>";
        assert_eq!(strip_doctype(t).unwrap(), "<?xml version=\"1.0\"?>\n\n<r/>");
        let bad = "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>";
        assert!(strip_doctype(bad).unwrap_err().contains("entities"));
        assert!(strip_doctype("<!DOCTYPE r [ <r/>").is_err());
    }
}
