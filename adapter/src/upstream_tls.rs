//! TLS to backends, control-plane side: `gateway.toml` `[upstream_tls]`, the trust an `https://`
//! endpoint gets, and the rustls `ClientConfig`s attached to endpoints when a snapshot compiles.
//!
//! Where it sits: [`parse_section`] runs while `gateway.toml` is read (the client certificate and
//! key are loaded then, so a bad file names its key); the project loader reads each project's
//! `Endpoint-certificates/` into [`EndpointCerts`] (see `project::endpoint_certs`); `compile` asks
//! a [`TlsAttacher`] to attach a [`TlsClient`] to every `https://` endpoint before clusters are
//! laid out. The data plane only ever sees finished configurations (`turnpike_core::tls::client`).
//!
//! ```toml
//! [upstream_tls]
//! verify_hostname = true       # false: certificate chains are still verified, names are not (warned)
//! # client_cert_file = "gw.crt"  # PEM chain the gateway presents to backends that ask for one
//! # client_key_file = "gw.key"   # its PEM private key (set both or neither)
//! ```
//!
//! Trust, per endpoint: the certificates the project maps to the endpoint's host and port in
//! `Endpoint-certificates/endpoint_certificates.yaml` (WSO2 apictl layout), and nothing else;
//! otherwise the operating system's trust store (`rustls-native-certs`: `SSL_CERT_FILE` /
//! `SSL_CERT_DIR`, else the distribution's bundle such as Debian's `/etc/ssl/certs`), read once per
//! process. TLS 1.3 and 1.2 only, ring provider, no ALPN (HTTP/1.1).
//!
//! Ids: a [`TlsClientId`] is FNV-1a over the trust anchors, the client identity, the verification
//! switch and the server name, so it is the same in every snapshot that configures the endpoint
//! alike (per-core session caches and pooled connections carry over a reload).
//!
//! Not here: per-project client certificates (WSO2 has none for backends; `Client-certificates/`
//! is for mutual TLS with clients), revocation checks, hot reload of the system store (restart).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use turnpike_core::tls::client::{TlsClient, TlsClientId};

use crate::config::Section;
use crate::error::{CompileError, ConfigError};
use crate::openapi::EndpointSet;

/// `[upstream_tls]`, validated, with the client identity loaded.
#[derive(Debug, Clone)]
pub struct UpstreamTls {
    /// Check that the backend's certificate names the endpoint's host (default `true`).
    pub verify_hostname: bool,
    /// Certificate chain and key presented to backends that request one.
    pub client_identity: Option<ClientIdentity>,
}

impl Default for UpstreamTls {
    fn default() -> Self {
        Self { verify_hostname: true, client_identity: None }
    }
}

/// A certificate chain and its private key.
#[derive(Debug)]
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

/// Reads `[upstream_tls]` (`s` is that section).
pub(crate) fn parse_section(s: &Section<'_>) -> Result<UpstreamTls, ConfigError> {
    s.only(&["verify_hostname", "client_cert_file", "client_key_file"])?;
    let mut tls = UpstreamTls::default();
    if let Some(verify) = s.bool("verify_hostname")? {
        tls.verify_hostname = verify;
    }
    let cert = s.string("client_cert_file")?;
    let key = s.string("client_key_file")?;
    match (cert, key) {
        (None, None) => {}
        (Some((p, cert)), Some((kp, key))) => {
            let base = s.file.parent().unwrap_or(Path::new(""));
            let cert_path = base.join(&cert);
            let chain = read_certificates(&cert_path).map_err(|why| s.invalid(&p, why))?;
            let key_path = base.join(&key);
            let key = std::fs::read(&key_path)
                .map_err(|e| format!("cannot read {}: {e}", key_path.display()))
                .and_then(|pem| {
                    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
                        format!("{}: no PEM private key found ({e})", key_path.display())
                    })
                })
                .map_err(|why| s.invalid(&kp, why))?;
            // Refuse a pair that does not match now, rather than at the first handshake.
            let provider = rustls::crypto::ring::default_provider();
            let signing = provider
                .key_provider
                .load_private_key(key.clone_key())
                .map_err(|e| s.invalid(&kp, format!("unusable private key: {e}")))?;
            let certified = rustls::sign::CertifiedKey::new(chain.clone(), signing);
            if let Err(e) = certified.keys_match() {
                return Err(s.invalid(&kp, format!("does not match client_cert_file: {e}")));
            }
            tls.client_identity = Some(ClientIdentity { chain, key });
        }
        (Some((p, _)), None) | (None, Some((p, _))) => {
            return Err(s.invalid(&p, "client_cert_file and client_key_file go together".into()))
        }
    }
    Ok(tls)
}

