//! Verification keys: JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) and JWK sets parsed once into
//! ready-to-use ring inputs, a shared secret for HMAC, and the `kid` lookup used by
//! [`super::verify`].
//!
//! Everything that can be checked without a signature is checked at load time, off the request
//! path: strict base64url, `use` = `sig`, `key_ops` ∋ `verify`, the `alg` binding against `kty` and
//! curve, RSA size (2048..=8192 bits), RSA exponent (odd, ≥ 3; `e = 1` refused), the ROCA
//! fingerprint, EC coordinate lengths and point validity (an ECDH agreement with a throwaway key
//! makes ring validate the point), Ed25519 length and HMAC secret length (≥ the hash output).
//! HMAC keys are expanded into `ring::hmac::Key`s once. ring exposes no pre-parsed RSA/EC public
//! key type, so ring still parses the stored modulus/point on each verification (cheap next to
//! the signature arithmetic).
//!
//! # Key selection
//! A token with a `kid` may be verified only by keys with that `kid`; keys loaded without a `kid`
//! (a configured shared secret or single key) match any `kid` when no key has it. A token without
//! `kid` may use any key. Among those candidates only keys able to verify the token's `alg` count;
//! zero is [`JoseError::KeyMismatch`], more than one is [`JoseError::AmbiguousKey`]. So duplicate
//! `kid`s are accepted at load, but a token that cannot be attributed to exactly one key is
//! refused (Wycheproof `jws_duplicate_kid`); duplicates that differ by `alg` (one RSA key
//! published for RS256 and PS256) still work. Keys of a JWKS that cannot be used are kept as
//! refused entries so a token naming one gets [`JoseError::KeyRejected`] rather than
//! [`JoseError::UnknownKid`] (which would make the caller refetch the JWKS).

use ring::agreement;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

use super::alg::{Alg, AlgRefusal, KeyFamily};
use super::b64;
use super::error::{JoseError, KeyError};
use super::json::parse_object;

const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;
/// ring's upper bound on the public exponent.
const RSA_MAX_E: u64 = (1 << 33) - 1;

#[derive(Debug, Clone)]
enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { family: KeyFamily, key: UnparsedPublicKey<Vec<u8>> },
    Ed25519(UnparsedPublicKey<Vec<u8>>),
    Hmac(Box<HmacKeys>),
}

/// One ring key per HMAC algorithm the secret is long enough (and allowed) for, expanded once.
#[derive(Debug, Clone)]
struct HmacKeys {
    hs256: Option<hmac::Key>,
    hs384: Option<hmac::Key>,
    hs512: Option<hmac::Key>,
}

/// One key ready for verification.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Alg>,
    material: Material,
}

impl VerifyingKey {
    /// Parses one JWK (a JSON object).
    pub fn from_jwk(json: &[u8]) -> Result<Self, KeyError> {
        let map = parse_object(json).map_err(|e| KeyError::Json(e.to_string()))?;
        Self::from_jwk_map(&map)
    }

    /// A shared secret for HS256/384/512; usable for each algorithm whose minimum key length it
    /// meets (32, 48, 64 bytes), or only for `alg` when given.
    pub fn from_secret(
        secret: &[u8],
        kid: Option<&str>,
        alg: Option<Alg>,
    ) -> Result<Self, KeyError> {
        if let Some(alg) = alg {
            if alg.family() != KeyFamily::Hmac {
                return Err(KeyError::AlgMismatch { alg: alg.name().into(), key: "oct" });
            }
        }
        let material = hmac_material(secret, alg)?;
        Ok(Self { kid: kid.map(str::to_owned), alg, material })
    }

    /// An RSA public key from its big-endian modulus and exponent (a certificate's or a
    /// `PUBLIC KEY` PEM's SubjectPublicKeyInfo), with the same checks as an RSA JWK.
    pub fn from_rsa_components(n: &[u8], e: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let material = rsa_from_components(n, e)?;
        Ok(Self { kid: kid.map(str::to_owned), alg: None, material })
    }

