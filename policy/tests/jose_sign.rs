//! Tests of `jose::SigningKey` through the public API: every algorithm signs a token the
//! verifier accepts with the published JWK (or the shared secret), tampering is refused, keys
//! load from the PEM files under `tests/keys/` (test-only keys made with `openssl genpkey`), and
//! generated keys reload from their PKCS#8.

use serde_json::Value;
use turnpike_policy::jose::{
    b64, decode, decode_and_verify, jwks_json, pkcs8_from_pem, pkcs8_pem, Alg, IssuerPolicy,
    JoseError, KeyFamily, KeySet, SignError, SigningKey,
};

const RSA: &[u8] = include_bytes!("keys/rsa2048.pem");
const P256: &[u8] = include_bytes!("keys/ec-p256.pem");
const P384: &[u8] = include_bytes!("keys/ec-p384.pem");
const ED25519: &[u8] = include_bytes!("keys/ed25519.pem");
const SECRET: &[u8; 64] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000;
const CLAIMS: &str = r#"{"iss":"https://gw.example","sub":"alice","exp":1700000600}"#;

fn key_for(alg: Alg, kid: &str) -> SigningKey {
    let kid = Some(kid.to_owned());
    match alg.family() {
        KeyFamily::Rsa => SigningKey::from_pkcs8_pem(RSA, alg, kid),
        KeyFamily::EcP256 => SigningKey::from_pkcs8_pem(P256, alg, kid),
        KeyFamily::EcP384 => SigningKey::from_pkcs8_pem(P384, alg, kid),
        KeyFamily::Ed25519 => SigningKey::from_pkcs8_pem(ED25519, alg, kid),
        KeyFamily::Hmac => SigningKey::from_secret(SECRET, alg, kid),
    }
    .unwrap()
}

fn keys_of(key: &SigningKey) -> KeySet {
    match key.public_jwk() {
        Some(_) => KeySet::from_jwks(jwks_json(&[key]).as_bytes()).unwrap(),
        None => KeySet::from_secret(SECRET, key.kid()).unwrap(),
    }
}

fn verify(token: &str, keys: &KeySet, alg: Alg) -> Result<(), JoseError> {
    let policy = IssuerPolicy::new("https://gw.example", vec![alg]);
    decode_and_verify(token, keys, &policy, NOW).map(|claims| {
        assert_eq!(claims.sub.as_deref(), Some("alice"));
    })
}

