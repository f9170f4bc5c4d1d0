//! Getting an upstream connection (from this core's pool, or a new one within the connect timeout)
//! and reading an upstream response head within the response timeout, skipping interim (1xx)
//! responses.
//!
//! Plain and TLS connections are two [`Transport`]s: the proxy picks one per endpoint (by whether
//! it has TLS) and runs the same generic code over it, so a plain request does no TLS work and
//! carries no TLS state, and a TLS one differs only in how a new connection is opened (TCP, then
//! the handshake in `tls::client`) and in the pool it is kept in.

use std::cell::RefCell;
use std::hash::Hash;
use std::time::Duration;

use turnpike_http::h1::{parse_response, Method, Parsed, ResponseHead};
use turnpike_http::Limits;

use crate::conn::io::{self, IoFailure};
use crate::counters::bump;
use crate::deadline::Deadline;
use crate::runtime::{self, AsyncReadRent, AsyncWriteRent, TcpStream};
use crate::snapshot::Endpoint;
use crate::tls::client::{self as tls, TlsFailure, TlsPoolKey, TlsStream};
use crate::upstream::{Pool, UpstreamConn};
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
    /// The TLS handshake failed (the request was never sent).
    Tls(TlsFailure),
}

/// How connections to an endpoint are opened and pooled: plain TCP or TLS over it.
pub(crate) trait Transport: AsyncReadRent + AsyncWriteRent + Sized {
    /// What idle connections are found by.
    type Key: Copy + Eq + Hash;
    /// The pool key of `endpoint`'s connections.
    fn key(endpoint: &Endpoint) -> Self::Key;
    /// This core's pool of idle connections of this kind.
    fn pool(worker: &Worker) -> &RefCell<Pool<Self, Self::Key>>;
    /// Turns a fresh TCP connection to `endpoint` into one of this kind.
    async fn open(
        worker: &Worker,
        endpoint: &Endpoint,
        tcp: TcpStream,
        limit: Duration,
    ) -> Result<Self, UpstreamFailure>;
}

impl Transport for TcpStream {
    type Key = std::net::SocketAddr;

    #[inline]
    fn key(endpoint: &Endpoint) -> Self::Key {
        endpoint.addr
    }

    #[inline]
    fn pool(worker: &Worker) -> &RefCell<Pool<Self, Self::Key>> {
        &worker.pool
    }

    #[inline]
    async fn open(
        _: &Worker,
        _: &Endpoint,
        tcp: TcpStream,
        _: Duration,
    ) -> Result<Self, UpstreamFailure> {
        Ok(tcp)
    }
}

impl Transport for TlsStream {
    type Key = TlsPoolKey;

    fn key(endpoint: &Endpoint) -> Self::Key {
        let client = endpoint.tls.as_ref().map_or(tls::TlsClientId(0), tls::EndpointTls::client_id);
        TlsPoolKey { addr: endpoint.addr, client }
    }

    fn pool(worker: &Worker) -> &RefCell<Pool<Self, Self::Key>> {
        &worker.tls_pool
    }

    async fn open(
        worker: &Worker,
        endpoint: &Endpoint,
        tcp: TcpStream,
        limit: Duration,
    ) -> Result<Self, UpstreamFailure> {
        let Some((target, client)) =
            endpoint.tls.as_ref().and_then(|t| t.client.as_ref().map(|c| (t, c)))
        else {
            tracing::warn!(addr = %endpoint.addr, "https endpoint without a TLS configuration");
            return Err(UpstreamFailure::Tls(TlsFailure::NotConfigured));
        };
        let config = worker.tls_clients.borrow_mut().config(client);
        match tls::handshake(config, target.server_name.clone(), tcp, limit).await {
            Ok(stream) => Ok(stream),
            Err((failure, error)) => {
                let error = error.map(|e| e.to_string()).unwrap_or_else(|| "timed out".to_owned());
                tracing::warn!(
                    addr = %endpoint.addr,
                    server_name = ?target.server_name,
                    ?failure,
                    %error,
                    "upstream TLS handshake failed; request not sent"
                );
                Err(UpstreamFailure::Tls(failure))
            }
        }
    }
}

/// A pooled connection to `endpoint` if one is idle (and `fresh` is false), else a new one.
pub(crate) async fn acquire<S: Transport>(
    worker: &Worker,
    endpoint: &Endpoint,
    fresh: bool,
    connect_limit: Duration,
    idle_timeout: Duration,
) -> Result<UpstreamConn<S>, UpstreamFailure> {
    if !fresh {
        let pooled =
            S::pool(worker).borrow_mut().take(S::key(endpoint), worker.clock.now(), idle_timeout);
        if let Some(conn) = pooled {
            bump(&worker.counters.upstream_reuses);
            return Ok(conn);
        }
    }
    match runtime::connect(endpoint.addr, connect_limit).await {
        Ok(Some(tcp)) => {
            bump(&worker.counters.upstream_connects);
            let stream = S::open(worker, endpoint, tcp, connect_limit).await?;
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
pub async fn read_response_head<S: AsyncReadRent>(
    up: &mut UpstreamConn<S>,
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
            // A TLS alert instead of a response: the backend refused the session after the
            // handshake (TLS 1.3 client certificate checks end here); never retried.
            Err(IoFailure::Failed(err)) if is_tls_error(&err) => {
                let failure = TlsFailure::classify(&err);
                tracing::warn!(?failure, error = %err, "upstream TLS session refused; no response");
                return Err(UpstreamFailure::Tls(failure));
            }
            Err(IoFailure::Closed | IoFailure::Failed(_)) if nothing_yet && up.reused => {
                return Err(UpstreamFailure::StaleConnection)
            }
            Err(IoFailure::Closed | IoFailure::Failed(_)) => {
                return Err(UpstreamFailure::Unavailable)
            }
        }
    }
}

/// Whether `err` carries a rustls error (as TLS streams report them).
fn is_tls_error(err: &std::io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<rustls::Error>())
}
