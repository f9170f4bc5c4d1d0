//! The deploy manager: the one owner of what is deployed, implementing [`Deployments`].
//!
//! Where it sits: on the control plane, between the two sources of APIs (the watched directory,
//! and projects deployed through the admin API, persisted as
//! `<state_dir>/apis/<name>-<version>[-<vhost>].zip`) and the data plane's
//! [`Publisher`] (`GatewayHandle::publish`). Every change — a deploy, an undeploy, a directory
//! reload, new settings — recompiles the *whole* set of APIs into one snapshot and either
//! publishes it and waits until every core acknowledged it, or rejects the change and leaves
//! the old snapshot serving. Nothing here runs on the request path; one `Mutex` serialises
//! changes (the admin threads and the watcher call in concurrently).
//!
//! Security inputs change here too: JWKS refreshes ([`Manager::set_issuer_keys`]), reloads of
//! `[security]` (in [`super::security_reload`]) and, through
//! [`super::security_admin`], the admin API's applications, subscriptions and revocations, whose
//! persisted state ([`AdminSecurity`], `<state_dir>/security/`) is loaded by [`Manager::open`]
//! over the subscriptions file.
//!
//! Not done here: reading archives and projects ([`super::source`]), HTTP (`admin`), watching
//! files ([`super::watch`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use turnpike_core::{GatewayHandle, Settings, Snapshot};

use super::api::{
    ApiSource, Change, DeployError, DeployOutcome, DeployedApi, Deployments, SnapshotInfo,
};
use super::source;
use crate::compile::compile_with_tls;
use crate::error::{CompileError, LoadError, Warning};
use crate::openapi::ApiDefinition;
use crate::security::{AdminSecurity, SecurityInputs};
use turnpike_core::router::RouterError;

/// How long a change waits for every core to serve the new snapshot.
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Where compiled snapshots go: the running data plane (or a fake in tests).
pub trait Publisher: Send {
    /// Publishes `snapshot`; returns the version it was given.
    fn publish(&self, snapshot: Snapshot) -> u64;
    /// Waits until every core serves `version` or newer.
    fn wait_acknowledged(&self, version: u64, limit: Duration) -> bool;
    /// The snapshot version each core serves, in worker order.
    fn acknowledged(&self) -> Vec<u64>;
}

impl Publisher for GatewayHandle {
    fn publish(&self, snapshot: Snapshot) -> u64 {
        GatewayHandle::publish(self, snapshot)
    }

    fn wait_acknowledged(&self, version: u64, limit: Duration) -> bool {
        GatewayHandle::wait_acknowledged(self, version, limit)
    }

    fn acknowledged(&self) -> Vec<u64> {
        self.counters().iter().map(|c| c.snapshot_version).collect()
    }
}

/// Identity of an API: name, version and virtual host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKey {
    pub name: String,
    pub version: String,
    pub vhost: Option<String>,
}

impl ApiKey {
    pub fn of(def: &ApiDefinition) -> ApiKey {
        ApiKey { name: def.name.clone(), version: def.version.clone(), vhost: def.vhost.clone() }
    }

    /// File name of the persisted archive: `<name>-<version>[-<vhost>].zip`, with every
    /// character outside `[A-Za-z0-9._-]` replaced by `_`.
    pub fn archive_name(&self) -> String {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
                .collect()
        };
        let mut name = format!("{}-{}", clean(&self.name), clean(&self.version));
        if let Some(h) = &self.vhost {
            name.push('-');
            name.push_str(&clean(h));
        }
        name.push_str(".zip");
        name
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.vhost {
            Some(h) => write!(f, "{}:{}@{h}", self.name, self.version),
            None => write!(f, "{}:{}", self.name, self.version),
        }
    }
}

/// Where the manager keeps its state and how it publishes.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// The watched API directory.
    pub apis_dir: PathBuf,
    /// Admin-deployed projects are persisted under `<state_dir>/apis/`.
    pub state_dir: PathBuf,
    pub settings: Settings,
    pub ack_timeout: Duration,
    /// `[security]` and what changes at run time (JWKS, subscriptions, revocations).
    pub security: SecurityInputs,
    /// `[upstream_tls]`: trust and identity for `https://` backends.
    pub upstream_tls: crate::upstream_tls::UpstreamTls,
}

