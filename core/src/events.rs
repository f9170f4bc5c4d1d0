//! Core-to-control events: what a core noticed on the request path that the control thread must
//! act on, e.g. a token signed with a key its issuer's JWKS lacks (the control thread refetches
//! the JWKS, rate-limited per issuer, and publishes the new keys in a snapshot).
//!
//! Sent with a non-blocking `std::sync::mpsc` send, only on rare paths (each core already
//! reports a given issuer's kid misses at most once per interval), never per request.

use std::sync::mpsc;

/// An event from a core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreEvent {
    /// A token named a `kid` that the issuer's key set lacks.
    KidMiss {
        /// Issuer name from configuration.
        issuer: String,
    },
}

/// Sending half, one clone per core.
pub type EventSender = mpsc::Sender<CoreEvent>;

/// Receiving half, on the control thread.
pub type EventReceiver = mpsc::Receiver<CoreEvent>;

/// A new channel.
pub fn channel() -> (EventSender, EventReceiver) {
    mpsc::channel()
}
