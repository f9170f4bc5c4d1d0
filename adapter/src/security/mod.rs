//! The control plane's side of security: `gateway.toml [security]` (issuers, introspection, API
//! keys, Basic users, subscriptions file, defaults, backend JWT), and building the snapshot's immutable
//! [`turnpike_policy::auth::Security`] and each route's authentication policy from it plus what
//! changes at run time (JWKS refreshes, subscriptions, revocations).
//!
//! Where it sits: `config` parses the section with the rest of `gateway.toml`; the deploy manager
//! keeps a [`SecurityInputs`] and hands it to `compile`, which calls [`security_table`] and
//! [`route_policy`]. The blocking HTTP client ([`fetch`]) and the JWKS refresher ([`jwks`]) run on
//! control threads: cores only see their results, as immutable key sets published in a snapshot,
//! and reach the refresher only through kid-miss reports. Nothing here runs on the request path.
//!
//! What the admin API changes at run time — applications, subscriptions, revoked token ids — is
//! kept by [`admin_state`]: the subscriptions file is the seed, the admin changes an
//! [`overlay`] of upserts and deletions by id over it, and [`revoked`] the revocations; both are
//! persisted in the state directory and applied again at start.

pub mod admin_state;
mod backend_jwt;
mod build;
pub mod certificate;
mod config;
pub mod fetch;
pub mod jwks;
pub mod overlay;
pub mod revoked;
mod service;

pub use fetch::{FetchError, FetchOptions, Fetched, Url};
pub use jwks::{
    spawn_refresher, JwksSource, KidMissSender, Refresher, RefresherHandle, SourcesSender,
};
pub use service::{fetch_options, initial_keys, sources, KeyService};

pub use admin_state::AdminSecurity;
pub use backend_jwt::BackendJwtConfig;
pub use build::{backend_jwt_policy, route_policy, security_table, SecurityInputs};
pub(crate) use config::parse_security;
pub use config::{DefaultSecurity, IntrospectionConfig, IssuerConfig, SecurityConfig};
pub use overlay::SubscriptionOverlay;
pub use revoked::{Revocation, RevokedTokens};

/// The inputs at startup: `[security]` and the subscriptions file it names.
///
/// # Errors
/// When the subscriptions file cannot be read or parsed (the message names the file).
pub fn initial_inputs(config: &SecurityConfig) -> Result<SecurityInputs, String> {
    let mut inputs = SecurityInputs { config: config.clone(), epoch: 1, ..Default::default() };
    if let Some(jwt) = config.backend_jwt.as_ref().filter(|j| j.ephemeral()) {
        tracing::warn!(
            alg = %jwt.key.alg(),
            kid = jwt.key.kid().unwrap_or("-"),
            "[security.backend_jwt] has no signing_key_file: signing backend JWTs with a key \
             generated at start; it changes on every restart, so backends must fetch the \
             gateway's /.wellknown/jwks rather than pin the key"
        );
    }
    let (applications, subscriptions) = read_seed(config)?;
    inputs.applications = applications;
    inputs.subscriptions = subscriptions;
    Ok(inputs)
}

/// The applications and subscriptions of `[security] subscriptions_file` (none without one).
///
/// # Errors
/// When the file cannot be read or parsed (the message names the file).
pub(crate) fn read_seed(
    config: &SecurityConfig,
) -> Result<
    (Vec<turnpike_policy::auth::Application>, Vec<turnpike_policy::auth::Subscription>),
    String,
> {
    match &config.subscriptions_file {
        Some(file) => config::read_subscriptions(file),
        None => Ok((Vec::new(), Vec::new())),
    }
}
