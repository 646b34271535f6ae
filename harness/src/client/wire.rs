//! The wire log: every HTTP exchange a client makes, as a report shows it. Secrets never enter
//! it: credentials in `Authorization` and auth tokens in `WWW-Authenticate` are replaced by
//! their scheme and length when recorded, not when printed.

use serde::Serialize;

/// Bodies longer than this are cut in the log (the exchange itself is not).
pub const LOGGED_BODY_LIMIT: usize = 64 * 1024;

/// One HTTP message as logged.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct WireMessage {
    /// `POST /wsman HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start_line: String,
    /// Headers in order, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// The body as text (the plaintext when it travelled sealed), cut at [`LOGGED_BODY_LIMIT`].
    pub body: String,
    /// Size of the body on the wire.
    pub wire_bytes: usize,
    /// Why the body shown differs from the wire bytes (sealed, cut, binary), if it does.
    pub note: Option<String>,
}

/// A request and what came back.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Exchange {
    /// What was sent.
    pub request: WireMessage,
    /// What came back, when something did.
    pub response: Option<WireMessage>,
    /// Transport failure (timeout, reset, too large), when the exchange did not complete.
    pub error: Option<String>,
    /// Milliseconds from sending to the end of the response.
    pub millis: u64,
}

impl WireMessage {
    /// A logged message; `plain` is the body as the harness sees it (after unsealing).
    pub fn new(
        start_line: String,
        headers: &[(String, String)],
        plain: &[u8],
        wire_bytes: usize,
        sealed: bool,
    ) -> Self {
        let headers = headers
            .iter()
            .map(|(n, v)| (n.clone(), redact_header(n, v)))
            .collect();
        let mut notes = Vec::new();
        if sealed {
            notes.push(format!(
                "sealed on the wire ({wire_bytes} bytes); the plaintext is shown"
            ));
        }
        let cut = plain.len().min(LOGGED_BODY_LIMIT);
        let body = match std::str::from_utf8(&plain[..cut]) {
            Ok(s) => s.to_owned(),
            Err(e) if e.valid_up_to() + 4 > cut && cut < plain.len() => {
                String::from_utf8_lossy(&plain[..e.valid_up_to()]).into_owned()
            }
            Err(_) => {
                notes.push("not UTF-8; shown with replacement characters".into());
                String::from_utf8_lossy(&plain[..cut]).into_owned()
            }
        };
        if cut < plain.len() {
            notes.push(format!("{} of {} bytes shown", body.len(), plain.len()));
        }
        Self {
            start_line,
            headers,
            body,
            wire_bytes,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }

    /// The message as text: start line, headers, blank line, body.
    pub fn to_text(&self) -> String {
        let mut s = self.start_line.clone();
        s.push('\n');
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\n"));
        }
        if let Some(n) = &self.note {
            s.push_str(&format!("[{n}]\n"));
        }
        s.push('\n');
        s.push_str(&self.body);
        s
    }
}

/// Credentials become `<scheme> <redacted N chars>` whatever their shape (a Digest response
/// is as secret as a Basic token); challenge tokens too, but challenge parameters such as
/// `realm` stay. Other headers are kept.
pub fn redact_header(name: &str, value: &str) -> String {
    let is = |h: &str| name.eq_ignore_ascii_case(h);
    if is("authorization") || is("proxy-authorization") || is("cookie") {
        return match value.split_once(' ') {
            Some((scheme, rest)) => format!("{scheme} <redacted {} chars>", rest.trim().len()),
            None => format!("<redacted {} chars>", value.len()),
        };
    }
    if !is("www-authenticate") && !is("proxy-authenticate") {
        return value.to_owned();
    }
    value
        .split(", ")
        .map(|part| match part.split_once(' ') {
            Some((scheme, rest)) if !rest.contains('=') || rest.trim_end().ends_with('=') => {
                format!("{scheme} <redacted {} chars>", rest.trim().len())
            }
            // `Basic realm="WSMAN"`: parameters are not secrets.
            Some(_) => part.to_owned(),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_tokens_are_redacted_but_realms_kept() {
        assert_eq!(
            redact_header("Authorization", "Basic dmFncmFudDpQYXNzdzByZCE="),
            "Basic <redacted 24 chars>"
        );
        assert_eq!(
            redact_header("WWW-Authenticate", "Negotiate TlRMTVNTUAACAAAA"),
            "Negotiate <redacted 16 chars>"
        );
        assert_eq!(
            redact_header("WWW-Authenticate", "Basic realm=\"WSMAN\""),
            "Basic realm=\"WSMAN\""
        );
        assert_eq!(redact_header("Content-Type", "a b"), "a b");
        assert_eq!(
            redact_header("Authorization", "Digest username=\"u\", response=\"abc\""),
            "Digest <redacted 28 chars>"
        );
    }

    #[test]
    fn long_and_binary_bodies_are_cut_and_noted() {
        let big = vec![b'a'; LOGGED_BODY_LIMIT + 10];
        let m = WireMessage::new("x".into(), &[], &big, big.len(), true);
        assert_eq!(m.body.len(), LOGGED_BODY_LIMIT);
        let note = m.note.unwrap();
        assert!(note.contains("sealed") && note.contains("shown"), "{note}");
        let m = WireMessage::new("x".into(), &[], &[0xff, 0xfe], 2, false);
        assert!(m.note.unwrap().contains("not UTF-8"));
    }
}
