//! The failed-attempt throttle and per-key rate limiter, driven by an injected clock
//! (a fixed `Instant` plus offsets: nothing sleeps).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use turnpike_policy::credentials::{client_key, AttemptThrottle, ThrottleConfig};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn config(burst: u32, interval: Duration, max_clients: usize) -> ThrottleConfig {
    ThrottleConfig { burst, interval, max_clients }
}

#[test]
fn failures_then_recovery_window() {
    let t0 = Instant::now();
    // 5 failures at once, then one per 12 s (5 per minute).
    let mut t = AttemptThrottle::new(config(5, secs(12), 1024)).unwrap();
    let ip: IpAddr = "198.51.100.7".parse().unwrap();
    for i in 0..5 {
        assert!(t.allow(&ip, t0 + secs(i)), "attempt {i}");
        t.record_failure(&ip, t0 + secs(i));
    }
    let now = t0 + secs(5);
    assert!(!t.allow(&ip, now));
    // tat = t0 + 60 s; allowed again once tat - now <= 48 s, i.e. at t0 + 12 s.
    assert_eq!(t.retry_after(&ip, now), Some(secs(7)));
    assert!(!t.allow(&ip, t0 + secs(11)));
    assert!(t.allow(&ip, t0 + secs(12)));
    t.record_failure(&ip, t0 + secs(12));
    assert!(!t.allow(&ip, t0 + secs(23)));
    assert!(t.allow(&ip, t0 + secs(24)));
}

#[test]
fn idle_time_refills_up_to_burst_only() {
    let t0 = Instant::now();
    let mut t = AttemptThrottle::new(config(3, secs(1), 16)).unwrap();
    t.record_failure(&"alice", t0);
    // A long quiet period gives back `burst` tokens, not more.
    let later = t0 + secs(3_600);
    for _ in 0..3 {
        assert!(t.allow(&"alice", later));
        t.record_failure(&"alice", later);
    }
    assert!(!t.allow(&"alice", later));
    assert_eq!(t.retry_after(&"alice", later), Some(secs(1)));
    assert_eq!(t.retry_after(&"bob", later), None);
}

#[test]
fn successes_do_not_consume() {
    let t0 = Instant::now();
    let t = AttemptThrottle::new(config(1, secs(60), 16)).unwrap();
    for i in 0..100 {
        assert!(t.allow(&1u8, t0 + Duration::from_millis(i)));
    }
    assert!(t.is_empty(), "allow() alone records nothing");
}

#[test]
fn rate_limit_refetches_per_issuer() {
    let t0 = Instant::now();
    // At most 2 JWKS refetches back to back per issuer, then one per 30 s.
    let mut t = AttemptThrottle::new(config(2, secs(30), 64)).unwrap();
    let issuer = "https://idp.example.com/oauth2/token".to_owned();
    let other = "https://other.example".to_owned();
    assert!(t.try_acquire(&issuer, t0));
    assert!(t.try_acquire(&issuer, t0));
    assert!(!t.try_acquire(&issuer, t0 + secs(29)));
    // A refusal does not push the window further out.
    assert!(t.try_acquire(&issuer, t0 + secs(30)));
    assert!(!t.try_acquire(&issuer, t0 + secs(31)));
    assert!(t.try_acquire(&other, t0 + secs(31)));
}

#[test]
fn memory_is_bounded() {
    let t0 = Instant::now();
    let mut t = AttemptThrottle::new(config(2, secs(60), 100)).unwrap();
    for i in 0..10_000u32 {
        t.record_failure(&i, t0 + Duration::from_millis(u64::from(i)));
        assert!(t.len() <= 100);
    }
    assert_eq!(t.len(), 100);
    // The most recent client is still tracked.
    t.record_failure(&9_999, t0 + secs(10));
    assert!(!t.allow(&9_999, t0 + secs(10)));
}

#[test]
fn a_full_table_forgets_clients_with_full_buckets_first() {
    let t0 = Instant::now();
    let mut t = AttemptThrottle::new(config(1, secs(10), 4)).unwrap();
    // Client 0 is throttled hard; 1..4 failed once, long ago.
    for _ in 0..5 {
        t.record_failure(&0, t0 + secs(100));
    }
    for c in 1..4 {
        t.record_failure(&c, t0);
    }
    for newcomer in 10..20 {
        t.record_failure(&newcomer, t0 + secs(100));
    }
    assert!(t.len() <= 4);
    // Entries with refilled buckets went first, then those closest to a full bucket: the
    // client furthest in debt is the last one a flood of newcomers can push out.
    assert!(!t.allow(&0, t0 + secs(100)));
}

#[test]
fn forget_and_purge_idle() {
    let t0 = Instant::now();
    let mut t = AttemptThrottle::new(config(1, secs(10), 8)).unwrap();
    t.record_failure(&"a", t0);
    t.record_failure(&"b", t0 + secs(5));
    assert!(!t.allow(&"a", t0 + secs(1)));
    t.forget(&"a");
    assert!(t.allow(&"a", t0 + secs(1)));
    assert_eq!(t.len(), 1);
    assert_eq!(t.purge_idle(t0 + secs(14)), 0);
    assert_eq!(t.purge_idle(t0 + secs(15)), 1);
    assert!(t.is_empty());
}

#[test]
fn ipv6_privacy_addresses_share_a_bucket() {
    let t0 = Instant::now();
    let mut t = AttemptThrottle::new(config(2, secs(60), 16)).unwrap();
    let a = client_key("2001:db8:aa:bb:1111:2222:3333:4444".parse().unwrap());
    let b = client_key("2001:db8:aa:bb:ffff::1".parse().unwrap());
    t.record_failure(&a, t0);
    t.record_failure(&b, t0);
    assert!(!t.allow(&a, t0));
    let v4 = client_key("203.0.113.9".parse().unwrap());
    assert!(t.allow(&v4, t0));
}