/// Why the manager could not build the first snapshot (the gateway does not start).
#[derive(Debug)]
pub enum OpenError {
    /// A definition of the API directory is broken.
    Load(LoadError),
    /// The state directory could not be read or created.
    State { dir: PathBuf, source: std::io::Error },
    /// The directory and the persisted projects do not compile together.
    Deploy(DeployError),
    /// The persisted applications, subscriptions or revocations are unusable.
    Security(String),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Load(err) => err.fmt(f),
            Self::State { dir, source } => {
                write!(f, "{}: cannot use the state directory: {source}", dir.display())
            }
            Self::Deploy(err) => err.fmt(f),
            Self::Security(why) => write!(f, "admin security state: {why}"),
        }
    }
}

impl std::error::Error for OpenError {}

/// What a reload (directory or settings) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// Nothing differed; nothing was published.
    Unchanged,
    /// Published and acknowledged by every core.
    Published { version: u64, warnings: Vec<Warning> },
}

/// A project deployed through the admin API.
#[derive(Debug, Clone)]
struct AdminProject {
    definitions: Vec<ApiDefinition>,
}

/// What is served now, described for listing and diffs.
#[derive(Debug, Clone, Default)]
struct Served {
    version: u64,
    apis: Vec<DeployedApi>,
    /// Per API (`name:version@vhost`): its base path and routes with endpoints.
    signatures: BTreeMap<String, String>,
    routes: BTreeSet<String>,
}

pub(super) struct State<P> {
    pub(super) options: ManagerOptions,
    directory: Vec<ApiDefinition>,
    admin: BTreeMap<ApiKey, AdminProject>,
    served: Served,
    pub(super) publisher: Option<P>,
    /// The subscriptions-file seed, the admin overlay on it, and the revocations.
    pub(super) security: AdminSecurity,
}

/// The deploy manager (see the module docs).
pub struct Manager<P: Publisher = GatewayHandle> {
    state: Mutex<State<P>>,
}

impl<P: Publisher> fmt::Debug for Manager<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl<P: Publisher> Manager<P> {
    /// Loads the API directory and the persisted projects and compiles them: the manager and
    /// the first snapshot (to hand to `turnpike_core::start`), with the warnings noticed.
    pub fn open(options: ManagerOptions) -> Result<(Self, Snapshot, Vec<Warning>), OpenError> {
        let loaded = crate::load::load_dir(&options.apis_dir).map_err(OpenError::Load)?;
        let mut warnings = loaded.warnings;
        let apis = options.state_dir.join("apis");
        std::fs::create_dir_all(&apis)
            .map_err(|source| OpenError::State { dir: apis.clone(), source })?;
        let mut admin = BTreeMap::new();
        for (path, bytes) in persisted(&apis)? {
            let label = path.display().to_string();
            match source::load_archive(&label, &bytes) {
                Ok(project) => {
                    warnings.extend(project.warnings);
                    let key = ApiKey::of(&project.definitions[0]);
                    admin.insert(key, AdminProject { definitions: project.definitions });
                }
                Err(err) => {
                    tracing::error!(file = %label, "persisted project skipped: {err}");
                }
            }
        }
        let mut options = options;
        let security = AdminSecurity::open(
            &options.state_dir,
            std::mem::take(&mut options.security.applications),
            std::mem::take(&mut options.security.subscriptions),
            super::security_admin::unix_now(),
        )
        .map_err(OpenError::Security)?;
        let applied = security.apply(&security.overlay).map_err(OpenError::Security)?;
        for orphan in &applied.orphans {
            tracing::warn!(subscription = %orphan, "subscription of a deleted application dropped");
        }
        options.security.applications = applied.applications;
        options.security.subscriptions = applied.subscriptions;
        options.security.revocations = std::sync::Arc::new(security.revoked.to_table());
        let state = State {
            options,
            directory: loaded.definitions,
            admin,
            served: Served::default(),
            publisher: None,
            security,
        };
        let snapshot = state.compile(&state.directory, &state.admin).map_err(OpenError::Deploy)?;
        let mut served = state.describe(&snapshot);
        served.version = 1;
        let state = State { served, ..state };
        Ok((Manager { state: Mutex::new(state) }, snapshot, warnings))
    }

