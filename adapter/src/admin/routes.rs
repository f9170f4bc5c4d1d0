//! Paths, methods, authentication and handlers of the admin API, and the JSON they answer with.
//!
//! Where it sits: [`super::server`] hands every complete [`Request`] to [`handle`], which finds the
//! endpoint (404 / 405 first, so unknown paths say so without credentials), authenticates it
//! (probes excepted), and calls the [`Deployments`] trait. Every error is the Choreo Connect
//! adapter's error object, `{"code": <status>, "message": ..., "description": ...}`, with the
//! precise status ([`DeployError::status`] for deployment errors).
//!
//! Shapes follow Choreo Connect's adapter API (`adapter/resources/adminAPI.yaml`, basePath
//! `/api/mgw/adapter/0.1`): list `{"total","count","list":[{"apiName","version","apiType",
//! "context","vhost","gateway-envs"}]}` (plus Turnpike's `source` and `lifecycle`), filter
//! `query=type:http|ws` (and the older `apiType=`), `limit`; token `{"accessToken"}` (plus
//! `tokenType`, `expiresIn`); deploy/undeploy `{"action","info"}` (plus Turnpike's details).
//!
//! What it does not do: no sockets or framing (see `server`), no deployment logic (the manager).

use std::time::Instant;

use serde_json::{json, Value};
use turnpike_http::h1::Method;

use super::auth::AuthFailure;
use super::multipart;
use super::security_routes::{self, Collection};
use super::server::{Request, Shared};
use crate::deploy::{Change, DeployError, DeployOutcome, DeployedApi};
use crate::error::Warning;

/// Choreo Connect's adapter base path, as `apictl mg` builds its URLs.
pub const ADAPTER_BASE: &str = "/api/mgw/adapter/0.1";
/// Turnpike's own admin paths.
pub const TURNPIKE_BASE: &str = "/api/turnpike/v1";
/// The only environment Turnpike has, reported in `gateway-envs` like Choreo Connect's default.
const DEFAULT_ENV: &str = "Default";

/// A reply, before encoding.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Close the connection after this reply.
    pub close: bool,
}

impl Response {
    pub fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: serde_json::to_vec(value).unwrap_or_default(),
            close: false,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Status line, headers and body.
    pub fn encode(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes(),
        );
        out.extend_from_slice(b"content-type: application/json\r\n");
        out.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(b"cache-control: no-store\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !keep_alive {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// The error object: `{"code", "message", "description"}`.
pub fn error(status: u16, message: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({ "code": status, "message": message, "description": description }),
    )
}

/// 413, closing the connection (the body was not read).
pub fn too_large(max_body: usize) -> Response {
    let mut r = error(
        413,
        "Payload Too Large",
        &format!("the request body exceeds the admin API limit of {max_body} bytes"),
    );
    r.close = true;
    r
}

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    Ready,
    Token,
    Apis,
    Snapshot,
    /// Applications, subscriptions, revocations ([`security_routes`]).
    Security(Collection),
}

impl Endpoint {
    fn find(path: &str) -> Option<Self> {
        let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
        if let Some(rest) = path.strip_prefix(ADAPTER_BASE) {
            return match rest {
                "/apis" => Some(Self::Apis),
                "/oauth2/token" => Some(Self::Token),
                _ => None,
            };
        }
        match path {
            "/health" => Some(Self::Health),
            "/ready" => Some(Self::Ready),
            p => match p.strip_prefix(TURNPIKE_BASE)? {
                "/snapshot" => Some(Self::Snapshot),
                rest => Collection::find(rest).map(Self::Security),
            },
        }
    }

    fn methods(self) -> &'static [Method] {
        match self {
            Self::Health | Self::Ready | Self::Snapshot => &[Method::Get],
            Self::Token => &[Method::Post],
            Self::Apis => &[Method::Get, Method::Post, Method::Delete],
            Self::Security(collection) => collection.methods(),
        }
    }

    /// Probes and the token endpoint (which checks credentials itself) need no authentication.
    fn protected(self) -> bool {
        matches!(self, Self::Apis | Self::Snapshot | Self::Security(_))
    }
}

