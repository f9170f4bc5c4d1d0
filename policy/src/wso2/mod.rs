//! WSO2 API Manager formats that Turnpike reads: the claims of self-contained API keys
//! ([`api_key`]) and OAuth 2.0 token introspection as WSO2's key manager serves it
//! ([`introspection`], RFC 7662).
//!
//! Where it sits: the authentication policies use these after `jose` has verified a token, or
//! around an introspection callout that `core` carries out. Nothing here does I/O, keeps state,
//! or reads the clock.

pub mod api_key;
pub mod introspection;

pub use api_key::{ApiKeyClaims, Application, InvalidApiKey, IpRange, SubscribedApi, TierInfo};
pub use introspection::{Introspected, IntrospectionError};
