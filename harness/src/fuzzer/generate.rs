//! Case generation: a case is a scenario whose steps were reordered, dropped or repeated
//! (state), one of whose requests had its XML tree changed, or was damaged on the wire
//! (bytes, HTTP, authentication, sealing). Starting from recorded conversations lets the
//! fuzzer reach deep states (a running command, a half-read enumeration) before it strikes.
//!
//! Case `i` of seed `s` depends on nothing but `s`, `i` and the seed scenarios, so the same
//! `--seed` repeats a run case for case, whatever the number of workers.

use std::borrow::Cow;

use fastrand::Rng;

use super::mutation::{Layer, Mutation, NtlmField, Tamper};
use crate::client::AuthMethod;
use crate::ns;
use crate::scenario::{Scenario, Step};
use crate::xml::{Attribute, Element, Node, PrefixStyle, QName, XmlWriter};

/// What the generator may do.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The authentication in use (auth and seal mutations depend on it).
    pub auth: AuthMethod,
    /// HTTPS (no sealing).
    pub https: bool,
    /// Layers to mutate; all when empty.
    pub layers: Vec<Layer>,
    /// OperationTimeout written into every request, so that waits stay short (`PT1S`).
    pub operation_timeout: String,
    /// No mutation at all: the cases replay their scenarios as recorded (the baseline).
    pub baseline: bool,
}

/// One generated case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its number in the run.
    pub index: u64,
    /// The steps to run, mutations included.
    pub scenario: Scenario,
    /// The seed scenario's name.
    pub origin: String,
    /// The step that was mutated.
    pub target: usize,
    /// What was done, for reports and signatures (`tree:drop a:MessageID`, `state:repeat 2`,
    /// `wire:doctype`).
    pub labels: Vec<String>,
}

/// The generator over a set of seed scenarios.
pub struct Generator {
    seeds: Vec<Scenario>,
    plan: Plan,
    layers: Vec<Layer>,
}

impl Generator {
    /// A generator; the seeds' OperationTimeouts are shortened once here.
    pub fn new(mut seeds: Vec<Scenario>, plan: Plan) -> Self {
        for s in &mut seeds {
            for step in &mut s.steps {
                if set_header_text(
                    std::sync::Arc::make_mut(&mut step.request_tree),
                    ns::WSMAN,
                    "OperationTimeout",
                    &plan.operation_timeout,
                ) {
                    step.request = render(&step.request_tree);
                }
            }
        }
        let mut layers: Vec<Layer> = if plan.layers.is_empty() {
            Layer::ALL.to_vec()
        } else {
            plan.layers.clone()
        };
        layers.retain(|l| match l {
            Layer::Auth => plan.auth != AuthMethod::None,
            Layer::Seal => {
                !plan.https && matches!(plan.auth, AuthMethod::Negotiate | AuthMethod::Ntlm)
            }
            _ => true,
        });
        Self {
            seeds,
            plan,
            layers,
        }
    }

    /// The seed scenarios.
    pub fn seeds(&self) -> &[Scenario] {
        &self.seeds
    }

    /// The layers in use.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Case `index` of `seed`.
    pub fn case(&self, seed: u64, index: u64) -> Case {
        let mut rng = Rng::with_seed(mix(seed, index));
        let origin = &self.seeds[rng.usize(..self.seeds.len())];
        let mut scenario = origin.clone();
        scenario.name = format!("{}-case-{index}", origin.name);
        let mut labels = Vec::new();
        let mut target = rng.usize(..scenario.steps.len());
        if !self.plan.baseline && !self.layers.is_empty() {
            let layer = self.layers[rng.usize(..self.layers.len())];
            match layer {
                Layer::State => {
                    target = state(&mut rng, &mut scenario.steps, &mut labels);
                }
                Layer::Tree => {
                    let step = &mut scenario.steps[target];
                    for _ in 0..=rng.usize(..2) {
                        labels.push(format!(
                            "tree:{}",
                            tree(&mut rng, std::sync::Arc::make_mut(&mut step.request_tree))
                        ));
                    }
                    step.request = render(&step.request_tree);
                }
                wire_layer => {
                    let step = &mut scenario.steps[target];
                    let unauthenticated = step
                        .request_headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case("WSMANIDENTIFY"));
                    let layer =
                        if unauthenticated && matches!(wire_layer, Layer::Auth | Layer::Seal) {
                            Layer::Bytes
                        } else {
                            wire_layer
                        };
                    let m = wire(&mut rng, layer, self.plan.auth, step.request.len());
                    labels.push(format!("wire:{m}"));
                    step.wire.push(m);
                }
            }
        }
        Case {
            index,
            scenario,
            origin: origin.name.clone(),
            target,
            labels,
        }
    }
}

