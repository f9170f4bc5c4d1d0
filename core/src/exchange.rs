//! The one function that orders what happens to a request, top to bottom:
//! (`/.wellknown/jwks` when the backend JWT is on) → route → policy phases (authenticate, authorize, rate limit, validate, mediate: the route's
//! policy chain, in order) → upstream → response phases (in `proxy`).
//!
//! Every denial or error becomes a response through [`respond_locally`] and the `local_reply`
//! catalogue; nothing else in `core` writes error responses.

use turnpike_http::h1::{RequestBody, Version};
use turnpike_policy::{
    CalloutOutcome, CalloutResponse, Denial, HeaderList, Policy, RequestContext, RequestView,
    Verdict,
};

use crate::client_certificate;
use crate::client_ip;
use crate::config::Settings;
use crate::conn::io;
use crate::conn::{ClientConn, ClientStream};
use crate::counters::bump;
use crate::local_reply::LocalReply;
use crate::mock;
use crate::proxy::callout;
use crate::request_id;
use crate::router::Lookup;
use crate::snapshot::{MockResponses, Route, RouteAction, Snapshot};
use crate::well_known;
use crate::worker::Worker;

/// Serves the request whose head is in `conn`; returns whether the connection stays open.
pub async fn run<S: ClientStream>(
    worker: &Worker,
    snap: &Snapshot,
    conn: &mut ClientConn<S>,
) -> bool {
    // The connection's context is lent to this request and handed back for the next one.
    let mut ctx = std::mem::take(&mut conn.context);
    let keep_alive = serve(worker, snap, conn, &mut ctx).await;
    ctx.caller = None; // not kept alive (nor its token cache entry) while the connection idles
    conn.context = ctx;
    keep_alive
}

async fn serve<S: ClientStream>(
    worker: &Worker,
    snap: &Snapshot,
    conn: &mut ClientConn<S>,
    ctx: &mut RequestContext,
) -> bool {
    bump(&worker.counters.requests);
    let settings = &snap.settings;
    assign_request_id(worker, conn);

    // The backend JWT's key set, before routing: it wins over an API on the same path, but only
    // while the backend JWT is enabled.
    if let Some(jwt) = &snap.security.backend_jwt {
        if conn.head.path.get(&conn.rbuf) == well_known::JWKS_PATH {
            return answer_jwks(worker, conn, jwt.jwks(), settings).await;
        }
    }

    // Route.
    let lookup = {
        let buf = &conn.rbuf;
        let head = &conn.head;
        snap.router.lookup(
            head.host.map(|h| h.get(buf)),
            head.method_span.get(buf),
            head.path.get(buf),
            &mut conn.params,
        )
    };
    let route_index = match lookup {
        Lookup::Matched(route) => route,
        Lookup::MethodNotAllowed { allow } => {
            return respond_locally(worker, conn, &LocalReply::MethodNotAllowed { allow }, settings)
                .await
        }
        Lookup::NotFound => {
            return respond_locally(worker, conn, &LocalReply::NotFound, settings).await
        }
    };
    let Some(route) = snap.route(route_index) else {
        return respond_locally(worker, conn, &LocalReply::NotFound, settings).await;
    };
    if route.action == RouteAction::Blocked {
        return respond_locally(worker, conn, &LocalReply::ApiBlocked, settings).await;
    }
    if let (Some(max), RequestBody::Length(len)) = (settings.max_request_body, conn.head.body) {
        if len > max {
            return respond_locally(worker, conn, &LocalReply::PayloadTooLarge, settings).await;
        }
    }

    // Policy phases, in chain order.
    // The received X-Forwarded-For only matters behind a trusted proxy: no header scan otherwise.
    let forwarded_for = if settings.trusted_proxies.is_empty() {
        None
    } else {
        conn.head.header(&conn.rbuf, "x-forwarded-for")
    };
    let client_ip = client_ip::resolve(conn.peer.ip(), forwarded_for, &settings.trusted_proxies);
    ctx.reset(client_ip);
    if let Some(name) = &settings.client_certificate_header {
        client_certificate::forward(ctx, name, conn.stream.peer_certificate());
    }
    if !route.policies.is_empty() {
        let denial = request_phases(worker, snap, conn, route, ctx).await;
        if worker.policy_state.borrow().auth.has_kid_misses() {
            worker.report_kid_misses();
        }
        if let Some(denial) = denial {
            if let Denial::Auth(auth) = &denial {
                tracing::debug!(detail = auth.detail, code = auth.failure.code(), "request denied");
            }
            return respond_locally(worker, conn, &LocalReply::Denied(&denial), settings).await;
        }
    }

    if let RouteAction::Mock(mocks) = &route.action {
        return answer_from_examples(worker, conn, mocks, settings).await;
    }

    // Upstream: the sandbox cluster for sandbox keys where the route has one.
    let cluster_index = match (ctx.key_type, route.sandbox) {
        (turnpike_policy::KeyType::Sandbox, Some(sandbox)) => sandbox,
        _ => route.production,
    };
    let endpoint = snap.cluster(cluster_index).and_then(|c| worker.balancer.borrow_mut().pick(c));
    let Some(endpoint) = endpoint else {
        return respond_locally(worker, conn, &LocalReply::UpstreamUnavailable, settings).await;
    };
    let base_len = snap.router.base_path_len(route_index);
    crate::proxy::forward(worker, snap, conn, route, endpoint, base_len, ctx).await
}

/// Most callouts one policy may ask for on one request (a loop guard).
const MAX_CALLOUTS_PER_POLICY: usize = 4;

