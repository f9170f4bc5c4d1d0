//! Strict base64 (RFC 4648), the one codec of the project: the standard alphabet with padding
//! (§4; `Authorization: Basic`, RFC 7617 §2, and stored password hashes) and the URL-safe alphabet
//! without padding (§5; JOSE, RFC 7515 §2).
//!
//! Strict means one accepted encoding per byte string: only the alphabet's characters (no
//! whitespace, nothing skipped), padding exactly where the standard form needs it and never in the
//! URL-safe form, no impossible length, and zero unused bits in the last character (RFC 4648 §3.5;
//! Wycheproof `ModifiedUnusedBitsInPayload`). Canonical input matters twice here: verified
//! credentials are cached by digest, and a signature must not verify under two spellings.

use std::fmt;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a base64 string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidBase64 {
    /// The length is impossible (padded: not a multiple of four; unpadded: `4k+1`).
    Length,
    /// A byte outside the alphabet at this offset (including misplaced `=`).
    Character { offset: usize },
    /// The unused bits of the last character are not zero (a non-canonical encoding).
    NonZeroPadBits,
}

impl fmt::Display for InvalidBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length => f.write_str("base64 has an impossible length"),
            Self::Character { offset } => write!(f, "invalid base64 character at offset {offset}"),
            Self::NonZeroPadBits => f.write_str("base64 has non-zero unused bits at its end"),
        }
    }
}

impl std::error::Error for InvalidBase64 {}

/// Encodes with the standard alphabet and padding.
pub fn encode_standard(input: &[u8]) -> String {
    let mut out = encode(input, STANDARD);
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// Decodes padded standard base64; the empty string decodes to no bytes.
///
/// # Errors
/// See [`InvalidBase64`].
pub fn decode_standard(input: &[u8]) -> Result<Vec<u8>, InvalidBase64> {
    if !input.len().is_multiple_of(4) {
        return Err(InvalidBase64::Length);
    }
    let pad = input.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 {
        // `Z===`: the first `=` stands where a character must.
        return Err(InvalidBase64::Character { offset: input.len() - pad });
    }
    decode(input.get(..input.len() - pad).unwrap_or_default(), [b'+', b'/'])
}

/// Encodes with the URL-safe alphabet, without padding.
pub fn encode_url(input: &[u8]) -> String {
    encode(input, URL_SAFE)
}

/// Decodes unpadded URL-safe base64.
///
/// # Errors
/// See [`InvalidBase64`].
pub fn decode_url(input: &[u8]) -> Result<Vec<u8>, InvalidBase64> {
    decode(input, [b'-', b'_'])
}

fn encode(input: &[u8], alphabet: &[u8; 64]) -> String {
    let symbol = |index: u32| alphabet.get((index & 0x3f) as usize).map_or('A', |&c| char::from(c));
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        // 1 byte → 2 symbols, 2 → 3, 3 → 4.
        for shift in [18, 12, 6, 0].iter().take(chunk.len() + 1) {
            out.push(symbol(n >> shift));
        }
    }
    out
}

/// Decodes unpadded base64 strictly; `last_two` are the alphabet's characters for 62 and 63.
fn decode(input: &[u8], last_two: [u8; 2]) -> Result<Vec<u8>, InvalidBase64> {
    let [c62, c63] = last_two;
    let value = |offset: usize, byte: u8| {
        let v = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            _ if byte == c62 => 62,
            _ if byte == c63 => 63,
            _ => return Err(InvalidBase64::Character { offset }),
        };
        Ok(u32::from(v))
    };
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut chunks = input.chunks_exact(4);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut n = 0u32;
        for &b in chunk {
            n = (n << 6) | value(offset, b)?;
            offset += 1;
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    let mut n = 0u32;
    for &b in rest {
        n = (n << 6) | value(offset, b)?;
        offset += 1;
    }
    match rest.len() {
        0 => {}
        // 12 bits: one byte and 4 unused bits.
        2 if n & 0xf != 0 => return Err(InvalidBase64::NonZeroPadBits),
        2 => out.push((n >> 4) as u8),
        // 18 bits: two bytes and 2 unused bits.
        3 if n & 0x3 != 0 => return Err(InvalidBase64::NonZeroPadBits),
        3 => out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]),
        _ => return Err(InvalidBase64::Length),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors_both_alphabets() {
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
            assert_eq!(encode_standard(plain.as_bytes()), enc);
            assert_eq!(decode_standard(enc.as_bytes()).unwrap(), plain.as_bytes(), "{enc}");
            let url = enc.trim_end_matches('=');
            assert_eq!(encode_url(plain.as_bytes()), url);
            assert_eq!(decode_url(url.as_bytes()).unwrap(), plain.as_bytes(), "{url}");
        }
        assert_eq!(decode_standard(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode_url(b"-_8").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn round_trip_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..data.len() {
            let slice = &data[..len];
            assert_eq!(decode_standard(encode_standard(slice).as_bytes()).unwrap(), slice);
            let url = encode_url(slice);
            assert!(!url.contains('='));
            assert_eq!(decode_url(url.as_bytes()).unwrap(), slice, "len {len}");
        }
    }

    #[test]
    fn standard_form_is_strict() {
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

    #[test]
    fn url_form_refuses_padding_whitespace_std_alphabet_and_extra_bits() {
        assert!(matches!(decode_url(b"Zg=="), Err(InvalidBase64::Character { .. })));
        assert!(matches!(decode_url(b"Zm9v "), Err(InvalidBase64::Character { .. })));
        assert!(matches!(decode_url(b"Zm\n9v"), Err(InvalidBase64::Character { .. })));
        assert!(matches!(decode_url(b"+/8"), Err(InvalidBase64::Character { .. })));
        assert_eq!(decode_url(b"Zm9vY"), Err(InvalidBase64::Length));
        assert_eq!(decode_url(b"Zh"), Err(InvalidBase64::NonZeroPadBits));
        assert_eq!(decode_url(b"Zm9"), Err(InvalidBase64::NonZeroPadBits));
        assert_eq!(decode_url(b"AB"), Err(InvalidBase64::NonZeroPadBits));
        assert_eq!(decode_url(b"AA").unwrap(), [0]);
    }
}
