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
use std::time::Instant;

use turnpike_http::h1::{parse_request, Parsed, Version};

use crate::config::Settings;
use crate::conn::io::{self, IoFailure};
use crate::conn::ClientConn;
use crate::counters::bump;
use crate::local_reply::LocalReply;
use crate::runtime::{self, TcpStream};
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
pub async fn serve(
    worker: Rc<Worker>,
    stream: TcpStream,
    peer: SocketAddr,
    _guard: ConnectionGuard,
) {
    let mut conn = ClientConn::new(stream, peer);
    let mut first = true;
    loop {
        let table = worker.table();
        match wait_for_head(&worker, &mut conn, &table.settings, first).await {
            HeadWait::Ready => {}
            HeadWait::Closed => return,
            HeadWait::Refused(reply) => {
                bump(&worker.counters.requests);
                send_reply_and_close(&worker, &mut conn, &reply, &table.settings).await;
                return;
            }
        }
        first = false;
        let keep_alive = crate::exchange::run(&worker, &table, &mut conn).await;
        if !keep_alive || worker.shutdown.is_raised() {
            return;
        }
        conn.finish_request();
    }
}

async fn wait_for_head(
    worker: &Worker,
    conn: &mut ClientConn,
    settings: &Settings,
    first: bool,
) -> HeadWait {
    let timeouts = &settings.timeouts;
    let mut deadline =
        (first || !conn.rbuf.is_empty()).then(|| Instant::now() + timeouts.request_head);
    loop {
        if !conn.rbuf.is_empty() {
            match parse_request(&conn.rbuf, &settings.limits, &mut conn.head) {
                Ok(Parsed::Complete) => {
                    conn.consumed = conn.head.head_len;
                    return HeadWait::Ready;
                }
                Ok(Parsed::Partial) => {}
                Err(err) => return HeadWait::Refused(LocalReply::Malformed(err)),
            }
        }
        let read = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                io::read_more(&mut conn.stream, &mut conn.rbuf, left).await
            }
            None => {
                // Idle between requests: the next head may never come, and shutdown ends the wait.
                if worker.shutdown.is_raised() {
                    return HeadWait::Closed;
                }
                let idle = timeouts.keepalive_idle;
                runtime::select! {
                    () = worker.shutdown.wait() => return HeadWait::Closed,
                    read = io::read_more(&mut conn.stream, &mut conn.rbuf, idle) => read,
                }
            }
        };
        match read {
            Ok(_) => {
                if deadline.is_none() {
                    deadline = Some(Instant::now() + timeouts.request_head);
                }
            }
            Err(IoFailure::TimedOut) if !conn.rbuf.is_empty() => {
                return HeadWait::Refused(LocalReply::RequestTimeout);
            }
            Err(_) => return HeadWait::Closed,
        }
    }
}

/// Writes a local reply that ends the connection.
pub async fn send_reply_and_close(
    worker: &Worker,
    conn: &mut ClientConn,
    reply: &LocalReply<'_>,
    settings: &Settings,
) {
    bump(&worker.counters.local_replies);
    conn.wbuf.clear();
    let version =
        if conn.head.version == Version::Http10 { Version::Http10 } else { Version::Http11 };
    reply.write(&mut conn.wbuf, version, true, None);
    let _ = io::write_all(&mut conn.stream, &mut conn.wbuf, settings.timeouts.client_io).await;
}
