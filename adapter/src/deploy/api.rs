//! The contract between whoever changes what is deployed (the admin API, the CLI through it) and
//! the deploy manager that does it: a trait, so the admin HTTP layer does not depend on how
//! deployment is carried out.
//!
//! Every call is made on the control plane, never on the request path. Errors carry enough to be
//! rendered as a precise JSON error by the admin API ([`DeployError::status`]).

use crate::error::Warning;

/// Where a deployed API came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiSource {
    /// The watched API directory.
    Directory,
    /// The admin API (persisted in the state directory).
    Admin,
}

impl ApiSource {
    /// Lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::Admin => "admin",
        }
    }
}

/// One deployed API, as listed by the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedApi {
    pub name: String,
    pub version: String,
    pub vhost: Option<String>,
    /// Base path (context + version), e.g. `/petstore/v1`.
    pub context: String,
    pub source: ApiSource,
    /// `PUBLISHED`, `BLOCKED`, `PROTOTYPED`, ...
    pub lifecycle: String,
}

/// What a successful deploy or undeploy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOutcome {
    /// Snapshot version now served by every core (reported once all acknowledged it).
    pub snapshot_version: u64,
    /// The APIs the call deployed or removed.
    pub apis: Vec<DeployedApi>,
    pub warnings: Vec<Warning>,
}

/// What a deploy would change (dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// APIs as `name:version` (with `@vhost` when bound to one).
    pub added_apis: Vec<String>,
    pub removed_apis: Vec<String>,
    pub changed_apis: Vec<String>,
    /// Routes as `METHOD /base/path/template` (with `@vhost`).
    pub added_routes: Vec<String>,
    pub removed_routes: Vec<String>,
    pub warnings: Vec<Warning>,
}

/// What is served now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub version: u64,
    pub apis: Vec<DeployedApi>,
    /// Routes as `METHOD /base/path/template` (with `@vhost`).
    pub routes: Vec<String>,
    /// Snapshot version acknowledged by each core, in worker order.
    pub acknowledged: Vec<u64>,
}

/// Why a deployment change was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployError {
    /// The project is invalid: file (inside the project), JSON pointer, reason.
    Invalid { file: String, pointer: String, reason: String },
    /// The upload is not a usable archive (not a zip, too big, zip bomb, unsafe entry names...).
    BadArchive(String),
    /// It conflicts with what is deployed (same name+version+vhost from another source, same
    /// context, ambiguous routes).
    Conflict(String),
    /// The API exists and `override` was not asked for.
    AlreadyExists { name: String, version: String, vhost: Option<String> },
    /// No such API to undeploy.
    NotFound { name: String, version: String, vhost: Option<String> },
    /// The gateway could not complete the change (state directory unwritable, cores did not
    /// acknowledge in time).
    Internal(String),
}

impl DeployError {
    /// HTTP status for the admin API.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } | Self::BadArchive(_) => 400,
            Self::Conflict(_) | Self::AlreadyExists { .. } => 409,
            Self::NotFound { .. } => 404,
            Self::Internal(_) => 500,
        }
    }
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let api = |name: &str, version: &str, vhost: &Option<String>| match vhost {
            Some(h) => format!("{name}:{version}@{h}"),
            None => format!("{name}:{version}"),
        };
        match self {
            Self::Invalid { file, pointer, reason } => write!(f, "{file}: {pointer}: {reason}"),
            Self::BadArchive(why) => write!(f, "unusable project archive: {why}"),
            Self::Conflict(why) => write!(f, "conflict: {why}"),
            Self::AlreadyExists { name, version, vhost } => {
                write!(f, "API {} is already deployed (use override)", api(name, version, vhost))
            }
            Self::NotFound { name, version, vhost } => {
                write!(f, "API {} is not deployed", api(name, version, vhost))
            }
            Self::Internal(why) => write!(f, "gateway error: {why}"),
        }
    }
}

impl std::error::Error for DeployError {}

/// Changing and reading what is deployed. Implemented by the deploy manager; used by the admin API.
pub trait Deployments: Send + Sync {
    /// Deploys the apictl project in `zip` (as `apictl mg deploy` sends it). With
    /// `override_existing`, an API with the same name+version+vhost from the admin source is
    /// replaced; otherwise that is [`DeployError::AlreadyExists`].
    fn deploy_archive(
        &self,
        zip: &[u8],
        override_existing: bool,
    ) -> Result<DeployOutcome, DeployError>;

    /// What [`Deployments::deploy_archive`] would change, without changing anything.
    fn dry_run_archive(&self, zip: &[u8]) -> Result<Change, DeployError>;

    /// Removes an API deployed through the admin API.
    fn undeploy(
        &self,
        name: &str,
        version: &str,
        vhost: Option<&str>,
    ) -> Result<DeployOutcome, DeployError>;

    /// Every deployed API.
    fn list(&self) -> Vec<DeployedApi>;

    /// What is served now.
    fn snapshot_info(&self) -> SnapshotInfo;

    /// Whether the first snapshot is served by every core.
    fn ready(&self) -> bool;

    /// Applications, subscriptions and revocations, when this implementation manages them
    /// (the admin API answers 501 otherwise).
    fn security(&self) -> Option<&dyn super::SecurityAdmin> {
        None
    }
}