/// Reads a PEM file of one or more certificates (the reason text on failure).
pub(crate) fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_certificates(&pem).map_err(|why| format!("{}: {why}", path.display()))
}

/// Parses PEM certificates; at least one.
pub(crate) fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not a PEM certificate file ({e})"))?;
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) found".to_owned());
    }
    Ok(certs)
}

/// The endpoint certificates of one project (`Endpoint-certificates/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointCerts {
    pub entries: Vec<EndpointCert>,
}

/// Certificates trusted for one backend host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointCert {
    /// `host:port`, lower case, port always written (443 when the URL has none).
    pub origin: String,
    pub certs: Vec<CertificateDer<'static>>,
    /// The mapping file and pointer the entry came from (for errors).
    pub file: PathBuf,
    pub pointer: String,
}

impl EndpointCerts {
    /// The entries for an endpoint's `authority` (`host[:port]` of an `https://` URL).
    fn for_authority(&self, authority: &str) -> Vec<&EndpointCert> {
        let origin = origin_of_authority(authority, 443);
        self.entries.iter().filter(|e| e.origin == origin).collect()
    }
}

/// `host:port` of an endpoint URL (`https://host[:port][/path]`), lower case, default port
/// written; `None` if it is not an `https://` URL.
pub(crate) fn origin_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!authority.is_empty()).then(|| origin_of_authority(authority, 443))
}

fn origin_of_authority(authority: &str, default_port: u16) -> String {
    let lower = authority.to_ascii_lowercase();
    let has_port = match lower.rfind(']') {
        Some(close) => lower.get(close + 1..).is_some_and(|r| r.starts_with(':')),
        None => lower.contains(':'),
    };
    if has_port {
        lower
    } else {
        format!("{lower}:{default_port}")
    }
}

/// The system trust store, read once per process.
fn system_roots() -> Result<Arc<RootCertStore>, String> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(format!(
                    "no trusted certificate authorities found in the system store{}",
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", errors.join("; "))
                    }
                ));
            }
            tracing::debug!(roots = added, "system trust store loaded for upstream TLS");
            Ok(Arc::new(roots))
        })
        .clone()
}

/// Attaches client configurations to `https://` endpoints while one snapshot compiles, sharing
/// one configuration among endpoints with the same trust.
pub struct TlsAttacher<'a> {
    settings: &'a UpstreamTls,
    /// Configurations by digest of trust + identity + verification switch.
    configs: HashMap<u64, Arc<ClientConfig>>,
    warned_no_verify: bool,
}

impl<'a> TlsAttacher<'a> {
    pub fn new(settings: &'a UpstreamTls) -> Self {
        Self { settings, configs: HashMap::new(), warned_no_verify: false }
    }