    /// An EC public key on `family`'s curve (P-256 or P-384) from its uncompressed SEC1 point
    /// (`0x04 || x || y`), validated as an EC JWK's.
    pub fn from_ec_point(
        family: KeyFamily,
        point: &[u8],
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        let len = match family {
            KeyFamily::EcP256 => 32,
            KeyFamily::EcP384 => 48,
            _ => return Err(KeyError::UnsupportedCurve(format!("{family:?}"))),
        };
        if point.len() != 1 + 2 * len || point.first() != Some(&0x04) {
            return Err(KeyError::EcCoordinateLength);
        }
        let material = ec_from_point(family, point.to_vec())?;
        Ok(Self { kid: kid.map(str::to_owned), alg: None, material })
    }

    /// An Ed25519 public key from its 32 bytes.
    pub fn from_ed25519(x: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let material = ed25519_from_bytes(x.to_vec())?;
        Ok(Self { kid: kid.map(str::to_owned), alg: None, material })
    }

    /// The key's `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the key is bound to (its JWK `alg`), if any.
    pub fn bound_alg(&self) -> Option<Alg> {
        self.alg
    }

    fn family(&self) -> KeyFamily {
        match &self.material {
            Material::Rsa { .. } => KeyFamily::Rsa,
            Material::Ec { family, .. } => *family,
            Material::Ed25519(_) => KeyFamily::Ed25519,
            Material::Hmac(_) => KeyFamily::Hmac,
        }
    }

    fn hmac_key(&self, alg: Alg) -> Option<&hmac::Key> {
        match (&self.material, alg) {
            (Material::Hmac(keys), Alg::HS256) => keys.hs256.as_ref(),
            (Material::Hmac(keys), Alg::HS384) => keys.hs384.as_ref(),
            (Material::Hmac(keys), Alg::HS512) => keys.hs512.as_ref(),
            _ => None,
        }
    }

    /// Whether this key may verify `alg`: same key family, the key's `alg` binding (if any)
    /// equal, and for HMAC a long enough secret.
    pub fn can_verify(&self, alg: Alg) -> bool {
        alg.family() == self.family()
            && self.alg.is_none_or(|bound| bound == alg)
            && (alg.family() != KeyFamily::Hmac || self.hmac_key(alg).is_some())
    }

    /// Verifies `signature` over `message` with `alg`.
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        if !self.can_verify(alg) {
            return Err(JoseError::KeyMismatch { kid: self.kid.clone(), alg });
        }
        let ok = match &self.material {
            Material::Rsa { n, e } => alg.rsa_params().is_some_and(|params| {
                RsaPublicKeyComponents { n, e }.verify(params, message, signature).is_ok()
            }),
            Material::Ec { key, .. } => key.verify(message, signature).is_ok(),
            Material::Ed25519(key) => key.verify(message, signature).is_ok(),
            Material::Hmac(_) => {
                self.hmac_key(alg).is_some_and(|key| hmac::verify(key, message, signature).is_ok())
            }
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }

    fn from_jwk_map(map: &Map<String, Value>) -> Result<Self, KeyError> {
        let kid = opt_str(map, "kid")?.map(str::to_owned);
        if let Some(usage) = opt_str(map, "use")? {
            if usage != "sig" {
                return Err(KeyError::NotForSignatures(usage.to_owned()));
            }
        }
        if let Some(ops) = map.get("key_ops") {
            let Value::Array(ops) = ops else {
                return Err(KeyError::Json("key_ops is not an array".into()));
            };
            if !ops.iter().any(|op| op.as_str() == Some("verify")) {
                return Err(KeyError::NoVerifyOp);
            }
        }
        let alg = match opt_str(map, "alg")? {
            None => None,
            Some(name) => match Alg::parse(name) {
                Ok(alg) => Some(alg),
                Err(AlgRefusal::None | AlgRefusal::Unsupported(_) | AlgRefusal::Unknown) => {
                    return Err(KeyError::UnsupportedAlg(name.to_owned()))
                }
            },
        };
        let kty = opt_str(map, "kty")?.ok_or(KeyError::Missing("kty"))?;
        let (material, key_desc) = match kty {
            "RSA" => (rsa_material(map)?, "RSA"),
            "EC" => ec_material(map)?,
            "OKP" => (okp_material(map)?, "OKP Ed25519"),
            "oct" => {
                let secret = b64_member(map, "k")?;
                (hmac_material(&secret, alg)?, "oct")
            }
            other => return Err(KeyError::UnsupportedKty(other.to_owned())),
        };
        let key = Self { kid, alg, material };
        if let Some(alg) = alg {
            if alg.family() != key.family() {
                return Err(KeyError::AlgMismatch { alg: alg.name().into(), key: key_desc });
            }
        }
        Ok(key)
    }
}

