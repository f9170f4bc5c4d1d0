//! JWS compact signing (RFC 7515 §7.1) with `ring`: the gateway's backend JWT
//! (`X-JWT-Assertion`) and the `turnpike token` command that mints test tokens.
//!
//! Where it sits: a [`SigningKey`] is built once, off the request path (config compile or the
//! CLI), from a PKCS#8 private key (DER or PEM) or a shared secret; the header is encoded then,
//! so [`SigningKey::sign`] only encodes the payload and signs. [`SigningKey::public_jwk`] and
//! [`jwks_json`] publish the verifying half in the form [`super::KeySet::from_jwks`] reads.
//!
//! What it does not do: build or check claims (the caller's bytes are signed as they are), read
//! files, parse PKCS#1 (`BEGIN RSA PRIVATE KEY`), SEC1 (`BEGIN EC PRIVATE KEY`) or encrypted
//! PKCS#8, or generate RSA keys (ring cannot; use `openssl genpkey`).

use std::fmt;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Map, Value};

use super::alg::Alg;
use super::b64;
use crate::base64;

/// Why a signing key could not be built, or a token not signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// Not an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); the text says why.
    Pem(&'static str),
    /// ring refused the PKCS#8 document for this algorithm (wrong key type, size, encoding).
    KeyRejected {
        /// The algorithm the key was loaded for.
        alg: Alg,
        /// ring's reason.
        reason: String,
    },
    /// The algorithm needs the other kind of key: HMAC a shared secret, the rest a private key.
    WrongKeyKind {
        /// The algorithm asked for.
        alg: Alg,
        /// What it needs.
        needs: &'static str,
    },
    /// Shared secret shorter than the hash output (RFC 7518 §3.2).
    HmacTooShort {
        /// Secret length in bytes.
        len: usize,
        /// Minimum length in bytes.
        min: usize,
    },
    /// ring cannot generate keys for this algorithm (RSA).
    GenerationUnsupported(Alg),
    /// ring failed to sign or to draw random bytes.
    Crypto,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(why) => write!(f, "invalid private key PEM: {why}"),
            Self::KeyRejected { alg, reason } => write!(f, "key refused for {alg}: {reason}"),
            Self::WrongKeyKind { alg, needs } => write!(f, "{alg} needs {needs}"),
            Self::HmacTooShort { len, min } => {
                write!(f, "shared secret of {len} bytes, at least {min} required")
            }
            Self::GenerationUnsupported(alg) => write!(
                f,
                "cannot generate {alg} keys (ring has no RSA key generation); use \
                 `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`"
            ),
            Self::Crypto => f.write_str("signing failed"),
        }
    }
}

impl std::error::Error for SignError {}

enum Signer {
    Rsa(RsaKeyPair, &'static dyn sig::RsaEncoding),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Hmac(hmac::Key),
}

/// A private key (or shared secret) bound to one algorithm and an optional `kid`.
pub struct SigningKey {
    alg: Alg,
    kid: Option<String>,
    /// The base64url JWS header, encoded once.
    header: String,
    signer: Signer,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    /// Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("alg", &self.alg).field("kid", &self.kid).finish()
    }
}

const PEM_BEGIN: &[u8] = b"-----BEGIN PRIVATE KEY-----";
const PEM_END: &[u8] = b"-----END PRIVATE KEY-----";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// The DER bytes of the first `PRIVATE KEY` block of a PEM text (RFC 7468 §10); text around
/// the block is ignored, whitespace inside it skipped.
pub fn pkcs8_from_pem(pem: &[u8]) -> Result<Vec<u8>, SignError> {
    let Some(start) = find(pem, PEM_BEGIN) else {
        return Err(if find(pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----").is_some() {
            SignError::Pem("encrypted PKCS#8 is not supported")
        } else if find(pem, b"-----BEGIN RSA PRIVATE KEY-----").is_some()
            || find(pem, b"-----BEGIN EC PRIVATE KEY-----").is_some()
        {
            SignError::Pem("not PKCS#8: convert with `openssl pkcs8 -topk8 -nocrypt`")
        } else {
            SignError::Pem("no -----BEGIN PRIVATE KEY----- line")
        });
    };
    let body = pem.get(start + PEM_BEGIN.len()..).unwrap_or_default();
    let end = find(body, PEM_END).ok_or(SignError::Pem("no -----END PRIVATE KEY----- line"))?;
    let text: Vec<u8> = body
        .get(..end)
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::decode_standard(&text).map_err(|_| SignError::Pem("the body is not base64"))
}

