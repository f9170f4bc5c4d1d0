//! The per-core verified-token cache: a bearer token that verified once costs one hash lookup and
//! one byte comparison on its next requests, not a signature check.
//!
//! Keyed by the token itself: the map is indexed by a randomly seeded `foldhash` of the token's
//! length and last 32 bytes (signature bytes, which the issuer's key makes unpredictable, and the
//! seed keeps an attacker from aiming at one bucket), and a hit is confirmed by comparing the whole
//! token with the stored copy, so two tokens never share an entry. Hashing only the tail keeps a
//! hit at a few hundred instructions for tokens of any length.
//!
//! Bounded (`capacity` entries) with CLOCK eviction, each entry expiring with its token (`now >=
//! expires_at` is a miss): the storage is `clock_map.rs`. Per core, `&mut self`, no locks.

use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;

use crate::clock_map::ClockMap;

use super::caller::Caller;

/// Bytes of the token's end that are hashed.
const HASHED_TAIL: usize = 32;

/// What one token maps to: the token itself (to confirm a hit) and its caller.
struct Entry {
    token: Box<[u8]>,
    caller: Rc<Caller>,
}

/// See the module documentation.
pub struct TokenCache {
    seed: foldhash::fast::FixedState,
    entries: ClockMap<Entry>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("len", &self.entries.len()).finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens, hashed with `seed` (draw it at random per core).
    /// Capacity 0 disables caching.
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            seed: foldhash::fast::FixedState::with_seed(seed),
            entries: ClockMap::new(capacity, 1 << 16),
        }
    }

    #[inline]
    fn hash(&self, token: &[u8]) -> u64 {
        let tail = token.get(token.len().saturating_sub(HASHED_TAIL)..).unwrap_or(token);
        let mut h = self.seed.build_hasher();
        h.write_usize(token.len());
        h.write(tail);
        h.finish()
    }

    /// The caller cached for `token`, if present and not expired at `now` (Unix seconds).
    #[inline]
    pub fn get(&mut self, token: &[u8], now: u64) -> Option<Rc<Caller>> {
        let hash = self.hash(token);
        let entry = self.entries.get(hash, now, |e| *e.token == *token)?;
        Some(Rc::clone(&entry.caller))
    }

    /// Caches `caller` for `token` until `expires_at` (Unix seconds); entries already expired at
    /// `now` are not stored.
    pub fn insert(&mut self, token: &[u8], caller: Rc<Caller>, expires_at: u64, now: u64) {
        let hash = self.hash(token);
        self.entries.insert(hash, Entry { token: token.into(), caller }, expires_at, now);
    }

    /// Removes every entry whose caller matches `predicate` (revocations); returns how many.
    pub fn evict_where(&mut self, mut predicate: impl FnMut(&Caller) -> bool) -> usize {
        self.entries.remove_where(|e| predicate(&e.caller))
    }

    /// Empties the cache (keys or issuer settings changed).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthMethod;
    use crate::KeyType;

    fn caller(jti: &str) -> Rc<Caller> {
        Rc::new(Caller {
            method: AuthMethod::Jwt,
            issuer: None,
            subject: "s".into(),
            consumer_key: None,
            application: None,
            scopes: vec![],
            key_type: KeyType::Production,
            jti: Some(jti.into()),
            expires_at: 100,
            api_key: None,
            validate_subscriptions: false,
            tier: None,
        })
    }

    #[test]
    fn hit_miss_expiry_and_exact_match() {
        let mut c = TokenCache::new(4, 7);
        c.insert(b"aaa.bbb.ccc", caller("1"), 100, 10);
        assert!(c.get(b"aaa.bbb.ccc", 50).is_some());
        assert!(c.get(b"aaa.bbb.ccc", 100).is_none(), "expired at exp");
        assert!(c.get(b"aaa.bbb.ccd", 50).is_none());
        // Same tail, different head: hashed alike, refused by the full comparison.
        let long_a = [b"x".repeat(40), b"y".repeat(40)].concat();
        let long_b = [b"z".repeat(40), b"y".repeat(40)].concat();
        c.insert(&long_a, caller("2"), 100, 10);
        assert!(c.get(&long_b, 50).is_none());
        assert_eq!(c.get(&long_a, 50).unwrap().jti.as_deref(), Some("2"));
        c.insert(b"old", caller("3"), 5, 10);
        assert!(c.get(b"old", 10).is_none(), "already expired: not stored");
    }

    #[test]
    fn bounded_with_clock_eviction() {
        let mut c = TokenCache::new(3, 1);
        for t in ["t1", "t2", "t3"] {
            c.insert(t.as_bytes(), caller(t), 100, 0);
        }
        assert!(c.get(b"t1", 1).is_some()); // referenced: survives the next eviction
        c.insert(b"t4", caller("t4"), 100, 1);
        assert_eq!(c.len(), 3);
        assert!(c.get(b"t1", 1).is_some());
        assert!(c.get(b"t4", 1).is_some());
        assert!(c.get(b"t2", 1).is_none());
    }

    #[test]
    fn eviction_by_predicate() {
        let mut c = TokenCache::new(8, 3);
        c.insert(b"a", caller("x"), 100, 0);
        c.insert(b"b", caller("y"), 100, 0);
        assert_eq!(c.evict_where(|k| k.jti.as_deref() == Some("x")), 1);
        assert!(c.get(b"a", 1).is_none());
        assert!(c.get(b"b", 1).is_some());
        assert_eq!(TokenCache::new(0, 0).len(), 0);
    }
}