/// A 64-bit mix of the run seed and the case number (SplitMix64's finaliser), so that
/// neighbouring cases get unrelated generators.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The request text of a tree.
pub fn render(tree: &Element) -> String {
    XmlWriter::document(tree, PrefixStyle::Preserve, 1024)
}

// ---- state ----

/// Reorders, drops or repeats steps; returns the step that changed.
fn state(rng: &mut Rng, steps: &mut Vec<Step>, labels: &mut Vec<String>) -> usize {
    let n = steps.len();
    let i = rng.usize(..n);
    match rng.u8(..5) {
        0 if n > 1 => {
            steps.remove(i);
            labels.push(format!("state:drop {}", i + 1));
            i.min(steps.len() - 1)
        }
        1 if n > 1 && i + 1 < n => {
            steps.swap(i, i + 1);
            labels.push(format!("state:swap {} {}", i + 1, i + 2));
            i
        }
        2 => {
            // The same request once more at the end: a reused context, a second Delete.
            let again = steps[i].clone();
            steps.push(again);
            labels.push(format!("state:repeat {} at the end", i + 1));
            steps.len() - 1
        }
        3 => {
            let again = steps[i].clone();
            steps.insert(i + 1, again);
            labels.push(format!("state:repeat {} at once", i + 1));
            i + 1
        }
        _ => {
            steps.truncate(i + 1);
            labels.push(format!("state:stop after {}", i + 1));
            i
        }
    }
}

// ---- tree ----

/// Changes the XML tree once; returns what was done.
fn tree(rng: &mut Rng, root: &mut Element) -> String {
    let count = count(root);
    match rng.u8(..10) {
        0 => {
            let pick = 1 + rng.usize(..count.max(2) - 1);
            match remove_nth(root, pick) {
                Some(name) => format!("drop {name}"),
                None => "drop nothing".into(),
            }
        }
        1 => {
            let pick = 1 + rng.usize(..count.max(2) - 1);
            match duplicate_nth(root, pick) {
                Some(name) => format!("duplicate {name}"),
                None => "duplicate nothing".into(),
            }
        }
        2 => {
            if let Some(h) = child_mut(root, ns::SOAP, "Header") {
                rng.shuffle(&mut h.children);
            }
            "shuffle headers".into()
        }
        3 => move_between_header_and_body(rng, root),
        4 => {
            let pick = 1 + rng.usize(..count.max(2) - 1);
            let spaces = [
                ns::ADDRESSING,
                ns::WSMAN,
                ns::WSMAN_MS,
                ns::SOAP11,
                ns::SHELL,
                "urn:wsman-harness:fuzz",
            ];
            let to = spaces[rng.usize(..spaces.len())];
            match nth_mut(root, pick) {
                Some(e) => {
                    let from = e.name.clone();
                    e.name = QName::owned(to, &from.local);
                    format!("namespace of {from} to {to}")
                }
                None => "namespace unchanged".into(),
            }
        }
        5 => boundary(rng, root),
        6 => {
            let pick = 1 + rng.usize(..count.max(2) - 1);
            match nth_mut(root, pick) {
                Some(e) if e.is_simple() => {
                    e.children.clear();
                    format!("empty {}", e.name)
                }
                Some(e) => {
                    e.children.retain(|c| matches!(c, Node::Element(_)));
                    format!("no text in {}", e.name)
                }
                None => "empty nothing".into(),
            }
        }
        7 => {
            let pick = 1 + rng.usize(..count.max(2) - 1);
            let size = [1024, 64 * 1024, 150 * 1024, 160 * 1024][rng.usize(..4)];
            match nth_mut(root, pick) {
                Some(e) => {
                    e.children.push(Node::Text("x".repeat(size)));
                    format!("huge text ({size} bytes) in {}", e.name)
                }
                None => "huge nothing".into(),
            }
        }
        8 => {
            // An unknown header the server must understand (or refuse).
            let mut h = Element::with_text(QName::owned("urn:wsman-harness:fuzz", "Unknown"), "x");
            h.attrs.push(Attribute::qualified(
                QName::new(ns::SOAP, "mustUnderstand"),
                "true",
            ));
            if let Some(header) = child_mut(root, ns::SOAP, "Header") {
                let at = rng.usize(..=header.children.len());
                header.children.insert(at, Node::Element(h));
            }
            "unknown mustUnderstand header".into()
        }
        _ => {
            let pick = 1 + rng.usize(..count.max(2) - 1);
            let values = ["", "true", "false", "0", "-1", "\u{FFFD}", "x\u{0}y"];
            let v = values[rng.usize(..values.len())].replace('\u{0}', "");
            match nth_mut(root, pick) {
                Some(e) => {
                    e.attrs.push(Attribute::qualified(
                        QName::new(ns::SOAP, "mustUnderstand"),
                        v.clone(),
                    ));
                    format!("mustUnderstand={v:?} on {}", e.name)
                }
                None => "attribute nowhere".into(),
            }
        }
    }
}

