//! The per-core verification cache: capacity, expiry, CLOCK eviction and revocation.

use turnpike_policy::credentials::{CredentialKind, VerificationCache, DEFAULT_CACHE_CAPACITY};

/// What a JWT cache entry could hold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verified {
    subject: String,
    jti: String,
}

fn verified(subject: &str, jti: &str) -> Verified {
    Verified { subject: subject.into(), jti: jti.into() }
}

fn cache<V>(capacity: usize) -> VerificationCache<V> {
    VerificationCache::new(capacity, [0x5a; 32])
}

#[test]
fn hit_until_expiry_then_gone() {
    let mut c = cache(8);
    let k = c.key(CredentialKind::Jwt, b"eyJ.token.sig");
    assert!(c.insert(k, verified("alice", "j1"), 1_000, 900));
    assert_eq!(c.get(&k, 900).map(|v| v.subject.as_str()), Some("alice"));
    assert!(c.get(&k, 999).is_some());
    // exp is exclusive (RFC 7519 §4.1.4) and the expired entry is dropped on lookup.
    assert!(c.get(&k, 1_000).is_none());
    assert!(c.is_empty());
}

#[test]
fn already_expired_and_zero_capacity_are_not_cached() {
    let mut c = cache(8);
    let k = c.key(CredentialKind::Basic, b"alice:pw");
    assert!(!c.insert(k, 1, 100, 100));
    assert!(!c.insert(k, 1, 99, 100));
    assert!(c.is_empty());
    let mut off = cache(0);
    let k = off.key(CredentialKind::Basic, b"alice:pw");
    assert!(!off.insert(k, 1, 200, 100));
    assert!(off.get(&k, 100).is_none());
}

#[test]
fn same_credential_different_kind_is_a_different_entry() {
    let mut c = cache(8);
    let as_key = c.key(CredentialKind::ApiKey, b"abc");
    let as_token = c.key(CredentialKind::OpaqueToken, b"abc");
    assert!(c.insert(as_key, "api-key", 100, 0));
    assert!(c.get(&as_token, 0).is_none());
    assert_eq!(c.get(&as_key, 0), Some(&"api-key"));
}

#[test]
fn reinsert_replaces_value_and_expiry() {
    let mut c = cache(2);
    let k = c.key(CredentialKind::OpaqueToken, b"opaque");
    assert!(c.insert(k, 1, 100, 0));
    assert!(c.insert(k, 2, 50, 0));
    assert_eq!(c.len(), 1);
    assert_eq!(c.get(&k, 10), Some(&2));
    assert!(c.get(&k, 50).is_none());
}

#[test]
fn capacity_is_a_hard_bound() {
    let mut c = cache(4);
    for i in 0..100u32 {
        let k = c.key(CredentialKind::Jwt, &i.to_be_bytes());
        assert!(c.insert(k, i, 10_000, 0));
        assert!(c.len() <= 4);
    }
    assert_eq!(c.len(), 4);
    // The newest entry is always present right after its insert.
    let last = c.key(CredentialKind::Jwt, &99u32.to_be_bytes());
    assert_eq!(c.get(&last, 0), Some(&99));
}

#[test]
fn hot_entries_survive_a_scan_of_one_off_credentials() {
    let mut c = cache(16);
    let hot = c.key(CredentialKind::Jwt, b"busy client");
    assert!(c.insert(hot, 0, 10_000, 0));
    for i in 1..1_000u32 {
        // The busy client is seen between every few one-off tokens.
        if i % 4 == 0 {
            assert_eq!(c.get(&hot, 0), Some(&0), "hot entry evicted at {i}");
        }
        let k = c.key(CredentialKind::Jwt, &i.to_be_bytes());
        assert!(c.insert(k, i, 10_000, 0));
    }
}

