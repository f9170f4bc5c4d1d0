//! Per-core mutable state that policies read and update: the core's cached clock readings, the
//! authentication caches and the signed backend JWTs. One per core, owned by the worker, borrowed mutably for the duration of
//! one (synchronous) policy phase, and carried across snapshot swaps.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::auth::{AuthState, AuthStateConfig, Security};
use crate::backend_jwt::{AssertionCache, DEFAULT_ASSERTION_CACHE_CAPACITY};
use crate::credentials::InvalidThrottleConfig;

/// See the module documentation.
#[derive(Debug)]
pub struct CoreState {
    /// Wall-clock seconds since the Unix epoch (token expiries).
    pub now_unix: u64,
    /// Monotonic now (throttles).
    pub now: Instant,
    /// Authentication caches and limits.
    pub auth: AuthState,
    /// Signed backend JWTs, reused while fresh.
    pub assertions: AssertionCache,
    /// When `now_unix` is next read from the system (see [`CoreState::tick`]).
    next_wall_read: Instant,
}

/// How stale `now_unix` may get: token times are whole seconds, so reading the wall clock a few
/// times a second, not per request, loses nothing and saves a clock read per request.
const WALL_CLOCK_REFRESH: Duration = Duration::from_millis(250);

impl CoreState {
    /// Fresh state with `config`'s sizes.
    ///
    /// # Errors
    /// When a throttle limit in `config` is zero.
    pub fn new(config: AuthStateConfig) -> Result<Self, InvalidThrottleConfig> {
        let mut seed = [0u8; 8];
        // A failing system generator leaves a zero seed: the cache still works, keyed less well.
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed);
        let now = Instant::now();
        let mut state = Self {
            now_unix: 0,
            now,
            auth: AuthState::new(config)?,
            assertions: AssertionCache::new(
                DEFAULT_ASSERTION_CACHE_CAPACITY,
                u64::from_le_bytes(seed),
            ),
            next_wall_read: now,
        };
        state.tick();
        Ok(state)
    }

    /// Brings the caches in line with a newly installed snapshot's security (see
    /// [`AuthState::on_snapshot`]); cached backend JWTs belong to the previous snapshot's
    /// generator and are dropped.
    pub fn on_snapshot(&mut self, security: &Security) {
        self.auth.on_snapshot(security);
        self.assertions.clear();
    }

    /// Reads the clocks (once per request that runs policies).
    #[inline]
    pub fn tick(&mut self) {
        self.now = Instant::now();
        if self.now >= self.next_wall_read {
            self.now_unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            self.next_wall_read = self.now + WALL_CLOCK_REFRESH;
        }
    }

    /// Sets the clocks explicitly (tests).
    pub fn set_time(&mut self, now_unix: u64, now: Instant) {
        self.now_unix = now_unix;
        self.now = now;
        self.next_wall_read = now + WALL_CLOCK_REFRESH;
    }
}
