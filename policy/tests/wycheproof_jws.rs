//! Wycheproof JOSE vectors (`json_web_signature_test.json`, `json_web_key_test.json`,
//! `json_web_crypto_test.json`) driven through `jose::decode` + `jose::verify_signature`.
//!
//! Every `invalid` case must be refused. Every `valid` case must be accepted, except those listed
//! in the per-file exception tables with the reason Turnpike refuses them on purpose (and a
//! fragment the refusal message must contain). A listed exception that is accepted, missing or
//! not `valid` fails the test, so the list cannot go stale. The payloads are not JWTs (`foo`), so
//! only the signature layer is exercised here; claims have their own tests.

use serde_json::Value;
use turnpike_policy::jose::{self, Alg, KeySet};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/wycheproof/");

/// `(tcId, fragment of the refusal message, why Turnpike refuses this valid case)`.
type Exception = (u64, &'static str, &'static str);

const JWS_EXCEPTIONS: &[Exception] = &[
    (346, "cannot verify alg PS384", "RFC 7520 Figure 20 is PS384 but the vector's JWK says alg PS256: the JWK alg binding is enforced"),
    (347, "ES5", "RFC 7520 Figure 27: ES512 / P-521 is not in ring"),
    (350, "cannot verify alg PS384", "as 346, key_ops variant: JWK alg PS256 bound, token PS384"),
    (351, "ES5", "RFC 7520 Figure 27 (key_ops variant): ES512 / P-521 is not in ring"),
    (372, "base64url", "'?' inserted in the header: only lenient base64url decodes it"),
    (373, "base64url", "'?' inserted in the payload: only lenient base64url decodes it"),
];

/// `invalid` cases that are accepted because their token is byte-identical to a `valid` case of the
/// same file (a defect of the vector file): `(tcId, the identical valid tcId)`. Checked, not
/// trusted: the test fails if the tokens or keys differ.
const JWS_IDENTICAL_TO_VALID: &[(u64, u64)] = &[
    (367, 357), // invalidBase64Padding: the padding was lost, the token equals ValidMac
    (370, 357), // invalidBase64PaddingInPayload: likewise
];

const KEY_EXCEPTIONS: &[Exception] = &[];

const CRYPTO_EXCEPTIONS: &[Exception] = &[
    (50, "JWE", "JWE (A256KW) is out of scope: Turnpike verifies JWS only"),
    (67, "JWE", "JWE (ECDH-ES+A128KW) is out of scope: Turnpike verifies JWS only"),
];

fn load(name: &str) -> Value {
    let path = format!("{DIR}{name}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("Wycheproof vector file {path} is missing or unreadable ({e}); it lives in shared/vectors/wycheproof")
    });
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: invalid JSON: {e}"))
}

/// Builds the key set of a group: the public key when given, else the private one (HMAC keys
/// have only a private form; private members are ignored by the parser).
fn key_set(group: &Value) -> Result<KeySet, String> {
    let key = group.get("public").or_else(|| group.get("private")).ok_or("group has no key")?;
    let json = serde_json::to_vec(key).map_err(|e| e.to_string())?;
    let set =
        if key.get("keys").is_some() { KeySet::from_jwks(&json) } else { KeySet::from_jwk(&json) };
    set.map_err(|e| format!("key refused: {e}"))
}

/// `Ok(())` if the token verifies, else the refusal message.
fn outcome(keys: &Result<KeySet, String>, token: &str) -> Result<(), String> {
    let jws = jose::decode(token).map_err(|e| e.to_string())?;
    let keys = keys.as_ref().map_err(Clone::clone)?;
    jose::verify_signature(&jws, keys, &Alg::ALL).map(|_| ()).map_err(|e| e.to_string())
}

#[derive(Default, Debug)]
struct Tally {
    valid_accepted: usize,
    valid_refused_by_exception: usize,
    invalid_refused: usize,
    invalid_accepted_identical: usize,
    failures: Vec<String>,
}

