//! The walk over one OpenAPI 3.x / Swagger 2.0 document (already a `serde_json::Value`) that
//! produces an [`ApiDefinition`] and its warnings.
//!
//! Where it sits: [`super::parse`] hands over the parsed tree; this module reads the document
//! root (dialect, `info`, base path, virtual host, API-level endpoints), then every path item and
//! operation, carrying a [`Pointer`] so each error names its key. Endpoint values are delegated to
//! `endpoints`. Finally the API's templates are checked with the core router itself
//! (`Router::build`), so a template the data plane would reject is reported here, at its pointer.
//!
//! Policy on keys: standard OpenAPI/Swagger keys that do not affect routing (schemas, responses,
//! tags, ...) are accepted quietly; anything that would change behaviour but is not enforced yet
//! (security, throttling, CORS, interceptors, transports, ...) and every unknown `x-wso2-*`
//! extension becomes a [`Warning`]; other `x-*` vendor extensions are ignored; other unknown keys
//! are warned about. Nothing here performs I/O other than the endpoint resolution it delegates.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};
use turnpike_core::router::{RouteSpec, Router, RouterError};
use turnpike_core::RouteIndex;

use super::endpoints::{self, CATALOGUE};
use super::security::{self, DeclaredSecurity, RootSecurity};
use super::{
    examples, ApiDefinition, EndpointSet, Method, Overlay, Parsed, Resource, ResourceRoute,
    PUBLISHED,
};
use crate::error::{LoadError, Warning};
use crate::pointer::Pointer;

const PRODUCTION: &str = "x-wso2-production-endpoints";
const SANDBOX: &str = "x-wso2-sandbox-endpoints";
const BASE_PATH: &str = "x-wso2-basePath";
const VHOST: &str = "x-wso2-vhost";

/// State of one document walk: where errors go and what has been noticed.
pub(super) struct Walker<'a> {
    pub(super) file: &'a Path,
    pub(super) root: &'a Value,
    pub(super) warnings: Vec<Warning>,
    /// Parsed `x-wso2-endpoints` entries by pointer, so references resolve to one value.
    pub(super) endpoint_cache: HashMap<String, EndpointSet>,
    /// What an apictl project's `api.yaml` lays over the document, if it comes from one.
    pub(super) overlay: Option<&'a Overlay>,
    pub(super) dialect: Dialect,
    /// Security schemes and the root requirement (read before the paths).
    pub(super) security: RootSecurity,
}

impl Walker<'_> {
    pub(super) fn invalid(&self, pointer: &Pointer, reason: impl Into<String>) -> LoadError {
        LoadError::InvalidDefinition {
            file: self.file.to_path_buf(),
            pointer: pointer.to_string(),
            reason: reason.into(),
        }
    }

    pub(super) fn warn(&mut self, pointer: &Pointer, message: impl Into<String>) {
        self.warnings.push(Warning {
            file: self.file.to_path_buf(),
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    pub(super) fn object<'v>(
        &self,
        value: &'v Value,
        pointer: &Pointer,
    ) -> Result<&'v Map<String, Value>, LoadError> {
        value.as_object().ok_or_else(|| {
            self.invalid(pointer, format!("expected an object, found {}", kind(value)))
        })
    }

    pub(super) fn string<'v>(
        &self,
        value: &'v Value,
        pointer: &Pointer,
    ) -> Result<&'v str, LoadError> {
        value.as_str().ok_or_else(|| {
            self.invalid(pointer, format!("expected a string, found {}", kind(value)))
        })
    }
}

pub(super) use crate::pointer::value_kind as kind;

/// Which specification the document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    OpenApi3,
    Swagger2,
}

/// Endpoints in force at some level (inherited downwards).
#[derive(Debug, Clone, Default)]
struct Effective {
    production: Option<EndpointSet>,
    sandbox: Option<EndpointSet>,
}

