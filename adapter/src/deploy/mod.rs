//! Deploying APIs while traffic flows: the [`Deployments`] contract (used by the admin API) and the
//! deploy manager that implements it over the watched directory and the admin state directory.

pub mod api;

pub use api::{
    ApiSource, Change, DeployError, DeployOutcome, DeployedApi, Deployments, SnapshotInfo,
};
