//! Wire mutations: what the remote fuzzer does to a request below the XML tree — to the
//! serialised bytes, the HTTP framing, the authentication handshake and the MS-WSMV sealing.
//!
//! Each mutation is a value with a one-word text form (`doctype`, `content-length:+7`,
//! `ntlm-authenticate:flip@52^0x10`), written into the `wire` list of a reproducer's scenario
//! step and read back from it, so a reproducer replays exactly what the fuzzer sent. Tree
//! mutations (dropped, duplicated, moved elements, boundary numbers) need no such form: they
//! are baked into the step's request XML.

use std::fmt;
use std::str::FromStr;

/// One change to how a step's request goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mutation {
    // ---- body bytes (applied to the serialised envelope, before sealing) ----
    /// A DOCTYPE with an internal entity before the root element.
    Doctype,
    /// A small "billion laughs" entity expansion before the root element.
    EntityBomb,
    /// A byte that is never valid UTF-8 (0xFF) inserted at an offset.
    BadUtf8(usize),
    /// The body re-encoded as UTF-16 (little or big endian), with or without a BOM, while the
    /// Content-Type still says UTF-8.
    Utf16 {
        /// Big endian.
        big_endian: bool,
        /// With a byte order mark.
        bom: bool,
    },
    /// The body cut at an offset.
    Truncate(usize),
    /// The Body's content wrapped in this many nested elements.
    Deep(usize),
    /// A text node of this many bytes added to the Body.
    Huge(usize),
    /// An XML declaration naming this encoding.
    XmlDecl(String),

    // ---- HTTP framing ----
    /// Content-Length off by this much (the body is sent as is).
    ContentLength(i64),
    /// No Content-Length (and no chunking).
    NoContentLength,
    /// Two Content-Length headers that disagree.
    DoubleContentLength,
    /// The body sent with chunked transfer coding.
    Chunked,
    /// Chunked transfer coding with a chunk size that is not hexadecimal.
    BadChunk,
    /// This Content-Type instead of the SOAP one (`none` leaves the header out).
    ContentType(String),
    /// This method instead of POST.
    Method(String),
    /// No Host header.
    NoHost,
    /// The request written in pieces of this many bytes, this many milliseconds apart.
    Slow {
        /// Bytes per write.
        chunk: usize,
        /// Pause between writes, in milliseconds.
        pause_ms: u64,
    },
    /// The request written twice in one go (HTTP/1.1 pipelining); both answers are read.
    Pipeline,

    // ---- authentication (a fresh connection and handshake before the step) ----
    /// The NEGOTIATE token changed.
    NegotiateToken(Tamper),
    /// The AUTHENTICATE token changed (integrity: a correct server refuses it).
    AuthenticateToken(Tamper),
    /// AUTHENTICATE sent on a new connection, not the one that got the CHALLENGE.
    AuthenticateElsewhere,
    /// NEGOTIATE sent twice; AUTHENTICATE answers the second CHALLENGE.
    NegotiateTwice,
    /// A complete handshake, then the same AUTHENTICATE replayed on a new connection.
    ReplayAuthenticate,
    /// A token that is not base64.
    BadBase64,
    /// The tokens sent under another scheme name (`NTLM`, `Kerberos`, ...).
    Scheme(String),
    /// No Authorization at all, on a fresh connection.
    NoAuth,
    /// The right user with a wrong password.
    WrongPassword,

    // ---- MS-WSMV sealing (NTLM over HTTP) ----
    /// The body sent in the clear on a connection that seals.
    SealOff,
    /// One byte of the sealed block (signature, then ciphertext) XORed.
    SealFlip(usize, u8),
    /// A sequence number skipped (a message sealed and thrown away first).
    SealSkipSequence,
    /// The previous sealed body sent again (its sequence number reused).
    SealReplay,
    /// `OriginalContent ... Length=` off by this much.
    SealLength(i64),
}

/// How a token is damaged: bytes at an offset, or a named field of the decoded message
/// (re-encoded afterwards; a token that does not decode is sent unchanged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tamper {
    /// The byte at an offset XORed with a non-zero mask (offsets past the end wrap).
    Flip(usize, u8),
    /// Cut at an offset.
    Truncate(usize),
    /// This many bytes appended.
    Extend(usize),
    /// NegotiateFlags XORed with a non-zero mask.
    Flags(u32),
    /// A field emptied (a security buffer) or left out (MIC, version).
    Empty(NtlmField),
    /// The AV pair with this id removed from an NTLMv2 response's client blob.
    AvDrop(u16),
}

