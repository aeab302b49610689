//! The GUID type, with the Windows in-memory layout used by `SOCKADDR_HV`.

use std::fmt;
use std::str::FromStr;

/// A 128-bit GUID laid out as Windows lays it out in memory.
///
/// `Data1` is a little-endian `u32`, `Data2` and `Data3` little-endian `u16`s and
/// `Data4` eight bytes in order. Text forms are the usual
/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, optionally in braces, in any case;
/// [`Display`](fmt::Display) prints lowercase without braces.
///
/// ```
/// use hvsock::Guid;
///
/// let g: Guid = "{999E53D4-3D5C-4C3E-8779-BED06EC056E1}".parse().unwrap();
/// assert_eq!(g.to_string(), "999e53d4-3d5c-4c3e-8779-bed06ec056e1");
/// assert_eq!(g.data1, 0x999e53d4);
/// // Windows memory layout: Data1 little-endian first.
/// assert_eq!(&g.to_bytes_le()[..4], &[0xd4, 0x53, 0x9e, 0x99]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid {
    /// First 32 bits (stored little-endian).
    pub data1: u32,
    /// Next 16 bits (stored little-endian).
    pub data2: u16,
    /// Next 16 bits (stored little-endian).
    pub data3: u16,
    /// Last 64 bits, in order.
    pub data4: [u8; 8],
}

/// Why a string is not a GUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuidParseError {
    /// Wrong overall length.
    #[error("a GUID has 36 characters (or 38 with braces), got {0}")]
    Length(usize),
    /// A hyphen is missing or misplaced.
    #[error(
        "a GUID has hyphens at positions 9, 14, 19 and 24 (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
    )]
    Hyphens,
    /// Braces present but unbalanced.
    #[error("unbalanced braces around the GUID")]
    Braces,
    /// A character that is not a hex digit.
    #[error("{0:?} is not a hexadecimal digit")]
    Digit(char),
}

impl Guid {
    /// The all-zero GUID.
    pub const ZERO: Guid = Guid::from_u128(0);

    /// Builds a GUID from its big-endian 128-bit value, the order of the text form
    /// (`0x999e53d4_3d5c_4c3e_8779_bed06ec056e1`).
    pub const fn from_u128(v: u128) -> Guid {
        let b = v.to_be_bytes();
        Guid {
            data1: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            data2: u16::from_be_bytes([b[4], b[5]]),
            data3: u16::from_be_bytes([b[6], b[7]]),
            data4: [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]],
        }
    }

    /// The big-endian 128-bit value, in text order.
    pub const fn to_u128(self) -> u128 {
        let d1 = self.data1.to_be_bytes();
        let d2 = self.data2.to_be_bytes();
        let d3 = self.data3.to_be_bytes();
        let d4 = self.data4;
        u128::from_be_bytes([
            d1[0], d1[1], d1[2], d1[3], d2[0], d2[1], d3[0], d3[1], d4[0], d4[1], d4[2], d4[3],
            d4[4], d4[5], d4[6], d4[7],
        ])
    }

    /// The 16 bytes in Windows memory layout (Data1..Data3 little-endian).
    pub const fn to_bytes_le(self) -> [u8; 16] {
        let d1 = self.data1.to_le_bytes();
        let d2 = self.data2.to_le_bytes();
        let d3 = self.data3.to_le_bytes();
        let d4 = self.data4;
        [
            d1[0], d1[1], d1[2], d1[3], d2[0], d2[1], d3[0], d3[1], d4[0], d4[1], d4[2], d4[3],
            d4[4], d4[5], d4[6], d4[7],
        ]
    }

    /// Reads 16 bytes in Windows memory layout.
    pub const fn from_bytes_le(b: [u8; 16]) -> Guid {
        Guid {
            data1: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            data2: u16::from_le_bytes([b[4], b[5]]),
            data3: u16::from_le_bytes([b[6], b[7]]),
            data4: [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]],
        }
    }

    /// A random version-4 GUID from the operating system's random source.
    pub fn new_v4() -> Guid {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the OS random source failed");
        // RFC 4122 version 4, variant 10xx (in text order).
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Guid::from_u128(u128::from_be_bytes(b))
    }

    /// Parses a GUID in a `const` context; panics on bad input (for constants).
    pub const fn parse_const(s: &str) -> Guid {
        match parse(s.as_bytes()) {
            Ok(g) => g,
            Err(_) => panic!("invalid GUID literal"),
        }
    }

    /// Whether this is the all-zero GUID.
    pub const fn is_zero(self) -> bool {
        self.to_u128() == 0
    }
}

const fn hex_val(c: u8) -> Result<u8, GuidParseError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(GuidParseError::Digit(c as char)),
    }
}