#[test]
fn expired_entries_are_evicted_before_live_ones() {
    let mut c = cache(3);
    let keys: Vec<_> = (0..3u8).map(|i| c.key(CredentialKind::Jwt, &[i])).collect();
    assert!(c.insert(keys[0], 0, 1_000, 0));
    assert!(c.insert(keys[1], 1, 10, 0)); // expires first
    assert!(c.insert(keys[2], 2, 1_000, 0));
    // All referenced: a plain CLOCK would evict whichever comes first once bits are cleared.
    for k in &keys {
        assert!(c.get(k, 5).is_some());
    }
    let newcomer = c.key(CredentialKind::Jwt, b"new");
    assert!(c.insert(newcomer, 3, 1_000, 20));
    assert!(c.get(&keys[0], 20).is_some());
    assert!(c.get(&keys[2], 20).is_some());
    assert!(c.get(&keys[1], 20).is_none());
}

#[test]
fn worst_case_sweep_with_every_entry_referenced() {
    let mut c = cache(DEFAULT_CACHE_CAPACITY);
    let keys: Vec<_> = (0..DEFAULT_CACHE_CAPACITY as u32)
        .map(|i| c.key(CredentialKind::Jwt, &i.to_le_bytes()))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        assert!(c.insert(*k, i, 3_600, 0));
    }
    for k in &keys {
        assert!(c.get(k, 1).is_some());
    }
    let extra = c.key(CredentialKind::Jwt, b"one more");
    assert!(c.insert(extra, usize::MAX, 3_600, 1));
    assert_eq!(c.len(), DEFAULT_CACHE_CAPACITY);
    assert_eq!(c.get(&extra, 1), Some(&usize::MAX));
    assert_eq!(keys.iter().filter(|k| c.get(k, 1).is_none()).count(), 1);
}

#[test]
fn revocation_by_jti() {
    let mut c = cache(16);
    let tokens = [("t1", "alice", "jti-1"), ("t2", "alice", "jti-2"), ("t3", "bob", "jti-1")];
    for (token, sub, jti) in tokens {
        let k = c.key(CredentialKind::Jwt, token.as_bytes());
        assert!(c.insert(k, verified(sub, jti), 500, 0));
    }
    assert_eq!(c.evict_where(|v| v.jti == "jti-1"), 2);
    assert_eq!(c.len(), 1);
    let t2 = c.key(CredentialKind::Jwt, b"t2");
    assert_eq!(c.get(&t2, 0).map(|v| v.jti.as_str()), Some("jti-2"));
    assert!(c.get(&c.key(CredentialKind::Jwt, b"t1"), 0).is_none());
    assert_eq!(c.evict_where(|v| v.subject == "nobody"), 0);
    // Freed slots are reused without growing past capacity.
    for i in 0..16u8 {
        let k = c.key(CredentialKind::Jwt, &[i]);
        assert!(c.insert(k, verified("x", "y"), 500, 0));
    }
    assert_eq!(c.len(), 16);
}

#[test]
fn remove_purge_and_clear() {
    let mut c = cache(8);
    let a = c.key(CredentialKind::Basic, b"a:1");
    let b = c.key(CredentialKind::Basic, b"b:2");
    let d = c.key(CredentialKind::Basic, b"d:3");
    assert!(c.insert(a, 'a', 10, 0));
    assert!(c.insert(b, 'b', 20, 0));
    assert!(c.insert(d, 'd', 30, 0));
    assert_eq!(c.remove(&a), Some('a'));
    assert_eq!(c.remove(&a), None);
    assert_eq!(c.purge_expired(25), 1);
    assert_eq!(c.len(), 1);
    c.clear();
    assert!(c.is_empty());
    assert!(c.get(&d, 0).is_none());
    assert_eq!(c.capacity(), 8);
}

#[test]
fn random_secret_keys_differ_between_caches() {
    let a = VerificationCache::<()>::with_random_secret(4).unwrap();
    let b = VerificationCache::<()>::with_random_secret(4).unwrap();
    assert_ne!(a.key(CredentialKind::Jwt, b"x"), b.key(CredentialKind::Jwt, b"x"));
    assert!(!format!("{a:?}").contains("secret"));
}
