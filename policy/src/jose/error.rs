//! Error values of the JOSE module: [`JoseError`] for a token that is refused, [`KeyError`] for a
//! key or key set that cannot be used. Both render a short reason with `Display`; the JWT policy
//! maps them to a `Denial` and must not echo them to clients verbatim if it wants to stay terse.

use std::fmt;

use super::alg::Alg;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoseError {
    /// Not a well-formed compact JWS (bad structure, base64url, JSON or header parameter).
    Malformed(&'static str),
    /// The token is longer than the configured limit.
    TooLarge {
        /// Token length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A JWE (five parts) or a JSON-serialized JWS: only compact JWS is accepted.
    UnsupportedSerialization(&'static str),
    /// `alg: none` (any spelling): unsecured tokens are always refused.
    AlgNone,
    /// An `alg` Turnpike cannot verify.
    UnsupportedAlg {
        /// The header's `alg` value.
        alg: String,
        /// Why it is not supported.
        reason: &'static str,
    },
    /// A supported `alg` that this issuer's policy does not allow.
    AlgNotAllowed(Alg),
    /// No key in the set has this `kid`; the caller may refetch the JWKS (rate-limited).
    UnknownKid(String),
    /// The key named by `kid` was in the JWKS but refused when it was loaded.
    KeyRejected {
        /// The `kid`.
        kid: String,
        /// Why the key was refused.
        reason: KeyError,
    },
    /// No key of the right type (or bound to this `alg`) can verify the token.
    KeyMismatch {
        /// The token's `kid`, if any.
        kid: Option<String>,
        /// The token's `alg`.
        alg: Alg,
    },
    /// More than one key could verify the token (duplicate `kid`, or no `kid` and several keys).
    AmbiguousKey(Option<String>),
    /// The signature does not verify.
    BadSignature,
    /// The payload is not a JSON object of claims, or a registered claim has the wrong type.
    InvalidClaims(&'static str),
    /// A claim the policy requires is absent.
    MissingClaim(&'static str),
    /// `exp` is in the past (beyond the allowed skew).
    Expired,
    /// `nbf` is in the future (beyond the allowed skew).
    NotYetValid,
    /// `iat` is in the future (beyond the allowed skew).
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// None of the token's `aud` values is a configured audience.
    WrongAudience,
    /// A `crit` header parameter that Turnpike does not understand (RFC 7515 §4.1.11).
    UnknownCritical(String),
}

impl fmt::Display for JoseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed token: {why}"),
            Self::TooLarge { len, max } => write!(f, "token is {len} bytes, limit is {max}"),
            Self::UnsupportedSerialization(why) => write!(f, "unsupported serialization: {why}"),
            Self::AlgNone => f.write_str("unsecured token (alg none) refused"),
            Self::UnsupportedAlg { alg, reason } => write!(f, "unsupported alg {alg:?}: {reason}"),
            Self::AlgNotAllowed(alg) => write!(f, "alg {alg} is not allowed for this issuer"),
            Self::UnknownKid(kid) => write!(f, "no key with kid {kid:?}"),
            Self::KeyRejected { kid, reason } => write!(f, "key {kid:?} was refused: {reason}"),
            Self::KeyMismatch { kid: Some(kid), alg } => {
                write!(f, "key {kid:?} cannot verify alg {alg}")
            }
            Self::KeyMismatch { kid: None, alg } => write!(f, "no key can verify alg {alg}"),
            Self::AmbiguousKey(Some(kid)) => write!(f, "several keys match kid {kid:?}"),
            Self::AmbiguousKey(None) => f.write_str("token has no kid and several keys match"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::InvalidClaims(why) => write!(f, "invalid claims: {why}"),
            Self::MissingClaim(name) => write!(f, "required claim {name:?} is missing"),
            Self::Expired => f.write_str("token has expired"),
            Self::NotYetValid => f.write_str("token is not valid yet (nbf)"),
            Self::IssuedInFuture => f.write_str("token is issued in the future (iat)"),
            Self::WrongIssuer => f.write_str("issuer does not match"),
            Self::WrongAudience => f.write_str("audience does not match"),
            Self::UnknownCritical(name) => write!(f, "unknown critical header parameter {name:?}"),
        }
    }
}

impl std::error::Error for JoseError {}

/// Why a JWK, JWKS or shared secret cannot be used for verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Not JSON, not an object, a duplicate member, or a member of the wrong type.
    Json(String),
    /// A JWKS without a `keys` array.
    NotAKeySet,
    /// A JWKS that mixes shared secrets (`oct`) with public keys; refused as ambiguous.
    MixedSymmetric,
    /// A required member is missing.
    Missing(&'static str),
    /// A member is not strict base64url.
    Base64(&'static str),
    /// `use` is present and is not `sig`.
    NotForSignatures(String),
    /// `key_ops` is present and does not contain `verify`.
    NoVerifyOp,
    /// A `kty` Turnpike does not support.
    UnsupportedKty(String),
    /// A curve Turnpike does not support (P-521, Ed448, ...).
    UnsupportedCurve(String),
    /// The key's `alg` is not a JWS algorithm Turnpike supports.
    UnsupportedAlg(String),
    /// The key's `alg` does not fit its type or curve.
    AlgMismatch {
        /// The key's `alg`.
        alg: String,
        /// The key's type / curve.
        key: &'static str,
    },
    /// RSA modulus shorter than 2048 bits.
    RsaTooSmall(usize),
    /// RSA modulus longer than 8192 bits (ring's limit).
    RsaTooLarge(usize),
    /// RSA public exponent that is even, below 3, or too large (e = 1 included).
    RsaBadExponent,
    /// RSA modulus with the ROCA fingerprint (CVE-2017-15361): factorable.
    RsaRoca,
    /// EC coordinate of the wrong length for the curve.
    EcCoordinateLength,
    /// EC point not on the curve.
    EcInvalidPoint,
    /// Ed25519 public key that is not 32 bytes.
    Ed25519Length,
    /// Shared secret that is empty or shorter than the hash output of its `alg`.
    HmacTooShort {
        /// Key length in bytes.
        len: usize,
        /// Minimum length in bytes.
        min: usize,
    },
    /// A DER structure (SPKI) that could not be parsed.
    Der(&'static str),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(why) => write!(f, "invalid JSON: {why}"),
            Self::NotAKeySet => f.write_str("not a JWKS: no \"keys\" array"),
            Self::MixedSymmetric => f.write_str("JWKS mixes shared secrets with public keys"),
            Self::Missing(name) => write!(f, "missing member {name:?}"),
            Self::Base64(name) => write!(f, "member {name:?} is not strict base64url"),
            Self::NotForSignatures(used) => write!(f, "key use is {used:?}, not \"sig\""),
            Self::NoVerifyOp => f.write_str("key_ops does not allow \"verify\""),
            Self::UnsupportedKty(kty) => write!(f, "unsupported kty {kty:?}"),
            Self::UnsupportedCurve(crv) => write!(f, "unsupported curve {crv:?}"),
            Self::UnsupportedAlg(alg) => write!(f, "unsupported key alg {alg:?}"),
            Self::AlgMismatch { alg, key } => write!(f, "alg {alg:?} does not fit a {key} key"),
            Self::RsaTooSmall(bits) => write!(f, "RSA key of {bits} bits, at least 2048 required"),
            Self::RsaTooLarge(bits) => write!(f, "RSA key of {bits} bits, at most 8192 supported"),
            Self::RsaBadExponent => f.write_str("RSA public exponent must be odd and at least 3"),
            Self::RsaRoca => f.write_str("RSA key has the ROCA fingerprint (CVE-2017-15361)"),
            Self::EcCoordinateLength => f.write_str("EC coordinate has the wrong length"),
            Self::EcInvalidPoint => f.write_str("EC point is not on the curve"),
            Self::Ed25519Length => f.write_str("Ed25519 key must be 32 bytes"),
            Self::HmacTooShort { len, min } => {
                write!(f, "shared secret of {len} bytes, at least {min} required")
            }
            Self::Der(why) => write!(f, "invalid DER: {why}"),
        }
    }
}

impl std::error::Error for KeyError {}
