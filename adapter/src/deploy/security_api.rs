//! The contract between the admin API's security endpoints (`/api/turnpike/v1/applications`,
//! `/subscriptions`, `/revocations`) and the deploy manager that carries the changes out: a trait,
//! so the HTTP layer does not depend on how snapshots are compiled and published.
//!
//! Every call is made on the control plane. A change is validated against the whole resulting
//! table first; a refused change leaves the served snapshot as it was. An accepted one is
//! persisted, compiled into a new snapshot and published, and the call returns once every core
//! acknowledged it ([`SecurityError::NotAcknowledged`] when that took too long: the change is
//! then made, and each core applies it as soon as it installs the snapshot).

use std::fmt;
use std::time::Duration;

use turnpike_policy::auth::{Application, Subscription};

use crate::security::Revocation;

/// Where a listed application or subscription comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemSource {
    /// `[security] subscriptions_file`, unchanged by the admin API.
    File,
    /// Written through the admin API (persisted in the state directory).
    Admin,
}

impl ItemSource {
    /// Lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Admin => "admin",
        }
    }
}

/// A listed item with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    pub item: T,
    pub source: ItemSource,
}

/// What an accepted change did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityChange {
    /// Snapshot version every core serves now.
    pub snapshot_version: u64,
    /// An upsert created the item (rather than replacing one).
    pub created: bool,
    /// Subscriptions removed along with a deleted application.
    pub removed_subscriptions: Vec<String>,
}

/// Why a security change was refused, or did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityError {
    /// A field of the request is invalid: its JSON pointer and why.
    Invalid { field: String, reason: String },
    /// A subscription names an application that does not exist.
    UnknownApplication(String),
    /// The change contradicts the table (a consumer key of another application, a second
    /// subscription of one application to one API).
    Conflict(String),
    /// No such item to delete.
    NotFound { kind: &'static str, id: String },
    /// Published, but not every core acknowledged the snapshot within the limit.
    NotAcknowledged { version: u64, waited: Duration },
    /// The gateway could not complete the change (state directory unwritable, not running).
    Internal(String),
}

impl SecurityError {
    /// HTTP status for the admin API.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } | Self::UnknownApplication(_) => 400,
            Self::NotFound { .. } => 404,
            Self::Conflict(_) => 409,
            Self::Internal(_) => 500,
            Self::NotAcknowledged { .. } => 503,
        }
    }
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { field, reason } => write!(f, "{field}: {reason}"),
            Self::UnknownApplication(id) => {
                write!(f, "/application: no application has the id {id:?}")
            }
            Self::Conflict(why) => write!(f, "conflict: {why}"),
            Self::NotFound { kind, id } => write!(f, "no {kind} has the id {id:?}"),
            Self::NotAcknowledged { version, waited } => write!(
                f,
                "the change is saved and published as snapshot {version}, but not every core \
                 acknowledged it within {waited:?}; each core applies it once it installs the \
                 snapshot"
            ),
            Self::Internal(why) => write!(f, "gateway error: {why}"),
        }
    }
}

impl std::error::Error for SecurityError {}

/// Reading and changing applications, subscriptions and revocations. Implemented by the deploy
/// manager; used by the admin API.
pub trait SecurityAdmin: Send + Sync {
    /// Every application served now.
    fn applications(&self) -> Vec<Listed<Application>>;
    /// Adds or replaces the application with `app.id`.
    fn put_application(&self, app: Application) -> Result<SecurityChange, SecurityError>;
    /// Deletes an application and its subscriptions.
    fn delete_application(&self, id: &str) -> Result<SecurityChange, SecurityError>;

    /// Every subscription served now, ids filled in.
    fn subscriptions(&self) -> Vec<Listed<Subscription>>;
    /// Adds or replaces the subscription with the id of `sub` (see
    /// [`crate::security::overlay::subscription_id`]).
    fn put_subscription(&self, sub: Subscription) -> Result<SecurityChange, SecurityError>;
    /// Deletes a subscription.
    fn delete_subscription(&self, id: &str) -> Result<SecurityChange, SecurityError>;

    /// The revocations in force.
    fn revocations(&self) -> Vec<Revocation>;
    /// Revokes token ids.
    fn revoke(&self, revocations: Vec<Revocation>) -> Result<SecurityChange, SecurityError>;
}
