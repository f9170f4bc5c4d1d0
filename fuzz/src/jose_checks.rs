//! Invariant checks for the JOSE decoders of `turnpike-policy`: `jose::decode` (compact JWS),
//! `Claims::parse` / `Claims::validate` (JWT claims) and `KeySet::from_jwks` /
//! `VerifyingKey::from_jwk` with `KeySet::select` (JWK sets and key selection).
//!
//! Where it sits: shared by the cargo-fuzz target `fuzz/fuzz_targets/jose_decode.rs` (through the
//! `turnpike_fuzz` library) and by the stable-Rust test `policy/tests/fuzz_regressions.rs`,
//! which includes this file with `#[path]`. It therefore depends on nothing but
//! `turnpike_policy` and `std`.
//!
//! [`check_jose`] runs every decoder on one input and panics with a description when one
//! breaks these rules (besides "no panic"):
//!
//! * **Token structure** (RFC 7515 §7.1): an accepted token is `h64 "." p64 "." s64` with
//!   exactly two dots, at most [`MAX_TOKEN_LEN`] bytes, not JSON; its `signing_input` is the
//!   input up to the second dot; the payload and the signature re-encode (unpadded base64url)
//!   to exactly `p64` and `s64` (strict base64: one spelling per byte string); the signature
//!   is non-empty; `decode_with_limit` with a larger limit agrees with `decode`, and a token
//!   over the limit is `TooLarge`.
//! * **Header**: `alg` in the parameters is the parsed algorithm's name; `kid`, `typ`, `cty`
//!   are the string parameters of those names; no `enc` (JWE) and no `crit` (Turnpike
//!   understands no extension, RFC 7515 §4.1.11); `b64` absent or `true` (RFC 7797).
//! * **Claims** (RFC 7519 §4.1): the typed registered claims are the members of `all` of those
//!   names; `Claims::validate` with a policy that checks only time agrees, at several clocks,
//!   with a reference written here from the documented rules (`exp` exclusive, `nbf` and `iat`
//!   inclusive, skew on each, saturating near `u64::MAX`).
//! * **Key selection**: `KeySet::select(kid, alg)` returns a key that can verify `alg`, named
//!   `kid` when any usable key is, and only when it is the one candidate; `UnknownKid` only when
//!   no usable or refused key carries the `kid` and no usable key is unnamed. A key's
//!   `can_verify` respects its `alg` binding.
//! * **Verification never panics** on a decoded token with a fixed HMAC key set, whatever the
//!   algorithm, key or signature length.
//!
//! What it does not do: it does not check the exact error of a refusal, nor that a signature
//! is cryptographically right (the tests in `policy/tests/` do, with real keys).

use turnpike_policy::jose::{
    self, b64, Alg, Claims, IssuerPolicy, JoseError, KeySet, VerifyingKey, MAX_TOKEN_LEN,
};

/// Clocks at which claims are validated: the epoch, a present-day time, the edges of `u64`.
const CLOCKS: [u64; 4] = [0, 1_700_000_000, u64::MAX - 30, u64::MAX];

/// Skews to validate with: none, the default, and one that saturates.
const SKEWS: [u64; 3] = [0, IssuerPolicy::DEFAULT_SKEW_SECS, u64::MAX];

/// A fixed shared secret (64 bytes: long enough for HS256, HS384 and HS512).
const SECRET: &[u8; 64] = b"turnpike-fuzz-secret-turnpike-fuzz-secret-turnpike-fuzz-secret!!";

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

/// Run every JOSE decoder on `data`: the token checks when it is UTF-8, the key-set checks
/// always.
pub fn check_jose(data: &[u8]) {
    if let Ok(token) = std::str::from_utf8(data) {
        check_token(token);
    }
    check_jwks(data);
    check_jwk(data);
}

