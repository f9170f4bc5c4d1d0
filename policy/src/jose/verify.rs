//! The verifier the JWT policy calls: algorithm allow-list → key selection → signature → claims.
//!
//! Order matters: the `alg` is checked against the issuer's allow-list before any key is
//! touched, the key is chosen by `kid` and type (never by the token's embedded `jwk`/`jku`/`x5c`),
//! and the payload is parsed as claims only after the signature has verified.

use super::alg::Alg;
use super::claims::{Claims, IssuerPolicy};
use super::error::JoseError;
use super::jws::{decode, Jws};
use super::key::{KeySet, VerifyingKey};

/// Verifies the signature of `jws` with the one key of `keys` it may use, if its `alg` is in
/// `allowed_algs`; returns that key. The payload is not interpreted (use [`verify`] for JWTs).
pub fn verify_signature<'k>(
    jws: &Jws<'_>,
    keys: &'k KeySet,
    allowed_algs: &[Alg],
) -> Result<&'k VerifyingKey, JoseError> {
    let header = jws.header();
    if !allowed_algs.contains(&header.alg) {
        return Err(JoseError::AlgNotAllowed(header.alg));
    }
    let key = keys.select(header.kid.as_deref(), header.alg)?;
    key.verify(header.alg, jws.signing_input().as_bytes(), jws.signature())?;
    Ok(key)
}

/// Verifies a JWT: signature (as [`verify_signature`] with `policy.allowed_algs`), then the
/// claims against `policy` at time `now` (seconds since the Unix epoch).
pub fn verify(
    jws: &Jws<'_>,
    keys: &KeySet,
    policy: &IssuerPolicy,
    now: u64,
) -> Result<Claims, JoseError> {
    verify_signature(jws, keys, &policy.allowed_algs)?;
    let claims = Claims::parse(jws.payload())?;
    claims.validate(policy, now)?;
    Ok(claims)
}

/// [`decode`] then [`verify`].
pub fn decode_and_verify(
    token: &str,
    keys: &KeySet,
    policy: &IssuerPolicy,
    now: u64,
) -> Result<Claims, JoseError> {
    verify(&decode(token)?, keys, policy, now)
}