    /// `set` with a client configuration on each TLS endpoint; `certs` are the project's
    /// endpoint certificates and `file` the definition named in errors.
    pub fn attach<'s>(
        &mut self,
        set: &'s EndpointSet,
        certs: &EndpointCerts,
        file: &Path,
    ) -> Result<Cow<'s, EndpointSet>, CompileError> {
        if set.endpoints.iter().all(|e| e.tls.is_none()) {
            return Ok(Cow::Borrowed(set));
        }
        let mut out = set.clone();
        for endpoint in &mut out.endpoints {
            let Some(tls) = endpoint.tls.as_mut() else { continue };
            let pinned = certs.for_authority(&endpoint.authority);
            let client = self.client(&pinned, &tls.server_name).map_err(|reason| {
                CompileError::UpstreamTls {
                    file: file.to_path_buf(),
                    endpoint: format!("https://{}{}", endpoint.authority, endpoint.base_path),
                    reason,
                }
            })?;
            tls.client = Some(client);
        }
        Ok(Cow::Owned(out))
    }

    fn client(
        &mut self,
        pinned: &[&EndpointCert],
        server_name: &ServerName<'static>,
    ) -> Result<TlsClient, String> {
        let mut h = Fnv::new();
        if pinned.is_empty() {
            h.field(b"system");
        } else {
            for cert in pinned.iter().flat_map(|e| &e.certs) {
                h.field(cert.as_ref());
            }
        }
        h.field(&[u8::from(self.settings.verify_hostname)]);
        if let Some(identity) = &self.settings.client_identity {
            for cert in &identity.chain {
                h.field(cert.as_ref());
            }
            h.field(identity.key.secret_der());
        }
        let config_digest = h.finish();
        let config = match self.configs.get(&config_digest) {
            Some(config) => Arc::clone(config),
            None => {
                let config = Arc::new(self.build(pinned)?);
                self.configs.insert(config_digest, Arc::clone(&config));
                config
            }
        };
        h.field(server_name.to_str().as_bytes());
        Ok(TlsClient { id: TlsClientId(h.finish()), config })
    }

    fn build(&mut self, pinned: &[&EndpointCert]) -> Result<ClientConfig, String> {
        let roots = if pinned.is_empty() {
            system_roots()?
        } else {
            let mut roots = RootCertStore::empty();
            for entry in pinned {
                for cert in &entry.certs {
                    roots.add(cert.clone()).map_err(|e| {
                        format!(
                            "{} {}: certificate unusable as a trust anchor: {e}",
                            entry.file.display(),
                            entry.pointer
                        )
                    })?;
                }
            }
            Arc::new(roots)
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS versions: {e}"))?;
        let builder = if self.settings.verify_hostname {
            builder.with_webpki_verifier(verifier)
        } else {
            if !self.warned_no_verify {
                self.warned_no_verify = true;
                tracing::warn!(
                    "[upstream_tls] verify_hostname = false: backend certificates are NOT checked \
                     against endpoint host names (chains still are); any backend holding a \
                     trusted certificate can impersonate any other"
                );
            }
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName { inner: verifier }))
        };
        match &self.settings.client_identity {
            None => Ok(builder.with_no_client_auth()),
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(|e| format!("[upstream_tls] client certificate: {e}")),
        }
    }
}

