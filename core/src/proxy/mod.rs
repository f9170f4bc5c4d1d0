//! Forwarding one routed request to its upstream and streaming the response back.
//!
//! Steps: encode the upstream head (+ body bytes already received, in one write) → get a pooled or
//! new connection → send → stream the rest of the request body → read the response head → response
//! policies → encode the client head (+ body bytes already received) → stream the rest → return the
//! upstream connection to this core's pool when it sits at a clean message boundary.
//!
//! A request that fails on a reused pooled connection before any response byte arrived (the
//! upstream closed it while idle) is sent once more on a fresh connection, provided its whole body
//! was in the first write. Upstream faults become local replies (503 102503, 504 102504, 502) when
//! nothing has reached the client yet; after that the client connection is closed, never left with
//! a half response it could mistake for a whole one.
//!
//! Everything from getting the connection on is generic over the [`upstream::Transport`]: plain
//! TCP for `http://` endpoints, TLS for `https://` ones (a failed handshake is 503 102503 with a
//! description of the TLS failure, and the request is never sent).

mod body;
pub mod callout;
mod headers;
mod upstream;

pub use body::{BodyError, BodyPump, OutFraming};
use upstream::Transport;
pub use upstream::UpstreamFailure;

use turnpike_http::h1::{RequestBody, ResponseBody, Version};
use turnpike_policy::{HeaderList, Policy, RequestContext, ResponseView, Verdict};

use crate::client_ip;
use crate::conn::io::{self, IoFailure};
use crate::conn::{ClientConn, ClientStream};
use crate::counters::bump;
use crate::exchange::respond_locally;
use crate::local_reply::LocalReply;
use crate::runtime::TcpStream;
use crate::snapshot::{Endpoint, Route, Snapshot};
use crate::tls::client::TlsStream;
use crate::upstream::UpstreamConn;
use crate::worker::Worker;

use headers::{
    encode_request, encode_response, ClientBody, ClientResponse, UpstreamBody, UpstreamRequest,
};

static CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How streaming the request body ended badly.
enum StreamFailure {
    /// The client went away or sent a broken body: nothing sensible can be answered.
    Client,
    /// The upstream failed while receiving the body.
    Upstream(UpstreamFailure),
}

/// Proxies the request in `conn` to `endpoint`; returns whether the client connection stays open.
pub async fn forward<C: ClientStream>(
    worker: &Worker,
    snap: &Snapshot,
    conn: &mut ClientConn<C>,
    route: &Route,
    endpoint: &Endpoint,
    base_len: usize,
    ctx: &mut RequestContext,
) -> bool {
    let settings = &snap.settings;

    let (mut request_body, upstream_body) = match conn.head.body {
        RequestBody::None => (BodyPump::none(), UpstreamBody::None),
        RequestBody::Length(n) => (BodyPump::length(n, OutFraming::Raw), UpstreamBody::Length(n)),
        RequestBody::Chunked => {
            (BodyPump::chunked(&settings.limits, OutFraming::Chunked), UpstreamBody::Chunked)
        }
    };

    conn.wbuf.clear();
    {
        let buf = &conn.rbuf;
        let head = &conn.head;
        let path = head.path.get(buf);
        let up = UpstreamRequest {
            target_path: endpoint.base_path.as_bytes(),
            target_remainder: path.get(base_len..).unwrap_or_default(),
            query: head.query.map(|q| q.get(buf)),
            authority: endpoint.authority.as_bytes(),
            peer_ip: conn.peer_ip_text.as_bytes(),
            keep_forwarded_chain: client_ip::keeps_chain(conn.peer.ip(), &settings.trusted_proxies),
            request_id: &conn.request_id,
            via: settings.via.as_deref(),
            body: upstream_body,
            edits: &ctx.headers,
            rewrites: &ctx.rewrites,
        };
        encode_request(&mut conn.wbuf, head, buf, &up);
    }
    // Body bytes that arrived with the head travel in the same write; a broken body is refused
    // here, before anything reaches the upstream.
    let initial = conn.rbuf.get(conn.consumed..).unwrap_or_default();
    match request_body.pump(initial, &mut conn.wbuf) {
        Ok(used) => conn.consumed += used,
        Err(err) => return refuse_body(worker, conn, err, settings).await,
    }
    let whole_body_sent_first = request_body.is_done();
    match endpoint.tls {
        None => {
            exchange::<C, TcpStream>(
                worker,
                snap,
                conn,
                route,
                endpoint,
                request_body,
                ctx,
                whole_body_sent_first,
            )
            .await
        }
        Some(_) => {
            exchange::<C, TlsStream>(
                worker,
                snap,
                conn,
                route,
                endpoint,
                request_body,
                ctx,
                whole_body_sent_first,
            )
            .await
        }
    }
}

