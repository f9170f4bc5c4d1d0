//! What a change of `gateway.toml` means for a running gateway.
//!
//! Where it sits: called by [`super::watch`] when the file went quiet. The file is read again and
//! the same command-line overrides applied; reloadable parts (limits, timeouts, upstream pool,
//! trusted proxies, `Via`, max request body) and a changed `[security]` go to
//! [`Manager::reconfigure`], which recompiles and publishes them together (see
//! [`super::security_reload`]); the JWKS refresher is then handed the new list of remote key
//! sets, and fetches new ones at once. A new log level is applied through a callback. Parts fixed
//! at start (listener
//! address and backlog, workers, driver, pinning, io_uring entries, API directory) are not
//! changed: each is logged as `restart required for <key>`, never ignored silently. An invalid
//! file, or a `[security]` that does not build, is logged with the file, key and problem, and
//! the previous settings and security stay, whole.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{self, GatewayConfig, Overrides};
use crate::security::SourcesSender;
use crate::upstream_tls::UpstreamTls;

use super::api::DeployError;
use super::manager::{Manager, Publisher, Reloaded};

/// Applies a new log filter (tracing `EnvFilter` syntax).
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send>;

/// Re-reads `gateway.toml` and applies what can be applied while running.
pub struct ConfigReloader<P: Publisher> {
    file: PathBuf,
    overrides: Overrides,
    current: GatewayConfig,
    manager: Arc<Manager<P>>,
    set_log_level: Option<SetLogLevel>,
    /// Where the new list of remote key sets goes after a reload of `[security]`.
    jwks: Option<SourcesSender>,
}

impl<P: Publisher> std::fmt::Debug for ConfigReloader<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigReloader").field("file", &self.file).finish_non_exhaustive()
    }
}

/// Keys of `gateway.toml` whose new value needs a restart, comparing `old` with `new`.
pub fn restart_required(old: &GatewayConfig, new: &GatewayConfig) -> Vec<&'static str> {
    let (a, b) = (&old.static_config, &new.static_config);
    let mut keys = Vec::new();
    if a.listen != b.listen {
        keys.push("listener.address");
    }
    if a.backlog != b.backlog {
        keys.push("listener.backlog");
    }
    if a.workers != b.workers {
        keys.push("runtime.workers");
    }
    if a.driver != b.driver {
        keys.push("runtime.driver");
    }
    if a.pin_workers != b.pin_workers {
        keys.push("runtime.pin_workers");
    }
    if a.uring_entries != b.uring_entries {
        keys.push("runtime.uring_entries");
    }
    if a.tls_listen != b.tls_listen {
        keys.push("tls.listen");
    }
    if old.apis_dir != new.apis_dir {
        keys.push("apis.directory");
    }
    if !same_upstream_tls(&old.upstream_tls, &new.upstream_tls) {
        keys.push("upstream_tls");
    }
    keys
}

/// Whether two `[upstream_tls]` sections configure the same thing (the client key compared by
/// its bytes: the backends' TLS configurations are built at start).
fn same_upstream_tls(a: &UpstreamTls, b: &UpstreamTls) -> bool {
    let identity = |t: &UpstreamTls| {
        t.client_identity.as_ref().map(|i| (i.chain.clone(), i.key.secret_der().to_vec()))
    };
    a.verify_hostname == b.verify_hostname && identity(a) == identity(b)
}

impl<P: Publisher> ConfigReloader<P> {
    /// `current` is the configuration the gateway started with (overrides applied).
    pub fn new(
        file: PathBuf,
        overrides: Overrides,
        current: GatewayConfig,
        manager: Arc<Manager<P>>,
        set_log_level: Option<SetLogLevel>,
    ) -> Self {
        ConfigReloader { file, overrides, current, manager, set_log_level, jwks: None }
    }

    /// Hands later `[security]` changes' remote key sets to the JWKS refresher.
    #[must_use]
    pub fn with_jwks(mut self, jwks: Option<SourcesSender>) -> Self {
        self.jwks = jwks;
        self
    }

    /// Logs a refused change; the previous configuration keeps serving.
    fn reject(&self, why: &dyn std::fmt::Display) {
        tracing::error!(
            file = %self.file.display(),
            "configuration change rejected, previous settings kept: {why}"
        );
    }

    /// Reads the file again and applies it (see the module docs).
    pub fn reload(&mut self) {
        let mut new = match config::load(Some(&self.file)) {
            Ok(c) => c,
            Err(err) => return self.reject(&err),
        };
        new.apply(&self.overrides);
        // Comparing the parsed values catches any edit (a generated backend-JWT key is left out
        // of `Debug`, so two parses of one file compare equal).
        let security_changed =
            format!("{:?}", self.current.security) != format!("{:?}", new.security);
        let sources = if security_changed {
            match crate::security::sources(&new.security) {
                Ok(sources) => Some(sources),
                Err(why) => return self.reject(&format!("{}: {why}", self.file.display())),
            }
        } else {
            None
        };
        for key in restart_required(&self.current, &new) {
            tracing::warn!(
                file = %self.file.display(),
                "restart required for {key}: the running gateway keeps its current value"
            );
        }
        if new.log_level != self.current.log_level {
            if let Some(set) = &self.set_log_level {
                match set(&new.log_level) {
                    Ok(()) => tracing::info!(level = %new.log_level, "log level changed"),
                    Err(why) => tracing::warn!("log level not changed: {why}"),
                }
            }
        }
        let security = security_changed.then(|| new.security.clone());
        match self.manager.reconfigure(new.settings.clone(), security) {
            Ok(Reloaded::Unchanged) => {}
            Ok(Reloaded::Published { version, .. }) => {
                tracing::info!(
                    version,
                    security = security_changed,
                    "configuration reloaded; snapshot published"
                );
            }
            Err(mut err) => {
                if let DeployError::Invalid { file, .. } = &mut err {
                    if file == "gateway.toml" {
                        *file = self.file.display().to_string();
                    }
                }
                return self.reject(&err);
            }
        }
        if let (Some(sources), Some(jwks)) = (sources, &self.jwks) {
            if !jwks.send(sources) {
                tracing::error!("the JWKS refresher is gone: keys of new issuers are not fetched");
            }
        }
        // Static parts keep their running values; only what was applied is remembered.
        self.current.settings = new.settings;
        self.current.log_level = new.log_level;
        if security_changed {
            self.current.security = new.security;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::restart_required;
    use crate::config::parse;

    #[test]
    fn upstream_tls_edits_need_a_restart_and_equal_sections_do_not() {
        let file = Path::new("gateway.toml");
        let base = parse(file, "[upstream_tls]\nverify_hostname = true\n").unwrap();
        let same = parse(file, "[upstream_tls]\nverify_hostname = true\n").unwrap();
        let changed = parse(file, "[upstream_tls]\nverify_hostname = false\n").unwrap();
        assert!(restart_required(&base, &same).is_empty());
        assert_eq!(restart_required(&base, &changed), ["upstream_tls"]);
    }
}