/// The fields of NEGOTIATE and AUTHENTICATE a tamper can name (MS-NLMP 2.2.1.1, 2.2.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NtlmField {
    /// LmChallengeResponse.
    LmResponse,
    /// NtChallengeResponse.
    NtResponse,
    /// DomainName.
    Domain,
    /// UserName.
    User,
    /// Workstation.
    Workstation,
    /// EncryptedRandomSessionKey.
    SessionKey,
    /// MIC.
    Mic,
    /// Version.
    Version,
}

impl NtlmField {
    const NAMES: [(NtlmField, &'static str); 8] = [
        (NtlmField::LmResponse, "lm-response"),
        (NtlmField::NtResponse, "nt-response"),
        (NtlmField::Domain, "domain"),
        (NtlmField::User, "user"),
        (NtlmField::Workstation, "workstation"),
        (NtlmField::SessionKey, "session-key"),
        (NtlmField::Mic, "mic"),
        (NtlmField::Version, "version"),
    ];

    /// Every field.
    pub fn all() -> impl Iterator<Item = NtlmField> {
        Self::NAMES.iter().map(|(f, _)| *f)
    }

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }

    fn parse(s: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(_, n)| *n == s).map(|(f, _)| *f)
    }
}

/// The layer a mutation works on (`--layers`, statistics, finding signatures).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// The XML tree (drop, duplicate, move, namespaces, boundary numbers, huge/empty values).
    Tree,
    /// The serialised bytes (DOCTYPE, entities, bad UTF-8, UTF-16, truncation, nesting).
    Bytes,
    /// HTTP framing (Content-Length, chunking, Content-Type, methods, slow, pipelining).
    Http,
    /// The NTLM/Basic handshake (tampered tokens, replays, wrong order, wrong password).
    Auth,
    /// MS-WSMV sealing (clear bodies, flipped bytes, sequence numbers, lengths).
    Seal,
    /// Step order (dropped, swapped, repeated steps).
    State,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 6] = [
        Layer::Tree,
        Layer::Bytes,
        Layer::Http,
        Layer::Auth,
        Layer::Seal,
        Layer::State,
    ];
}

impl Mutation {
    /// Its layer.
    pub fn layer(&self) -> Layer {
        use Mutation::*;
        match self {
            Doctype
            | EntityBomb
            | BadUtf8(_)
            | Utf16 { .. }
            | Truncate(_)
            | Deep(_)
            | Huge(_)
            | XmlDecl(_) => Layer::Bytes,
            ContentLength(_)
            | NoContentLength
            | DoubleContentLength
            | Chunked
            | BadChunk
            | ContentType(_)
            | Method(_)
            | NoHost
            | Slow { .. }
            | Pipeline => Layer::Http,
            NegotiateToken(_)
            | AuthenticateToken(_)
            | AuthenticateElsewhere
            | NegotiateTwice
            | ReplayAuthenticate
            | BadBase64
            | Scheme(_)
            | NoAuth
            | WrongPassword => Layer::Auth,
            SealOff | SealFlip(..) | SealSkipSequence | SealReplay | SealLength(_) => Layer::Seal,
        }
    }

    /// True when a correct server must refuse the request: the credentials or the message
    /// integrity are broken. Accepting it is the `accepted-invalid-auth` finding.
    pub fn breaks_integrity(&self) -> bool {
        use Mutation::*;
        matches!(
            self,
            AuthenticateToken(_)
                | AuthenticateElsewhere
                | ReplayAuthenticate
                | BadBase64
                | NoAuth
                | WrongPassword
                | SealFlip(..)
                | SealSkipSequence
                | SealReplay
        )
    }

    /// True when the step needs a connection and handshake of its own.
    pub fn needs_fresh_connection(&self) -> bool {
        self.layer() == Layer::Auth
    }

    /// True when the HTTP request itself is malformed, so that a server may close the
    /// connection without answering.
    pub fn breaks_framing(&self) -> bool {
        use Mutation::*;
        matches!(
            self,
            ContentLength(_) | DoubleContentLength | BadChunk | NoHost
        )
    }

