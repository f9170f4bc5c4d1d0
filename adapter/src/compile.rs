//! Compiling validated [`ApiDefinition`]s and [`Settings`] into one [`Snapshot`] for the core.
//!
//! Where it sits: the last control-thread step before `turnpike_core::start` / `publish`. It lays
//! out the snapshot's tables (`apis`, `routes`, `clusters`), builds the [`Router`] from one
//! [`RouteSpec`] per route, and assigns stable ids: [`ApiId`] from name + version + virtual host,
//! [`ClusterId`] from the endpoint list (FNV-1a 64, fixed, so ids match across runs and
//! processes and per-core state keyed by them survives a reload). Identical endpoint lists are
//! deduplicated into one cluster.
//!
//! Per route: the operation policies of the definition, and the action: `Blocked` for every route
//! of a `BLOCKED` API, `Mock` (the operation's examples) for a mocked one, `Proxy` otherwise. A
//! default-version API (`isDefaultVersion`) gets every route a second time under its unversioned
//! base path (same clusters, policies and action).
//!
//! Rejected here, across definitions: two APIs with the same name + version on the same virtual
//! host, and two APIs on the same base path (versioned or default) and virtual host. Per-API
//! problems were already reported with pointers by [`crate::openapi`] / [`crate::project`]; if the
//! router still refuses a route, the error names the definition file it came from.
//!
//! `https://` endpoints get their TLS client configuration here ([`TlsAttacher`]: the project's
//! endpoint certificates, else the system trust store, and `[upstream_tls]`), before clusters are
//! deduplicated, so two projects trusting different certificates for one URL get two clusters.
//! When a deployed API uses mutual TLS and the HTTPS listener is on, the listener's configuration
//! in the snapshot's settings is rebuilt to ask for client certificates and accept those the APIs
//! trust (`https::client_auth`), so a redeploy changes what new connections accept.
//!
//! Not done here: snapshot versions (the core assigns them at publication; `version` is 0).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::upstream_tls::{EndpointCerts, TlsAttacher, UpstreamTls};
use std::sync::Arc;

use turnpike_policy::auth::ApiRef;
use turnpike_policy::BuiltinPolicy;

use turnpike_core::conn::tls::ServerTls;
use turnpike_core::router::{RouteSpec, Router, RouterError};
use turnpike_core::{
    Api, ApiId, ApiIndex, Cluster, ClusterId, ClusterIndex, Endpoint, Route, RouteAction,
    RouteIndex, Settings, Snapshot,
};

use crate::error::CompileError;
use crate::openapi::{ApiDefinition, Balance, EndpointSet, BLOCKED};
use crate::security::{backend_jwt_policy, route_policy, security_table, SecurityInputs};

/// Builds a snapshot (version 0) from definitions and settings, with the default `[security]`
/// (no issuers: routes that require credentials refuse every request).
pub fn compile(defs: &[ApiDefinition], settings: Settings) -> Result<Snapshot, CompileError> {
    compile_secured(defs, settings, &SecurityInputs::default())
}

/// Builds a snapshot (version 0) from definitions, settings and security inputs.
pub fn compile_secured(
    defs: &[ApiDefinition],
    settings: Settings,
    security: &SecurityInputs,
) -> Result<Snapshot, CompileError> {
    compile_with_tls(defs, settings, security, &UpstreamTls::default())
}