fn tamper(token: &str, part: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[part] = match part {
        1 => b64::encode(br#"{"iss":"https://gw.example","sub":"mallory","exp":1700000600}"#),
        _ => {
            let mut bytes = b64::decode(parts[part].as_bytes()).unwrap();
            bytes[0] ^= 1;
            b64::encode(&bytes)
        }
    };
    parts.join(".")
}

#[test]
fn every_alg_round_trips_through_the_verifier() {
    for alg in Alg::ALL {
        let key = key_for(alg, "k1");
        let keys = keys_of(&key);
        let token = key.sign(CLAIMS.as_bytes()).unwrap();
        assert_eq!(verify(&token, &keys, alg), Ok(()), "{alg}");
        for part in [1, 2] {
            assert_eq!(verify(&tamper(&token, part), &keys, alg), Err(JoseError::BadSignature));
        }
        let jws = decode(&token).unwrap();
        assert_eq!((jws.header().alg, jws.header().kid.as_deref()), (alg, Some("k1")));
    }
}

#[test]
fn header_is_fixed_and_kid_escaped() {
    let key = SigningKey::from_secret(SECRET, Alg::HS256, None).unwrap();
    let token = key.sign(b"{}").unwrap();
    let header = token.split('.').next().unwrap();
    assert_eq!(b64::decode(header.as_bytes()).unwrap(), br#"{"alg":"HS256","typ":"JWT"}"#);
    let key = SigningKey::from_secret(SECRET, Alg::HS256, Some(r#"a"b\c"#.into())).unwrap();
    let token = key.sign(b"{}").unwrap();
    assert_eq!(decode(&token).unwrap().header().kid.as_deref(), Some(r#"a"b\c"#));
    assert!(format!("{key:?}").contains("HS256"));
}

#[test]
fn public_jwks() {
    let rsa = key_for(Alg::PS256, "r");
    let jwk = rsa.public_jwk().unwrap();
    assert_eq!((jwk["kty"].as_str(), jwk["alg"].as_str()), (Some("RSA"), Some("PS256")));
    assert_eq!(jwk["e"].as_str(), Some("AQAB"));
    assert_eq!(b64::decode(jwk["n"].as_str().unwrap().as_bytes()).unwrap().len(), 256);
    let ec = key_for(Alg::ES384, "e");
    let jwk = ec.public_jwk().unwrap();
    assert_eq!((jwk["crv"].as_str(), jwk["use"].as_str()), (Some("P-384"), Some("sig")));
    assert_eq!(b64::decode(jwk["y"].as_str().unwrap().as_bytes()).unwrap().len(), 48);
    let hmac = key_for(Alg::HS512, "h");
    assert!(hmac.public_jwk().is_none());
    let set: Value = serde_json::from_str(&jwks_json(&[&rsa, &hmac, &ec])).unwrap();
    assert_eq!(set["keys"].as_array().unwrap().len(), 2);
    assert_eq!(KeySet::from_jwks(jwks_json(&[&rsa, &ec]).as_bytes()).unwrap().len(), 2);
}

#[test]
fn generate_and_reload() {
    for alg in [Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::HS384] {
        let (key, material) = SigningKey::generate(alg, Some("g".into())).unwrap();
        let token = key.sign(CLAIMS.as_bytes()).unwrap();
        let reloaded = if key.public_jwk().is_some() {
            let pem = pkcs8_pem(&material);
            assert!(pem.lines().all(|line| line.len() <= 64));
            SigningKey::from_pkcs8_pem(pem.as_bytes(), alg, Some("g".into())).unwrap()
        } else {
            assert_eq!(material.len(), 48);
            SigningKey::from_secret(&material, alg, Some("g".into())).unwrap()
        };
        let keys = match reloaded.public_jwk() {
            Some(jwk) => KeySet::from_jwk(jwk.to_string().as_bytes()).unwrap(),
            None => KeySet::from_secret(&material, Some("g")).unwrap(),
        };
        assert_eq!(verify(&token, &keys, alg), Ok(()), "{alg}");
    }
    for alg in [Alg::RS256, Alg::PS512] {
        let err = SigningKey::generate(alg, None).unwrap_err();
        assert_eq!(err, SignError::GenerationUnsupported(alg));
        assert!(err.to_string().contains("openssl genpkey"));
    }
}

#[test]
fn refusals() {
    let pkcs1 = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
    assert!(matches!(pkcs8_from_pem(pkcs1), Err(SignError::Pem(why)) if why.contains("topk8")));
    let encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n";
    assert!(matches!(pkcs8_from_pem(encrypted), Err(SignError::Pem(_))));
    assert!(matches!(pkcs8_from_pem(b"hello"), Err(SignError::Pem(_))));
    let unterminated = b"-----BEGIN PRIVATE KEY-----\nMIIE\n";
    assert!(matches!(pkcs8_from_pem(unterminated), Err(SignError::Pem(_))));
    let bad_body = b"-----BEGIN PRIVATE KEY-----\nM!IE\n-----END PRIVATE KEY-----\n";
    assert!(matches!(pkcs8_from_pem(bad_body), Err(SignError::Pem(_))));
    // Text before the block (e.g. openssl's "Bag Attributes") is skipped.
    let mut prefixed = b"Bag Attributes\n".to_vec();
    prefixed.extend_from_slice(P256);
    assert!(SigningKey::from_pkcs8_pem(&prefixed, Alg::ES256, None).is_ok());

    for (pem, alg) in [(P256, Alg::RS256), (RSA, Alg::ES256), (P256, Alg::ES384)] {
        let err = SigningKey::from_pkcs8_pem(pem, alg, None).unwrap_err();
        assert!(matches!(err, SignError::KeyRejected { .. }), "{alg}: {err}");
    }
    let err = SigningKey::from_pkcs8_pem(ED25519, Alg::HS256, None).unwrap_err();
    assert!(matches!(err, SignError::WrongKeyKind { alg: Alg::HS256, .. }));
    let err = SigningKey::from_secret(SECRET, Alg::EdDSA, None).unwrap_err();
    assert!(matches!(err, SignError::WrongKeyKind { alg: Alg::EdDSA, .. }));
    let err = SigningKey::from_secret(&SECRET[..47], Alg::HS384, None).unwrap_err();
    assert_eq!(err, SignError::HmacTooShort { len: 47, min: 48 });
}
