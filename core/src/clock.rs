//! Injected time: every per-core decision that depends on "now" (pool idle expiry, later rate-limit
//! windows) asks a [`Clock`], so tests can drive time by hand.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// A per-core source of the current time.
#[derive(Debug)]
pub enum Clock {
    /// The monotonic system clock.
    System,
    /// A clock that moves only when told (tests).
    Manual(Cell<Instant>),
}

impl Clock {
    /// A manual clock starting now.
    pub fn manual() -> Self {
        Self::Manual(Cell::new(Instant::now()))
    }

    /// The current instant.
    #[inline]
    pub fn now(&self) -> Instant {
        match self {
            Self::System => Instant::now(),
            Self::Manual(t) => t.get(),
        }
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(t) = self {
            t.set(t.get() + by);
        }
    }
}