/// Sends the encoded request (and the rest of its body) over a connection of kind `S`, then
/// relays the response.
#[allow(clippy::too_many_arguments)]
async fn exchange<C: ClientStream, S: Transport>(
    worker: &Worker,
    snap: &Snapshot,
    conn: &mut ClientConn<C>,
    route: &Route,
    endpoint: &Endpoint,
    mut request_body: BodyPump,
    ctx: &mut RequestContext,
    whole_body_sent_first: bool,
) -> bool {
    let settings = &snap.settings;
    let timeouts = &settings.timeouts;
    let method = conn.head.method;
    let client_version = conn.head.version;
    let mut fresh = false;
    let up = loop {
        let mut up = match upstream::acquire::<S>(
            worker,
            endpoint,
            fresh,
            timeouts.upstream_connect,
            settings.pool.idle_timeout,
        )
        .await
        {
            Ok(up) => up,
            Err(failure) => {
                return upstream_failed(worker, conn, failure, &request_body, settings).await
            }
        };
        conn.deadline.arm(timeouts.upstream_response);
        match io::write_all(&mut up.stream, &mut conn.wbuf, &conn.deadline).await {
            Ok(()) => {}
            Err(IoFailure::Closed | IoFailure::Failed(_)) if up.reused && !fresh => {
                fresh = true;
                continue;
            }
            Err(IoFailure::TimedOut) => {
                return upstream_failed(
                    worker,
                    conn,
                    UpstreamFailure::TimedOut,
                    &request_body,
                    settings,
                )
                .await
            }
            Err(_) => {
                return upstream_failed(
                    worker,
                    conn,
                    UpstreamFailure::Unavailable,
                    &request_body,
                    settings,
                )
                .await
            }
        }
        if !request_body.is_done() {
            if conn.head.expect_continue && client_version == Version::Http11 {
                let mut cont = CONTINUE_100.to_vec();
                conn.deadline.arm(timeouts.client_io);
                if io::write_all(&mut conn.stream, &mut cont, &conn.deadline).await.is_err() {
                    return false;
                }
            }
            match stream_request_body(conn, &mut up, &mut request_body, settings).await {
                Ok(()) => {}
                Err(StreamFailure::Client) => return false,
                Err(StreamFailure::Upstream(failure)) => {
                    return upstream_failed(worker, conn, failure, &request_body, settings).await
                }
            }
        }
        conn.deadline.arm(timeouts.upstream_response);
        match upstream::read_response_head(
            &mut up,
            &mut conn.response,
            method,
            &settings.limits,
            &conn.deadline,
        )
        .await
        {
            Ok(()) => break up,
            Err(UpstreamFailure::StaleConnection) if whole_body_sent_first && !fresh => {
                // The whole request is still in `wbuf` (nothing was streamed after it): resend.
                fresh = true;
                continue;
            }
            Err(failure) => {
                return upstream_failed(worker, conn, failure, &request_body, settings).await
            }
        }
    };

    // Response phases of the route's policies.
    if !route.policies.is_empty() {
        let view = ResponseView {
            status: conn.response.status,
            headers: HeaderList::new(&up.rbuf, &conn.response.headers),
        };
        let denial =
            route.policies.iter().find_map(|policy| match policy.on_response_head(ctx, &view) {
                Verdict::Respond(denial) => Some(denial),
                Verdict::Continue | Verdict::Callout(_) => None,
            });
        if let Some(denial) = denial {
            return respond_locally(worker, conn, &LocalReply::Denied(&denial), settings).await;
        }
    }

    relay_response(worker, conn, up, endpoint, &request_body, client_version, ctx, settings).await
}

