//! The backend JWT's signing key: a configured PKCS#8 key whose type picks the algorithm, or an
//! ephemeral key generated at start; its `kid` is the RFC 7638 JWK thumbprint unless configured.
//!
//! Where it sits: called once by the adapter when `[security.backend_jwt]` is parsed (control
//! thread). The key is then shared, read-only, by every snapshot's [`super::BackendJwt`].
//!
//! What it does not do: read files (the adapter passes the bytes), or generate RSA keys (ring
//! cannot): an ephemeral key is ECDSA P-256 unless ES384 or EdDSA is asked for.

use std::fmt;

use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use serde_json::Value;

use crate::jose::{b64, pkcs8_from_pem, Alg, KeyFamily, SignError, SigningKey};

/// Why the backend JWT key could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidBackendKey {
    /// Not a PKCS#8 document ring can load as RSA, P-256, P-384 or Ed25519.
    UnknownKeyType,
    /// The configured algorithm needs another kind of key.
    AlgMismatch {
        /// The configured algorithm.
        alg: Alg,
        /// What the key is.
        key: &'static str,
    },
    /// HMAC algorithms are refused: a backend JWT is verified with a published public key.
    SharedSecret(Alg),
    /// An ephemeral RSA key was asked for (ring has no RSA key generation).
    CannotGenerateRsa(Alg),
    /// The PEM could not be read, or ring refused the key.
    Sign(SignError),
}

impl fmt::Display for InvalidBackendKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKeyType => {
                f.write_str("not an RSA (2048-4096 bit), P-256, P-384 or Ed25519 PKCS#8 key")
            }
            Self::AlgMismatch { alg, key } => write!(f, "{alg} cannot be used with {key} key"),
            Self::SharedSecret(alg) => {
                write!(f, "{alg} is not allowed: backends verify with the published public key")
            }
            Self::CannotGenerateRsa(alg) => write!(
                f,
                "{alg} needs signing_key_file (RSA keys cannot be generated at start; \
                 `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`)"
            ),
            Self::Sign(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for InvalidBackendKey {}

impl From<SignError> for InvalidBackendKey {
    fn from(err: SignError) -> Self {
        Self::Sign(err)
    }
}

/// What a PKCS#8 document holds, found by asking ring to load it as each kind in turn.
fn family_of(der: &[u8]) -> Option<KeyFamily> {
    let rng = SystemRandom::new();
    if RsaKeyPair::from_pkcs8(der).is_ok() {
        Some(KeyFamily::Rsa)
    } else if EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng).is_ok() {
        Some(KeyFamily::EcP256)
    } else if EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_FIXED_SIGNING, der, &rng).is_ok() {
        Some(KeyFamily::EcP384)
    } else if Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).is_ok() {
        Some(KeyFamily::Ed25519)
    } else {
        None
    }
}

fn family_name(family: KeyFamily) -> &'static str {
    match family {
        KeyFamily::Rsa => "an RSA",
        KeyFamily::EcP256 => "a P-256",
        KeyFamily::EcP384 => "a P-384",
        KeyFamily::Ed25519 => "an Ed25519",
        KeyFamily::Hmac => "a shared-secret",
    }
}

/// The algorithm a key of `family` signs with when none is configured.
fn default_alg(family: KeyFamily) -> Alg {
    match family {
        KeyFamily::Rsa => Alg::RS256,
        KeyFamily::EcP256 => Alg::ES256,
        KeyFamily::EcP384 => Alg::ES384,
        KeyFamily::Ed25519 => Alg::EdDSA,
        // Never detected; refused by the callers before this is used.
        KeyFamily::Hmac => Alg::HS256,
    }
}

fn refuse_hmac(alg: Option<Alg>) -> Result<(), InvalidBackendKey> {
    match alg {
        Some(alg) if alg.family() == KeyFamily::Hmac => Err(InvalidBackendKey::SharedSecret(alg)),
        _ => Ok(()),
    }
}

/// Loads a PKCS#8 key (PEM `-----BEGIN PRIVATE KEY-----`, or DER): `alg` defaults by key type
/// (RSA → RS256, P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA) and must suit the key when
/// given; `kid` defaults to the key's RFC 7638 thumbprint.
pub fn load_signing_key(
    pem_or_der: &[u8],
    alg: Option<Alg>,
    kid: Option<String>,
) -> Result<SigningKey, InvalidBackendKey> {
    refuse_hmac(alg)?;
    let der = if pem_or_der.trim_ascii_start().starts_with(b"-----") {
        pkcs8_from_pem(pem_or_der)?
    } else {
        pem_or_der.to_vec()
    };
    let family = family_of(&der).ok_or(InvalidBackendKey::UnknownKeyType)?;
    let alg = alg.unwrap_or(default_alg(family));
    if alg.family() != family {
        return Err(InvalidBackendKey::AlgMismatch { alg, key: family_name(family) });
    }
    with_kid(&der, alg, kid)
}

