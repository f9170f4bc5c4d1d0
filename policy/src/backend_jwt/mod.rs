//! The backend JWT (WSO2's "JWT generator", Choreo Connect's `X-JWT-Assertion`): a JWT the
//! gateway signs for each authenticated request, telling the backend who called which API, and
//! the public key set backends verify it with (`/.wellknown/jwks`).
//!
//! Where it sits: the adapter parses `[security.backend_jwt]`, loads or generates the signing key
//! once ([`load_signing_key`], [`generate_signing_key`]) and compiles a [`BackendJwt`] (key,
//! claim settings, the JWKS document) into every snapshot's [`crate::auth::Security`]; secured
//! routes get an [`AddBackendJwt`] policy right after authentication. On the request path the
//! policy reads the caller that authentication left in the context and sets the header, from the
//! core's [`AssertionCache`] (in [`crate::CoreState`]) when it can: a repeated caller costs a
//! lookup and a header copy, not a signature. Core answers `/.wellknown/jwks` from
//! [`BackendJwt::jwks`].
//!
//! What it does not do: no I/O, no per-API opt-out (as in Choreo Connect, it is on or off for
//! the whole gateway), no copying of the client token's own claims.
//!
//! | piece | file |
//! |---|---|
//! | signing key: type → algorithm, thumbprint `kid`, ephemeral keys | `key.rs` |
//! | the snapshot-wide generator and its JWKS | `generator.rs` |
//! | claims in the WSO2 dialect | `claims.rs` |
//! | per-core cache of signed assertions | `cache.rs` |
//! | the route policy | `policy.rs` |

mod cache;
mod claims;
mod generator;
mod key;
mod policy;

pub use cache::{AssertionCache, AssertionKey, DEFAULT_ASSERTION_CACHE_CAPACITY};
pub use claims::{claims_json, random_jti, ClaimInputs};
pub use generator::{
    BackendJwt, BackendJwtSettings, DEFAULT_DIALECT, DEFAULT_HEADER, DEFAULT_ISSUER,
    DEFAULT_TTL_SECS,
};
pub use key::{generate_signing_key, load_signing_key, thumbprint, InvalidBackendKey};
pub use policy::{freshness_margin, AddBackendJwt};
