//! The deploy manager's side of the admin API's security endpoints: [`SecurityAdmin`] on
//! [`Manager`].
//!
//! Where it sits: control plane, called from admin connection threads under the manager's lock.
//! Every change follows one path: edit a copy of the overlay (or of the revocations) → validate
//! the resulting table (`Subscriptions::new`, refusals mapped to 400 / 409) → compile a snapshot
//! with the new [`crate::security::SecurityInputs`] → persist the copy atomically → keep it →
//! publish → wait until every core acknowledged. A refusal at any step before publishing leaves
//! the manager and the served snapshot unchanged.
//!
//! The security epoch is not bumped: subscriptions and revocations are checked on every request,
//! cache hits included, so cached verifications stay valid; cores evict cached verifications of
//! newly revoked ids when they install the snapshot (`AuthState::on_snapshot`).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use turnpike_policy::auth::{Application, InvalidSubscriptions, Subscription, Subscriptions};

use super::api::DeployError;
use super::manager::{Manager, Publisher, State};
use super::security_api::{ItemSource, Listed, SecurityAdmin, SecurityChange, SecurityError};
use crate::security::overlay::{subscription_id, SubscriptionOverlay};
use crate::security::{Revocation, RevokedTokens};

/// Seconds since the Unix epoch (control plane only).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn internal(err: DeployError) -> SecurityError {
    SecurityError::Internal(err.to_string())
}

fn refusal(err: InvalidSubscriptions) -> SecurityError {
    match err {
        InvalidSubscriptions::UnknownApplication { application, .. } => {
            SecurityError::UnknownApplication(application)
        }
        other => SecurityError::Conflict(other.to_string()),
    }
}

impl<P: Publisher> State<P> {
    /// Compiles with `overlay` applied and, if that works, persists and keeps it.
    fn apply_overlay(&mut self, overlay: SubscriptionOverlay) -> Result<(), SecurityError> {
        if self.publisher.is_none() {
            return Err(SecurityError::Internal("the gateway is not running".to_owned()));
        }
        let applied = self
            .security
            .apply(&overlay)
            .map_err(|reason| SecurityError::Invalid { field: "/id".to_owned(), reason })?;
        Subscriptions::new(applied.applications.clone(), applied.subscriptions.clone())
            .map_err(refusal)?;
        let old_apps =
            std::mem::replace(&mut self.options.security.applications, applied.applications);
        let old_subs =
            std::mem::replace(&mut self.options.security.subscriptions, applied.subscriptions);
        let result = self.compile_current().map_err(internal).and_then(|snapshot| {
            self.security.save_overlay(&overlay).map_err(SecurityError::Internal)?;
            Ok(snapshot)
        });
        match result {
            Ok(snapshot) => {
                self.security.overlay = overlay;
                self.publish_and_wait(snapshot)
            }
            Err(err) => {
                self.options.security.applications = old_apps;
                self.options.security.subscriptions = old_subs;
                Err(err)
            }
        }
    }

    fn publish_and_wait(&mut self, snapshot: turnpike_core::Snapshot) -> Result<(), SecurityError> {
        let version = self.publish_unacknowledged(snapshot).map_err(internal)?;
        if self.acknowledged(version) {
            Ok(())
        } else {
            Err(SecurityError::NotAcknowledged { version, waited: self.options.ack_timeout })
        }
    }

    fn change(&self, created: bool, removed_subscriptions: Vec<String>) -> SecurityChange {
        SecurityChange { snapshot_version: self.served_version(), created, removed_subscriptions }
    }
}

impl<P: Publisher> SecurityAdmin for Manager<P> {
    fn applications(&self) -> Vec<Listed<Application>> {
        let state = self.lock();
        state
            .options
            .security
            .applications
            .iter()
            .map(|app| Listed {
                source: if state.security.overlay.has_application(&app.id) {
                    ItemSource::Admin
                } else {
                    ItemSource::File
                },
                item: app.clone(),
            })
            .collect()
    }

    fn put_application(&self, app: Application) -> Result<SecurityChange, SecurityError> {
        let mut state = self.lock();
        let mut overlay = state.security.overlay.clone();
        let created = overlay.upsert_application(app, &state.options.security.applications);
        state.apply_overlay(overlay)?;
        Ok(state.change(created, Vec::new()))
    }

