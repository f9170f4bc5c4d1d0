//! SHA-256 digests of credentials and their lower-case hex form used in configuration.
//!
//! Only the digest of a credential is ever kept (in the API key store and as cache keys), so a
//! dump of a core's memory or of the configuration does not reveal usable credentials.

use ring::digest;

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The SHA-256 digest of `bytes` (FIPS 180-4, via `ring`).
pub fn sha256(bytes: &[u8]) -> [u8; SHA256_LEN] {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; SHA256_LEN];
    out.copy_from_slice(d.as_ref());
    out
}

/// The SHA-256 digest of `bytes` as 64 lower-case hex digits: the form configuration stores.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_encode(&sha256(bytes))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&c) = HEX.get(usize::from(nibble)) {
                s.push(char::from(c));
            }
        }
    }
    s
}

/// Parses exactly 64 hex digits (either case) into a digest; anything else is `None`.
pub fn parse_sha256_hex(s: &str) -> Option<[u8; SHA256_LEN]> {
    let bytes = s.as_bytes();
    if bytes.len() != SHA256_LEN * 2 {
        return None;
    }
    let mut out = [0u8; SHA256_LEN];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *o = (hex_value(*hi)? << 4) | hex_value(*lo)?;
    }
    Some(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A digest used as a hash-map key: hashes as its first eight bytes (see [`DigestHasher`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DigestKey(pub(crate) [u8; SHA256_LEN]);

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Digests of credentials stay out of logs.
        f.write_str("DigestKey(..)")
    }
}

impl std::hash::Hash for DigestKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut word = [0u8; 8];
        if let Some(head) = self.0.get(..8) {
            word.copy_from_slice(head);
        }
        state.write_u64(u64::from_le_bytes(word));
    }
}

/// A `Hasher` for keys that are already uniformly distributed digests an attacker cannot steer:
/// [`DigestKey`] hands it eight digest bytes, which it returns as they are instead of running
/// SipHash over them again.
///
/// Only sound when the attacker cannot choose the digest bits: keyed HMAC digests in the cache,
/// digests of configured keys in the API key store (lookups cannot lengthen probe sequences of a
/// table they cannot insert into). With attacker-chosen digests a table could be flooded with
/// colliding buckets.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached through `DigestKey`; kept correct (if slow) for any other input.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 ^= word;
    }
}

/// Builds [`DigestHasher`]s for `HashMap<DigestKey, _>`.
pub(crate) type DigestHashBuilder = std::hash::BuildHasherDefault<DigestHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vectors() {
        // FIPS 180-4 examples.
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        let d = sha256(b"abc");
        assert_eq!(parse_sha256_hex(&hex_encode(&d)), Some(d));
        assert_eq!(parse_sha256_hex(&hex_encode(&d).to_uppercase()), Some(d));
        assert_eq!(parse_sha256_hex("abc"), None);
        assert_eq!(parse_sha256_hex(&"g".repeat(64)), None);
        assert_eq!(parse_sha256_hex(&"é".repeat(32)), None);
    }
}
