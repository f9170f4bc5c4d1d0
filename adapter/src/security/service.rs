//! Running the JWKS side of security for `turnpike run`: the first fetch of every remote key set
//! (before the first snapshot, so tokens verify from the first request), the background refresher,
//! and the thread that turns the cores' kid-miss events into refresher requests.
//!
//! Where it sits: started by `main` around the deploy manager; its only way into the data plane is
//! [`crate::deploy::Manager::set_issuer_keys`], which republishes a snapshot. The refresher runs
//! even without remote issuers, so that a reload of `[security]` adding one
//! ([`KeyService::sources`]) has a thread to fetch its keys.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use turnpike_core::events::{CoreEvent, EventReceiver};
use turnpike_core::GatewayHandle;
use turnpike_policy::jose::KeySet;

use super::config::SecurityConfig;
use super::fetch::{self, FetchOptions, Url};
use super::jwks::{spawn_refresher, JwksSource, RefresherHandle, SourcesSender};
use crate::deploy::{Manager, Reloaded};

/// The system CA bundle used for `https://` JWKS URLs (Debian's path).
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How JWKS URLs are fetched.
pub fn fetch_options() -> FetchOptions {
    let ca = PathBuf::from(SYSTEM_CA_BUNDLE);
    FetchOptions { ca_file: ca.exists().then_some(ca), ..FetchOptions::default() }
}

/// The issuers with a JWKS URL, as refresher sources.
///
/// # Errors
/// A URL that does not parse (the message names the issuer).
pub fn sources(config: &SecurityConfig) -> Result<Vec<JwksSource>, String> {
    config
        .issuers
        .iter()
        .filter_map(|i| i.jwks_url.as_ref().map(|u| (i, u)))
        .map(|(i, url)| {
            let url =
                Url::parse(url).map_err(|e| format!("[security] issuer {:?}: {e}", i.name))?;
            let mut source = JwksSource::new(i.name.clone(), url);
            source.refresh = i.jwks_refresh;
            source.min_refetch = i.jwks_min_refetch;
            Ok(source)
        })
        .collect()
}

/// Fetches every source once; failures are logged (the issuer's tokens are refused until a
/// refresh succeeds).
pub fn initial_keys(sources: &[JwksSource], options: &FetchOptions) -> Vec<(String, Arc<KeySet>)> {
    let mut out = Vec::new();
    for source in sources {
        match fetch::get(&source.url, options) {
            Ok(fetched) => match KeySet::from_jwks(&fetched.body) {
                Ok(keys) => out.push((source.name.clone(), Arc::new(keys))),
                Err(err) => tracing::warn!(issuer = %source.name, "unusable JWKS: {err}"),
            },
            Err(err) => tracing::warn!(issuer = %source.name, "JWKS fetch failed: {err}"),
        }
    }
    out
}

/// The running refresher and event forwarder.
pub struct KeyService {
    refresher: Option<RefresherHandle>,
    forwarder: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyService").finish_non_exhaustive()
    }
}

impl KeyService {
    /// Starts the refresher for `sources` (publishing changes through `manager`) and the thread
    /// forwarding the cores' `events` to it.
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn start(
        sources: Vec<JwksSource>,
        options: FetchOptions,
        manager: Arc<Manager<GatewayHandle>>,
        events: EventReceiver,
    ) -> std::io::Result<Self> {
        let on_change = move |source: &JwksSource, keys: Arc<KeySet>| {
            let issuer = source.name.as_str();
            match manager.set_issuer_keys(source, keys) {
                Ok(Reloaded::Published { .. }) => tracing::info!(issuer, "new JWKS published"),
                Ok(Reloaded::Unchanged) => {}
                Err(err) => tracing::error!(issuer, "new JWKS not published: {err}"),
            }
        };
        let refresher = Some(spawn_refresher(sources, on_change, options)?);
        let kid_miss = refresher.as_ref().map(|r| r.kid_miss.clone());
        let forwarder =
            std::thread::Builder::new().name("turnpike-events".into()).spawn(move || {
                // Ends when every core has dropped its sender (the data plane stopped).
                while let Ok(event) = events.recv() {
                    match event {
                        CoreEvent::KidMiss { issuer } => {
                            if let Some(sender) = &kid_miss {
                                sender.send(&issuer);
                            }
                        }
                    }
                }
            })?;
        Ok(Self { refresher, forwarder: Some(forwarder) })
    }

    /// Where a reload of `[security]` sends the new list of remote key sets.
    pub fn sources(&self) -> Option<SourcesSender> {
        self.refresher.as_ref().map(RefresherHandle::sources)
    }

    /// Stops the refresher. The forwarder is not waited for: it ends once the cores' event
    /// senders are gone, or with the process.
    pub fn stop(mut self) {
        if let Some(r) = self.refresher.take() {
            r.stop();
        }
        drop(self.forwarder.take());
    }
}
