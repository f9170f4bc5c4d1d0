//! TLS to upstream backends (`https://` endpoints and callout clusters): the client configuration a
//! snapshot carries per endpoint, this core's copies of those configurations, and the handshake.
//!
//! Where it sits: `proxy::upstream` connects TCP (`runtime::connect`), then calls [`handshake`]
//! here; the resulting [`TlsStream`] is pooled per core like a plain `TcpStream` (keyed by address
//! and [`TlsClientId`]) and read and written through `conn::io` like one. The adapter builds every
//! `rustls::ClientConfig` once, on the control thread, when it compiles a snapshot (trust roots,
//! host name verification, client certificate; TLS 1.2 and 1.3 only) and attaches it to the
//! endpoint as a [`TlsClient`].
//!
//! Per core: [`CoreClients`] keeps one copy of each configuration with its own session cache
//! (TLS 1.3 tickets / 1.2 session ids, for resumption on the next handshake). rustls' in-memory
//! cache sits behind a `Mutex`; with one cache per core that lock is never contended and its cache
//! line stays on the core, and the `Arc` handed to each new connection is the core's own, so a
//! handshake touches no state shared between cores. None of this runs per request on a pooled
//! connection: only when a new connection is opened.
//!
//! The record layer is driven over monoio's owned-buffer I/O by `monoio-rustls` (it copies
//! between its buffers and rustls', and never hands the kernel a borrowed buffer).
//!
//! Not here: the HTTPS listener (server side), HTTP/2 (no ALPN is offered), OCSP / revocation.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use foldhash::fast::RandomState;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig};

use crate::runtime::{self, TcpStream};

/// A TLS connection to an upstream, over TCP.
pub type TlsStream = monoio_rustls::ClientTlsStream<TcpStream>;

/// Sessions each core keeps for resumption, per configuration (rustls keys them by server name).
const SESSIONS_PER_CONFIG: usize = 256;

/// Stable identity of a [`TlsClient`]: a digest of what the adapter built it from (trust roots,
/// client certificate, verification switch) and the server name, so ids match across snapshots
/// and pooled connections and per-core copies survive a reload that changes nothing of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TlsClientId(pub u64);

/// A client configuration as the snapshot carries it (one `Arc` per configuration, cloned only
/// by the adapter while compiling).
#[derive(Clone)]
pub struct TlsClient {
    pub id: TlsClientId,
    pub config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClient").field("id", &self.id).finish_non_exhaustive()
    }
}

impl PartialEq for TlsClient {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for TlsClient {}

impl std::hash::Hash for TlsClient {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// TLS to one endpoint (an `https://` URL).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EndpointTls {
    /// Sent as SNI and checked against the certificate (a DNS name, or an IP address checked
    /// against the certificate's IP addresses).
    pub server_name: ServerName<'static>,
    /// The configuration to connect with. URL parsing leaves it `None`; the adapter's compile
    /// step attaches one to every TLS endpoint of a snapshot (the core refuses to connect
    /// without one rather than fall back to anything).
    pub client: Option<TlsClient>,
}

impl EndpointTls {
    /// TLS to `host` (a DNS name or an IP literal, brackets removed); `None` if it is neither.
    pub fn for_host(host: &str) -> Option<Self> {
        let server_name = ServerName::try_from(host.to_owned()).ok()?;
        Some(Self { server_name, client: None })
    }

    /// The client's id, or 0 when none is attached (nothing is ever pooled under it).
    pub fn client_id(&self) -> TlsClientId {
        self.client.as_ref().map_or(TlsClientId(0), |c| c.id)
    }
}

/// Pool key of a TLS connection: the address and the configuration + server name it was made
/// with (two endpoints on one address with different names or trust never share connections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsPoolKey {
    pub addr: std::net::SocketAddr,
    pub client: TlsClientId,
}

/// Hashed field by field rather than through `SocketAddr`'s `Hash`: with a second caller that
/// impl stops being inlined into the plain pool's lookups, which costs the plain path
/// instructions per request (measured with `perf/callgrind.sh`).
impl std::hash::Hash for TlsPoolKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.client.0);
        match self.addr.ip() {
            std::net::IpAddr::V4(ip) => state.write_u32(u32::from(ip)),
            std::net::IpAddr::V6(ip) => state.write_u128(u128::from(ip)),
        }
        state.write_u16(self.addr.port());
    }
}

/// Why a TLS handshake with an upstream failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsFailure {
    /// The certificate chain does not lead to a trusted root.
    UntrustedCertificate,
    /// The certificate is not valid for the endpoint's host name.
    WrongHostName,
    /// The certificate is expired, not yet valid, revoked or malformed.
    InvalidCertificate,
    /// The backend ended the handshake with an alert (e.g. it requires a client certificate).
    RefusedByBackend,
    /// The backend broke the protocol (no common version or cipher suite, bad message).
    Protocol,
    /// The connection closed or failed during the handshake.
    Closed,
    /// The handshake did not finish within the connect timeout.
    TimedOut,
    /// The endpoint has no client configuration (a compile step was skipped; never in service).
    NotConfigured,
}

