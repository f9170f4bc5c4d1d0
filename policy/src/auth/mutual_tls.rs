//! Mutual TLS as API security (WSO2 `mutualssl` / `mutualssl_mandatory`): the client
//! certificates one API trusts, and the check of a connection's client certificate against them.
//!
//! Where it sits: the adapter reads each apictl project's `Client-certificates/` folder into a
//! [`ClientCertificates`] (one `Arc` per API, shared by its routes' requirements) and, at compile
//! time, also hands the union of every API's certificates to the HTTPS listener's client
//! certificate verifier. So by the time a request reaches [`super::Authenticate`], the TLS layer
//! has verified the leaf's chain, validity period and signature against *some* deployed API;
//! [`ClientCertificates::accept`] only decides whether the leaf is one of *this* API's: the same
//! certificate (DER equality), or a certificate whose issuer name is the subject name of one of
//! the API's CA certificates (basic constraints `cA`). Non-CA certificates are only ever matched
//! exactly: a client holding a trusted leaf's key cannot mint certificates of its own.
//!
//! What it does not do: no signature checks (the handshake did them) and no revocation.

use x509_parser::prelude::{FromDer, X509Certificate};

/// How an API uses mutual TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MutualTlsMode {
    /// Not used: the client certificate is ignored.
    #[default]
    Off,
    /// An accepted certificate authenticates the caller; without one, the other schemes decide
    /// (and are then required).
    Optional,
    /// Every request needs an accepted certificate (plain HTTP requests never have one).
    Mandatory,
}

/// One certificate an API trusts (a `Client-certificates/` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCertificate {
    /// The alias it was uploaded under.
    pub alias: String,
    /// The throttling tier mapped to it (`tierName`), if any.
    pub tier: Option<String>,
    der: Box<[u8]>,
    /// The DER of its subject name (matched against the issuer name of leaves it issued).
    subject: Box<[u8]>,
    /// Whether it is a CA (then certificates it issued are accepted too).
    is_ca: bool,
}

impl TrustedCertificate {
    /// Parses `der`; the error says why it is not an X.509 certificate.
    pub fn parse(alias: String, tier: Option<String>, der: Vec<u8>) -> Result<Self, String> {
        let (rest, cert) = X509Certificate::from_der(&der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err("trailing bytes after the certificate".to_owned());
        }
        let subject = cert.subject().as_raw().to_vec().into_boxed_slice();
        let is_ca = cert.is_ca();
        Ok(Self { alias, tier, der: der.into_boxed_slice(), subject, is_ca })
    }

    /// The certificate's DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Whether it is a CA certificate.
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }
}

/// Why a client certificate does not authenticate the caller for an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateRefusal {
    /// The connection has no client certificate (plain HTTP, or the client sent none).
    Missing,
    /// The certificate is not one of the API's, nor issued by one of its CAs.
    NotTrusted,
    /// The DER does not parse (cannot happen after a handshake; refused all the same).
    Unparsable,
}

/// The certificate of a connection that an API accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedCertificate<'t> {
    /// The trusted entry that matched (the certificate itself or its issuer).
    pub trusted: &'t TrustedCertificate,
    /// The client certificate's subject distinguished name (RFC 4514 string).
    pub subject: String,
}

/// The certificates one API trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCertificates {
    list: Vec<TrustedCertificate>,
}

impl ClientCertificates {
    /// The set `list`.
    pub fn new(list: Vec<TrustedCertificate>) -> Self {
        Self { list }
    }

    /// Whether the API trusts none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The certificates, in project order.
    pub fn iter(&self) -> impl Iterator<Item = &TrustedCertificate> {
        self.list.iter()
    }

    /// Whether `leaf` (the handshake-verified client certificate's DER) is accepted.
    pub fn accept(
        &self,
        leaf: Option<&[u8]>,
    ) -> Result<AcceptedCertificate<'_>, CertificateRefusal> {
        let leaf = leaf.ok_or(CertificateRefusal::Missing)?;
        let (_, cert) =
            X509Certificate::from_der(leaf).map_err(|_| CertificateRefusal::Unparsable)?;
        let issuer = cert.issuer().as_raw();
        let trusted = self
            .list
            .iter()
            .find(|t| &*t.der == leaf)
            .or_else(|| self.list.iter().find(|t| t.is_ca && &*t.subject == issuer))
            .ok_or(CertificateRefusal::NotTrusted)?;
        Ok(AcceptedCertificate { trusted, subject: cert.subject().to_string() })
    }
}
