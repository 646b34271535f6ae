//! AV_PAIR lists (MS-NLMP 2.2.2.1): the TargetInfo of a CHALLENGE and the attribute list inside an
//! NTLMv2 client challenge.

use super::super::codec::{DecodeError, PutLe, Reader};

/// An AV_PAIR id; unknown ids are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AvId(pub u16);

impl AvId {
    /// End of list.
    pub const EOL: AvId = AvId(0);
    /// Server NetBIOS name.
    pub const NB_COMPUTER_NAME: AvId = AvId(1);
    /// Domain NetBIOS name.
    pub const NB_DOMAIN_NAME: AvId = AvId(2);
    /// Server DNS name.
    pub const DNS_COMPUTER_NAME: AvId = AvId(3);
    /// Domain DNS name.
    pub const DNS_DOMAIN_NAME: AvId = AvId(4);
    /// Forest DNS name.
    pub const DNS_TREE_NAME: AvId = AvId(5);
    /// MsvAvFlags (0x2: MIC present).
    pub const FLAGS: AvId = AvId(6);
    /// FILETIME of the server.
    pub const TIMESTAMP: AvId = AvId(7);
    /// Single host data.
    pub const SINGLE_HOST: AvId = AvId(8);
    /// SPN of the target (`HTTP/host`).
    pub const TARGET_NAME: AvId = AvId(9);
    /// MD5 of the channel bindings structure.
    pub const CHANNEL_BINDINGS: AvId = AvId(10);
}

/// MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
pub const AV_FLAG_MIC_PRESENT: u32 = 0x2;

/// One pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvPair {
    /// Id.
    pub id: AvId,
    /// Raw value.
    pub value: Vec<u8>,
}

/// A list of pairs, without the terminating EOL (added on encode).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AvPairs(pub Vec<AvPair>);

impl AvPairs {
    /// Reads pairs up to and including EOL; bytes after EOL are ignored, as Windows does
    /// (MS-NLMP <31>: Windows may pad the client challenge).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let mut out = Vec::new();
        loop {
            let id = AvId(r.u16("AvId")?);
            let len = r.u16("AvLen")? as usize;
            let value = r.take(len, "AV_PAIR value")?.to_vec();
            if id == AvId::EOL {
                return Ok(Self(out));
            }
            out.push(AvPair { id, value });
        }
    }

    /// Writes the pairs and a terminating EOL.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for p in &self.0 {
            out.put_u16(p.id.0);
            out.put_u16(p.value.len() as u16);
            out.extend_from_slice(&p.value);
        }
        out.put_u32(0);
    }

    /// Encoded bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// The value of the first pair with `id`.
    pub fn get(&self, id: AvId) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.value.as_slice())
    }

    /// Sets a pair (replacing the first with the same id, or appending).
    pub fn set(&mut self, id: AvId, value: Vec<u8>) {
        match self.0.iter_mut().find(|p| p.id == id) {
            Some(p) => p.value = value,
            None => self.0.push(AvPair { id, value }),
        }
    }

    /// MsvAvTimestamp as a FILETIME.
    pub fn timestamp(&self) -> Option<u64> {
        let v = self.get(AvId::TIMESTAMP)?;
        Some(u64::from_le_bytes(v.try_into().ok()?))
    }

    /// MsvAvFlags.
    pub fn flags(&self) -> u32 {
        self.get(AvId::FLAGS)
            .and_then(|v| v.try_into().ok())
            .map(u32::from_le_bytes)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_target_info_decodes_and_encodes_back() {
        // MS-NLMP 4.2.4.3: TargetInfo of the CHALLENGE (domain "Domain", server "Server").
        let bytes = [
            0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00,
            0x6e, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
            0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let pairs = AvPairs::decode(&bytes).unwrap();
        assert_eq!(pairs.0.len(), 2);
        assert_eq!(
            pairs.get(AvId::NB_DOMAIN_NAME).unwrap(),
            &crate::auth::codec::utf16le("Domain")[..]
        );
        assert_eq!(pairs.to_bytes(), bytes);
    }

    #[test]
    fn truncated_lists_are_errors_not_panics() {
        let full = AvPairs(vec![AvPair {
            id: AvId::TIMESTAMP,
            value: vec![1; 8],
        }])
        .to_bytes();
        for n in 0..full.len() {
            assert!(AvPairs::decode(&full[..n]).is_err(), "prefix {n}");
        }
        assert_eq!(
            AvPairs::decode(&full).unwrap().timestamp(),
            Some(0x0101_0101_0101_0101)
        );
    }
}
