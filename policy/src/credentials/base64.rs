//! A strict decoder for base64 with the standard alphabet and padding (RFC 4648 §4), as used by
//! `Authorization: Basic` (RFC 7617 §2).
//!
//! Strict means one encoding per byte string: the length is a multiple of four, `=` appears only
//! as one or two final padding characters, the unused bits before padding are zero (RFC 4648
//! §3.5 lets decoders reject non-zero pad bits), and no whitespace or other characters are
//! skipped. Canonical input matters because decoded credentials are cached by digest: two
//! spellings of one credential would otherwise be two cache entries. Not here: the URL-safe
//! alphabet of JOSE (`jose` has its own).

use std::fmt;

/// Why a base64 string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidBase64 {
    /// The length is not a multiple of four (padding missing or extra characters).
    Length,
    /// A byte outside the alphabet at this offset (including `=` before the end).
    Character { offset: usize },
    /// The bits left over before the padding are not zero (a non-canonical encoding).
    NonZeroPadBits,
}

impl fmt::Display for InvalidBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length => f.write_str("base64 length is not a multiple of 4"),
            Self::Character { offset } => write!(f, "invalid base64 character at offset {offset}"),
            Self::NonZeroPadBits => f.write_str("base64 has non-zero bits before its padding"),
        }
    }
}

impl std::error::Error for InvalidBase64 {}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes padded standard base64.
///
/// # Errors
/// See [`InvalidBase64`]; the empty string decodes to no bytes.
pub fn decode_standard(input: &[u8]) -> Result<Vec<u8>, InvalidBase64> {
    if !input.chunks_exact(4).remainder().is_empty() {
        return Err(InvalidBase64::Length);
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let quanta = input.len() / 4;
    for (q, chunk) in input.chunks_exact(4).enumerate() {
        let [a, b, c, d] = *chunk else { return Err(InvalidBase64::Length) };
        let base = q * 4;
        let last = q + 1 == quanta;
        let bad = |i: usize| InvalidBase64::Character { offset: base + i };
        let a = sextet(a).ok_or(bad(0))?;
        let b = sextet(b).ok_or(bad(1))?;
        match (c, d) {
            (b'=', b'=') if last => {
                if b & 0x0f != 0 {
                    return Err(InvalidBase64::NonZeroPadBits);
                }
                out.push((a << 2) | (b >> 4));
            }
            (c, b'=') if last => {
                let c = sextet(c).ok_or(bad(2))?;
                if c & 0x03 != 0 {
                    return Err(InvalidBase64::NonZeroPadBits);
                }
                out.push((a << 2) | (b >> 4));
                out.push((b << 4) | (c >> 2));
            }
            (c, d) => {
                let c = sextet(c).ok_or(bad(2))?;
                let d = sextet(d).ok_or(bad(3))?;
                out.push((a << 2) | (b >> 4));
                out.push((b << 4) | (c >> 2));
                out.push((c << 6) | d);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        // RFC 4648 §10.
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(decode_standard(enc.as_bytes()).unwrap(), plain.as_bytes(), "{enc}");
        }
        assert_eq!(decode_standard(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn strictness() {
        assert_eq!(decode_standard(b"Zg"), Err(InvalidBase64::Length));
        assert_eq!(decode_standard(b"Zg="), Err(InvalidBase64::Length));
        assert_eq!(decode_standard(b"Zh=="), Err(InvalidBase64::NonZeroPadBits));
        assert_eq!(decode_standard(b"Zm9="), Err(InvalidBase64::NonZeroPadBits));
        assert_eq!(decode_standard(b"Zg==Zg=="), Err(InvalidBase64::Character { offset: 2 }));
        assert_eq!(decode_standard(b"Z===").unwrap_err(), InvalidBase64::Character { offset: 1 });
        assert_eq!(decode_standard(b"Zm-v"), Err(InvalidBase64::Character { offset: 2 }));
        assert_eq!(decode_standard(b"Zm9v\n"), Err(InvalidBase64::Length));
        assert_eq!(decode_standard(b"Zm 9"), Err(InvalidBase64::Character { offset: 2 }));
        assert_eq!(decode_standard(b"=Zm9"), Err(InvalidBase64::Character { offset: 0 }));
    }
}
