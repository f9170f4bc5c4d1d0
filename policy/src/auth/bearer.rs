//! Bearer JWTs (OAuth2 access tokens and WSO2 self-contained API keys): from the compact token to
//! a [`Caller`], with every check of RFC 7515/7519 and the issuer's policy.
//!
//! Order: size limit and structure (`jose::decode`) → the payload's `iss` picks the issuer →
//! algorithm allow-list, key by `kid`, signature (`jose::verify_signature`) → claims (`exp`,
//! `nbf`, `iat`, `iss`, `aud` with the issuer's skew) → the caller, read through the issuer's claim
//! mappings. A `kid` the issuer's JWKS lacks is reported (rate-limited per core) so the control
//! thread can refetch the key set; the request itself is refused.

use serde_json::{Map, Value};

use crate::jose::{self, Claims, JoseError};
use crate::wso2::ApiKeyClaims;
use crate::{CoreState, KeyType};

use super::caller::{AuthMethod, Caller};
use super::security::{Issuer, Security};

/// Why a bearer JWT was refused (for logs; clients see WSO2's generic wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwtRefusal {
    /// Not a compact JWS at all: a candidate for introspection.
    NotAJwt,
    /// A JWS no configured issuer accepts (unknown `iss`): a candidate for introspection.
    UnknownIssuer,
    /// Refused by the issuer's checks.
    Invalid(&'static str),
}

/// Verifies `token` against the issuers of `security` at the state's time.
pub(crate) fn verify_jwt(
    security: &Security,
    token: &str,
    method: AuthMethod,
    state: &mut CoreState,
) -> Result<Caller, JwtRefusal> {
    if token.bytes().filter(|&b| b == b'.').count() != 2 {
        return Err(JwtRefusal::NotAJwt);
    }
    let jws = jose::decode_with_limit(token, security.options.max_token_len)
        .map_err(|e| JwtRefusal::Invalid(reason(&e)))?;
    let claims = Claims::parse(jws.payload()).map_err(|e| JwtRefusal::Invalid(reason(&e)))?;
    let issuer = claims
        .iss
        .as_deref()
        .and_then(|iss| security.issuer_by_iss(iss))
        .ok_or(JwtRefusal::UnknownIssuer)?;
    if let Err(err) = jose::verify_signature(&jws, &issuer.keys, &issuer.policy.allowed_algs) {
        if matches!(err, JoseError::UnknownKid(_)) && issuer.remote_keys {
            state.auth.kid_missed(&issuer.name, state.now);
        }
        return Err(JwtRefusal::Invalid(reason(&err)));
    }
    claims.validate(&issuer.policy, state.now_unix).map_err(|e| JwtRefusal::Invalid(reason(&e)))?;
    let mut caller = caller_from_claims(issuer, &claims, method, state.now_unix);
    if method == AuthMethod::ApiKey {
        let key = ApiKeyClaims::from_claims(&claims)
            .map_err(|_| JwtRefusal::Invalid("not a WSO2 API key"))?;
        caller.key_type = key.key_type;
        caller.application = key.application.name.clone();
        caller.api_key = Some(Box::new(key));
    }
    Ok(caller)
}

/// Short, fixed reasons for logs.
fn reason(err: &JoseError) -> &'static str {
    match err {
        JoseError::Malformed(_) | JoseError::UnsupportedSerialization(_) => "malformed token",
        JoseError::TooLarge { .. } => "token too large",
        JoseError::AlgNone => "alg none",
        JoseError::UnsupportedAlg { .. } => "unsupported alg",
        JoseError::AlgNotAllowed(_) => "alg not allowed for the issuer",
        JoseError::UnknownKid(_) => "unknown kid",
        JoseError::KeyRejected { .. } | JoseError::KeyMismatch { .. } => "no usable key",
        JoseError::AmbiguousKey(_) => "ambiguous key",
        JoseError::BadSignature => "bad signature",
        JoseError::InvalidClaims(_) | JoseError::MissingClaim(_) => "invalid claims",
        JoseError::Expired => "expired",
        JoseError::NotYetValid => "not yet valid",
        JoseError::IssuedInFuture => "issued in the future",
        JoseError::WrongIssuer => "wrong issuer",
        JoseError::WrongAudience => "wrong audience",
        _ => "invalid token",
    }
}

/// Reads a claim through the issuer's mappings (a remote name mapped to `local` wins).
fn claim<'c>(issuer: &Issuer, all: &'c Map<String, Value>, local: &str) -> Option<&'c Value> {
    issuer
        .claim_mappings
        .iter()
        .find(|(_, to)| to == local)
        .and_then(|(from, _)| all.get(from))
        .or_else(|| all.get(local))
}

fn string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Scopes from a space-separated string (RFC 8693 §4.2) or an array of strings.
pub(crate) fn scopes(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

/// WSO2 `keytype`: `SANDBOX` selects the sandbox cluster; anything else is production.
pub(crate) fn key_type(value: Option<&Value>) -> KeyType {
    match value.and_then(Value::as_str) {
        Some(k) if k.eq_ignore_ascii_case("SANDBOX") => KeyType::Sandbox,
        _ => KeyType::Production,
    }
}

/// Default lifetime of a cache entry for a token without `exp` (only with `require_exp = false`).
const NO_EXP_CACHE_SECS: u64 = 300;

fn caller_from_claims(issuer: &Issuer, claims: &Claims, method: AuthMethod, now: u64) -> Caller {
    let all = &claims.all;
    let application = match claim(issuer, all, "application") {
        Some(Value::Object(app)) => string(app.get("name")),
        other => string(other),
    };
    Caller {
        method,
        issuer: Some(issuer.name.clone()),
        subject: string(claim(issuer, all, "sub")).unwrap_or_default(),
        consumer_key: string(claim(issuer, all, &issuer.consumer_key_claim))
            .or_else(|| string(claim(issuer, all, "client_id"))),
        application,
        scopes: scopes(claim(issuer, all, &issuer.scopes_claim)),
        key_type: key_type(claim(issuer, all, "keytype")),
        jti: claims.jti.clone(),
        expires_at: claims.exp.unwrap_or(now.saturating_add(NO_EXP_CACHE_SECS)),
        api_key: None,
        validate_subscriptions: issuer.validate_subscriptions,
        tier: None,
    }
}
