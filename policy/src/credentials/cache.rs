//! A bounded, expiring cache of verification results, one per core (`&mut self`, no locks).
//!
//! Used for anything whose verification costs more than a lookup: JWT signatures, Basic-auth
//! password hashes, API keys, introspection answers. Each entry carries its own expiry (the
//! token's `exp`, or now + a configured TTL for Basic auth) in Unix seconds; an entry is served
//! only while `now < expires_at` (RFC 7519 §4.1.4: a token is not accepted on or after `exp`).
//!
//! **Keys.** The raw credential is never stored: the key is HMAC-SHA-256 of the credential under
//! a per-cache secret, tagged with the credential's [`CredentialKind`] so that equal bytes of two
//! kinds never share an entry. The secret means that a memory dump does not even yield plain
//! SHA-256 digests of passwords to brute-force offline, and that an attacker cannot steer the
//! digest bits, so the hash map may use the digest's first eight bytes as its hash.
//!
//! **Eviction: CLOCK (second chance).** Entries sit in a slot array; each hit sets the entry's
//! reference bit. Inserting into a full cache sweeps a hand over the slots: an expired entry is
//! taken at once, a referenced one loses its bit and is passed over, the first unreferenced one is
//! evicted. Lookups and inserts are O(1) on average; the worst case for one insert is a sweep of
//! `capacity + 1` slots (every entry referenced since the last sweep), after which every bit is
//! clear again, so the cost is amortised over the hits that set the bits. CLOCK needs no
//! randomness and keeps hot credentials (a busy client's token) while one-off ones (scanners,
//! single requests) are evicted first; expired entries are also dropped lazily when looked up, and
//! [`VerificationCache::purge_expired`] drops them all in one O(n) pass.
//!
//! **Revocation.** [`VerificationCache::evict_where`] removes every entry whose value matches a
//! predicate (all entries of a revoked `jti`, of a deleted user, of an application): an O(n) scan,
//! fine for rare control-plane events.

use std::collections::HashMap;
use std::fmt;

use ring::hmac;

use super::digest::{DigestHashBuilder, DigestKey, SHA256_LEN};

/// A sensible capacity for a per-core cache.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// What kind of credential a cache key was computed from (domain separation of keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A compact JWS (the whole token).
    Jwt,
    /// An opaque bearer token checked by introspection.
    OpaqueToken,
    /// Basic credentials: the decoded `user-id:password`.
    Basic,
    /// A plain API key.
    ApiKey,
}

impl CredentialKind {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::Jwt => b"turnpike-cache-v1:jwt\0",
            Self::OpaqueToken => b"turnpike-cache-v1:opaque\0",
            Self::Basic => b"turnpike-cache-v1:basic\0",
            Self::ApiKey => b"turnpike-cache-v1:apikey\0",
        }
    }
}

/// A cache key: HMAC-SHA-256 of a credential under the cache's secret. Made only by
/// [`VerificationCache::key`]; printing it shows nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey(DigestKey);

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

struct Slot<V> {
    key: CacheKey,
    value: V,
    /// Unix seconds; the entry is valid while `now < expires_at`.
    expires_at: u64,
    /// CLOCK reference bit, set on every hit.
    referenced: bool,
}

/// A per-core cache of verified credentials. See the module documentation.
pub struct VerificationCache<V> {
    secret: hmac::Key,
    index: HashMap<CacheKey, usize, DigestHashBuilder>,
    slots: Vec<Option<Slot<V>>>,
    /// Indices of empty slots below `slots.len()`.
    free: Vec<usize>,
    hand: usize,
    capacity: usize,
}

