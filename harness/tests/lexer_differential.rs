//! The XML lexer under every reader must accept exactly what quick-xml's reader accepted, with
//! the same tokens and errors: over every fixture and corpus file, broken copies of them, and
//! generated markup soup (`wsman_harness::fuzzing::xml_lexer` panics on any difference; the
//! `xml_lexer` fuzz target runs the same check coverage-guided).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use wsman_harness::fuzzing::xml_lexer;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn texts() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut paths = Vec::new();
    files(&root.join("fixtures"), &mut paths);
    files(&root.join("corpus"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            text.contains('<').then_some((p, text))
        })
        .collect()
}

#[test]
fn every_recorded_message_lexes_as_quick_xml_reads_it() {
    let texts = texts();
    assert!(texts.len() > 500, "only {} files found", texts.len());
    let (mut tokens, mut clean) = (0, 0);
    for (_, text) in &texts {
        let ours = wsman_harness::fuzzing::lexer_outcome(text);
        tokens += ours.tokens.len();
        clean += usize::from(ours.error.is_none());
        xml_lexer(text.as_bytes());
    }
    // The files are real messages: a lexer that refused or stopped early would show here.
    assert!(
        clean * 10 > texts.len() * 9,
        "{clean} of {} read cleanly",
        texts.len()
    );
    assert!(tokens > 100_000, "{tokens} tokens");
}

/// Characters whose insertion or removal changes how markup reads.
const MARKUP: [&str; 16] = [
    "<", ">", "/", "!", "?", "-", "[", "]", "&", ";", "\"", "'", "=", " ", "\r", "#",
];

#[test]
fn broken_copies_of_recorded_messages_fail_alike() {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut checked = 0;
    for (_, text) in texts().iter().filter(|(_, t)| t.len() < 8192) {
        let cuts: Vec<usize> = (0..text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for _ in 0..12 {
            let at = cuts[rng.usize(..cuts.len())];
            let end = cuts.iter().copied().find(|&j| j > at).unwrap_or(text.len());
            let insert = MARKUP[rng.usize(..MARKUP.len())];
            for broken in [
                format!("{}{insert}{}", &text[..at], &text[at..]),
                format!("{}{}", &text[..at], &text[end..]),
                text[..at].to_owned(),
            ] {
                xml_lexer(broken.as_bytes());
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

fn soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "<",
        ">",
        "</",
        "/>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<?",
        "?>",
        "<?xml ",
        "<!DOCTYPE",
        "<!d",
        "&",
        ";",
        "&amp;",
        "&#x41;",
        "&#0;",
        "&bogus;",
        "=",
        "\"",
        "'",
        " ",
        "\t",
        "\r\n",
        "\r",
        "a",
        "b",
        "s:a",
        "xmlns",
        "xmlns:s",
        "encoding",
        "=\"utf-8\"",
        "x='1'",
        "\u{feff}",
        "é",
        ":",
        "-",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn nested() -> impl Strategy<Value = String> {
    // Mostly well-formed documents, so that the deep paths are reached too.
    let leaf = prop_oneof![
        Just(String::new()),
        "[a-z &;<>'\"\r\n]{0,8}",
        Just("<![CDATA[x]]>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("&lt;&#65;".to_owned()),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        (
            prop::sample::select(vec!["a", "s:b", "c", "w:Items"]),
            prop::sample::select(vec![
                "",
                " x='1'",
                " xmlns:s=\"urn:s\" y = \"2\"",
                " x='1' x='2'",
                " z",
                " q=v",
            ]),
            prop::collection::vec(inner, 0..4),
            any::<bool>(),
        )
            .prop_map(|(name, attrs, kids, close_ws)| {
                let ws = if close_ws { " " } else { "" };
                if kids.is_empty() {
                    format!("<{name}{attrs}/>")
                } else {
                    format!("<{name}{attrs}>{}</{name}{ws}>", kids.concat())
                }
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn markup_soup_lexes_as_quick_xml_reads_it(text in soup()) {
        xml_lexer(text.as_bytes());
    }

    #[test]
    fn generated_documents_lex_as_quick_xml_reads_them(
        decl in prop::sample::select(vec!["", "<?xml version='1.0' encoding='utf-8'?>", "<?xml?>"]),
        body in nested(),
    ) {
        xml_lexer(format!("{decl}{body}").as_bytes());
    }
}
