//! MS-WSMV 2.2.9.1 message encryption bodies: `multipart/encrypted` (one block) and
//! `multipart/x-multi-encrypted` (one block per chunk), framing only. Sealing itself belongs to
//! the security context (NTLM [`Session`](super::ntlm::Session), Kerberos, CredSSP).
//!
//! Layout of one block (every line ends in CRLF; the tabs are mandatory per the spec):
//!
//! ```text
//! --Encrypted Boundary
//! \tContent-Type: application/HTTP-SPNEGO-session-encrypted
//! \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext length>
//! --Encrypted Boundary
//! \tContent-Type: application/octet-stream
//! <u32 LE header length><security header><ciphertext>
//! ```
//!
//! followed by `--Encrypted Boundary--` after the last block. The decoder accepts the two
//! deviations seen in the wild (no tabs; `-- Encrypted Boundary` with a space) and reports them in
//! [`Quirks`] so a strict check can flag them.

use std::fmt;

use super::codec::PutLe;

/// The boundary every WinRM implementation uses.
pub const BOUNDARY: &str = "Encrypted Boundary";

/// The security protocol named in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `application/HTTP-SPNEGO-session-encrypted` (Negotiate: NTLM or Kerberos).
    Spnego,
    /// `application/HTTP-Kerberos-session-encrypted`.
    Kerberos,
    /// `application/HTTP-CredSSP-session-encrypted`.
    CredSsp,
    /// Anything else, as written.
    Other(String),
}

impl Protocol {
    /// The protocol string.
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Spnego => "application/HTTP-SPNEGO-session-encrypted",
            Protocol::Kerberos => "application/HTTP-Kerberos-session-encrypted",
            Protocol::CredSsp => "application/HTTP-CredSSP-session-encrypted",
            Protocol::Other(s) => s,
        }
    }

    fn of(s: &str) -> Self {
        match s {
            "application/HTTP-SPNEGO-session-encrypted" => Protocol::Spnego,
            "application/HTTP-Kerberos-session-encrypted" => Protocol::Kerberos,
            "application/HTTP-CredSSP-session-encrypted" => Protocol::CredSsp,
            other => Protocol::Other(other.to_owned()),
        }
    }
}

/// One encrypted block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// `OriginalContent: type=...` without the Length (e.g. `application/soap+xml;charset=UTF-8`).
    pub original_type: String,
    /// `Length=`: the plaintext length the sender declares.
    pub length: usize,
    /// The security header (NTLM: the 16-byte signature).
    pub header: Vec<u8>,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
}

/// A whole encrypted body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedBody {
    /// Security protocol.
    pub protocol: Protocol,
    /// `multipart/x-multi-encrypted` rather than `multipart/encrypted`.
    pub multi: bool,
    /// The blocks (one unless `multi`).
    pub blocks: Vec<Block>,
}

/// Deviations from MS-WSMV that the decoder tolerated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Part header lines without the leading tab (older WinRb).
    pub missing_tabs: bool,
    /// `-- Encrypted Boundary` with whitespace after the dashes (the MS-WSMV example, Exchange).
    pub spaced_boundary: bool,
}

/// Why a body could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyError {
    /// Byte offset in the body (0 for Content-Type problems).
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "encrypted body, at byte {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for BodyError {}

fn err(offset: usize, reason: impl Into<String>) -> BodyError {
    BodyError {
        offset,
        reason: reason.into(),
    }
}

impl EncryptedBody {
    /// The HTTP `Content-Type` for this body.
    pub fn content_type(&self) -> String {
        let media = if self.multi {
            "multipart/x-multi-encrypted"
        } else {
            "multipart/encrypted"
        };
        format!(
            "{media};protocol=\"{}\";boundary=\"{BOUNDARY}\"",
            self.protocol.as_str()
        )
    }

