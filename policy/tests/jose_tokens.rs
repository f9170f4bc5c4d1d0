//! End-to-end tests of `jose` with tokens minted here with ring: every supported algorithm,
//! tampering, algorithm/key confusion, key selection by `kid`, JWK/JWKS refusals and the claims
//! checks through [`jose::verify`].

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use ring::{hmac, rsa};
use turnpike_policy::jose::{
    self, b64, Alg, IssuerPolicy, JoseError, KeyError, KeySet, VerifyingKey,
};

/// A fixed RSA-2048 PKCS#8 test key (ring cannot generate RSA keys), base64url.
const RSA_PKCS8: &str = "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC6-9sfw60KNbhwojq9wN2zNXYgs905AOz0A7rg_1ov2aFQAk0ud3OEW3d_gp694XQflSzDQXtKSKbJi5iNSSRpmJPZvSR1JhjtfktX95Uang1vooa3sYUPeDVkS6T63L82u-B8aSXapi-aISFWxCwLRNJ2xyqsyrUvk5iEu9mQN39Rz2Wmfov3yUDxlmph1KIj0EpF6thAqVPVKPN_ZC0pInk3sWRWdxFl4It-x1SwSiF4BclyhnQqDg4Zw41e3h0DlJ-bJciHjzyeky833QsEC9Q8awBajdUVS2KTbUqqHtABWm9RbPiRiKP0jKEsfV0xrP-Ajv6YmJsYkv4AqxDfAgMBAAECggEAT54FKEnYCQRl1CPn0jtoyzGE6pjbpjWUL7TU4pAoVT6cNua7-YCoYd_WiqdSM3TnzrjktgFQX4l-50u2-dX-mK38qpakivNdYubHax4DUbGh8_pm1ZnTmAot5dZl2eGb09D83cyh7y-bDkx0Fy9xt5ym5yeYLrojmy4EH-Si14pnKidEoOBUvwM-F7vo0b0cyfMq7NsQV5_j7z1oJm35XdxVyIkQoL5rtsI5t7Vhqh66WJtyJ6bkRXz0FcXZMP9bBlGTBj5SILwkTRDIsPHxnD3OaIawMOkh8nGSiD-Wh6dpk_53pYFnplJ1Uab7ZkEEFJmJAVevY1_EAITZf8TBNQKBgQDrkgrVhQc548IaWwWaQa_jECMGJR9KNlPG-DP1PGD6h0je9F-upC4dn9TGg7Z0mYsc1G4d7eFbbHMgRrrr66lZwpkKSBOt9HBBxVcfIjRL1EcBJTybFiKRjYPm1FFrqbj4NZIfOwRTTT874ASrBqOGeusFMSf2ZwTRuP21wlrd-wKBgQDLMyEUETg5_5a5gKK5cSKeKR77OTrNzkxvfe-gpicepzXTXwVaxGz98hu-8ejXix32fpiq44sFUPGe9Hfi8FF2ef9DcM8fUlZuQgWTwRuAab0tRCHOnlVNj66rHf9GFLkTK3qPEOiZvzcFXBa10s5DTHpchFtJky5EA_q1MMsXbQKBgCIEnPvokfqSIV2c91onUjcABY7FnZch8UcyYI5xga-sCaHouEiH_QDaK-fe7WI5KhWnt58q0vhY2Oc4T5XyGiqUJ3WMowrj2bIlxUcBsXuh0_8eWXor4CIUxY936aoagFOXqNpJs340EYWb_BCWjNbGuVmul47FobSHelvdDTIxAoGBAK_pc5mLzsFnI3U0h6tC5lVGBCw5P08sab-bpvfM39EJsO9sM5aAtlqiXqLPimQPa8EZl9FZa-EOUh7qRV-R7PREaVhZMPZMscaCIZHoe4aQA9ZMRXg6Wl7rJKu_LF_fUNnnqhJw8O0pPNjHAGIoPajFbKjrbJwlbsgzKbfypd-BAoGBAJX1125L4CAaCEiqqxD2_a1sgfcHKSpyDBSnuyspf31-0O5qYnJoSd4QPOYanL1cUCKExy-jGLyZlNGcKllPIWCKpnK4YY3TPxwVMjRJd5pw8_3HbELJA68Jo93MvrKBkYjFsufcTafnPQL6lcHMR_X8ZijQGhsMG2xcwWJh0LGX";