/// Walks a whole document.
pub(super) fn parse_document(
    file: &Path,
    root: &Value,
    overlay: Option<&Overlay>,
) -> Result<Parsed, LoadError> {
    let mut w = Walker {
        file,
        root,
        warnings: Vec::new(),
        endpoint_cache: HashMap::new(),
        overlay,
        dialect: Dialect::OpenApi3,
        security: RootSecurity::default(),
    };
    let top_ptr = Pointer::root();
    let top = w.object(root, &top_ptr)?;
    let dialect = dialect(&w, top)?;
    w.dialect = dialect;
    scan_root_keys(&mut w, top, dialect);
    w.security = security::root(&mut w, top)?;
    let (name, version, base_path, base_ptr) = match overlay {
        Some(o) => {
            // api.yaml wins; the document's own base path, if any, is only compared.
            let p = top_ptr.key(BASE_PATH);
            if let Some(doc) = top.get(BASE_PATH).and_then(Value::as_str) {
                if doc.trim() != o.base_path {
                    w.warn(
                        &p,
                        format!("ignored: api.yaml's context gives base path {:?}", o.base_path),
                    );
                }
            }
            (o.name.clone(), o.version.clone(), o.base_path.clone(), p)
        }
        None => {
            let (name, version) = info(&w, top)?;
            let (base_path, base_ptr) = base_path(&mut w, top, dialect)?;
            (name, version, base_path, base_ptr)
        }
    };
    let vhost = vhost(&w, top)?;
    endpoints::catalogue(&mut w)?;
    let mut api = Effective {
        production: endpoints::declared(&mut w, top, &top_ptr, PRODUCTION)?,
        sandbox: endpoints::declared(&mut w, top, &top_ptr, SANDBOX)?,
    };
    if let Some(o) = overlay {
        for (key, from_yaml, from_doc) in [
            (PRODUCTION, &o.production, &mut api.production),
            (SANDBOX, &o.sandbox, &mut api.sandbox),
        ] {
            if let Some(set) = from_yaml {
                if from_doc.is_some() {
                    w.warn(&top_ptr.key(key), "ignored: api.yaml's endpointConfig wins");
                }
                *from_doc = Some(set.clone());
            }
        }
    }
    let resources = paths(&mut w, top, &api)?;
    check_routing(&w, &base_path, &base_ptr, &resources)?;
    let definition = ApiDefinition {
        file: file.to_path_buf(),
        name,
        version,
        base_path,
        vhost,
        resources,
        lifecycle: PUBLISHED.to_owned(),
        default_version: false,
        default_base_path: None,
        endpoint_certs: Default::default(),
        client_certificates: Default::default(),
    };
    Ok(Parsed { definition, warnings: w.warnings })
}

fn dialect(w: &Walker<'_>, top: &Map<String, Value>) -> Result<Dialect, LoadError> {
    match (top.get("openapi"), top.get("swagger")) {
        (Some(_), Some(_)) => Err(w.invalid(
            &Pointer::root().key("swagger"),
            "a document cannot be both openapi and swagger",
        )),
        (Some(v), None) => {
            let p = Pointer::root().key("openapi");
            let text = w.string(v, &p)?;
            if text.starts_with("3.0") || text.starts_with("3.1") {
                Ok(Dialect::OpenApi3)
            } else {
                Err(w.invalid(
                    &p,
                    format!("unsupported OpenAPI version {text:?}; expected 3.0 or 3.1"),
                ))
            }
        }
        (None, Some(v)) => {
            let p = Pointer::root().key("swagger");
            match v {
                Value::String(s) if s == "2.0" => Ok(Dialect::Swagger2),
                Value::Number(n) if n.as_f64() == Some(2.0) => Ok(Dialect::Swagger2),
                _ => Err(w.invalid(&p, "unsupported Swagger version; expected \"2.0\"")),
            }
        }
        (None, None) => Err(w.invalid(
            &Pointer::root().key("openapi"),
            "missing: not an OpenAPI 3.x (`openapi`) or Swagger 2.0 (`swagger`) document",
        )),
    }
}

/// `info.title` and `info.version`.
fn info(w: &Walker<'_>, top: &Map<String, Value>) -> Result<(String, String), LoadError> {
    let p = Pointer::root().key("info");
    let info = top
        .get("info")
        .ok_or_else(|| w.invalid(&p, "missing: the API needs info.title and info.version"))?;
    let info = w.object(info, &p)?;
    let title_ptr = p.key("title");
    let title = match info.get("title") {
        Some(v) => w.string(v, &title_ptr)?.trim().to_owned(),
        None => String::new(),
    };
    if title.is_empty() {
        return Err(w.invalid(&title_ptr, "missing or empty: the API name"));
    }
    let version_ptr = p.key("version");
    let version = match info.get("version") {
        Some(Value::String(s)) => s.trim().to_owned(),
        // YAML reads `version: 1.0` as a number; take it as written.
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(w.invalid(&version_ptr, format!("expected a string, found {}", kind(other))))
        }
        None => String::new(),
    };
    if version.is_empty() {
        return Err(w.invalid(&version_ptr, "missing or empty: the API version"));
    }
    Ok((title, version))
}

