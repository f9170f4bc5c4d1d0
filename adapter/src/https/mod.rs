//! `gateway.toml [tls]`: the HTTPS listener's certificates, compiled into the core's
//! [`ServerTls`] (a `rustls::ServerConfig` and the handshake limits).
//!
//! Where it sits: [`crate::config::parse`] calls [`parse`] for the section and [`build`] for what
//! it names, on the control thread, at start and at each reload of `gateway.toml`. The certificate
//! and key files are read again then, and the watcher ([`crate::deploy::watch`]) reloads
//! `gateway.toml` when one of them is replaced (in place or by a rename, as certificate managers
//! do): the new certificates go to new connections; open connections keep their session. A file
//! that does not load rejects the whole reload, naming the file and key path, and the running
//! certificates keep serving. The listener address needs a restart.
//!
//! ```toml
//! [tls]
//! listen = "0.0.0.0:9095"          # default: the [listener] host, port 9095
//! handshake_timeout_ms = 10000     # accept to end of handshake; slower clients are dropped
//! max_handshakes = 1024            # handshakes in progress per core; more are closed at once
//! forward_client_certificate_header = "X-WSO2-CLIENT-CERTIFICATE"   # default: not forwarded
//! [[tls.certificates]]             # none: no HTTPS listener
//! cert_file = "server.crt"         # PEM, leaf first, then intermediates
//! key_file = "server.key"          # PEM private key (PKCS#8, PKCS#1 or SEC1)
//! server_names = ["api.example.com", "*.example.com"]   # SNI; none: the default certificate
//! ```
//!
//! What every certificate is served with (not configurable): TLS 1.3 and 1.2 only, 1.3 preferred;
//! the server's cipher-suite order (`ignore_client_order`), only ECDHE key exchange with AEAD
//! suites (AES-GCM, ChaCha20-Poly1305; rustls has nothing weaker); ALPN `http/1.1` only (HTTP/2
//! is not offered); session resumption through stateless tickets whose keys are made once per
//! process (ring AEAD, rotated every 6 hours by rustls), so a ticket from one core resumes on any
//! other and survives reloads; no server-side session cache (it would be shared by the cores).
//!
//! Client certificates (mutual TLS) are asked for only when a deployed API uses mutual TLS
//! (`client_auth`, rebuilt at every compile). `forward_client_certificate_header` names the header
//! that carries the verified client certificate to backends (base64 DER, WSO2's
//! `X-WSO2-CLIENT-CERTIFICATE` format); a received header of that name is then always removed,
//! on plain HTTP too (`turnpike_core::client_certificate`).