/// Runs `on_request_head` of every policy of the route, in order, carrying out the callouts they
/// ask for; returns the first denial.
async fn request_phases<S: ClientStream>(
    worker: &Worker,
    snap: &Snapshot,
    conn: &ClientConn<S>,
    route: &Route,
    ctx: &mut RequestContext,
) -> Option<Denial> {
    let buf = &conn.rbuf;
    let head = &conn.head;
    let view = RequestView {
        method: head.method_span.get(buf),
        path: head.path.get(buf),
        query: head.query.map(|q| q.get(buf)),
        headers: HeaderList::new(buf, &head.headers),
        peer_certificate: conn.stream.peer_certificate(),
    };
    worker.policy_state.borrow_mut().tick();
    for policy in &route.policies {
        let mut verdict = policy.on_request_head(ctx, &view, &mut worker.policy_state.borrow_mut());
        let mut callouts = 0;
        while let Verdict::Callout(call) = verdict {
            callouts += 1;
            if callouts > MAX_CALLOUTS_PER_POLICY {
                return Some(Denial::Forbidden {
                    reason: "policy asked for too many callouts".into(),
                });
            }
            verdict = match callout::perform(worker, snap, &conn.deadline, &call).await {
                Ok(reply) => {
                    let headers: Vec<(&[u8], &[u8])> = reply
                        .head
                        .headers
                        .iter()
                        .map(|h| (h.name.get(&reply.raw), h.value.get(&reply.raw)))
                        .collect();
                    let response = CalloutResponse {
                        status: reply.head.status,
                        headers: &headers,
                        body: &reply.body,
                    };
                    let mut state = worker.policy_state.borrow_mut();
                    state.tick();
                    policy.on_callout_result(ctx, &CalloutOutcome::Response(response), &mut state)
                }
                Err(failure) => {
                    tracing::debug!(?failure, "policy callout failed");
                    bump(&worker.counters.upstream_errors);
                    let mut state = worker.policy_state.borrow_mut();
                    state.tick();
                    policy.on_callout_result(ctx, &CalloutOutcome::Failed, &mut state)
                }
            };
        }
        if let Verdict::Respond(denial) = verdict {
            return Some(denial);
        }
    }
    None
}

/// Answers a mocked route from its examples.
async fn answer_from_examples<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    mocks: &MockResponses,
    settings: &Settings,
) -> bool {
    let chosen = {
        let buf = &conn.rbuf;
        mock::choose(mocks, conn.head.header(buf, "prefer"), conn.head.header(buf, "accept"))
    };
    let Some(example) = chosen else {
        return respond_locally(worker, conn, &LocalReply::NoMockExample, settings).await;
    };
    let keep_alive =
        conn.head.keep_alive && conn.head.body == RequestBody::None && !worker.shutdown.is_raised();
    let version =
        if conn.head.version == Version::Http10 { Version::Http10 } else { Version::Http11 };
    conn.wbuf.clear();
    mock::write(&mut conn.wbuf, example, conn.head.method, version, keep_alive, &conn.request_id);
    conn.deadline.arm(settings.timeouts.client_io);
    let written = io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await;
    keep_alive && written.is_ok()
}

/// Answers `/.wellknown/jwks` (GET, HEAD) with the snapshot's precomputed key set.
async fn answer_jwks<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    jwks: &[u8],
    settings: &Settings,
) -> bool {
    if !well_known::allowed(conn.head.method) {
        let reply = LocalReply::MethodNotAllowed { allow: well_known::ALLOW };
        return respond_locally(worker, conn, &reply, settings).await;
    }
    let keep_alive =
        conn.head.keep_alive && conn.head.body == RequestBody::None && !worker.shutdown.is_raised();
    let version =
        if conn.head.version == Version::Http10 { Version::Http10 } else { Version::Http11 };
    conn.wbuf.clear();
    well_known::write(
        &mut conn.wbuf,
        jwks,
        conn.head.method,
        version,
        keep_alive,
        &conn.request_id,
    );
    conn.deadline.arm(settings.timeouts.client_io);
    let written = io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await;
    keep_alive && written.is_ok()
}

/// Keeps the client's `x-request-id` when it is sane, otherwise generates one.
fn assign_request_id<S: ClientStream>(worker: &Worker, conn: &mut ClientConn<S>) {
    conn.request_id.clear();
    if let Some(id) = conn.head.header(&conn.rbuf, "x-request-id") {
        if request_id::is_acceptable(id) {
            conn.request_id.extend_from_slice(id);
            return;
        }
    }
    let mut id = [0u8; 36];
    worker.request_ids.borrow_mut().generate(&mut id);
    conn.request_id.extend_from_slice(&id);
}

/// Answers the current request with a local reply; returns whether the connection stays open.
///
/// The connection closes when the client asked for it, when a request body was announced (it is
/// not read, so the next request's start is unknown), or when the gateway is shutting down.
pub async fn respond_locally<S: ClientStream>(
    worker: &Worker,
    conn: &mut ClientConn<S>,
    reply: &LocalReply<'_>,
    settings: &Settings,
) -> bool {
    bump(&worker.counters.local_replies);
    let keep_alive =
        conn.head.keep_alive && conn.head.body == RequestBody::None && !worker.shutdown.is_raised();
    let version =
        if conn.head.version == Version::Http10 { Version::Http10 } else { Version::Http11 };
    conn.wbuf.clear();
    reply.write(&mut conn.wbuf, version, !keep_alive, Some(&conn.request_id));
    conn.deadline.arm(settings.timeouts.client_io);
    let written = io::write_all(&mut conn.stream, &mut conn.wbuf, &conn.deadline).await;
    keep_alive && written.is_ok()
}
