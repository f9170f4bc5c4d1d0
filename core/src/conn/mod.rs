//! Client connections: the per-protocol connection loops (`h1` now, `h2` later) and the I/O helpers
//! they share. A connection owns its socket and its buffers, reused for every request it carries.
//!
//! The stream is a type parameter ([`ClientStream`]): plain TCP or TLS over it (`tls`). The
//! connection loop, the exchange and the proxy are monomorphised per stream type, so the plain
//! path carries no branch, no indirection and no certificate for TLS.

pub mod h1;
pub mod handshake;
pub mod io;
pub mod tls;

use std::net::SocketAddr;
use std::rc::Rc;

use turnpike_http::h1::{RequestHead, ResponseHead};
use turnpike_policy::RequestContext;

use crate::deadline::Deadline;
use crate::runtime::{AsyncReadRent, AsyncWriteRent, TcpStream};

/// A client connection's byte stream: plain TCP or TLS over TCP.
pub trait ClientStream: AsyncReadRent + AsyncWriteRent + 'static {
    /// DER of the client's leaf certificate, verified during the handshake (mutual TLS).
    fn peer_certificate(&self) -> Option<&[u8]>;
}

impl ClientStream for TcpStream {
    #[inline(always)]
    fn peer_certificate(&self) -> Option<&[u8]> {
        None
    }
}

/// Initial capacity of a connection's read and write buffers.
pub const BUF_CAPACITY: usize = 16 * 1024;

/// One client connection and the buffers it reuses across requests.
#[derive(Debug)]
pub struct ClientConn<S = TcpStream> {
    pub stream: S,
    pub peer: SocketAddr,
    /// The peer's IP as text, computed once (used for `X-Forwarded-For`).
    pub peer_ip_text: String,
    /// Bytes read from the client; the current request head starts at 0.
    pub rbuf: Vec<u8>,
    /// Bytes being encoded for the upstream or the client.
    pub wbuf: Vec<u8>,
    /// The current request head (spans into `rbuf`).
    pub head: RequestHead,
    /// The current upstream response head (spans into the upstream connection's buffer).
    pub response: ResponseHead,
    /// Path parameter captures of the current route match.
    pub params: Vec<(u32, u32)>,
    /// The request id of the current request.
    pub request_id: Vec<u8>,
    /// Bytes of `rbuf` that belong to the current request (head and body read so far).
    pub consumed: usize,
    /// Bounds every socket operation of this connection (client and upstream side).
    pub deadline: Rc<Deadline>,
    /// What the policies decided about the current request; one per connection, reset for
    /// each request, so that its lists keep their capacity.
    pub context: RequestContext,
}

impl<S> ClientConn<S> {
    /// Wraps an accepted socket (or a TLS session over one).
    pub fn new(stream: S, peer: SocketAddr, deadline: Rc<Deadline>) -> Self {
        Self {
            stream,
            peer,
            peer_ip_text: peer.ip().to_string(),
            rbuf: Vec::with_capacity(BUF_CAPACITY),
            wbuf: Vec::with_capacity(BUF_CAPACITY),
            head: RequestHead::default(),
            response: ResponseHead::default(),
            params: Vec::new(),
            request_id: Vec::with_capacity(64),
            consumed: 0,
            deadline,
            context: RequestContext::default(),
        }
    }

    /// Drops the bytes of the request just served, keeping any pipelined bytes after them.
    pub fn finish_request(&mut self) {
        let consumed = self.consumed.min(self.rbuf.len());
        self.rbuf.drain(..consumed);
        self.consumed = 0;
    }
}