pub mod client_auth;
pub mod sni;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ring::digest::{digest, SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{
    NoServerSessionStorage, ProducesTickets, ResolvesServerCert, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use turnpike_core::conn::tls::{ServerTls, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_HANDSHAKES};

use crate::config::Section;
use crate::error::ConfigError;
use crate::pointer::Pointer;

use sni::SniResolver;

/// Port of the HTTPS listener when `[tls] listen` is not given.
pub const DEFAULT_PORT: u16 = 9095;
/// The only application protocol offered.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// `[tls]`, validated (files not read yet).
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub listen: SocketAddr,
    pub handshake_timeout: Duration,
    pub max_handshakes: usize,
    pub certificates: Vec<CertificateSpec>,
    /// `forward_client_certificate_header`, in lower case.
    pub forward_client_certificate_header: Option<String>,
}

/// One `[[tls.certificates]]` entry.
#[derive(Debug, Clone)]
pub struct CertificateSpec {
    /// Where the entry is in the file (for errors).
    pub pointer: Pointer,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub server_names: Vec<String>,
}

impl TlsConfig {
    /// The certificate and key files, in the order of `[[tls.certificates]]`.
    pub fn files(&self) -> Vec<PathBuf> {
        let pairs = self.certificates.iter();
        pairs.flat_map(|c| [c.cert_file.clone(), c.key_file.clone()]).collect()
    }
}

/// Parses `[tls]`; `default_host` is the HTTP listener's address.
pub(crate) fn parse(s: &Section<'_>, default_host: IpAddr) -> Result<TlsConfig, ConfigError> {
    s.only(&[
        "listen",
        "handshake_timeout_ms",
        "max_handshakes",
        "certificates",
        "forward_client_certificate_header",
    ])?;
    let mut tls = TlsConfig {
        listen: SocketAddr::new(default_host, DEFAULT_PORT),
        handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        max_handshakes: DEFAULT_MAX_HANDSHAKES,
        certificates: Vec::new(),
        forward_client_certificate_header: None,
    };
    if let Some((p, name)) = s.string("forward_client_certificate_header")? {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return Err(s.invalid(&p, format!("{name:?} is not a header name")));
        }
        tls.forward_client_certificate_header = Some(name.to_ascii_lowercase());
    }
    if let Some((p, text)) = s.string("listen")? {
        tls.listen = text
            .parse()
            .map_err(|_| s.invalid(&p, format!("{text:?} is not an IP:port socket address")))?;
    }
    if let Some(d) = s.millis("handshake_timeout_ms", false)? {
        tls.handshake_timeout = d;
    }
    if let Some(n) = s.positive("max_handshakes")? {
        tls.max_handshakes = s.fits("max_handshakes", n)?;
    }
    let mut has_default = false;
    for c in s.tables("certificates")? {
        c.only(&["cert_file", "key_file", "server_names"])?;
        let file = |key: &str| -> Result<PathBuf, ConfigError> {
            match c.string(key)? {
                Some((p, path)) if path.is_empty() => {
                    Err(c.invalid(&p, "must not be empty".into()))
                }
                Some((_, path)) => Ok(PathBuf::from(path)),
                None => Err(c.invalid(&c.pointer.key(key), "missing (required)".into())),
            }
        };
        let (cert_file, key_file) = (file("cert_file")?, file("key_file")?);
        let mut server_names = Vec::new();
        for (p, name) in c.strings("server_names")?.unwrap_or_default() {
            if !sni::valid_name(&name) {
                return Err(c.invalid(&p, format!("{name:?} is not a DNS name or *.wildcard")));
            }
            server_names.push(name.to_ascii_lowercase());
        }
        if server_names.is_empty() {
            if has_default {
                return Err(c.invalid(
                    &c.pointer,
                    "a second certificate without server_names (only one can be the default)"
                        .into(),
                ));
            }
            has_default = true;
        }
        tls.certificates.push(CertificateSpec {
            pointer: c.pointer.clone(),
            cert_file,
            key_file,
            server_names,
        });
    }
    Ok(tls)
}

