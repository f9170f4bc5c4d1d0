//! Per-core keep-alive pool: idle upstream connections per endpoint, reused most recent first (the
//! warmest connection), bounded in number and age.
//!
//! Generic over the stream and its key: plain `TcpStream`s are keyed by address; TLS streams by
//! address and client configuration (`tls::client::TlsPoolKey`), in a pool of their own, so the
//! plain path hashes exactly what it did before TLS existed.
//!
//! A connection is returned to the pool only when its last response was fully read and framed
//! (not close-delimited, no `Connection: close`), so a pooled connection is at a message boundary.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

use crate::runtime::TcpStream;

/// An upstream connection with its read buffer (kept to avoid reallocating per request).
#[derive(Debug)]
pub struct UpstreamConn<S = TcpStream> {
    pub stream: S,
    pub rbuf: Vec<u8>,
    /// Whether this connection already carried a request (failures on it may be retried).
    pub reused: bool,
}

#[derive(Debug)]
struct Idle<S> {
    conn: UpstreamConn<S>,
    since: Instant,
}

/// Idle connections per endpoint.
#[derive(Debug)]
pub struct Pool<S = TcpStream, K = SocketAddr> {
    idle: HashMap<K, Vec<Idle<S>>, RandomState>,
}

impl<S, K> Default for Pool<S, K> {
    fn default() -> Self {
        Self { idle: HashMap::default() }
    }
}

impl<S, K: Eq + Hash> Pool<S, K> {
    /// An idle connection under `key` younger than `idle_timeout`, if any (older ones are closed).
    pub fn take(
        &mut self,
        key: K,
        now: Instant,
        idle_timeout: Duration,
    ) -> Option<UpstreamConn<S>> {
        let list = self.idle.get_mut(&key)?;
        while let Some(idle) = list.pop() {
            if now.saturating_duration_since(idle.since) < idle_timeout {
                let mut conn = idle.conn;
                conn.reused = true;
                return Some(conn);
            }
            // Too old: the upstream may have closed it; drop it (and every older one below it).
            list.clear();
        }
        None
    }

    /// Keeps `conn` for reuse unless `max_idle` connections under `key` are already idle.
    pub fn put(&mut self, key: K, mut conn: UpstreamConn<S>, now: Instant, max_idle: usize) {
        if max_idle == 0 {
            return;
        }
        conn.rbuf.clear();
        let list = self.idle.entry(key).or_default();
        if list.len() >= max_idle {
            // Drop the oldest: the newest are the likeliest to still be open.
            if !list.is_empty() {
                list.remove(0);
            }
        }
        list.push(Idle { conn, since: now });
    }

    /// Number of idle connections under `key`.
    pub fn idle_count(&self, key: K) -> usize {
        self.idle.get(&key).map_or(0, Vec::len)
    }

    /// Closes idle connections older than `idle_timeout` (called periodically by the worker).
    pub fn evict_expired(&mut self, now: Instant, idle_timeout: Duration) {
        for list in self.idle.values_mut() {
            list.retain(|idle| now.saturating_duration_since(idle.since) < idle_timeout);
        }
        self.idle.retain(|_, list| !list.is_empty());
    }

    /// Closes every idle connection.
    pub fn clear(&mut self) {
        self.idle.clear();
    }
}