/// Boundary values for the numbers servers clamp or refuse.
fn boundary(rng: &mut Rng, root: &mut Element) -> String {
    let (ns_uri, local, values): (&str, &str, &[&str]) = match rng.u8(..3) {
        0 => (
            ns::WSMAN,
            "MaxEnvelopeSize",
            &[
                "0",
                "8191",
                "8192",
                "153599",
                "153600",
                "153601",
                "4294967295",
                "4294967296",
                "-1",
                "1e3",
                " 8192 ",
                "",
            ],
        ),
        1 => (
            ns::WSMAN,
            "OperationTimeout",
            &[
                "PT0S",
                "PT0.001S",
                "-PT1S",
                "PT-1S",
                "PT60S",
                "PT60.001S",
                "P1Y",
                "PT",
                "P",
                "PT1.5.5S",
                "garbage",
                "",
            ],
        ),
        _ => (
            ns::WSMAN,
            "MaxElements",
            &[
                "0",
                "1",
                "31999",
                "32000",
                "32001",
                "4294967296",
                "-1",
                "abc",
                "",
            ],
        ),
    };
    let v = values[rng.usize(..values.len())];
    if local == "MaxElements" {
        // MaxElements lives in Enumerate/Pull bodies.
        if let Some(body) = child_mut(root, ns::SOAP, "Body")
            && let Some(Node::Element(op)) = body.children.first_mut()
        {
            op.children
                .retain(|c| !matches!(c, Node::Element(e) if e.name.local == "MaxElements"));
            op.children.push(Node::Element(Element::with_text(
                QName::owned(&op.name.ns, "MaxElements"),
                v,
            )));
        }
    } else if !set_header_text(root, ns_uri, local, v)
        && let Some(h) = child_mut(root, ns::SOAP, "Header")
    {
        h.children.push(Node::Element(Element::with_text(
            QName::owned(ns_uri, local),
            v,
        )));
    }
    format!("{local} = {v:?}")
}

fn move_between_header_and_body(rng: &mut Rng, root: &mut Element) -> String {
    let to_body = rng.bool();
    let (from, to) = if to_body {
        ("Header", "Body")
    } else {
        ("Body", "Header")
    };
    let Some(src) = child_mut(root, ns::SOAP, from) else {
        return format!("no {from} to move from");
    };
    let elements: Vec<usize> = src
        .children
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Node::Element(_)))
        .map(|(i, _)| i)
        .collect();
    if elements.is_empty() {
        return format!("nothing in {from} to move");
    }
    let node = src.children.remove(elements[rng.usize(..elements.len())]);
    let name = match &node {
        Node::Element(e) => e.name.to_string(),
        Node::Text(_) => String::new(),
    };
    if let Some(dst) = child_mut(root, ns::SOAP, to) {
        dst.children.insert(0, node);
    }
    format!("move {name} from {from} to {to}")
}

/// Sets the text of a header block; false when there is none.
fn set_header_text(root: &mut Element, ns_uri: &str, local: &str, value: &str) -> bool {
    let Some(h) = child_mut(root, ns::SOAP, "Header") else {
        return false;
    };
    for c in &mut h.children {
        if let Node::Element(e) = c
            && e.name.is(ns_uri, local)
        {
            e.children = vec![Node::Text(value.to_owned())];
            return true;
        }
    }
    false
}

fn child_mut<'e>(e: &'e mut Element, ns_uri: &str, local: &str) -> Option<&'e mut Element> {
    e.children.iter_mut().find_map(|c| match c {
        Node::Element(x) if x.name.is(ns_uri, local) => Some(x),
        _ => None,
    })
}

/// Elements in document order, the root being 0.
pub fn count(e: &Element) -> usize {
    1 + e.elements().map(count).sum::<usize>()
}