    /// Hands the manager the running data plane, serving the first snapshot as version 1.
    pub fn attach(&self, publisher: P) {
        self.lock().publisher = Some(publisher);
    }

    /// Takes the data plane back (to shut it down); later changes fail with `Internal`.
    pub fn detach(&self) -> Option<P> {
        self.lock().publisher.take()
    }

    /// Reloads the watched directory. A broken definition or a conflict is an error and the old
    /// snapshot keeps serving.
    pub fn reload_directory(&self) -> Result<Reloaded, DeployError> {
        let mut state = self.lock();
        let loaded = crate::load::load_dir(&state.options.apis_dir).map_err(|e| {
            let mut err = source::invalid(&e);
            if let DeployError::Invalid { file, .. } = &mut err {
                if file.is_empty() {
                    *file = state.options.apis_dir.display().to_string();
                }
            }
            err
        })?;
        if loaded.definitions == state.directory {
            return Ok(Reloaded::Unchanged);
        }
        let snapshot = state.compile(&loaded.definitions, &state.admin)?;
        let version = state.publish(snapshot)?;
        state.directory = loaded.definitions;
        Ok(Reloaded::Published { version, warnings: loaded.warnings })
    }

    /// Replaces the reloadable settings and republishes.
    pub fn set_settings(&self, settings: Settings) -> Result<Reloaded, DeployError> {
        let mut state = self.lock();
        if format!("{settings:?}") == format!("{:?}", state.options.settings) {
            return Ok(Reloaded::Unchanged);
        }
        let old = std::mem::replace(&mut state.options.settings, settings);
        let result = state
            .compile(&state.directory, &state.admin)
            .and_then(|snapshot| state.publish(snapshot));
        match result {
            Ok(version) => Ok(Reloaded::Published { version, warnings: Vec::new() }),
            Err(err) => {
                state.options.settings = old;
                Err(err)
            }
        }
    }