    /// The kind without its parameters (`content-length`, `ntlm-authenticate:flip`): what
    /// finding signatures group by.
    pub fn kind(&self) -> String {
        use Mutation::*;
        let tamper = |t: &Tamper| match t {
            Tamper::Flip(..) => "flip".to_owned(),
            Tamper::Truncate(_) => "truncate".to_owned(),
            Tamper::Extend(_) => "extend".to_owned(),
            Tamper::Flags(_) => "flags".to_owned(),
            Tamper::Empty(f) => format!("empty={}", f.name()),
            Tamper::AvDrop(id) => format!("av-drop={id}"),
        };
        match self {
            BadUtf8(_) => "bad-utf8".into(),
            Utf16 { .. } => "utf16".into(),
            Truncate(_) => "truncate".into(),
            Deep(_) => "deep".into(),
            Huge(_) => "huge".into(),
            XmlDecl(_) => "xml-decl".into(),
            ContentLength(_) => "content-length".into(),
            ContentType(_) => "content-type".into(),
            Method(_) => "method".into(),
            Slow { .. } => "slow".into(),
            NegotiateToken(t) => format!("ntlm-negotiate:{}", tamper(t)),
            AuthenticateToken(t) => format!("ntlm-authenticate:{}", tamper(t)),
            Scheme(_) => "auth-scheme".into(),
            SealFlip(..) => "seal:flip".into(),
            SealLength(_) => "seal:length".into(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tamper::Flip(at, mask) => write!(f, "flip@{at}^{mask:#04x}"),
            Tamper::Truncate(at) => write!(f, "truncate@{at}"),
            Tamper::Extend(n) => write!(f, "extend:{n}"),
            Tamper::Flags(mask) => write!(f, "flags^{mask:#010x}"),
            Tamper::Empty(field) => write!(f, "empty={}", field.name()),
            Tamper::AvDrop(id) => write!(f, "av-drop={id}"),
        }
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Mutation::*;
        match self {
            Doctype => f.write_str("doctype"),
            EntityBomb => f.write_str("entity-bomb"),
            BadUtf8(at) => write!(f, "bad-utf8@{at}"),
            Utf16 { big_endian, bom } => write!(
                f,
                "utf16{}{}",
                if *big_endian { "be" } else { "le" },
                if *bom { "" } else { "-nobom" }
            ),
            Truncate(at) => write!(f, "truncate@{at}"),
            Deep(n) => write!(f, "deep:{n}"),
            Huge(n) => write!(f, "huge:{n}"),
            XmlDecl(enc) => write!(f, "xml-decl:{enc}"),
            ContentLength(d) => write!(f, "content-length:{d:+}"),
            NoContentLength => f.write_str("content-length:none"),
            DoubleContentLength => f.write_str("content-length:twice"),
            Chunked => f.write_str("chunked"),
            BadChunk => f.write_str("chunked:bad-size"),
            ContentType(t) if t.is_empty() => f.write_str("content-type:none"),
            ContentType(t) => write!(f, "content-type:{t}"),
            Method(m) => write!(f, "method:{m}"),
            NoHost => f.write_str("host:none"),
            Slow { chunk, pause_ms } => write!(f, "slow:{chunk}/{pause_ms}ms"),
            Pipeline => f.write_str("pipeline"),
            NegotiateToken(t) => write!(f, "ntlm-negotiate:{t}"),
            AuthenticateToken(t) => write!(f, "ntlm-authenticate:{t}"),
            AuthenticateElsewhere => f.write_str("ntlm:authenticate-elsewhere"),
            NegotiateTwice => f.write_str("ntlm:negotiate-twice"),
            ReplayAuthenticate => f.write_str("ntlm:replay-authenticate"),
            BadBase64 => f.write_str("auth:bad-base64"),
            Scheme(s) => write!(f, "auth-scheme:{s}"),
            NoAuth => f.write_str("auth:none"),
            WrongPassword => f.write_str("auth:wrong-password"),
            SealOff => f.write_str("seal:off"),
            SealFlip(at, mask) => write!(f, "seal:flip@{at}^{mask:#04x}"),
            SealSkipSequence => f.write_str("seal:skip-sequence"),
            SealReplay => f.write_str("seal:replay"),
            SealLength(d) => write!(f, "seal:length{d:+}"),
        }
    }
}

/// Why a mutation's text form did not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutationError(pub String);

impl fmt::Display for MutationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MutationError {}

/// Largest size a mutation may ask for (deep nesting, huge text, extensions): a reproducer
/// file must not make the harness itself allocate without bound.
pub const MAX_SIZE: usize = 16 << 20;
/// Longest pause between slow writes.
pub const MAX_PAUSE_MS: u64 = 10_000;

impl FromStr for Mutation {
    type Err = MutationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use Mutation::*;
        let err = |why: &str| MutationError(format!("wire mutation {s:?}: {why}"));
        let (head, arg) = match s.split_once(':') {
            Some((h, a)) => (h, Some(a)),
            None => (s, None),
        };
        let size = |v: &str| -> Result<usize, MutationError> {
            let n: usize = v.parse().map_err(|_| err("expected a whole number"))?;
            if n > MAX_SIZE {
                return Err(err(&format!("{n} is over the limit of {MAX_SIZE}")));
            }
            Ok(n)
        };
        let delta = |v: &str| -> Result<i64, MutationError> {
            let n: i64 = v
                .parse()
                .map_err(|_| err("expected a signed number such as +7 or -3"))?;
            if n.unsigned_abs() > MAX_SIZE as u64 {
                return Err(err("the difference is over the size limit"));
            }
            Ok(n)
        };
        let at = |prefix: &str| -> Result<usize, MutationError> {
            s.strip_prefix(prefix)
                .ok_or_else(|| err("expected @OFFSET"))
                .and_then(size)
        };
        let word = |v: Option<&str>| -> Result<String, MutationError> {
            let v = v.ok_or_else(|| err("needs a value after ':'"))?;
            if v.chars().any(|c| c.is_control()) {
                return Err(err("control characters are not allowed"));
            }
            Ok(v.to_owned())
        };
        Ok(match (head, arg) {
            ("doctype", None) => Doctype,
            ("entity-bomb", None) => EntityBomb,
            (u, None) if u.starts_with("utf16") => {
                let (order, bom) = match u.strip_suffix("-nobom") {
                    Some(o) => (o, false),
                    None => (u, true),
                };
                match order {
                    "utf16le" => Utf16 {
                        big_endian: false,
                        bom,
                    },
                    "utf16be" => Utf16 {
                        big_endian: true,
                        bom,
                    },
                    _ => return Err(err("expected utf16le or utf16be, optionally -nobom")),
                }
            }
            _ if s.starts_with("bad-utf8@") => BadUtf8(at("bad-utf8@")?),
            _ if s.starts_with("truncate@") => Truncate(at("truncate@")?),
            ("deep", Some(n)) => Deep(size(n)?),
            ("huge", Some(n)) => Huge(size(n)?),
            ("xml-decl", v) => XmlDecl(word(v)?),
            ("content-length", Some("none")) => NoContentLength,
            ("content-length", Some("twice")) => DoubleContentLength,
            ("content-length", Some(d)) => ContentLength(delta(d)?),
            ("chunked", None) => Chunked,
            ("chunked", Some("bad-size")) => BadChunk,
            ("content-type", Some("none")) => ContentType(String::new()),
            ("content-type", v) => ContentType(word(v)?),
            ("method", v) => {
                let m = word(v)?;
                if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(err("a method is letters only"));
                }
                Method(m)
            }
            ("host", Some("none")) => NoHost,
            ("slow", Some(v)) => {
                let (chunk, pause) = v
                    .split_once('/')
                    .ok_or_else(|| err("expected slow:BYTES/MSms"))?;
                let chunk = size(chunk)?.max(1);
                let pause_ms: u64 = pause
                    .strip_suffix("ms")
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| err("expected a pause such as 5ms"))?;
                if pause_ms > MAX_PAUSE_MS {
                    return Err(err(&format!("pauses are at most {MAX_PAUSE_MS}ms")));
                }
                Slow { chunk, pause_ms }
            }
            ("pipeline", None) => Pipeline,
            ("ntlm-negotiate", Some(t)) => NegotiateToken(tamper(t).map_err(|w| err(&w))?),
            ("ntlm-authenticate", Some(t)) => AuthenticateToken(tamper(t).map_err(|w| err(&w))?),
            ("ntlm", Some("authenticate-elsewhere")) => AuthenticateElsewhere,
            ("ntlm", Some("negotiate-twice")) => NegotiateTwice,
            ("ntlm", Some("replay-authenticate")) => ReplayAuthenticate,
            ("auth", Some("bad-base64")) => BadBase64,
            ("auth", Some("none")) => NoAuth,
            ("auth", Some("wrong-password")) => WrongPassword,
            ("auth-scheme", v) => {
                let w = word(v)?;
                if w.is_empty() || !w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(err("a scheme is letters, digits and '-'"));
                }
                Scheme(w)
            }
            ("seal", Some("off")) => SealOff,
            ("seal", Some("skip-sequence")) => SealSkipSequence,
            ("seal", Some("replay")) => SealReplay,
            ("seal", Some(v)) if v.starts_with("flip@") => {
                let (at, mask) = flip(&v["flip@".len()..]).map_err(|w| err(&w))?;
                SealFlip(at, mask)
            }
            ("seal", Some(v)) if v.starts_with("length") => {
                SealLength(delta(&v["length".len()..])?)
            }
            _ => {
                return Err(err(
                    "unknown; the list is in the README (\"Remote fuzzing\", wire mutations)",
                ));
            }
        })
    }
}