fn opt_str<'m>(
    map: &'m Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'m str>, KeyError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::Json(format!("{name} is not a string"))),
    }
}

fn b64_member(map: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = opt_str(map, name)?.ok_or(KeyError::Missing(name))?;
    b64::decode(text.as_bytes()).map_err(|_| KeyError::Base64(name))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

fn bit_len(unsigned_be: &[u8]) -> usize {
    match unsigned_be.first() {
        None => 0,
        Some(&top) => unsigned_be.len() * 8 - top.leading_zeros() as usize,
    }
}

fn rsa_material(map: &Map<String, Value>) -> Result<Material, KeyError> {
    let n = b64_member(map, "n")?;
    let e = b64_member(map, "e")?;
    rsa_from_components(&n, &e)
}

fn rsa_from_components(n: &[u8], e: &[u8]) -> Result<Material, KeyError> {
    // RFC 7518 §6.3.1.1 forbids a leading zero octet, but some libraries emit one; it does not
    // change the value, so it is removed rather than refused.
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    let bits = bit_len(n);
    if bits < RSA_MIN_BITS {
        return Err(KeyError::RsaTooSmall(bits));
    }
    if bits > RSA_MAX_BITS {
        return Err(KeyError::RsaTooLarge(bits));
    }
    if e.len() > 8 {
        return Err(KeyError::RsaBadExponent);
    }
    let e_value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if e_value < 3 || e_value % 2 == 0 || e_value > RSA_MAX_E {
        return Err(KeyError::RsaBadExponent);
    }
    if has_roca_fingerprint(n) {
        return Err(KeyError::RsaRoca);
    }
    Ok(Material::Rsa { n: n.to_vec(), e: e.to_vec() })
}

/// Small primes of the ROCA fingerprint test (Nemec et al., CCS 2017): a modulus made by the
/// vulnerable Infineon library is, modulo each of them, a power of 65537.
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

fn has_roca_fingerprint(n: &[u8]) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        let residue = n.iter().fold(0u32, |acc, &b| (acc * 256 + u32::from(b)) % p);
        let generator = 65537 % p;
        let mut power = 1u32;
        for _ in 0..p {
            if power == residue {
                return true;
            }
            power = power * generator % p;
            if power == 1 {
                break;
            }
        }
        false
    })
}

fn ec_material(map: &Map<String, Value>) -> Result<(Material, &'static str), KeyError> {
    let crv = opt_str(map, "crv")?.ok_or(KeyError::Missing("crv"))?;
    let (family, len, desc) = match crv {
        "P-256" => (KeyFamily::EcP256, 32, "EC P-256"),
        "P-384" => (KeyFamily::EcP384, 48, "EC P-384"),
        other => return Err(KeyError::UnsupportedCurve(other.to_owned())),
    };
    let x = b64_member(map, "x")?;
    let y = b64_member(map, "y")?;
    // RFC 7518 §6.2.1.2: "The length of this octet string MUST be the full size of a coordinate".
    if x.len() != len || y.len() != len {
        return Err(KeyError::EcCoordinateLength);
    }
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok((ec_from_point(family, point)?, desc))
}

