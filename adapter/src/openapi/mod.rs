//! API definitions: an OpenAPI 3.0/3.1 or Swagger 2.0 document with WSO2 API Microgateway 3.x
//! extensions (`x-wso2-basePath`, `x-wso2-production-endpoints`, ...), parsed into a validated
//! [`ApiDefinition`].
//!
//! Where it sits: [`crate::load`] reads each file and calls [`parse`]; [`crate::compile`] turns the
//! definitions into a `turnpike_core::Snapshot`. The text is first read as YAML or JSON into a
//! `serde_json::Value` (syntax errors carry line and column), then walked by `document` with a
//! JSON pointer, so every rejection is a [`LoadError::InvalidDefinition`] naming the exact key.
//! Backend URLs are parsed and resolved here, on the control thread (`endpoints`).
//!
//! What a definition becomes: one [`Resource`] per entry of `paths`, holding one
//! [`ResourceRoute`] per distinct (production, sandbox, policies, mock examples) combination with
//! the methods that share it. Endpoints are inherited operation → path item → API.
//!
//! The same walk serves apictl projects ([`crate::project`]): [`parse_with_overlay`] lays what
//! `api.yaml` says ([`Overlay`]: name, version, base path, API-level endpoints, mocking, operation
//! policies) over the document, api.yaml winning where both speak; resource-level `x-wso2-*`
//! endpoints still override the API's. For mocked APIs each operation's examples become its
//! route's mock responses (`examples`) and endpoints are optional.
//!
//! Not done here: schema validation of requests, security, throttling, CORS, interceptors. Those
//! extensions are recognised and reported as [`Warning`]s ("not enforced yet"), never silently
//! dropped. Cross-API checks (two APIs on one base path) belong to [`crate::compile`].

mod document;
mod endpoints;
mod examples;
mod security;

use std::fmt;
use std::path::Path;
use std::path::PathBuf;

use turnpike_core::{Endpoint, MockResponses};
use turnpike_policy::BuiltinPolicy;

use crate::error::{LoadError, Warning};

pub use security::{ApiYamlSecurity, DeclaredSecurity};

pub(crate) use endpoints::parse_url;

/// A validated API definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiDefinition {
    /// The file it was read from (named in every later error).
    pub file: PathBuf,
    /// `info.title`.
    pub name: String,
    /// `info.version`.
    pub version: String,
    /// Base path, e.g. `/petstore/v1` (no trailing slash), or `/`.
    pub base_path: String,
    /// Virtual host (`x-wso2-vhost`, lower case, no port); `None` serves any host.
    pub vhost: Option<String>,
    /// One entry per path of the document, sorted by path (serde_json maps are ordered by key).
    pub resources: Vec<Resource>,
    /// WSO2 lifecycle state (`lifeCycleStatus` of an apictl project), upper case; `PUBLISHED` for
    /// a bare OpenAPI file. `BLOCKED` makes every route answer 503 / 700700.
    pub lifecycle: String,
    /// `isDefaultVersion`: the API is also served at [`Self::default_base_path`].
    pub default_version: bool,
    /// The base path without the version (the context), served too when `default_version`.
    pub default_base_path: Option<String>,
    /// Certificates the project trusts for its `https://` endpoints (`Endpoint-certificates/`);
    /// empty: the system trust store.
    pub endpoint_certs: crate::upstream_tls::EndpointCerts,
    /// The client certificates the API trusts for mutual TLS (an apictl project's
    /// `Client-certificates/`; empty otherwise).
    pub client_certificates: std::sync::Arc<turnpike_policy::auth::ClientCertificates>,
}

/// The lifecycle state every bare OpenAPI definition is in.
pub const PUBLISHED: &str = "PUBLISHED";
/// The lifecycle state whose routes are blocked (503, code 700700).
pub const BLOCKED: &str = "BLOCKED";

/// One path of the document and where each of its methods goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Path template as written, e.g. `/pets/{petId}`.
    pub template: String,
    /// JSON pointer of the path item, e.g. `/paths/~1pets~1{petId}`.
    pub pointer: String,
    /// Methods grouped by effective endpoints, in order of first appearance.
    pub routes: Vec<ResourceRoute>,
}

