//! The HTTP/1.1 client connection loop: read a request head, hand the request to
//! [`crate::exchange::run`], repeat while the connection stays alive (keep-alive and pipelining,
//! RFC 9112 §9.3), stop on shutdown between requests.
//!
//! Deadlines: the first head (and any head once its first byte has arrived) must be complete within
//! `request_head`; an idle keep-alive connection waits at most `keepalive_idle` for the next one.
//! A malformed head gets its error reply and the connection closes (RFC 9112 §11.2 advises
//! closing after a framing error, since where the next message starts is unknown).

use std::net::SocketAddr;
use std::rc::Rc;

use turnpike_http::h1::{parse_request, Parsed, Version};

use crate::config::Settings;
use crate::conn::io::{self, IoFailure};
use crate::conn::{ClientConn, ClientStream};
use crate::counters::bump;
use crate::local_reply::LocalReply;
use crate::worker::{ConnectionGuard, Worker};

/// What waiting for a request head gave.
enum HeadWait {
    /// A complete head is in `conn.head`.
    Ready,
    /// The connection is over (peer closed, idle timeout, shutdown).
    Closed,
    /// The head is unacceptable: reply and close.
    Refused(LocalReply<'static>),
}

/// Serves one client connection until it closes.
///
/// Generic over the stream: plain TCP, or a TLS session whose handshake is done (`conn::tls`).
pub async fn serve<S: ClientStream>(
    worker: Rc<Worker>,
    stream: S,
    peer: SocketAddr,
    _guard: ConnectionGuard,
) {
    let mut conn = ClientConn::new(stream, peer, worker.deadlines.register());
    let mut first = true;
    loop {
        // Timeouts of the wait come from the snapshot served when it begins ...
        let waiting = worker.table();
        match wait_for_head(&worker, &mut conn, &waiting.settings, first).await {
            HeadWait::Ready => {}
            HeadWait::Closed => return,
            HeadWait::Refused(reply) => {
                bump(&worker.counters.requests);
                send_reply_and_close(&worker, &mut conn, &reply, &waiting.settings).await;
                return;
            }
        }
        drop(waiting);
        first = false;
        // ... but the request is served by the one current once its head is complete: a
        // snapshot published while a keep-alive connection idled (a revocation, an undeploy)
        // applies to the connection's next request.
        let table = worker.table();
        let keep_alive = crate::exchange::run(&worker, &table, &mut conn).await;
        if !keep_alive || worker.shutdown.is_raised() {
            return;
        }
        conn.finish_request();
    }
}

async fn wait_for_head<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    settings: &Settings,
    first: bool,
) -> HeadWait {
    let timeouts = &settings.timeouts;
    // A head already begun (or the first one) must be complete within `request_head`; an idle
    // connection waits `keepalive_idle` for the next one, and is woken early by shutdown.
    let mut waiting_idle = !first && conn.rbuf.is_empty();
    if waiting_idle {
        if worker.shutdown.is_raised() {
            return HeadWait::Closed;
        }
        conn.deadline.arm(timeouts.keepalive_idle);
        conn.deadline.set_idle(true);
    } else {
        conn.deadline.arm(timeouts.request_head);
    }
    loop {
        if !conn.rbuf.is_empty() {
            match parse_request(&conn.rbuf, &settings.limits, &mut conn.head) {
                Ok(Parsed::Complete) => {
                    conn.consumed = conn.head.head_len;
                    conn.deadline.disarm();
                    return HeadWait::Ready;
                }
                Ok(Parsed::Partial) => {}
                Err(err) => return HeadWait::Refused(LocalReply::Malformed(err)),
            }
        }
        let read = io::read_more(&mut conn.stream, &mut conn.rbuf, &conn.deadline).await;
        if waiting_idle {
            // The first bytes of the next head: from now on it is a head read.
            waiting_idle = false;
            conn.deadline.set_idle(false);
            conn.deadline.arm(timeouts.request_head);
        }
        match read {
            Ok(_) => {}
            Err(IoFailure::TimedOut) if !conn.rbuf.is_empty() => {
                return HeadWait::Refused(LocalReply::RequestTimeout);
            }
            Err(_) => return HeadWait::Closed,
        }
    }
}

/// Writes a local reply that ends the connection.
pub async fn send_reply_and_close<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    reply: &LocalReply<'_>,
    settings: &Settings,
) {
    bump(&worker.counters.local_replies);
    conn.wbuf.clear();
    let version =
        if conn.head.version == Version::Http10 { Version::Http10 } else { Version::Http11 };
    reply.write(&mut conn.wbuf, version, true, None);
    conn.deadline.arm(settings.timeouts.client_io);
    let _ = io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await;
}
