//! The three NTLM messages (MS-NLMP 2.2.1), one type each, with symmetric encode/decode.
//!
//! Decoding checks every field against the message bounds; encoding lays the payload out in the
//! order Windows does (the MS-NLMP 4.2.4.3 examples re-encode byte for byte). Values are kept raw
//! so a test or fuzzer can build any message, valid or not.

use super::super::codec::{DecodeError, PutLe, Reader};
use super::av_pair::AvPairs;
use super::flags::Flags;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// The VERSION structure (MS-NLMP 2.2.2.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// Major OS version.
    pub major: u8,
    /// Minor OS version.
    pub minor: u8,
    /// Build number.
    pub build: u16,
    /// NTLM revision (15 for NTLMSSP_REVISION_W2K3).
    pub revision: u8,
}

impl Version {
    /// Windows 10 / Server 2016+ as seen on the wire.
    pub const WINDOWS_10: Version = Version {
        major: 10,
        minor: 0,
        build: 17763,
        revision: 15,
    };

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let major = r.u8("Version.ProductMajorVersion")?;
        let minor = r.u8("Version.ProductMinorVersion")?;
        let build = r.u16("Version.ProductBuild")?;
        r.take(3, "Version.Reserved")?;
        let revision = r.u8("Version.NTLMRevisionCurrent")?;
        Ok(Self {
            major,
            minor,
            build,
            revision,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.major);
        out.push(self.minor);
        out.put_u16(self.build);
        out.extend_from_slice(&[0, 0, 0]);
        out.push(self.revision);
    }
}

/// NEGOTIATE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiate {
    /// Requested flags.
    pub flags: Flags,
    /// OEM domain name (usually empty).
    pub domain: Vec<u8>,
    /// OEM workstation name (usually empty).
    pub workstation: Vec<u8>,
    /// Version, when the message carries one.
    pub version: Option<Version>,
}

/// CHALLENGE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Target name (UTF-16LE or OEM per flags).
    pub target_name: Vec<u8>,
    /// Chosen flags.
    pub flags: Flags,
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// Reserved 8 bytes, kept for exact round trips.
    pub reserved: [u8; 8],
    /// TargetInfo AV pairs, raw (decode with [`AvPairs::decode`]).
    pub target_info: Vec<u8>,
    /// Version, when present.
    pub version: Option<Version>,
}

/// AUTHENTICATE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticate {
    /// LmChallengeResponse.
    pub lm_response: Vec<u8>,
    /// NtChallengeResponse (for NTLMv2: NTProofStr ‖ client challenge blob).
    pub nt_response: Vec<u8>,
    /// Domain name.
    pub domain: Vec<u8>,
    /// User name.
    pub user: Vec<u8>,
    /// Workstation name.
    pub workstation: Vec<u8>,
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: Vec<u8>,
    /// Flags.
    pub flags: Flags,
    /// Version, when present.
    pub version: Option<Version>,
    /// MIC, when present.
    pub mic: Option<[u8; 16]>,
}

/// Any of the three messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Type 1.
    Negotiate(Negotiate),
    /// Type 2.
    Challenge(Challenge),
    /// Type 3.
    Authenticate(Authenticate),
}

impl Message {
    /// Decodes any NTLM message by its type field.
    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(buf);
        header(&mut r)?;
        match r.u32("MessageType")? {
            1 => Negotiate::decode(buf).map(Message::Negotiate),
            2 => Challenge::decode(buf).map(Message::Challenge),
            3 => Authenticate::decode(buf).map(Message::Authenticate),
            t => Err(DecodeError {
                offset: 8,
                field: "MessageType",
                reason: format!("unknown message type {t}"),
            }),
        }
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::Negotiate(m) => m.encode(),
            Message::Challenge(m) => m.encode(),
            Message::Authenticate(m) => m.encode(),
        }
    }
}

fn header(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let sig = r.take(8, "Signature")?;
    if sig != SIGNATURE {
        return Err(DecodeError {
            offset: 0,
            field: "Signature",
            reason: "not \"NTLMSSP\\0\"".into(),
        });
    }
    Ok(())
}

