//! `[[security.issuers]] certificate = "FILE"`: an issuer's signing key read from a PEM file
//! holding an X.509 certificate (what a WSO2 key manager is configured with) or a
//! SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`, `openssl pkey -pubout`), turned into a
//! static [`VerifyingKey`].
//!
//! Where it sits: `config` calls [`read_issuer_key`] while it parses `[security]`, on the control
//! thread, once per start; the key joins the issuer's static [`turnpike_policy::jose::KeySet`]
//! exactly like a `jwks_file` key and is never refreshed. Supported keys: RSA (2048..=8192 bits),
//! EC P-256 and P-384 (uncompressed points), Ed25519, with the checks a JWK of that type gets.
//! A PKCS#1 `RSA PUBLIC KEY` block is read too. The first certificate or public key of the file
//! is used (a chain's leaf comes first); blocks of other kinds before it are skipped.
//!
//! What it does not do: check the certificate's validity period, chain or signature. WSO2 does
//! not either for a key manager's signing certificate: the certificate is only a container for the
//! public key the operator chose to trust. Parsing is done with `x509-parser`, which also gives
//! the subject, issuer, SANs and validity that client-certificate (mTLS) checks will need.

use std::fmt;
use std::path::Path;

use turnpike_policy::jose::{KeyError, KeyFamily, VerifyingKey};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519,
};
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Why a `certificate` file gives no usable key. `Display` says what is wrong; the caller adds
/// the file and the config key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateError {
    /// The file cannot be read.
    Read(String),
    /// No `-----BEGIN ...-----` block at all.
    NotPem,
    /// A PEM block is broken (no END line, body not base64).
    BadPem(String),
    /// PEM blocks, but none is a certificate or public key (labels found, in order).
    NoPublicKey(Vec<String>),
    /// The `CERTIFICATE` block is not DER X.509.
    Certificate(String),
    /// The `PUBLIC KEY` / `RSA PUBLIC KEY` block, or a certificate's key, cannot be decoded.
    PublicKeyInfo(&'static str),
    /// A key algorithm Turnpike cannot verify JWTs with (its OID), e.g. DSA.
    UnsupportedKeyType(String),
    /// An EC key on a curve other than P-256 / P-384 (the curve's OID, if any).
    UnsupportedCurve(String),
    /// The key parsed but is unusable (too small RSA, invalid EC point, ...).
    Key(KeyError),
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(why) => write!(f, "cannot read: {why}"),
            Self::NotPem => f.write_str(
                "not PEM: expected -----BEGIN CERTIFICATE----- or -----BEGIN PUBLIC KEY-----",
            ),
            Self::BadPem(why) => write!(f, "broken PEM block: {why}"),
            Self::NoPublicKey(labels) => {
                write!(f, "holds {} but no CERTIFICATE or PUBLIC KEY block", labels.join(", "))?;
                if labels.iter().any(|l| l.contains("PRIVATE KEY")) {
                    f.write_str(
                        " (a private key does not belong in gateway.toml: give its certificate, \
                         e.g. from `turnpike token --key FILE --cert CERT.pem`)",
                    )?;
                }
                Ok(())
            }
            Self::Certificate(why) => write!(f, "not an X.509 certificate: {why}"),
            Self::PublicKeyInfo(why) => write!(f, "unreadable public key: {why}"),
            Self::UnsupportedKeyType(oid) => write!(
                f,
                "unsupported key type (algorithm {oid}); use RSA, EC P-256/P-384 or Ed25519"
            ),
            Self::UnsupportedCurve(oid) => {
                write!(f, "unsupported EC curve {oid}; use P-256 or P-384")
            }
            Self::Key(why) => write!(f, "unusable key: {why}"),
        }
    }
}

impl std::error::Error for CertificateError {}

/// Reads `path` (see the module docs); `kid`, when given, is the key's `kid`.
pub fn read_issuer_key(path: &Path, kid: Option<&str>) -> Result<VerifyingKey, CertificateError> {
    let pem = std::fs::read(path).map_err(|e| CertificateError::Read(e.to_string()))?;
    issuer_key_from_pem(&pem, kid)
}

/// The key of the first certificate or public key block of `pem`.
pub fn issuer_key_from_pem(
    pem: &[u8],
    kid: Option<&str>,
) -> Result<VerifyingKey, CertificateError> {
    let mut labels = Vec::new();
    for block in Pem::iter_from_buffer(pem) {
        let block = match block {
            Ok(block) => block,
            // Text after the last block (comments, blank lines) ends the iteration.
            Err(x509_parser::error::PEMError::MissingHeader) => break,
            Err(e) => return Err(CertificateError::BadPem(e.to_string())),
        };
        match block.label.as_str() {
            "CERTIFICATE" => {
                let cert =
                    block.parse_x509().map_err(|e| CertificateError::Certificate(e.to_string()))?;
                return from_spki(cert.public_key(), kid);
            }
            "PUBLIC KEY" => {
                let (_, spki) = SubjectPublicKeyInfo::from_der(&block.contents).map_err(|_| {
                    CertificateError::PublicKeyInfo("not a DER SubjectPublicKeyInfo")
                })?;
                return from_spki(&spki, kid);
            }
            "RSA PUBLIC KEY" => return from_pkcs1(&block.contents, kid),
            other => labels.push(other.to_owned()),
        }
    }
    if labels.is_empty() {
        Err(CertificateError::NotPem)
    } else {
        Err(CertificateError::NoPublicKey(labels))
    }
}

fn from_pkcs1(der: &[u8], kid: Option<&str>) -> Result<VerifyingKey, CertificateError> {
    let (_, rsa) = RSAPublicKey::from_der(der)
        .map_err(|_| CertificateError::PublicKeyInfo("not a DER RSAPublicKey"))?;
    VerifyingKey::from_rsa_components(rsa.modulus, rsa.exponent, kid).map_err(CertificateError::Key)
}

fn from_spki(
    spki: &SubjectPublicKeyInfo<'_>,
    kid: Option<&str>,
) -> Result<VerifyingKey, CertificateError> {
    let algorithm = &spki.algorithm.algorithm;
    let bits: &[u8] = &spki.subject_public_key.data;
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        return from_pkcs1(bits, kid);
    }
    if *algorithm == OID_SIG_ED25519 {
        return VerifyingKey::from_ed25519(bits, kid).map_err(CertificateError::Key);
    }
    if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
        let family = match &curve {
            Some(oid) if *oid == OID_EC_P256 => KeyFamily::EcP256,
            Some(oid) if *oid == OID_NIST_EC_P384 => KeyFamily::EcP384,
            Some(oid) => return Err(CertificateError::UnsupportedCurve(oid.to_id_string())),
            None => return Err(CertificateError::UnsupportedCurve("(not a named curve)".into())),
        };
        if matches!(bits.first(), Some(0x02 | 0x03)) {
            return Err(CertificateError::PublicKeyInfo("compressed EC points are not supported"));
        }
        return VerifyingKey::from_ec_point(family, bits, kid).map_err(CertificateError::Key);
    }
    Err(CertificateError::UnsupportedKeyType(algorithm.to_id_string()))
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
