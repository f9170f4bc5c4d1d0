//! The per-core cache of signed backend JWTs: a caller that already got an assertion for an API
//! gets the same one again (a hash lookup and a header copy) until shortly before it expires,
//! instead of a new signature (about 1 ms for RSA-2048).
//!
//! Keyed by what the assertion says: the generator's generation (key, settings and tables of one
//! snapshot), the API, the request's key type, and the caller's identity (method, issuer,
//! subject, consumer key, application, token id, expiry, API key claims). The map is indexed by a
//! randomly seeded `foldhash` of the cheap distinguishing fields; a hit is confirmed by
//! comparing all of them (the stored caller is the same `Rc` as the presented one for a token
//! served from the verified-token cache, so this is usually one pointer comparison). Two
//! callers that would get identical claims may share an entry; two that would not never do.
//!
//! An entry is served while `now < fresh_until`, which the policy sets a margin before the
//! assertion's `exp` (itself never after the credential's expiry). Bounded (`capacity` entries)
//! with CLOCK eviction (`clock_map.rs`, as [`crate::auth::TokenCache`]). Per core, `&mut self`, no locks.

use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;

use crate::auth::Caller;
use crate::clock_map::ClockMap;
use crate::KeyType;

/// Entries kept per core when not configured otherwise (an RSA-2048 assertion is about 1 KiB).
pub const DEFAULT_ASSERTION_CACHE_CAPACITY: usize = 4096;

/// What an assertion is for; borrowed from the request and the route's policy.
#[derive(Debug, Clone, Copy)]
pub struct AssertionKey<'a> {
    /// [`super::BackendJwt::generation`].
    pub generation: u64,
    /// The route's API, as one string (name, version and context).
    pub api: &'a str,
    pub key_type: KeyType,
    pub caller: &'a Rc<Caller>,
}

/// One signed assertion and what it was signed for.
struct Slot {
    generation: u64,
    api: Box<str>,
    key_type: KeyType,
    caller: Rc<Caller>,
    assertion: Box<str>,
}

impl Slot {
    fn matches(&self, key: &AssertionKey<'_>) -> bool {
        self.generation == key.generation
            && self.key_type == key.key_type
            && *self.api == *key.api
            && same_identity(&self.caller, key.caller)
    }
}

/// Whether two callers would get the same claims (see `claims.rs` for what is used).
fn same_identity(a: &Rc<Caller>, b: &Rc<Caller>) -> bool {
    Rc::ptr_eq(a, b)
        || (a.method == b.method
            && a.expires_at == b.expires_at
            && a.subject == b.subject
            && a.jti == b.jti
            && a.issuer == b.issuer
            && a.consumer_key == b.consumer_key
            && a.application == b.application
            && a.api_key == b.api_key)
}

/// See the module documentation.
pub struct AssertionCache {
    seed: foldhash::fast::FixedState,
    entries: ClockMap<Slot>,
}

impl std::fmt::Debug for AssertionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionCache").field("len", &self.entries.len()).finish_non_exhaustive()
    }
}