impl TlsFailure {
    /// One sentence for the client's error description (no backend details).
    pub fn description(self) -> &'static str {
        match self {
            Self::UntrustedCertificate => {
                "The TLS handshake with the backend service failed: its certificate is not trusted."
            }
            Self::WrongHostName => {
                "The TLS handshake with the backend service failed: its certificate does not \
                 match the host name."
            }
            Self::InvalidCertificate => {
                "The TLS handshake with the backend service failed: its certificate is invalid \
                 or expired."
            }
            Self::RefusedByBackend => {
                "The TLS handshake with the backend service failed: the backend refused it."
            }
            Self::Protocol => {
                "The TLS handshake with the backend service failed: no common protocol."
            }
            Self::Closed => {
                "The TLS handshake with the backend service failed: the connection was closed."
            }
            Self::TimedOut => "The TLS handshake with the backend service did not finish in time.",
            Self::NotConfigured => "TLS to the backend service is not configured.",
        }
    }

    /// Classifies a handshake error (rustls errors arrive wrapped in `io::Error`).
    pub fn classify(err: &io::Error) -> Self {
        let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) else {
            return Self::Closed;
        };
        match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => Self::UntrustedCertificate,
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => Self::WrongHostName,
                _ => Self::InvalidCertificate,
            },
            rustls::Error::AlertReceived(_) => Self::RefusedByBackend,
            _ => Self::Protocol,
        }
    }
}

/// This core's copies of the snapshot's client configurations, each with its own session cache.
#[derive(Debug, Default)]
pub struct CoreClients {
    configs: HashMap<TlsClientId, Arc<ClientConfig>, RandomState>,
}

impl CoreClients {
    /// This core's configuration for `client` (copied on first use).
    pub fn config(&mut self, client: &TlsClient) -> Arc<ClientConfig> {
        self.configs
            .entry(client.id)
            .or_insert_with(|| {
                let mut copy = ClientConfig::clone(&client.config);
                copy.resumption = Resumption::in_memory_sessions(SESSIONS_PER_CONFIG);
                Arc::new(copy)
            })
            .clone()
    }

    /// Drops copies whose id `keep` rejects (called when a new snapshot is installed).
    pub fn retain(&mut self, mut keep: impl FnMut(TlsClientId) -> bool) {
        self.configs.retain(|id, _| keep(*id));
    }

    /// Number of configurations copied on this core.
    pub fn len(&self) -> usize {
        self.configs.len()
    }

    /// Whether no configuration was copied yet.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty()
    }
}

/// Runs the client handshake over `tcp` within `limit`.
pub async fn handshake(
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    tcp: TcpStream,
    limit: Duration,
) -> Result<TlsStream, (TlsFailure, Option<io::Error>)> {
    let connector = monoio_rustls::TlsConnector::from(config);
    match runtime::timeout(limit, connector.connect(server_name, tcp)).await {
        None => Err((TlsFailure::TimedOut, None)),
        Some(Ok(stream)) => Ok(stream),
        Some(Err(err)) => {
            let err = io::Error::from(err);
            Err((TlsFailure::classify(&err), Some(err)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_rustls_errors() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let cert = |c: CertificateError| wrap(rustls::Error::InvalidCertificate(c));
        assert_eq!(
            TlsFailure::classify(&cert(CertificateError::UnknownIssuer)),
            TlsFailure::UntrustedCertificate
        );
        assert_eq!(
            TlsFailure::classify(&cert(CertificateError::NotValidForName)),
            TlsFailure::WrongHostName
        );
        assert_eq!(
            TlsFailure::classify(&cert(CertificateError::Expired)),
            TlsFailure::InvalidCertificate
        );
        assert_eq!(
            TlsFailure::classify(&wrap(rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRequired
            ))),
            TlsFailure::RefusedByBackend
        );
        assert_eq!(
            TlsFailure::classify(&io::Error::from(io::ErrorKind::ConnectionReset)),
            TlsFailure::Closed
        );
    }

    #[test]
    fn server_names_from_hosts() {
        assert!(matches!(
            EndpointTls::for_host("backend.example").map(|t| t.server_name),
            Some(ServerName::DnsName(_))
        ));
        assert!(matches!(
            EndpointTls::for_host("127.0.0.1").map(|t| t.server_name),
            Some(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            EndpointTls::for_host("::1").map(|t| t.server_name),
            Some(ServerName::IpAddress(_))
        ));
        assert!(EndpointTls::for_host("bad host").is_none());
    }
}
