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
