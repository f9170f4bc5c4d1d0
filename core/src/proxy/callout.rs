//! Carrying out a policy's callout (token introspection, interceptors): core does the I/O a policy
//! asked for, with the same per-core pool, balancer and deadlines as proxying, and hands the policy
//! the decoded response.
//!
//! The response is read whole (head and body, any framing) into a buffer bounded by
//! [`MAX_CALLOUT_RESPONSE`]; a bigger one counts as a failure. The connection returns to the pool
//! when the response ended cleanly.

use turnpike_http::h1::{Method, ResponseBody, ResponseHead};
use turnpike_policy::Callout;

use crate::conn::io::{self, IoFailure};
use crate::deadline::Deadline;
use crate::proxy::body::{BodyPump, OutFraming};
use crate::proxy::upstream::{self, Transport, UpstreamFailure};
use crate::runtime::TcpStream;
use crate::snapshot::{Endpoint, Snapshot};
use crate::tls::client::TlsStream;
use crate::worker::Worker;

/// Largest callout response accepted (head and body), in bytes.
pub const MAX_CALLOUT_RESPONSE: usize = 1024 * 1024;

/// A completed callout: the response head (spans into `raw`) and the decoded body.
#[derive(Debug, Default)]
pub struct CalloutReply {
    pub head: ResponseHead,
    pub raw: Vec<u8>,
    pub body: Vec<u8>,
}

/// Counts a callout in flight until dropped (however the callout ends).
struct InFlight<'w>(&'w std::cell::Cell<usize>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Sends `callout.request` to an endpoint of its cluster and reads the whole response.
pub async fn perform(
    worker: &Worker,
    snap: &Snapshot,
    deadline: &Deadline,
    callout: &Callout,
) -> Result<CalloutReply, UpstreamFailure> {
    if worker.callouts_in_flight.get() >= callout.max_in_flight as usize {
        return Err(UpstreamFailure::Unavailable);
    }
    worker.callouts_in_flight.set(worker.callouts_in_flight.get() + 1);
    let _in_flight = InFlight(&worker.callouts_in_flight);
    let cluster = snap
        .clusters
        .get(usize::try_from(callout.cluster).unwrap_or(usize::MAX))
        .ok_or(UpstreamFailure::Unavailable)?;
    let endpoint =
        worker.balancer.borrow_mut().pick(cluster).ok_or(UpstreamFailure::Unavailable)?;
    match endpoint.tls {
        None => exchange::<TcpStream>(worker, snap, deadline, callout, endpoint).await,
        Some(_) => exchange::<TlsStream>(worker, snap, deadline, callout, endpoint).await,
    }
}

/// The callout over a connection of kind `S` (plain or TLS).
async fn exchange<S: Transport>(
    worker: &Worker,
    snap: &Snapshot,
    deadline: &Deadline,
    callout: &Callout,
    endpoint: &Endpoint,
) -> Result<CalloutReply, UpstreamFailure> {
    let settings = &snap.settings;
    let timeouts = &settings.timeouts;
    let mut request = callout.request.clone();
    let mut fresh = false;
    let mut reply = CalloutReply::default();
    let mut up = loop {
        let mut up = upstream::acquire::<S>(
            worker,
            endpoint,
            fresh,
            timeouts.upstream_connect,
            settings.pool.idle_timeout,
        )
        .await?;
        deadline.arm(timeouts.upstream_response);
        match io::write_all(&mut up.stream, &mut request, deadline).await {
            Ok(()) => {}
            Err(IoFailure::Closed | IoFailure::Failed(_)) if up.reused && !fresh => {
                fresh = true;
                continue;
            }
            Err(IoFailure::TimedOut) => return Err(UpstreamFailure::TimedOut),
            Err(_) => return Err(UpstreamFailure::Unavailable),
        }
        match upstream::read_response_head(
            &mut up,
            &mut reply.head,
            Method::Post,
            &settings.limits,
            deadline,
        )
        .await
        {
            Ok(()) => break up,
            Err(UpstreamFailure::StaleConnection) if !fresh => fresh = true,
            Err(failure) => return Err(failure),
        }
    };

    let mut pump = match reply.head.body {
        ResponseBody::None => BodyPump::none(),
        ResponseBody::Length(n) => {
            if n > MAX_CALLOUT_RESPONSE as u64 {
                return Err(UpstreamFailure::Invalid);
            }
            BodyPump::length(n, OutFraming::Raw)
        }
        ResponseBody::Chunked => BodyPump::chunked(&settings.limits, OutFraming::Raw),
        ResponseBody::CloseDelimited => BodyPump::until_close(OutFraming::Raw),
    };
    let head_len = reply.head.head_len.min(up.rbuf.len());
    let mut start = head_len;
    loop {
        let available = up.rbuf.get(start..).unwrap_or_default();
        start += pump.pump(available, &mut reply.body).map_err(|_| UpstreamFailure::Invalid)?;
        if reply.body.len() > MAX_CALLOUT_RESPONSE {
            return Err(UpstreamFailure::Invalid);
        }
        if pump.is_done() {
            break;
        }
        match io::read_more(&mut up.stream, &mut up.rbuf, deadline).await {
            Ok(_) => {}
            Err(IoFailure::Closed) => {
                pump.on_eof(&mut reply.body).map_err(|_| UpstreamFailure::Invalid)?;
                break;
            }
            Err(IoFailure::TimedOut) => return Err(UpstreamFailure::TimedOut),
            Err(IoFailure::Failed(_)) => return Err(UpstreamFailure::Unavailable),
        }
    }
    deadline.disarm();
    // Keep the head bytes for the policy (its spans point into them); the rest was body.
    reply.raw = up.rbuf.get(..head_len).unwrap_or_default().to_vec();
    let clean_end = start == up.rbuf.len();
    if reply.head.keep_alive && !pump.until_closed() && clean_end {
        S::pool(worker).borrow_mut().put(
            S::key(endpoint),
            up,
            worker.clock.now(),
            settings.pool.max_idle_per_endpoint,
        );
    }
    Ok(reply)
}