/// The `n`th element in document order (root = 0).
pub fn nth_mut(e: &mut Element, n: usize) -> Option<&mut Element> {
    fn walk<'e>(e: &'e mut Element, n: &mut usize) -> Option<&'e mut Element> {
        if *n == 0 {
            return Some(e);
        }
        *n -= 1;
        for c in &mut e.children {
            if let Node::Element(x) = c
                && let Some(found) = walk(x, n)
            {
                return Some(found);
            }
        }
        None
    }
    let mut n = n;
    walk(e, &mut n)
}

/// Removes the `n`th element (n ≥ 1); returns its name.
pub fn remove_nth(root: &mut Element, n: usize) -> Option<String> {
    edit_nth(root, n, |children, i| {
        let Node::Element(e) = children.remove(i) else {
            return String::new();
        };
        e.name.to_string()
    })
}

fn duplicate_nth(root: &mut Element, n: usize) -> Option<String> {
    edit_nth(root, n, |children, i| {
        let copy = children[i].clone();
        children.insert(i + 1, copy);
        match &children[i] {
            Node::Element(e) => e.name.to_string(),
            Node::Text(_) => String::new(),
        }
    })
}

/// Finds the `n`th element's parent and hands the edit its children and the index.
fn edit_nth(
    root: &mut Element,
    n: usize,
    edit: impl FnOnce(&mut Vec<Node>, usize) -> String,
) -> Option<String> {
    let path = path_to(root, n)?;
    let (last, parents) = path.split_last()?;
    let mut e = root;
    for i in parents {
        let Node::Element(x) = &mut e.children[*i] else {
            return None;
        };
        e = x;
    }
    Some(edit(&mut e.children, *last))
}

