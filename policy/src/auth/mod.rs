//! Authentication and authorization of requests: who is calling (JWT access tokens, opaque tokens
//! by introspection, API keys, Basic users), and whether they may call this resource (scopes,
//! subscriptions, revocation).
//!
//! Where it sits: the adapter compiles `gateway.toml [security]` and each API's security
//! declarations into one immutable [`Security`] (issuers with their key sets, stores, the
//! subscription table, revoked token ids) and one [`Authenticate`] policy per secured route, first
//! in the route's chain. On the request path `core::exchange` calls it with the core's
//! [`AuthState`] (verified-token cache, Basic cache, failed-attempt throttle, introspection
//! limits, kid misses to report): a repeated token costs one hash lookup, not a signature check.
//! A successful check leaves an [`Rc<Caller>`](Caller) in the request context for later policies
//! (backend JWT, rate limits); a failure is a [`crate::Denial::Auth`] with WSO2's code and the
//! `WWW-Authenticate` challenge, rendered by core's `local_reply`.
//!
//! What it does not do: no I/O. Unknown `kid`s are reported through [`AuthState::take_kid_misses`]
//! for the control thread to refetch the JWKS; introspection is a [`crate::Verdict::Callout`] that
//! core performs.
//!
//! | piece | file |
//! |---|---|
//! | the authenticated caller | `caller.rs` |
//! | what a route requires (schemes, scopes) | `requirement.rs` |
//! | the compiled, snapshot-wide security tables | `security.rs` |
//! | applications and subscriptions | `subscriptions.rs` |
//! | per-core mutable state | `state.rs`, `token_cache.rs` |
//! | bearer tokens: JWT checks, claims → caller | `bearer.rs` |
//! | client certificates an API trusts (mutual TLS) | `mutual_tls.rs` |
//! | the policy: credential choice and order | `authenticate.rs` |

mod authenticate;
mod bearer;
mod caller;
mod introspect;
mod mutual_tls;
mod requirement;
mod security;
mod state;
mod subscriptions;
mod token_cache;

pub use authenticate::{ApiRef, Authenticate};
pub use caller::{AuthMethod, Caller};
pub use mutual_tls::{
    AcceptedCertificate, CertificateRefusal, ClientCertificates, MutualTlsMode, TrustedCertificate,
};
pub use requirement::{ApiKeyLocation, SecurityRequirement};
pub use security::{IntrospectionTarget, Issuer, Revocations, Security, SecurityOptions};
pub use state::{AuthState, AuthStateConfig};
pub use subscriptions::{
    Application, ConsumerKey, InvalidSubscriptions, Subscription, SubscriptionRefusal,
    SubscriptionState, Subscriptions,
};
pub use token_cache::TokenCache;
