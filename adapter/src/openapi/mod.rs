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
//! [`ResourceRoute`] per distinct (production, sandbox) endpoint pair with the methods that share
//! it. Endpoints are inherited operation → path item → API.
//!
//! Not done here: schema validation of requests, security, throttling, CORS, interceptors. Those
//! extensions are recognised and reported as [`Warning`]s ("not enforced yet"), never silently
//! dropped. Cross-API checks (two APIs on one base path) belong to [`crate::compile`].

mod document;
mod endpoints;

use std::fmt;
use std::path::Path;
use std::path::PathBuf;

use turnpike_core::Endpoint;

use crate::error::{LoadError, Warning};

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
}

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

/// Methods of one resource that share the same production and sandbox endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRoute {
    pub methods: Vec<Method>,
    pub production: EndpointSet,
    pub sandbox: Option<EndpointSet>,
}

/// A list of backends and how traffic is spread over them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointSet {
    pub balance: Balance,
    /// Resolved endpoints, in definition order (never empty).
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

impl fmt::Display for EndpointSet {
    /// `http://127.0.0.1:8081/v2, http://...` (plus the balance type when not `http`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// Parses one definition file's text. `.json` files are read as JSON, anything else as YAML.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, LoadError> {
    let is_json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let root: serde_json::Value = if is_json {
        serde_json::from_str(text).map_err(|err| LoadError::Syntax {
            file: file.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        })?
    } else {
        serde_yaml_ng::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
            LoadError::Syntax { file: file.to_path_buf(), line, column, message: err.to_string() }
        })?
    };
    document::parse_document(file, &root)
}

/// Reads and parses one definition file.
pub fn parse_file(file: &Path) -> Result<Parsed, LoadError> {
    let text = std::fs::read_to_string(file)
        .map_err(|source| LoadError::Read { file: file.to_path_buf(), source })?;
    parse(file, &text)
}