    /// The body bytes, exactly as pywinrm, pypsrp and Windows write them.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for b in &self.blocks {
            out.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\n\tContent-Type: {}\r\n\tOriginalContent: type={};Length={}\r\n--{BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n",
                    self.protocol.as_str(),
                    b.original_type,
                    b.length
                )
                .as_bytes(),
            );
            out.put_u32(b.header.len() as u32);
            out.extend_from_slice(&b.header);
            out.extend_from_slice(&b.ciphertext);
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    /// Reads a body given its `Content-Type`.
    pub fn decode(content_type: &str, body: &[u8]) -> Result<(Self, Quirks), BodyError> {
        let ct = MediaType::parse(content_type).map_err(|r| err(0, r))?;
        let multi = match ct.essence.as_str() {
            "multipart/encrypted" => false,
            "multipart/x-multi-encrypted" => true,
            other => {
                return Err(err(
                    0,
                    format!("Content-Type {other:?} is not multipart/encrypted"),
                ));
            }
        };
        let protocol = ct
            .param("protocol")
            .ok_or_else(|| err(0, "Content-Type has no protocol parameter"))?;
        let boundary = ct.param("boundary").unwrap_or(BOUNDARY);
        if boundary != BOUNDARY {
            return Err(err(
                0,
                format!("boundary {boundary:?} is not \"{BOUNDARY}\""),
            ));
        }
        let mut p = Parser {
            buf: body,
            pos: 0,
            quirks: Quirks::default(),
        };
        let mut blocks = Vec::new();
        loop {
            if p.boundary()? {
                break;
            }
            let part_protocol = p.header_line("Content-Type")?;
            if part_protocol != protocol {
                return Err(err(
                    p.pos,
                    format!(
                        "part protocol {part_protocol:?} differs from Content-Type's {protocol:?}"
                    ),
                ));
            }
            let original = p.header_line("OriginalContent")?;
            let (original_type, length) = split_original(&original).map_err(|r| err(p.pos, r))?;
            if p.boundary()? {
                return Err(err(p.pos, "body ends before the encrypted part"));
            }
            let octets = p.header_line("Content-Type")?;
            if octets != "application/octet-stream" {
                return Err(err(
                    p.pos,
                    format!("expected application/octet-stream, found {octets:?}"),
                ));
            }
            let (header, ciphertext) = p.binary()?;
            blocks.push(Block {
                original_type,
                length,
                header,
                ciphertext,
            });
            if !multi && blocks.len() > 1 {
                return Err(err(
                    p.pos,
                    "multipart/encrypted carries one block; use multipart/x-multi-encrypted",
                ));
            }
        }
        if blocks.is_empty() {
            return Err(err(p.pos, "no encrypted block"));
        }
        if p.pos != body.len() {
            return Err(err(p.pos, "data after the closing boundary"));
        }
        let body = EncryptedBody {
            protocol: Protocol::of(protocol),
            multi,
            blocks,
        };
        Ok((body, p.quirks))
    }
}

fn split_original(v: &str) -> Result<(String, usize), String> {
    let rest = v
        .strip_prefix("type=")
        .ok_or_else(|| format!("OriginalContent {v:?} does not start with type="))?;
    let (ty, len) = rest
        .rsplit_once(";Length=")
        .ok_or_else(|| format!("OriginalContent {v:?} has no ;Length="))?;
    let length = len
        .trim()
        .parse()
        .map_err(|_| format!("Length {len:?} is not a number"))?;
    Ok((ty.to_owned(), length))
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    quirks: Quirks,
}

impl Parser<'_> {
    /// Reads a boundary line; true for the closing one.
    fn boundary(&mut self) -> Result<bool, BodyError> {
        let line = self.line()?;
        let rest = line
            .strip_prefix("--")
            .ok_or_else(|| err(self.pos, format!("expected --{BOUNDARY}, found {line:?}")))?;
        let trimmed = rest.trim_start();
        if trimmed.len() != rest.len() {
            self.quirks.spaced_boundary = true;
        }
        match trimmed.strip_prefix(BOUNDARY) {
            Some("--") => Ok(true),
            Some("") => Ok(false),
            _ => Err(err(
                self.pos,
                format!("expected --{BOUNDARY}, found {line:?}"),
            )),
        }
    }

    /// Reads `\tName: value`.
    fn header_line(&mut self, name: &str) -> Result<String, BodyError> {
        let at = self.pos;
        let line = self.line()?;
        let l = match line.strip_prefix('\t') {
            Some(l) => l,
            None => {
                self.quirks.missing_tabs = true;
                line.as_str()
            }
        };
        let (n, v) = l
            .split_once(':')
            .ok_or_else(|| err(at, format!("expected {name}: ..., found {line:?}")))?;
        if n.trim() != name {
            return Err(err(at, format!("expected {name}: ..., found {line:?}")));
        }
        Ok(v.trim().to_owned())
    }

    /// A CRLF-terminated ASCII line (bounded: header lines are short).
    fn line(&mut self) -> Result<String, BodyError> {
        const MAX_LINE: usize = 1024;
        let rest = &self.buf[self.pos..];
        let end = rest
            .windows(2)
            .take(MAX_LINE)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| err(self.pos, "expected a CRLF-terminated header line"))?;
        let line = std::str::from_utf8(&rest[..end])
            .map_err(|_| err(self.pos, "header line is not text"))?;
        self.pos += end + 2;
        Ok(line.to_owned())
    }

    /// The length-prefixed security header and the ciphertext up to the next boundary.
    fn binary(&mut self) -> Result<(Vec<u8>, Vec<u8>), BodyError> {
        let rest = &self.buf[self.pos..];
        if rest.len() < 4 {
            return Err(err(self.pos, "missing the security header length"));
        }
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if n > rest.len() - 4 {
            return Err(err(
                self.pos,
                format!("security header of {n} bytes exceeds the body"),
            ));
        }
        let header = rest[4..4 + n].to_vec();
        let data = &rest[4 + n..];
        let end = find_boundary(data)
            .ok_or_else(|| err(self.pos + 4 + n, "no boundary after the ciphertext"))?;
        self.pos += 4 + n + end;
        Ok((header, data[..end].to_vec()))
    }
}

