//! Little-endian binary reading and writing for the auth wire formats (NTLM, SPNEGO lengths).
//!
//! One rule everywhere: a reader never reads past what it was given, and every error names the
//! field and the byte offset, so that a malformed token from a peer (or a fuzzer) is described,
//! never panicked on.

use std::fmt;

/// Why a token could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the token.
    pub offset: usize,
    /// The field being read.
    pub field: &'static str,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at byte {}: {}: {}",
            self.offset, self.field, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

/// A forward-only cursor over a byte slice.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Current offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// An error at the current offset.
    pub fn error(&self, field: &'static str, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.pos,
            field,
            reason: reason.into(),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| {
                self.error(
                    field,
                    format!("needs {n} bytes, {} left", self.buf.len() - self.pos),
                )
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A little-endian u16.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// A little-endian u32.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// A little-endian u64.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }
}

/// Appends little-endian values.
pub trait PutLe {
    /// Appends a u16.
    fn put_u16(&mut self, v: u16);
    /// Appends a u32.
    fn put_u32(&mut self, v: u32);
    /// Appends a u64.
    fn put_u64(&mut self, v: u64);
}

impl PutLe for Vec<u8> {
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
}

/// UTF-16LE bytes of a string (NTLM's UNICODE encoding, MS-NLMP §6).
pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A string from UTF-16LE bytes; odd lengths and unpaired surrogates are reported.
pub fn from_utf16le(b: &[u8]) -> Result<String, String> {
    if !b.len().is_multiple_of(2) {
        return Err(format!("UTF-16 string of odd length {}", b.len()));
    }
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_never_pass_the_end_and_name_the_field() {
        let mut r = Reader::new(&[1, 0, 2]);
        assert_eq!(r.u16("a").unwrap(), 1);
        let e = r.u16("b").unwrap_err();
        assert_eq!((e.offset, e.field), (2, "b"));
        assert!(e.reason.contains("needs 2 bytes, 1 left"));
        assert_eq!(r.u8("c").unwrap(), 2);
        assert!(r.take(usize::MAX, "huge").is_err());
    }

    #[test]
    fn utf16_round_trips_and_rejects_odd_input() {
        assert_eq!(from_utf16le(&utf16le("Dömain✓")).unwrap(), "Dömain✓");
        assert!(from_utf16le(&[0x41]).is_err());
        assert!(from_utf16le(&[0x00, 0xD8]).is_err());
    }
}