/// Answers one request.
pub fn handle(request: &Request, shared: &Shared) -> Response {
    let Some(endpoint) = Endpoint::find(&request.path) else {
        return error(404, "Not Found", &format!("no admin resource at {}", request.path));
    };
    if !endpoint.methods().contains(&request.method) {
        let allow: Vec<&str> = endpoint
            .methods()
            .iter()
            .filter_map(|m| m.as_bytes())
            .filter_map(|b| std::str::from_utf8(b).ok())
            .collect();
        return error(
            405,
            "Method Not Allowed",
            &format!("{} does not support {}", request.path, request.method_name),
        )
        .header("allow", allow.join(", "));
    }
    let now = Instant::now();
    let user = if endpoint.protected() {
        match shared.auth.check(request.header("authorization"), now) {
            Ok(user) => Some(user),
            Err(failure) => return unauthorized(failure, request),
        }
    } else {
        None
    };
    let user = user.as_deref().unwrap_or("-");
    match (endpoint, request.method) {
        (Endpoint::Health, _) => Response::json(200, &json!({ "status": "UP" })),
        (Endpoint::Ready, _) => ready(shared),
        (Endpoint::Token, _) => token(request, shared, now),
        (Endpoint::Apis, Method::Get) => list(request, shared),
        (Endpoint::Apis, Method::Post) => deploy(request, shared, user),
        (Endpoint::Apis, _) => undeploy(request, shared, user),
        (Endpoint::Snapshot, _) => snapshot(shared),
        (Endpoint::Security(collection), _) => {
            security_routes::handle(collection, request, shared, user)
        }
    }
}

fn unauthorized(failure: AuthFailure, request: &Request) -> Response {
    tracing::info!(peer = %request.peer, path = %request.path, reason = failure.message(),
        "admin API: request refused");
    let bearer = match failure {
        AuthFailure::BadToken => r#"Bearer realm="turnpike-admin", error="invalid_token""#,
        _ => r#"Bearer realm="turnpike-admin""#,
    };
    error(401, "Unauthorized", failure.message())
        .header("www-authenticate", r#"Basic realm="turnpike-admin", charset="UTF-8""#)
        .header("www-authenticate", bearer)
}

fn ready(shared: &Shared) -> Response {
    if shared.deployments.ready() {
        let version = shared.deployments.snapshot_info().version;
        Response::json(200, &json!({ "status": "READY", "snapshot": version }))
    } else {
        Response::json(503, &json!({ "status": "NOT_READY" }))
    }
}

/// `POST /oauth2/token`: credentials from basic auth, or the JSON body `apictl mg login` sends.
fn token(request: &Request, shared: &Shared, now: Instant) -> Response {
    let user = if request.header("authorization").is_some() {
        match shared.auth.check(request.header("authorization"), now) {
            Ok(user) => user,
            Err(failure) => return unauthorized(failure, request),
        }
    } else {
        #[derive(serde::Deserialize)]
        struct Credentials {
            username: String,
            password: String,
        }
        if request.body.is_empty() {
            return unauthorized(AuthFailure::Missing, request);
        }
        let credentials: Credentials = match serde_json::from_slice(&request.body) {
            Ok(c) => c,
            Err(e) => {
                return error(
                    400,
                    "Bad Request",
                    &format!("expected {{\"username\", \"password\"}} JSON or basic auth: {e}"),
                )
            }
        };
        if !shared.auth.verify_password(&credentials.username, &credentials.password) {
            return unauthorized(AuthFailure::BadCredentials, request);
        }
        credentials.username
    };
    match shared.auth.issue(&user, now) {
        Ok(issued) => {
            tracing::info!(user = %user, peer = %request.peer, "admin API: access token issued");
            Response::json(
                200,
                &json!({
                    "accessToken": issued.token,
                    "tokenType": "Bearer",
                    "expiresIn": issued.expires_in.as_secs(),
                }),
            )
        }
        Err(_) => error(500, "Internal Server Error", "no randomness available for a token"),
    }
}

/// `GET /apis?query=type:http&limit=N` (also `apiType=http`).
fn list(request: &Request, shared: &Shared) -> Response {
    let mut api_type = request.param("apiType").map(str::to_ascii_uppercase);
    if let Some(query) = request.param("query").filter(|q| !q.is_empty()) {
        match query.split_once(':') {
            Some((key, value)) if key.eq_ignore_ascii_case("type") => {
                api_type = Some(value.to_ascii_uppercase());
            }
            _ => {
                return bad_request(&format!(
                    "unsupported query {query:?}: only \"type:http\" or \"type:ws\" is supported"
                ))
            }
        }
    }
    let limit = match request.param("limit") {
        None => usize::MAX,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return bad_request(&format!("limit must be a positive integer, not {text:?}")),
        },
    };
    let apis: Vec<DeployedApi> = shared
        .deployments
        .list()
        .into_iter()
        // Every Turnpike API is an HTTP (REST) API.
        .filter(|_| api_type.as_deref().is_none_or(|t| t == "HTTP"))
        .collect();
    let list: Vec<Value> = apis.iter().take(limit).map(api_json).collect();
    Response::json(200, &json!({ "total": apis.len(), "count": list.len(), "list": list }))
}