/// Builds a snapshot (version 0) from definitions, settings, security inputs and
/// `[upstream_tls]`.
pub fn compile_with_tls(
    defs: &[ApiDefinition],
    settings: Settings,
    security: &SecurityInputs,
    upstream_tls: &UpstreamTls,
) -> Result<Snapshot, CompileError> {
    check_conflicts(defs)?;
    let mut tls = TlsAttacher::new(upstream_tls);
    let mut apis = Vec::with_capacity(defs.len());
    let mut routes = Vec::new();
    let mut specs = Vec::new();
    let mut clusters = Clusters::default();
    let introspection_cluster = match security.config.introspection.as_ref() {
        Some(i) => {
            let set =
                EndpointSet { balance: Balance::LoadBalance, endpoints: vec![i.endpoint.clone()] };
            let file = Path::new("gateway.toml [security.introspection]");
            Some(clusters.intern(tls.attach(&set, &EndpointCerts::default(), file)?.as_ref()).0)
        }
        None => None,
    };
    let table =
        Arc::new(security_table(security, introspection_cluster).map_err(CompileError::Security)?);
    let default_security = security.config.default;
    for def in defs {
        let api_ref = ApiRef {
            name: def.name.clone(),
            version: def.version.clone(),
            context: def.base_path.clone(),
        };
        let api_index = ApiIndex(index_u32(apis.len()));
        apis.push(Api {
            id: api_id(&def.name, &def.version, def.vhost.as_deref()),
            name: def.name.clone(),
            version: def.version.clone(),
            base_path: def.base_path.clone(),
            vhost: def.vhost.clone(),
        });
        let blocked = def.lifecycle == BLOCKED;
        let base_paths = std::iter::once(&def.base_path).chain(default_base_path(def));
        for base_path in base_paths {
            for resource in &def.resources {
                for route in &resource.routes {
                    let index = RouteIndex(index_u32(routes.len()));
                    let methods: Vec<String> =
                        route.methods.iter().map(|m| m.as_str().to_owned()).collect();
                    let production =
                        tls.attach(&route.production, &def.endpoint_certs, &def.file)?;
                    let sandbox = match &route.sandbox {
                        Some(s) => Some(tls.attach(s, &def.endpoint_certs, &def.file)?),
                        None => None,
                    };
                    let action = match &route.mock {
                        _ if blocked => RouteAction::Blocked,
                        Some(mock) => RouteAction::Mock(mock.clone()),
                        None => RouteAction::Proxy,
                    };
                    routes.push(Route {
                        api: api_index,
                        template: resource.template.clone(),
                        methods: methods.clone(),
                        production: clusters.intern(&production),
                        sandbox: sandbox.as_ref().map(|s| clusters.intern(s)),
                        policies: secured_chain(
                            route_policy(
                                &route.security,
                                default_security,
                                api_ref.clone(),
                                &table,
                                &def.client_certificates,
                            ),
                            &api_ref,
                            &table,
                            action == RouteAction::Proxy,
                        )
                        .chain(route.policies.iter().cloned())
                        .collect(),
                        action,
                    });
                    specs.push(RouteSpec {
                        vhost: def.vhost.clone(),
                        base_path: base_path.clone(),
                        template: resource.template.clone(),
                        methods,
                        route: index,
                    });
                }
            }
        }
    }
    let router = Router::build(specs)
        .map_err(|source| CompileError::Route { file: culprit(defs, &source), source })?;
    let mut settings = settings;
    settings.tls = client_tls(settings.tls.take(), defs)?;
    Ok(Snapshot {
        version: 0,
        apis,
        routes,
        clusters: clusters.list,
        router,
        settings,
        security: table,
    })
}

/// A route's authentication policy, followed by the backend JWT policy when the route has one,
/// the backend JWT is enabled and a backend will receive it (not for mocked or blocked routes).
fn secured_chain(
    authenticate: Option<BuiltinPolicy>,
    api: &ApiRef,
    table: &Arc<turnpike_policy::auth::Security>,
    proxied: bool,
) -> impl Iterator<Item = BuiltinPolicy> {
    let backend_jwt = authenticate
        .as_ref()
        .filter(|_| proxied)
        .and_then(|_| backend_jwt_policy(api.clone(), table));
    authenticate.into_iter().chain(backend_jwt)
}

/// The HTTPS listener's configuration, asking for client certificates when a deployed API
/// trusts some (mutual TLS); `tls` as it is otherwise.
fn client_tls(
    tls: Option<Arc<ServerTls>>,
    defs: &[ApiDefinition],
) -> Result<Option<Arc<ServerTls>>, CompileError> {
    let Some(tls) = tls else { return Ok(None) };
    let mut trusted = defs.iter().flat_map(|d| d.client_certificates.iter()).peekable();
    if trusted.peek().is_none() {
        return Ok(Some(tls));
    }
    let rebuilt = crate::https::client_auth::with_client_certificates(&tls, trusted)
        .map_err(CompileError::Security)?;
    Ok(Some(Arc::new(rebuilt)))
}

/// Stable id of an API: FNV-1a over name, version and virtual host.
pub fn api_id(name: &str, version: &str, vhost: Option<&str>) -> ApiId {
    let mut h = Fnv::new();
    h.field(name.as_bytes());
    h.field(version.as_bytes());
    h.field(vhost.unwrap_or("").as_bytes());
    ApiId(h.finish())
}

