//! A per-client throttle of failed attempts, also usable as a per-key rate limiter (one per
//! core, `&mut self`, time injected as a [`std::time::Instant`]).
//!
//! Password hashes are slow on purpose; without a throttle, random guesses would turn into CPU
//! burnt on argon2/bcrypt. The authentication policy asks [`AttemptThrottle::allow`] *before*
//! verifying a password and calls [`AttemptThrottle::record_failure`] after a wrong one. Keyed by
//! client address (use [`client_key`] so an IPv6 client cannot rotate through its /64) or by
//! user name. The same type bounds introspection calls or JWKS refetches per issuer with
//! [`AttemptThrottle::try_acquire`].
//!
//! The check and the record are not one atomic step: this relies on the core verifying on its own
//! thread (allow → hash → record with no other request of the core in between). If hashing ever
//! moves off the core, switch to `try_acquire` before hashing.
//!
//! **Algorithm: GCRA** (generic cell rate algorithm, a token bucket stored as one instant). Each
//! client keeps a "theoretical arrival time" `tat`: the instant at which its bucket is full again.
//! A failure moves `tat` to `max(tat, now) + interval`; an attempt is allowed while
//! `max(tat, now) - now <= (burst - 1) * interval`, i.e. while at least one of `burst` tokens is
//! left. So `burst` failures may come back to back, then one per `interval`. One `Instant` per
//! client, no floating point, no timer.
//!
//! **Bounded memory.** At most `max_clients` entries. Inserting into a full table evicts, among the
//! next [`EVICTION_PROBES`] slots after a rotating hand, the entry with the earliest `tat`, that is
//! the one closest to a full bucket (an entry whose bucket is already full carries no state, so
//! forgetting it is free). O(1) worst case per insert. The cost of a bound: an attacker with more
//! addresses than `max_clients` can push a throttled entry out and start it over with a full
//! bucket; size `max_clients` well above the number of clients expected to be throttled at once,
//! and combine a per-address throttle with a per-user one.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Slots examined to pick a victim when the table is full.
pub const EVICTION_PROBES: usize = 8;

/// The throttle's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures allowed back to back (bucket size), at least 1.
    pub burst: u32,
    /// Time for one token to come back; non-zero.
    pub interval: Duration,
    /// Most clients tracked at once, at least 1.
    pub max_clients: usize,
}

/// Why a [`ThrottleConfig`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidThrottleConfig {
    ZeroBurst,
    ZeroInterval,
    ZeroClients,
    /// `(burst - 1) * interval` does not fit a `Duration`.
    WindowOverflow,
}

impl fmt::Display for InvalidThrottleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroBurst => "throttle burst must be at least 1",
            Self::ZeroInterval => "throttle interval must not be zero",
            Self::ZeroClients => "throttle must track at least one client",
            Self::WindowOverflow => "throttle burst times interval is too large",
        })
    }
}

impl std::error::Error for InvalidThrottleConfig {}

/// The key to throttle a client address under: IPv4 addresses as they are, IPv6 addresses
/// reduced to their /64 prefix (one subscriber usually holds a whole /64), IPv4-mapped IPv6
/// addresses as the IPv4 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

struct Entry<K> {
    key: K,
    /// Theoretical arrival time: when the bucket is full again.
    tat: Instant,
}

/// Per-client failure throttle / per-key rate limiter. See the module documentation.
pub struct AttemptThrottle<K> {
    config: ThrottleConfig,
    /// `(burst - 1) * interval`: how far `tat` may run ahead of `now` for an attempt to pass.
    tolerance: Duration,
    /// Keys are attacker-chosen (addresses, user names): keep std's randomly keyed SipHash.
    index: HashMap<K, usize>,
    slots: Vec<Option<Entry<K>>>,
    free: Vec<usize>,
    hand: usize,
}

