//! SPNEGO tokens (RFC 4178, MS-SPNG) in DER: the initial `NegTokenInit` inside the GSS-API
//! framing, and `NegTokenResp`. Our own small DER codec: definite lengths only, bounded, every
//! error with an offset.

use super::codec::DecodeError;

/// An OBJECT IDENTIFIER, kept as its DER content bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Oid(pub Vec<u8>);

impl Oid {
    /// SPNEGO itself, 1.3.6.1.5.5.2.
    pub fn spnego() -> Self {
        Self(vec![0x2b, 0x06, 0x01, 0x05, 0x05, 0x02])
    }
    /// NTLMSSP, 1.3.6.1.4.1.311.2.2.10.
    pub fn ntlm() -> Self {
        Self(vec![
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
        ])
    }
    /// Kerberos 5, 1.2.840.113554.1.2.2.
    pub fn kerberos() -> Self {
        Self(vec![0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02])
    }
    /// Microsoft's Kerberos OID, 1.2.840.48018.1.2.2.
    pub fn ms_kerberos() -> Self {
        Self(vec![0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02])
    }
}

impl std::fmt::Debug for Oid {
    /// Dotted form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut arcs: Vec<u64> = Vec::new();
        let mut acc: u64 = 0;
        for (i, b) in self.0.iter().enumerate() {
            acc = (acc << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if arcs.is_empty() && i < self.0.len() {
                    arcs.push(acc.min(80) / 40);
                    arcs.push(acc - arcs[0] * 40);
                } else {
                    arcs.push(acc);
                }
                acc = 0;
            }
        }
        let s: Vec<String> = arcs.iter().map(u64::to_string).collect();
        write!(f, "{}", s.join("."))
    }
}

/// `negState` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NegState(pub u8);

impl NegState {
    /// accept-completed.
    pub const ACCEPT_COMPLETED: NegState = NegState(0);
    /// accept-incomplete.
    pub const ACCEPT_INCOMPLETE: NegState = NegState(1);
    /// reject.
    pub const REJECT: NegState = NegState(2);
    /// request-mic.
    pub const REQUEST_MIC: NegState = NegState(3);
}

/// A SPNEGO token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// The client's first token (wrapped in the GSS-API `[APPLICATION 0]` framing).
    Init(NegTokenInit),
    /// Any later token.
    Resp(NegTokenResp),
}

/// NegTokenInit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NegTokenInit {
    /// mechTypes, preferred first.
    pub mech_types: Vec<Oid>,
    /// reqFlags as raw BIT STRING content.
    pub req_flags: Option<Vec<u8>>,
    /// The first mechanism token (e.g. an NTLM NEGOTIATE).
    pub mech_token: Option<Vec<u8>>,
    /// mechListMIC.
    pub mech_list_mic: Option<Vec<u8>>,
}

/// NegTokenResp.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NegTokenResp {
    /// negState.
    pub neg_state: Option<NegState>,
    /// supportedMech.
    pub supported_mech: Option<Oid>,
    /// responseToken (e.g. an NTLM CHALLENGE or AUTHENTICATE).
    pub response_token: Option<Vec<u8>>,
    /// mechListMIC.
    pub mech_list_mic: Option<Vec<u8>>,
}

/// Nesting bound: real tokens nest five levels.
const MAX_DEPTH: usize = 16;

impl Token {
    /// Decodes a token; trailing bytes are refused.
    pub fn decode(buf: &[u8]) -> Result<Token, DecodeError> {
        let mut d = Der {
            buf,
            pos: 0,
            depth: 0,
        };
        let t = match d.peek_tag()? {
            0x60 => {
                let app = d.constructed(0x60, "InitialContextToken")?;
                let mut a = d.sub(app);
                let oid = a.primitive(0x06, "thisMech")?;
                if oid != Oid::spnego().0 {
                    return Err(a.error("thisMech", "not the SPNEGO OID"));
                }
                let inner = a.constructed(0xa0, "negTokenInit")?;
                let mut i = a.sub(inner);
                let t = Token::Init(NegTokenInit::decode(&mut i)?);
                a.end("InitialContextToken")?;
                t
            }
            0xa1 => {
                let r = d.constructed(0xa1, "negTokenResp")?;
                let mut s = d.sub(r);
                let t = Token::Resp(NegTokenResp::decode(&mut s)?);
                s.end("negTokenResp")?;
                t
            }
            0xa0 => {
                let r = d.constructed(0xa0, "negTokenInit")?;
                let mut s = d.sub(r);
                Token::Init(NegTokenInit::decode(&mut s)?)
            }
            t => return Err(d.error("token", format!("unexpected tag 0x{t:02x}"))),
        };
        d.end("token")?;
        Ok(t)
    }

