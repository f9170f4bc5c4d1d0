//! Control-plane security services: the blocking HTTP client for callouts ([`fetch`]) and the
//! JWKS refresher that keeps each issuer's verification keys fresh ([`jwks`]).
//!
//! Where it sits: on control threads of the adapter, off the request path. Cores only see the
//! results, as immutable `Arc<KeySet>`s handed to the `on_change` callback of
//! [`jwks::spawn_refresher`], and only speak to it through [`jwks::KidMissSender`].
//!
//! What it does not do: no token verification (`turnpike_policy::jose`), no publication of keys
//! into snapshots or cores (the caller's callback does that), no async runtime.

pub mod fetch;
pub mod jwks;

pub use fetch::{FetchError, FetchOptions, Fetched, Url};
pub use jwks::{spawn_refresher, JwksSource, KidMissSender, Refresher, RefresherHandle};