const fn parse(s: &[u8]) -> Result<Guid, GuidParseError> {
    let (start, len) = match s.len() {
        36 => {
            if s[0] == b'{' || s[35] == b'}' {
                return Err(GuidParseError::Braces);
            }
            (0, 36)
        }
        38 => {
            if s[0] != b'{' || s[37] != b'}' {
                return Err(GuidParseError::Braces);
            }
            (1, 36)
        }
        n => return Err(GuidParseError::Length(n)),
    };
    let mut v: u128 = 0;
    let mut i = 0;
    while i < len {
        let c = s[start + i];
        if i == 8 || i == 13 || i == 18 || i == 23 {
            if c != b'-' {
                return Err(GuidParseError::Hyphens);
            }
        } else {
            match hex_val(c) {
                Ok(d) => v = (v << 4) | d as u128,
                Err(e) => return Err(e),
            }
        }
        i += 1;
    }
    Ok(Guid::from_u128(v))
}

impl FromStr for Guid {
    type Err = GuidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Count characters, not bytes, so a multi-byte character reports a sane length.
        if !s.is_ascii() {
            let bad = s.chars().find(|c| !c.is_ascii()).unwrap_or('?');
            let n = s.chars().count();
            if n != 36 && n != 38 {
                return Err(GuidParseError::Length(n));
            }
            return Err(GuidParseError::Digit(bad));
        }
        parse(s.as_bytes())
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows_vectors() {
        // HV_GUID_PARENT as defined in hvsocket.h:
        // {0xa42e7cda, 0xd03f, 0x480c, {0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78}}
        let g: Guid = "a42e7cda-d03f-480c-9cc2-a4de20abb878".parse().unwrap();
        assert_eq!(g.data1, 0xa42e7cda);
        assert_eq!(g.data2, 0xd03f);
        assert_eq!(g.data3, 0x480c);
        assert_eq!(g.data4, [0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78]);
        assert_eq!(
            g.to_bytes_le(),
            [
                0xda, 0x7c, 0x2e, 0xa4, 0x3f, 0xd0, 0x0c, 0x48, 0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab,
                0xb8, 0x78
            ]
        );
        // The vsock template with port 0x1234.
        let t: Guid = "00001234-FACB-11E6-BD58-64006A7986D3".parse().unwrap();
        assert_eq!(
            &t.to_bytes_le()[..8],
            &[0x34, 0x12, 0, 0, 0xcb, 0xfa, 0xe6, 0x11]
        );
    }

    #[test]
    fn forms_accepted_and_rejected() {
        let want = Guid::from_u128(0x999e53d4_3d5c_4c3e_8779_bed06ec056e1);
        for s in [
            "999e53d4-3d5c-4c3e-8779-bed06ec056e1",
            "999E53D4-3D5C-4C3E-8779-BED06EC056E1",
            "{999E53D4-3d5c-4C3E-8779-BED06EC056E1}",
        ] {
            assert_eq!(s.parse::<Guid>().unwrap(), want, "{s}");
        }
        for (s, want) in [
            ("", GuidParseError::Length(0)),
            (
                "999e53d4-3d5c-4c3e-8779-bed06ec056e",
                GuidParseError::Length(35),
            ),
            (
                "999e53d4x3d5c-4c3e-8779-bed06ec056e1",
                GuidParseError::Hyphens,
            ),
            (
                "999e53d4-3d5c-4c3e-8779-bed06ec056eg",
                GuidParseError::Digit('g'),
            ),
            (
                "{999e53d4-3d5c-4c3e-8779-bed06ec056e1)",
                GuidParseError::Braces,
            ),
            (
                "{99e53d4-3d5c-4c3e-8779-bed06ec056e1}",
                GuidParseError::Length(37),
            ),
            (
                "{999e53d4-3d5c-4c3e-8779-bed06ec056e1",
                GuidParseError::Length(37),
            ),
            (
                "{999e53d4-3d5c-4c3e-8779-bed06ec056}",
                GuidParseError::Braces,
            ),
        ] {
            assert_eq!(s.parse::<Guid>(), Err(want), "{s:?}");
        }
        assert!(
            "999e53d4-3d5c-4c3e-8779-bed06ec056é"
                .parse::<Guid>()
                .is_err()
        );
    }

    #[test]
    fn v4_has_version_and_variant() {
        for _ in 0..100 {
            let g = Guid::new_v4();
            assert_eq!(g.data3 >> 12, 4);
            assert_eq!(g.data4[0] >> 6, 0b10);
        }
        assert_ne!(Guid::new_v4(), Guid::new_v4());
    }

    proptest! {
        #[test]
        fn text_round_trip(v in any::<u128>(), upper in any::<bool>(), braces in any::<bool>()) {
            let g = Guid::from_u128(v);
            let mut s = g.to_string();
            prop_assert_eq!(s.len(), 36);
            prop_assert_eq!(s.to_lowercase(), s.clone());
            if upper { s = s.to_uppercase(); }
            if braces { s = format!("{{{s}}}"); }
            prop_assert_eq!(s.parse::<Guid>().unwrap(), g);
        }

        #[test]
        fn bytes_round_trip(b in any::<[u8; 16]>()) {
            let g = Guid::from_bytes_le(b);
            prop_assert_eq!(g.to_bytes_le(), b);
            prop_assert_eq!(Guid::from_u128(g.to_u128()), g);
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = s.parse::<Guid>();
        }
    }
}