/// A PKCS#8 DER document as PEM, 64 columns (for writing a generated key).
pub fn pkcs8_pem(der: &[u8]) -> String {
    let text = base64::encode_standard(der);
    let mut pem = String::with_capacity(text.len() + text.len() / 64 + 60);
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    for line in text.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

fn encode_header(alg: Alg, kid: Option<&str>) -> String {
    let json = match kid {
        // A `String` always serializes; the fallback keeps the function total.
        Some(kid) => format!(
            r#"{{"alg":"{}","typ":"JWT","kid":{}}}"#,
            alg.name(),
            serde_json::to_string(kid).unwrap_or_else(|_| "\"\"".into())
        ),
        None => format!(r#"{{"alg":"{}","typ":"JWT"}}"#, alg.name()),
    };
    b64::encode(json.as_bytes())
}

impl SigningKey {
    fn new(alg: Alg, kid: Option<String>, signer: Signer, rng: SystemRandom) -> Self {
        let header = encode_header(alg, kid.as_deref());
        Self { alg, kid, header, signer, rng }
    }

    /// A key from an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &[u8], alg: Alg, kid: Option<String>) -> Result<Self, SignError> {
        Self::from_pkcs8_der(&pkcs8_from_pem(pem)?, alg, kid)
    }

    /// A key from a PKCS#8 DER document: RSA (2048..=4096 bits, ring's signing range) for
    /// RS*/PS*, P-256 for ES256, P-384 for ES384, Ed25519 (PKCS#8 v1 or v2) for EdDSA.
    pub fn from_pkcs8_der(der: &[u8], alg: Alg, kid: Option<String>) -> Result<Self, SignError> {
        let rng = SystemRandom::new();
        let rejected =
            |e: ring::error::KeyRejected| SignError::KeyRejected { alg, reason: e.to_string() };
        let rsa = |encoding: &'static dyn sig::RsaEncoding| {
            RsaKeyPair::from_pkcs8(der).map(|pair| Signer::Rsa(pair, encoding)).map_err(rejected)
        };
        let ecdsa = |algorithm: &'static sig::EcdsaSigningAlgorithm| {
            EcdsaKeyPair::from_pkcs8(algorithm, der, &rng).map(Signer::Ecdsa).map_err(rejected)
        };
        let signer = match alg {
            Alg::RS256 => rsa(&sig::RSA_PKCS1_SHA256)?,
            Alg::RS384 => rsa(&sig::RSA_PKCS1_SHA384)?,
            Alg::RS512 => rsa(&sig::RSA_PKCS1_SHA512)?,
            Alg::PS256 => rsa(&sig::RSA_PSS_SHA256)?,
            Alg::PS384 => rsa(&sig::RSA_PSS_SHA384)?,
            Alg::PS512 => rsa(&sig::RSA_PSS_SHA512)?,
            Alg::ES256 => ecdsa(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)?,
            Alg::ES384 => ecdsa(&sig::ECDSA_P384_SHA384_FIXED_SIGNING)?,
            Alg::EdDSA => {
                Signer::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?)
            }
            Alg::HS256 | Alg::HS384 | Alg::HS512 => {
                return Err(SignError::WrongKeyKind { alg, needs: "a shared secret" })
            }
        };
        Ok(Self::new(alg, kid, signer, rng))
    }

    /// A shared secret for HS256/384/512, at least as long as the hash output.
    pub fn from_secret(secret: &[u8], alg: Alg, kid: Option<String>) -> Result<Self, SignError> {
        let (Some(algorithm), Some(min)) = (alg.hmac_algorithm(), alg.min_hmac_key_len()) else {
            return Err(SignError::WrongKeyKind { alg, needs: "a PKCS#8 private key" });
        };
        if secret.len() < min {
            return Err(SignError::HmacTooShort { len: secret.len(), min });
        }
        let signer = Signer::Hmac(hmac::Key::new(algorithm, secret));
        Ok(Self::new(alg, kid, signer, SystemRandom::new()))
    }

    /// A fresh key for `alg` and its serialized form: the PKCS#8 v2 DER document for ES256,
    /// ES384 and EdDSA (see [`pkcs8_pem`]), or for HS256/384/512 a random secret as long as the
    /// hash output. RSA is [`SignError::GenerationUnsupported`].
    pub fn generate(alg: Alg, kid: Option<String>) -> Result<(Self, Vec<u8>), SignError> {
        let rng = SystemRandom::new();
        let ecdsa = |algorithm| {
            EcdsaKeyPair::generate_pkcs8(algorithm, &rng).map_err(|_| SignError::Crypto)
        };
        let document = match alg {
            Alg::ES256 => ecdsa(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)?,
            Alg::ES384 => ecdsa(&sig::ECDSA_P384_SHA384_FIXED_SIGNING)?,
            Alg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| SignError::Crypto)?,
            Alg::HS256 | Alg::HS384 | Alg::HS512 => {
                let mut secret = vec![0; alg.min_hmac_key_len().unwrap_or(64)];
                rng.fill(&mut secret).map_err(|_| SignError::Crypto)?;
                return Ok((Self::from_secret(&secret, alg, kid)?, secret));
            }
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                return Err(SignError::GenerationUnsupported(alg))
            }
        };
        let der = document.as_ref().to_vec();
        Ok((Self::from_pkcs8_der(&der, alg, kid)?, der))
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The `kid` put in every header, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// A compact JWS: header `{"alg":..,"typ":"JWT","kid":..}`, the payload `claims_json` as
    /// given, and the signature (raw `r || s` for ECDSA, RFC 7518 §3.4), each base64url.
    pub fn sign(&self, claims_json: &[u8]) -> Result<String, SignError> {
        let payload = b64::encode(claims_json);
        // The longest signature is RSA-4096's 512 bytes, 683 in base64url.
        let mut token = String::with_capacity(self.header.len() + payload.len() + 2 + 683);
        token.push_str(&self.header);
        token.push('.');
        token.push_str(&payload);
        let signature = self.signature(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64::encode(&signature));
        Ok(token)
    }

    fn signature(&self, input: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.signer {
            Signer::Rsa(pair, encoding) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(*encoding, &self.rng, input, &mut out).map_err(|_| SignError::Crypto)?;
                Ok(out)
            }
            Signer::Ecdsa(pair) => pair
                .sign(&self.rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError::Crypto),
            Signer::Ed25519(pair) => Ok(pair.sign(input).as_ref().to_vec()),
            Signer::Hmac(key) => Ok(hmac::sign(key, input).as_ref().to_vec()),
        }
    }

    /// The public JWK (`kty`, `kid`, `alg`, `use: sig` and the key's members), or `None` for a
    /// shared secret, which is never published.
    pub fn public_jwk(&self) -> Option<Value> {
        let mut jwk = Map::new();
        let mut put = |name: &str, value: String| jwk.insert(name.to_owned(), Value::String(value));
        match &self.signer {
            Signer::Rsa(pair, _) => {
                let parts = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                put("kty", "RSA".into());
                put("n", b64::encode(&parts.n));
                put("e", b64::encode(&parts.e));
            }
            Signer::Ecdsa(pair) => {
                // An uncompressed point: 0x04 || x || y, coordinates of equal length.
                let point = pair.public_key().as_ref().get(1..).unwrap_or_default();
                let (x, y) = point.split_at(point.len() / 2);
                put("kty", "EC".into());
                put("crv", if self.alg == Alg::ES384 { "P-384" } else { "P-256" }.into());
                put("x", b64::encode(x));
                put("y", b64::encode(y));
            }
            Signer::Ed25519(pair) => {
                put("kty", "OKP".into());
                put("crv", "Ed25519".into());
                put("x", b64::encode(pair.public_key().as_ref()));
            }
            Signer::Hmac(_) => return None,
        }
        put("use", "sig".into());
        put("alg", self.alg.name().into());
        if let Some(kid) = &self.kid {
            put("kid", kid.clone());
        }
        Some(Value::Object(jwk))
    }
}

/// A JWK set (`{"keys":[...]}`) of the public halves of `keys`; shared secrets are left out.
pub fn jwks_json(keys: &[&SigningKey]) -> String {
    let keys: Vec<Value> = keys.iter().filter_map(|key| key.public_jwk()).collect();
    let mut set = Map::new();
    set.insert("keys".into(), Value::Array(keys));
    Value::Object(set).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes() {
        let decoded = |h: String| String::from_utf8(b64::decode(h.as_bytes()).unwrap()).unwrap();
        assert_eq!(decoded(encode_header(Alg::EdDSA, None)), r#"{"alg":"EdDSA","typ":"JWT"}"#);
        assert_eq!(
            decoded(encode_header(Alg::RS256, Some("k\"1"))),
            r#"{"alg":"RS256","typ":"JWT","kid":"k\"1"}"#
        );
    }

    #[test]
    fn pem_round_trip() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = pkcs8_pem(&der);
        assert_eq!(pem.lines().count(), 2 + 344usize.div_ceil(64));
        assert_eq!(pkcs8_from_pem(pem.replace('\n', "\r\n").as_bytes()).unwrap(), der);
    }
}