/// Verifies the chain like WebPKI does, but accepts a certificate for any name
/// (`verify_hostname = false`).
#[derive(Debug)]
struct AnyName {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // WebPKI checks the chain (and validity) before the name: a name error means the rest
        // passed.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// 64-bit FNV-1a with length-prefixed fields (ids only: nothing secret depends on it).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn field(&mut self, bytes: &[u8]) {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_at(text: &str) -> (String, String) {
        match crate::config::parse(Path::new("gateway.toml"), text).unwrap_err() {
            ConfigError::InvalidConfig { pointer, reason, .. } => (pointer, reason),
            other => panic!("expected InvalidConfig, got {other}"),
        }
    }

    #[test]
    fn section_is_read_and_errors_name_the_key() {
        let config = crate::config::parse(Path::new("gateway.toml"), "").unwrap();
        assert!(config.upstream_tls.verify_hostname, "verification is on by default");
        let text = "[upstream_tls]\nverify_hostname = false";
        let config = crate::config::parse(Path::new("gateway.toml"), text).unwrap();
        assert!(!config.upstream_tls.verify_hostname);
        assert!(config.upstream_tls.client_identity.is_none());

        let (p, r) = invalid_at("[upstream_tls]\nclient_cert_file = \"gw.crt\"");
        assert_eq!(p, "/upstream_tls/client_cert_file");
        assert!(r.contains("go together"), "{r}");
        let (p, r) = invalid_at(
            "[upstream_tls]\nclient_cert_file = \"/nonexistent/gw.crt\"\n\
             client_key_file = \"/nonexistent/gw.key\"",
        );
        assert_eq!(p, "/upstream_tls/client_cert_file");
        assert!(r.contains("cannot read /nonexistent/gw.crt"), "{r}");
        let (p, _) = invalid_at("[upstream_tls]\nverify = true");
        assert_eq!(p, "/upstream_tls/verify");
    }

    #[test]
    fn a_client_key_that_does_not_match_the_certificate_is_refused() {
        let dir = std::env::temp_dir().join(format!("tp-upstream-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["gw".to_owned()]).unwrap();
        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(dir.join("gw.crt"), cert.cert.pem()).unwrap();
        std::fs::write(dir.join("other.key"), other.serialize_pem()).unwrap();
        std::fs::write(dir.join("gw.key"), cert.key_pair.serialize_pem()).unwrap();
        let toml = |key: &str| {
            format!(
                "[upstream_tls]\nclient_cert_file = \"{}\"\nclient_key_file = \"{}\"",
                dir.join("gw.crt").display(),
                dir.join(key).display()
            )
        };
        let (p, r) = invalid_at(&toml("other.key"));
        assert_eq!(p, "/upstream_tls/client_key_file");
        assert!(r.contains("does not match"), "{r}");
        let config = crate::config::parse(Path::new("gateway.toml"), &toml("gw.key")).unwrap();
        assert_eq!(config.upstream_tls.client_identity.map(|i| i.chain.len()), Some(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ids_depend_on_trust_and_name_and_configs_are_shared() {
        let settings = UpstreamTls::default();
        let mut attacher = TlsAttacher::new(&settings);
        let ca = rcgen::generate_simple_self_signed(vec!["ca".to_owned()]).unwrap();
        let pinned = EndpointCert {
            origin: "a:443".to_owned(),
            certs: vec![ca.cert.der().clone()],
            file: PathBuf::from("endpoint_certificates.yaml"),
            pointer: "/data/0".to_owned(),
        };
        let name = |n: &str| ServerName::try_from(n.to_owned()).unwrap();
        let a = attacher.client(&[&pinned], &name("a")).unwrap();
        let a_again = attacher.client(&[&pinned], &name("a")).unwrap();
        let b = attacher.client(&[&pinned], &name("b")).unwrap();
        assert_eq!(a.id, a_again.id, "stable");
        assert_ne!(a.id, b.id, "the server name is part of the id");
        assert!(Arc::ptr_eq(&a.config, &b.config), "one configuration per trust");
        let no_verify = UpstreamTls { verify_hostname: false, ..UpstreamTls::default() };
        let c = TlsAttacher::new(&no_verify).client(&[&pinned], &name("a")).unwrap();
        assert_ne!(a.id, c.id, "the verification switch is part of the id");
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin_of_url("https://Backend.Example/v1").as_deref(),
            Some("backend.example:443")
        );
        assert_eq!(origin_of_url("https://b:8443").as_deref(), Some("b:8443"));
        assert_eq!(origin_of_url("https://[::1]/x").as_deref(), Some("[::1]:443"));
        assert_eq!(origin_of_url("https://[::1]:9443").as_deref(), Some("[::1]:9443"));
        assert_eq!(origin_of_url("http://b:8443"), None);
        assert_eq!(origin_of_url("https://"), None);
    }
}