fn run(file: &str, exceptions: &[Exception], identical: &[(u64, u64)]) -> Tally {
    let doc = load(file);
    let mut tally = Tally::default();
    let mut seen_exceptions = Vec::new();
    let mut total = 0;
    let groups = doc["testGroups"].as_array().expect("testGroups");
    let case = |id: u64| {
        groups.iter().find_map(|g| {
            let t = g["tests"].as_array()?.iter().find(|t| t["tcId"].as_u64() == Some(id))?;
            Some((
                g.get("public").or_else(|| g.get("private")).cloned(),
                t["jws"].clone(),
                t["result"].clone(),
            ))
        })
    };
    for &(id, twin) in identical {
        let (a, b) = (case(id).expect("listed tcId exists"), case(twin).expect("twin tcId exists"));
        assert_eq!((&a.0, &a.1), (&b.0, &b.1), "{file}: tcId {id} is not identical to tcId {twin}");
        assert_eq!(b.2, "valid", "{file}: twin tcId {twin} is not valid");
    }
    for group in groups {
        let keys = key_set(group);
        for test in group["tests"].as_array().expect("tests") {
            total += 1;
            let id = test["tcId"].as_u64().expect("tcId");
            // The JSON serialization is an object in the vectors; it is sent as its JSON text.
            let token = match test.get("jws").or_else(|| test.get("jwe")).expect("jws or jwe") {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let token = token.as_str();
            let comment = test["comment"].as_str().unwrap_or("");
            let result = outcome(&keys, token);
            let exception = exceptions.iter().find(|(tc, _, _)| *tc == id);
            if std::env::var_os("WYCHEPROOF_VERBOSE").is_some() {
                eprintln!("{file} tcId {id} {comment}: {result:?}");
            }
            match (test["result"].as_str(), &result, exception) {
                (Some("valid"), Ok(()), None) => tally.valid_accepted += 1,
                (Some("valid"), Err(why), Some((_, fragment, _))) if why.contains(fragment) => {
                    seen_exceptions.push(id);
                    tally.valid_refused_by_exception += 1;
                }
                (Some("valid"), Err(why), Some((_, fragment, reason))) => tally.failures.push(
                    format!("{file} tcId {id} ({comment}): exception ({reason}) expected a refusal mentioning {fragment:?}, got {why:?}"),
                ),
                (Some("valid"), Ok(()), Some((_, _, reason))) => tally.failures.push(format!(
                    "{file} tcId {id} ({comment}): listed as exception ({reason}) but now accepted: remove it from the list"
                )),
                (Some("valid"), Err(why), None) => {
                    tally.failures.push(format!("{file} tcId {id} ({comment}): valid but refused: {why}"))
                }
                (Some("invalid"), Err(_), None) => tally.invalid_refused += 1,
                (Some("invalid"), Ok(()), None) if identical.iter().any(|(tc, _)| *tc == id) => {
                    tally.invalid_accepted_identical += 1;
                }
                (Some("invalid"), Ok(()), _) => {
                    tally.failures.push(format!("{file} tcId {id} ({comment}): invalid but accepted"))
                }
                (Some("invalid"), Err(_), Some(_)) => tally.failures.push(format!(
                    "{file} tcId {id} ({comment}): invalid case listed as exception: remove it"
                )),
                (other, _, _) => {
                    tally.failures.push(format!("{file} tcId {id}: unexpected result {other:?}"))
                }
            }
        }
    }
    for (id, _, reason) in exceptions {
        if !seen_exceptions.contains(id)
            && !tally.failures.iter().any(|f| f.contains(&format!("tcId {id} ")))
        {
            tally.failures.push(format!(
                "{file}: exception tcId {id} ({reason}) matches no valid case: stale"
            ));
        }
    }
    if let Some(n) = doc["numberOfTests"].as_u64() {
        assert_eq!(n as usize, total, "{file}: numberOfTests does not match the cases run");
    }
    eprintln!(
        "{file}: {total} cases: {} valid accepted, {} valid refused by listed exception, {} invalid refused, {} invalid accepted (identical to a valid case)",
        tally.valid_accepted, tally.valid_refused_by_exception, tally.invalid_refused, tally.invalid_accepted_identical
    );
    tally
}

fn check(file: &str, exceptions: &[Exception], identical: &[(u64, u64)]) {
    let tally = run(file, exceptions, identical);
    assert!(
        tally.failures.is_empty(),
        "{} failures:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}

#[test]
fn json_web_signature() {
    check("json_web_signature_test.json", JWS_EXCEPTIONS, JWS_IDENTICAL_TO_VALID);
}

#[test]
fn json_web_key() {
    check("json_web_key_test.json", KEY_EXCEPTIONS, &[]);
}

#[test]
fn json_web_crypto() {
    check("json_web_crypto_test.json", CRYPTO_EXCEPTIONS, &[]);
}
