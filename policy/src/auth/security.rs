//! The compiled, immutable security tables of one snapshot: the issuers (key managers) with their
//! current key sets, configured API keys and Basic users, the subscription table, revoked token
//! ids, and the options every secured route shares.
//!
//! Built by the adapter on the control thread (config, JWKS refreshes, admin changes) and shared
//! by every [`super::Authenticate`] policy of the snapshot through one `Arc` taken at compile time;
//! requests only read it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::credentials::{ApiKeyStore, BasicAuthStore};
use crate::jose::{IssuerPolicy, KeySet};

use super::subscriptions::Subscriptions;

/// One OAuth2 key manager whose JWT access tokens are accepted.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Name from configuration (stable across snapshots; JWKS refreshes are keyed by it).
    pub name: String,
    /// `iss`, algorithms, audiences, skew.
    pub policy: IssuerPolicy,
    /// The keys tokens are verified with (static, or the last JWKS fetched).
    pub keys: Arc<KeySet>,
    /// Whether the keys come from a JWKS URL (an unknown `kid` then asks for a refetch).
    pub remote_keys: bool,
    /// Claim holding the OAuth2 client id (`azp` by default, WSO2's choice).
    pub consumer_key_claim: String,
    /// Claim holding the granted scopes (`scope`).
    pub scopes_claim: String,
    /// Whether the caller's application must be subscribed to the API (WSO2 subscription
    /// validation through the [`Subscriptions`] table).
    pub validate_subscriptions: bool,
    /// Remote claim name → local claim name, applied before the claims are read.
    pub claim_mappings: Vec<(String, String)>,
}

/// Options shared by every secured route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityOptions {
    /// Realm sent in `WWW-Authenticate` challenges.
    pub realm: String,
    /// Whether the credential header (or query parameter) is removed before forwarding.
    pub strip_credentials: bool,
    /// Longest token accepted, in bytes.
    pub max_token_len: usize,
    /// How long a successful Basic verification is cached, in seconds.
    pub basic_cache_ttl_secs: u64,
    /// Use introspection for bearer tokens that are not JWTs (and, when
    /// `introspect_failed_jwts`, for JWTs no issuer accepts).
    pub introspection: Option<IntrospectionTarget>,
}

impl Default for SecurityOptions {
    fn default() -> Self {
        Self {
            realm: crate::credentials::DEFAULT_REALM.to_owned(),
            strip_credentials: true,
            max_token_len: crate::jose::MAX_TOKEN_LEN,
            basic_cache_ttl_secs: 300,
            introspection: None,
        }
    }
}

/// Where and how opaque tokens are introspected (RFC 7662).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectionTarget {
    /// Issuer name reported for introspected callers.
    pub name: String,
    /// Snapshot cluster index of the introspection endpoint.
    pub cluster: u32,
    /// Request path of the endpoint.
    pub path: String,
    /// `Host` header value.
    pub host: String,
    /// `Authorization` header value for the gateway's client credentials, if any.
    pub authorization: Option<String>,
    /// Also introspect tokens that look like JWTs but no issuer accepted.
    pub introspect_failed_jwts: bool,
    /// How long an active answer is cached at most (the token's `exp` caps it), in seconds.
    pub cache_ttl_secs: u64,
    /// Whether the caller's application must be subscribed to the API.
    pub validate_subscriptions: bool,
    /// Most introspection calls in flight per core.
    pub max_in_flight: u32,
}

/// Revoked token ids (`jti`) with their expiry (Unix seconds): a revoked token is refused until
/// it would have expired anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocations {
    by_jti: HashMap<String, u64>,
}

impl Revocations {
    /// A set from `(jti, expires_at)` pairs.
    pub fn new(entries: impl IntoIterator<Item = (String, u64)>) -> Self {
        Self { by_jti: entries.into_iter().collect() }
    }

    /// Whether `jti` is revoked at `now`.
    #[inline]
    pub fn is_revoked(&self, jti: &str, now: u64) -> bool {
        self.by_jti.get(jti).is_some_and(|&exp| now < exp)
    }

    /// Whether nothing is revoked (the request path then skips the lookup).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.by_jti.is_empty()
    }

    /// Number of revoked ids.
    pub fn len(&self) -> usize {
        self.by_jti.len()
    }

    /// `(jti, expires_at)` pairs, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.by_jti.iter().map(|(j, e)| (j.as_str(), *e))
    }
}

/// Everything authentication reads on the request path; immutable.
#[derive(Debug, Default)]
pub struct Security {
    pub issuers: Vec<Issuer>,
    pub api_keys: Option<ApiKeyStore>,
    pub basic_users: Option<BasicAuthStore>,
    pub subscriptions: Subscriptions,
    pub revocations: Arc<Revocations>,
    pub options: SecurityOptions,
    /// Changes whenever anything that decides a credential's validity changes (keys, stores,
    /// issuer settings); cores drop their caches when it does.
    pub epoch: u64,
    /// The backend JWT generator and its JWKS, when `[security.backend_jwt]` is enabled.
    pub backend_jwt: Option<crate::backend_jwt::BackendJwt>,
}

impl Security {
    /// The issuer whose `iss` is `iss`.
    pub fn issuer_by_iss(&self, iss: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.policy.issuer.as_deref() == Some(iss))
    }

    /// The issuer named `name`.
    pub fn issuer_by_name(&self, name: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.name == name)
    }
}
