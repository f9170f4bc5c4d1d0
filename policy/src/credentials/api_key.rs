//! Plain API keys from configuration, stored only as SHA-256 digests.
//!
//! Configuration lists, per application, the SHA-256 digest of each key (64 hex digits, produced
//! by [`api_key_digest_hex`]; `turnpike` prints it), the key type (production or sandbox cluster)
//! and optionally the APIs the key may call. A presented key is hashed once and looked up by its
//! digest: one SHA-256 and one hash-map probe per request.
//!
//! Plain SHA-256 (not a slow password hash) is right here because API keys are generated, high
//! entropy secrets (128 bits or more): nobody can brute-force a digest back to its key, so a slow
//! hash would only cost CPU on every request. This module does not generate keys, and it cannot
//! check the entropy of keys it never sees; issuing long random keys is the operator's job.
//!
//! Not here: the WSO2 JWT-format API keys (those are JWTs, verified by `jose`).

use std::collections::HashMap;
use std::fmt;

use super::digest::{parse_sha256_hex, sha256, sha256_hex, DigestHashBuilder, DigestKey};
use crate::KeyType;

/// The digest string to put in configuration for `key`: 64 lower-case hex digits of SHA-256.
pub fn api_key_digest_hex(key: &str) -> String {
    sha256_hex(key.as_bytes())
}

/// One configured key, as it arrives from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyEntry {
    /// The application (or subscriber) the key belongs to.
    pub application: String,
    /// SHA-256 of the key as 64 hex digits.
    pub sha256_hex: String,
    /// Which cluster the key selects.
    pub key_type: KeyType,
    /// The API names the key may call; `None` means every API that accepts API keys.
    pub apis: Option<Vec<String>>,
}

/// What a valid key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    application: String,
    key_type: KeyType,
    apis: Option<Vec<String>>,
}

impl ApiKey {
    /// The application the key belongs to.
    pub fn application(&self) -> &str {
        &self.application
    }

    /// The cluster the key selects.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The APIs the key is restricted to, if it is restricted.
    pub fn apis(&self) -> Option<&[String]> {
        self.apis.as_deref()
    }

    /// Whether the key may call the API named `api` (exact, case-sensitive name).
    pub fn allows_api(&self, api: &str) -> bool {
        match &self.apis {
            None => true,
            Some(apis) => apis.iter().any(|a| a == api),
        }
    }
}

/// Why the API key configuration was refused; `index` is the entry's position in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidApiKeyConfig {
    /// The application name is empty.
    EmptyApplication { index: usize },
    /// The digest is not 64 hex digits (a plain key pasted by mistake lands here too).
    InvalidDigest { index: usize, application: String },
    /// Two entries carry the same digest, so one key would map to two grants.
    DuplicateDigest { index: usize, first_index: usize },
    /// `apis` is present but empty: the key could call nothing (write `None` for "all").
    EmptyApiList { index: usize, application: String },
}

impl fmt::Display for InvalidApiKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyApplication { index } => {
                write!(f, "API key #{index}: the application name is empty")
            }
            Self::InvalidDigest { index, application } => write!(
                f,
                "API key #{index} ({application}): the digest must be the SHA-256 of the key as \
                 64 hex digits, never the key itself"
            ),
            Self::DuplicateDigest { index, first_index } => {
                write!(f, "API key #{index}: the same key digest is already key #{first_index}")
            }
            Self::EmptyApiList { index, application } => write!(
                f,
                "API key #{index} ({application}): the API list is empty; leave it out to allow \
                 every API"
            ),
        }
    }
}

impl std::error::Error for InvalidApiKeyConfig {}

/// The configured API keys, keyed by digest. Immutable once built; part of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyStore {
    by_digest: HashMap<DigestKey, (usize, ApiKey), DigestHashBuilder>,
}