/// What a recognised-but-unenforced `x-wso2-*` extension does not do yet.
fn unenforced(key: &str) -> Option<&'static str> {
    Some(match key {
        "x-wso2-throttling-tier" => "rate limiting (throttling tiers) is not enforced yet",
        "x-wso2-cors" => "CORS is not handled yet; preflight requests are routed like any other",
        "x-wso2-request-interceptor" | "x-wso2-response-interceptor" => {
            "interceptors are not supported yet"
        }
        "x-wso2-transports" => {
            "transports are not enforced yet; the API is served on the gateway's HTTP listener"
        }
        "x-wso2-application-security" => "application security is not enforced yet",
        "x-wso2-mutual-ssl" => "mutual TLS is not supported yet",
        "x-wso2-pass-request-payload-to-interceptor" => "interceptors are not supported yet",
        _ => return None,
    })
}

/// Warns about an `x-wso2-*` key that this level does not act on.
fn unhandled_extension(w: &mut Walker<'_>, key: &str, pointer: &Pointer, level: &str) {
    let message = match unenforced(key) {
        Some(reason) => format!("{key}: {reason}"),
        None if [BASE_PATH, VHOST, CATALOGUE, "x-wso2-owner"].contains(&key) => {
            format!("{key} is only read at the document root; ignored on {level}")
        }
        None => format!("unknown WSO2 extension {key}; ignored"),
    };
    w.warn(pointer, message);
}

/// Warns about root keys that are recognised but not enforced, or unknown.
fn scan_root_keys(w: &mut Walker<'_>, top: &Map<String, Value>, dialect: Dialect) {
    const COMMON: &[&str] = &["info", "paths", "tags", "externalDocs", "security"];
    const OPENAPI3: &[&str] =
        &["openapi", "servers", "components", "webhooks", "jsonSchemaDialect"];
    const SWAGGER2: &[&str] = &[
        "swagger",
        "host",
        "basePath",
        "schemes",
        "consumes",
        "produces",
        "definitions",
        "parameters",
        "responses",
        "securityDefinitions",
    ];
    let handled = [
        BASE_PATH,
        VHOST,
        PRODUCTION,
        SANDBOX,
        CATALOGUE,
        "x-wso2-owner",
        "x-wso2-disable-security",
        "x-wso2-auth-header",
    ];
    let root = Pointer::root();
    for (key, _) in top {
        let p = root.key(key);
        if key.starts_with("x-wso2-") {
            if !handled.contains(&key.as_str()) {
                unhandled_extension(w, key, &p, "the document root");
            }
            continue;
        }
        let dialect_keys = if dialect == Dialect::OpenApi3 { OPENAPI3 } else { SWAGGER2 };
        if key.starts_with("x-")
            || COMMON.contains(&key.as_str())
            || dialect_keys.contains(&key.as_str())
        {
            continue;
        }
        w.warn(&p, format!("unknown key {key:?}; ignored"));
    }
}

/// The base path: `x-wso2-basePath`, else `servers[0].url`'s path (OpenAPI 3) or `basePath`
/// (Swagger 2), with a warning. Returns it with the pointer it came from.
fn base_path(
    w: &mut Walker<'_>,
    top: &Map<String, Value>,
    dialect: Dialect,
) -> Result<(String, Pointer), LoadError> {
    let root = Pointer::root();
    let p = root.key(BASE_PATH);
    if let Some(v) = top.get(BASE_PATH) {
        return Ok((w.string(v, &p)?.trim().to_owned(), p));
    }
    let fallback = match dialect {
        Dialect::OpenApi3 => {
            let url_ptr = root.key("servers").index(0).key("url");
            match top.get("servers").and_then(|s| s.get(0)).and_then(|s| s.get("url")) {
                Some(url) => Some((url_path(w.string(url, &url_ptr)?), url_ptr)),
                None => None,
            }
        }
        Dialect::Swagger2 => {
            let bp_ptr = root.key("basePath");
            match top.get("basePath") {
                Some(v) => Some((w.string(v, &bp_ptr)?.to_owned(), bp_ptr)),
                None => None,
            }
        }
    };
    match fallback {
        Some((path, from)) => {
            let path = match path.trim_end_matches('/') {
                "" => "/".to_owned(),
                trimmed => trimmed.to_owned(),
            };
            w.warn(&p, format!("missing; using base path {path:?} from {from}"));
            Ok((path, from))
        }
        None => Err(w.invalid(&p, "missing: the API's base path, e.g. /petstore/v1")),
    }
}