/// `POST /apis[?override=true][&dryRun=true]`: body is the project zip, raw or as the
/// multipart part `file`.
fn deploy(request: &Request, shared: &Shared, user: &str) -> Response {
    // `override` is the adapter's parameter; older apictl versions sent `overwrite`.
    let override_existing = match flag(request, &["override", "overwrite"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let dry_run = match flag(request, &["dryRun"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let zip = match archive(request) {
        Ok(zip) => zip,
        Err(r) => return r,
    };
    if dry_run {
        return match shared.deployments.dry_run_archive(zip) {
            Ok(change) => Response::json(200, &change_json(&change)),
            Err(e) => deploy_error(&e),
        };
    }
    match shared.deployments.deploy_archive(zip, override_existing) {
        Ok(outcome) => {
            tracing::info!(user, apis = %names(&outcome), snapshot = outcome.snapshot_version,
                "admin API: deployed");
            Response::json(200, &outcome_json("DEPLOYED", &outcome))
        }
        Err(e) => {
            tracing::info!(user, error = %e, "admin API: deploy refused");
            deploy_error(&e)
        }
    }
}

/// `DELETE /apis?apiName=&version=[&vhost=]` (`environments`, `orgId` accepted, ignored).
fn undeploy(request: &Request, shared: &Shared, user: &str) -> Response {
    let required = |name: &str| request.param(name).filter(|v| !v.is_empty());
    let (Some(name), Some(version)) = (required("apiName"), required("version")) else {
        return bad_request("apiName and version query parameters are required");
    };
    let vhost = required("vhost");
    match shared.deployments.undeploy(name, version, vhost) {
        Ok(outcome) => {
            tracing::info!(user, apis = %names(&outcome), snapshot = outcome.snapshot_version,
                "admin API: undeployed");
            Response::json(200, &outcome_json("UNDEPLOYED", &outcome))
        }
        Err(e) => deploy_error(&e),
    }
}

fn snapshot(shared: &Shared) -> Response {
    let info = shared.deployments.snapshot_info();
    Response::json(
        200,
        &json!({
            "version": info.version,
            "apis": info.apis.iter().map(api_json).collect::<Vec<_>>(),
            "routes": info.routes,
            "acknowledged": info.acknowledged,
        }),
    )
}

/// The archive bytes of a deploy request: the whole body (zip / octet-stream / no content
/// type) or the `file` part of a multipart body.
fn archive(request: &Request) -> Result<&[u8], Response> {
    let content_type = request.header("content-type").map(String::from_utf8_lossy);
    let media = content_type
        .as_deref()
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let zip = match media.as_deref() {
        None
        | Some(
            "application/zip"
            | "application/x-zip-compressed"
            | "application/x-zip"
            | "application/octet-stream",
        ) => request.body.as_slice(),
        Some("multipart/form-data") => {
            let ct = content_type.as_deref().unwrap_or_default();
            multipart::boundary(ct)
                .and_then(|b| multipart::file_part(&request.body, b))
                .map_err(|e| bad_request(&e.to_string()))?
        }
        Some(other) => {
            return Err(bad_request(&format!(
                "unsupported content type {other:?}: send the project zip as application/zip \
                 (or octet-stream), or as the \"file\" part of multipart/form-data"
            )))
        }
    };
    if zip.is_empty() {
        return Err(bad_request("empty body: expected the API project as a zip archive"));
    }
    Ok(zip)
}

/// A boolean query parameter under any of `names`: absent → false.
fn flag(request: &Request, names: &[&str]) -> Result<bool, Response> {
    let Some((name, value)) = request.query.iter().find(|(n, _)| names.contains(&n.as_str()))
    else {
        return Ok(false);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad_request(&format!("{name} must be true or false, not {value:?}"))),
    }
}

fn bad_request(description: &str) -> Response {
    error(400, "Bad Request", description)
}

fn deploy_error(e: &DeployError) -> Response {
    let status = e.status();
    let message = match e {
        DeployError::Invalid { .. } => "Invalid API project",
        DeployError::BadArchive(_) => "Invalid archive",
        DeployError::Conflict(_) => "Conflict",
        DeployError::AlreadyExists { .. } => "API already exists",
        DeployError::NotFound { .. } => "API not found",
        DeployError::Internal(_) => "Internal Server Error",
    };
    error(status, message, &e.to_string())
}

fn api_json(api: &DeployedApi) -> Value {
    let mut v = json!({
        "apiName": api.name,
        "version": api.version,
        "apiType": "HTTP",
        "context": api.context,
        "gateway-envs": [DEFAULT_ENV],
        "source": api.source.as_str(),
        "lifecycle": api.lifecycle,
    });
    if let (Some(vhost), Some(obj)) = (&api.vhost, v.as_object_mut()) {
        obj.insert("vhost".into(), Value::String(vhost.clone()));
    }
    v
}

fn warning_json(w: &Warning) -> Value {
    json!({ "file": w.file.display().to_string(), "pointer": w.pointer, "message": w.message })
}

fn change_json(c: &Change) -> Value {
    json!({
        "addedApis": c.added_apis,
        "removedApis": c.removed_apis,
        "changedApis": c.changed_apis,
        "addedRoutes": c.added_routes,
        "removedRoutes": c.removed_routes,
        "warnings": c.warnings.iter().map(warning_json).collect::<Vec<_>>(),
    })
}

fn outcome_json(action: &str, o: &DeployOutcome) -> Value {
    json!({
        "action": action,
        "info": names(o),
        "snapshotVersion": o.snapshot_version,
        "apis": o.apis.iter().map(api_json).collect::<Vec<_>>(),
        "warnings": o.warnings.iter().map(warning_json).collect::<Vec<_>>(),
    })
}

/// `name:version[@vhost], ...` of an outcome.
fn names(o: &DeployOutcome) -> String {
    let names: Vec<String> = o
        .apis
        .iter()
        .map(|a| match &a.vhost {
            Some(h) => format!("{}:{}@{h}", a.name, a.version),
            None => format!("{}:{}", a.name, a.version),
        })
        .collect();
    names.join(", ")
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(Endpoint::find("/api/mgw/adapter/0.1/apis"), Some(Endpoint::Apis));
        assert_eq!(Endpoint::find("/api/mgw/adapter/0.1/apis/"), Some(Endpoint::Apis));
        assert_eq!(Endpoint::find("/api/mgw/adapter/0.1/oauth2/token"), Some(Endpoint::Token));
        assert_eq!(Endpoint::find("/api/turnpike/v1/snapshot"), Some(Endpoint::Snapshot));
        for (path, collection) in [
            ("/api/turnpike/v1/applications", Collection::Applications),
            ("/api/turnpike/v1/subscriptions/", Collection::Subscriptions),
            ("/api/turnpike/v1/revocations", Collection::Revocations),
        ] {
            assert_eq!(Endpoint::find(path), Some(Endpoint::Security(collection)), "{path}");
            assert!(Endpoint::Security(collection).protected());
        }
        assert_eq!(Endpoint::find("/api/turnpike/v1/tokens"), None);
        assert_eq!(Endpoint::find("/api/turnpike/v1"), None);
        assert_eq!(Endpoint::find("/health"), Some(Endpoint::Health));
        assert_eq!(Endpoint::find("/ready"), Some(Endpoint::Ready));
        assert_eq!(Endpoint::find("/"), None);
        assert_eq!(Endpoint::find("/api/mgw/adapter/0.1/apiss"), None);
    }

    #[test]
    fn encodes_responses() {
        let r = error(404, "Not Found", "x").header("allow", "GET");
        let text = String::from_utf8(r.encode(false)).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("\r\nallow: GET\r\n"));
        assert!(text.contains("\r\nconnection: close\r\n"));
        assert!(
            text.ends_with(r#"{"code":404,"description":"x","message":"Not Found"}"#),
            "{text}"
        );
    }
}