/// Reads the certificates and keys and builds the server side (`None`: no certificates).
pub(crate) fn build(file: &Path, tls: &TlsConfig) -> Result<Option<Arc<ServerTls>>, ConfigError> {
    if tls.certificates.is_empty() {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut resolver = SniResolver::default();
    let mut description = String::new();
    for spec in &tls.certificates {
        let invalid = |key: &str, reason: String| ConfigError::InvalidConfig {
            file: file.to_path_buf(),
            pointer: spec.pointer.key(key).to_string(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(&spec.cert_file)
            .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
            .map_err(|e| invalid("cert_file", format!("{}: {e}", spec.cert_file.display())))?;
        let Some(leaf) = certs.first() else {
            let reason = format!("{}: no CERTIFICATE in the file", spec.cert_file.display());
            return Err(invalid("cert_file", reason));
        };
        let fingerprint = hex(digest(&SHA256, leaf.as_ref()).as_ref());
        let key = PrivateKeyDer::from_pem_file(&spec.key_file)
            .map_err(|e| invalid("key_file", format!("{}: {e}", spec.key_file.display())))?;
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| invalid("key_file", format!("{}: {e}", spec.key_file.display())))?;
        let certified = CertifiedKey::new(certs, signing);
        certified.keys_match().map_err(|e| {
            let reason = format!(
                "{} does not belong to {}: {e}",
                spec.key_file.display(),
                spec.cert_file.display()
            );
            invalid("key_file", reason)
        })?;
        resolver.add(&spec.server_names, Arc::new(certified));
        description.push_str(&format!("{:?}={fingerprint}; ", spec.server_names));
    }
    let resolver: Arc<dyn ResolvesServerCert> = Arc::new(resolver);
    let config = server_config(Arc::clone(&resolver), WebPkiClientVerifier::no_client_auth())
        .map_err(|e| ConfigError::InvalidConfig {
            file: file.to_path_buf(),
            pointer: "/tls".into(),
            reason: format!("cannot build the TLS configuration: {e}"),
        })?;
    Ok(Some(Arc::new(ServerTls {
        config: Arc::new(config),
        cert_resolver: resolver,
        handshake_timeout: tls.handshake_timeout,
        max_handshakes: tls.max_handshakes,
        description,
    })))
}

/// The rustls configuration every HTTPS connection is served with (see the module docs).
pub fn server_config(
    resolver: Arc<dyn ResolvesServerCert>,
    client_verifier: Arc<dyn ClientCertVerifier>,
) -> Result<rustls::ServerConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(client_verifier)
        .with_cert_resolver(resolver);
    config.ignore_client_order = true;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.ticketer = ticketer()?;
    Ok(config)
}

/// The process's ticket keys: made once, shared by every core and kept across reloads.
fn ticketer() -> Result<Arc<dyn ProducesTickets>, rustls::Error> {
    static TICKETER: OnceLock<Arc<dyn ProducesTickets>> = OnceLock::new();
    if let Some(t) = TICKETER.get() {
        return Ok(Arc::clone(t));
    }
    let made = rustls::crypto::ring::Ticketer::new()?;
    Ok(Arc::clone(TICKETER.get_or_init(|| made)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use crate::config::parse;
    use crate::error::ConfigError;
    use std::path::Path;

    fn invalid_at(text: &str) -> (String, String) {
        match parse(Path::new("gateway.toml"), text) {
            Err(ConfigError::InvalidConfig { pointer, reason, .. }) => (pointer, reason),
            Err(other) => panic!("expected InvalidConfig, got {other}"),
            Ok(_) => panic!("accepted: {text}"),
        }
    }

    #[test]
    fn without_certificates_there_is_no_listener() {
        let c = parse(Path::new("gateway.toml"), "[listener]\naddress = \"127.0.0.1:80\"\n[tls]\n")
            .unwrap();
        assert!(c.settings.tls.is_none());
        assert_eq!(c.static_config.tls_listen, None);
        let tls = c.tls.unwrap();
        assert_eq!(tls.listen, "127.0.0.1:9095".parse().unwrap(), "the HTTP listener's host");
        assert_eq!(tls.handshake_timeout, std::time::Duration::from_secs(10));
    }

    #[test]
    fn errors_name_the_key_path() {
        let cert = "[[tls.certificates]]\ncert_file = \"/nonexistent/a.crt\"\nkey_file = \"k\"\n";
        let (pointer, reason) = invalid_at(cert);
        assert_eq!(pointer, "/tls/certificates/0/cert_file");
        assert!(reason.contains("/nonexistent/a.crt"), "{reason}");
        let (pointer, _) = invalid_at("[[tls.certificates]]\ncert_file = \"a\"\n");
        assert_eq!(pointer, "/tls/certificates/0/key_file");
        let (pointer, reason) = invalid_at(
            "[[tls.certificates]]\ncert_file = \"a\"\nkey_file = \"b\"\nserver_names = [\"a b\"]\n",
        );
        assert_eq!(pointer, "/tls/certificates/0/server_names/0");
        assert!(reason.contains("DNS name"), "{reason}");
        let two_defaults = "[[tls.certificates]]\ncert_file = \"a\"\nkey_file = \"b\"\n\
                            [[tls.certificates]]\ncert_file = \"c\"\nkey_file = \"d\"\n";
        assert_eq!(invalid_at(two_defaults).0, "/tls/certificates/1");
        assert_eq!(invalid_at("[tls]\nhandshake_timeout_ms = 0\n").0, "/tls/handshake_timeout_ms");
        assert_eq!(invalid_at("[tls]\nlisten = \"nope\"\n").0, "/tls/listen");
        assert_eq!(invalid_at("[tls]\nciphers = []\n").0, "/tls/ciphers");
    }
}
