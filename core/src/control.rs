//! The control-to-core channel: the control thread publishes a snapshot in one `ArcSwap` and sends
//! each core a message; an idle core's runtime wakes to apply it (monoio's `sync` feature makes
//! cross-thread wakers work). Cores acknowledge the version they serve through their counters.
//!
//! Later issues add messages here (key revocations, rate-limit leases).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use arc_swap::ArcSwap;
use futures_channel::mpsc;
use futures_core::Stream;

use crate::snapshot::Snapshot;

/// The published snapshot, read by cores only when told it changed.
pub type Published = Arc<ArcSwap<Snapshot>>;

/// A message from the control thread to one core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMessage {
    /// A new snapshot is in the shared slot: load it and serve it from the next request on.
    SnapshotPublished,
    /// Stop accepting, finish requests in flight (within the grace period), exit.
    Shutdown,
}

/// Sending half, held by the control thread.
#[derive(Debug, Clone)]
pub struct ControlSender(mpsc::UnboundedSender<ControlMessage>);

/// Receiving half, owned by one core.
#[derive(Debug)]
pub struct ControlReceiver(mpsc::UnboundedReceiver<ControlMessage>);

/// A channel for one core.
pub fn channel() -> (ControlSender, ControlReceiver) {
    let (tx, rx) = mpsc::unbounded();
    (ControlSender(tx), ControlReceiver(rx))
}

impl ControlSender {
    /// Sends `message`; `false` if the core is gone.
    pub fn send(&self, message: ControlMessage) -> bool {
        self.0.unbounded_send(message).is_ok()
    }
}

impl ControlReceiver {
    /// The next message, or `None` once the control thread dropped its sender.
    pub async fn recv(&mut self) -> Option<ControlMessage> {
        poll_fn(|cx| Pin::new(&mut self.0).poll_next(cx)).await
    }
}
