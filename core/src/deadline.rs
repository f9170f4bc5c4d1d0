//! Coarse per-connection deadlines, swept by one timer task per core.
//!
//! Every socket operation on the request path needs a deadline (slow clients, stuck upstreams),
//! but a precise timer per operation (a clock read, a timer-wheel insertion and removal) costs more
//! than the proxy's own per-request work. Instead each connection owns one [`Deadline`]: arming it
//! writes two cells, and the core's sweeper ([`Deadlines::sweep`], every [`TICK`]) fires the ones
//! whose time has passed, waking the operation waiting on it. Deadlines are therefore late by at
//! most one tick (plus one, since arming rounds up), which is fine for timeouts counted in seconds.
//!
//! The same registry lets shutdown close idle keep-alive connections at once: a connection
//! waiting for its next request marks its deadline idle, and [`Deadlines::fire_idle`] wakes them.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Sweep interval; also the granularity of every deadline.
pub const TICK: Duration = Duration::from_millis(50);

/// "Not armed".
const NEVER: u64 = u64::MAX;

/// One connection's deadline.
#[derive(Debug)]
pub struct Deadline {
    registry: Rc<Deadlines>,
    /// Expiry in milliseconds on the registry's clock; `NEVER` when disarmed.
    at_ms: Cell<u64>,
    fired: Cell<bool>,
    idle: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Deadline {
    /// Arms the deadline `limit` from now (rounded up to the next tick).
    #[inline]
    pub fn arm(&self, limit: Duration) {
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(NEVER / 2);
        self.at_ms
            .set(self.registry.now_ms.get().saturating_add(limit_ms).saturating_add(tick_ms()));
        self.fired.set(false);
    }

    /// Disarms it.
    #[inline]
    pub fn disarm(&self) {
        self.at_ms.set(NEVER);
        self.fired.set(false);
    }

    /// Marks the connection idle (between requests) or busy.
    #[inline]
    pub fn set_idle(&self, idle: bool) {
        self.idle.set(idle);
    }

    /// Whether the armed deadline has passed.
    #[inline]
    pub fn expired(&self) -> bool {
        self.fired.get()
    }

    /// Runs `fut` until it completes or the armed deadline passes (`None`). The deadline stays
    /// armed: several operations may share it (a whole request head, say).
    pub async fn within<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if self.fired.get() {
                return Poll::Ready(None);
            }
            match fut.as_mut().poll(cx) {
                Poll::Ready(out) => Poll::Ready(Some(out)),
                Poll::Pending => {
                    let mut slot = self.waker.borrow_mut();
                    match slot.as_ref() {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *slot = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    fn fire(&self) {
        self.fired.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

fn tick_ms() -> u64 {
    TICK.as_millis() as u64
}

/// The per-core registry of deadlines and its coarse clock.
#[derive(Debug)]
pub struct Deadlines {
    start: Instant,
    now_ms: Cell<u64>,
    entries: RefCell<Vec<Weak<Deadline>>>,
}

impl Deadlines {
    /// An empty registry whose clock starts now.
    pub fn new() -> Rc<Self> {
        Rc::new(Self {
            start: Instant::now(),
            now_ms: Cell::new(0),
            entries: RefCell::new(Vec::new()),
        })
    }

    /// A new, disarmed deadline for a connection.
    pub fn register(self: &Rc<Self>) -> Rc<Deadline> {
        let deadline = Rc::new(Deadline {
            registry: Rc::clone(self),
            at_ms: Cell::new(NEVER),
            fired: Cell::new(false),
            idle: Cell::new(false),
            waker: RefCell::new(None),
        });
        self.entries.borrow_mut().push(Rc::downgrade(&deadline));
        deadline
    }

    /// Advances the clock and fires every deadline that has passed; forgets dropped ones.
    pub fn sweep(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NEVER - 1);
        self.now_ms.set(now);
        let mut due = Vec::new();
        self.entries.borrow_mut().retain(|weak| match weak.upgrade() {
            Some(d) => {
                if d.at_ms.get() <= now && !d.fired.get() {
                    due.push(d);
                }
                true
            }
            None => false,
        });
        // Wake outside the registry borrow: a woken task may register a new deadline.
        for d in due {
            d.fire();
        }
    }

    /// Fires the deadlines of connections idle between requests (graceful shutdown).
    pub fn fire_idle(&self) {
        let idle: Vec<Rc<Deadline>> = self
            .entries
            .borrow()
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|d| d.idle.get())
            .collect();
        for d in idle {
            d.fire();
        }
    }

    /// Deadlines still registered (connections alive).
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Wake};

    struct CountWake(AtomicUsize);
    impl Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn fires_only_after_its_time_and_wakes_the_waiter() {
        let registry = Deadlines::new();
        let d = registry.register();
        d.arm(Duration::from_millis(0));
        let counter = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut fut = Box::pin(d.within(std::future::pending::<()>()));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        registry.sweep(); // still within the rounding tick
        assert!(!d.expired());
        std::thread::sleep(TICK + Duration::from_millis(5));
        registry.sweep();
        assert!(d.expired());
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn disarmed_and_rearmed_deadlines_do_not_fire() {
        let registry = Deadlines::new();
        let d = registry.register();
        d.arm(Duration::from_millis(0));
        d.disarm();
        std::thread::sleep(TICK + Duration::from_millis(5));
        registry.sweep();
        assert!(!d.expired());
        d.arm(Duration::from_secs(60));
        registry.sweep();
        assert!(!d.expired());
    }

    #[test]
    fn dropped_connections_are_forgotten_and_idle_ones_fired_on_demand() {
        let registry = Deadlines::new();
        let busy = registry.register();
        let idle = registry.register();
        drop(registry.register());
        idle.set_idle(true);
        registry.sweep();
        assert_eq!(registry.len(), 2);
        registry.fire_idle();
        assert!(idle.expired());
        assert!(!busy.expired());
    }
}
