//! Choosing the HTTPS listener's certificate by the name the client asked for (SNI).
//!
//! Where it sits: inside the `rustls::ServerConfig` that [`super::build`] makes; rustls calls
//! [`SniResolver::resolve`] during each handshake, on the core doing it. Lookup order: the exact
//! name, then a `*.suffix` wildcard matching one label (`*.example.com` matches `a.example.com`,
//! not `example.com` nor `a.b.example.com`, as RFC 6125 §6.4.3 allows), then the default
//! certificate (the one configured without `server_names`; the first certificate when none is).
//! Names are compared in lower case. The table is immutable: a reload builds a new one.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Certificates by server name.
#[derive(Debug, Default)]
pub struct SniResolver {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` stored as `example.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
    first: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    /// Adds `key` for `names` (the default certificate when `names` is empty); the first
    /// certificate added also serves unmatched names until a default is given.
    pub fn add(&mut self, names: &[String], key: Arc<CertifiedKey>) {
        if names.is_empty() {
            self.default = Some(Arc::clone(&key));
        }
        self.first.get_or_insert_with(|| Arc::clone(&key));
        for name in names {
            let name = name.to_ascii_lowercase();
            match name.strip_prefix("*.") {
                Some(suffix) => self.wildcard.insert(suffix.to_owned(), Arc::clone(&key)),
                None => self.exact.insert(name, Arc::clone(&key)),
            };
        }
    }

    /// The certificate for `name` (`None`: no SNI).
    pub fn lookup(&self, name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let found = name.and_then(|name| {
            let name = name.to_ascii_lowercase();
            self.exact
                .get(&name)
                .or_else(|| name.split_once('.').and_then(|(_, suffix)| self.wildcard.get(suffix)))
        });
        found.or(self.default.as_ref()).or(self.first.as_ref()).cloned()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.lookup(client_hello.server_name())
    }
}

/// Whether `name` can be a `server_names` entry: a DNS name, or `*.` and one.
pub fn valid_name(name: &str) -> bool {
    let host = name.strip_prefix("*.").unwrap_or(name);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tag: u8) -> Arc<CertifiedKey> {
        #[derive(Debug)]
        struct NoKey;
        impl rustls::sign::SigningKey for NoKey {
            fn choose_scheme(
                &self,
                _: &[rustls::SignatureScheme],
            ) -> Option<Box<dyn rustls::sign::Signer>> {
                None
            }
            fn algorithm(&self) -> rustls::SignatureAlgorithm {
                rustls::SignatureAlgorithm::ECDSA
            }
        }
        Arc::new(CertifiedKey::new(vec![vec![tag].into()], Arc::new(NoKey)))
    }

    fn tag(found: Option<Arc<CertifiedKey>>) -> Option<u8> {
        found.map(|k| k.cert[0].as_ref()[0])
    }

    #[test]
    fn exact_then_wildcard_then_default() {
        let mut sni = SniResolver::default();
        sni.add(&["a.example.com".into()], key(1));
        sni.add(&["*.example.com".into()], key(2));
        sni.add(&[], key(3));
        assert_eq!(tag(sni.lookup(Some("A.example.com"))), Some(1));
        assert_eq!(tag(sni.lookup(Some("b.example.com"))), Some(2));
        assert_eq!(tag(sni.lookup(Some("x.b.example.com"))), Some(3));
        assert_eq!(tag(sni.lookup(Some("example.com"))), Some(3));
        assert_eq!(tag(sni.lookup(None)), Some(3));
    }

    #[test]
    fn first_certificate_is_the_default_when_none_is_named() {
        let mut sni = SniResolver::default();
        sni.add(&["a.example.com".into()], key(1));
        sni.add(&["b.example.com".into()], key(2));
        assert_eq!(tag(sni.lookup(Some("other"))), Some(1));
        assert_eq!(tag(sni.lookup(Some("b.example.com"))), Some(2));
    }

    #[test]
    fn names() {
        assert!(valid_name("api.example.com"));
        assert!(valid_name("*.example.com"));
        assert!(!valid_name("*"));
        assert!(!valid_name("a..b"));
        assert!(!valid_name("a.*.b"));
    }
}
