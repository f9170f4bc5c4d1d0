//! Getting an upstream connection (from this core's pool, or a new one within the connect timeout)
//! and reading an upstream response head within the response timeout, skipping interim (1xx)
//! responses.

use std::time::Duration;

use turnpike_http::h1::{parse_response, Method, Parsed, ResponseHead};
use turnpike_http::Limits;

use crate::conn::io::{self, IoFailure};
use crate::counters::bump;
use crate::deadline::Deadline;
use crate::runtime;
use crate::snapshot::Endpoint;
use crate::upstream::UpstreamConn;
use crate::worker::Worker;

/// Initial read-buffer capacity of an upstream connection.
const UPSTREAM_BUF: usize = 16 * 1024;

/// Why the upstream could not serve the request.
#[derive(Debug)]
pub enum UpstreamFailure {
    /// Connection refused, reset, or closed before a response.
    Unavailable,
    /// No connection or no response within the deadline.
    TimedOut,
    /// The response is not valid HTTP/1.1.
    Invalid,
    /// A reused connection was closed before anything came back: the request may be sent again.
    StaleConnection,
}

/// A pooled connection to `endpoint` if one is idle (and `fresh` is false), else a new one.
pub async fn acquire(
    worker: &Worker,
    endpoint: &Endpoint,
    fresh: bool,
    connect_limit: Duration,
    idle_timeout: Duration,
) -> Result<UpstreamConn, UpstreamFailure> {
    if !fresh {
        let pooled = worker.pool.borrow_mut().take(endpoint.addr, worker.clock.now(), idle_timeout);
        if let Some(conn) = pooled {
            bump(&worker.counters.upstream_reuses);
            return Ok(conn);
        }
    }
    match runtime::connect(endpoint.addr, connect_limit).await {
        Ok(Some(stream)) => {
            bump(&worker.counters.upstream_connects);
            Ok(UpstreamConn { stream, rbuf: Vec::with_capacity(UPSTREAM_BUF), reused: false })
        }
        Ok(None) => {
            tracing::debug!(addr = %endpoint.addr, "upstream connect timed out");
            Err(UpstreamFailure::Unavailable)
        }
        Err(err) => {
            tracing::debug!(addr = %endpoint.addr, error = %err, "upstream connect failed");
            Err(UpstreamFailure::Unavailable)
        }
    }
}

/// Reads the final response head into `head` (spans into `up.rbuf`); interim 1xx responses other
/// than 101 are dropped (RFC 9110 §15.2: a client must be able to parse and ignore them).
pub async fn read_response_head(
    up: &mut UpstreamConn,
    head: &mut ResponseHead,
    method: Method,
    limits: &Limits,
    deadline: &Deadline,
) -> Result<(), UpstreamFailure> {
    loop {
        if !up.rbuf.is_empty() {
            match parse_response(&up.rbuf, limits, method, head) {
                Ok(Parsed::Complete) => {
                    if (100..200).contains(&head.status) && head.status != 101 {
                        let len = head.head_len.min(up.rbuf.len());
                        up.rbuf.drain(..len);
                        continue;
                    }
                    return Ok(());
                }
                Ok(Parsed::Partial) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "invalid upstream response");
                    return Err(UpstreamFailure::Invalid);
                }
            }
        }
        let nothing_yet = up.rbuf.is_empty();
        match io::read_more(&mut up.stream, &mut up.rbuf, deadline).await {
            Ok(_) => {}
            Err(IoFailure::TimedOut) => return Err(UpstreamFailure::TimedOut),
            Err(IoFailure::Closed | IoFailure::Failed(_)) if nothing_yet && up.reused => {
                return Err(UpstreamFailure::StaleConnection)
            }
            Err(IoFailure::Closed | IoFailure::Failed(_)) => {
                return Err(UpstreamFailure::Unavailable)
            }
        }
    }
}
