//! A per-core "stop" signal: the worker raises it when the control thread asks for a graceful
//! shutdown; the accept loop and idle keep-alive connections wait on it and stop, while requests in
//! flight run to completion (the worker enforces the grace deadline).
//!
//! Single-threaded by design (one per core): `Cell`/`RefCell`, no atomics. Meant for the few
//! long-lived tasks of a core (accept loop, sweeper): each distinct waiter stays registered until
//! the signal is raised. Connections do not wait on it; shutdown reaches idle connections through
//! their deadlines (`deadline::Deadlines::fire_idle`).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// The signal; shared by `Rc` inside one core.
#[derive(Debug, Default)]
pub struct ShutdownSignal {
    raised: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl ShutdownSignal {
    /// Raises the signal and wakes every waiter.
    pub fn raise(&self) {
        self.raised.set(true);
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    /// Whether the signal has been raised.
    #[inline]
    pub fn is_raised(&self) -> bool {
        self.raised.get()
    }

    /// A future that completes once the signal is raised.
    pub fn wait(&self) -> Raised<'_> {
        Raised { signal: self }
    }
}

/// Future returned by [`ShutdownSignal::wait`].
#[derive(Debug)]
pub struct Raised<'a> {
    signal: &'a ShutdownSignal,
}

impl Future for Raised<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.raised.get() {
            return Poll::Ready(());
        }
        let mut waiters = self.signal.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
