//! Criterion benchmarks of JWT verification (`turnpike_policy::jose`) and of the verification
//! cache that spares it (`turnpike_policy::credentials::VerificationCache`).
//!
//! * `jwt_verify/<ALG>`: one `jose::decode_and_verify` per iteration (strict base64url and JSON
//!   decoding, key selection, signature, claims) for every supported algorithm: RS256/384/512
//!   and PS256/384/512 (RSA-2048), ES256, ES384, EdDSA (Ed25519), HS256/384/512 (a 64-byte
//!   secret). Keys are parsed once into a `KeySet` from a JWKS, as the control plane does.
//! * `jwt_decode_only`: `jose::decode` of the RS256 token (parsing without cryptography).
//! * `jwt_cache_hit`: `VerificationCache::key` (HMAC-SHA-256 of the token) + `get` on a warm
//!   cache of 4,000 distinct 800-byte tokens, cycling through them: the per-request cost of a
//!   token the core has already verified.
//!
//! Tokens carry a WSO2-like claim set and are minted here at startup with ring: the RSA key is
//! the fixed PKCS#8 test key in `benches/keys/rsa-2048.pk8` (ring cannot generate RSA keys; it
//! is the key of `policy/tests/jose_tokens.rs`), the EC and Ed25519 keys are generated per run.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::rsa;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use turnpike_policy::credentials::{CredentialKind, VerificationCache, DEFAULT_CACHE_CAPACITY};
use turnpike_policy::jose::{self, b64, Alg, Claims, IssuerPolicy, KeyFamily, KeySet};

/// The clock the tokens are valid at (they expire an hour later).
const NOW: u64 = 1_700_000_000;
const ISS: &str = "https://idp.example/oauth2/token";
/// RSA-2048 private key, PKCS#8 DER.
const RSA_PKCS8: &[u8] = include_bytes!("../keys/rsa-2048.pk8");
/// Shared secret for HS256/384/512: 64 bytes, enough for HS512.
const HMAC_SECRET: &[u8; 64] = b"ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";
/// Distinct tokens in the warm cache, and the length of each.
const CACHED_TOKENS: usize = 4_000;
const CACHED_TOKEN_LEN: usize = 800;

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Hmac(&'static [u8]),
}

impl Signer {
    fn for_alg(alg: Alg, rng: &SystemRandom) -> Self {
        match alg.family() {
            KeyFamily::Rsa => Self::Rsa(RsaKeyPair::from_pkcs8(RSA_PKCS8).expect("RSA test key")),
            KeyFamily::EcP256 | KeyFamily::EcP384 => {
                let a = if alg == Alg::ES256 {
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &signature::ECDSA_P384_SHA384_FIXED_SIGNING
                };
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(a, rng).expect("EC key generation");
                Self::Ec(EcdsaKeyPair::from_pkcs8(a, pkcs8.as_ref(), rng).expect("EC key"))
            }
            KeyFamily::Ed25519 => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(rng).expect("Ed25519 key generation");
                Self::Ed(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 key"))
            }
            KeyFamily::Hmac => Self::Hmac(HMAC_SECRET),
        }
    }

    fn sign(&self, alg: Alg, message: &[u8], rng: &SystemRandom) -> Vec<u8> {
        match self {
            Self::Rsa(kp) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    Alg::RS256 => &signature::RSA_PKCS1_SHA256,
                    Alg::RS384 => &signature::RSA_PKCS1_SHA384,
                    Alg::RS512 => &signature::RSA_PKCS1_SHA512,
                    Alg::PS256 => &signature::RSA_PSS_SHA256,
                    Alg::PS384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut sig = vec![0; kp.public().modulus_len()];
                kp.sign(padding, rng, message, &mut sig).expect("RSA signature");
                sig
            }
            Self::Ec(kp) => kp.sign(rng, message).expect("ECDSA signature").as_ref().to_vec(),
            Self::Ed(kp) => kp.sign(message).as_ref().to_vec(),
            Self::Hmac(secret) => {
                let a = match alg {
                    Alg::HS256 => hmac::HMAC_SHA256,
                    Alg::HS384 => hmac::HMAC_SHA384,
                    _ => hmac::HMAC_SHA512,
                };
                hmac::sign(&hmac::Key::new(a, secret), message).as_ref().to_vec()
            }
        }
    }

    /// The public JWK (`kid` "bench") the control plane would load.
    fn jwk(&self) -> String {
        match self {
            Self::Rsa(kp) => {
                let c: rsa::PublicKeyComponents<Vec<u8>> = kp.public().into();
                format!(
                    r#"{{"kty":"RSA","kid":"bench","use":"sig","n":"{}","e":"{}"}}"#,
                    b64::encode(&c.n),
                    b64::encode(&c.e)
                )
            }
            Self::Ec(kp) => {
                let point = kp.public_key().as_ref();
                let len = point.len().saturating_sub(1) / 2;
                let (x, y) = point.get(1..).unwrap_or_default().split_at(len);
                let crv = if len == 32 { "P-256" } else { "P-384" };
                format!(
                    r#"{{"kty":"EC","kid":"bench","crv":"{crv}","x":"{}","y":"{}"}}"#,
                    b64::encode(x),
                    b64::encode(y)
                )
            }
            Self::Ed(kp) => format!(
                r#"{{"kty":"OKP","kid":"bench","crv":"Ed25519","x":"{}"}}"#,
                b64::encode(kp.public_key().as_ref())
            ),
            Self::Hmac(secret) => {
                format!(r#"{{"kty":"oct","kid":"bench","k":"{}"}}"#, b64::encode(secret))
            }
        }
    }
}

