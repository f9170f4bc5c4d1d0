//! The admin listener's certificate: a configured PEM pair, or a self-signed one generated at the
//! first start and kept in the state directory, turned into a rustls `ServerConfig`.
//!
//! Where it sits: [`super::start`] calls [`server_config`] once before binding; the resulting
//! config is shared by every admin connection. The SHA-256 fingerprint of the leaf certificate is
//! logged so that an operator can pin it (`apictl` needs `-k` or the certificate in its trust
//! store for a self-signed one).
//!
//! What it does not do: no client certificates, no reloading of a renewed certificate (restart),
//! no ACME.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::digest::{digest, SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::AdminError;

/// File name of the generated certificate in the state directory.
pub const GENERATED_CERT: &str = "admin-cert.pem";
/// File name of the generated private key in the state directory.
pub const GENERATED_KEY: &str = "admin-key.pem";

/// Where the certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// `[admin] tls_cert` / `tls_key`.
    Configured,
    /// Generated now and written to the state directory.
    Generated,
    /// Generated at an earlier start, read back from the state directory.
    Reused,
}

/// A rustls server configuration and what describes its certificate.
pub struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate (DER), as colon-separated upper-case hex.
    pub fingerprint: String,
    pub source: CertSource,
    pub cert_path: PathBuf,
}

/// Loads or generates the certificate and builds the rustls configuration.
pub fn server_config(
    cert_key: Option<(&Path, &Path)>,
    state_dir: &Path,
    listen: SocketAddr,
) -> Result<Tls, AdminError> {
    let (cert_path, key_path, source) = match cert_key {
        Some((cert, key)) => (cert.to_path_buf(), key.to_path_buf(), CertSource::Configured),
        None => {
            let cert = state_dir.join(GENERATED_CERT);
            let key = state_dir.join(GENERATED_KEY);
            match (cert.exists(), key.exists()) {
                (true, true) => (cert, key, CertSource::Reused),
                (false, false) => {
                    generate(state_dir, &cert, &key, listen)?;
                    (cert, key, CertSource::Generated)
                }
                _ => {
                    return Err(AdminError::Tls(format!(
                        "only one of {} and {} exists; remove it to generate a new pair",
                        cert.display(),
                        key.display()
                    )))
                }
            }
        }
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| AdminError::Tls(format!("{}: {e}", cert_path.display())))?;
    let leaf = certs
        .first()
        .ok_or_else(|| AdminError::Tls(format!("{}: no certificate", cert_path.display())))?;
    let fingerprint = fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| AdminError::Tls(format!("{}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AdminError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            AdminError::Tls(format!("{} / {}: {e}", cert_path.display(), key_path.display()))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { config: Arc::new(config), fingerprint, source, cert_path })
}

/// SHA-256 of `der` as `AB:CD:...` (the form `openssl x509 -fingerprint -sha256` prints).
pub fn fingerprint(der: &[u8]) -> String {
    let hash = digest(&SHA256, der);
    let parts: Vec<String> = hash.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    parts.join(":")
}

/// Generates a self-signed ECDSA P-256 certificate for `localhost`, the loopback addresses and
/// the listen address, and writes it (the key readable by the owner only).
fn generate(
    state_dir: &Path,
    cert: &Path,
    key: &Path,
    listen: SocketAddr,
) -> Result<(), AdminError> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let ip = listen.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    let tls = |e: rcgen::Error| AdminError::Tls(format!("generating a certificate: {e}"));
    let mut params = rcgen::CertificateParams::new(names).map_err(tls)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "Turnpike admin API");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Turnpike");
    let key_pair = rcgen::KeyPair::generate().map_err(tls)?;
    let certificate = params.self_signed(&key_pair).map_err(tls)?;
    let io =
        |path: &Path, e: std::io::Error| AdminError::Io { path: path.to_path_buf(), source: e };
    fs::create_dir_all(state_dir).map_err(|e| io(state_dir, e))?;
    write_file(key, key_pair.serialize_pem().as_bytes(), true).map_err(|e| io(key, e))?;
    write_file(cert, certificate.pem().as_bytes(), false).map_err(|e| io(cert, e))?;
    Ok(())
}

/// Writes through a temporary file and a rename, so a crash never leaves half a PEM behind.
fn write_file(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("pem.tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}
