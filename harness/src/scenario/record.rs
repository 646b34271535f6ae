//! Turning observed HTTP exchanges into a scenario: the recording proxy's protocol core (no
//! I/O). It watches NTLM handshakes so that, given the password, it can read bodies sealed
//! with MS-WSMV message encryption in both directions, and it redacts every secret it knows
//! (passwords given or seen in Basic credentials, in plain, base64 and UTF-16 base64 forms)
//! before anything is kept. Authorization headers and auth tokens are never kept at all.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::compare::Rules;
use super::import::step_label;
use super::model::{Meta, Recorded, Scenario, Step};
use crate::auth::encrypted_body::EncryptedBody;
use crate::auth::header::{parse_challenges, parse_credentials};
use crate::auth::message_security::unseal_ntlm;
use crate::auth::ntlm::{Observed, crypto::nt_hash, observe};
use crate::auth::spnego::Token;
use crate::xml::{Limits, parse_document};

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// One HTTP message as the proxy saw it.
pub struct Seen<'a> {
    /// Headers (names as sent).
    pub headers: &'a [(String, String)],
    /// Body bytes as on the wire.
    pub body: &'a [u8],
}

impl Seen<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Watch {
    Idle,
    Negotiated {
        negotiate: Vec<u8>,
        mech_types: Option<Vec<u8>>,
    },
    Challenged {
        negotiate: Vec<u8>,
        challenge: Vec<u8>,
        mech_types: Option<Vec<u8>>,
    },
    Established(Box<Observed>),
}

/// Records one client connection.
pub struct Recorder {
    account: Option<(String, [u8; 16])>,
    secrets: Vec<String>,
    watch: Watch,
    /// The SPNEGO mechanism list whose server-side MIC is still to come.
    pending_mic: Option<Vec<u8>>,
    steps: Vec<Step>,
    /// What could not be recorded, and why (sealed bodies without credentials, ...).
    pub notes: Vec<String>,
}

impl Recorder {
    /// A recorder; `account` (user, password) lets it read sealed bodies, `secrets` are
    /// redacted wherever they appear (the password is added to them).
    pub fn new(account: Option<(&str, &str)>, secrets: &[String]) -> Self {
        let mut all: Vec<String> = secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
        if let Some((_, p)) = account
            && !p.is_empty()
        {
            all.push(p.to_owned());
        }
        Self {
            account: account.map(|(u, p)| (u.to_owned(), nt_hash(p))),
            secrets: all,
            watch: Watch::Idle,
            pending_mic: None,
            steps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Observes one request and its response.
    pub fn exchange(&mut self, request: Seen<'_>, status: u16, response: Seen<'_>) {
        if let Some(auth) = request.header("Authorization") {
            self.authorization(auth);
        }
        if let Some(w) = response.header("WWW-Authenticate") {
            self.challenge(w, status);
        }
        let req = match self.plaintext(&request, true) {
            Ok(Some(b)) => b,
            Ok(None) => return, // handshake leg: nothing to record
            Err(why) => {
                self.notes.push(format!("request not recorded: {why}"));
                return;
            }
        };
        if status == 401 {
            return;
        }
        let resp = match self.plaintext(&response, false) {
            Ok(b) => b.unwrap_or_default(),
            Err(why) => {
                self.notes.push(format!("response not recorded: {why}"));
                return;
            }
        };
        let (req, resp) = (self.redact(&req), self.redact(&resp));
        let Ok(request_tree) = parse_document(req.as_bytes(), Limits::default()) else {
            self.notes.push("request is not XML; not recorded".into());
            return;
        };
        let tree = if resp.trim().is_empty() {
            None
        } else {
            match parse_document(resp.as_bytes(), Limits::default()) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.notes
                        .push(format!("response is not XML ({e}); kept out"));
                    return;
                }
            }
        };
        let request_headers = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("WSMANIDENTIFY"))
            .cloned()
            .collect();
        self.steps.push(Step {
            name: step_label(&request_tree),
            request: req,
            request_tree: request_tree.into(),
            request_headers,
            response: Some(Recorded {
                status,
                headers: Vec::new(),
                body: resp,
                tree: tree.map(Into::into),
            }),
            asserts: Vec::new(),
            captures: Vec::new(),
            line: 0,
            synthetic: false,
            wire: Vec::new(),
        });
    }

    /// The recording as a scenario.
    pub fn into_scenario(self, name: &str, source: &str) -> Option<Scenario> {
        if self.steps.is_empty() {
            return None;
        }
        Some(Scenario {
            name: name.to_owned(),
            meta: Meta {
                source: Some(source.to_owned()),
                reference: true,
                ..Meta::default()
            },
            namespaces: Vec::new(),
            rules: Rules::defaults(),
            steps: self.steps,
            file: None,
        })
    }

    fn authorization(&mut self, value: &str) {
        let Ok(creds) = parse_credentials(value) else {
            return;
        };
        let Some(Ok(token)) = creds.token_bytes() else {
            return;
        };
        if creds.is("Basic") {
            if let Ok(text) = String::from_utf8(token)
                && let Some((_, password)) = text.split_once(':')
                && !password.is_empty()
                && !self.secrets.iter().any(|s| s == password)
            {
                self.secrets.push(password.to_owned());
            }
            return;
        }
        if !(creds.is("Negotiate") || creds.is("NTLM")) {
            return;
        }
        let (inner, spnego) = unwrap(&token);
        let Some(inner) = inner else { return };
        match inner.get(8) {
            Some(1) => {
                let mech_types = match &spnego {
                    Some(Token::Init(i)) => Some(i.mech_types_der()),
                    _ => None,
                };
                self.watch = Watch::Negotiated {
                    negotiate: inner,
                    mech_types,
                };
            }
            Some(3) => {
                let Watch::Challenged {
                    negotiate,
                    challenge,
                    mech_types,
                } = std::mem::replace(&mut self.watch, Watch::Idle)
                else {
                    return;
                };
                let Some((user, hash)) = &self.account else {
                    return;
                };
                let found = |u: &str, _: &str| u.eq_ignore_ascii_case(user).then_some(*hash);
                match observe(&negotiate, &challenge, &inner, found) {
                    Ok(mut o) => {
                        // SPNEGO's mechListMIC takes sequence number 0 from the client; the
                        // server's is checked when the final token comes back.
                        if let (Some(Token::Resp(r)), Some(types)) = (&spnego, &mech_types)
                            && let Some(mic) = &r.mech_list_mic
                        {
                            let _ = o.server_side.verify(types, mic);
                            self.pending_mic = Some(types.clone());
                        }
                        self.watch = Watch::Established(Box::new(o));
                    }
                    Err(e) => self.notes.push(format!(
                        "NTLM session not readable ({e}); is the password right?"
                    )),
                }
            }
            _ => {}
        }
    }

    fn challenge(&mut self, value: &str, status: u16) {
        let Ok(list) = parse_challenges(value) else {
            return;
        };
        for c in list {
            let Some(Ok(token)) = c.token_bytes() else {
                continue;
            };
            let (inner, spnego) = unwrap(&token);
            match (&mut self.watch, inner) {
                (Watch::Negotiated { .. }, Some(inner)) if inner.get(8) == Some(&2) => {
                    if let Watch::Negotiated {
                        negotiate,
                        mech_types,
                    } = std::mem::replace(&mut self.watch, Watch::Idle)
                    {
                        self.watch = Watch::Challenged {
                            negotiate,
                            challenge: inner,
                            mech_types,
                        };
                    }
                }
                (Watch::Established(o), _) if status != 401 => {
                    if let (Some(Token::Resp(r)), Some(types)) = (&spnego, self.pending_mic.take())
                    {
                        if let Some(mic) = &r.mech_list_mic {
                            let _ = o.client_side.verify(&types, mic);
                        }
                        o.server_side.reset_ciphers();
                        o.client_side.reset_ciphers();
                    }
                }
                _ => {}
            }
        }
    }

    /// The body as text: unsealed when it travelled sealed. `Ok(None)` for an empty body.
    fn plaintext(&mut self, m: &Seen<'_>, from_client: bool) -> Result<Option<String>, String> {
        if m.body.is_empty() {
            return Ok(None);
        }
        let ct = m.header("Content-Type").unwrap_or_default();
        let essence = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let bytes = if essence.starts_with("multipart/") && essence.contains("encrypted") {
            let Watch::Established(o) = &mut self.watch else {
                return Err(
                    "the body is sealed (MS-WSMV message encryption); give the account's \
                     password to read it"
                        .into(),
                );
            };
            let (body, _) = EncryptedBody::decode(ct, m.body).map_err(|e| e.to_string())?;
            let session = if from_client {
                &mut o.server_side
            } else {
                &mut o.client_side
            };
            unseal_ntlm(session, &body).map_err(|e| format!("cannot unseal: {e}"))?
        } else {
            m.body.to_vec()
        };
        crate::xml::decode(&bytes, Limits::UNBOUNDED)
            .map(|d| Some(d.text.into_owned()))
            .map_err(|e| format!("body is not text: {e}"))
    }

    /// Replaces every known secret, in the forms a body may carry it.
    fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            for form in secret_forms(s) {
                if out.contains(&form) {
                    out = out.replace(&form, REDACTED);
                }
            }
        }
        out
    }
}

