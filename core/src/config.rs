//! Data-plane settings, already validated by the adapter.
//!
//! [`StaticConfig`] needs a restart to change (listener address, worker count, driver);
//! [`Settings`] travels inside each [`crate::snapshot::Snapshot`] and is hot-reloaded with it.
//! The adapter turns `gateway.toml` and command-line flags into these types; nothing here parses text
//! except [`Cidr::parse`], which the adapter calls at the boundary.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use turnpike_http::Limits;

/// Which I/O driver each core runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Driver {
    /// Try io_uring, fall back to epoll (logged once) when it is missing, blocked or short of memory.
    #[default]
    Auto,
    /// io_uring only; start fails without it.
    Uring,
    /// epoll only.
    Epoll,
}

/// Settings fixed for the life of the process.
#[derive(Clone, Debug)]
pub struct StaticConfig {
    /// HTTP listener address; every worker binds it with `SO_REUSEPORT`.
    pub listen: SocketAddr,
    /// Number of worker cores (>= 1).
    pub workers: usize,
    /// I/O driver choice.
    pub driver: Driver,
    /// Pin worker `i` to CPU `i % available`.
    pub pin_workers: bool,
    /// io_uring submission queue entries per worker.
    pub uring_entries: u32,
    /// Listen backlog.
    pub backlog: u32,
    /// HTTPS listener address (`None`: no HTTPS listener); every worker binds it with
    /// `SO_REUSEPORT`. What it serves with is [`Settings::tls`].
    pub tls_listen: Option<SocketAddr>,
}

impl Default for StaticConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            driver: Driver::Auto,
            pin_workers: true,
            uring_entries: 1024,
            backlog: 1024,
            tls_listen: None,
        }
    }
}

/// Timeouts applied by the data plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Time allowed for a client to send a complete request head (slow-client guard).
    pub request_head: Duration,
    /// Idle time allowed between requests on a keep-alive client connection.
    pub keepalive_idle: Duration,
    /// Time allowed to establish an upstream connection.
    pub upstream_connect: Duration,
    /// Time allowed for the upstream to start responding, and between reads of its response.
    pub upstream_response: Duration,
    /// Time allowed between reads of a request body, and for each write to a client.
    pub client_io: Duration,
    /// On shutdown, how long in-flight requests may take before the process exits anyway.
    pub shutdown_grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request_head: Duration::from_secs(10),
            keepalive_idle: Duration::from_secs(60),
            upstream_connect: Duration::from_secs(5),
            upstream_response: Duration::from_secs(60),
            client_io: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(15),
        }
    }
}

/// Upstream connection pool settings (per core, per endpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most idle keep-alive connections kept per endpoint per core.
    pub max_idle_per_endpoint: usize,
    /// Idle connections older than this are closed instead of reused.
    pub idle_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_idle_per_endpoint: 64, idle_timeout: Duration::from_secs(30) }
    }
}

/// An IP network in CIDR notation (e.g. `10.0.0.0/8`, `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// Why a CIDR string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidCidr {
    Address(String),
    Prefix(String),
}

impl std::fmt::Display for InvalidCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(s) => write!(f, "invalid IP address in CIDR {s:?}"),
            Self::Prefix(s) => write!(f, "invalid prefix length in CIDR {s:?}"),
        }
    }
}

impl std::error::Error for InvalidCidr {}

impl Cidr {
    /// Parses `addr/prefix` or a bare address (a host route).
    pub fn parse(text: &str) -> Result<Self, InvalidCidr> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr =
            addr_text.trim().parse().map_err(|_| InvalidCidr::Address(text.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| InvalidCidr::Prefix(text.to_owned()))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses match IPv4 networks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Reloadable data-plane settings; part of every snapshot.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub limits: Limits,
    pub timeouts: Timeouts,
    pub pool: PoolSettings,
    /// Peers whose `X-Forwarded-For` is believed (none by default).
    pub trusted_proxies: Vec<Cidr>,
    /// When set, a `Via` header with this pseudonym (e.g. `1.1 turnpike`) is added both ways.
    pub via: Option<String>,
    /// Largest request body accepted, in bytes (`None`: unlimited, streamed).
    pub max_request_body: Option<u64>,
    /// The HTTPS listener's certificates and handshake limits (`None`: HTTPS connections are
    /// closed at accept).
    pub tls: Option<std::sync::Arc<crate::conn::tls::ServerTls>>,
    /// Header (lower case) that carries the verified client certificate to the backend (base64
    /// DER); a received header of that name is always removed. `None`: not forwarded (and not
    /// touched). See [`crate::client_certificate`].
    pub client_certificate_header: Option<String>,
}