/// The path part of a server URL (`http://host/v1` → `/v1`, `/v1` → `/v1`).
fn url_path(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| rest.get(i..).unwrap_or("/")).to_owned(),
        None => url.to_owned(),
    }
}

fn vhost(w: &Walker<'_>, top: &Map<String, Value>) -> Result<Option<String>, LoadError> {
    let p = Pointer::root().key(VHOST);
    let Some(value) = top.get(VHOST) else {
        return Ok(None);
    };
    let host = w.string(value, &p)?.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err(w.invalid(&p, "must not be empty"));
    }
    if host.contains(':') && !host.starts_with('[') {
        return Err(w.invalid(&p, "must be a host name without a port"));
    }
    if host.contains(|c: char| c == '/' || c.is_whitespace() || c.is_control()) {
        return Err(w.invalid(&p, "must be a host name (no scheme, path or spaces)"));
    }
    Ok(Some(host))
}

/// Every path item of `paths`.
fn paths(
    w: &mut Walker<'_>,
    top: &Map<String, Value>,
    api: &Effective,
) -> Result<Vec<Resource>, LoadError> {
    let p = Pointer::root().key("paths");
    let Some(paths) = top.get("paths") else {
        return Err(w.invalid(&p, "missing: the API needs at least one resource"));
    };
    let paths = w.object(paths, &p)?;
    if paths.is_empty() {
        w.warn(&p, "no resources: this API matches no request");
    }
    let mut resources = Vec::with_capacity(paths.len());
    for (template, item) in paths {
        let item_ptr = p.key(template);
        if !template.starts_with('/') {
            return Err(
                w.invalid(&item_ptr, format!("resource path {template:?} must start with '/'"))
            );
        }
        let item = w.object(item, &item_ptr)?;
        resources.push(path_item(w, template, item, &item_ptr, api)?);
    }
    Ok(resources)
}

/// One path item: its operations, grouped by effective endpoints.
fn path_item(
    w: &mut Walker<'_>,
    template: &str,
    item: &Map<String, Value>,
    p: &Pointer,
    api: &Effective,
) -> Result<Resource, LoadError> {
    for key in item.keys() {
        let key_ptr = p.key(key);
        match key.as_str() {
            PRODUCTION | SANDBOX => {}
            "$ref" => {
                return Err(w.invalid(&key_ptr, "path item references ($ref) are not supported"))
            }
            "parameters" | "summary" | "description" | "servers" => {}
            k if Method::from_key(k).is_some() => {}
            k if k.starts_with("x-wso2-") => unhandled_extension(w, k, &key_ptr, "a path item"),
            k if k.starts_with("x-") => {}
            k => w.warn(&key_ptr, format!("unknown key {k:?} in path item; ignored")),
        }
    }
    let path_level = Effective {
        production: endpoints::declared(w, item, p, PRODUCTION)?.or_else(|| api.production.clone()),
        sandbox: endpoints::declared(w, item, p, SANDBOX)?.or_else(|| api.sandbox.clone()),
    };
    let mut routes: Vec<ResourceRoute> = Vec::new();
    for method in Method::ALL {
        let Some(op) = item.get(method.key()) else {
            continue;
        };
        let op_ptr = p.key(method.key());
        let op = w.object(op, &op_ptr)?;
        let effective = operation(w, op, &op_ptr, &path_level)?;
        let root_security = w.security.clone();
        let mut route_security =
            security::declared(w, &root_security, op, &op_ptr, root_security.inherited())?;
        if let Some(o) = w.overlay {
            let op_yaml =
                o.operation_security.iter().find(|(t, m, _, _)| t == template && *m == method);
            match op_yaml {
                Some((_, _, true, _)) => route_security = DeclaredSecurity::Open,
                Some((_, _, false, scopes)) => {
                    if let Some(declared) = o.security.requirement(scopes) {
                        route_security = declared;
                    }
                }
                None => {
                    if let Some(declared) = o.security.requirement(&[]) {
                        route_security = declared;
                    }
                }
            }
        }
        let mocked = w.overlay.is_some_and(|o| o.mocked);
        let production = match effective.production {
            Some(production) => production,
            None if mocked => EndpointSet::none(),
            None => {
                return Err(w.invalid(
                    &op_ptr,
                    format!(
                        "no production endpoint: set {PRODUCTION} on the operation, its path or \
                         the API{}",
                        if w.overlay.is_some() { " (or endpointConfig in api.yaml)" } else { "" }
                    ),
                ))
            }
        };
        let sandbox = effective.sandbox;
        let mock = if mocked { Some(examples::mock_responses(w, op, &op_ptr)) } else { None };
        let policies = w
            .overlay
            .and_then(|o| o.policies.iter().find(|(t, m, _)| t == template && *m == method))
            .map(|(_, _, p)| p.clone())
            .unwrap_or_default();
        let same = |r: &&mut ResourceRoute| {
            r.production == production
                && r.sandbox == sandbox
                && r.policies == policies
                && r.mock == mock
                && r.security == route_security
        };
        match routes.iter_mut().find(same) {
            Some(route) => route.methods.push(method),
            None => routes.push(ResourceRoute {
                methods: vec![method],
                production,
                sandbox,
                policies,
                mock,
                security: route_security,
            }),
        }
    }
    if routes.is_empty() {
        w.warn(p, "no operations: this resource matches no request");
    }
    Ok(Resource { template: template.to_owned(), pointer: p.to_string(), routes })
}

