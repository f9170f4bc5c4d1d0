//! Per-core mutable authentication state: the caches, the failed-attempt throttle, the
//! introspection rate limit and the kid misses waiting to be reported.
//!
//! Owned by one core (inside [`crate::CoreState`]), carried across snapshot swaps; the core calls
//! [`AuthState::on_snapshot`] when it installs a snapshot, which drops cached verifications when
//! the snapshot's security epoch changed and evicts tokens revoked since the last one.

use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::credentials::{
    AttemptThrottle, CredentialKind, InvalidThrottleConfig, ThrottleConfig, VerificationCache,
    DEFAULT_CACHE_CAPACITY,
};

use super::caller::Caller;
use super::security::{Revocations, Security};
use super::token_cache::TokenCache;

/// Sizes and limits of a core's authentication state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthStateConfig {
    /// Verified bearer tokens kept per core.
    pub token_cache_capacity: usize,
    /// Verified Basic credentials kept per core.
    pub basic_cache_capacity: usize,
    /// Failed Basic attempts per client address before it must slow down.
    pub failures: ThrottleConfig,
    /// Introspection calls per core: burst and refill interval.
    pub introspection: ThrottleConfig,
    /// Kid-miss reports per issuer and core: one per this interval at most.
    pub kid_miss_interval: Duration,
}

impl Default for AuthStateConfig {
    fn default() -> Self {
        Self {
            token_cache_capacity: DEFAULT_CACHE_CAPACITY,
            basic_cache_capacity: 1024,
            failures: ThrottleConfig {
                burst: 10,
                interval: Duration::from_secs(6),
                max_clients: 10_000,
            },
            introspection: ThrottleConfig {
                burst: 20,
                interval: Duration::from_millis(50),
                max_clients: 1,
            },
            kid_miss_interval: Duration::from_secs(1),
        }
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct AuthState {
    pub(crate) tokens: TokenCache,
    pub(crate) basic: VerificationCache<Rc<Caller>>,
    pub(crate) failures: AttemptThrottle<IpAddr>,
    pub(crate) introspection: AttemptThrottle<u8>,
    kid_misses: Vec<String>,
    kid_miss_reported: Vec<(String, Instant)>,
    kid_miss_interval: Duration,
    epoch: Option<u64>,
    revocations: Option<Arc<Revocations>>,
}

impl AuthState {
    /// State sized by `config`, with random cache keys.
    ///
    /// # Errors
    /// When a throttle limit in `config` is zero.
    pub fn new(config: AuthStateConfig) -> Result<Self, InvalidThrottleConfig> {
        let mut seed = [0u8; 32];
        // A failing system generator leaves a zero seed: the caches still work, keyed less well.
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed);
        let mut word = [0u8; 8];
        word.copy_from_slice(seed.get(..8).unwrap_or(&[0; 8]));
        Ok(Self {
            tokens: TokenCache::new(config.token_cache_capacity, u64::from_le_bytes(word)),
            basic: VerificationCache::new(config.basic_cache_capacity, seed),
            failures: AttemptThrottle::new(config.failures)?,
            introspection: AttemptThrottle::new(config.introspection)?,
            kid_misses: Vec::new(),
            kid_miss_reported: Vec::new(),
            kid_miss_interval: config.kid_miss_interval,
            epoch: None,
            revocations: None,
        })
    }

    /// Brings the caches in line with a newly installed snapshot's security.
    pub fn on_snapshot(&mut self, security: &Security) {
        if self.epoch != Some(security.epoch) {
            self.tokens.clear();
            self.basic.clear();
            self.epoch = Some(security.epoch);
        }
        let changed =
            self.revocations.as_ref().is_none_or(|old| !Arc::ptr_eq(old, &security.revocations));
        if changed {
            let revoked = &security.revocations;
            if !revoked.is_empty() {
                let hit = |c: &Caller| c.jti.as_deref().is_some_and(|j| revoked.is_revoked(j, 0));
                self.tokens.evict_where(hit);
                self.basic.evict_where(|c| hit(c));
            }
            self.revocations = Some(Arc::clone(revoked));
        }
    }

    /// Notes that a token named a `kid` the issuer's key set lacks; reported at most once per
    /// interval per issuer from this core.
    pub(crate) fn kid_missed(&mut self, issuer: &str, now: Instant) {
        match self.kid_miss_reported.iter_mut().find(|(name, _)| name == issuer) {
            Some((_, at)) if now.saturating_duration_since(*at) < self.kid_miss_interval => {}
            Some((_, at)) => {
                *at = now;
                self.kid_misses.push(issuer.to_owned());
            }
            None => {
                self.kid_miss_reported.push((issuer.to_owned(), now));
                self.kid_misses.push(issuer.to_owned());
            }
        }
    }

    /// Issuers whose JWKS lacked a presented `kid` since the last call (for the control thread).
    pub fn take_kid_misses(&mut self) -> Vec<String> {
        std::mem::take(&mut self.kid_misses)
    }

    /// Whether kid misses wait to be reported.
    #[inline]
    pub fn has_kid_misses(&self) -> bool {
        !self.kid_misses.is_empty()
    }

    /// Number of cached bearer tokens.
    pub fn cached_tokens(&self) -> usize {
        self.tokens.len()
    }

    pub(crate) fn basic_key(&self, credential: &[u8]) -> crate::credentials::CacheKey {
        self.basic.key(CredentialKind::Basic, credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthMethod;

    fn caller(jti: &str) -> Rc<Caller> {
        Rc::new(Caller {
            method: AuthMethod::Jwt,
            issuer: Some("km".into()),
            subject: "alice".into(),
            consumer_key: None,
            application: None,
            scopes: Vec::new(),
            key_type: crate::KeyType::Production,
            jti: Some(jti.into()),
            expires_at: 1_000,
            api_key: None,
            validate_subscriptions: false,
            tier: None,
        })
    }

    #[test]
    fn a_new_revocation_table_evicts_cached_verifications_of_revoked_ids_only() {
        let mut state = AuthState::new(AuthStateConfig::default()).unwrap();
        let mut security = Security { epoch: 1, ..Security::default() };
        state.on_snapshot(&security);
        state.tokens.insert(b"token-1", caller("j1"), 1_000, 0);
        state.tokens.insert(b"token-2", caller("j2"), 1_000, 0);
        assert_eq!(state.cached_tokens(), 2);

        // Same epoch, same table: nothing is dropped.
        state.on_snapshot(&security);
        assert_eq!(state.cached_tokens(), 2);

        // Same epoch, a new table revoking j1: only its verification goes.
        security.revocations = Arc::new(Revocations::new([("j1".to_owned(), 2_000)]));
        state.on_snapshot(&security);
        assert!(state.tokens.get(b"token-1", 0).is_none());
        assert!(state.tokens.get(b"token-2", 0).is_some());
        assert_eq!(state.cached_tokens(), 1);

        // A new epoch drops everything.
        security.epoch = 2;
        state.on_snapshot(&security);
        assert_eq!(state.cached_tokens(), 0);
    }
}
