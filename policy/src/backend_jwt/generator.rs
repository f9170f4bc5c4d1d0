//! The snapshot-wide backend JWT generator: the signing key, the claim settings and the public
//! key set served at `/.wellknown/jwks`, all fixed when the snapshot is compiled.
//!
//! Where it sits: the adapter builds one [`BackendJwt`] per compiled snapshot (control thread)
//! and keeps it in the snapshot's [`crate::auth::Security`]; the route policy
//! ([`super::AddBackendJwt`]) signs with it on a cache miss, and core answers `/.wellknown/jwks`
//! with [`BackendJwt::jwks`] as is. Each one carries a process-unique generation, so a per-core
//! cache never serves an assertion built under another snapshot's key, settings or tables.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::jose::{jwks_json, SigningKey};

/// WSO2's gateway issuer (`API_GATEWAY_ID`), the default `iss`.
pub const DEFAULT_ISSUER: &str = "wso2.org/products/am";
/// WSO2's default claim dialect.
pub const DEFAULT_DIALECT: &str = "http://wso2.org/claims";
/// The header Choreo Connect sends the assertion in.
pub const DEFAULT_HEADER: &str = "x-jwt-assertion";
/// Default lifetime of an assertion, in seconds.
pub const DEFAULT_TTL_SECS: u64 = 900;

/// What goes into every assertion besides the caller and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendJwtSettings {
    /// Request header the assertion is sent in.
    pub header: String,
    /// `iss`.
    pub issuer: String,
    /// Lifetime: `exp` is `iat + ttl_secs`, or the credential's expiry when sooner.
    pub ttl_secs: u64,
    /// Claim dialect prefixed to WSO2's claim names (no trailing `/`), e.g.
    /// `http://wso2.org/claims`; empty for bare names.
    pub dialect: String,
    /// `aud`, when set.
    pub audience: Option<String>,
}

impl Default for BackendJwtSettings {
    fn default() -> Self {
        Self {
            header: DEFAULT_HEADER.to_owned(),
            issuer: DEFAULT_ISSUER.to_owned(),
            ttl_secs: DEFAULT_TTL_SECS,
            dialect: DEFAULT_DIALECT.to_owned(),
            audience: None,
        }
    }
}

static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// See the module documentation.
pub struct BackendJwt {
    key: Arc<SigningKey>,
    settings: BackendJwtSettings,
    /// `{"keys":[<public JWK>]}`, encoded once.
    jwks: Box<[u8]>,
    generation: u64,
}

impl fmt::Debug for BackendJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendJwt")
            .field("key", &self.key)
            .field("settings", &self.settings)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl BackendJwt {
    /// A generator signing with `key` (shared across snapshots: an ephemeral key must outlive
    /// reloads); the dialect's trailing `/` is dropped.
    pub fn new(key: Arc<SigningKey>, mut settings: BackendJwtSettings) -> Self {
        while settings.dialect.ends_with('/') {
            settings.dialect.pop();
        }
        let jwks = jwks_json(&[&key]).into_bytes().into_boxed_slice();
        // Control thread only, once per compiled snapshot.
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        Self { key, settings, jwks, generation }
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The claim settings.
    pub fn settings(&self) -> &BackendJwtSettings {
        &self.settings
    }

    /// The request header the assertion is sent in.
    #[inline]
    pub fn header(&self) -> &str {
        &self.settings.header
    }

    /// The JWKS document (`application/json`) with the public key.
    #[inline]
    pub fn jwks(&self) -> &[u8] {
        &self.jwks
    }

    /// Unique per generator in this process (cache entries carry it).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Alg, KeySet};

    #[test]
    fn jwks_is_precomputed_and_generations_differ() {
        let (key, _) = SigningKey::generate(Alg::ES256, Some("k".into())).unwrap();
        let key = Arc::new(key);
        let settings =
            BackendJwtSettings { dialect: "http://wso2.org/claims/".into(), ..Default::default() };
        let a = BackendJwt::new(Arc::clone(&key), settings.clone());
        let b = BackendJwt::new(key, settings);
        assert_ne!(a.generation(), b.generation());
        assert_eq!(a.settings().dialect, DEFAULT_DIALECT);
        let set = KeySet::from_jwks(a.jwks()).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.keys().next().unwrap().kid(), Some("k"));
        assert_eq!(a.header(), "x-jwt-assertion");
    }
}
