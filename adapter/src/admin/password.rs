//! Admin passwords: the `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` format that
//! `[[admin.users]] password_hash` holds and `turnpike hash-password` prints.
//!
//! Where it sits: `config` parses each configured hash once into a [`PasswordHash`] (so a typo is
//! a start-up error naming the key), and the admin API's authenticator calls
//! [`PasswordHash::verify`] for every basic-authenticated request. Verification is
//! `ring::pbkdf2::verify`, which compares in constant time.
//!
//! What it does not do: no plaintext passwords in configuration, no other algorithms.

use std::fmt;
use std::num::NonZeroU32;

use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};

use super::decode_base64;
use turnpike_policy::base64::encode_standard;

/// Scheme tag at the start of every hash string.
pub const SCHEME: &str = "pbkdf2-sha256";
/// Iterations used by [`hash_password`] (OWASP 2023 guidance for PBKDF2-HMAC-SHA256 is higher;
/// this keeps a basic-authenticated admin request well under 100 ms).
pub const DEFAULT_ITERATIONS: u32 = 100_000;
/// Highest iteration count accepted from configuration (a guard against a hash that would make
/// every login take minutes).
pub const MAX_ITERATIONS: u32 = 10_000_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

/// A parsed, validated password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not secret the way a password is, but it need not be in logs either.
        f.debug_struct("PasswordHash").field("iterations", &self.iterations).finish_non_exhaustive()
    }
}

impl PasswordHash {
    /// Parses `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` (standard base64, padded or
    /// not). The salt must be 8 to 64 bytes and the hash 16 to 64 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split('$');
        let (Some(scheme), Some(iterations), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("expected {SCHEME}$<iterations>$<salt base64>$<hash base64>"));
        };
        if scheme != SCHEME {
            return Err(format!("unknown scheme {scheme:?}: expected {SCHEME}"));
        }
        let iterations = iterations
            .parse::<u32>()
            .ok()
            .and_then(NonZeroU32::new)
            .filter(|n| n.get() <= MAX_ITERATIONS)
            .ok_or_else(|| format!("iterations must be an integer from 1 to {MAX_ITERATIONS}"))?;
        let salt = decode_base64(salt).ok_or("salt is not valid base64")?;
        let hash = decode_base64(hash).ok_or("hash is not valid base64")?;
        if !(8..=64).contains(&salt.len()) {
            return Err(format!("salt is {} bytes: expected 8 to 64", salt.len()));
        }
        if !(16..=64).contains(&hash.len()) {
            return Err(format!("hash is {} bytes: expected 16 to 64", hash.len()));
        }
        Ok(Self { iterations, salt, hash })
    }

    /// Whether `password` matches, compared in constant time.
    pub fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            self.iterations,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }

    /// Iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations.get()
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}${}${}${}",
            self.iterations,
            encode_standard(&self.salt),
            encode_standard(&self.hash)
        )
    }
}

/// Hashes `password` with a fresh random salt and [`DEFAULT_ITERATIONS`]; what
/// `turnpike hash-password` prints, ready for `[[admin.users]] password_hash`.
pub fn hash_password(password: &str) -> String {
    hash_password_with_iterations(password, DEFAULT_ITERATIONS)
}

/// [`hash_password`] with an explicit iteration count (clamped to 1..=[`MAX_ITERATIONS`]); tests
/// use a low count to stay fast.
pub fn hash_password_with_iterations(password: &str, iterations: u32) -> String {
    PasswordHash::new(password, iterations).to_string()
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt (iterations clamped to 1..=[`MAX_ITERATIONS`]).
    pub fn new(password: &str, iterations: u32) -> Self {
        let iterations =
            NonZeroU32::new(iterations.clamp(1, MAX_ITERATIONS)).unwrap_or(NonZeroU32::MIN);
        let mut salt = [0u8; SALT_LEN];
        // SystemRandom only fails when the OS has no randomness at all; a zero salt is then still
        // a valid (if weaker) hash, and this function has no error to return.
        let _ = SystemRandom::new().fill(&mut salt);
        let mut hash = [0u8; HASH_LEN];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            password.as_bytes(),
            &mut hash,
        );
        PasswordHash { iterations, salt: salt.to_vec(), hash: hash.to_vec() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text = hash_password_with_iterations("s3cret", 1000);
        assert!(text.starts_with("pbkdf2-sha256$1000$"), "{text}");
        let parsed = PasswordHash::parse(&text).unwrap();
        assert_eq!(parsed.to_string(), text);
        assert!(parsed.verify("s3cret"));
        assert!(!parsed.verify("s3cret "));
        assert!(!parsed.verify(""));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_password_with_iterations("a", 1), hash_password_with_iterations("a", 1));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "pbkdf2-sha256$1000$c2FsdHNhbHQ=",
            "bcrypt$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
            "pbkdf2-sha256$0$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
            "pbkdf2-sha256$x$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
            "pbkdf2-sha256$1000$!!$aGFzaGhhc2hoYXNoaGFzaA==",
            "pbkdf2-sha256$1000$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
            "pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaA==",
            "pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==$x",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            PasswordHash::parse("pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==").is_ok()
        );
    }

    #[test]
    fn debug_hides_hash() {
        let parsed = PasswordHash::parse(&hash_password_with_iterations("x", 1)).unwrap();
        assert!(!format!("{parsed:?}").contains("salt"));
    }
}