fn tamper(t: &str) -> Result<Tamper, String> {
    if let Some(v) = t.strip_prefix("flip@") {
        let (at, mask) = flip(v)?;
        Ok(Tamper::Flip(at, mask))
    } else if let Some(v) = t.strip_prefix("truncate@") {
        v.parse()
            .map(Tamper::Truncate)
            .map_err(|_| "expected truncate@OFFSET".into())
    } else if let Some(v) = t.strip_prefix("extend:") {
        match v.parse::<usize>() {
            Ok(n) if n <= MAX_SIZE => Ok(Tamper::Extend(n)),
            _ => Err(format!("expected extend:N with N at most {MAX_SIZE}")),
        }
    } else if let Some(v) = t.strip_prefix("flags^") {
        match u32::from_str_radix(v.trim_start_matches("0x"), 16) {
            Ok(0) => Err("a zero flags mask changes nothing".into()),
            Ok(m) => Ok(Tamper::Flags(m)),
            Err(_) => Err("expected flags^0xMASK (hexadecimal)".into()),
        }
    } else if let Some(v) = t.strip_prefix("empty=") {
        NtlmField::parse(v).map(Tamper::Empty).ok_or_else(|| {
            let names: Vec<&str> = NtlmField::NAMES.iter().map(|(_, n)| *n).collect();
            format!("empty= takes one of {}", names.join(", "))
        })
    } else if let Some(v) = t.strip_prefix("av-drop=") {
        v.parse()
            .map(Tamper::AvDrop)
            .map_err(|_| "expected av-drop=ID (an AV pair id, 0 to 65535)".into())
    } else {
        Err("expected flip@OFFSET^MASK, truncate@OFFSET, extend:N, flags^MASK, empty=FIELD or av-drop=ID".into())
    }
}