impl<V> fmt::Debug for VerificationCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationCache")
            .field("len", &self.index.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<V> VerificationCache<V> {
    /// A cache of at most `capacity` entries whose keys are HMACs under `secret`.
    ///
    /// `secret` should be random and per process (or per core); [`Self::with_random_secret`]
    /// draws one. A capacity of 0 disables caching (inserts are dropped).
    pub fn new(capacity: usize, secret: [u8; SHA256_LEN]) -> Self {
        Self {
            secret: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            index: HashMap::with_capacity_and_hasher(capacity, DigestHashBuilder::default()),
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            hand: 0,
            capacity,
        }
    }

    /// Like [`Self::new`] with a secret from the operating system's random generator (the only
    /// system call here, made once at construction).
    ///
    /// # Errors
    /// When the system random generator fails.
    pub fn with_random_secret(capacity: usize) -> Result<Self, ring::error::Unspecified> {
        use ring::rand::{SecureRandom, SystemRandom};
        let mut secret = [0u8; SHA256_LEN];
        SystemRandom::new().fill(&mut secret)?;
        Ok(Self::new(capacity, secret))
    }

    /// The key under which `credential` of `kind` is cached here.
    pub fn key(&self, kind: CredentialKind, credential: &[u8]) -> CacheKey {
        let mut ctx = hmac::Context::with_key(&self.secret);
        ctx.update(kind.tag());
        ctx.update(credential);
        let tag = ctx.sign();
        let mut out = [0u8; SHA256_LEN];
        out.copy_from_slice(tag.as_ref());
        CacheKey(DigestKey(out))
    }

    /// The cached value for `key`, if present and not expired at `now` (Unix seconds). A hit
    /// marks the entry as recently used; an expired entry is removed.
    pub fn get(&mut self, key: &CacheKey, now: u64) -> Option<&V> {
        let i = *self.index.get(key)?;
        let expired = match self.slots.get(i) {
            Some(Some(slot)) => now >= slot.expires_at,
            _ => return None,
        };
        if expired {
            self.remove_at(i);
            return None;
        }
        let slot = self.slots.get_mut(i)?.as_mut()?;
        slot.referenced = true;
        Some(&slot.value)
    }

    /// Caches `value` under `key` until `expires_at` (Unix seconds), replacing any entry for the
    /// same key. Returns `false` (and caches nothing) when `expires_at <= now` or the capacity
    /// is 0. When the cache is full one entry is evicted (CLOCK, see the module documentation).
    pub fn insert(&mut self, key: CacheKey, value: V, expires_at: u64, now: u64) -> bool {
        if expires_at <= now || self.capacity == 0 {
            return false;
        }
        if let Some(&i) = self.index.get(&key) {
            if let Some(Some(slot)) = self.slots.get_mut(i) {
                slot.value = value;
                slot.expires_at = expires_at;
                slot.referenced = true;
                return true;
            }
        }
        let i = match self.free.pop() {
            Some(i) => i,
            None if self.slots.len() < self.capacity => {
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => match self.evict_one(now) {
                Some(i) => i,
                None => return false,
            },
        };
        let Some(place) = self.slots.get_mut(i) else { return false };
        *place = Some(Slot { key, value, expires_at, referenced: false });
        self.index.insert(key, i);
        true
    }

    /// Sweeps the CLOCK hand to a victim, removes it and returns its (now empty) slot index.
    /// At most `capacity + 1` steps: after one full turn every reference bit is clear.
    fn evict_one(&mut self, now: u64) -> Option<usize> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        for _ in 0..=n {
            let i = self.hand % n;
            self.hand = (i + 1) % n;
            match self.slots.get_mut(i) {
                Some(Some(slot)) if slot.referenced && now < slot.expires_at => {
                    slot.referenced = false;
                }
                Some(Some(_)) => {
                    self.take_at(i);
                    return Some(i);
                }
                // Not reached while full (no empty slots then), but an empty slot is a fine victim.
                Some(None) => {
                    self.free.retain(|&f| f != i);
                    return Some(i);
                }
                None => return None,
            }
        }
        None
    }

    /// Empties slot `i` and unindexes its key, without putting the slot on the free list.
    fn take_at(&mut self, i: usize) -> Option<V> {
        let slot = self.slots.get_mut(i)?.take()?;
        self.index.remove(&slot.key);
        Some(slot.value)
    }

    fn remove_at(&mut self, i: usize) -> Option<V> {
        let value = self.take_at(i)?;
        self.free.push(i);
        Some(value)
    }

    /// Removes every slot whose entry matches `pred`; returns how many.
    fn remove_matching(&mut self, mut pred: impl FnMut(&Slot<V>) -> bool) -> usize {
        let mut removed = 0;
        for i in 0..self.slots.len() {
            if self.slots.get(i).and_then(Option::as_ref).is_some_and(&mut pred) {
                self.remove_at(i);
                removed += 1;
            }
        }
        removed
    }

    /// Removes the entry for `key`, returning its value (expired or not).
    pub fn remove(&mut self, key: &CacheKey) -> Option<V> {
        let i = *self.index.get(key)?;
        self.remove_at(i)
    }

    /// Removes every entry whose value matches `revoked` (e.g. all entries carrying a revoked
    /// `jti`); returns how many. O(capacity).
    pub fn evict_where(&mut self, mut revoked: impl FnMut(&V) -> bool) -> usize {
        self.remove_matching(|slot| revoked(&slot.value))
    }

    /// Removes every entry expired at `now`; returns how many. O(capacity).
    pub fn purge_expired(&mut self, now: u64) -> usize {
        self.remove_matching(|slot| now >= slot.expires_at)
    }

    /// Removes everything (e.g. when the credential configuration changes).
    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.hand = 0;
    }

    /// Number of entries, including expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The maximum number of entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(capacity: usize) -> VerificationCache<u32> {
        VerificationCache::new(capacity, [7; 32])
    }

    #[test]
    fn keys_are_keyed_and_kind_separated() {
        let a = cache(4);
        let b = VerificationCache::<u32>::new(4, [8; 32]);
        assert_eq!(a.key(CredentialKind::Jwt, b"t"), a.key(CredentialKind::Jwt, b"t"));
        assert_ne!(a.key(CredentialKind::Jwt, b"t"), a.key(CredentialKind::ApiKey, b"t"));
        assert_ne!(a.key(CredentialKind::Jwt, b"t"), b.key(CredentialKind::Jwt, b"t"));
        assert_eq!(format!("{:?}", a.key(CredentialKind::Jwt, b"t")), "CacheKey(..)");
    }

    #[test]
    fn eviction_keeps_referenced_entries() {
        let mut c = cache(3);
        let k: Vec<CacheKey> = (0..4u8).map(|i| c.key(CredentialKind::Jwt, &[i])).collect();
        for (i, key) in k.iter().take(3).enumerate() {
            assert!(c.insert(*key, i as u32, 100, 0));
        }
        // Touch 0 and 2: 1 is the only unreferenced entry.
        assert_eq!(c.get(&k[0], 1), Some(&0));
        assert_eq!(c.get(&k[2], 1), Some(&2));
        assert!(c.insert(k[3], 3, 100, 1));
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&k[1], 1), None);
        assert_eq!(c.get(&k[0], 1), Some(&0));
        assert_eq!(c.get(&k[3], 1), Some(&3));
    }

    #[test]
    fn free_slots_are_reused() {
        let mut c = cache(2);
        let a = c.key(CredentialKind::Basic, b"a");
        let b = c.key(CredentialKind::Basic, b"b");
        assert!(c.insert(a, 1, 10, 0));
        assert_eq!(c.remove(&a), Some(1));
        assert!(c.insert(b, 2, 10, 0));
        assert!(c.insert(a, 3, 10, 0));
        assert_eq!(c.slots.len(), 2);
        assert!(c.free.is_empty());
    }
}
