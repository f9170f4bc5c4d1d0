//! Tests of [`super::issuer_key_from_pem`] with certificates and public keys made by `rcgen` at
//! test time: each key type verifies tokens signed by its private half, `kid` matching, and every
//! refusal names its problem.

use super::*;
use turnpike_policy::jose::{decode, pkcs8_from_pem, verify_signature, Alg, JoseError, KeySet};
use turnpike_policy::jose::{SigningKey, VerifyingKey};

const RSA_PEM: &str = include_str!("../../../tests/keys/rsa-2048-1.pem");

/// A private key for `alg` as PKCS#8 DER (RSA from the fixture: ring cannot generate RSA keys).
fn private_der(alg: Alg) -> Vec<u8> {
    match alg {
        Alg::RS256 | Alg::PS256 => pkcs8_from_pem(RSA_PEM.as_bytes()).unwrap(),
        _ => SigningKey::generate(alg, None).unwrap().1,
    }
}

/// A self-signed certificate and the public key PEM of `der`.
fn cert_and_public_key(der: &[u8]) -> (String, String) {
    let pair = rcgen::KeyPair::try_from(der).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "test issuer");
    (params.self_signed(&pair).unwrap().pem(), pair.public_key_pem())
}

fn token(der: &[u8], alg: Alg, kid: Option<&str>) -> String {
    let key = SigningKey::from_pkcs8_der(der, alg, kid.map(str::to_owned)).unwrap();
    key.sign(br#"{"iss":"i","sub":"s"}"#).unwrap()
}

fn check(key: VerifyingKey, token: &str) -> Result<(), JoseError> {
    let keys = KeySet::from_keys([key]);
    let jws = decode(token)?;
    verify_signature(&jws, &keys, &[Alg::RS256, Alg::PS256, Alg::ES256, Alg::ES384, Alg::EdDSA])
        .map(|_| ())
}

#[test]
fn certificates_and_public_keys_of_each_type_verify_tokens() {
    for alg in [Alg::RS256, Alg::PS256, Alg::ES256, Alg::ES384, Alg::EdDSA] {
        let der = private_der(alg);
        let (cert, public) = cert_and_public_key(&der);
        let signed = token(&der, alg, None);
        for pem in [&cert, &public] {
            let key = issuer_key_from_pem(pem.as_bytes(), None).unwrap();
            assert_eq!(check(key, &signed), Ok(()), "{alg}");
        }
        // Another key of the same type does not verify it.
        if alg != Alg::RS256 && alg != Alg::PS256 {
            let (other, _) = cert_and_public_key(&private_der(alg));
            let key = issuer_key_from_pem(other.as_bytes(), None).unwrap();
            assert_eq!(check(key, &signed), Err(JoseError::BadSignature), "{alg}");
        }
    }
}

#[test]
fn the_first_key_block_counts_and_text_around_it_is_ignored() {
    let der = private_der(Alg::ES256);
    let (cert, _) = cert_and_public_key(&der);
    let (other, _) = cert_and_public_key(&private_der(Alg::ES384));
    let file = format!("subject=CN = test issuer\n{cert}\n{other}# trailing comment\n");
    let key = issuer_key_from_pem(file.as_bytes(), None).unwrap();
    assert_eq!(check(key, &token(&der, Alg::ES256, None)), Ok(()));
}

#[test]
fn without_kid_any_token_kid_matches_with_kid_only_that_one() {
    let der = private_der(Alg::EdDSA);
    let (cert, _) = cert_and_public_key(&der);
    let open = || issuer_key_from_pem(cert.as_bytes(), None).unwrap();
    let named = || issuer_key_from_pem(cert.as_bytes(), Some("k1")).unwrap();
    assert_eq!(check(open(), &token(&der, Alg::EdDSA, Some("whatever"))), Ok(()));
    assert_eq!(check(open(), &token(&der, Alg::EdDSA, None)), Ok(()));
    assert_eq!(check(named(), &token(&der, Alg::EdDSA, Some("k1"))), Ok(()));
    assert_eq!(check(named(), &token(&der, Alg::EdDSA, None)), Ok(()));
    assert_eq!(
        check(named(), &token(&der, Alg::EdDSA, Some("k2"))),
        Err(JoseError::UnknownKid("k2".into()))
    );
}

fn spki_pem(der: &[u8]) -> String {
    let body = turnpike_policy::base64::encode_standard(der);
    format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
}

#[test]
fn refusals_name_the_problem() {
    let err = |pem: &str| issuer_key_from_pem(pem.as_bytes(), None).unwrap_err();
    assert_eq!(err("just text\n"), CertificateError::NotPem);
    assert!(err("").to_string().starts_with("not PEM"));

    let private = turnpike_policy::jose::pkcs8_pem(&private_der(Alg::ES256));
    let e = err(&private);
    assert_eq!(e, CertificateError::NoPublicKey(vec!["PRIVATE KEY".into()]));
    assert!(e.to_string().contains("a private key does not belong"), "{e}");

    let e = err("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert!(matches!(e, CertificateError::Certificate(_)), "{e:?}");
    let e = err("-----BEGIN PUBLIC KEY-----\n!!notbase64\n-----END PUBLIC KEY-----\n");
    assert!(matches!(e, CertificateError::BadPem(_)), "{e:?}");
    let e = err("-----BEGIN PUBLIC KEY-----\nAAAA\n");
    assert!(matches!(e, CertificateError::BadPem(_)), "{e:?}");
    assert_eq!(
        err(&spki_pem(&[0x30, 0x03, 0x02, 0x01, 0x00])),
        CertificateError::PublicKeyInfo("not a DER SubjectPublicKeyInfo")
    );

    // X25519 (1.3.101.110): a key agreement key, not a signing key.
    let mut x25519 = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00];
    x25519.extend_from_slice(&[7; 32]);
    let e = err(&spki_pem(&x25519));
    assert_eq!(e, CertificateError::UnsupportedKeyType("1.3.101.110".into()));
    assert!(e.to_string().contains("use RSA, EC P-256/P-384 or Ed25519"), "{e}");

    // secp256k1 (1.3.132.0.10).
    let mut k1 = vec![0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    k1.extend_from_slice(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00, 0x04]);
    k1.extend_from_slice(&[1; 64]);
    assert_eq!(err(&spki_pem(&k1)), CertificateError::UnsupportedCurve("1.3.132.0.10".into()));

    // A P-256 point that is not on the curve.
    let mut p256 = k1.clone();
    p256.splice(14..20, [0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
    p256[1] += 3;
    p256[3] += 3;
    let e = err(&spki_pem(&p256));
    assert!(matches!(e, CertificateError::Key(_)), "{e:?}");
}

#[test]
fn an_unreadable_file_is_an_error() {
    let e = read_issuer_key(Path::new("/nonexistent/turnpike-cert.pem"), None).unwrap_err();
    assert!(matches!(e, CertificateError::Read(_)), "{e:?}");
}
