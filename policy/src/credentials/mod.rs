//! Credential checks: the pure, per-core-state building blocks that authentication policies use.
//!
//! Where it sits in the flow: `adapter` compiles configuration into the immutable stores here
//! ([`ApiKeyStore`], [`BasicAuthStore`]) as part of a snapshot; each core owns the mutable pieces
//! ([`VerificationCache`], [`AttemptThrottle`]) and carries them across snapshot swaps. The
//! authentication policies (wired in later) read the request's credentials, consult the throttle,
//! the cache and the stores, and turn a refusal into an [`AuthFailure`] with WSO2's codes and the
//! `WWW-Authenticate` challenge to send.
//!
//! What it does not do: no I/O, no clock and no threads. Time is passed in (`now` as Unix seconds
//! for expiries, a [`std::time::Instant`] for the throttle), randomness is needed only to build a
//! [`VerificationCache`] (its digest key) and can be supplied by the caller. Password hashes are
//! only *verified* here; producing them is the operator's job (`turnpike` will print the digest
//! of an API key with [`api_key_digest_hex`]).
//!
//! | piece | file |
//! |---|---|
//! | SHA-256 digests of API keys, hex for config | `digest.rs`, `api_key.rs` |
//! | `Authorization: Basic` parsing (RFC 7617) and password hashes | `basic.rs` (base64: `crate::base64`) |
//! | bounded, expiring cache of verification results | `cache.rs` |
//! | failed-attempt throttle / per-key rate limit | `throttle.rs` |
//! | WSO2 error codes and challenges | `failure.rs` |

mod api_key;
mod basic;
mod cache;
mod digest;
mod failure;
mod throttle;

pub use crate::base64::{decode_standard as decode_base64, InvalidBase64};
pub use api_key::{api_key_digest_hex, ApiKey, ApiKeyEntry, ApiKeyStore, InvalidApiKeyConfig};
pub use basic::{
    parse_basic_authorization, BasicAuthError, BasicAuthStore, BasicCredentials, BasicUserEntry,
    InvalidBasicAuthConfig, InvalidBasicHeader, Principal, MAX_ARGON2_M_COST_KIB,
    MAX_ARGON2_P_COST, MAX_ARGON2_T_COST, MAX_BASIC_TOKEN_LEN, MAX_BCRYPT_COST, MAX_PASSWORD_LEN,
};
pub use cache::{CacheKey, CredentialKind, VerificationCache, DEFAULT_CACHE_CAPACITY};
pub use digest::{parse_sha256_hex, sha256, sha256_hex, SHA256_LEN};
pub use failure::{AuthFailure, Challenge, DEFAULT_REALM};
pub use throttle::{
    client_key, AttemptThrottle, InvalidThrottleConfig, ThrottleConfig, EVICTION_PROBES,
};