/// Methods of one resource that share the same endpoints, policies and mock examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRoute {
    pub methods: Vec<Method>,
    /// Production endpoints; empty (no backend) only when `mock` is set.
    pub production: EndpointSet,
    pub sandbox: Option<EndpointSet>,
    /// Operation policies (apictl `operationPolicies`), in order.
    pub policies: Vec<BuiltinPolicy>,
    /// Examples to answer with instead of a backend (prototyped / mocked APIs).
    pub mock: Option<MockResponses>,
    /// Security as declared (compiled against `[security]` by `compile`).
    pub security: DeclaredSecurity,
}

/// A list of backends and how traffic is spread over them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointSet {
    pub balance: Balance,
    /// Resolved endpoints, in definition order (never empty, except for a mocked route's
    /// [`EndpointSet::none`]).
    pub endpoints: Vec<Endpoint>,
}

/// How an [`EndpointSet`] spreads traffic (`type` in the WSO2 endpoint definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Balance {
    /// `http`: a single endpoint (or, with several URLs, round-robin like `load_balance`).
    Single,
    /// `load_balance`: round-robin.
    LoadBalance,
    /// `failover`: accepted, served as round-robin for now (warned at load).
    Failover,
}

/// An HTTP method an operation can be defined for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl Method {
    /// All methods, in the order OpenAPI lists them in a path item.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// The path-item key (`get`, `post`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
            Method::Trace => "trace",
        }
    }

    /// The request method token (`GET`, `POST`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// The method for a path-item key, if it is one.
    pub fn from_key(key: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.key() == key)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EndpointSet {
    /// No backend: what a mocked route without endpoints carries.
    pub fn none() -> Self {
        Self { balance: Balance::Single, endpoints: Vec::new() }
    }
}

impl fmt::Display for EndpointSet {
    /// `http://127.0.0.1:8081/v2, http://...` (plus the balance type when not `http`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.endpoints.is_empty() {
            return f.write_str("(no backend)");
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "http://{}{}", e.authority, e.base_path)?;
        }
        match self.balance {
            Balance::Single => Ok(()),
            Balance::LoadBalance => f.write_str(" (load_balance)"),
            Balance::Failover => f.write_str(" (failover, served as load_balance)"),
        }
    }
}

/// A definition and what was noticed while reading it.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub definition: ApiDefinition,
    pub warnings: Vec<Warning>,
}

/// What an apictl project's `api.yaml` says about the API, applied over the OpenAPI document
/// (WSO2: `api.yaml` wins where both speak). Built by [`crate::project`].
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    pub name: String,
    pub version: String,
    /// Context with the version (`/petstore/1.0.0`).
    pub base_path: String,
    /// API-level endpoints from `endpointConfig` (resource-level `x-wso2-*` ones still override).
    pub production: Option<EndpointSet>,
    pub sandbox: Option<EndpointSet>,
    /// Answer every operation from its examples (prototyped, `MOCKED_OAS`, `INLINE`).
    pub mocked: bool,
    /// Operation policies by (path template, method).
    pub policies: Vec<(String, Method, Vec<BuiltinPolicy>)>,
    /// `securityScheme`, `authorizationHeader`, `apiKeyHeader`.
    pub security: ApiYamlSecurity,
    /// Per operation (path template, method): `authType: None`, and its `scopes`.
    pub operation_security: Vec<(String, Method, bool, Vec<String>)>,
}

/// Reads YAML or JSON text into a tree (`.json` files as JSON, anything else as YAML).
pub fn read_tree(file: &Path, text: &str) -> Result<serde_json::Value, LoadError> {
    let is_json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(text).map_err(|err| LoadError::Syntax {
            file: file.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        })
    } else {
        serde_yaml_ng::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
            LoadError::Syntax { file: file.to_path_buf(), line, column, message: err.to_string() }
        })
    }
}

/// Parses one definition file's text. `.json` files are read as JSON, anything else as YAML.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, LoadError> {
    let root = read_tree(file, text)?;
    document::parse_document(file, &root, None)
}

/// Parses an apictl project's OpenAPI document with what its `api.yaml` says laid over it.
pub fn parse_with_overlay(
    file: &Path,
    root: &serde_json::Value,
    overlay: &Overlay,
) -> Result<Parsed, LoadError> {
    document::parse_document(file, root, Some(overlay))
}

/// Reads and parses one definition file.
pub fn parse_file(file: &Path) -> Result<Parsed, LoadError> {
    let text = std::fs::read_to_string(file)
        .map_err(|source| LoadError::Read { file: file.to_path_buf(), source })?;
    parse(file, &text)
}