/// A fresh key for `alg` (ES256 when `None`), kept in memory only; `kid` defaults to its
/// thumbprint.
pub fn generate_signing_key(
    alg: Option<Alg>,
    kid: Option<String>,
) -> Result<SigningKey, InvalidBackendKey> {
    refuse_hmac(alg)?;
    let alg = alg.unwrap_or(Alg::ES256);
    if alg.family() == KeyFamily::Rsa {
        return Err(InvalidBackendKey::CannotGenerateRsa(alg));
    }
    let (_, der) = SigningKey::generate(alg, None)?;
    with_kid(&der, alg, kid)
}

fn with_kid(der: &[u8], alg: Alg, kid: Option<String>) -> Result<SigningKey, InvalidBackendKey> {
    if kid.is_some() {
        return Ok(SigningKey::from_pkcs8_der(der, alg, kid)?);
    }
    let anonymous = SigningKey::from_pkcs8_der(der, alg, None)?;
    let thumbprint = anonymous.public_jwk().as_ref().and_then(thumbprint);
    Ok(SigningKey::from_pkcs8_der(der, alg, thumbprint)?)
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 over the required members in lexicographic
/// order, without whitespace (§3.2, §3.3), base64url. `None` for a JWK lacking a member.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let required: &[&str] = match member("kty")? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in required.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        // Member values are base64url or fixed names: no character needs escaping, but the
        // serializer keeps that true for any input.
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(member(name)?).ok()?);
    }
    canonical.push('}');
    Some(b64::encode(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    #[test]
    fn rfc7638_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(thumbprint(&json!({"kty": "oct", "k": "x"})), None);
        assert_eq!(thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "a"})), None);
    }

    #[test]
    fn algorithm_follows_the_key_type() {
        for (alg, family) in [
            (Alg::ES256, KeyFamily::EcP256),
            (Alg::ES384, KeyFamily::EcP384),
            (Alg::EdDSA, KeyFamily::Ed25519),
        ] {
            let (_, der) = SigningKey::generate(alg, None).unwrap();
            assert_eq!(family_of(&der), Some(family));
            let key =
                load_signing_key(&crate::jose::pkcs8_pem(&der).into_bytes(), None, None).unwrap();
            assert_eq!(key.alg(), alg);
            let jwk = key.public_jwk().unwrap();
            assert_eq!(key.kid(), thumbprint(&jwk).as_deref(), "kid defaults to the thumbprint");
            assert_eq!(jwk["kid"].as_str(), key.kid());
        }
        let rsa = include_bytes!("../../tests/keys/rsa2048.pem");
        let key = load_signing_key(rsa, None, None).unwrap();
        assert_eq!(key.alg(), Alg::RS256, "RSA keys default to RS256");
        assert_eq!(key.kid(), thumbprint(&key.public_jwk().unwrap()).as_deref());
        assert_eq!(load_signing_key(rsa, Some(Alg::PS384), None).unwrap().alg(), Alg::PS384);
        assert!(matches!(
            load_signing_key(rsa, Some(Alg::EdDSA), None),
            Err(InvalidBackendKey::AlgMismatch { alg: Alg::EdDSA, key: "an RSA" })
        ));
        let (_, der) = SigningKey::generate(Alg::ES256, None).unwrap();
        assert_eq!(
            load_signing_key(&der, Some(Alg::RS256), None).unwrap_err(),
            InvalidBackendKey::AlgMismatch { alg: Alg::RS256, key: "a P-256" }
        );
        assert_eq!(
            load_signing_key(&der, Some(Alg::HS256), None).unwrap_err(),
            InvalidBackendKey::SharedSecret(Alg::HS256)
        );
        let key = load_signing_key(&der, Some(Alg::ES256), Some("k1".into())).unwrap();
        assert_eq!(key.kid(), Some("k1"));
        assert_eq!(
            load_signing_key(b"not a key", None, None).unwrap_err(),
            InvalidBackendKey::UnknownKeyType
        );
        assert!(matches!(
            load_signing_key(b"-----BEGIN RSA PRIVATE KEY-----\n", None, None),
            Err(InvalidBackendKey::Sign(SignError::Pem(_)))
        ));
    }

    #[test]
    fn ephemeral_keys() {
        let key = generate_signing_key(None, None).unwrap();
        assert_eq!(key.alg(), Alg::ES256);
        assert!(key.kid().is_some());
        assert_ne!(generate_signing_key(None, None).unwrap().kid(), key.kid(), "fresh per call");
        assert_eq!(generate_signing_key(Some(Alg::EdDSA), None).unwrap().alg(), Alg::EdDSA);
        assert_eq!(
            generate_signing_key(Some(Alg::PS256), None).unwrap_err(),
            InvalidBackendKey::CannotGenerateRsa(Alg::PS256)
        );
    }
}