    fn delete_application(&self, id: &str) -> Result<SecurityChange, SecurityError> {
        let mut state = self.lock();
        if !state.options.security.applications.iter().any(|a| a.id == id) {
            return Err(SecurityError::NotFound { kind: "application", id: id.to_owned() });
        }
        let mut overlay = state.security.overlay.clone();
        let removed = overlay.delete_application(id, &state.options.security.subscriptions);
        state.apply_overlay(overlay)?;
        Ok(state.change(false, removed))
    }

    fn subscriptions(&self) -> Vec<Listed<Subscription>> {
        let state = self.lock();
        state
            .options
            .security
            .subscriptions
            .iter()
            .map(|sub| Listed {
                source: if state.security.overlay.has_subscription(&sub.id) {
                    ItemSource::Admin
                } else {
                    ItemSource::File
                },
                item: sub.clone(),
            })
            .collect()
    }

    fn put_subscription(&self, sub: Subscription) -> Result<SecurityChange, SecurityError> {
        let mut state = self.lock();
        let mut overlay = state.security.overlay.clone();
        let created = overlay.upsert_subscription(sub, &state.options.security.subscriptions);
        state.apply_overlay(overlay)?;
        Ok(state.change(created, Vec::new()))
    }

    fn delete_subscription(&self, id: &str) -> Result<SecurityChange, SecurityError> {
        let mut state = self.lock();
        if !state.options.security.subscriptions.iter().any(|s| subscription_id(s) == id) {
            return Err(SecurityError::NotFound { kind: "subscription", id: id.to_owned() });
        }
        let mut overlay = state.security.overlay.clone();
        overlay.delete_subscription(id);
        state.apply_overlay(overlay)?;
        Ok(state.change(false, Vec::new()))
    }