/// The start of the next `--Encrypted Boundary` line (also `-- Encrypted Boundary`).
fn find_boundary(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = data[from..].windows(2).position(|w| w == b"--") {
        let at = from + i;
        let after = &data[at + 2..];
        let skipped = after
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if after[skipped..].starts_with(BOUNDARY.as_bytes()) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A parsed media type: `type/subtype; name=value; name="quoted"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower-cased.
    pub essence: String,
    /// Parameters, names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Parses a Content-Type value (RFC 9110 §8.3.1).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = split_params(s).into_iter();
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if !essence.contains('/') {
            return Err(format!("{s:?} is not a media type"));
        }
        let mut params = Vec::new();
        for p in parts {
            let (n, v) = p
                .split_once('=')
                .ok_or_else(|| format!("parameter {p:?} has no value"))?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .map(|x| x.replace("\\\"", "\"").replace("\\\\", "\\"))
                .unwrap_or_else(|| v.to_owned());
            params.push((n.trim().to_ascii_lowercase(), v));
        }
        Ok(Self { essence, params })
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits on `;` outside quoted strings.
fn split_params(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out.retain(|p| !p.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_block() -> EncryptedBody {
        EncryptedBody {
            protocol: Protocol::Spnego,
            multi: false,
            blocks: vec![Block {
                original_type: "application/soap+xml;charset=UTF-8".into(),
                length: 5,
                header: vec![1, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0],
                ciphertext: b"\x01--\x02x".to_vec(),
            }],
        }
    }

    #[test]
    fn encodes_the_exact_wire_layout() {
        let b = one_block();
        let bytes = b.encode();
        let expected_head = b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=5\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x10\x00\x00\x00";
        assert!(bytes.starts_with(expected_head));
        assert!(bytes.ends_with(b"\x01--\x02x--Encrypted Boundary--\r\n"));
        assert_eq!(
            b.content_type(),
            "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\""
        );
        let (back, quirks) = EncryptedBody::decode(&b.content_type(), &bytes).unwrap();
        assert_eq!(back, b);
        assert_eq!(quirks, Quirks::default());
    }

    #[test]
    fn multi_blocks_round_trip_and_single_form_refuses_them() {
        let mut b = one_block();
        b.multi = true;
        b.protocol = Protocol::CredSsp;
        b.blocks.push(b.blocks[0].clone());
        let bytes = b.encode();
        assert_eq!(
            EncryptedBody::decode(&b.content_type(), &bytes).unwrap().0,
            b
        );
        let single = b.content_type().replace("x-multi-encrypted", "encrypted");
        assert!(
            EncryptedBody::decode(&single, &bytes)
                .unwrap_err()
                .reason
                .contains("one block")
        );
    }

    #[test]
    fn tolerated_deviations_are_reported() {
        let b = one_block();
        let bytes = String::from_utf8_lossy(&b.encode()).into_owned();
        let sloppy = bytes
            .replace("\r\n\t", "\r\n")
            .replace("--Encrypted Boundary\r\n", "-- Encrypted Boundary\r\n");
        let (back, q) = EncryptedBody::decode(&b.content_type(), sloppy.as_bytes()).unwrap();
        assert_eq!(back, b);
        assert!(q.missing_tabs && q.spaced_boundary);
    }

    #[test]
    fn broken_bodies_say_where_and_why() {
        let b = one_block();
        let bytes = b.encode();
        let ct = b.content_type();
        for n in 0..bytes.len() {
            assert!(
                EncryptedBody::decode(&ct, &bytes[..n]).is_err(),
                "prefix {n} decoded"
            );
        }
        let e = EncryptedBody::decode("application/soap+xml", &bytes).unwrap_err();
        assert!(e.reason.contains("not multipart/encrypted"));
        let e = EncryptedBody::decode(&ct.replace("SPNEGO", "Kerberos"), &bytes).unwrap_err();
        assert!(e.reason.contains("differs"), "{e}");
        let mut big = bytes.clone();
        let at = bytes.windows(4).position(|w| w == [0x10, 0, 0, 0]).unwrap();
        big[at + 3] = 0x7f;
        assert!(
            EncryptedBody::decode(&ct, &big)
                .unwrap_err()
                .reason
                .contains("exceeds")
        );
        let lenless = String::from_utf8_lossy(&bytes).replace(";Length=5", "");
        assert!(
            EncryptedBody::decode(&ct, lenless.as_bytes())
                .unwrap_err()
                .reason
                .contains("Length")
        );
    }

    #[test]
    fn media_types_parse_with_quotes_and_case() {
        let m = MediaType::parse("Multipart/Encrypted; Protocol=\"a;b\"; boundary=x").unwrap();
        assert_eq!(m.essence, "multipart/encrypted");
        assert_eq!(m.param("protocol"), Some("a;b"));
        assert_eq!(m.param("boundary"), Some("x"));
        assert!(MediaType::parse("nonsense").is_err());
    }
}
