//! JOSE for the JWT policy: compact JWS parsing, JWK/JWKS keys, signature verification with
//! `ring`, and JWT claims validation with an injected clock; and compact JWS signing
//! ([`SigningKey`]) for the backend JWT and test tokens.
//!
//! Where it sits: `adapter` (control thread) builds a [`KeySet`] and an [`IssuerPolicy`] per
//! issuer when config is compiled or a JWKS is refreshed; on the request path the JWT policy calls
//! [`decode`] then [`verify`], which are pure functions of their inputs. This module does no I/O:
//! fetching a JWKS (on [`JoseError::UnknownKid`], rate-limited) is the caller's job. It does not
//! decrypt JWE, does not accept the JWS JSON serialization, and never takes a key from the token
//! itself (`jwk`, `jku`, `x5u`, `x5c` header parameters are ignored).
//!
//! Supported: RS256/384/512, PS256/384/512 (RSA ≥ 2048 bits), ES256, ES384 (raw `r || s`),
//! EdDSA (Ed25519), HS256/384/512 (shared secrets only). Refused: `none`, ES512 (no P-521 in
//! ring), anything else.

mod alg;
pub mod b64;
mod claims;
mod error;
pub(crate) mod json;
mod jws;
mod key;
mod sign;
mod verify;

pub use alg::{Alg, AlgRefusal, KeyFamily};
pub use claims::{Claims, IssuerPolicy};
pub use error::{JoseError, KeyError};
pub use jws::{decode, decode_with_limit, Header, Jws, MAX_TOKEN_LEN};
pub use key::{KeySet, VerifyingKey};
pub use sign::{jwks_json, pkcs8_from_pem, pkcs8_pem, SignError, SigningKey};
pub use verify::{decode_and_verify, verify, verify_signature};
