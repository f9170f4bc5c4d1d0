//! The immutable table every core serves: APIs, routes, upstream clusters and the reloadable settings.
//!
//! Data flow: the adapter (control thread) compiles API definitions and `gateway.toml` into one
//! [`Snapshot`] off the hot path; [`crate::publish`] hands it to every core, which keeps its own
//! cached copy and swaps it between requests. Nothing in here is mutated after construction; per-core
//! mutable state (pools, round-robin cursors, later rate-limit buckets) lives in the worker and is
//! keyed by the stable ids defined here, so it carries over from one snapshot to the next.
//!
//! This module holds data only: it does no I/O and knows nothing about sockets or runtimes.

use std::net::SocketAddr;
use std::sync::Arc;

use turnpike_policy::auth::Security;
use turnpike_policy::BuiltinPolicy;

use crate::config::Settings;
use crate::router::Router;
use crate::tls::client::{EndpointTls, TlsClientId};

/// Stable identity of an API across snapshots (derived from name + version + vhost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiId(pub u64);

/// Stable identity of an upstream cluster across snapshots (derived from its endpoints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterId(pub u64);

/// Index of an API in [`Snapshot::apis`] (valid only within one snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApiIndex(pub u32);

/// Index of a route in [`Snapshot::routes`] (valid only within one snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteIndex(pub u32);

/// Index of a cluster in [`Snapshot::clusters`] (valid only within one snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClusterIndex(pub u32);

/// One deployed API: a base path (context + version) on an optional virtual host.
#[derive(Debug, Clone)]
pub struct Api {
    pub id: ApiId,
    pub name: String,
    pub version: String,
    /// Base path the API is served under, e.g. `/petstore/v1` (no trailing slash; `""` never).
    pub base_path: String,
    /// Virtual host the API is bound to (lower case, no port); `None` matches any host.
    pub vhost: Option<String>,
}

/// One resource + method set of an API, and where its traffic goes.
#[derive(Debug, Clone)]
pub struct Route {
    pub api: ApiIndex,
    /// Resource path template as written in the definition, e.g. `/pets/{petId}`.
    pub template: String,
    /// Upper-case methods this route serves, e.g. `["GET", "POST"]`.
    pub methods: Vec<String>,
    /// Cluster for production traffic.
    pub production: ClusterIndex,
    /// Cluster for sandbox traffic (chosen by key type once security lands).
    pub sandbox: Option<ClusterIndex>,
    /// Policies applied to this route, in order.
    pub policies: Vec<BuiltinPolicy>,
    /// What serves the route once its policies let the request through.
    pub action: RouteAction,
}

/// What serves a route.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RouteAction {
    /// Proxy to the production (or sandbox) cluster.
    #[default]
    Proxy,
    /// The API is blocked (WSO2 `lifeCycleStatus: BLOCKED`): 503 with code 700700.
    Blocked,
    /// Answer from the definition's examples without a backend (WSO2 prototyped / mocked APIs).
    Mock(MockResponses),
}

/// The example responses of a mocked operation; the first is the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MockResponses {
    pub responses: Vec<MockResponse>,
}

/// One example response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockResponse {
    pub status: u16,
    /// Media type of `body` (e.g. `application/json`); empty for a response without a body.
    pub content_type: String,
    pub body: Vec<u8>,
    /// Extra headers (name in lower case).
    pub headers: Vec<(String, String)>,
}

/// A set of endpoints that traffic is balanced over (round-robin per core).
#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: ClusterId,
    pub endpoints: Vec<Endpoint>,
}

/// One backend address. Resolved at compile time, off the hot path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Resolved socket address.
    pub addr: SocketAddr,
    /// Value for the upstream `Host` header (`host[:port]` as written in the URL).
    pub authority: String,
    /// Path prefix of the endpoint URL with no trailing slash (`""` for `http://host:port`). The request
    /// path after the API base path is appended to it.
    pub base_path: String,
    /// TLS to this endpoint (`https://` URLs); `None`: plain HTTP.
    pub tls: Option<EndpointTls>,
}

/// Everything a core needs to serve requests; immutable once built.
#[derive(Debug)]
pub struct Snapshot {
    /// Version assigned at publication (monotonic, starts at 1).
    pub version: u64,
    pub apis: Vec<Api>,
    pub routes: Vec<Route>,
    pub clusters: Vec<Cluster>,
    pub router: Router,
    pub settings: Settings,
    /// Issuers, credential stores, subscriptions and revocations (shared with the routes'
    /// authentication policies).
    pub security: Arc<Security>,
}

impl Snapshot {
    /// The API at `index`, if valid.
    pub fn api(&self, index: ApiIndex) -> Option<&Api> {
        self.apis.get(index.0 as usize)
    }

    /// The route at `index`, if valid.
    pub fn route(&self, index: RouteIndex) -> Option<&Route> {
        self.routes.get(index.0 as usize)
    }

    /// The cluster at `index`, if valid.
    pub fn cluster(&self, index: ClusterIndex) -> Option<&Cluster> {
        self.clusters.get(index.0 as usize)
    }

    /// Ids of the upstream TLS configurations the clusters use.
    pub fn tls_client_ids(&self) -> impl Iterator<Item = TlsClientId> + '_ {
        self.clusters
            .iter()
            .flat_map(|c| &c.endpoints)
            .filter_map(|e| e.tls.as_ref().and_then(|t| t.client.as_ref()))
            .map(|c| c.id)
    }
}