    /// Encodes the token (Init with the GSS-API framing, as clients send it).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Token::Init(i) => {
                let mut inner = tlv(0x06, &Oid::spnego().0);
                inner.extend(tlv(0xa0, &i.encode()));
                tlv(0x60, &inner)
            }
            Token::Resp(r) => tlv(0xa1, &r.encode()),
        }
    }

    /// The mechanism token carried (mechToken or responseToken).
    pub fn mech_token(&self) -> Option<&[u8]> {
        match self {
            Token::Init(i) => i.mech_token.as_deref(),
            Token::Resp(r) => r.response_token.as_deref(),
        }
    }
}

impl NegTokenInit {
    /// The DER of the MechTypeList: what both sides' mechListMIC signs (RFC 4178 §5).
    pub fn mech_types_der(&self) -> Vec<u8> {
        let oids: Vec<u8> = self
            .mech_types
            .iter()
            .flat_map(|o| tlv(0x06, &o.0))
            .collect();
        tlv(0x30, &oids)
    }

    fn decode(d: &mut Der<'_>) -> Result<Self, DecodeError> {
        let seq = d.constructed(0x30, "NegTokenInit")?;
        let mut s = d.sub(seq);
        let mut t = NegTokenInit::default();
        if s.next_is(0xa0) {
            let c = s.constructed(0xa0, "mechTypes")?;
            let mut m = s.sub(c);
            let list = m.constructed(0x30, "MechTypeList")?;
            let mut l = m.sub(list);
            while !l.at_end() {
                t.mech_types
                    .push(Oid(l.primitive(0x06, "MechType")?.to_vec()));
            }
        }
        if s.next_is(0xa1) {
            let c = s.constructed(0xa1, "reqFlags")?;
            t.req_flags = Some(s.sub(c).primitive(0x03, "ContextFlags")?.to_vec());
        }
        if s.next_is(0xa2) {
            let c = s.constructed(0xa2, "mechToken")?;
            t.mech_token = Some(s.sub(c).primitive(0x04, "mechToken")?.to_vec());
        }
        if s.next_is(0xa3) {
            let c = s.constructed(0xa3, "mechListMIC")?;
            t.mech_list_mic = Some(s.sub(c).primitive(0x04, "mechListMIC")?.to_vec());
        }
        s.end("NegTokenInit")?;
        Ok(t)
    }

    fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let oids: Vec<u8> = self
            .mech_types
            .iter()
            .flat_map(|o| tlv(0x06, &o.0))
            .collect();
        body.extend(tlv(0xa0, &tlv(0x30, &oids)));
        if let Some(f) = &self.req_flags {
            body.extend(tlv(0xa1, &tlv(0x03, f)));
        }
        if let Some(m) = &self.mech_token {
            body.extend(tlv(0xa2, &tlv(0x04, m)));
        }
        if let Some(m) = &self.mech_list_mic {
            body.extend(tlv(0xa3, &tlv(0x04, m)));
        }
        tlv(0x30, &body)
    }
}

impl NegTokenResp {
    fn decode(d: &mut Der<'_>) -> Result<Self, DecodeError> {
        let seq = d.constructed(0x30, "NegTokenResp")?;
        let mut s = d.sub(seq);
        let mut t = NegTokenResp::default();
        if s.next_is(0xa0) {
            let c = s.constructed(0xa0, "negState")?;
            let v = s.sub(c).primitive(0x0a, "negState")?;
            if v.len() != 1 {
                return Err(s.error("negState", "ENUMERATED of more than one byte"));
            }
            t.neg_state = Some(NegState(v[0]));
        }
        if s.next_is(0xa1) {
            let c = s.constructed(0xa1, "supportedMech")?;
            t.supported_mech = Some(Oid(s.sub(c).primitive(0x06, "supportedMech")?.to_vec()));
        }
        if s.next_is(0xa2) {
            let c = s.constructed(0xa2, "responseToken")?;
            t.response_token = Some(s.sub(c).primitive(0x04, "responseToken")?.to_vec());
        }
        if s.next_is(0xa3) {
            let c = s.constructed(0xa3, "mechListMIC")?;
            t.mech_list_mic = Some(s.sub(c).primitive(0x04, "mechListMIC")?.to_vec());
        }
        s.end("NegTokenResp")?;
        Ok(t)
    }

    fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(n) = self.neg_state {
            body.extend(tlv(0xa0, &tlv(0x0a, &[n.0])));
        }
        if let Some(o) = &self.supported_mech {
            body.extend(tlv(0xa1, &tlv(0x06, &o.0)));
        }
        if let Some(m) = &self.response_token {
            body.extend(tlv(0xa2, &tlv(0x04, m)));
        }
        if let Some(m) = &self.mech_list_mic {
            body.extend(tlv(0xa3, &tlv(0x04, m)));
        }
        tlv(0x30, &body)
    }
}

/// A DER tag-length-value with the shortest length form.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A bounded DER reader over `buf[pos..]`; `base` keeps offsets absolute for errors.
struct Der<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

/// A span of content inside the outer buffer.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    depth: usize,
}

impl<'a> Der<'a> {
    fn error(&self, field: &'static str, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.pos,
            field,
            reason: reason.into(),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn end(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("{} unexpected trailing bytes", self.buf.len() - self.pos),
            ))
        }
    }

    fn peek_tag(&self) -> Result<u8, DecodeError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.error("tag", "end of token"))
    }

    fn next_is(&self, tag: u8) -> bool {
        self.buf.get(self.pos) == Some(&tag)
    }

    /// Reads a TLV with `tag`; returns the content span.
    fn tlv(&mut self, tag: u8, field: &'static str) -> Result<Span, DecodeError> {
        let got = self.peek_tag()?;
        if got != tag {
            return Err(self.error(
                field,
                format!("expected tag 0x{tag:02x}, found 0x{got:02x}"),
            ));
        }
        let mut p = self.pos + 1;
        let first = *self
            .buf
            .get(p)
            .ok_or_else(|| self.error(field, "missing length"))?;
        p += 1;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return Err(
                    self.error(field, "indefinite or oversized length (DER allows neither)")
                );
            }
            let bytes = self
                .buf
                .get(p..p + n)
                .ok_or_else(|| self.error(field, "truncated length"))?;
            p += n;
            bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize)
        };
        let end = p
            .checked_add(len)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| {
                self.error(
                    field,
                    format!("length {len} exceeds the {} bytes left", self.buf.len() - p),
                )
            })?;
        self.pos = end;
        Ok(Span {
            start: p,
            end,
            depth: self.depth + 1,
        })
    }

    fn constructed(&mut self, tag: u8, field: &'static str) -> Result<Span, DecodeError> {
        let s = self.tlv(tag, field)?;
        if s.depth > MAX_DEPTH {
            return Err(self.error(field, "nested too deeply"));
        }
        Ok(s)
    }

    fn primitive(&mut self, tag: u8, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let s = self.tlv(tag, field)?;
        Ok(&self.buf[s.start..s.end])
    }

    /// A reader over a span's content (offsets stay relative to the whole token).
    fn sub(&self, s: Span) -> Der<'a> {
        Der {
            buf: &self.buf[..s.end],
            pos: s.start,
            depth: s.depth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_and_resp_round_trip() {
        let init = Token::Init(NegTokenInit {
            mech_types: vec![Oid::ntlm()],
            mech_token: Some(b"NTLMSSP\0\x01\0\0\0".to_vec()),
            ..NegTokenInit::default()
        });
        let bytes = init.encode();
        assert_eq!(bytes[0], 0x60);
        assert_eq!(Token::decode(&bytes).unwrap(), init);
        let resp = Token::Resp(NegTokenResp {
            neg_state: Some(NegState::ACCEPT_INCOMPLETE),
            supported_mech: Some(Oid::ntlm()),
            response_token: Some(vec![7; 300]),
            mech_list_mic: None,
        });
        assert_eq!(Token::decode(&resp.encode()).unwrap(), resp);
        assert_eq!(format!("{:?}", Oid::ntlm()), "1.3.6.1.4.1.311.2.2.10");
        assert_eq!(format!("{:?}", Oid::kerberos()), "1.2.840.113554.1.2.2");
    }

    #[test]
    fn every_prefix_and_trailing_bytes_are_refused() {
        let resp = Token::Resp(NegTokenResp {
            neg_state: Some(NegState::ACCEPT_COMPLETED),
            response_token: Some(vec![1; 200]),
            ..NegTokenResp::default()
        })
        .encode();
        for n in 0..resp.len() {
            assert!(Token::decode(&resp[..n]).is_err(), "prefix {n}");
        }
        let mut longer = resp.clone();
        longer.push(0);
        assert!(
            Token::decode(&longer)
                .unwrap_err()
                .reason
                .contains("trailing")
        );
        assert!(Token::decode(&[0xa1, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(
            Token::decode(&[0xa1, 0x80])
                .unwrap_err()
                .reason
                .contains("indefinite")
        );
    }
}