/// Stable id of a cluster: FNV-1a over each endpoint's address, authority and base path, and
/// for a TLS endpoint its client id (plain endpoints hash as they always did).
pub fn cluster_id(endpoints: &[Endpoint]) -> ClusterId {
    let mut h = Fnv::new();
    for e in endpoints {
        h.field(e.addr.to_string().as_bytes());
        h.field(e.authority.as_bytes());
        h.field(e.base_path.as_bytes());
        if let Some(tls) = &e.tls {
            h.field(b"https");
            h.field(&tls.client_id().0.to_le_bytes());
        }
    }
    ClusterId(h.finish())
}

/// The unversioned base path a default-version API is also served at (if it differs).
fn default_base_path(def: &ApiDefinition) -> Option<&String> {
    def.default_base_path.as_ref().filter(|p| def.default_version && **p != def.base_path)
}

/// Two APIs may not share a name + version, or a base path, on the same host.
fn check_conflicts(defs: &[ApiDefinition]) -> Result<(), CompileError> {
    let mut paths: HashMap<(&str, Option<&str>), &Path> = HashMap::with_capacity(defs.len());
    let mut names: HashMap<(&str, &str, Option<&str>), &Path> = HashMap::with_capacity(defs.len());
    for def in defs {
        let vhost = def.vhost.as_deref();
        for base_path in std::iter::once(&def.base_path).chain(default_base_path(def)) {
            if let Some(first) = paths.insert((base_path, vhost), &def.file) {
                return Err(CompileError::Conflict {
                    base_path: base_path.clone(),
                    vhost: def.vhost.clone(),
                    first: first.to_path_buf(),
                    second: def.file.clone(),
                });
            }
        }
        if let Some(first) = names.insert((&def.name, &def.version, vhost), &def.file) {
            return Err(CompileError::Conflict {
                base_path: format!(
                    "{} (API {:?} version {:?} is deployed twice)",
                    def.base_path, def.name, def.version
                ),
                vhost: def.vhost.clone(),
                first: first.to_path_buf(),
                second: def.file.clone(),
            });
        }
    }
    Ok(())
}

/// The definition a router error comes from (by base path, else by template).
fn culprit(defs: &[ApiDefinition], err: &RouterError) -> PathBuf {
    let by_base = |base: &str| {
        defs.iter().find(|d| d.base_path == base || default_base_path(d).is_some_and(|p| p == base))
    };
    let found = match err {
        RouterError::DuplicateRoute { base_path, .. }
        | RouterError::AmbiguousTemplates { base_path, .. }
        | RouterError::InvalidBasePath { base_path, .. } => by_base(base_path),
        RouterError::InvalidTemplate { template, .. } => {
            defs.iter().find(|d| d.resources.iter().any(|r| &r.template == template))
        }
    };
    found.map(|d| d.file.clone()).unwrap_or_default()
}

/// Clusters laid out so far, deduplicated by endpoint list.
#[derive(Default)]
struct Clusters {
    list: Vec<Cluster>,
    by_endpoints: HashMap<Vec<Endpoint>, ClusterIndex>,
}

impl Clusters {
    fn intern(&mut self, set: &EndpointSet) -> ClusterIndex {
        if let Some(index) = self.by_endpoints.get(&set.endpoints) {
            return *index;
        }
        let index = ClusterIndex(index_u32(self.list.len()));
        self.list
            .push(Cluster { id: cluster_id(&set.endpoints), endpoints: set.endpoints.clone() });
        self.by_endpoints.insert(set.endpoints.clone(), index);
        index
    }
}

fn index_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// 64-bit FNV-1a with a length-prefixed field encoding (so `("ab","c")` ≠ `("a","bc")`).
struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self(Self::OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_EMPTY_API_ID: u64 = 9_354_609_568_656_401_157;

    #[test]
    fn ids_are_stable_and_field_separated() {
        assert_eq!(api_id("Petstore", "1.0.0", None), api_id("Petstore", "1.0.0", None));
        assert_ne!(api_id("ab", "c", None), api_id("a", "bc", None));
        assert_ne!(api_id("a", "1", None), api_id("a", "1", Some("h")));
        // Pinned: ids must not change between releases (per-core state is keyed by them).
        assert_eq!(api_id("", "", None).0, PINNED_EMPTY_API_ID);
    }
}