#[allow(clippy::too_many_arguments)]
async fn relay_response<C: ClientStream, S: Transport>(
    worker: &Worker,
    conn: &mut ClientConn<C>,
    mut up: UpstreamConn<S>,
    endpoint: &Endpoint,
    request_body: &BodyPump,
    client_version: Version,
    ctx: &RequestContext,
    settings: &crate::config::Settings,
) -> bool {
    let timeouts = &settings.timeouts;
    let chunked_to_client = client_version == Version::Http11;
    let (client_body, mut pump) = match conn.response.body {
        ResponseBody::None => (ClientBody::None, BodyPump::none()),
        ResponseBody::Length(n) => (ClientBody::Length(n), BodyPump::length(n, OutFraming::Raw)),
        ResponseBody::Chunked if chunked_to_client => {
            (ClientBody::Chunked, BodyPump::chunked(&settings.limits, OutFraming::Chunked))
        }
        ResponseBody::Chunked => {
            (ClientBody::UntilClose, BodyPump::chunked(&settings.limits, OutFraming::Raw))
        }
        ResponseBody::CloseDelimited if chunked_to_client => {
            (ClientBody::Chunked, BodyPump::until_close(OutFraming::Chunked))
        }
        ResponseBody::CloseDelimited => {
            (ClientBody::UntilClose, BodyPump::until_close(OutFraming::Raw))
        }
    };
    let upstream_closes =
        conn.response.body == ResponseBody::CloseDelimited || !conn.response.keep_alive;
    let keep_alive = conn.head.keep_alive
        && client_body != ClientBody::UntilClose
        && request_body.is_done()
        && !worker.shutdown.is_raised();

    conn.wbuf.clear();
    encode_response(
        &mut conn.wbuf,
        &conn.response,
        &up.rbuf,
        &ClientResponse {
            version: client_version,
            body: client_body,
            keep_alive,
            request_id: &conn.request_id,
            via: settings.via.as_deref(),
            edits: &ctx.headers,
        },
    );
    let mut start = conn.response.head_len.min(up.rbuf.len());
    loop {
        let available = up.rbuf.get(start..).unwrap_or_default();
        match pump.pump(available, &mut conn.wbuf) {
            Ok(used) => start += used,
            Err(err) => {
                tracing::debug!(?err, "invalid upstream response body");
                bump(&worker.counters.upstream_errors);
                // Whatever reached the client is cut short: closing tells it so.
                conn.deadline.arm(timeouts.client_io);
                let _ = io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await;
                return false;
            }
        }
        up.rbuf.drain(..start.min(up.rbuf.len()));
        start = 0;
        conn.deadline.arm(timeouts.client_io);
        if io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await.is_err() {
            return false;
        }
        conn.wbuf.clear();
        if pump.is_done() {
            break;
        }
        conn.deadline.arm(timeouts.upstream_response);
        match io::read_more(&mut up.stream, &mut up.rbuf, &conn.deadline).await {
            Ok(_) => {}
            Err(IoFailure::Closed) => {
                if pump.on_eof(&mut conn.wbuf).is_err() {
                    bump(&worker.counters.upstream_errors);
                    return false;
                }
                conn.deadline.arm(timeouts.client_io);
                if io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await.is_err() {
                    return false;
                }
                conn.wbuf.clear();
                bump(&worker.counters.proxied);
                return keep_alive;
            }
            Err(_) => {
                bump(&worker.counters.upstream_errors);
                return false;
            }
        }
    }
    bump(&worker.counters.proxied);
    if !upstream_closes && up.rbuf.is_empty() && request_body.is_done() {
        let settings_pool = &settings.pool;
        S::pool(worker).borrow_mut().put(
            S::key(endpoint),
            up,
            worker.clock.now(),
            settings_pool.max_idle_per_endpoint,
        );
    }
    keep_alive
}

async fn stream_request_body<C: ClientStream, S: Transport>(
    conn: &mut ClientConn<C>,
    up: &mut UpstreamConn<S>,
    pump: &mut BodyPump,
    settings: &crate::config::Settings,
) -> Result<(), StreamFailure> {
    let timeouts = &settings.timeouts;
    while !pump.is_done() {
        let consumed = conn.consumed.min(conn.rbuf.len());
        conn.rbuf.drain(..consumed);
        conn.consumed = 0;
        conn.deadline.arm(timeouts.client_io);
        match io::read_more(&mut conn.stream, &mut conn.rbuf, &conn.deadline).await {
            Ok(_) => {}
            Err(_) => return Err(StreamFailure::Client),
        }
        conn.wbuf.clear();
        match pump.pump(&conn.rbuf, &mut conn.wbuf) {
            Ok(used) => conn.consumed = used,
            Err(_) => return Err(StreamFailure::Client),
        }
        conn.deadline.arm(timeouts.upstream_response);
        match io::write_all(&mut up.stream, &mut conn.wbuf, &conn.deadline).await {
            Ok(()) => {}
            Err(IoFailure::TimedOut) => {
                return Err(StreamFailure::Upstream(UpstreamFailure::TimedOut))
            }
            Err(_) => return Err(StreamFailure::Upstream(UpstreamFailure::Unavailable)),
        }
    }
    Ok(())
}

async fn refuse_body<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    err: BodyError,
    settings: &crate::config::Settings,
) -> bool {
    let reply = match err {
        BodyError::Framing(e) => LocalReply::Malformed(e),
        BodyError::Truncated => return false,
    };
    // Where the next request would start is unknown: answer and close.
    conn.head.keep_alive = false;
    respond_locally(worker, conn, &reply, settings).await;
    false
}

async fn upstream_failed<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    failure: UpstreamFailure,
    request_body: &BodyPump,
    settings: &crate::config::Settings,
) -> bool {
    bump(&worker.counters.upstream_errors);
    let reply = match failure {
        UpstreamFailure::TimedOut => LocalReply::UpstreamTimeout,
        UpstreamFailure::Invalid => LocalReply::UpstreamInvalidResponse,
        UpstreamFailure::Unavailable | UpstreamFailure::StaleConnection => {
            LocalReply::UpstreamUnavailable
        }
        UpstreamFailure::Tls(failure) => LocalReply::UpstreamTls(failure),
    };
    if !request_body.is_done() {
        // The rest of the body is still on the wire: the connection cannot carry another request.
        conn.head.keep_alive = false;
    }
    respond_locally(worker, conn, &reply, settings).await
}