impl AssertionCache {
    /// A cache of at most `capacity` assertions, hashed with `seed` (random per core). Capacity
    /// 0 disables caching.
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            seed: foldhash::fast::FixedState::with_seed(seed),
            entries: ClockMap::new(capacity, 1 << 12),
        }
    }

    #[inline]
    fn hash(&self, key: &AssertionKey<'_>) -> u64 {
        let mut h = self.seed.build_hasher();
        key.generation.hash(&mut h);
        key.api.hash(&mut h);
        (key.key_type == KeyType::Sandbox).hash(&mut h);
        let caller = &**key.caller;
        caller.subject.hash(&mut h);
        caller.jti.hash(&mut h);
        caller.expires_at.hash(&mut h);
        h.finish()
    }

    /// The assertion cached for `key`, if still fresh at `now` (Unix seconds).
    #[inline]
    pub fn get(&mut self, key: &AssertionKey<'_>, now: u64) -> Option<&str> {
        let hash = self.hash(key);
        self.entries.get(hash, now, |slot| slot.matches(key)).map(|slot| &*slot.assertion)
    }

    /// Caches `assertion` for `key` until `fresh_until` (Unix seconds); not stored when that is
    /// not after `now`.
    pub fn insert(&mut self, key: &AssertionKey<'_>, assertion: &str, fresh_until: u64, now: u64) {
        let hash = self.hash(key);
        let slot = Slot {
            generation: key.generation,
            api: key.api.into(),
            key_type: key.key_type,
            caller: Rc::clone(key.caller),
            assertion: assertion.into(),
        };
        self.entries.insert(hash, slot, fresh_until, now);
    }

    /// Empties the cache (a new snapshot: its entries could never match again).
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
    use crate::backend_jwt::claims::tests::caller;

    fn key<'a>(caller: &'a Rc<Caller>, api: &'a str) -> AssertionKey<'a> {
        AssertionKey { generation: 1, api, key_type: KeyType::Production, caller }
    }

    #[test]
    fn hit_miss_and_freshness() {
        let mut c = AssertionCache::new(8, 7);
        let alice = Rc::new(caller(AuthMethod::Jwt));
        let k = key(&alice, "Shop\0v1\0/shop/v1");
        assert!(c.get(&k, 10).is_none());
        c.insert(&k, "a.b.c", 100, 10);
        assert_eq!(c.get(&k, 99), Some("a.b.c"));
        assert!(c.get(&k, 100).is_none(), "stale at fresh_until");
        c.insert(&k, "late", 100, 100);
        assert!(c.get(&k, 50).is_some_and(|a| a == "a.b.c"), "not stored when already stale");

        // The same identity in another Rc (an API key from configuration) hits too.
        let again = Rc::new(caller(AuthMethod::Jwt));
        assert_eq!(c.get(&key(&again, "Shop\0v1\0/shop/v1"), 50), Some("a.b.c"));
    }

    #[test]
    fn everything_the_claims_use_is_part_of_the_key() {
        let mut c = AssertionCache::new(8, 1);
        let alice = Rc::new(caller(AuthMethod::Jwt));
        let api = "Shop\0v1\0/shop/v1";
        c.insert(&key(&alice, api), "x", 100, 0);
        assert!(c.get(&key(&alice, "Shop\0v2\0/shop/v2"), 1).is_none(), "another API");
        assert!(c.get(&AssertionKey { generation: 2, ..key(&alice, api) }, 1).is_none());
        let sandbox = AssertionKey { key_type: KeyType::Sandbox, ..key(&alice, api) };
        assert!(c.get(&sandbox, 1).is_none());
        let variants: [fn(&mut Caller); 6] = [
            |c| c.subject = "bob".into(),
            |c| c.jti = Some("t-2".into()),
            |c| c.expires_at += 1,
            |c| c.consumer_key = None,
            |c| c.application = Some("other".into()),
            |c| c.method = AuthMethod::ApiKey,
        ];
        for change in variants {
            let mut other = caller(AuthMethod::Jwt);
            change(&mut other);
            assert!(c.get(&key(&Rc::new(other), api), 1).is_none());
        }
        assert_eq!(c.get(&key(&alice, api), 1), Some("x"));
    }

    #[test]
    fn bounded_with_clock_eviction() {
        let mut c = AssertionCache::new(2, 3);
        let callers: Vec<Rc<Caller>> = ["a", "b", "c"]
            .iter()
            .map(|s| {
                let mut k = caller(AuthMethod::Jwt);
                k.subject = (*s).into();
                Rc::new(k)
            })
            .collect();
        c.insert(&key(&callers[0], "api"), "A", 100, 0);
        c.insert(&key(&callers[1], "api"), "B", 100, 0);
        assert!(c.get(&key(&callers[0], "api"), 1).is_some()); // referenced: survives
        c.insert(&key(&callers[2], "api"), "C", 100, 1);
        assert_eq!(c.len(), 2);
        assert!(c.get(&key(&callers[0], "api"), 1).is_some());
        assert!(c.get(&key(&callers[1], "api"), 1).is_none());
        assert!(c.get(&key(&callers[2], "api"), 1).is_some());
        c.clear();
        assert!(c.is_empty());
        let mut off = AssertionCache::new(0, 0);
        off.insert(&key(&callers[0], "api"), "A", 100, 0);
        assert!(off.is_empty());
    }
}
