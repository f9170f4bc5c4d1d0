//! The key manager's signing keys: generated with ring (ES256, ES384, EdDSA) or loaded from the
//! committed test keys under `tests/keys/` (RS256, PS256: ring cannot generate RSA keys), their
//! public halves as JWKs (RFC 7517, RFC 7518 §6, RFC 8037 §2), and compact JWS signing
//! (RFC 7515 §7.1) with base64url without padding.
//!
//! Signing is done here, directly with ring, so the stand-in shares no code with the gateway's
//! verifier (`turnpike_policy::jose`) and cannot share its bugs. Nothing here verifies.

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Map, Value};

/// The test RSA keys (PKCS#8 PEM), used in turn for RSA keys.
const RSA_PEMS: [&str; 4] = [
    include_str!("../../keys/rsa-2048-1.pem"),
    include_str!("../../keys/rsa-2048-2.pem"),
    include_str!("../../keys/rsa-2048-3.pem"),
    include_str!("../../keys/rsa-2048-4.pem"),
];

/// A JWS algorithm the key manager signs with; each key is bound to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048 (committed key).
    RS256,
    /// RSASSA-PSS with SHA-256, RSA 2048 (committed key).
    PS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl KeyAlg {
    /// Every algorithm.
    pub const ALL: [KeyAlg; 5] =
        [KeyAlg::RS256, KeyAlg::PS256, KeyAlg::ES256, KeyAlg::ES384, KeyAlg::EdDSA];

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::RS256 => "RS256",
            KeyAlg::PS256 => "PS256",
            KeyAlg::ES256 => "ES256",
            KeyAlg::ES384 => "ES384",
            KeyAlg::EdDSA => "EdDSA",
        }
    }
}

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// One private key with its `kid`.
pub(crate) struct SigningKey {
    kid: String,
    alg: KeyAlg,
    material: Material,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish()
    }
}

impl SigningKey {
    /// A key for `alg` named `kid`. RSA keys take committed key number `rsa_index` (modulo
    /// their count); the others are freshly generated.
    pub(crate) fn new(alg: KeyAlg, kid: String, rsa_index: usize) -> SigningKey {
        let rng = SystemRandom::new();
        let ecdsa = |a: &'static signature::EcdsaSigningAlgorithm| {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(a, &rng).expect("generate EC key");
            EcdsaKeyPair::from_pkcs8(a, pkcs8.as_ref(), &rng).expect("load generated EC key")
        };
        let material = match alg {
            KeyAlg::RS256 | KeyAlg::PS256 => {
                let pem = RSA_PEMS[rsa_index % RSA_PEMS.len()];
                let der = pem_to_der(pem);
                Material::Rsa(RsaKeyPair::from_pkcs8(&der).expect("committed RSA test key"))
            }
            KeyAlg::ES256 => Material::Ec(ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)),
            KeyAlg::ES384 => Material::Ec(ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING)),
            KeyAlg::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("generate Ed25519 key");
                Material::Ed25519(
                    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("load Ed25519 key"),
                )
            }
        };
        SigningKey { kid, alg, material }
    }

    pub(crate) fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The public key as a JWK with `kid`, `alg` and `use: sig`.
    pub(crate) fn jwk(&self) -> Value {
        let mut jwk = match &self.material {
            Material::Rsa(k) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
                json!({"kty": "RSA", "n": b64url(&c.n), "e": b64url(&c.e)})
            }
            Material::Ec(k) => {
                // SEC 1 uncompressed point: 0x04 || x || y, coordinates of equal length.
                let point = k.public_key().as_ref();
                let coords = &point[1..];
                let (x, y) = coords.split_at(coords.len() / 2);
                let crv = if self.alg == KeyAlg::ES384 { "P-384" } else { "P-256" };
                json!({"kty": "EC", "crv": crv, "x": b64url(x), "y": b64url(y)})
            }
            Material::Ed25519(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(k.public_key().as_ref())})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!(self.alg.name());
        jwk["use"] = json!("sig");
        jwk
    }

    /// The JWS header this key signs under by default: `alg`, `typ: JWT`, `kid`.
    pub(crate) fn header(&self) -> Map<String, Value> {
        let mut h = Map::new();
        h.insert("alg".into(), json!(self.alg.name()));
        h.insert("typ".into(), json!("JWT"));
        h.insert("kid".into(), json!(self.kid));
        h
    }

    /// The compact serialization `b64(header).b64(payload).b64(signature)`, signed with this key
    /// whatever the header says (tests may put a lying `alg` or `kid` in it).
    pub(crate) fn sign_compact(&self, header: &Value, payload: &[u8]) -> String {
        let signing_input =
            format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(payload));
        let sig = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64url(&sig))
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.material {
            Material::Rsa(k) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    KeyAlg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(padding, &rng, msg, &mut sig).expect("RSA sign");
                sig
            }
            Material::Ec(k) => k.sign(&rng, msg).expect("ECDSA sign").as_ref().to_vec(),
            Material::Ed25519(k) => k.sign(msg).as_ref().to_vec(),
        }
    }
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 7515 §2, RFC 4648 §5).
pub fn b64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // A chunk of k bytes yields k + 1 significant characters.
        for i in 0..=chunk.len() {
            out.push(char::from(URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Standard base64 (RFC 4648 §4) decoding, padding and whitespace ignored; `None` on any other
/// character. For PEM bodies and `Authorization: Basic` credentials.
pub fn b64_std_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = STD.iter().position(|&s| s == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64_std_decode(&body).expect("PEM body is base64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64url_vectors() {
        // RFC 4648 §10, URL alphabet, no padding.
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(b64url(raw.as_bytes()), enc);
        }
        assert_eq!(b64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn b64_std_decode_vectors() {
        assert_eq!(b64_std_decode("Zm9vYmE=").as_deref(), Some(&b"fooba"[..]));
        assert_eq!(b64_std_decode("Zm9v\nYmFy").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(b64_std_decode("+/+/").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        assert_eq!(b64_std_decode("Zm9v-_"), None);
    }

    #[test]
    fn every_committed_rsa_key_loads() {
        for i in 0..RSA_PEMS.len() {
            let k = SigningKey::new(KeyAlg::RS256, format!("k{i}"), i);
            assert_eq!(k.jwk()["kty"], "RSA");
        }
    }
}
