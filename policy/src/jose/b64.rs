//! Strict base64url (RFC 4648 §5) without padding, as JOSE requires (RFC 7515 §2, "Base64url
//! Encoding": "with all trailing '=' characters omitted ... and without the inclusion of any line
//! breaks, whitespace, or other additional characters").
//!
//! Strict means: only `A-Z a-z 0-9 - _`; no `=`; no whitespace; a length of `4k+1` is refused; and
//! the unused low bits of the last character must be zero, so every byte string has exactly one
//! accepted encoding (Wycheproof `ModifiedUnusedBitsInPayload`).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Why a base64url string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum B64Error {
    /// A byte outside the base64url alphabet (padding `=` and whitespace included).
    InvalidCharacter,
    /// A length of `4k+1` characters, which no byte string encodes to.
    InvalidLength,
    /// The unused low bits of the last character are not zero (a non-canonical encoding).
    NonCanonical,
}

fn value(byte: u8) -> Result<u32, B64Error> {
    let v = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return Err(B64Error::InvalidCharacter),
    };
    Ok(u32::from(v))
}

/// Decodes strict unpadded base64url.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut chunks = input.chunks_exact(4);
    for chunk in chunks.by_ref() {
        let mut n = 0u32;
        for &b in chunk {
            n = (n << 6) | value(b)?;
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    let mut n = 0u32;
    for &b in rest {
        n = (n << 6) | value(b)?;
    }
    match rest.len() {
        0 => {}
        2 => {
            // 12 bits: one byte and 4 unused bits.
            if n & 0xf != 0 {
                return Err(B64Error::NonCanonical);
            }
            out.push((n >> 4) as u8);
        }
        3 => {
            // 18 bits: two bytes and 2 unused bits.
            if n & 0x3 != 0 {
                return Err(B64Error::NonCanonical);
            }
            out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]);
        }
        _ => return Err(B64Error::InvalidLength),
    }
    Ok(out)
}

fn symbol(index: u32) -> char {
    ALPHABET.get((index & 0x3f) as usize).map_or('A', |&c| char::from(c))
}

/// Encodes as unpadded base64url.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    let mut chunks = input.chunks_exact(3);
    for chunk in chunks.by_ref() {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b));
        for shift in [18, 12, 6, 0] {
            out.push(symbol(n >> shift));
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(symbol(n >> 18));
            out.push(symbol(n >> 12));
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.push(symbol(n >> 18));
            out.push(symbol(n >> 12));
            out.push(symbol(n >> 6));
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..data.len() {
            let slice = &data[..len];
            let enc = encode(slice);
            assert!(!enc.contains('='));
            assert_eq!(decode(enc.as_bytes()).unwrap(), slice, "len {len}");
        }
    }

    #[test]
    fn rfc4648_vectors() {
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode(b"-_8").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn refuses_padding_whitespace_and_std_alphabet() {
        assert_eq!(decode(b"Zg=="), Err(B64Error::InvalidCharacter));
        assert_eq!(decode(b"Zm9v "), Err(B64Error::InvalidCharacter));
        assert_eq!(decode(b"Zm\n9v"), Err(B64Error::InvalidCharacter));
        assert_eq!(decode(b"+/8"), Err(B64Error::InvalidCharacter));
        assert_eq!(decode(b"Zm9vY"), Err(B64Error::InvalidLength));
    }

    #[test]
    fn refuses_non_canonical_trailing_bits() {
        // "Zg" is canonical for "f"; "Zh" sets an unused bit.
        assert_eq!(decode(b"Zh"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"Zm9"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"AB"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"AA").unwrap(), [0]);
    }
}