fn expect_type(r: &mut Reader<'_>, t: u32) -> Result<(), DecodeError> {
    header(r)?;
    let got = r.u32("MessageType")?;
    if got != t {
        return Err(DecodeError {
            offset: 8,
            field: "MessageType",
            reason: format!("expected {t}, found {got}"),
        });
    }
    Ok(())
}

/// A (Len, MaxLen, Offset) field header and the payload bytes it points at.
struct Field {
    len: u16,
    offset: u32,
    name: &'static str,
    at: usize,
}

impl Field {
    fn read(r: &mut Reader<'_>, name: &'static str) -> Result<Field, DecodeError> {
        let at = r.offset();
        let len = r.u16(name)?;
        let _max = r.u16(name)?;
        let offset = r.u32(name)?;
        Ok(Field {
            len,
            offset,
            name,
            at,
        })
    }

    fn bytes(&self, buf: &[u8]) -> Result<Vec<u8>, DecodeError> {
        if self.len == 0 {
            return Ok(Vec::new());
        }
        let start = self.offset as usize;
        let end = start + self.len as usize;
        buf.get(start..end)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| DecodeError {
                offset: self.at,
                field: self.name,
                reason: format!(
                    "points at bytes {start}..{end} of a {}-byte message",
                    buf.len()
                ),
            })
    }
}

/// The smallest payload offset of non-empty fields: tells whether the optional Version and MIC
/// are present, as real implementations do (the flags are not reliable for this).
fn payload_start(fields: &[&Field], len: usize) -> usize {
    fields
        .iter()
        .filter(|f| f.len > 0)
        .map(|f| f.offset as usize)
        .min()
        .unwrap_or(len)
}

/// Lays out a message: header fields in order, then the payload in the order Windows uses.
struct Layout {
    head: Vec<u8>,
    payload: Vec<(usize, Vec<u8>)>,
}

impl Layout {
    fn new(msg_type: u32) -> Self {
        let mut head = SIGNATURE.to_vec();
        head.put_u32(msg_type);
        Self {
            head,
            payload: Vec::new(),
        }
    }

    /// Reserves a field header (filled in by `finish`).
    fn field(&mut self, bytes: &[u8]) {
        let at = self.head.len();
        self.head.extend_from_slice(&[0; 8]);
        self.payload.push((at, bytes.to_vec()));
    }

    /// Writes the payloads in `order` (indices in header order) and fills the field headers.
    fn finish(mut self, order: &[usize]) -> Vec<u8> {
        let mut offset = self.head.len();
        let mut body = Vec::new();
        for &i in order {
            let (at, bytes) = &self.payload[i];
            let len = bytes.len() as u16;
            self.head[*at..*at + 2].copy_from_slice(&len.to_le_bytes());
            self.head[*at + 2..*at + 4].copy_from_slice(&len.to_le_bytes());
            self.head[*at + 4..*at + 8].copy_from_slice(&(offset as u32).to_le_bytes());
            offset += bytes.len();
            body.extend_from_slice(bytes);
        }
        self.head.extend_from_slice(&body);
        self.head
    }
}

impl Negotiate {
    /// Decodes a NEGOTIATE_MESSAGE.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        expect_type(&mut r, 1)?;
        let flags = Flags(r.u32("NegotiateFlags")?);
        let domain = Field::read(&mut r, "DomainNameFields")?;
        let workstation = Field::read(&mut r, "WorkstationFields")?;
        let start = payload_start(&[&domain, &workstation], buf.len());
        let version = (start >= 40 && buf.len() >= 40)
            .then(|| Version::decode(&mut r))
            .transpose()?;
        Ok(Self {
            flags,
            domain: domain.bytes(buf)?,
            workstation: workstation.bytes(buf)?,
            version,
        })
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut l = Layout::new(1);
        l.head.put_u32(self.flags.0);
        l.field(&self.domain);
        l.field(&self.workstation);
        if let Some(v) = &self.version {
            v.encode(&mut l.head);
        }
        l.finish(&[0, 1])
    }
}