/// One operation: warnings for what it asks but is not enforced, and its effective endpoints.
fn operation(
    w: &mut Walker<'_>,
    op: &Map<String, Value>,
    p: &Pointer,
    inherited: &Effective,
) -> Result<Effective, LoadError> {
    for (key, _) in op {
        let key_ptr = p.key(key);
        match key.as_str() {
            PRODUCTION | SANDBOX => {}
            "x-auth-type" | "x-throttling-tier" => {
                w.warn(&key_ptr, format!("{key} is not enforced yet"))
            }
            "x-wso2-disable-security" => {}
            k if k.starts_with("x-wso2-") => unhandled_extension(w, k, &key_ptr, "an operation"),
            _ => {}
        }
    }
    Ok(Effective {
        production: endpoints::declared(w, op, p, PRODUCTION)?
            .or_else(|| inherited.production.clone()),
        sandbox: endpoints::declared(w, op, p, SANDBOX)?.or_else(|| inherited.sandbox.clone()),
    })
}

/// Builds this API's routes into a throw-away router so that what the data plane would reject
/// is reported here, at the offending key.
fn check_routing(
    w: &Walker<'_>,
    base_path: &str,
    base_ptr: &Pointer,
    resources: &[Resource],
) -> Result<(), LoadError> {
    let mut specs = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        let index = RouteIndex(u32::try_from(i).unwrap_or(u32::MAX));
        // A resource without operations still has its template checked.
        let methods: Vec<Vec<String>> = if resource.routes.is_empty() {
            vec![Vec::new()]
        } else {
            resource
                .routes
                .iter()
                .map(|r| r.methods.iter().map(|m| m.as_str().to_owned()).collect())
                .collect()
        };
        for methods in methods {
            specs.push(RouteSpec {
                vhost: None,
                base_path: base_path.to_owned(),
                template: resource.template.clone(),
                methods,
                route: index,
            });
        }
    }
    if specs.is_empty() {
        specs.push(RouteSpec {
            vhost: None,
            base_path: base_path.to_owned(),
            template: "/".to_owned(),
            methods: Vec::new(),
            route: RouteIndex(0),
        });
    }
    let Err(err) = Router::build(specs) else {
        return Ok(());
    };
    let resource_ptr = |template: &str| {
        resources.iter().find(|r| r.template == template).map_or_else(
            || Pointer::root().key("paths"),
            |r| Pointer::root().key("paths").key(&r.template),
        )
    };
    let pointer = match &err {
        RouterError::InvalidBasePath { .. } => base_ptr.clone(),
        RouterError::InvalidTemplate { template, .. } => resource_ptr(template),
        RouterError::AmbiguousTemplates { second, .. } => resource_ptr(second),
        RouterError::DuplicateRoute { template, .. } => resource_ptr(template),
    };
    Err(w.invalid(&pointer, err.to_string()))
}
