//! `WWW-Authenticate` and `Authorization` values (RFC 9110 §11): several challenges per header,
//! token68 credentials (base64 SPNEGO/NTLM tokens), and auth-params with quoted strings.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// One challenge (`Negotiate`, `Basic realm="WSMAN"`) or one set of credentials
/// (`Negotiate TlRMTVNTUAAB...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthValue {
    /// Scheme, as written (compare case-insensitively).
    pub scheme: String,
    /// A token68 (base64 token) when present.
    pub token: Option<String>,
    /// `name=value` parameters, names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
}

/// Why a header value could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    /// Character offset in the value.
    pub offset: usize,
    /// What was expected.
    pub reason: String,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "auth header, at character {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for HeaderError {}

impl AuthValue {
    /// A scheme with a base64 token.
    pub fn with_token(scheme: &str, token: &[u8]) -> Self {
        Self {
            scheme: scheme.into(),
            token: Some(B64.encode(token)),
            params: Vec::new(),
        }
    }

    /// True when the scheme is `s` (case-insensitive).
    pub fn is(&self, s: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(s)
    }

    /// The decoded token.
    pub fn token_bytes(&self) -> Option<Result<Vec<u8>, base64::DecodeError>> {
        self.token.as_ref().map(|t| B64.decode(t))
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for AuthValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(t) = &self.token {
            write!(f, " {t}")?;
        }
        for (i, (n, v)) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(
                f,
                "{sep}{n}=\"{}\"",
                v.replace('\\', "\\\\").replace('"', "\\\"")
            )?;
        }
        Ok(())
    }
}

/// Parses a `WWW-Authenticate` value: one or more comma-separated challenges.
pub fn parse_challenges(value: &str) -> Result<Vec<AuthValue>, HeaderError> {
    let mut p = Lexer { s: value, pos: 0 };
    let mut out: Vec<AuthValue> = Vec::new();
    loop {
        p.skip_separators();
        if p.done() {
            break;
        }
        out.push(p.auth_value()?);
    }
    if out.is_empty() {
        return Err(HeaderError {
            offset: 0,
            reason: "expected at least one challenge".into(),
        });
    }
    Ok(out)
}

/// Parses an `Authorization` value: exactly one set of credentials.
pub fn parse_credentials(value: &str) -> Result<AuthValue, HeaderError> {
    let mut p = Lexer { s: value, pos: 0 };
    p.skip_ws();
    let v = p.auth_value()?;
    p.skip_ws();
    if !p.done() {
        return Err(p.error("end of credentials"));
    }
    Ok(v)
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn is_token68(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/".contains(c)
}

impl Lexer<'_> {
    fn done(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn error(&self, expected: &str) -> HeaderError {
        HeaderError {
            offset: self.pos,
            reason: format!(
                "expected {expected}, found {}",
                self.peek()
                    .map_or("end of value".into(), |c| format!("{c:?}"))
            ),
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | ',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// `scheme [ 1*SP ( token68 / #auth-param ) ]`
    fn auth_value(&mut self) -> Result<AuthValue, HeaderError> {
        let scheme = self.token().to_owned();
        if scheme.is_empty() {
            return Err(self.error("an auth scheme"));
        }
        let mut v = AuthValue {
            scheme,
            token: None,
            params: Vec::new(),
        };
        let before = self.pos;
        self.skip_ws();
        if self.done() || self.peek() == Some(',') || self.pos == before {
            return Ok(v);
        }
        // token68 unless it is followed by '=' and more (then it is an auth-param).
        let start = self.pos;
        while self.peek().is_some_and(is_token68) {
            self.pos += 1;
        }
        let word_end = self.pos;
        while self.peek() == Some('=') {
            self.pos += 1;
        }
        let mut look = self.pos;
        while self.s[look..].starts_with([' ', '\t']) {
            look += 1;
        }
        let is_param = word_end > start
            && self.s[word_end..].starts_with('=')
            && !(self.s[look..].is_empty() || self.s[look..].starts_with(','));
        if !is_param {
            if word_end == start {
                return Err(self.error("a token or auth-param"));
            }
            v.token = Some(self.s[start..self.pos].to_owned());
            return Ok(v);
        }
        self.pos = start;
        loop {
            let name = self.token().to_ascii_lowercase();
            self.skip_ws();
            if name.is_empty() || self.peek() != Some('=') {
                return Err(self.error("'=' after a parameter name"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let t = self.token().to_owned();
                if t.is_empty() {
                    return Err(self.error("a parameter value"));
                }
                t
            };
            v.params.push((name, value));
            // Another param of this challenge, or the next challenge?
            let save = self.pos;
            self.skip_ws();
            if self.peek() != Some(',') {
                self.pos = save;
                return Ok(v);
            }
            self.skip_separators();
            let probe = self.pos;
            let next = self.token().to_owned();
            self.skip_ws();
            let is_param = !next.is_empty() && self.peek() == Some('=');
            self.pos = probe;
            if !is_param {
                return Ok(v);
            }
        }
    }

    fn quoted(&mut self) -> Result<String, HeaderError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.s[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(HeaderError {
            offset: start,
            reason: "unterminated quoted string".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_401_challenges_parse() {
        let v = parse_challenges("Negotiate, Kerberos, Basic realm=\"WSMAN\"").unwrap();
        let schemes: Vec<_> = v.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Negotiate", "Kerberos", "Basic"]);
        assert_eq!(v[2].param("Realm"), Some("WSMAN"));
    }

    #[test]
    fn tokens_and_params_are_told_apart() {
        let v = parse_challenges(
            "Negotiate oYG2MIGzoAMKAQGi==, Basic realm=\"a, b\", charset=UTF-8, NTLM",
        )
        .unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].token.as_deref(), Some("oYG2MIGzoAMKAQGi=="));
        assert_eq!(
            v[1].params,
            [
                ("realm".into(), "a, b".into()),
                ("charset".into(), "UTF-8".into())
            ]
        );
        assert!(v[2].is("ntlm"));
        let c = parse_credentials("Negotiate TlRMTVNTUAABAAAAB4IIog==").unwrap();
        assert_eq!(&c.token_bytes().unwrap().unwrap()[..8], b"NTLMSSP\0");
        let b = parse_credentials("Basic dXNlcjpwYXNz").unwrap();
        assert_eq!(b.token_bytes().unwrap().unwrap(), b"user:pass");
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "Negotiate TlRMTVNT",
            "Basic realm=\"WS\\\"MAN\"",
            "Kerberos",
        ] {
            let v = parse_credentials(s).unwrap();
            assert_eq!(parse_credentials(&v.to_string()).unwrap(), v);
        }
    }

    #[test]
    fn malformed_values_give_positions() {
        assert_eq!(parse_credentials("").unwrap_err().offset, 0);
        let e = parse_credentials("Basic realm=\"open").unwrap_err();
        assert!(e.reason.contains("unterminated"), "{e}");
        let e = parse_credentials("Negotiate abc def").unwrap_err();
        assert_eq!(e.offset, 14);
        assert!(parse_challenges(" , ,").is_err());
        assert!(parse_credentials("Basic a=\"1\" b").is_err());
    }
}
