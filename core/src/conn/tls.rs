//! Downstream TLS: the HTTPS listener's accept loop, the server configuration it serves with, and
//! the TLS stream the HTTP/1.1 connection loop reads and writes through.
//!
//! Where it sits: between the `SO_REUSEPORT` HTTPS listener of a core and `conn::h1`. Each accepted
//! socket takes the [`ServerTls`] of the snapshot current at accept time (so a reloaded
//! certificate applies to new connections, while open ones keep the session they have), is
//! refused at once when the core already has `max_handshakes` handshakes in progress, and gets
//! `handshake_timeout` to finish the handshake ([`super::handshake`]) on this core. Then the same
//! connection loop as plain HTTP serves it, monomorphised for [`TlsStream`].
//!
//! Record I/O after the handshake is `monoio-rustls` (owned-buffer reads and writes through
//! rustls). What this does not do: certificates, SNI, ALPN, resumption and client-certificate
//! verification are all in the `rustls::ServerConfig` the adapter builds; HTTP/2 is not offered.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::conn::handshake::{self, HandshakeError};
use crate::conn::ClientStream;
use crate::runtime::{
    self, AsyncReadRent, AsyncWriteRent, BufResult, IoBuf, IoBufMut, IoVecBuf, IoVecBufMut,
    TcpListener, TcpStream,
};
use crate::worker::{ConnectionGuard, Worker};

/// Default time a client has to finish the TLS handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on handshakes in progress per core.
pub const DEFAULT_MAX_HANDSHAKES: usize = 1024;

/// The HTTPS listener's server side, part of the reloadable settings of a snapshot.
pub struct ServerTls {
    /// Certificates (SNI), protocol versions, suites, ALPN, tickets, client verification.
    pub config: Arc<rustls::ServerConfig>,
    /// The certificates by server name (what `config` was built with; kept so that the adapter
    /// can rebuild `config` with the client certificates of the deployed APIs).
    pub cert_resolver: Arc<dyn rustls::server::ResolvesServerCert>,
    /// Time allowed from accept to the end of the handshake.
    pub handshake_timeout: Duration,
    /// Handshakes in progress per core; connections beyond it are closed at once.
    pub max_handshakes: usize,
    /// Names and fingerprints of the certificates (what `Debug` shows, so that a reload that
    /// changes a certificate file is seen as a change).
    pub description: String,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_handshakes", &self.max_handshakes)
            .field("certificates", &self.description)
            .finish()
    }
}

/// A TLS session over a client socket, after its handshake.
pub struct TlsStream {
    inner: monoio_rustls::ServerTlsStream<TcpStream>,
    /// DER of the client's leaf certificate (verified by the handshake), if it sent one.
    peer_certificate: Option<Box<[u8]>>,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("peer_certificate", &self.peer_certificate.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsStream {
    /// Wraps a socket and a session whose handshake is complete.
    pub(crate) fn new(tcp: TcpStream, session: rustls::ServerConnection) -> Self {
        let peer_certificate =
            session.peer_certificates().and_then(|chain| chain.first()).map(|c| c.to_vec().into());
        Self { inner: monoio_rustls::ServerTlsStream::new(tcp, session), peer_certificate }
    }
}

impl ClientStream for TlsStream {
    #[inline]
    fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificate.as_deref()
    }
}

impl AsyncReadRent for TlsStream {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.read(buf).await
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.readv(buf).await
    }
}

impl AsyncWriteRent for TlsStream {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.write(buf).await
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.inner.writev(buf).await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().await
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        self.inner.shutdown().await
    }
}

/// Accepts HTTPS connections on this core until shutdown.
pub async fn accept_loop(worker: Rc<Worker>, listener: TcpListener) {
    loop {
        runtime::select! {
            () = worker.shutdown.wait() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => on_accept(&worker, stream, peer),
                Err(err) => {
                    tracing::warn!(worker = worker.index, error = %err, "TLS accept failed");
                    runtime::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

fn on_accept(worker: &Rc<Worker>, stream: TcpStream, peer: SocketAddr) {
    // Per connection, not per request: the snapshot's TLS settings at accept time.
    let Some(tls) = worker.table().settings.tls.clone() else {
        return; // no certificate configured any more: close
    };
    if worker.handshakes.get() >= tls.max_handshakes {
        tracing::debug!(worker = worker.index, %peer, "too many TLS handshakes in progress; closed");
        return;
    }
    let _ = stream.set_nodelay(true);
    let guard = worker.connection_opened();
    let handshaking = Handshaking::begin(&worker.handshakes);
    runtime::spawn(serve(Rc::clone(worker), stream, peer, guard, tls, handshaking));
}

async fn serve(
    worker: Rc<Worker>,
    stream: TcpStream,
    peer: SocketAddr,
    guard: ConnectionGuard,
    tls: Arc<ServerTls>,
    handshaking: Handshaking,
) {
    let outcome =
        runtime::timeout(tls.handshake_timeout, handshake::accept(stream, &tls.config)).await;
    drop(handshaking);
    drop(tls);
    let stream = match outcome {
        Some(Ok(stream)) => stream,
        Some(Err(err)) => {
            log_failure(&worker, peer, &err);
            return;
        }
        None => {
            tracing::debug!(worker = worker.index, %peer, "TLS handshake timed out");
            return;
        }
    };
    crate::conn::h1::serve(worker, stream, peer, guard).await;
}

fn log_failure(worker: &Worker, peer: SocketAddr, err: &HandshakeError) {
    tracing::debug!(worker = worker.index, %peer, error = %err, "TLS handshake failed");
}

/// Counts one handshake in progress on this core for as long as it lives.
struct Handshaking {
    count: Rc<Cell<usize>>,
}

impl Handshaking {
    fn begin(count: &Rc<Cell<usize>>) -> Self {
        count.set(count.get() + 1);
        Self { count: Rc::clone(count) }
    }
}

impl Drop for Handshaking {
    fn drop(&mut self) {
        self.count.set(self.count.get().saturating_sub(1));
    }
}