impl<K> fmt::Debug for AttemptThrottle<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptThrottle")
            .field("config", &self.config)
            .field("tracked", &self.index.len())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> AttemptThrottle<K> {
    /// An empty throttle with these limits.
    ///
    /// # Errors
    /// A zero burst, interval or client count, see [`InvalidThrottleConfig`].
    pub fn new(config: ThrottleConfig) -> Result<Self, InvalidThrottleConfig> {
        if config.burst == 0 {
            return Err(InvalidThrottleConfig::ZeroBurst);
        }
        if config.interval.is_zero() {
            return Err(InvalidThrottleConfig::ZeroInterval);
        }
        if config.max_clients == 0 {
            return Err(InvalidThrottleConfig::ZeroClients);
        }
        let tolerance = config
            .interval
            .checked_mul(config.burst - 1)
            .ok_or(InvalidThrottleConfig::WindowOverflow)?;
        Ok(Self {
            config,
            tolerance,
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            hand: 0,
        })
    }

    /// The limits this throttle was built with.
    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    fn tat(&self, client: &K) -> Option<Instant> {
        let i = *self.index.get(client)?;
        self.slots.get(i)?.as_ref().map(|e| e.tat)
    }

    fn allowed_at(&self, tat: Option<Instant>, now: Instant) -> bool {
        match tat {
            None => true,
            Some(tat) => tat.saturating_duration_since(now) <= self.tolerance,
        }
    }

    /// Whether `client` may make an attempt at `now` (does not consume anything).
    pub fn allow(&self, client: &K, now: Instant) -> bool {
        self.allowed_at(self.tat(client), now)
    }

    /// How long until `client` may try again (`None` when it may now); for `Retry-After`.
    pub fn retry_after(&self, client: &K, now: Instant) -> Option<Duration> {
        let tat = self.tat(client)?;
        let ahead = tat.saturating_duration_since(now);
        ahead.checked_sub(self.tolerance).filter(|d| !d.is_zero())
    }

    /// Takes one token from `client`'s bucket: call after a failed attempt.
    pub fn record_failure(&mut self, client: &K, now: Instant) {
        self.consume(client, now);
    }

    /// Rate limiting: takes a token and returns `true` if one was left, else `false` and takes
    /// nothing (e.g. at most `burst` JWKS refetches per issuer, then one per `interval`).
    pub fn try_acquire(&mut self, key: &K, now: Instant) -> bool {
        if !self.allow(key, now) {
            return false;
        }
        self.consume(key, now);
        true
    }

    /// Forgets `client` (e.g. after an operator unblocks it). Success does not call this: a
    /// valid account must not let an address reset its guesses.
    pub fn forget(&mut self, client: &K) {
        if let Some(i) = self.index.remove(client) {
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = None;
                self.free.push(i);
            }
        }
    }

    /// Drops every entry whose bucket is full again at `now` (they carry no state); O(n).
    pub fn purge_idle(&mut self, now: Instant) -> usize {
        let mut purged = 0;
        for i in 0..self.slots.len() {
            let idle = self.slots.get(i).and_then(Option::as_ref).is_some_and(|e| e.tat <= now);
            if idle {
                if let Some(Some(entry)) = self.slots.get_mut(i).map(Option::take) {
                    self.index.remove(&entry.key);
                    self.free.push(i);
                    purged += 1;
                }
            }
        }
        purged
    }

    /// Number of clients tracked.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn consume(&mut self, client: &K, now: Instant) {
        let interval = self.config.interval;
        // Saturate rather than overflow `Instant` (only reachable with absurd intervals): a
        // client that far ahead stays throttled.
        let advance = |tat: Instant| {
            let base = tat.max(now);
            base.checked_add(interval).unwrap_or(base)
        };
        if let Some(&i) = self.index.get(client) {
            if let Some(Some(entry)) = self.slots.get_mut(i) {
                entry.tat = advance(entry.tat);
                return;
            }
        }
        let Some(i) = self.vacant_slot(now) else { return };
        if let Some(place) = self.slots.get_mut(i) {
            *place = Some(Entry { key: client.clone(), tat: advance(now) });
            self.index.insert(client.clone(), i);
        }
    }

    /// An empty slot index, evicting one entry when the table is full.
    fn vacant_slot(&mut self, now: Instant) -> Option<usize> {
        if let Some(i) = self.free.pop() {
            return Some(i);
        }
        if self.slots.len() < self.config.max_clients {
            self.slots.push(None);
            return Some(self.slots.len() - 1);
        }
        let n = self.slots.len();
        let mut victim: Option<(usize, Instant)> = None;
        for step in 0..EVICTION_PROBES.min(n) {
            let i = (self.hand + step) % n;
            let Some(Some(entry)) = self.slots.get(i) else { continue };
            if entry.tat <= now {
                victim = Some((i, entry.tat));
                break;
            }
            if victim.is_none_or(|(_, t)| entry.tat < t) {
                victim = Some((i, entry.tat));
            }
        }
        let (i, _) = victim?;
        self.hand = (i + 1) % n;
        let entry = self.slots.get_mut(i)?.take()?;
        self.index.remove(&entry.key);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(burst: u32, secs: u64, max: usize) -> AttemptThrottle<u32> {
        AttemptThrottle::new(ThrottleConfig {
            burst,
            interval: Duration::from_secs(secs),
            max_clients: max,
        })
        .unwrap()
    }

    #[test]
    fn burst_then_one_per_interval() {
        let t0 = Instant::now();
        let mut t = throttle(3, 10, 16);
        for _ in 0..3 {
            assert!(t.allow(&1, t0));
            t.record_failure(&1, t0);
        }
        assert!(!t.allow(&1, t0));
        assert_eq!(t.retry_after(&1, t0), Some(Duration::from_secs(10)));
        assert!(!t.allow(&1, t0 + Duration::from_secs(9)));
        assert!(t.allow(&1, t0 + Duration::from_secs(10)));
        assert!(t.allow(&2, t0), "other clients are unaffected");
    }

    #[test]
    fn full_table_evicts_idle_entries_first() {
        let t0 = Instant::now();
        let mut t = throttle(1, 60, 2);
        t.record_failure(&1, t0);
        t.record_failure(&2, t0 + Duration::from_secs(30));
        // At t0+61, client 1's bucket is full again: it is the one forgotten.
        let now = t0 + Duration::from_secs(61);
        t.record_failure(&3, now);
        assert_eq!(t.len(), 2);
        assert!(t.allow(&1, now));
        assert!(!t.allow(&2, now));
        assert!(!t.allow(&3, now));
    }

    #[test]
    fn config_errors() {
        let c = |burst, secs, max| ThrottleConfig {
            burst,
            interval: Duration::from_secs(secs),
            max_clients: max,
        };
        assert_eq!(
            AttemptThrottle::<u32>::new(c(0, 1, 1)).unwrap_err(),
            InvalidThrottleConfig::ZeroBurst
        );
        assert_eq!(
            AttemptThrottle::<u32>::new(c(1, 0, 1)).unwrap_err(),
            InvalidThrottleConfig::ZeroInterval
        );
        assert_eq!(
            AttemptThrottle::<u32>::new(c(1, 1, 0)).unwrap_err(),
            InvalidThrottleConfig::ZeroClients
        );
    }

    #[test]
    fn ipv6_clients_keyed_by_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
