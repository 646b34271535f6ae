//! The `@{Key="Value";Key2="Value2"}` argument of `winrm set/create/invoke`.
//!
//! Grammar (as the Windows tool reads it): `@{`, then zero or more `Key = Value` pairs separated
//! by `;`, then `}`. Blanks are allowed around keys, `=` and `;` (the seed document writes
//! `@{TrustedHosts ="[0:0:0:0:0:0:0:0]"}`). A value is double-quoted (and may then hold `;`, `}`,
//! `=` and blanks) or bare up to the next `;` or `}`. Keys compare without letter case and may not
//! repeat. Positions in errors count characters from the start of the argument, so that the
//! caret under the argument points at the problem.

use std::fmt;

/// One `Key="Value"` pair, with where its value starts (for errors found later, when the value
/// is checked against the configuration model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// The key as written.
    pub key: String,
    /// The value without its quotes.
    pub value: String,
    /// Character index of the key's first character.
    pub key_at: usize,
    /// Character index of the value's first character (after the opening quote).
    pub value_at: usize,
}

/// A parsed hash: its pairs in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hash {
    /// The pairs.
    pub pairs: Vec<Pair>,
}

impl Hash {
    /// The pair with this key (letter case ignored).
    pub fn get(&self, key: &str) -> Option<&Pair> {
        self.pairs.iter().find(|p| p.key.eq_ignore_ascii_case(key))
    }
}

/// Why a hash did not parse: where, what was expected there, and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashError {
    /// Character index in the argument.
    pub at: usize,
    /// What the grammar wanted.
    pub expected: String,
    /// What stood there (`end of argument` at the end).
    pub found: String,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at character {}: expected {}, found {}",
            self.at, self.expected, self.found
        )
    }
}

impl std::error::Error for HashError {}

/// True when an argument is meant as a hash (starts with `@{`, blanks aside).
pub fn looks_like_hash(arg: &str) -> bool {
    arg.trim_start().starts_with("@{")
}

/// Parses a whole argument.
pub fn parse(arg: &str) -> Result<Hash, HashError> {
    let chars: Vec<char> = arg.chars().collect();
    let mut p = Parser { chars, at: 0 };
    p.blanks();
    p.expect('@', "\"@{\" to start the hash")?;
    p.expect('{', "\"{\" after \"@\"")?;
    let mut hash = Hash::default();
    p.blanks();
    if p.eat('}') {
        return p.finish(hash);
    }
    loop {
        let pair = p.pair()?;
        if let Some(first) = hash.get(&pair.key) {
            return Err(HashError {
                at: pair.key_at,
                expected: format!(
                    "a key not given before ({} is already set at character {})",
                    first.key, first.key_at
                ),
                found: format!("{:?}", pair.key),
            });
        }
        hash.pairs.push(pair);
        p.blanks();
        if p.eat('}') {
            return p.finish(hash);
        }
        p.expect(';', "\";\" between pairs or \"}\" to end the hash")?;
        p.blanks();
        // Windows accepts a trailing `;` before `}`.
        if p.eat('}') {
            return p.finish(hash);
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn blanks(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("{:?}", c.to_string()),
            None => "the end of the argument".into(),
        }
    }

    fn fail(&self, expected: &str) -> HashError {
        HashError {
            at: self.at,
            expected: expected.to_owned(),
            found: self.found(),
        }
    }

    fn expect(&mut self, c: char, expected: &str) -> Result<(), HashError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.fail(expected))
        }
    }

    fn pair(&mut self) -> Result<Pair, HashError> {
        let key_at = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
        {
            self.at += 1;
        }
        if self.at == key_at {
            return Err(self.fail("a key (letters, digits, \"_\")"));
        }
        let key: String = self.chars[key_at..self.at].iter().collect();
        self.blanks();
        self.expect('=', &format!("\"=\" after the key {key}"))?;
        self.blanks();
        let (value, value_at) = if self.eat('"') {
            let start = self.at;
            while self.peek().is_some_and(|c| c != '"') {
                self.at += 1;
            }
            if self.peek().is_none() {
                return Err(HashError {
                    at: start - 1,
                    expected: format!("a closing quote for the value of {key}"),
                    found: "the end of the argument".into(),
                });
            }
            let v: String = self.chars[start..self.at].iter().collect();
            self.at += 1;
            (v, start)
        } else {
            let start = self.at;
            while self.peek().is_some_and(|c| c != ';' && c != '}') {
                if self.peek() == Some('"') {
                    return Err(self.fail(&format!(
                        "a value of {key} either quoted as a whole or without quotes"
                    )));
                }
                self.at += 1;
            }
            let v: String = self.chars[start..self.at].iter().collect();
            (v.trim_end().to_owned(), start)
        };
        Ok(Pair {
            key,
            value,
            key_at,
            value_at,
        })
    }

    fn finish(&mut self, hash: Hash) -> Result<Hash, HashError> {
        self.blanks();
        if self.peek().is_some() {
            return Err(self.fail("nothing after the closing \"}\""));
        }
        Ok(hash)
    }
}

/// The argument with a caret line under character `at`, for error messages.
pub fn caret(arg: &str, at: usize) -> String {
    let pad: String = arg
        .chars()
        .take(at)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("  {arg}\n  {pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_documents_forms() {
        let h = parse(r#"@{TrustedHosts ="[0:0:0:0:0:0:0:0]"}"#).unwrap();
        assert_eq!(h.pairs.len(), 1);
        assert_eq!(h.pairs[0].key, "TrustedHosts");
        assert_eq!(h.pairs[0].value, "[0:0:0:0:0:0:0:0]");
        assert_eq!(h.pairs[0].value_at, 17);
        let h =
            parse(r#"@{ Hostname="host.fabrikam.com" ; Port = 5986;Enabled="true"; }"#).unwrap();
        let got: Vec<_> = h
            .pairs
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Hostname", "host.fabrikam.com"),
                ("Port", "5986"),
                ("Enabled", "true")
            ]
        );
        assert_eq!(h.get("port").unwrap().value, "5986");
        assert!(parse("@{}").unwrap().pairs.is_empty());
        let quoted = parse(r#"@{A="x;y}=z"}"#).unwrap();
        assert_eq!(quoted.pairs[0].value, "x;y}=z");
        assert_eq!(parse(r#"@{A=""}"#).unwrap().pairs[0].value, "");
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        let cases = [
            ("{A=\"1\"}", 0, "\"@{\""),
            ("@A=1}", 1, "\"{\""),
            ("@{A=\"1\"", 7, "\";\" between pairs or \"}\""),
            ("@{A=\"1}", 4, "closing quote"),
            ("@{=1}", 2, "a key"),
            ("@{A 1}", 4, "\"=\" after the key A"),
            ("@{A=1;a=2}", 6, "not given before"),
            ("@{A=\"1\" B=2}", 8, "\";\" between pairs"),
            ("@{A=1} x", 7, "nothing after"),
            ("@{A=x\"y\"}", 5, "quoted as a whole"),
        ];
        for (arg, at, expected) in cases {
            let e = parse(arg).unwrap_err();
            assert_eq!(e.at, at, "{arg}: {e}");
            assert!(e.expected.contains(expected), "{arg}: {e}");
        }
        let e = parse("@{A=\"1\"").unwrap_err();
        assert_eq!(e.found, "the end of the argument");
        assert_eq!(caret("@{A=1", 3), "  @{A=1\n     ^");
    }
}