fn ec_from_point(family: KeyFamily, point: Vec<u8>) -> Result<Material, KeyError> {
    let (verify_alg, agree_alg): (&'static signature::EcdsaVerificationAlgorithm, _) = match family
    {
        KeyFamily::EcP256 => (&signature::ECDSA_P256_SHA256_FIXED, &agreement::ECDH_P256),
        KeyFamily::EcP384 => (&signature::ECDSA_P384_SHA384_FIXED, &agreement::ECDH_P384),
        _ => return Err(KeyError::EcInvalidPoint),
    };
    if !ec_point_is_valid(agree_alg, &point) {
        return Err(KeyError::EcInvalidPoint);
    }
    Ok(Material::Ec { family, key: UnparsedPublicKey::new(verify_alg, point) })
}

/// ring validates a peer's public point during ECDH (on the curve, not the identity); an
/// agreement with a throwaway private key therefore checks the point once, at load time.
fn ec_point_is_valid(alg: &'static agreement::Algorithm, point: &[u8]) -> bool {
    let rng = SystemRandom::new();
    let Ok(private) = agreement::EphemeralPrivateKey::generate(alg, &rng) else {
        return false;
    };
    agreement::agree_ephemeral(private, &agreement::UnparsedPublicKey::new(alg, point), |_| ())
        .is_ok()
}

fn okp_material(map: &Map<String, Value>) -> Result<Material, KeyError> {
    let crv = opt_str(map, "crv")?.ok_or(KeyError::Missing("crv"))?;
    if crv != "Ed25519" {
        return Err(KeyError::UnsupportedCurve(crv.to_owned()));
    }
    let x = b64_member(map, "x")?;
    ed25519_from_bytes(x)
}

fn ed25519_from_bytes(x: Vec<u8>) -> Result<Material, KeyError> {
    if x.len() != 32 {
        return Err(KeyError::Ed25519Length);
    }
    Ok(Material::Ed25519(UnparsedPublicKey::new(&signature::ED25519, x)))
}

fn hmac_material(secret: &[u8], alg: Option<Alg>) -> Result<Material, KeyError> {
    let make = |candidate: Alg| -> Option<hmac::Key> {
        let min = candidate.min_hmac_key_len()?;
        let allowed = alg.is_none_or(|bound| bound == candidate);
        let algorithm = candidate.hmac_algorithm()?;
        (allowed && secret.len() >= min).then(|| hmac::Key::new(algorithm, secret))
    };
    let (hs256, hs384, hs512) = (make(Alg::HS256), make(Alg::HS384), make(Alg::HS512));
    if hs256.is_none() && hs384.is_none() && hs512.is_none() {
        let min = alg.and_then(Alg::min_hmac_key_len).unwrap_or(32);
        return Err(KeyError::HmacTooShort { len: secret.len(), min });
    }
    Ok(Material::Hmac(Box::new(HmacKeys { hs256, hs384, hs512 })))
}

#[derive(Debug, Clone)]
enum Entry {
    Usable(VerifyingKey),
    Refused { kid: Option<String>, reason: KeyError },
}

/// The keys one issuer's tokens may be verified with; built once (config load or JWKS refresh)
/// and shared read-only.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    entries: Vec<Entry>,
}

enum Pick<'a> {
    None,
    One(&'a VerifyingKey),
    Many,
}

fn pick<'a>(mut keys: impl Iterator<Item = &'a VerifyingKey>) -> Pick<'a> {
    match (keys.next(), keys.next()) {
        (None, _) => Pick::None,
        (Some(key), None) => Pick::One(key),
        (Some(_), Some(_)) => Pick::Many,
    }
}

impl KeySet {
    /// A set of already-built keys.
    pub fn from_keys(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        Self { entries: keys.into_iter().map(Entry::Usable).collect() }
    }