/// `jose::decode` on one token, then the claims of a decoded token.
pub fn check_token(token: &str) {
    let result = jose::decode(token);
    let unlimited = jose::decode_with_limit(token, usize::MAX);
    if token.len() > MAX_TOKEN_LEN {
        assert_eq!(
            result.as_ref().err(),
            Some(&JoseError::TooLarge { len: token.len(), max: MAX_TOKEN_LEN }),
            "a token over MAX_TOKEN_LEN was not refused as too large"
        );
    } else {
        match (&result, &unlimited) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.header(), b.header(), "the limit changed the header");
                assert_eq!(a.payload(), b.payload(), "the limit changed the payload");
                assert_eq!(a.signature(), b.signature(), "the limit changed the signature");
                assert_eq!(a.signing_input(), b.signing_input(), "the limit changed the input");
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "the limit changed the refusal"),
            _ => panic!("the limit changed the outcome: {result:?} vs {unlimited:?}"),
        }
        if let Some(shorter) = token.len().checked_sub(1) {
            assert!(
                matches!(jose::decode_with_limit(token, shorter), Err(JoseError::TooLarge { .. })),
                "a limit one byte short did not refuse the token"
            );
        }
    }
    let Ok(jws) = result else {
        return;
    };

    // Structure: exactly three parts, signing input = up to the second dot.
    let parts: Vec<&str> = token.split('.').collect();
    let [h64, p64, s64] = parts.as_slice() else {
        panic!("accepted a token with {} parts: {:?}", parts.len(), show(token.as_bytes()));
    };
    assert!(!token.starts_with('{'), "accepted the JSON serialization");
    assert!(!h64.is_empty(), "accepted an empty header");
    let second_dot = h64.len() + 1 + p64.len();
    assert_eq!(
        jws.signing_input(),
        &token[..second_dot],
        "signing_input is not the token up to the second dot"
    );
    assert!(token.starts_with(jws.signing_input()), "signing_input is not a prefix");
    assert_eq!(token.as_bytes().get(second_dot), Some(&b'.'), "no dot after signing_input");
    // Strict base64url: the decoded parts re-encode to the very same text.
    assert_eq!(b64::encode(jws.payload()), *p64, "payload does not re-encode to its part");
    assert_eq!(b64::encode(jws.signature()), *s64, "signature does not re-encode to its part");
    assert!(!jws.signature().is_empty(), "accepted an empty signature");

    // Header parameters agree with the typed fields.
    let header = jws.header();
    let params = &header.params;
    assert_eq!(
        params.get("alg").and_then(|v| v.as_str()),
        Some(header.alg.name()),
        "alg parameter and parsed alg differ"
    );
    for (name, field) in [("kid", &header.kid), ("typ", &header.typ), ("cty", &header.cty)] {
        assert_eq!(
            params.get(name).and_then(|v| v.as_str()),
            field.as_deref(),
            "{name} parameter and parsed {name} differ"
        );
        if field.is_none() {
            assert!(!params.contains_key(name), "{name} present but not parsed");
        }
    }
    assert!(!params.contains_key("enc"), "accepted a JWE header");
    assert!(!params.contains_key("crit"), "accepted a crit extension");
    assert!(
        params.get("b64").is_none_or(|v| v.as_bool() == Some(true)),
        "accepted b64 other than true"
    );

    check_claims(jws.payload());

    // Verification with a fixed HMAC key set: any outcome, no panic.
    if let Ok(keys) = KeySet::from_secret(SECRET, Some("fuzz")) {
        let _ = jose::verify_signature(&jws, &keys, &Alg::ALL);
        let policy = IssuerPolicy::new("https://idp.example", Alg::ALL.to_vec());
        let _ = jose::verify(&jws, &keys, &policy, 1_700_000_000);
    }
}

