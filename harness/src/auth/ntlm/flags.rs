//! NTLM negotiate flags (MS-NLMP 2.2.2.5) as a newtype: unknown bits decode, print and
//! round-trip, so a fuzzer or a deviating peer can send any value.

use std::fmt;

/// The 32-bit NegotiateFlags field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u32);

macro_rules! flags {
    ($($name:ident = $value:expr),* $(,)?) => {
        impl Flags {
            $(#[doc = concat!("`NTLMSSP_", stringify!($name), "`.")]
            pub const $name: Flags = Flags($value);)*

            /// Names of the known bits, for display.
            const NAMES: &'static [(&'static str, u32)] = &[$((stringify!($name), $value)),*];
        }
    };
}

flags! {
    NEGOTIATE_UNICODE = 0x0000_0001,
    NEGOTIATE_OEM = 0x0000_0002,
    REQUEST_TARGET = 0x0000_0004,
    NEGOTIATE_SIGN = 0x0000_0010,
    NEGOTIATE_SEAL = 0x0000_0020,
    NEGOTIATE_DATAGRAM = 0x0000_0040,
    NEGOTIATE_LM_KEY = 0x0000_0080,
    NEGOTIATE_NTLM = 0x0000_0200,
    ANONYMOUS = 0x0000_0800,
    NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x0000_1000,
    NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x0000_2000,
    NEGOTIATE_ALWAYS_SIGN = 0x0000_8000,
    TARGET_TYPE_DOMAIN = 0x0001_0000,
    TARGET_TYPE_SERVER = 0x0002_0000,
    NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x0008_0000,
    NEGOTIATE_IDENTIFY = 0x0010_0000,
    REQUEST_NON_NT_SESSION_KEY = 0x0040_0000,
    NEGOTIATE_TARGET_INFO = 0x0080_0000,
    NEGOTIATE_VERSION = 0x0200_0000,
    NEGOTIATE_128 = 0x2000_0000,
    NEGOTIATE_KEY_EXCH = 0x4000_0000,
    NEGOTIATE_56 = 0x8000_0000,
}

impl Flags {
    /// True when every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for Flags {
    type Output = Flags;
    fn bitand(self, rhs: Flags) -> Flags {
        Flags(self.0 & rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)?;
        let mut rest = self.0;
        let mut sep = " (";
        for (n, v) in Self::NAMES {
            if self.0 & v != 0 {
                write!(f, "{sep}{n}")?;
                sep = "|";
                rest &= !v;
            }
        }
        if rest != 0 {
            write!(f, "{sep}0x{rest:x}")?;
            sep = "|";
        }
        if sep != " (" {
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_challenge_flags_print_by_name() {
        // MS-NLMP 4.2.4: the NTLMv2 example's challenge flags are 0xe28a8233.
        let f = Flags(0xe28a_8233);
        assert!(
            f.contains(Flags::NEGOTIATE_KEY_EXCH | Flags::NEGOTIATE_SEAL | Flags::NEGOTIATE_128)
        );
        let s = format!("{f:?}");
        assert!(
            s.starts_with("0xe28a8233 (NEGOTIATE_UNICODE|NEGOTIATE_OEM"),
            "{s}"
        );
        assert!(!s.contains("0x0"), "every bit is named: {s}");
        assert!(format!("{:?}", Flags(0x0000_0100)).contains("0x100"));
    }
}