    fn revocations(&self) -> Vec<Revocation> {
        self.lock().security.revoked.live(unix_now())
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> Result<SecurityChange, SecurityError> {
        let mut state = self.lock();
        if state.publisher.is_none() {
            return Err(SecurityError::Internal("the gateway is not running".to_owned()));
        }
        let mut revoked: RevokedTokens = state.security.revoked.clone();
        for revocation in revocations {
            revoked.insert(revocation);
        }
        revoked.prune(unix_now());
        if revoked == state.security.revoked {
            // Nothing new (already revoked, or already expired): the served snapshot has it;
            // still make sure every core serves that snapshot before answering.
            let version = state.served_version();
            if !state.acknowledged(version) {
                let waited = state.options.ack_timeout;
                return Err(SecurityError::NotAcknowledged { version, waited });
            }
            return Ok(state.change(false, Vec::new()));
        }
        let table = Arc::new(revoked.to_table());
        let old = std::mem::replace(&mut state.options.security.revocations, table);
        let result = state.compile_current().map_err(internal).and_then(|snapshot| {
            state.security.save_revoked(&revoked).map_err(SecurityError::Internal)?;
            Ok(snapshot)
        });
        let snapshot = match result {
            Ok(snapshot) => snapshot,
            Err(err) => {
                state.options.security.revocations = old;
                return Err(err);
            }
        };
        state.security.revoked = revoked;
        state.publish_and_wait(snapshot)?;
        Ok(state.change(true, Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::path::PathBuf;
    use std::time::Duration;

    use turnpike_core::Snapshot;
    use turnpike_policy::auth::{ConsumerKey, SubscriptionState};
    use turnpike_policy::KeyType;

    use super::*;
    use crate::deploy::{Deployments as _, ManagerOptions};
    use crate::security::SecurityInputs;

    /// Publishes into the void; acknowledges only when `acks` says so.
    struct Fake {
        version: Cell<u64>,
        acks: bool,
    }

    impl Publisher for Fake {
        fn publish(&self, _: Snapshot) -> u64 {
            self.version.set(self.version.get() + 1);
            self.version.get()
        }
        fn wait_acknowledged(&self, _: u64, _: Duration) -> bool {
            self.acks
        }
        fn acknowledged(&self) -> Vec<u64> {
            vec![self.version.get()]
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "turnpike-security-admin-{name}-{}-{:?}",
            std::process::id(),
            SystemTime::now()
        ));
        std::fs::create_dir_all(dir.join("apis")).unwrap();
        dir
    }

    fn app(id: &str, key: &str) -> Application {
        Application {
            id: id.into(),
            name: id.into(),
            owner: String::new(),
            tier: "Unlimited".into(),
            consumer_keys: vec![ConsumerKey { key: key.into(), key_type: KeyType::Production }],
        }
    }

    fn sub(id: &str, application: &str, api: &str) -> Subscription {
        Subscription {
            id: id.into(),
            application: application.into(),
            api_name: api.into(),
            api_version: "1".into(),
            state: SubscriptionState::Active,
            tier: "Unlimited".into(),
        }
    }

    fn manager(dir: &std::path::Path, acks: bool) -> Manager<Fake> {
        let options = ManagerOptions {
            apis_dir: dir.join("apis"),
            state_dir: dir.join("state"),
            settings: Default::default(),
            ack_timeout: Duration::from_millis(10),
            security: SecurityInputs {
                applications: vec![app("seed", "k-seed")],
                subscriptions: vec![sub("", "seed", "Pets")],
                ..Default::default()
            },
            upstream_tls: Default::default(),
        };
        let (manager, _, _) = Manager::<Fake>::open(options).unwrap();
        manager.attach(Fake { version: Cell::new(1), acks });
        manager
    }

    fn ids(m: &Manager<Fake>) -> Vec<(String, ItemSource)> {
        m.subscriptions().into_iter().map(|l| (l.item.id, l.source)).collect()
    }

    #[test]
    fn changes_are_validated_published_and_survive_a_reopen() {
        let dir = temp_dir("reopen");
        let m = manager(&dir, true);
        assert_eq!(ids(&m), [("seed:Pets:1".to_owned(), ItemSource::File)]);

        let change = m.put_application(app("a", "k-a")).unwrap();
        assert_eq!((change.snapshot_version, change.created), (2, true));
        assert!(!m.put_application(app("a", "k-a2")).unwrap().created, "replaced");
        assert!(m.put_subscription(sub("s1", "a", "Pets")).unwrap().created);

        // Refusals change nothing.
        assert_eq!(
            m.put_subscription(sub("s2", "nobody", "Pets")),
            Err(SecurityError::UnknownApplication("nobody".into()))
        );
        let err = m.put_application(app("b", "k-a2")).unwrap_err();
        assert_eq!(err.status(), 409, "{err}");
        let err = m.put_subscription(sub("s3", "a", "Pets")).unwrap_err();
        assert_eq!(err.status(), 409, "second subscription of a to Pets: {err}");
        assert_eq!(m.delete_subscription("nope").unwrap_err().status(), 404);
        assert_eq!(m.delete_application("nope").unwrap_err().status(), 404);
        assert_eq!(m.snapshot_info().version, 4, "refusals published nothing");

        let now = unix_now();
        let revoked = Revocation { jti: "j1".into(), expires_at: now + 600 };
        let expired = Revocation { jti: "j0".into(), expires_at: now - 1 };
        m.revoke(vec![revoked.clone(), expired]).unwrap();
        assert_eq!(
            m.revocations(),
            std::slice::from_ref(&revoked),
            "the expired one is not listed"
        );
        let version = m.snapshot_info().version;
        m.revoke(vec![revoked.clone()]).unwrap();
        assert_eq!(m.snapshot_info().version, version, "nothing new, nothing published");

        let deleted = m.delete_application("seed").unwrap();
        assert_eq!(deleted.removed_subscriptions, ["seed:Pets:1"]);
        let applications: Vec<String> = m.applications().into_iter().map(|l| l.item.id).collect();
        assert_eq!(applications, ["a"]);
        drop(m);

        let again = manager(&dir, true);
        assert_eq!(ids(&again), [("s1".to_owned(), ItemSource::Admin)]);
        let apps = again.applications();
        assert_eq!(apps.len(), 1);
        assert_eq!(
            (apps[0].item.consumer_keys[0].key.as_str(), apps[0].source),
            ("k-a2", ItemSource::Admin)
        );
        assert_eq!(again.revocations(), [revoked]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unacknowledged_change_is_reported_and_kept() {
        let dir = temp_dir("noack");
        let m = manager(&dir, false);
        let revocation = Revocation { jti: "j".into(), expires_at: unix_now() + 60 };
        let err = m.revoke(vec![revocation.clone()]).unwrap_err();
        assert_eq!(err.status(), 503);
        assert!(err.to_string().contains("not every core acknowledged"), "{err}");
        assert_eq!(m.revocations(), std::slice::from_ref(&revocation));
        assert_eq!(m.revoke(vec![revocation]).unwrap_err().status(), 503, "still waiting");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
