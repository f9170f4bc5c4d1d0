//! Tests of [`Manager::reconfigure`] with a fake data plane: what a new `[security]` keeps (keys
//! of unchanged JWKS URLs, the admin overlay, revocations), what it drops, the epoch bump, and a
//! refused section changing nothing.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use turnpike_core::Snapshot;
use turnpike_policy::auth::{Application, ConsumerKey};
use turnpike_policy::jose::{Alg, KeySet};
use turnpike_policy::KeyType;

use super::*;
use crate::deploy::{ManagerOptions, SecurityAdmin as _};
use crate::security::{IssuerConfig, JwksSource, Revocation, Url};

/// Publishes into the void and acknowledges at once.
struct Fake(Cell<u64>);

impl Publisher for Fake {
    fn publish(&self, _: Snapshot) -> u64 {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }
    fn wait_acknowledged(&self, _: u64, _: Duration) -> bool {
        true
    }
    fn acknowledged(&self) -> Vec<u64> {
        vec![self.0.get()]
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "turnpike-security-reload-{name}-{}-{:?}",
        std::process::id(),
        SystemTime::now()
    ));
    std::fs::create_dir_all(dir.join("apis")).unwrap();
    dir
}

fn remote(name: &str, url: &str) -> IssuerConfig {
    IssuerConfig {
        name: name.into(),
        issuer: format!("https://{name}.example/token"),
        jwks_url: Some(url.into()),
        static_keys: None,
        algorithms: vec![Alg::RS256],
        audiences: Vec::new(),
        clock_skew_s: 60,
        consumer_key_claim: "azp".into(),
        scopes_claim: "scope".into(),
        validate_subscriptions: false,
        jwks_refresh: Duration::from_secs(900),
        jwks_min_refetch: Duration::from_secs(10),
        claim_mappings: Vec::new(),
    }
}

fn keys() -> Arc<KeySet> {
    Arc::new(KeySet::from_secret(&[7; 32], Some("k")).unwrap())
}

fn manager(dir: &Path, config: SecurityConfig) -> Manager<Fake> {
    let mut security = SecurityInputs { config, epoch: 1, ..Default::default() };
    security.fetched.insert("a".into(), keys());
    let options = ManagerOptions {
        apis_dir: dir.join("apis"),
        state_dir: dir.join("state"),
        settings: Default::default(),
        ack_timeout: Duration::from_millis(10),
        security,
        upstream_tls: Default::default(),
    };
    let (manager, _, _) = Manager::<Fake>::open(options).unwrap();
    manager.attach(Fake(Cell::new(1)));
    manager
}

fn config(issuers: Vec<IssuerConfig>) -> SecurityConfig {
    SecurityConfig { issuers, ..Default::default() }
}

fn app(id: &str) -> Application {
    Application {
        id: id.into(),
        name: id.into(),
        owner: String::new(),
        tier: "Unlimited".into(),
        consumer_keys: vec![ConsumerKey { key: format!("k-{id}"), key_type: KeyType::Production }],
    }
}

#[test]
fn a_new_section_keeps_unchanged_keys_and_admin_state_and_bumps_the_epoch() {
    let dir = temp_dir("keep");
    let m = manager(&dir, config(vec![remote("a", "http://127.0.0.1:1/a")]));
    m.put_application(app("admin-app")).unwrap();
    let revocation = Revocation { jti: "j".into(), expires_at: u64::MAX / 2 };
    m.revoke(vec![revocation.clone()]).unwrap();
    let seed = dir.join("subscriptions.json");
    std::fs::write(&seed, r#"{"applications": [{"id": "file-app", "name": "F"}]}"#).unwrap();

    // `a` unchanged, `b` added, a subscriptions file appears.
    let new = SecurityConfig {
        subscriptions_file: Some(seed.clone()),
        ..config(vec![remote("a", "http://127.0.0.1:1/a"), remote("b", "http://127.0.0.1:1/b")])
    };
    let outcome = m.reconfigure(Default::default(), Some(new)).unwrap();
    assert!(matches!(outcome, Reloaded::Published { .. }), "{outcome:?}");
    {
        let state = m.lock();
        let inputs = &state.options.security;
        assert_eq!(inputs.epoch, 2);
        assert_eq!(inputs.fetched.keys().collect::<Vec<_>>(), ["a"], "b is not fetched yet");
        let apps: Vec<&str> = inputs.applications.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(apps, ["file-app", "admin-app"], "the admin overlay stays on the new seed");
        assert!(inputs.revocations.is_revoked("j", 0), "revocations stay");
        assert_eq!(inputs.config.issuers.len(), 2);
    }

    // The refresher's keys for `b` are taken; stale keys for `a` from another URL are not.
    let b = JwksSource::new("b", Url::parse("http://127.0.0.1:1/b").unwrap());
    assert!(matches!(m.set_issuer_keys(&b, keys()), Ok(Reloaded::Published { .. })));
    assert_eq!(m.set_issuer_keys(&b, keys()), Ok(Reloaded::Unchanged), "same keys again");
    let stale = JwksSource::new("a", Url::parse("http://127.0.0.1:1/old").unwrap());
    assert_eq!(m.set_issuer_keys(&stale, keys()), Ok(Reloaded::Unchanged));
    assert_eq!(m.lock().options.security.epoch, 3);

    // `a` moves to another URL and `b` goes: no keys kept for either.
    let moved = config(vec![remote("a", "http://127.0.0.1:1/a2")]);
    m.reconfigure(Default::default(), Some(moved)).unwrap();
    let state = m.lock();
    assert!(state.options.security.fetched.is_empty());
    assert_eq!(state.options.security.epoch, 4);
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_section_that_does_not_build_changes_nothing() {
    let dir = temp_dir("refused");
    let m = manager(&dir, config(vec![remote("a", "http://127.0.0.1:1/a")]));
    let version = m.lock().served_version();
    let missing =
        SecurityConfig { subscriptions_file: Some(dir.join("missing.json")), ..config(Vec::new()) };
    let err = m.reconfigure(Default::default(), Some(missing)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("/security/subscriptions_file") && text.contains("missing.json"),
        "{text}"
    );

    let bad_key = SecurityConfig {
        api_keys: vec![turnpike_policy::credentials::ApiKeyEntry {
            application: "x".into(),
            sha256_hex: "not hex".into(),
            key_type: KeyType::Production,
            apis: None,
        }],
        ..config(Vec::new())
    };
    let err = m.reconfigure(Default::default(), Some(bad_key)).unwrap_err();
    assert!(err.to_string().contains("api_keys"), "{err}");

    let state = m.lock();
    assert_eq!(state.served_version(), version, "nothing published");
    assert_eq!(state.options.security.epoch, 1);
    assert_eq!(state.options.security.config.issuers.len(), 1);
    assert_eq!(state.options.security.fetched.len(), 1);
    drop(state);
    assert_eq!(m.reconfigure(Default::default(), None), Ok(Reloaded::Unchanged));
    let _ = std::fs::remove_dir_all(&dir);
}
