//! The control plane's side of security: `gateway.toml [security]` (issuers, introspection, API
//! keys, Basic users, subscriptions file, defaults), and building the snapshot's immutable
//! [`turnpike_policy::auth::Security`] and each route's authentication policy from it plus what
//! changes at run time (JWKS refreshes, subscriptions, revocations).
//!
//! Where it sits: `config` parses the section with the rest of `gateway.toml`; the deploy manager
//! keeps a [`SecurityInputs`] and hands it to `compile`, which calls [`security_table`] and
//! [`route_policy`]. The blocking HTTP client ([`fetch`]) and the JWKS refresher ([`jwks`]) run on
//! control threads: cores only see their results, as immutable key sets published in a snapshot,
//! and reach the refresher only through kid-miss reports. Nothing here runs on the request path.

mod build;
pub mod certificate;
mod config;
pub mod fetch;
pub mod jwks;
mod service;

pub use fetch::{FetchError, FetchOptions, Fetched, Url};
pub use jwks::{spawn_refresher, JwksSource, KidMissSender, Refresher, RefresherHandle};
pub use service::{fetch_options, initial_keys, sources, KeyService};

pub use build::{route_policy, security_table, SecurityInputs};
pub(crate) use config::parse_security;
pub use config::{DefaultSecurity, IntrospectionConfig, IssuerConfig, SecurityConfig};

/// The inputs at startup: `[security]` and the subscriptions file it names.
///
/// # Errors
/// When the subscriptions file cannot be read or parsed (the message names the file).
pub fn initial_inputs(config: &SecurityConfig) -> Result<SecurityInputs, String> {
    let mut inputs = SecurityInputs { config: config.clone(), epoch: 1, ..Default::default() };
    if let Some(file) = &config.subscriptions_file {
        let (applications, subscriptions) = config::read_subscriptions(file)?;
        inputs.applications = applications;
        inputs.subscriptions = subscriptions;
    }
    Ok(inputs)
}