const NOW: u64 = 1_700_000_000;
const ISS: &str = "https://idp.example/oauth2/token";

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Hmac(Vec<u8>),
}

fn rng() -> SystemRandom {
    SystemRandom::new()
}

fn rsa_signer() -> RsaKeyPair {
    RsaKeyPair::from_pkcs8(&b64::decode(RSA_PKCS8.as_bytes()).unwrap()).unwrap()
}

fn ec_signer(alg: Alg) -> EcdsaKeyPair {
    let a = match alg {
        Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        _ => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
    };
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(a, &rng()).unwrap();
    EcdsaKeyPair::from_pkcs8(a, pkcs8.as_ref(), &rng()).unwrap()
}

fn ed_signer() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn sign(signer: &Signer, alg: Alg, msg: &[u8]) -> Vec<u8> {
    match signer {
        Signer::Rsa(kp) => {
            let padding: &dyn signature::RsaEncoding = match alg {
                Alg::RS256 => &signature::RSA_PKCS1_SHA256,
                Alg::RS384 => &signature::RSA_PKCS1_SHA384,
                Alg::RS512 => &signature::RSA_PKCS1_SHA512,
                Alg::PS256 => &signature::RSA_PSS_SHA256,
                Alg::PS384 => &signature::RSA_PSS_SHA384,
                _ => &signature::RSA_PSS_SHA512,
            };
            let mut sig = vec![0; kp.public().modulus_len()];
            kp.sign(padding, &rng(), msg, &mut sig).unwrap();
            sig
        }
        Signer::Ec(kp) => kp.sign(&rng(), msg).unwrap().as_ref().to_vec(),
        Signer::Ed(kp) => kp.sign(msg).as_ref().to_vec(),
        Signer::Hmac(secret) => {
            let a = match alg {
                Alg::HS256 => hmac::HMAC_SHA256,
                Alg::HS384 => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            hmac::sign(&hmac::Key::new(a, secret), msg).as_ref().to_vec()
        }
    }
}

fn mint_raw(signer: &Signer, alg: Alg, header: &str, claims: &str) -> String {
    let input = format!("{}.{}", b64::encode(header.as_bytes()), b64::encode(claims.as_bytes()));
    let sig = sign(signer, alg, input.as_bytes());
    format!("{input}.{}", b64::encode(&sig))
}

fn mint(signer: &Signer, alg: Alg, kid: &str, claims: &str) -> String {
    mint_raw(signer, alg, &format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#), claims)
}

fn good_claims() -> String {
    format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":["api-1"],"exp":{},"iat":{},"jti":"j-1","azp":"client","scope":"read write"}}"#,
        NOW + 300,
        NOW - 10
    )
}

fn jwk_for(signer: &Signer, kid: &str, alg: Option<Alg>) -> String {
    let alg = alg.map(|a| format!(r#","alg":"{a}""#)).unwrap_or_default();
    match signer {
        Signer::Rsa(kp) => {
            let c: rsa::PublicKeyComponents<Vec<u8>> = kp.public().into();
            format!(
                r#"{{"kty":"RSA","kid":"{kid}","use":"sig","n":"{}","e":"{}"{alg}}}"#,
                b64::encode(&c.n),
                b64::encode(&c.e)
            )
        }
        Signer::Ec(kp) => {
            let point = kp.public_key().as_ref();
            let len = (point.len() - 1) / 2;
            let crv = if len == 32 { "P-256" } else { "P-384" };
            format!(
                r#"{{"kty":"EC","kid":"{kid}","crv":"{crv}","x":"{}","y":"{}"{alg}}}"#,
                b64::encode(&point[1..1 + len]),
                b64::encode(&point[1 + len..])
            )
        }
        Signer::Ed(kp) => format!(
            r#"{{"kty":"OKP","kid":"{kid}","crv":"Ed25519","x":"{}"{alg}}}"#,
            b64::encode(kp.public_key().as_ref())
        ),
        Signer::Hmac(secret) => {
            format!(r#"{{"kty":"oct","kid":"{kid}","k":"{}"{alg}}}"#, b64::encode(secret))
        }
    }
}

fn policy(algs: &[Alg]) -> IssuerPolicy {
    IssuerPolicy { audiences: vec!["api-1".into()], ..IssuerPolicy::new(ISS, algs.to_vec()) }
}

fn check(token: &str, keys: &KeySet, policy: &IssuerPolicy) -> Result<jose::Claims, JoseError> {
    jose::decode_and_verify(token, keys, policy, NOW)
}

fn signer_for(alg: Alg) -> Signer {
    match alg.family() {
        jose::KeyFamily::Rsa => Signer::Rsa(rsa_signer()),
        jose::KeyFamily::EcP256 | jose::KeyFamily::EcP384 => Signer::Ec(ec_signer(alg)),
        jose::KeyFamily::Ed25519 => Signer::Ed(ed_signer()),
        jose::KeyFamily::Hmac => Signer::Hmac(vec![7; 64]),
    }
}

#[test]
fn every_algorithm_round_trips() {
    for alg in Alg::ALL {
        let signer = signer_for(alg);
        let jwks = format!(r#"{{"keys":[{}]}}"#, jwk_for(&signer, "k1", None));
        let keys = KeySet::from_jwks(jwks.as_bytes()).unwrap();
        let token = mint(&signer, alg, "k1", &good_claims());
        let claims = check(&token, &keys, &policy(&[alg])).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims.sub.as_deref(), Some("alice"));
        assert_eq!(claims.aud, ["api-1"]);
        assert_eq!(claims.scope.as_deref(), Some("read write"));
        assert_eq!(claims.azp.as_deref(), Some("client"));
        assert_eq!(claims.jti.as_deref(), Some("j-1"));

        // Tampered payload and signature.
        let (input, sig) = token.rsplit_once('.').unwrap();
        let (head, _) = input.split_once('.').unwrap();
        let other = b64::encode(good_claims().replace("alice", "mallory").as_bytes());
        let forged = format!("{head}.{other}.{sig}");
        assert_eq!(check(&forged, &keys, &policy(&[alg])).unwrap_err(), JoseError::BadSignature);
        let mut raw = b64::decode(sig.as_bytes()).unwrap();
        raw[0] ^= 1;
        let flipped = format!("{input}.{}", b64::encode(&raw));
        assert_eq!(check(&flipped, &keys, &policy(&[alg])).unwrap_err(), JoseError::BadSignature);

        // The same key bound to this alg still works; bound to another alg it does not.
        let bound = KeySet::from_jwk(jwk_for(&signer, "k1", Some(alg)).as_bytes()).unwrap();
        assert!(check(&token, &bound, &policy(&[alg])).is_ok());
    }
}

#[test]
fn alg_not_allowed_comes_first() {
    let signer = Signer::Ec(ec_signer(Alg::ES256));
    let keys = KeySet::from_jwk(jwk_for(&signer, "k1", None).as_bytes()).unwrap();
    let token = mint(&signer, Alg::ES256, "k1", &good_claims());
    assert_eq!(
        check(&token, &keys, &policy(&[Alg::RS256])).unwrap_err(),
        JoseError::AlgNotAllowed(Alg::ES256)
    );
}

#[test]
fn rsa_public_key_as_hmac_secret_is_refused() {
    // The classic confusion: HS256 "signed" with the RSA public key bytes.
    let rsa = Signer::Rsa(rsa_signer());
    let jwk = jwk_for(&rsa, "k1", None);
    let keys = KeySet::from_jwk(jwk.as_bytes()).unwrap();
    let token = mint(&Signer::Hmac(jwk.into_bytes()), Alg::HS256, "k1", &good_claims());
    let all = policy(&Alg::ALL);
    assert!(matches!(check(&token, &keys, &all), Err(JoseError::KeyMismatch { .. })));
}

#[test]
fn hmac_key_never_verifies_rs256_and_binding_is_enforced() {
    let secret = Signer::Hmac(vec![1; 32]);
    let keys = KeySet::from_secret(&[1; 32], None).unwrap();
    let rsa = Signer::Rsa(rsa_signer());
    let token = mint(&rsa, Alg::RS256, "k1", &good_claims());
    assert!(matches!(check(&token, &keys, &policy(&Alg::ALL)), Err(JoseError::KeyMismatch { .. })));
    // A 32-byte secret is too short for HS384/HS512.
    let token = mint(&secret, Alg::HS384, "k1", &good_claims());
    assert!(matches!(check(&token, &keys, &policy(&Alg::ALL)), Err(JoseError::KeyMismatch { .. })));
    // A kid-less secret answers any kid.
    let token = mint(&secret, Alg::HS256, "anything", &good_claims());
    assert!(check(&token, &keys, &policy(&[Alg::HS256])).is_ok());
    // RS256-bound RSA key refuses PS256.
    let bound = KeySet::from_jwk(jwk_for(&rsa, "k1", Some(Alg::RS256)).as_bytes()).unwrap();
    let token = mint(&rsa, Alg::PS256, "k1", &good_claims());
    assert!(matches!(
        check(&token, &bound, &policy(&Alg::ALL)),
        Err(JoseError::KeyMismatch { .. })
    ));
}

#[test]
fn key_selection_by_kid() {
    let a = Signer::Ec(ec_signer(Alg::ES256));
    let b = Signer::Ec(ec_signer(Alg::ES256));
    let jwks = format!(r#"{{"keys":[{},{}]}}"#, jwk_for(&a, "a", None), jwk_for(&b, "b", None));
    let keys = KeySet::from_jwks(jwks.as_bytes()).unwrap();
    assert_eq!(keys.len(), 2);
    let p = policy(&[Alg::ES256]);
    assert!(check(&mint(&a, Alg::ES256, "a", &good_claims()), &keys, &p).is_ok());
    assert!(check(&mint(&b, Alg::ES256, "b", &good_claims()), &keys, &p).is_ok());
    // Signed by a, labelled b.
    let wrong = mint(&a, Alg::ES256, "b", &good_claims());
    assert_eq!(check(&wrong, &keys, &p).unwrap_err(), JoseError::BadSignature);
    let unknown = mint(&a, Alg::ES256, "c", &good_claims());
    assert_eq!(check(&unknown, &keys, &p).unwrap_err(), JoseError::UnknownKid("c".into()));
    // No kid and two candidate keys: ambiguous; with one key: fine.
    let no_kid = mint_raw(&a, Alg::ES256, r#"{"alg":"ES256"}"#, &good_claims());
    assert_eq!(check(&no_kid, &keys, &p).unwrap_err(), JoseError::AmbiguousKey(None));
    let single = KeySet::from_jwk(jwk_for(&a, "a", None).as_bytes()).unwrap();
    assert!(check(&no_kid, &single, &p).is_ok());
    // Duplicate kid: ambiguous.
    let dup = format!(r#"{{"keys":[{},{}]}}"#, jwk_for(&a, "a", None), jwk_for(&b, "a", None));
    let dup = KeySet::from_jwks(dup.as_bytes()).unwrap();
    let token = mint(&a, Alg::ES256, "a", &good_claims());
    assert_eq!(check(&token, &dup, &p).unwrap_err(), JoseError::AmbiguousKey(Some("a".into())));
}

#[test]
fn duplicate_kid_disambiguated_by_alg_binding() {
    let rsa = Signer::Rsa(rsa_signer());
    let jwks = format!(
        r#"{{"keys":[{},{}]}}"#,
        jwk_for(&rsa, "r", Some(Alg::RS256)),
        jwk_for(&rsa, "r", Some(Alg::PS256))
    );
    let keys = KeySet::from_jwks(jwks.as_bytes()).unwrap();
    let p = policy(&Alg::ALL);
    assert!(check(&mint(&rsa, Alg::RS256, "r", &good_claims()), &keys, &p).is_ok());
    assert!(check(&mint(&rsa, Alg::PS256, "r", &good_claims()), &keys, &p).is_ok());
}

#[test]
fn embedded_jwk_is_ignored() {
    let real = Signer::Ec(ec_signer(Alg::ES256));
    let attacker = Signer::Ec(ec_signer(Alg::ES256));
    let keys = KeySet::from_jwk(jwk_for(&real, "k1", None).as_bytes()).unwrap();
    let header =
        format!(r#"{{"alg":"ES256","kid":"k1","jwk":{}}}"#, jwk_for(&attacker, "k1", None));
    let token = mint_raw(&attacker, Alg::ES256, &header, &good_claims());
    assert_eq!(check(&token, &keys, &policy(&[Alg::ES256])).unwrap_err(), JoseError::BadSignature);
}

#[test]
fn header_refusals() {
    let signer = Signer::Hmac(vec![9; 32]);
    let keys = KeySet::from_secret(&[9; 32], None).unwrap();
    let p = policy(&[Alg::HS256]);
    let none = format!("{}.{}.", b64::encode(br#"{"alg":"none"}"#), b64::encode(b"{}"));
    assert_eq!(check(&none, &keys, &p).unwrap_err(), JoseError::AlgNone);
    let crit = mint_raw(&signer, Alg::HS256, r#"{"alg":"HS256","crit":["foo"],"foo":1}"#, "{}");
    assert_eq!(check(&crit, &keys, &p).unwrap_err(), JoseError::UnknownCritical("foo".into()));
    let dup = mint_raw(&signer, Alg::HS256, r#"{"alg":"HS256","alg":"HS256"}"#, "{}");
    assert!(matches!(check(&dup, &keys, &p), Err(JoseError::Malformed(_))));
    let es512 = mint_raw(&signer, Alg::HS256, r#"{"alg":"ES512"}"#, "{}");
    assert!(matches!(check(&es512, &keys, &p), Err(JoseError::UnsupportedAlg { .. })));
}

#[test]
fn claims_through_verify() {
    let signer = Signer::Ed(ed_signer());
    let keys = KeySet::from_jwk(jwk_for(&signer, "k", None).as_bytes()).unwrap();
    let p = policy(&[Alg::EdDSA]);
    let run = |claims: &str| check(&mint(&signer, Alg::EdDSA, "k", claims), &keys, &p);
    let exp = NOW + 300;
    assert!(run(&good_claims()).is_ok());
    let expired = format!(r#"{{"iss":"{ISS}","aud":"api-1","exp":{}}}"#, NOW - 61);
    assert_eq!(run(&expired).unwrap_err(), JoseError::Expired);
    let nbf = format!(r#"{{"iss":"{ISS}","aud":"api-1","exp":{exp},"nbf":{}}}"#, NOW + 120);
    assert_eq!(run(&nbf).unwrap_err(), JoseError::NotYetValid);
    let iat = format!(r#"{{"iss":"{ISS}","aud":"api-1","exp":{exp},"iat":{}}}"#, NOW + 120);
    assert_eq!(run(&iat).unwrap_err(), JoseError::IssuedInFuture);
    let iss = format!(r#"{{"iss":"https://evil.example","aud":"api-1","exp":{exp}}}"#);
    assert_eq!(run(&iss).unwrap_err(), JoseError::WrongIssuer);
    let aud = format!(r#"{{"iss":"{ISS}","aud":"api-2","exp":{exp}}}"#);
    assert_eq!(run(&aud).unwrap_err(), JoseError::WrongAudience);
    let no_exp = format!(r#"{{"iss":"{ISS}","aud":"api-1"}}"#);
    assert_eq!(run(&no_exp).unwrap_err(), JoseError::MissingClaim("exp"));
    let dup = format!(r#"{{"iss":"{ISS}","aud":"api-1","exp":{exp},"exp":{exp}}}"#);
    assert!(matches!(run(&dup), Err(JoseError::InvalidClaims(_))));
    assert!(matches!(run("not json"), Err(JoseError::InvalidClaims(_))));
}

#[test]
fn jwk_refusals() {
    let ec = Signer::Ec(ec_signer(Alg::ES256));
    let good = jwk_for(&ec, "k", None);
    // Flip the last byte of y: the point leaves the curve; refused at load with a clear error.
    let y = good.split(r#""y":""#).nth(1).unwrap().split('"').next().unwrap();
    let mut raw = b64::decode(y.as_bytes()).unwrap();
    *raw.last_mut().unwrap() ^= 1;
    let bad = good.replace(y, &b64::encode(&raw));
    assert_eq!(VerifyingKey::from_jwk(bad.as_bytes()).unwrap_err(), KeyError::EcInvalidPoint);
    let p521 = good.replace("P-256", "P-521");
    assert!(matches!(VerifyingKey::from_jwk(p521.as_bytes()), Err(KeyError::UnsupportedCurve(_))));
    let p384 = good.replace("P-256", "P-384");
    assert_eq!(VerifyingKey::from_jwk(p384.as_bytes()).unwrap_err(), KeyError::EcCoordinateLength);
    let es384 = jwk_for(&ec, "k", Some(Alg::ES384));
    assert!(matches!(VerifyingKey::from_jwk(es384.as_bytes()), Err(KeyError::AlgMismatch { .. })));
    let rs256 = jwk_for(&ec, "k", Some(Alg::RS256));
    assert!(matches!(VerifyingKey::from_jwk(rs256.as_bytes()), Err(KeyError::AlgMismatch { .. })));
    let enc = good.replace(r#""kty""#, r#""use":"enc","kty""#);
    assert!(matches!(VerifyingKey::from_jwk(enc.as_bytes()), Err(KeyError::NotForSignatures(_))));
    let ops = good.replace(r#""kty""#, r#""key_ops":["sign"],"kty""#);
    assert_eq!(VerifyingKey::from_jwk(ops.as_bytes()).unwrap_err(), KeyError::NoVerifyOp);
    let ed448 = r#"{"kty":"OKP","crv":"Ed448","x":"AA"}"#;
    assert!(matches!(VerifyingKey::from_jwk(ed448.as_bytes()), Err(KeyError::UnsupportedCurve(_))));
    let padded = good.replace(r#"","y""#, r#"=","y""#);
    assert!(matches!(VerifyingKey::from_jwk(padded.as_bytes()), Err(KeyError::Base64(_))));
    let short_ed = r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#;
    assert_eq!(VerifyingKey::from_jwk(short_ed.as_bytes()).unwrap_err(), KeyError::Ed25519Length);
    assert!(matches!(KeySet::from_secret(&[1; 31], None), Err(KeyError::HmacTooShort { .. })));
    assert!(matches!(KeySet::from_secret(&[], None), Err(KeyError::HmacTooShort { .. })));
    // RSA with e = 1 and a leading-zero modulus.
    let rsa = Signer::Rsa(rsa_signer());
    let jwk = jwk_for(&rsa, "r", None);
    let e1 = jwk.replace(r#""e":"AQAB""#, r#""e":"AQ""#);
    assert_eq!(VerifyingKey::from_jwk(e1.as_bytes()).unwrap_err(), KeyError::RsaBadExponent);
}

#[test]
fn jwks_refusals() {
    let ec = Signer::Ec(ec_signer(Alg::ES256));
    let mixed = format!(
        r#"{{"keys":[{},{}]}}"#,
        jwk_for(&ec, "a", None),
        jwk_for(&Signer::Hmac(vec![1; 32]), "b", None)
    );
    assert_eq!(KeySet::from_jwks(mixed.as_bytes()).unwrap_err(), KeyError::MixedSymmetric);
    assert_eq!(KeySet::from_jwks(br#"{"kids":[]}"#).unwrap_err(), KeyError::NotAKeySet);
    assert!(matches!(KeySet::from_jwks(b"[]"), Err(KeyError::Json(_))));
    // One bad key does not sink the set; a token naming it gets KeyRejected, not UnknownKid.
    let jwks = format!(
        r#"{{"keys":[{},{{"kty":"EC","kid":"bad","crv":"P-521","x":"AA","y":"AA"}},7]}}"#,
        jwk_for(&ec, "a", None)
    );
    let keys = KeySet::from_jwks(jwks.as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys.refused().count(), 2);
    let token = mint(&ec, Alg::ES256, "bad", &good_claims());
    assert!(matches!(
        check(&token, &keys, &policy(&[Alg::ES256])),
        Err(JoseError::KeyRejected { .. })
    ));
    assert!(
        check(&mint(&ec, Alg::ES256, "a", &good_claims()), &keys, &policy(&[Alg::ES256])).is_ok()
    );
}

#[test]
fn errors_display() {
    let errors = [
        JoseError::Malformed("x"),
        JoseError::AlgNone,
        JoseError::UnknownKid("k".into()),
        JoseError::KeyMismatch { kid: None, alg: Alg::RS256 },
        JoseError::BadSignature,
        JoseError::Expired,
    ];
    for e in errors {
        assert!(!e.to_string().is_empty());
    }
    assert!(KeyError::RsaRoca.to_string().contains("ROCA"));
}
