//! Client certificates on the HTTPS listener (mutual TLS): the verifier that asks every client
//! for a certificate when a deployed API uses mutual TLS, and accepts the certificates those APIs
//! trust.
//!
//! Where it sits: `compile` calls [`with_client_certificates`] with the union of the deployed
//! APIs' `Client-certificates/`, and puts the rebuilt [`ServerTls`] in the snapshot's settings:
//! every redeploy (and every `gateway.toml` reload, which recompiles) makes a new verifier, and
//! each new connection takes the one of the snapshot current at accept; open connections keep
//! theirs. rustls calls [`ApiClientVerifier`] during handshakes, on the core doing them.
//!
//! What the handshake accepts: no certificate at all (client authentication is optional at the
//! TLS layer; the authentication policy refuses requests to APIs that require one); a certificate
//! that is one of the trusted ones, byte for byte, within its validity period; or a certificate
//! that chains (through the intermediates the client sent) to a trusted CA certificate, checked by
//! webpki (validity, signatures, `clientAuth` extended key usage when present). Anything else, an
//! expired certificate included, fails the handshake. Which API accepts which certificate is
//! decided per request by `turnpike_policy::auth::ClientCertificates`.
//!
//! No certificate authority names are hinted in the CertificateRequest (an empty list asks
//! clients to send whatever certificate they have): exactly-trusted client certificates are not
//! issued by a hinted CA, and a long list of every API's CAs would go out in every handshake.
//! A resumed session keeps the certificate of its first handshake.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore};
use turnpike_core::conn::tls::ServerTls;
use turnpike_policy::auth::TrustedCertificate;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::time::ASN1Time;

/// `tls` with a client-certificate verifier for `trusted` (several APIs may list the same
/// certificate; duplicates are dropped). The error says which certificate webpki refused.
pub fn with_client_certificates<'t>(
    tls: &ServerTls,
    trusted: impl IntoIterator<Item = &'t TrustedCertificate>,
) -> Result<ServerTls, String> {
    let verifier = ApiClientVerifier::new(trusted)?;
    let description = format!(
        "{}client certificates: {} exact, {} CA",
        tls.description,
        verifier.exact.len(),
        verifier.cas
    );
    let config = super::server_config(Arc::clone(&tls.cert_resolver), Arc::new(verifier))
        .map_err(|e| format!("cannot build the TLS configuration: {e}"))?;
    Ok(ServerTls {
        config: Arc::new(config),
        cert_resolver: Arc::clone(&tls.cert_resolver),
        handshake_timeout: tls.handshake_timeout,
        max_handshakes: tls.max_handshakes,
        description,
    })
}

/// See the module documentation.
#[derive(Debug)]
pub struct ApiClientVerifier {
    /// Every trusted certificate's DER (exact matches).
    exact: Vec<CertificateDer<'static>>,
    /// webpki over the trusted CA certificates (`None`: no CA is trusted).
    chained: Option<Arc<dyn ClientCertVerifier>>,
    /// Number of CA certificates (for the description).
    cas: usize,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ApiClientVerifier {
    fn new<'t>(trusted: impl IntoIterator<Item = &'t TrustedCertificate>) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut exact: Vec<CertificateDer<'static>> = Vec::new();
        let mut roots = RootCertStore::empty();
        for cert in trusted {
            let der = CertificateDer::from(cert.der().to_vec());
            if exact.contains(&der) {
                continue;
            }
            if cert.is_ca() {
                roots.add(der.clone()).map_err(|e| {
                    format!(
                        "client certificate {:?} is not a usable CA certificate: {e}",
                        cert.alias
                    )
                })?;
            }
            exact.push(der);
        }
        let cas = roots.len();
        let chained = if roots.is_empty() {
            None
        } else {
            let built =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .allow_unauthenticated()
                    .clear_root_hint_subjects()
                    .build()
                    .map_err(|e| format!("cannot build the client certificate verifier: {e}"))?;
            Some(built)
        };
        Ok(Self { exact, chained, cas, algorithms: provider.signature_verification_algorithms })
    }
}

impl ClientCertVerifier for ApiClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.exact.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            return within_validity(end_entity, now).map(|()| ClientCertVerified::assertion());
        }
        match &self.chained {
            Some(chained) => chained.verify_client_cert(end_entity, intermediates, now),
            None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Whether `cert` is within its validity period at `now`.
fn within_validity(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let at = ASN1Time::from_timestamp(now_secs)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.validity();
    if at < validity.not_before {
        return Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYet));
    }
    if at > validity.not_after {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
    }
    Ok(())
}
