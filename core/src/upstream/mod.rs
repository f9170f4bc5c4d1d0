//! Upstream side of the data plane, per core: the keep-alive connection pool, endpoint choice
//! (round-robin), and the connection type that carries its own read buffer.
//!
//! Owned by one worker; keyed by endpoint address and stable cluster id, so it survives snapshot
//! swaps. No I/O happens here except closing connections; connecting lives in `proxy::upstream`.

mod balance;
mod pool;

pub use balance::Balancer;
pub use pool::{Pool, UpstreamConn};
