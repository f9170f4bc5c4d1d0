//! The server side of a TLS handshake, driven over monoio's owned-buffer socket I/O.
//!
//! Where it sits: called by `conn::tls` for each accepted HTTPS socket, on the core that accepted
//! it, under the handshake timeout. rustls is sans-IO: this loop moves bytes between the socket and
//! the `rustls::ServerConnection` (`read_tls` / `process_new_packets` / `write_tls`) until the
//! handshake is done, sends the alert when rustls refuses the peer, and hands the socket and the
//! session to [`TlsStream`]. Driving it here rather than through `monoio-rustls`'s acceptor keeps
//! the session in hand when the handshake ends: the client's certificate is read from it
//! once, and application data that arrived with the client's last flight stays in the session.

use std::io;
use std::sync::Arc;

use crate::conn::tls::TlsStream;
use crate::runtime::{AsyncReadRent, AsyncWriteRentExt, TcpStream};

/// Bytes read from the socket at a time during the handshake.
const READ_SIZE: usize = 8 * 1024;

/// Why a handshake did not complete.
#[derive(Debug)]
pub enum HandshakeError {
    /// The peer closed the connection first.
    Closed,
    /// The socket failed.
    Io(io::Error),
    /// rustls refused the peer (protocol version, suites, certificate, ALPN, ...).
    Tls(rustls::Error),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed => f.write_str("peer closed during the handshake"),
            Self::Io(err) => write!(f, "socket error: {err}"),
            Self::Tls(err) => write!(f, "refused: {err}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Runs the handshake on `tcp` with `config`.
pub async fn accept(
    mut tcp: TcpStream,
    config: &Arc<rustls::ServerConfig>,
) -> Result<TlsStream, HandshakeError> {
    let mut session =
        rustls::ServerConnection::new(Arc::clone(config)).map_err(HandshakeError::Tls)?;
    let mut rbuf: Vec<u8> = Vec::with_capacity(READ_SIZE);
    let mut wbuf: Vec<u8> = Vec::new();
    loop {
        while session.wants_write() {
            wbuf.clear();
            session.write_tls(&mut wbuf).map_err(HandshakeError::Io)?;
            let (written, back) = tcp.write_all(wbuf).await;
            wbuf = back;
            written.map_err(HandshakeError::Io)?;
        }
        if !session.is_handshaking() {
            return Ok(TlsStream::new(tcp, session));
        }
        rbuf.clear();
        let (read, back) = tcp.read(rbuf).await;
        rbuf = back;
        match read {
            Ok(0) => return Err(HandshakeError::Closed),
            Ok(_) => {}
            Err(err) => return Err(HandshakeError::Io(err)),
        }
        let mut input: &[u8] = &rbuf;
        while !input.is_empty() {
            match session.read_tls(&mut input) {
                Ok(0) => return Err(HandshakeError::Closed),
                Ok(_) => {}
                Err(err) => return Err(HandshakeError::Io(err)),
            }
            if let Err(err) = session.process_new_packets() {
                // Tell the peer why (the alert rustls queued), then give up.
                wbuf.clear();
                if session.write_tls(&mut wbuf).is_ok() && !wbuf.is_empty() {
                    let _ = tcp.write_all(wbuf).await;
                }
                return Err(HandshakeError::Tls(err));
            }
        }
    }
}