/// The forms a secret takes in a body: itself, and its base64 in UTF-8 and UTF-16LE at each
/// of the three byte alignments it can have inside a longer base64 stream (command output,
/// stdin). Only the characters that encode the secret's bytes alone are kept, so a match
/// anywhere in a stream is the secret.
pub fn secret_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let utf16: Vec<u8> = secret
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    for bytes in [secret.as_bytes().to_vec(), utf16] {
        forms.push(B64.encode(&bytes));
        for skew in 0..3usize {
            let mut padded = vec![0u8; skew];
            padded.extend_from_slice(&bytes);
            let enc = B64.encode(&padded);
            let start = if skew == 0 { 0 } else { 4 };
            let end = padded.len() / 3 * 4;
            if end >= start + 4 {
                forms.push(enc[start..end].to_owned());
            }
        }
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// The NTLM message inside a token (raw, or SPNEGO-wrapped) and the SPNEGO token if any.
fn unwrap(token: &[u8]) -> (Option<Vec<u8>>, Option<Token>) {
    if token.starts_with(b"NTLMSSP\0") {
        return (Some(token.to_vec()), None);
    }
    match Token::decode(token) {
        Ok(t) => (t.mech_token().map(<[u8]>::to_vec), Some(t)),
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_found_inside_base64_streams_at_any_alignment() {
        let secret = "S3cret-Pa55word";
        let forms = secret_forms(secret);
        for prefix in ["", "a", "ab", "abc", "hello "] {
            for suffix in ["", "\r\n", "xyz"] {
                let stream = B64.encode(format!("{prefix}{secret}{suffix}"));
                assert!(
                    forms.iter().any(|f| stream.contains(f.as_str())),
                    "{prefix:?}+secret+{suffix:?} -> {stream}"
                );
            }
        }
        let r = Recorder::new(Some(("u", secret)), &[]);
        let text = format!(
            "<x>{}</x><y>{secret}</y>",
            B64.encode(format!("ab{secret}\r\n"))
        );
        let red = r.redact(&text);
        assert!(!red.contains(secret), "{red}");
        assert!(forms.iter().all(|f| !red.contains(f.as_str())), "{red}");
    }
}
