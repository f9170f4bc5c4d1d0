//! Deploying APIs while traffic flows: the [`Deployments`] contract (used by the admin API) and the
//! deploy manager that implements it over the watched directory and the admin state directory.
//!
//! - [`api`]: the contract (trait, outcomes, errors).
//! - [`manager`]: the [`Manager`], owner of both sources; recompiles and publishes every change.
//! - [`source`]: reading projects, archives and bare definition files.
//! - [`security_api`]: the contract of the admin API's security endpoints; [`security_admin`]
//!   implements it on the manager (applications, subscriptions, revocations).
//! - [`reload`]: what a change of `gateway.toml` means while running; [`security_reload`] applies
//!   its settings and `[security]` to the manager.
//! - [`watch`]: the watched API directory and `gateway.toml`, debounced.

pub mod api;
pub mod manager;
pub mod reload;
mod security_admin;
pub mod security_api;
pub mod security_reload;
pub mod source;
pub mod watch;

pub use api::{
    ApiSource, Change, DeployError, DeployOutcome, DeployedApi, Deployments, SnapshotInfo,
};
pub use manager::{ApiKey, Manager, ManagerOptions, OpenError, Publisher, Reloaded};
pub use reload::{restart_required, ConfigReloader};
pub use security_api::{ItemSource, Listed, SecurityAdmin, SecurityChange, SecurityError};
pub use watch::{ConfigReload, WatchOptions, Watcher};