/// `OFFSET^0xMM` with a non-zero mask.
fn flip(v: &str) -> Result<(usize, u8), String> {
    let (at, mask) = v.split_once('^').ok_or("expected flip@OFFSET^0xMASK")?;
    let at: usize = at.parse().map_err(|_| "the offset is not a number")?;
    let mask = u8::from_str_radix(mask.trim_start_matches("0x"), 16)
        .map_err(|_| "the mask is not a hexadecimal byte")?;
    if mask == 0 {
        return Err("a zero mask changes nothing".into());
    }
    Ok((at, mask))
}

/// Applies the body-byte mutations in order to a serialised envelope.
pub fn apply_bytes(body: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = body.to_vec();
    for m in mutations {
        out = match m {
            Mutation::Doctype => prolog(
                &out,
                b"<!DOCTYPE Envelope [<!ENTITY wsman-harness \"fuzz\">]>",
            ),
            Mutation::EntityBomb => prolog(
                &out,
                b"<!DOCTYPE Envelope [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>",
            ),
            Mutation::BadUtf8(at) => {
                let at = (*at).min(out.len());
                let mut v = out[..at].to_vec();
                v.push(0xFF);
                v.extend_from_slice(&out[at..]);
                v
            }
            Mutation::Utf16 { big_endian, bom } => {
                let text = String::from_utf8_lossy(&out);
                let mut v = Vec::with_capacity(out.len() * 2 + 2);
                if *bom {
                    v.extend_from_slice(if *big_endian { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
                }
                for unit in text.encode_utf16() {
                    v.extend_from_slice(&if *big_endian {
                        unit.to_be_bytes()
                    } else {
                        unit.to_le_bytes()
                    });
                }
                v
            }
            Mutation::Truncate(at) => out[..(*at).min(out.len())].to_vec(),
            Mutation::Deep(n) => wrap_body(&out, *n),
            Mutation::Huge(n) => insert_in_body(&out, &vec![b'A'; *n]),
            Mutation::XmlDecl(enc) => {
                let decl = format!("<?xml version=\"1.0\" encoding=\"{enc}\"?>");
                let mut v = decl.into_bytes();
                v.extend_from_slice(strip_decl(&out));
                v
            }
            _ => continue,
        };
    }
    out
}

/// Inserts `what` after the XML declaration (if any), before the root element.
fn prolog(body: &[u8], what: &[u8]) -> Vec<u8> {
    let rest = strip_decl(body);
    let decl = &body[..body.len() - rest.len()];
    [decl, what, rest].concat()
}

fn strip_decl(body: &[u8]) -> &[u8] {
    if body.starts_with(b"<?xml")
        && let Some(end) = body.windows(2).position(|w| w == b"?>")
    {
        return &body[end + 2..];
    }
    body
}

/// Where the Body's content starts and ends (after the Body start tag, before its end tag);
/// the whole input when there is no Body.
fn body_span(body: &[u8]) -> (usize, usize) {
    let find = |needle: &[u8], from: usize| {
        body[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let Some(open) = find(b"Body", 0) else {
        return (body.len(), body.len());
    };
    let Some(gt) = find(b">", open) else {
        return (body.len(), body.len());
    };
    if body[gt - 1] == b'/' {
        return (gt + 1, gt + 1);
    }
    let close = body[gt..]
        .windows(2)
        .rposition(|w| w == b"</")
        .map(|p| p + gt)
        .unwrap_or(body.len());
    // The last `</` is the Envelope's end; the one before it closes the Body.
    let close = body[gt..close]
        .windows(2)
        .rposition(|w| w == b"</")
        .map(|p| p + gt)
        .unwrap_or(close);
    (gt + 1, close)
}

fn wrap_body(body: &[u8], depth: usize) -> Vec<u8> {
    let (start, end) = body_span(body);
    let mut v = Vec::with_capacity(body.len() + depth * 9);
    v.extend_from_slice(&body[..start]);
    for _ in 0..depth {
        v.extend_from_slice(b"<d>");
    }
    v.extend_from_slice(&body[start..end]);
    for _ in 0..depth {
        v.extend_from_slice(b"</d>");
    }
    v.extend_from_slice(&body[end..]);
    v
}

fn insert_in_body(body: &[u8], what: &[u8]) -> Vec<u8> {
    let (start, _) = body_span(body);
    [&body[..start], what, &body[start..]].concat()
}

/// Applies a tamper to a token.
pub fn tamper_token(token: &[u8], t: Tamper) -> Vec<u8> {
    let mut v = token.to_vec();
    match t {
        Tamper::Flip(at, mask) if !v.is_empty() => {
            let i = at % v.len();
            v[i] ^= mask;
        }
        Tamper::Flip(..) => v.push(0xFF),
        Tamper::Truncate(at) => v.truncate(at.min(token.len().saturating_sub(1))),
        Tamper::Extend(n) => v.extend(std::iter::repeat_n(0x41, n)),
        Tamper::Flags(_) | Tamper::Empty(_) | Tamper::AvDrop(_) => {
            return tamper_field(token, t).unwrap_or(v);
        }
    }
    v
}

/// Offset of the AV pairs in an NTLMv2 NtChallengeResponse: NTProofStr (16), then RespType,
/// HiRespType, Reserved1 (2), Reserved2 (4), TimeStamp (8), ChallengeFromClient (8), Reserved3 (4)
/// (MS-NLMP 2.2.2.7, 2.2.2.8).
const NTLMV2_AV_PAIRS_AT: usize = 44;

/// A named-field tamper on a decoded NEGOTIATE or AUTHENTICATE, re-encoded.
fn tamper_field(token: &[u8], t: Tamper) -> Option<Vec<u8>> {
    use crate::auth::ntlm::{AvId, AvPairs, Flags, Message};
    let mut m = Message::decode(token).ok()?;
    match (&mut m, t) {
        (Message::Negotiate(n), Tamper::Flags(mask)) => n.flags = Flags(n.flags.0 ^ mask),
        (Message::Negotiate(n), Tamper::Empty(NtlmField::Domain)) => n.domain.clear(),
        (Message::Negotiate(n), Tamper::Empty(NtlmField::Workstation)) => n.workstation.clear(),
        (Message::Negotiate(n), Tamper::Empty(NtlmField::Version)) => n.version = None,
        (Message::Authenticate(a), Tamper::Flags(mask)) => a.flags = Flags(a.flags.0 ^ mask),
        (Message::Authenticate(a), Tamper::Empty(field)) => match field {
            NtlmField::LmResponse => a.lm_response.clear(),
            NtlmField::NtResponse => a.nt_response.clear(),
            NtlmField::Domain => a.domain.clear(),
            NtlmField::User => a.user.clear(),
            NtlmField::Workstation => a.workstation.clear(),
            NtlmField::SessionKey => a.encrypted_session_key.clear(),
            NtlmField::Mic => a.mic = None,
            NtlmField::Version => a.version = None,
        },
        (Message::Authenticate(a), Tamper::AvDrop(id)) => {
            let blob = a.nt_response.get(NTLMV2_AV_PAIRS_AT..)?;
            let mut pairs = AvPairs::decode(blob).ok()?;
            let before = pairs.0.len();
            pairs.0.retain(|p| p.id != AvId(id));
            if pairs.0.len() == before {
                return None;
            }
            a.nt_response.truncate(NTLMV2_AV_PAIRS_AT);
            pairs.encode(&mut a.nt_response);
        }
        _ => return None,
    }
    Some(m.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_back_to_itself() {
        let all = [
            Mutation::Doctype,
            Mutation::EntityBomb,
            Mutation::BadUtf8(12),
            Mutation::Utf16 {
                big_endian: true,
                bom: false,
            },
            Mutation::Utf16 {
                big_endian: false,
                bom: true,
            },
            Mutation::Truncate(40),
            Mutation::Deep(500),
            Mutation::Huge(70000),
            Mutation::XmlDecl("ISO-8859-1".into()),
            Mutation::ContentLength(-3),
            Mutation::ContentLength(9),
            Mutation::NoContentLength,
            Mutation::DoubleContentLength,
            Mutation::Chunked,
            Mutation::BadChunk,
            Mutation::ContentType(String::new()),
            Mutation::ContentType("text/plain; charset=utf-16".into()),
            Mutation::Method("GET".into()),
            Mutation::NoHost,
            Mutation::Slow {
                chunk: 7,
                pause_ms: 3,
            },
            Mutation::Pipeline,
            Mutation::NegotiateToken(Tamper::Flip(3, 0x80)),
            Mutation::AuthenticateToken(Tamper::Truncate(20)),
            Mutation::AuthenticateToken(Tamper::Extend(4)),
            Mutation::AuthenticateToken(Tamper::Flags(0x0000_0200)),
            Mutation::AuthenticateToken(Tamper::Empty(NtlmField::NtResponse)),
            Mutation::AuthenticateToken(Tamper::Empty(NtlmField::Mic)),
            Mutation::AuthenticateToken(Tamper::AvDrop(6)),
            Mutation::NegotiateToken(Tamper::Flags(0x8000_0000)),
            Mutation::AuthenticateElsewhere,
            Mutation::NegotiateTwice,
            Mutation::ReplayAuthenticate,
            Mutation::BadBase64,
            Mutation::Scheme("NTLM".into()),
            Mutation::NoAuth,
            Mutation::WrongPassword,
            Mutation::SealOff,
            Mutation::SealFlip(17, 0x01),
            Mutation::SealSkipSequence,
            Mutation::SealReplay,
            Mutation::SealLength(-1),
        ];
        for m in all {
            let text = m.to_string();
            assert_eq!(text.parse::<Mutation>(), Ok(m.clone()), "{text}");
            assert!(!m.kind().is_empty());
        }
    }

    #[test]
    fn bad_forms_say_what_is_wrong() {
        for (text, says) in [
            ("nonsense", "unknown"),
            ("deep:x", "whole number"),
            ("huge:99999999999", "over the limit"),
            ("seal:flip@3^0x00", "zero mask"),
            ("slow:4/99999ms", "at most"),
            ("method:G T", "letters"),
            ("content-length:abc", "signed number"),
            ("ntlm-authenticate:empty=password", "one of"),
            ("ntlm-authenticate:flags^0x0", "zero flags mask"),
        ] {
            let e = text.parse::<Mutation>().unwrap_err().to_string();
            assert!(e.contains(text) && e.contains(says), "{text}: {e}");
        }
    }

    /// A real handshake in memory: every named-field tamper of AUTHENTICATE changes that
    /// field only as named and is refused by the acceptor (MIC, NTProofStr), while the
    /// untouched message is accepted.
    #[test]
    fn field_tampers_change_the_named_field_and_are_refused() {
        use crate::auth::ntlm::{
            AvId, AvPairs, Client, ClientOptions, Credentials, Message, Server, ServerOptions,
            crypto::nt_hash,
        };
        let attempt = |t: Option<Tamper>| {
            let (sent, negotiate) = Client::new(
                Credentials::new("fuzz", "HARNESS", "Field-Pass-1"),
                ClientOptions {
                    workstation: "FUZZER".into(),
                    ..ClientOptions::default()
                },
            )
            .start();
            let (waiting, challenge) = Server::new(ServerOptions::default())
                .challenge(&negotiate)
                .unwrap();
            let (_, authenticate) = sent.respond(&challenge).unwrap();
            let sent = t.map_or(authenticate.clone(), |t| tamper_token(&authenticate, t));
            let verdict = waiting
                .verify(&sent, |_, _| Some(nt_hash("Field-Pass-1")))
                .map(|_| ());
            (authenticate, sent, verdict)
        };
        let (_, _, fine) = attempt(None);
        assert!(fine.is_ok(), "the untouched handshake is accepted");
        let decode = |b: &[u8]| match Message::decode(b).unwrap() {
            Message::Authenticate(a) => a,
            m => panic!("{m:?}"),
        };
        let mut tampers: Vec<Tamper> = NtlmField::all().map(Tamper::Empty).collect();
        tampers.extend([
            Tamper::Flags(0x0000_0200),
            Tamper::AvDrop(6),
            Tamper::AvDrop(7),
        ]);
        for t in tampers {
            let (before, after, verdict) = attempt(Some(t));
            assert_ne!(before, after, "{t} changed nothing");
            let (b, a) = (decode(&before), decode(&after));
            match t {
                Tamper::Empty(NtlmField::NtResponse) => assert!(a.nt_response.is_empty()),
                Tamper::Empty(NtlmField::Mic) => assert!(b.mic.is_some() && a.mic.is_none()),
                Tamper::Flags(m) => assert_eq!(a.flags.0, b.flags.0 ^ m),
                Tamper::AvDrop(id) => {
                    let pairs = AvPairs::decode(&a.nt_response[NTLMV2_AV_PAIRS_AT..]).unwrap();
                    assert!(pairs.get(AvId(id)).is_none(), "{t}");
                    assert_eq!(a.user, b.user);
                }
                _ => {}
            }
            assert!(verdict.is_err(), "{t} was accepted");
        }
        // A tamper that does not apply leaves the token as it was.
        assert_eq!(tamper_token(b"not ntlm", Tamper::Flags(1)), b"not ntlm");
    }

    #[test]
    fn byte_mutations_change_the_body_as_named() {
        let body = b"<s:Envelope><s:Header/><s:Body><x/></s:Body></s:Envelope>";
        let d = apply_bytes(body, &[Mutation::Doctype]);
        assert!(d.starts_with(b"<!DOCTYPE"));
        let deep = String::from_utf8(apply_bytes(body, &[Mutation::Deep(3)])).unwrap();
        assert!(
            deep.contains("<s:Body><d><d><d><x/></d></d></d></s:Body>"),
            "{deep}"
        );
        let u = apply_bytes(
            body,
            &[Mutation::Utf16 {
                big_endian: false,
                bom: true,
            }],
        );
        assert_eq!(&u[..4], &[0xFF, 0xFE, b'<', 0]);
        assert_eq!(apply_bytes(body, &[Mutation::Truncate(5)]), b"<s:En");
        let huge = apply_bytes(body, &[Mutation::Huge(10)]);
        assert!(
            String::from_utf8(huge)
                .unwrap()
                .contains("<s:Body>AAAAAAAAAA<x/>")
        );
        assert_eq!(tamper_token(b"abc", Tamper::Flip(4, 1)), b"acc");
        assert_eq!(tamper_token(b"abc", Tamper::Truncate(9)), b"ab");
    }
}