impl ApiKeyStore {
    /// Validates and indexes `entries`.
    ///
    /// # Errors
    /// The first entry that is invalid, see [`InvalidApiKeyConfig`].
    pub fn new(
        entries: impl IntoIterator<Item = ApiKeyEntry>,
    ) -> Result<Self, InvalidApiKeyConfig> {
        let mut by_digest = HashMap::with_hasher(DigestHashBuilder::default());
        for (index, entry) in entries.into_iter().enumerate() {
            let ApiKeyEntry { application, sha256_hex, key_type, apis } = entry;
            if application.is_empty() {
                return Err(InvalidApiKeyConfig::EmptyApplication { index });
            }
            let Some(digest) = parse_sha256_hex(sha256_hex.trim()) else {
                return Err(InvalidApiKeyConfig::InvalidDigest { index, application });
            };
            if apis.as_ref().is_some_and(Vec::is_empty) {
                return Err(InvalidApiKeyConfig::EmptyApiList { index, application });
            }
            let key = DigestKey(digest);
            if let Some((first_index, _)) = by_digest.get(&key) {
                return Err(InvalidApiKeyConfig::DuplicateDigest {
                    index,
                    first_index: *first_index,
                });
            }
            by_digest.insert(key, (index, ApiKey { application, key_type, apis }));
        }
        Ok(Self { by_digest })
    }

    /// The grant of the presented key, if it is a configured key.
    ///
    /// The key is hashed with SHA-256 and the digest looked up in a hash map. The lookup is not
    /// constant-time and need not be: timing can at most reveal how much of the *digest* of a
    /// guess matches a stored digest, and knowing digest bits does not help to find a key that
    /// produces them (SHA-256 is preimage resistant; keys are too long to enumerate). The secret
    /// itself is never compared byte by byte.
    pub fn lookup(&self, presented: &[u8]) -> Option<&ApiKey> {
        if presented.is_empty() {
            return None;
        }
        self.by_digest.get(&DigestKey(sha256(presented))).map(|(_, key)| key)
    }

    /// Number of configured keys.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(app: &str, key: &str, apis: Option<&[&str]>) -> ApiKeyEntry {
        ApiKeyEntry {
            application: app.into(),
            sha256_hex: api_key_digest_hex(key),
            key_type: KeyType::Production,
            apis: apis.map(|a| a.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn lookup_by_digest() {
        let store = ApiKeyStore::new([
            entry("shop", "k-shop-0123456789abcdef", None),
            entry("pets", "k-pets-0123456789abcdef", Some(&["PetStore"])),
        ])
        .unwrap();
        assert_eq!(store.len(), 2);
        let shop = store.lookup(b"k-shop-0123456789abcdef").unwrap();
        assert_eq!(shop.application(), "shop");
        assert!(shop.allows_api("anything"));
        let pets = store.lookup(b"k-pets-0123456789abcdef").unwrap();
        assert!(pets.allows_api("PetStore"));
        assert!(!pets.allows_api("petstore"));
        assert!(store.lookup(b"k-pets-0123456789abcdeF").is_none());
        assert!(store.lookup(b"").is_none());
    }

    #[test]
    fn config_errors() {
        let mut plain = entry("a", "x", None);
        plain.sha256_hex = "my-secret-key".into();
        assert!(matches!(
            ApiKeyStore::new([plain]),
            Err(InvalidApiKeyConfig::InvalidDigest { index: 0, .. })
        ));
        assert_eq!(
            ApiKeyStore::new([entry("a", "x", None), entry("b", "x", None)]).unwrap_err(),
            InvalidApiKeyConfig::DuplicateDigest { index: 1, first_index: 0 }
        );
        assert_eq!(
            ApiKeyStore::new([entry("", "x", None)]).unwrap_err(),
            InvalidApiKeyConfig::EmptyApplication { index: 0 }
        );
        assert!(matches!(
            ApiKeyStore::new([entry("a", "x", Some(&[]))]),
            Err(InvalidApiKeyConfig::EmptyApiList { .. })
        ));
    }
}
