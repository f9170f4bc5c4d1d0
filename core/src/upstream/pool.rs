//! Per-core keep-alive pool: idle upstream connections per endpoint address, reused most recent
//! first (the warmest connection), bounded in number and age.
//!
//! A connection is returned to the pool only when its last response was fully read and framed
//! (not close-delimited, no `Connection: close`), so a pooled connection is at a message boundary.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

use crate::runtime::TcpStream;

/// An upstream connection with its read buffer (kept to avoid reallocating per request).
#[derive(Debug)]
pub struct UpstreamConn {
    pub stream: TcpStream,
    pub rbuf: Vec<u8>,
    /// Whether this connection already carried a request (failures on it may be retried).
    pub reused: bool,
}

#[derive(Debug)]
struct Idle {
    conn: UpstreamConn,
    since: Instant,
}

/// Idle connections per endpoint.
#[derive(Debug, Default)]
pub struct Pool {
    idle: HashMap<SocketAddr, Vec<Idle>, RandomState>,
}

impl Pool {
    /// An idle connection to `addr` younger than `idle_timeout`, if any (older ones are closed).
    pub fn take(
        &mut self,
        addr: SocketAddr,
        now: Instant,
        idle_timeout: Duration,
    ) -> Option<UpstreamConn> {
        let list = self.idle.get_mut(&addr)?;
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

    /// Keeps `conn` for reuse unless `max_idle` connections to `addr` are already idle.
    pub fn put(&mut self, addr: SocketAddr, mut conn: UpstreamConn, now: Instant, max_idle: usize) {
        if max_idle == 0 {
            return;
        }
        conn.rbuf.clear();
        let list = self.idle.entry(addr).or_default();
        if list.len() >= max_idle {
            // Drop the oldest: the newest are the likeliest to still be open.
            if !list.is_empty() {
                list.remove(0);
            }
        }
        list.push(Idle { conn, since: now });
    }

    /// Number of idle connections to `addr`.
    pub fn idle_count(&self, addr: SocketAddr) -> usize {
        self.idle.get(&addr).map_or(0, Vec::len)
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