impl Challenge {
    /// Decodes a CHALLENGE_MESSAGE.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        expect_type(&mut r, 2)?;
        let target_name = Field::read(&mut r, "TargetNameFields")?;
        let flags = Flags(r.u32("NegotiateFlags")?);
        let server_challenge = r.array("ServerChallenge")?;
        let reserved = r.array("Reserved")?;
        let target_info = Field::read(&mut r, "TargetInfoFields")?;
        let start = payload_start(&[&target_name, &target_info], buf.len());
        let version = (start >= 56 && buf.len() >= 56)
            .then(|| Version::decode(&mut r))
            .transpose()?;
        Ok(Self {
            target_name: target_name.bytes(buf)?,
            flags,
            server_challenge,
            reserved,
            target_info: target_info.bytes(buf)?,
            version,
        })
    }

    /// The TargetInfo pairs.
    pub fn av_pairs(&self) -> Result<AvPairs, DecodeError> {
        AvPairs::decode(&self.target_info)
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut l = Layout::new(2);
        l.field(&self.target_name);
        l.head.put_u32(self.flags.0);
        l.head.extend_from_slice(&self.server_challenge);
        l.head.extend_from_slice(&self.reserved);
        l.field(&self.target_info);
        if let Some(v) = &self.version {
            v.encode(&mut l.head);
        }
        l.finish(&[0, 1])
    }
}

impl Authenticate {
    /// Offset of the MIC in the message (MS-NLMP 2.2.1.3), for computing and checking it.
    pub const MIC_OFFSET: usize = 72;

    /// Decodes an AUTHENTICATE_MESSAGE.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        expect_type(&mut r, 3)?;
        let lm = Field::read(&mut r, "LmChallengeResponseFields")?;
        let nt = Field::read(&mut r, "NtChallengeResponseFields")?;
        let domain = Field::read(&mut r, "DomainNameFields")?;
        let user = Field::read(&mut r, "UserNameFields")?;
        let ws = Field::read(&mut r, "WorkstationFields")?;
        let key = Field::read(&mut r, "EncryptedRandomSessionKeyFields")?;
        let flags = Flags(r.u32("NegotiateFlags")?);
        let start = payload_start(&[&lm, &nt, &domain, &user, &ws, &key], buf.len());
        let version = (start >= 72 && buf.len() >= 72)
            .then(|| Version::decode(&mut r))
            .transpose()?;
        let mic = (start >= 88 && buf.len() >= 88)
            .then(|| r.array::<16>("MIC"))
            .transpose()?;
        Ok(Self {
            lm_response: lm.bytes(buf)?,
            nt_response: nt.bytes(buf)?,
            domain: domain.bytes(buf)?,
            user: user.bytes(buf)?,
            workstation: ws.bytes(buf)?,
            encrypted_session_key: key.bytes(buf)?,
            flags,
            version,
            mic,
        })
    }

    /// Encodes the message (payload order as Windows: domain, user, workstation, LM, NT, key).
    pub fn encode(&self) -> Vec<u8> {
        let mut l = Layout::new(3);
        l.field(&self.lm_response);
        l.field(&self.nt_response);
        l.field(&self.domain);
        l.field(&self.user);
        l.field(&self.workstation);
        l.field(&self.encrypted_session_key);
        l.head.put_u32(self.flags.0);
        if let Some(v) = &self.version {
            v.encode(&mut l.head);
        }
        if let Some(m) = &self.mic {
            l.head.extend_from_slice(m);
        }
        l.finish(&[2, 3, 4, 0, 1, 5])
    }

    /// The user name as text (UTF-16LE when UNICODE was negotiated, else OEM as Latin-1).
    pub fn user_name(&self) -> String {
        text(&self.user, self.flags)
    }

    /// The domain name as text.
    pub fn domain_name(&self) -> String {
        text(&self.domain, self.flags)
    }
}

fn text(b: &[u8], flags: Flags) -> String {
    if flags.contains(Flags::NEGOTIATE_UNICODE) {
        super::super::codec::from_utf16le(b).unwrap_or_else(|_| String::from_utf8_lossy(b).into())
    } else {
        b.iter().map(|&c| c as char).collect()
    }
}