/// The child indexes leading to the `n`th element in document order (n ≥ 1).
fn path_to(e: &Element, n: usize) -> Option<Vec<usize>> {
    fn walk(e: &Element, n: &mut usize, path: &mut Vec<usize>) -> bool {
        for (i, c) in e.children.iter().enumerate() {
            if let Node::Element(x) = c {
                *n -= 1;
                path.push(i);
                if *n == 0 || walk(x, n, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    if n == 0 {
        return None;
    }
    let mut n = n;
    let mut path = Vec::new();
    walk(e, &mut n, &mut path).then_some(path)
}

// ---- wire ----

/// One wire mutation of a layer.
fn wire(rng: &mut Rng, layer: Layer, auth: AuthMethod, len: usize) -> Mutation {
    let len = len.max(1);
    match layer {
        Layer::Bytes => match rng.u8(..9) {
            0 => Mutation::Doctype,
            1 => Mutation::EntityBomb,
            2 => Mutation::BadUtf8(rng.usize(..len)),
            3 => Mutation::Utf16 {
                big_endian: rng.bool(),
                bom: rng.bool(),
            },
            4 => Mutation::Truncate(rng.usize(..len)),
            5 => Mutation::Deep([64, 300, 10_000, 100_000][rng.usize(..4)]),
            6 => Mutation::Huge([1, 4096, 150 * 1024][rng.usize(..3)]),
            7 => Mutation::XmlDecl(["UTF-16", "ISO-8859-1", "EBCDIC", ""][rng.usize(..4)].into()),
            _ => Mutation::BadUtf8(0),
        },
        Layer::Http => match rng.u8(..10) {
            0 => Mutation::ContentLength(if rng.bool() {
                -(rng.i64(1..=len as i64))
            } else {
                rng.i64(1..=64)
            }),
            1 => Mutation::NoContentLength,
            2 => Mutation::DoubleContentLength,
            3 => Mutation::Chunked,
            4 => Mutation::BadChunk,
            5 => Mutation::ContentType(
                [
                    "",
                    "text/xml",
                    "text/plain",
                    "application/soap+xml;charset=UTF-16",
                    "application/soap+xml;charset=bogus",
                    "multipart/encrypted",
                ][rng.usize(..6)]
                .into(),
            ),
            6 => Mutation::Method(
                ["GET", "PUT", "DELETE", "OPTIONS", "HEAD", "FUZZ"][rng.usize(..6)].into(),
            ),
            7 => Mutation::NoHost,
            8 => Mutation::Slow {
                // Thirty pieces at most, a few milliseconds apart: slow, but bounded.
                chunk: (len / 30).max(1),
                pause_ms: rng.u64(1..=3),
            },
            _ => Mutation::Pipeline,
        },
        Layer::Auth if auth == AuthMethod::Basic => match rng.u8(..4) {
            0 => Mutation::NoAuth,
            1 => Mutation::WrongPassword,
            2 => Mutation::BadBase64,
            _ => Mutation::Scheme(["basic", "Negotiate", "Bearer"][rng.usize(..3)].into()),
        },
        Layer::Auth => match rng.u8(..10) {
            0 => Mutation::NegotiateToken(tamper(rng, 40)),
            1..=3 => Mutation::AuthenticateToken(tamper(rng, 400)),
            4 => Mutation::AuthenticateElsewhere,
            5 => Mutation::NegotiateTwice,
            6 => Mutation::ReplayAuthenticate,
            7 => Mutation::BadBase64,
            8 => {
                if rng.bool() {
                    Mutation::NoAuth
                } else {
                    Mutation::WrongPassword
                }
            }
            _ => Mutation::Scheme(["NTLM", "negotiate", "Kerberos"][rng.usize(..3)].into()),
        },
        Layer::Seal => match rng.u8(..5) {
            0 => Mutation::SealOff,
            1 => Mutation::SealFlip(rng.usize(..len + 16), rng.u8(1..=255)),
            2 => Mutation::SealSkipSequence,
            3 => Mutation::SealReplay,
            _ => Mutation::SealLength(if rng.bool() { -1 } else { rng.i64(1..=64) }),
        },
        Layer::Tree | Layer::State => Mutation::Doctype,
    }
}

/// A token tamper: bytes at an offset, or a named field (flags, an emptied field, a dropped
/// AV pair: MsvAvNbComputerName 1, NbDomainName 2, DnsComputerName 3, DnsDomainName 4,
/// Timestamp 7, Flags 6, TargetName 9, ChannelBindings 10).
fn tamper(rng: &mut Rng, len: usize) -> Tamper {
    match rng.u8(..7) {
        0 | 1 => Tamper::Flip(rng.usize(..len), rng.u8(1..=255)),
        2 => Tamper::Truncate(rng.usize(..len)),
        3 => Tamper::Extend(rng.usize(1..=64)),
        4 => Tamper::Flags(1 << rng.u32(..32)),
        5 => {
            let fields: Vec<NtlmField> = NtlmField::all().collect();
            Tamper::Empty(fields[rng.usize(..fields.len())])
        }
        _ => Tamper::AvDrop([1, 2, 3, 4, 6, 7, 9, 10][rng.usize(..8)]),
    }
}

/// The kind of a label (`tree:drop a:MessageID` → `tree:drop`), for signatures.
pub fn label_kind(label: &str) -> Cow<'_, str> {
    if let Some(w) = label.strip_prefix("wire:")
        && let Ok(m) = w.parse::<Mutation>()
    {
        return Cow::Owned(format!("wire:{}", m.kind()));
    }
    let mut words = label.split(' ');
    Cow::Borrowed(words.next().unwrap_or(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Element {
        crate::xml::parse_document(
            b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Header><a/><b/></s:Header><s:Body><c><d/></c></s:Body></s:Envelope>",
            crate::xml::Limits::default(),
        )
        .unwrap()
    }

    #[test]
    fn elements_are_numbered_in_document_order() {
        let mut t = tree();
        assert_eq!(count(&t), 7);
        assert_eq!(nth_mut(&mut t, 3).unwrap().name.local, "b");
        assert_eq!(nth_mut(&mut t, 6).unwrap().name.local, "d");
        assert_eq!(remove_nth(&mut t, 5).as_deref(), Some("c"));
        assert_eq!(count(&t), 5);
        assert!(remove_nth(&mut t, 9).is_none());
        assert!(remove_nth(&mut t, 0).is_none(), "the root stays");
    }

    #[test]
    fn seeds_are_mixed() {
        assert_ne!(mix(1, 0), mix(1, 1));
        assert_ne!(mix(1, 0), mix(2, 0));
        assert_eq!(mix(7, 9), mix(7, 9));
    }

    #[test]
    fn label_kinds_drop_parameters() {
        assert_eq!(label_kind("tree:drop a:MessageID"), "tree:drop");
        assert_eq!(label_kind("wire:content-length:+7"), "wire:content-length");
        assert_eq!(
            label_kind("wire:ntlm-authenticate:flip@3^0x01"),
            "wire:ntlm-authenticate:flip"
        );
        assert_eq!(label_kind("state:repeat 2 at the end"), "state:repeat");
    }
}
