//! Invariants checked by the fuzz targets (`fuzz/`), kept in the library so that `cargo test`
//! checks them on every seed too. Each function panics when an invariant breaks.

mod lexer;
mod model;

pub use lexer::{Outcome as LexerOutcome, ours as lexer_outcome, xml_lexer};

use crate::envelope::{parse_with, write};
use crate::xml::{Limits, PrefixStyle, equivalent};

/// Fuzz limits: small enough that a run explores breadth, not megabyte inputs.
const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_depth: 128,
};

/// Parsing any bytes returns a value or an error with an offset inside the input; whatever
/// parses writes back, in both prefix styles, to an equivalent document that parses to the
/// same model and writes to the same text again.
pub fn envelope(data: &[u8]) {
    let env = match parse_with(data, LIMITS) {
        Ok(env) => env,
        Err(e) => {
            assert!(
                e.offset as usize <= data.len(),
                "error offset {} past input {}",
                e.offset,
                data.len()
            );
            return;
        }
    };
    for style in [PrefixStyle::Windows, PrefixStyle::Preserve] {
        let out = stable_write(&env, style);
        if let Err(e) = equivalent(data, out.as_bytes()) {
            panic!("{style:?} write is not equivalent to the input: {e}\n{out}");
        }
    }
}

/// Writes `env` in `style`; the text parses back to the same model and writes to the same text
/// again (panics otherwise). Returns the text.
fn stable_write(env: &crate::Envelope, style: PrefixStyle) -> String {
    let out = write(env, style);
    let again = parse_with(out.as_bytes(), Limits::UNBOUNDED)
        .unwrap_or_else(|e| panic!("written envelope does not parse: {e}\n{out}"));
    assert!(again == *env, "model changed after {style:?} write\n{out}");
    assert_eq!(write(&again, style), out, "second {style:?} write differs");
    out
}

/// NTLM messages: decoding never panics; whatever decodes encodes to bytes that decode to the
/// same message.
pub fn ntlm_message(data: &[u8]) {
    use crate::auth::ntlm::{AvPairs, Message};
    if let Ok(m) = Message::decode(data) {
        let again = Message::decode(&m.encode()).expect("an encoded message decodes");
        assert_eq!(again, m);
        if let Message::Challenge(c) = &m {
            let _ = c.av_pairs();
        }
    }
    let _ = AvPairs::decode(data);
}

/// SPNEGO tokens: decode → encode → decode is stable.
pub fn spnego_token(data: &[u8]) {
    use crate::auth::spnego::Token;
    if let Ok(t) = Token::decode(data) {
        let again = Token::decode(&t.encode()).expect("an encoded token decodes");
        assert_eq!(again, t);
    }
}

/// `WWW-Authenticate` / `Authorization` values: parse → display → parse is stable.
pub fn auth_header(data: &[u8]) {
    use crate::auth::header::{parse_challenges, parse_credentials};
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = parse_credentials(s) {
        let again = parse_credentials(&v.to_string()).expect("displayed credentials parse");
        assert_eq!(again, v);
        let _ = v.token_bytes();
    }
    if let Ok(list) = parse_challenges(s) {
        for c in list {
            let _ = parse_credentials(&c.to_string());
        }
    }
}

/// Encrypted bodies: the first line of the input is the Content-Type, the rest the body;
/// decode → encode → decode is stable.
pub fn encrypted_body(data: &[u8]) {
    use crate::auth::encrypted_body::EncryptedBody;
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let Ok(ct) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or_default();
    if let Ok((b, _)) = EncryptedBody::decode(ct.trim_end(), body) {
        let (again, quirks) =
            EncryptedBody::decode(&b.content_type(), &b.encode()).expect("an encoded body decodes");
        assert_eq!(again, b);
        assert_eq!(quirks, Default::default(), "our own encoding has no quirks");
    }
}

/// xs:duration values: parsing never panics; a valid timeout formats and parses back.
pub fn xs_duration(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = crate::duration::parse_timeout(s) {
        let back = crate::duration::parse_timeout(&crate::duration::format(d))
            .expect("formatted duration parses");
        assert_eq!(back.as_millis(), d.as_millis());
    }
}

/// Configuration value grammars (IP filters, TrustedHosts, URLPrefix, thumbprint, SDDL, numbers,
/// booleans, and the `@{Key="Value"}` syntax of `winrm set`): the first byte picks the setting,
/// the rest is the value; validation never panics and a canonical value validates to itself.
pub fn config_values(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    let settings = crate::config::settings();
    let s = &settings[pick as usize % settings.len()];
    if let Ok(canonical) = crate::config::validate(s, value) {
        let again = crate::config::validate(s, &canonical).expect("a canonical value is valid");
        assert_eq!(again, canonical, "{}: canonical form is stable", s.path);
    }
    let _ = crate::config::filter_allows(value, std::net::IpAddr::from([127, 0, 0, 1]));
    if crate::winrm::hash::looks_like_hash(value) {
        hash_argument(value, &s.path);
    }
}