    /// Parses a JWK set (`{"keys": [...]}`). Keys that cannot be used for verification (wrong
    /// `use`, unsupported type, too small, ...) are kept as refused entries and reported by
    /// [`KeySet::refused`]; the set itself fails only if it is not a JWKS or if it mixes shared
    /// secrets with public keys (an HMAC-versus-signature confusion waiting to happen).
    pub fn from_jwks(json: &[u8]) -> Result<Self, KeyError> {
        let map = parse_object(json).map_err(|e| KeyError::Json(e.to_string()))?;
        let Some(Value::Array(keys)) = map.get("keys") else {
            return Err(KeyError::NotAKeySet);
        };
        let mut entries = Vec::with_capacity(keys.len());
        let (mut symmetric, mut asymmetric) = (false, false);
        for key in keys {
            let Value::Object(jwk) = key else {
                let reason = KeyError::Json("a JWKS member is not an object".into());
                entries.push(Entry::Refused { kid: None, reason });
                continue;
            };
            match jwk.get("kty").and_then(Value::as_str) {
                Some("oct") => symmetric = true,
                Some(_) => asymmetric = true,
                None => {}
            }
            entries.push(match VerifyingKey::from_jwk_map(jwk) {
                Ok(key) => Entry::Usable(key),
                Err(reason) => {
                    let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
                    Entry::Refused { kid, reason }
                }
            });
        }
        if symmetric && asymmetric {
            return Err(KeyError::MixedSymmetric);
        }
        Ok(Self { entries })
    }

    /// A set of one JWK; a key that cannot be used is an error here.
    pub fn from_jwk(json: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::from_keys([VerifyingKey::from_jwk(json)?]))
    }

    /// A set of one shared secret for HS256/384/512 (see [`VerifyingKey::from_secret`]).
    pub fn from_secret(secret: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        Ok(Self::from_keys([VerifyingKey::from_secret(secret, kid, None)?]))
    }

    /// Usable keys.
    pub fn keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Usable(key) => Some(key),
            Entry::Refused { .. } => None,
        })
    }

    /// Keys of the JWKS that were refused at load, with the reason (for logs).
    pub fn refused(&self) -> impl Iterator<Item = (Option<&str>, &KeyError)> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Usable(_) => None,
            Entry::Refused { kid, reason } => Some((kid.as_deref(), reason)),
        })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys().count()
    }

    /// Whether no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys().next().is_none()
    }

    /// The one key that may verify a token with this `kid` and `alg` (see the module docs).
    pub fn select(&self, kid: Option<&str>, alg: Alg) -> Result<&VerifyingKey, JoseError> {
        let compatible = |key: &&VerifyingKey| key.can_verify(alg);
        let candidates = match kid {
            None => pick(self.keys().filter(compatible)),
            Some(kid) => {
                let named = |key: &&VerifyingKey| key.kid() == Some(kid);
                if self.keys().any(|key| named(&key)) {
                    // A refused signing key sharing the kid makes the choice ambiguous too; keys
                    // refused only for their `use` / `key_ops` are not signing keys at all.
                    let shadowed = self.refused().any(|(k, reason)| {
                        k == Some(kid)
                            && !matches!(
                                reason,
                                KeyError::NotForSignatures(_) | KeyError::NoVerifyOp
                            )
                    });
                    match pick(self.keys().filter(named).filter(compatible)) {
                        Pick::One(_) if shadowed => Pick::Many,
                        other => other,
                    }
                } else if let Some(reason) =
                    self.refused().find_map(|(k, r)| (k == Some(kid)).then_some(r))
                {
                    return Err(JoseError::KeyRejected {
                        kid: kid.to_owned(),
                        reason: reason.clone(),
                    });
                } else if self.keys().any(|key| key.kid().is_none()) {
                    pick(self.keys().filter(|key| key.kid().is_none()).filter(compatible))
                } else {
                    return Err(JoseError::UnknownKid(kid.to_owned()));
                }
            }
        };
        match candidates {
            Pick::One(key) => Ok(key),
            Pick::None => Err(JoseError::KeyMismatch { kid: kid.map(str::to_owned), alg }),
            Pick::Many => Err(JoseError::AmbiguousKey(kid.map(str::to_owned))),
        }
    }
}