/// `Claims::parse` on a payload, then `validate` at several clocks against a reference.
pub fn check_claims(payload: &[u8]) {
    let Ok(claims) = Claims::parse(payload) else {
        return;
    };
    let all = &claims.all;
    for (name, field) in
        [("iss", &claims.iss), ("sub", &claims.sub), ("jti", &claims.jti), ("azp", &claims.azp)]
    {
        assert_eq!(
            all.get(name).and_then(|v| v.as_str()),
            field.as_deref(),
            "claim {name} and its typed field differ"
        );
        if field.is_none() {
            assert!(!all.contains_key(name), "claim {name} present but not parsed");
        }
    }
    for (name, field) in [("exp", claims.exp), ("nbf", claims.nbf), ("iat", claims.iat)] {
        assert_eq!(all.contains_key(name), field.is_some(), "claim {name} presence differs");
        if let (Some(secs), Some(exact)) = (field, all.get(name).and_then(|v| v.as_u64())) {
            assert_eq!(secs, exact, "integer claim {name} changed value");
        }
    }
    match all.get("aud") {
        None => assert!(claims.aud.is_empty(), "aud parsed from nothing"),
        Some(v) if v.is_string() => {
            assert_eq!(claims.aud.len(), 1, "a string aud is not one audience");
            assert_eq!(claims.aud.first().map(String::as_str), v.as_str(), "aud changed");
        }
        Some(v) => {
            let items = v.as_array().map(Vec::len);
            assert_eq!(items, Some(claims.aud.len()), "aud array and audiences differ in length");
        }
    }
    assert_eq!(all.contains_key("scope"), claims.scope.is_some(), "scope presence differs");

    for skew in SKEWS {
        for require_exp in [false, true] {
            let policy = IssuerPolicy {
                issuer: None,
                audiences: Vec::new(),
                allowed_algs: Vec::new(),
                skew_secs: skew,
                require_exp,
            };
            for now in CLOCKS {
                let got = claims.validate(&policy, now);
                let expected = reference_time_check(&claims, skew, require_exp, now);
                assert_eq!(
                    got, expected,
                    "time checks at now={now} skew={skew} require_exp={require_exp}: \
                     exp={:?} nbf={:?} iat={:?}",
                    claims.exp, claims.nbf, claims.iat
                );
            }
        }
    }
    // Issuer and audience checks: any outcome, no panic.
    let strict = IssuerPolicy {
        audiences: vec!["api-1".into(), String::new()],
        ..IssuerPolicy::new("https://idp.example", Vec::new())
    };
    for now in CLOCKS {
        let _ = claims.validate(&strict, now);
    }
}

/// The documented time rules (RFC 7519 §4.1.4, §4.1.5), written independently: the token is
/// refused on or after `exp + skew`, before `nbf - skew`, and when issued after `now + skew`.
fn reference_time_check(
    claims: &Claims,
    skew: u64,
    require_exp: bool,
    now: u64,
) -> Result<(), JoseError> {
    let (now, skew) = (u128::from(now), u128::from(skew));
    // `exp + skew` saturates at u64::MAX in the implementation; a token is never valid at
    // now = u64::MAX then.
    let cap = |x: u128| x.min(u128::from(u64::MAX));
    match claims.exp {
        Some(exp) if now >= cap(u128::from(exp) + skew) => return Err(JoseError::Expired),
        None if require_exp => return Err(JoseError::MissingClaim("exp")),
        _ => {}
    }
    if claims.nbf.is_some_and(|nbf| u128::from(nbf) > cap(now + skew)) {
        return Err(JoseError::NotYetValid);
    }
    if claims.iat.is_some_and(|iat| u128::from(iat) > cap(now + skew)) {
        return Err(JoseError::IssuedInFuture);
    }
    Ok(())
}

/// `KeySet::from_jwks`, then `select` for every algorithm and every `kid` in the set.
pub fn check_jwks(data: &[u8]) {
    let Ok(set) = KeySet::from_jwks(data) else {
        return;
    };
    let usable: Vec<&VerifyingKey> = set.keys().collect();
    assert_eq!(set.len(), usable.len(), "len() is not the number of usable keys");
    assert_eq!(set.is_empty(), usable.is_empty(), "is_empty() disagrees with keys()");
    for key in &usable {
        check_key(key);
    }
    let mut kids: Vec<Option<&str>> = vec![None, Some("turnpike-fuzz-no-such-kid")];
    kids.extend(usable.iter().map(|k| k.kid()).filter(Option::is_some));
    kids.extend(set.refused().map(|(kid, _)| kid).filter(Option::is_some));
    for kid in kids {
        for alg in Alg::ALL {
            check_select(&set, &usable, kid, alg);
        }
    }
}