/// The `@{Key="Value"}` argument of `winrm set`: parsed, then checked against the section of
/// the picked setting; every position reported lies inside the argument.
fn hash_argument(value: &str, setting_path: &str) {
    let n = value.chars().count();
    match crate::winrm::hash::parse(value) {
        Err(e) => assert!(e.at <= n, "hash error at {} past {n} characters", e.at),
        Ok(h) => {
            for p in &h.pairs {
                assert!(p.key_at < n && p.value_at <= n, "pair positions inside");
            }
            let section = setting_path.rsplit_once('/').map_or("", |(d, _)| d);
            let r = crate::winrm::resource::ResourceRef {
                uri: crate::config::section_uri(section),
                selectors: Vec::new(),
            };
            if let Err(refused) = crate::winrm::validate::check(&r, &h) {
                assert!(
                    refused.at <= n,
                    "refusal at {} past {n} characters",
                    refused.at
                );
            }
        }
    }
}

/// Parse only: the fast target for raw exploration of the reader (no write-back checks), so
/// that it runs at the speed a parser fuzzer should. Errors must lie inside the input.
pub fn envelope_parse(data: &[u8]) {
    if let Err(e) = parse_with(data, LIMITS) {
        assert!(
            e.offset as usize <= data.len(),
            "error offset {} past input {}",
            e.offset,
            data.len()
        );
    }
}

/// Any text either reads as a scenario or gives an error whose line and column lie inside the
/// text; a scenario that reads writes back to text that reads again with the same steps,
/// requests, responses and assertions.
pub fn scenario_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let s = match crate::scenario::file::parse(text, "fuzz", None) {
        Ok(s) => s,
        Err(e) => {
            let lines = text.lines().count().max(1) + 1;
            assert!(e.line <= lines, "error line {} past {lines} lines", e.line);
            return;
        }
    };
    let written = crate::scenario::file::write(&s, &crate::scenario::file::WriteExtras::default());
    let again = crate::scenario::file::parse(&written, "fuzz-again", None)
        .unwrap_or_else(|e| panic!("written scenario does not read back: {e}\n{written}"));
    assert_eq!(again.steps.len(), s.steps.len());
    for (a, b) in s.steps.iter().zip(&again.steps) {
        assert_eq!(a.request, b.request);
        assert_eq!(a.name, b.name);
        assert_eq!(a.asserts, b.asserts);
        assert_eq!(a.wire, b.wire);
        assert_eq!(
            a.response.as_ref().map(|r| (&r.body, r.status)),
            b.response.as_ref().map(|r| (&r.body, r.status))
        );
    }
}

/// The structure-aware target: the input drives a builder of request envelopes from the model
/// ([`model::request`]). Every built envelope writes and parses back to itself in both prefix
/// styles, and the reference service answers it without panicking: with an envelope (a fault
/// exactly when the status says failure) or, for refusals below SOAP, an empty body.
pub fn envelope_model(data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(env) = model::request(&mut u) else {
        return;
    };
    stable_write(&env, PrefixStyle::Preserve);
    let xml = stable_write(&env, PrefixStyle::Windows);
    let reply = service().handle(
        xml.as_bytes(),
        &crate::server::RequestContext {
            user: Some(FUZZ_USER.into()),
            deadline_passed: true,
        },
    );
    if reply.body.is_empty() {
        assert!(
            reply.status != 200 || is_empty_ok(&env),
            "HTTP 200 without a body\n{xml}"
        );
        return;
    }
    let answer = crate::envelope::parse(reply.body.as_bytes())
        .unwrap_or_else(|e| panic!("the service's answer does not parse: {e}\n{}", reply.body));
    let fault = matches!(answer.body, crate::envelope::Body::Fault(_));
    assert_eq!(
        fault,
        reply.status >= 400,
        "HTTP {} with {} body\nrequest: {xml}\nanswer: {}",
        reply.status,
        if fault { "a fault" } else { "a non-fault" },
        reply.body
    );
}

/// Requests the service may answer with an empty 200 (none today: kept as the one place to
/// say so if a WS-Man operation ever has an empty success reply).
fn is_empty_ok(_env: &crate::Envelope) -> bool {
    false
}

const FUZZ_USER: &str = "fuzz";

/// A fresh reference service per input (seed profile, 40 items in the sample collection), so
/// that an input's answer depends on the input alone: a finding replays from its bytes.
fn service() -> crate::server::Service {
    crate::server::Service::new(crate::server::ServerConfig {
        collection_size: 40,
        users: vec![crate::server::User::new(FUZZ_USER, "unused")],
        ..Default::default()
    })
}
