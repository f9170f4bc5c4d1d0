//! The per-core verified-token cache: a bearer token that verified once costs one hash lookup and
//! one byte comparison on its next requests, not a signature check.
//!
//! Keyed by the token itself: the map is indexed by a randomly seeded `foldhash` of the token's
//! length and last 32 bytes (signature bytes, which the issuer's key makes unpredictable, and the
//! seed keeps an attacker from aiming at one bucket), and a hit is confirmed by comparing the whole
//! token with the stored copy, so two tokens never share an entry. Hashing only the tail keeps a
//! hit at a few hundred instructions for tokens of any length.
//!
//! Bounded (`capacity` entries) with CLOCK eviction (a hit sets the entry's reference bit; a full
//! insert evicts the first unreferenced or expired entry under the hand); each entry expires with
//! its token (`now >= expires_at` is a miss). Per core, `&mut self`, no locks.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::rc::Rc;

use super::caller::Caller;

/// Bytes of the token's end that are hashed.
const HASHED_TAIL: usize = 32;

/// The key is already a good hash: the map uses it as is.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Slot {
    token: Box<[u8]>,
    hash: u64,
    caller: Rc<Caller>,
    expires_at: u64,
    referenced: bool,
}

/// See the module documentation.
pub struct TokenCache {
    seed: foldhash::fast::FixedState,
    index: HashMap<u64, usize, BuildHasherDefault<Identity>>,
    slots: Vec<Slot>,
    hand: usize,
    capacity: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("len", &self.slots.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens, hashed with `seed` (draw it at random per core).
    /// Capacity 0 disables caching.
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            seed: foldhash::fast::FixedState::with_seed(seed),
            index: HashMap::with_capacity_and_hasher(capacity.min(1 << 16), Default::default()),
            slots: Vec::with_capacity(capacity.min(1 << 16)),
            hand: 0,
            capacity,
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
        let &i = self.index.get(&hash)?;
        let slot = self.slots.get_mut(i)?;
        if now >= slot.expires_at || *slot.token != *token {
            return None;
        }
        slot.referenced = true;
        Some(Rc::clone(&slot.caller))
    }

    /// Caches `caller` for `token` until `expires_at` (Unix seconds); entries already expired at
    /// `now` are not stored.
    pub fn insert(&mut self, token: &[u8], caller: Rc<Caller>, expires_at: u64, now: u64) {
        if self.capacity == 0 || expires_at <= now {
            return;
        }
        let hash = self.hash(token);
        let slot = Slot { token: token.into(), hash, caller, expires_at, referenced: false };
        if let Some(&i) = self.index.get(&hash) {
            if let Some(existing) = self.slots.get_mut(i) {
                *existing = slot;
                return;
            }
        }
        if self.slots.len() < self.capacity {
            self.index.insert(hash, self.slots.len());
            self.slots.push(slot);
            return;
        }
        let victim = self.victim(now);
        if let Some(old) = self.slots.get_mut(victim) {
            self.index.remove(&old.hash);
            *old = slot;
            self.index.insert(hash, victim);
        }
    }

    /// CLOCK: the first expired or unreferenced slot under the hand (clearing bits on the way).
    fn victim(&mut self, now: u64) -> usize {
        let len = self.slots.len();
        for _ in 0..=len {
            let i = self.hand % len.max(1);
            self.hand = (i + 1) % len.max(1);
            match self.slots.get_mut(i) {
                Some(s) if s.referenced && now < s.expires_at => s.referenced = false,
                _ => return i,
            }
        }
        self.hand
    }

    /// Removes every entry whose caller matches `predicate` (revocations); returns how many.
    pub fn evict_where(&mut self, mut predicate: impl FnMut(&Caller) -> bool) -> usize {
        let before = self.slots.len();
        self.slots.retain(|s| !predicate(&s.caller));
        self.reindex();
        before - self.slots.len()
    }

    /// Empties the cache (keys or issuer settings changed).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.hand = 0;
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (i, s) in self.slots.iter().enumerate() {
            self.index.insert(s.hash, i);
        }
        self.hand = 0;
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
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