/// A WSO2-like claim set; `pad` lengthens it (for tokens of a given size).
fn claims(jti: &str, pad: usize) -> String {
    format!(
        r#"{{"iss":"{ISS}","sub":"admin@carbon.super","aud":["api-1"],"exp":{},"iat":{},"jti":"{jti}","azp":"Xq3kQm0x8s","scope":"read write default","x":"{}"}}"#,
        NOW + 3600,
        NOW - 10,
        "p".repeat(pad)
    )
}

fn mint(signer: &Signer, alg: Alg, typ: &str, claims: &str, rng: &SystemRandom) -> String {
    let header = format!(r#"{{"alg":"{alg}","kid":"bench","typ":"{typ}"}}"#);
    let input = format!("{}.{}", b64::encode(header.as_bytes()), b64::encode(claims.as_bytes()));
    let sig = signer.sign(alg, input.as_bytes(), rng);
    format!("{input}.{}", b64::encode(&sig))
}

fn verify(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let mut group = c.benchmark_group("jwt_verify");
    let mut rs256 = String::new();
    for alg in Alg::ALL {
        let signer = Signer::for_alg(alg, &rng);
        let token =
            mint(&signer, alg, "JWT", &claims("0b8f7c7e-2f1a-4bd5-9d0c-3f5ad1e1d1b2", 0), &rng);
        let keys = KeySet::from_jwks(format!(r#"{{"keys":[{}]}}"#, signer.jwk()).as_bytes())
            .expect("bench JWKS");
        let policy =
            IssuerPolicy { audiences: vec!["api-1".into()], ..IssuerPolicy::new(ISS, vec![alg]) };
        let verified = jose::decode_and_verify(&token, &keys, &policy, NOW);
        assert!(verified.is_ok(), "{alg}: {verified:?}");
        group.bench_function(alg.name(), |b| {
            b.iter(|| jose::decode_and_verify(black_box(&token), &keys, &policy, NOW).is_ok())
        });
        if alg == Alg::RS256 {
            rs256 = token;
        }
    }
    group.finish();
    c.bench_function("jwt_decode_only", |b| b.iter(|| jose::decode(black_box(&rs256)).is_ok()));
}

/// `CACHED_TOKENS` distinct HS256 tokens of exactly `CACHED_TOKEN_LEN` bytes (the padding
/// claim and the `typ` are adjusted until the base64url lengths add up).
fn cached_tokens(rng: &SystemRandom) -> Vec<String> {
    let signer = Signer::Hmac(HMAC_SECRET);
    let jti = |i: usize| format!("jti-{i:08}");
    let (typ, pad) = ["JWT", "at+jwt", "JWTx"]
        .iter()
        .find_map(|typ| {
            (0..CACHED_TOKEN_LEN)
                .find(|&pad| {
                    mint(&signer, Alg::HS256, typ, &claims(&jti(0), pad), rng).len()
                        == CACHED_TOKEN_LEN
                })
                .map(|pad| (*typ, pad))
        })
        .expect("some padding gives an 800-byte token");
    (0..CACHED_TOKENS).map(|i| mint(&signer, Alg::HS256, typ, &claims(&jti(i), pad), rng)).collect()
}

fn cache_hit(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let tokens = cached_tokens(&rng);
    assert!(tokens.iter().all(|t| t.len() == CACHED_TOKEN_LEN));
    let keys = KeySet::from_secret(HMAC_SECRET, Some("bench")).expect("bench secret");
    let policy = IssuerPolicy::new(ISS, vec![Alg::HS256]);
    let mut cache: VerificationCache<Claims> =
        VerificationCache::new(DEFAULT_CACHE_CAPACITY, [0x42; 32]);
    for token in &tokens {
        let claims = jose::decode_and_verify(token, &keys, &policy, NOW).expect("valid token");
        let expires_at = claims.exp.unwrap_or(NOW + 1);
        let key = cache.key(CredentialKind::Jwt, token.as_bytes());
        assert!(cache.insert(key, claims, expires_at, NOW));
    }
    assert_eq!(cache.len(), CACHED_TOKENS);
    for token in &tokens {
        let key = cache.key(CredentialKind::Jwt, token.as_bytes());
        assert!(cache.get(&key, NOW).is_some(), "every cached token hits");
    }
    let mut next = 0usize;
    c.bench_function("jwt_cache_hit", |b| {
        b.iter(|| {
            let token = tokens.get(next % CACHED_TOKENS).map_or(&[][..], |t| t.as_bytes());
            next = next.wrapping_add(1);
            let key = cache.key(CredentialKind::Jwt, black_box(token));
            cache.get(&key, NOW).is_some()
        })
    });
}

criterion_group!(benches, verify, cache_hit);
criterion_main!(benches);