/// One `select` call against the documented selection rules (`jose/key.rs` module docs).
fn check_select(set: &KeySet, usable: &[&VerifyingKey], kid: Option<&str>, alg: Alg) {
    let result = set.select(kid, alg);
    let named = |k: &&&VerifyingKey| kid.is_some() && k.kid() == kid;
    let any_named = usable.iter().any(|k| named(&k));
    let unnamed = usable.iter().any(|k| k.kid().is_none());
    let refused_named = kid.is_some() && set.refused().any(|(k, _)| k == kid);
    // The candidates the rules allow.
    let candidates: Vec<&&VerifyingKey> = match kid {
        None => usable.iter().filter(|k| k.can_verify(alg)).collect(),
        Some(_) if any_named => usable.iter().filter(named).filter(|k| k.can_verify(alg)).collect(),
        Some(_) => usable.iter().filter(|k| k.kid().is_none() && k.can_verify(alg)).collect(),
    };
    match result {
        Ok(key) => {
            assert!(key.can_verify(alg), "select({kid:?}, {alg}) chose a key that cannot verify");
            assert_eq!(candidates.len(), 1, "select({kid:?}, {alg}) chose among several");
            if any_named {
                assert_eq!(key.kid(), kid, "select({kid:?}, {alg}) ignored the named keys");
            } else if kid.is_some() {
                assert!(!refused_named, "select({kid:?}, {alg}) skipped a refused named key");
                assert_eq!(key.kid(), None, "select({kid:?}, {alg}) took another kid's key");
            }
        }
        Err(JoseError::UnknownKid(k)) => {
            assert_eq!(Some(k.as_str()), kid, "UnknownKid names another kid");
            assert!(
                !any_named && !refused_named && !unnamed,
                "UnknownKid for {kid:?} although a key could be meant"
            );
        }
        Err(JoseError::KeyMismatch { .. }) => {
            assert!(candidates.is_empty(), "KeyMismatch for {kid:?}, {alg} with a candidate");
        }
        Err(JoseError::AmbiguousKey(_)) => {
            assert!(
                candidates.len() > 1 || refused_named,
                "AmbiguousKey for {kid:?}, {alg} with one candidate and no shadowing key"
            );
        }
        Err(JoseError::KeyRejected { .. }) => {
            assert!(
                !any_named && refused_named,
                "KeyRejected for {kid:?} although a usable key has it, or none is refused"
            );
        }
        Err(other) => panic!("select({kid:?}, {alg}) failed unexpectedly: {other:?}"),
    }
}

/// One key: `can_verify` respects the binding, and verifying garbage never panics.
fn check_key(key: &VerifyingKey) {
    for alg in Alg::ALL {
        if key.can_verify(alg) {
            assert!(
                key.bound_alg().is_none_or(|bound| bound == alg),
                "a key bound to {:?} can verify {alg}",
                key.bound_alg()
            );
        } else {
            assert!(
                matches!(key.verify(alg, b"m", b"s"), Err(JoseError::KeyMismatch { .. })),
                "verify({alg}) with an incompatible key is not KeyMismatch"
            );
        }
        for sig_len in [0usize, 1, 32, 64, 96, 256, 512] {
            let _ = key.verify(alg, b"turnpike", &vec![0x5a; sig_len]);
        }
    }
}

/// `VerifyingKey::from_jwk` (one key); a key it accepts passes [`check_key`].
pub fn check_jwk(data: &[u8]) {
    if let Ok(key) = VerifyingKey::from_jwk(data) {
        check_key(&key);
        assert!(KeySet::from_jwk(data).is_ok(), "from_jwk accepted what KeySet::from_jwk refused");
    }
}
