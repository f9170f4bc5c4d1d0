//! The storage under the per-core caches of the request path (verified tokens, signed backend
//! JWTs): a bounded map from a 64-bit hash to one entry, with an expiry per entry and CLOCK
//! (second-chance) eviction.
//!
//! The caches hash their own keys (with a per-core random seed) and confirm a hit against the
//! entry (the whole token, every claim input), so two keys that share a hash never share an
//! answer: the later insert simply takes the slot. An entry is served while `now < expires_at`.
//! A hit sets the entry's reference bit; inserting into a full map sweeps a hand over the slots
//! and takes the first that is expired or unreferenced, clearing bits on the way. Per core,
//! `&mut self`, no locks.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The keys are already good hashes: the index uses them as they are.
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

struct Slot<V> {
    hash: u64,
    value: V,
    expires_at: u64,
    referenced: bool,
}

/// See the module documentation.
pub(crate) struct ClockMap<V> {
    index: HashMap<u64, usize, BuildHasherDefault<Identity>>,
    slots: Vec<Slot<V>>,
    hand: usize,
    capacity: usize,
}

impl<V> ClockMap<V> {
    /// A map of at most `capacity` entries (0 stores nothing), with room for up to `preallocate`
    /// of them made at once.
    pub(crate) fn new(capacity: usize, preallocate: usize) -> Self {
        let room = capacity.min(preallocate);
        Self {
            index: HashMap::with_capacity_and_hasher(room, Default::default()),
            slots: Vec::with_capacity(room),
            hand: 0,
            capacity,
        }
    }

    /// The entry stored under `hash`, if it has not expired at `now` and `confirm` accepts it.
    #[inline]
    pub(crate) fn get(
        &mut self,
        hash: u64,
        now: u64,
        confirm: impl FnOnce(&V) -> bool,
    ) -> Option<&V> {
        let &i = self.index.get(&hash)?;
        let slot = self.slots.get_mut(i)?;
        if now >= slot.expires_at || !confirm(&slot.value) {
            return None;
        }
        slot.referenced = true;
        Some(&slot.value)
    }

    /// Stores `value` under `hash` until `expires_at`, replacing what was there; nothing is stored
    /// when that is not after `now` or the capacity is 0.
    pub(crate) fn insert(&mut self, hash: u64, value: V, expires_at: u64, now: u64) {
        if self.capacity == 0 || expires_at <= now {
            return;
        }
        let slot = Slot { hash, value, expires_at, referenced: false };
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

    /// Removes every entry `remove` selects; returns how many.
    pub(crate) fn remove_where(&mut self, mut remove: impl FnMut(&V) -> bool) -> usize {
        let before = self.slots.len();
        self.slots.retain(|s| !remove(&s.value));
        self.index.clear();
        for (i, s) in self.slots.iter().enumerate() {
            self.index.insert(s.hash, i);
        }
        self.hand = 0;
        before - self.slots.len()
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.hand = 0;
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_confirm_expiry_and_replacement() {
        let mut m = ClockMap::new(4, 4);
        m.insert(1, "a", 100, 10);
        assert_eq!(m.get(1, 50, |_| true), Some(&"a"));
        assert_eq!(m.get(1, 50, |v| *v == "b"), None, "refused by the confirmation");
        assert_eq!(m.get(1, 100, |_| true), None, "expired at expires_at");
        assert_eq!(m.get(2, 50, |_| true), None);
        m.insert(1, "b", 100, 10);
        assert_eq!(m.get(1, 50, |_| true), Some(&"b"));
        assert_eq!(m.len(), 1, "replaced in place");
        m.insert(3, "late", 5, 10);
        assert_eq!(m.get(3, 1, |_| true), None, "already expired: not stored");
    }

    #[test]
    fn bounded_with_clock_eviction() {
        let mut m = ClockMap::new(3, 0);
        for h in 1..=3 {
            m.insert(h, h, 100, 0);
        }
        assert!(m.get(1, 1, |_| true).is_some()); // referenced: survives the next eviction
        m.insert(4, 4, 100, 1);
        assert_eq!(m.len(), 3);
        assert!(m.get(1, 1, |_| true).is_some());
        assert!(m.get(4, 1, |_| true).is_some());
        assert!(m.get(2, 1, |_| true).is_none());
        // An expired entry is taken even though its reference bit is set.
        m.insert(5, 5, 2, 1);
        assert!(m.get(5, 1, |_| true).is_some());
        m.insert(6, 6, 100, 3);
        assert!(m.get(6, 3, |_| true).is_some());
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn removal_and_zero_capacity() {
        let mut m = ClockMap::new(8, 8);
        for h in 1..=4 {
            m.insert(h, h, 100, 0);
        }
        assert_eq!(m.remove_where(|v| v % 2 == 0), 2);
        assert!(m.get(2, 1, |_| true).is_none());
        assert!(m.get(3, 1, |_| true).is_some(), "still indexed after the removal");
        m.clear();
        assert_eq!(m.len(), 0);
        let mut off = ClockMap::new(0, 8);
        off.insert(1, 1, 100, 0);
        assert_eq!(off.len(), 0);
    }
}
