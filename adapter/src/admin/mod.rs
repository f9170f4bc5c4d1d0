//! The admin API: a small HTTPS server, apart from the data plane, through which `apictl mg`
//! (and curl, and CI) deploys, lists and removes APIs, and through which probes ask whether the
//! gateway is up and ready.
//!
//! Where it sits: control plane. `turnpike run` calls [`start`] after the deploy manager exists;
//! the admin server runs on plain std threads (one accept thread, one thread per connection, at
//! most [`AdminConfig::max_connections`]) and never touches the data-plane cores: every change
//! goes through the [`Deployments`] trait, which compiles a new snapshot and publishes it.
//!
//! ```text
//! accept thread ─► connection thread: [rustls] → http::h1::parse_request → body (Content-Length
//!                  or chunked, ≤ max_body) → routes::handle → auth → Deployments → JSON reply
//! ```
//!
//! Paths (compatible with Choreo Connect's adapter, `basePath` `/api/mgw/adapter/0.1`):
//! - `POST /api/mgw/adapter/0.1/oauth2/token`: credentials (basic auth, or the JSON body
//!   `{"username","password"}` that `apictl mg login` sends) → `{"accessToken",...}`.
//! - `GET|POST|DELETE /api/mgw/adapter/0.1/apis`: list, deploy (raw zip or `multipart/form-data`
//!   part `file`; `?override=true`, `?dryRun=true`), undeploy (`?apiName=&version=&vhost=`).
//! - `GET /api/turnpike/v1/snapshot`: what is served now.
//! - `GET|POST|DELETE /api/turnpike/v1/applications`, `.../subscriptions` and `GET|POST
//!   .../revocations`: the security tables that change at run time, persisted in the state
//!   directory ([`security_routes`]).
//! - `GET /health`, `GET /ready`: probes, unauthenticated.
//!
//! Modules: [`server`] (sockets, TLS, HTTP/1.1 framing), [`routes`] (paths and handlers),
//! [`security_routes`] and [`security_body`] (the security endpoints and their bodies),
//! [`auth`] (users and tokens), [`password`] (hash format), [`tls`] (certificate),
//! [`multipart`].
//!
//! What it does not do: no HTTP/2, no CORS, no per-user permissions, no rate limiting of logins.

pub mod auth;
pub mod multipart;
pub mod password;
pub mod routes;
pub mod security_body;
pub mod security_routes;
pub mod server;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use auth::AdminUser;
pub use password::{hash_password, hash_password_with_iterations, PasswordHash};
pub use server::AdminHandle;

use crate::deploy::Deployments;

/// Default admin listen address (Choreo Connect's adapter port).
pub const DEFAULT_ADDRESS: &str = "0.0.0.0:9843";
/// Default state directory (generated certificate, admin-deployed APIs).
pub const DEFAULT_STATE_DIR: &str = "./turnpike-state";
/// The user name and password allowed when no user is configured and the listener is loopback.
pub const DEFAULT_CREDENTIALS: (&str, &str) = ("admin", "admin");

/// `[admin]` of `gateway.toml`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// Whether `turnpike run` starts the admin listener at all.
    pub enabled: bool,
    /// Listen address.
    pub address: SocketAddr,
    /// Serve plain HTTP instead of HTTPS; [`start`] refuses it on a non-loopback address.
    pub plain_http: bool,
    /// PEM certificate chain and private key; both or neither. Neither: a self-signed pair in
    /// [`AdminConfig::state_dir`].
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Where the generated certificate is kept (and, for the deploy manager, admin-deployed APIs).
    pub state_dir: PathBuf,
    /// Who may log in. Empty: `admin`/`admin` on a loopback listener only, else nobody.
    pub users: Vec<AdminUser>,
    /// Lifetime of tokens from the token endpoint.
    pub token_ttl: Duration,
    /// Largest request body accepted (413 above).
    pub max_body: usize,
    /// Most connections served at once; more are closed at accept.
    pub max_connections: usize,
    /// Read/write timeout on admin sockets.
    pub io_timeout: Duration,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            address: SocketAddr::from(([0, 0, 0, 0], 9843)),
            plain_http: false,
            tls_cert: None,
            tls_key: None,
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            users: Vec::new(),
            token_ttl: Duration::from_secs(3600),
            max_body: 32 * 1024 * 1024,
            max_connections: 64,
            io_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the admin server did not start.
#[derive(Debug)]
pub enum AdminError {
    /// `plain_http = true` on an address other than loopback.
    PlainHttpNotLoopback(SocketAddr),
    /// Only one of `tls_cert` and `tls_key` is set.
    IncompleteTls,
    /// The certificate or key could not be loaded, generated or used.
    Tls(String),
    /// Reading or writing the state directory failed.
    Io { path: PathBuf, source: std::io::Error },
    /// The listener could not be bound.
    Bind { address: SocketAddr, source: std::io::Error },
    /// The accept thread could not be started.
    Thread(std::io::Error),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PlainHttpNotLoopback(addr) => write!(
                f,
                "admin API: plain_http is only allowed on a loopback address, not {addr}; \
                 remove plain_http to serve HTTPS, or listen on 127.0.0.1 / [::1]"
            ),
            Self::IncompleteTls => {
                f.write_str("admin API: tls_cert and tls_key must be set together")
            }
            Self::Tls(why) => write!(f, "admin API TLS: {why}"),
            Self::Io { path, source } => write!(f, "admin API: {}: {source}", path.display()),
            Self::Bind { address, source } => {
                write!(f, "admin API: cannot listen on {address}: {source}")
            }
            Self::Thread(e) => write!(f, "admin API: cannot start its thread: {e}"),
        }
    }
}

impl std::error::Error for AdminError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } | Self::Bind { source, .. } => Some(source),
            Self::Thread(e) => Some(e),
            _ => None,
        }
    }
}

/// Binds the admin listener and serves it on its own threads until the handle is shut down (or
/// dropped). Fails before binding if the configuration is unsafe (plain HTTP off loopback) or the
/// certificate cannot be had.
pub fn start(
    config: &AdminConfig,
    deployments: Arc<dyn Deployments>,
) -> Result<AdminHandle, AdminError> {
    server::start(config, deployments)
}

/// Standard base64 as the admin API accepts it: padded or not (RFC 7617 clients pad; hand-written
/// password hashes may not), decoded by the project's strict codec once padding is restored.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let padding = "==".get(..(4 - text.len() % 4) % 4)?;
    turnpike_policy::base64::decode_standard(format!("{text}{padding}").as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::decode_base64;
    use turnpike_policy::base64::encode_standard;

    #[test]
    fn base64_padded_or_not() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_standard(plain.as_bytes()), encoded);
            assert_eq!(decode_base64(encoded).unwrap(), plain.as_bytes());
            assert_eq!(decode_base64(encoded.trim_end_matches('=')).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_base64(&encode_standard(&all)).unwrap(), all);
    }

    #[test]
    fn base64_garbage_is_refused() {
        for bad in ["Z", "Zg===", "Zm9v!", "Zm 9v", "Zg=a"] {
            assert!(decode_base64(bad).is_none(), "{bad:?}");
        }
    }
}
