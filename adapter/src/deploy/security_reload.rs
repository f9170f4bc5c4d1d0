//! A new `gateway.toml` applied while running: its reloadable settings and its `[security]`
//! section go into one snapshot together, or not at all.
//!
//! Where it sits: control plane, called by [`super::reload::ConfigReloader`] on the watcher thread
//! once the new file parsed. Parsing already validated `[security]` whole and read the keys of
//! `jwks_file`, `secret_env` and `certificate` issuers again. [`Manager::reconfigure`] rebuilds the
//! rest from the new section and checks it by compiling:
//!
//! - the subscriptions file is read again, and the admin API's overlay and revocations (kept in
//!   `<state_dir>/security/`) stay applied on top of it;
//! - keys fetched from JWKS URLs are kept for each issuer whose name and URL are unchanged, and
//!   dropped for the others (removed issuers, changed URLs);
//! - a generated backend-JWT signing key is kept while the section still asks for a generated key
//!   of the same algorithm and `kid`, so `/.wellknown/jwks` does not change under the backends;
//! - the security epoch is bumped: every core drops the verifications it cached under the old
//!   section when it installs the snapshot (`AuthState::on_snapshot`), so a token of a removed
//!   issuer is refused from the next request on, cached or not.
//!
//! A failure at any step (unreadable subscriptions file, a table that does not compile, a snapshot
//! not acknowledged) leaves the manager and the served snapshot as they were.
//!
//! # JWKS of new issuers
//! They are not fetched here. The reload publishes first; the caller then hands the refresher
//! thread the new list of sources, and it fetches the new ones at once, off the request path,
//! publishing through [`Manager::set_issuer_keys`]. Until that fetch lands (normally
//! milliseconds; after a failure, its backoff) the issuer has no keys and its tokens are refused
//! with 401, as for an issuer whose key manager was unreachable at start. So a reload never waits
//! on a remote key manager while it holds the manager's lock (admin calls and directory reloads
//! queue behind it).
//!
//! Not done here: reading the file and deciding what changed ([`super::reload`]), fetching
//! (`security::jwks`).

use std::sync::Arc;

use turnpike_core::Settings;

use super::api::DeployError;
use super::manager::{Manager, Publisher, Reloaded, State};
use crate::security::{AdminSecurity, SecurityConfig, SecurityInputs};

impl<P: Publisher> Manager<P> {
    /// Applies `settings` and, when it changed, the new `[security]` section (see the module
    /// docs); `Unchanged` when neither differs from what is served.
    ///
    /// # Errors
    /// [`DeployError::Invalid`] naming `gateway.toml` and the key for a section that does not
    /// build; whatever publishing fails with. The old configuration keeps serving.
    pub fn reconfigure(
        &self,
        settings: Settings,
        security: Option<SecurityConfig>,
    ) -> Result<Reloaded, DeployError> {
        let mut state = self.lock();
        let settings_changed = format!("{settings:?}") != format!("{:?}", state.options.settings);
        if !settings_changed && security.is_none() {
            return Ok(Reloaded::Unchanged);
        }
        let security = security.map(|config| rebuild(&state, config)).transpose()?;
        let old_settings = std::mem::replace(&mut state.options.settings, settings);
        let old_security = security.map(|(inputs, admin)| {
            let inputs = std::mem::replace(&mut state.options.security, inputs);
            (inputs, std::mem::replace(&mut state.security, admin))
        });
        let result = state.compile_current().and_then(|snapshot| state.publish(snapshot));
        match result {
            Ok(version) => Ok(Reloaded::Published { version, warnings: Vec::new() }),
            Err(err) => {
                state.options.settings = old_settings;
                if let Some((inputs, admin)) = old_security {
                    state.options.security = inputs;
                    state.security = admin;
                }
                Err(err)
            }
        }
    }
}

/// The security inputs and admin state `config` makes of what runs now.
fn rebuild<P>(
    state: &State<P>,
    mut config: SecurityConfig,
) -> Result<(SecurityInputs, AdminSecurity), DeployError> {
    let current = &state.options.security;
    keep_generated_backend_key(&current.config, &mut config);
    let invalid = |reason: String| DeployError::Invalid {
        file: "gateway.toml".to_owned(),
        pointer: "/security/subscriptions_file".to_owned(),
        reason,
    };
    let (applications, subscriptions) = crate::security::read_seed(&config).map_err(invalid)?;
    let admin = state.security.with_seed(applications, subscriptions);
    let applied = admin.apply(&admin.overlay).map_err(invalid)?;
    for orphan in &applied.orphans {
        tracing::warn!(subscription = %orphan, "subscription of a deleted application dropped");
    }
    let fetched = current
        .fetched
        .iter()
        .filter(|(name, _)| jwks_url(&current.config, name) == jwks_url(&config, name))
        .map(|(name, keys)| (name.clone(), Arc::clone(keys)))
        .collect();
    let inputs = SecurityInputs {
        config,
        fetched,
        applications: applied.applications,
        subscriptions: applied.subscriptions,
        revocations: Arc::clone(&current.revocations),
        epoch: current.epoch + 1,
    };
    Ok((inputs, admin))
}

/// The JWKS URL of issuer `name`, if it has one.
fn jwks_url<'c>(config: &'c SecurityConfig, name: &str) -> Option<&'c str> {
    config.issuers.iter().find(|i| i.name == name)?.jwks_url.as_deref()
}

/// Every parse of a section without `signing_key_file` generates a key; the running one stays
/// while algorithm and `kid` are unchanged.
fn keep_generated_backend_key(old: &SecurityConfig, new: &mut SecurityConfig) {
    if let (Some(old), Some(new)) = (&old.backend_jwt, &mut new.backend_jwt) {
        if old.ephemeral()
            && new.ephemeral()
            && old.algorithm == new.algorithm
            && old.kid == new.kid
        {
            new.key = Arc::clone(&old.key);
        }
    }
}

#[cfg(test)]
#[path = "security_reload_tests.rs"]
mod tests;