    /// Serves `keys` fetched from `source` (a JWKS refresh): recompiles and republishes, and
    /// cores drop their cached verifications. Keys of a source the configuration no longer has
    /// (the issuer was removed, or its URL changed by a reload while the fetch ran) are dropped,
    /// and keys equal to those held change nothing: `Unchanged`. Before the gateway runs, the keys
    /// are only stored.
    pub fn set_issuer_keys(
        &self,
        source: &crate::security::JwksSource,
        keys: std::sync::Arc<turnpike_policy::jose::KeySet>,
    ) -> Result<Reloaded, DeployError> {
        let mut state = self.lock();
        let security = &mut state.options.security;
        let configured = security.config.issuers.iter().any(|i| {
            i.name == source.name
                && i.jwks_url
                    .as_deref()
                    .is_some_and(|u| crate::security::Url::parse(u).is_ok_and(|u| u == source.url))
        });
        if !configured {
            tracing::debug!(issuer = %source.name, url = %source.url, "keys of a source no longer configured dropped");
            return Ok(Reloaded::Unchanged);
        }
        // The refresher's first fetch after start repeats the initial one: the same keys change
        // nothing (no republish, no cache flush on the cores).
        let same = |held: &std::sync::Arc<turnpike_policy::jose::KeySet>| {
            format!("{held:?}") == format!("{keys:?}")
        };
        if security.fetched.get(&source.name).is_some_and(same) {
            return Ok(Reloaded::Unchanged);
        }
        security.fetched.insert(source.name.clone(), keys);
        security.epoch += 1;
        if state.publisher.is_none() {
            return Ok(Reloaded::Unchanged);
        }
        let snapshot = state.compile(&state.directory, &state.admin)?;
        let version = state.publish(snapshot)?;
        Ok(Reloaded::Published { version, warnings: Vec::new() })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<P>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<P: Publisher> State<P> {
    /// Compiles what is deployed with the current settings and security inputs.
    pub(super) fn compile_current(&self) -> Result<Snapshot, DeployError> {
        self.compile(&self.directory, &self.admin)
    }

    /// Compiles `directory` + `admin` with the current settings; nothing is changed.
    fn compile(
        &self,
        directory: &[ApiDefinition],
        admin: &BTreeMap<ApiKey, AdminProject>,
    ) -> Result<Snapshot, DeployError> {
        // Between the sources, name + version + vhost identify an API (the directory alone has
        // always allowed two files with one title at different base paths).
        let from_dir: HashMap<ApiKey, &Path> =
            directory.iter().map(|d| (ApiKey::of(d), d.file.as_path())).collect();
        for def in admin.values().flat_map(|p| &p.definitions) {
            if let Some(first) = from_dir.get(&ApiKey::of(def)) {
                return Err(DeployError::Conflict(format!(
                    "{} and {} both define API {}",
                    first.display(),
                    def.file.display(),
                    ApiKey::of(def)
                )));
            }
        }
        let mut defs: Vec<ApiDefinition> = directory.to_vec();
        defs.extend(admin.values().flat_map(|p| p.definitions.iter().cloned()));
        compile_with_tls(
            &defs,
            self.options.settings.clone(),
            &self.options.security,
            &self.options.upstream_tls,
        )
        .map_err(compile_error)
    }

    /// Publishes, waits for every core, and records what is served.
    pub(super) fn publish(&mut self, snapshot: Snapshot) -> Result<u64, DeployError> {
        let version = self.publish_unacknowledged(snapshot)?;
        if !self.acknowledged(version) {
            return Err(DeployError::Internal(format!(
                "snapshot {version} published but not acknowledged by every core within {:?}",
                self.options.ack_timeout
            )));
        }
        Ok(version)
    }

    /// Publishes and records what is served, without waiting.
    pub(super) fn publish_unacknowledged(
        &mut self,
        snapshot: Snapshot,
    ) -> Result<u64, DeployError> {
        let mut served = self.describe(&snapshot);
        let Some(publisher) = &self.publisher else {
            return Err(DeployError::Internal("the gateway is not running".to_owned()));
        };
        let version = publisher.publish(snapshot);
        served.version = version;
        self.served = served;
        Ok(version)
    }

    /// Waits (up to the ack timeout) until every core serves `version` or newer.
    pub(super) fn acknowledged(&self, version: u64) -> bool {
        self.publisher
            .as_ref()
            .is_some_and(|p| p.wait_acknowledged(version, self.options.ack_timeout))
    }

    /// The snapshot version served now.
    pub(super) fn served_version(&self) -> u64 {
        self.served.version
    }

    fn source_of(&self, key: &ApiKey) -> (ApiSource, String) {
        if let Some(p) = self.admin.get(key) {
            let def = p.definitions.iter().find(|d| &ApiKey::of(d) == key);
            return (ApiSource::Admin, def.map_or_else(String::new, source::lifecycle_of));
        }
        let def = self.directory.iter().find(|d| &ApiKey::of(d) == key);
        (ApiSource::Directory, def.map_or_else(String::new, source::lifecycle_of))
    }

    fn describe(&self, snapshot: &Snapshot) -> Served {
        let mut served = Served { version: snapshot.version, ..Served::default() };
        for (i, api) in snapshot.apis.iter().enumerate() {
            let key = ApiKey {
                name: api.name.clone(),
                version: api.version.clone(),
                vhost: api.vhost.clone(),
            };
            let (source, lifecycle) = self.source_of(&key);
            served.apis.push(DeployedApi {
                name: api.name.clone(),
                version: api.version.clone(),
                vhost: api.vhost.clone(),
                context: api.base_path.clone(),
                source,
                lifecycle,
            });
            let mut signature = api.base_path.clone();
            for route in snapshot.routes.iter().filter(|r| r.api.0 as usize == i) {
                let clusters = |c| {
                    snapshot.cluster(c).map_or(String::new(), |c| {
                        c.endpoints
                            .iter()
                            .map(|e| format!("{}{} ", e.authority, e.base_path))
                            .collect()
                    })
                };
                signature.push_str(&format!(
                    "|{} {} -> {} / {} {:?}",
                    route.methods.join(","),
                    route.template,
                    clusters(route.production),
                    route.sandbox.map_or(String::new(), clusters),
                    route.action,
                ));
                for method in &route.methods {
                    served.routes.insert(route_name(
                        method,
                        &api.base_path,
                        &route.template,
                        &api.vhost,
                    ));
                }
            }
            served.signatures.insert(key.to_string(), signature);
        }
        served
    }
}

/// `METHOD /base/template[@vhost]`.
fn route_name(method: &str, base: &str, template: &str, vhost: &Option<String>) -> String {
    let base = if base == "/" { "" } else { base };
    match vhost {
        Some(h) => format!("{method} {base}{template}@{h}"),
        None => format!("{method} {base}{template}"),
    }
}

fn compile_error(err: CompileError) -> DeployError {
    match &err {
        CompileError::Conflict { .. } => DeployError::Conflict(err.to_string()),
        CompileError::Security(reason) => DeployError::Invalid {
            file: "gateway.toml".to_owned(),
            pointer: "/security".to_owned(),
            reason: reason.clone(),
        },
        CompileError::Route { file, source } => match source {
            RouterError::DuplicateRoute { .. } | RouterError::AmbiguousTemplates { .. } => {
                DeployError::Conflict(err.to_string())
            }
            _ => DeployError::Invalid {
                file: file.display().to_string(),
                pointer: String::new(),
                reason: source.to_string(),
            },
        },
        CompileError::UpstreamTls { file, endpoint, reason } => DeployError::Invalid {
            file: file.display().to_string(),
            pointer: String::new(),
            reason: format!("endpoint {endpoint}: {reason}"),
        },
    }
}

/// The persisted archives of `dir`, by file name.
fn persisted(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, OpenError> {
    let err = |source| OpenError::State { dir: dir.to_path_buf(), source };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || !name.ends_with(".zip") || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(err)?;
        out.push((path, bytes));
    }
    out.sort();
    Ok(out)
}

/// Writes `bytes` to `path` atomically (temporary file + rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("zip.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

impl<P: Publisher> Manager<P> {
    /// Loads an archive and checks it against what is deployed: the new admin set and warnings.
    fn candidate(
        state: &State<P>,
        zip: &[u8],
        override_existing: bool,
    ) -> Result<(ApiKey, AdminProject, Vec<Warning>), DeployError> {
        let project = source::load_archive("upload.zip", zip)?;
        let key = ApiKey::of(&project.definitions[0]);
        if state.admin.contains_key(&key) && !override_existing {
            return Err(DeployError::AlreadyExists {
                name: key.name,
                version: key.version,
                vhost: key.vhost,
            });
        }
        if let Some(def) = state.directory.iter().find(|d| ApiKey::of(d) == key) {
            return Err(DeployError::Conflict(format!(
                "API {key} is already deployed from the API directory ({})",
                def.file.display()
            )));
        }
        let warnings = project.warnings;
        let project = AdminProject { definitions: project.definitions };
        Ok((key, project, warnings))
    }

    fn deployed(&self, state: &State<P>, key: &ApiKey) -> Vec<DeployedApi> {
        let _ = self;
        state
            .served
            .apis
            .iter()
            .filter(|a| a.name == key.name && a.version == key.version && a.vhost == key.vhost)
            .cloned()
            .collect()
    }
}

impl<P: Publisher> Deployments for Manager<P> {
    fn deploy_archive(
        &self,
        zip: &[u8],
        override_existing: bool,
    ) -> Result<DeployOutcome, DeployError> {
        let mut state = self.lock();
        if state.publisher.is_none() {
            return Err(DeployError::Internal("the gateway is not running".to_owned()));
        }
        let (key, project, warnings) = Self::candidate(&state, zip, override_existing)?;
        let mut admin = state.admin.clone();
        admin.insert(key.clone(), project);
        let snapshot = state.compile(&state.directory, &admin)?;
        let file = state.options.state_dir.join("apis").join(key.archive_name());
        write_atomic(&file, zip).map_err(|e| {
            DeployError::Internal(format!("cannot persist {}: {e}", file.display()))
        })?;
        state.admin = admin;
        let version = state.publish(snapshot)?;
        tracing::info!(api = %key, version, "deployed through the admin API");
        Ok(DeployOutcome { snapshot_version: version, apis: self.deployed(&state, &key), warnings })
    }

    fn dry_run_archive(&self, zip: &[u8]) -> Result<Change, DeployError> {
        let state = self.lock();
        let (key, project, warnings) = Self::candidate(&state, zip, true)?;
        let mut admin = state.admin.clone();
        admin.insert(key, project);
        let snapshot = state.compile(&state.directory, &admin)?;
        let new = state.describe(&snapshot);
        let old = &state.served;
        let mut change = Change { warnings, ..Change::default() };
        for (api, sig) in &new.signatures {
            match old.signatures.get(api) {
                None => change.added_apis.push(api.clone()),
                Some(before) if before != sig => change.changed_apis.push(api.clone()),
                Some(_) => {}
            }
        }
        change.removed_apis =
            old.signatures.keys().filter(|k| !new.signatures.contains_key(*k)).cloned().collect();
        change.added_routes = new.routes.difference(&old.routes).cloned().collect();
        change.removed_routes = old.routes.difference(&new.routes).cloned().collect();
        Ok(change)
    }

    fn undeploy(
        &self,
        name: &str,
        version: &str,
        vhost: Option<&str>,
    ) -> Result<DeployOutcome, DeployError> {
        let mut state = self.lock();
        if state.publisher.is_none() {
            return Err(DeployError::Internal("the gateway is not running".to_owned()));
        }
        let key = ApiKey {
            name: name.to_owned(),
            version: version.to_owned(),
            vhost: vhost.map(|h| h.to_ascii_lowercase()),
        };
        if !state.admin.contains_key(&key) {
            if let Some(def) = state.directory.iter().find(|d| ApiKey::of(d) == key) {
                return Err(DeployError::Conflict(format!(
                    "API {key} comes from the API directory; remove {} instead",
                    def.file.display()
                )));
            }
            return Err(DeployError::NotFound {
                name: key.name,
                version: key.version,
                vhost: key.vhost,
            });
        }
        let removed = self.deployed(&state, &key);
        let mut admin = state.admin.clone();
        admin.remove(&key);
        let snapshot = state.compile(&state.directory, &admin)?;
        let file = state.options.state_dir.join("apis").join(key.archive_name());
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(DeployError::Internal(format!("cannot remove {}: {e}", file.display())))
            }
        }
        state.admin = admin;
        let version = state.publish(snapshot)?;
        tracing::info!(api = %key, version, "undeployed through the admin API");
        Ok(DeployOutcome { snapshot_version: version, apis: removed, warnings: Vec::new() })
    }

    fn list(&self) -> Vec<DeployedApi> {
        self.lock().served.apis.clone()
    }

    fn snapshot_info(&self) -> SnapshotInfo {
        let state = self.lock();
        SnapshotInfo {
            version: state.served.version,
            apis: state.served.apis.clone(),
            routes: state.served.routes.iter().cloned().collect(),
            acknowledged: state.publisher.as_ref().map_or_else(Vec::new, P::acknowledged),
        }
    }

    fn ready(&self) -> bool {
        let state = self.lock();
        state.publisher.as_ref().is_some_and(|p| {
            let acks = p.acknowledged();
            !acks.is_empty() && acks.iter().all(|v| *v >= 1)
        })
    }

    fn security(&self) -> Option<&dyn super::SecurityAdmin> {
        Some(self)
    }
}
