//! `api.yaml` of an apictl project (`type: api`, `version: v4.x`, `data: {...}`): the API's name,
//! context and version, lifecycle state, implementation type, endpoints and operations.
//!
//! Where it sits: [`super::load_tree`] reads the file and calls [`parse`]; the result becomes the
//! [`Overlay`] laid over the project's OpenAPI document (WSO2: `api.yaml` wins where both speak)
//! and the definition's lifecycle / default-version fields.
//!
//! Base path, as WSO2 composes it: a context holding `{version}` has it replaced by the version
//! (`/{version}/pets` → `/1.0.0/pets`); a context already ending in `/<version>` (3.x exports) is
//! taken as is; otherwise the version is appended (`/petstore` → `/petstore/1.0.0`). With
//! `isDefaultVersion: true` the context without the version is served too.
//!
//! Recognised but not enforced (warned): `securityScheme`, a non-default `authorizationHeader`,
//! `apiThrottlingPolicy`, CORS, schema validation, `maxTps`, API-level and mediation policies,
//! endpoint security and per-endpoint config, operation `authType: None`, scopes and throttling.
//! Devportal and publisher metadata (tags, visibility, business information, ...) is ignored.

use serde_json::{Map, Value};
use turnpike_policy::BuiltinPolicy;

use super::doc::{present, Doc};
use super::policies;
use crate::error::LoadError;
use crate::openapi::{parse_url, ApiYamlSecurity, Balance, EndpointSet, Method};
use crate::pointer::Pointer;

/// What `api.yaml` says.
#[derive(Debug, Clone)]
pub(super) struct ApiYaml {
    pub(super) name: String,
    pub(super) version: String,
    pub(super) base_path: String,
    /// The context without the version (served too when `default_version`).
    pub(super) default_base_path: String,
    pub(super) lifecycle: String,
    pub(super) default_version: bool,
    /// Answered from examples (prototyped, `MOCKED_OAS`, `INLINE`).
    pub(super) mocked: bool,
    pub(super) production: Option<EndpointSet>,
    pub(super) sandbox: Option<EndpointSet>,
    pub(super) operations: Vec<Operation>,
    /// `securityScheme`, `authorizationHeader`, `apiKeyHeader`.
    pub(super) security: ApiYamlSecurity,
}

/// One entry of `data.operations`.
#[derive(Debug, Clone)]
pub(super) struct Operation {
    pub(super) target: String,
    pub(super) method: Method,
    pub(super) pointer: Pointer,
    pub(super) policies: Vec<BuiltinPolicy>,
    /// `authType: None`: the operation is open.
    pub(super) auth_none: bool,
    /// `scopes`: the caller needs one of them.
    pub(super) scopes: Vec<String>,
}

/// WSO2 lifecycle states.
pub(super) const LIFECYCLES: [&str; 6] =
    ["CREATED", "PROTOTYPED", "PUBLISHED", "BLOCKED", "DEPRECATED", "RETIRED"];

/// Reads `api.yaml` (already a tree). `custom` lists the files of `Policies/`.
pub(super) fn parse(
    doc: &mut Doc<'_>,
    root: &Value,
    custom: &[String],
) -> Result<ApiYaml, LoadError> {
    let top_ptr = Pointer::root();
    let top = doc.object(root, &top_ptr)?;
    if let Some(kind) = doc.optional(top, "type", &top_ptr)? {
        if kind != "api" {
            return Err(doc.invalid(
                &top_ptr.key("type"),
                format!("expected `type: api` (an apictl API project), found {kind:?}"),
            ));
        }
    }
    if let Some(version) = doc.optional(top, "version", &top_ptr)? {
        if !version.starts_with("v4") {
            doc.warn(
                &top_ptr.key("version"),
                format!("project format {version:?}: read as WSO2 APIM 4.x (v4.x) format"),
            );
        }
    }
    let p = top_ptr.key("data");
    let data = match top.get("data") {
        Some(v) => doc.object(v, &p)?,
        None => {
            return Err(doc.invalid(&p, "missing: the API's data (name, context, version, ...)"))
        }
    };
    let name = doc.required(data, "name", &p, "the API name")?;
    let version = doc.required(data, "version", &p, "the API version")?;
    let context = doc.required(data, "context", &p, "the API context, e.g. /petstore")?;
    let (base_path, default_base_path) = base_paths(doc, &context, &version, &p.key("context"))?;

    if let Some(kind) = doc.optional(data, "type", &p)? {
        if !kind.eq_ignore_ascii_case("HTTP") {
            return Err(doc.invalid(
                &p.key("type"),
                format!("API type {kind:?} is not supported; only HTTP (REST) APIs are"),
            ));
        }
    }
    let lifecycle = match doc.optional(data, "lifeCycleStatus", &p)? {
        None => "PUBLISHED".to_owned(),
        Some(state) => {
            let upper = state.to_ascii_uppercase();
            if !LIFECYCLES.contains(&upper.as_str()) {
                return Err(doc.invalid(
                    &p.key("lifeCycleStatus"),
                    format!(
                        "unknown lifecycle state {state:?}: expected one of {}",
                        LIFECYCLES.join(", ")
                    ),
                ));
            }
            upper
        }
    };
    let implementation = doc
        .optional(data, "endpointImplementationType", &p)?
        .unwrap_or_else(|| "ENDPOINT".to_owned())
        .to_ascii_uppercase();
    let mocked = match implementation.as_str() {
        "ENDPOINT" => lifecycle == "PROTOTYPED",
        "MOCKED_OAS" | "INLINE" => true,
        other => {
            return Err(doc.invalid(
                &p.key("endpointImplementationType"),
                format!(
                "unknown implementation type {other:?}: expected ENDPOINT, MOCKED_OAS or INLINE"
            ),
            ))
        }
    };
    let default_version = doc.flag(data, "isDefaultVersion", &p, false)?;
    unenforced(doc, data, &p);
    let security = security(doc, data, &p)?;

    let (production, sandbox) = if mocked {
        (None, None)
    } else {
        match data.get("endpointConfig") {
            None | Some(Value::Null) => (None, None),
            Some(v) => {
                let ep = p.key("endpointConfig");
                let config = doc.object(v, &ep)?;
                endpoint_config(doc, config, &ep)?
            }
        }
    };

    let ops_ptr = p.key("operations");
    let mut operations = Vec::new();
    for (i, op) in doc.list(data, "operations", &p)?.iter().enumerate() {
        let op_ptr = ops_ptr.index(i);
        operations.push(operation(doc, op, &op_ptr, custom)?);
    }
    Ok(ApiYaml {
        name,
        version,
        base_path,
        default_base_path,
        lifecycle,
        default_version,
        mocked,
        production,
        sandbox,
        operations,
        security,
    })
}

/// `securityScheme`, `authorizationHeader` and `apiKeyHeader`.
fn security(
    doc: &mut Doc<'_>,
    data: &Map<String, Value>,
    p: &Pointer,
) -> Result<ApiYamlSecurity, LoadError> {
    const KNOWN: [&str; 6] = [
        "oauth2",
        "api_key",
        "basic_auth",
        "oauth_basic_auth_api_key_mandatory",
        "mutualssl",
        "mutualssl_mandatory",
    ];
    let schemes = match data.get("securityScheme") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let sp = p.key("securityScheme");
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Value::String(name) = item else {
                    return Err(doc.invalid(&sp.index(i), "expected a scheme name"));
                };
                if !KNOWN.contains(&name.as_str()) {
                    return Err(doc.invalid(
                        &sp.index(i),
                        format!(
                            "unknown security scheme {name:?}: expected one of {}",
                            KNOWN.join(", ")
                        ),
                    ));
                }
                out.push(name.clone());
            }
            Some(out)
        }
        Some(_) => {
            return Err(doc.invalid(&p.key("securityScheme"), "expected a list of scheme names"))
        }
    };
    let header = |doc: &mut Doc<'_>, key: &str| -> Result<Option<String>, LoadError> {
        Ok(doc
            .optional(data, key, p)?
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty()))
    };
    Ok(ApiYamlSecurity {
        schemes,
        authorization_header: header(doc, "authorizationHeader")?,
        api_key_header: header(doc, "apiKeyHeader")?,
    })
}

/// The versioned base path and the context without the version.
fn base_paths(
    doc: &Doc<'_>,
    context: &str,
    version: &str,
    p: &Pointer,
) -> Result<(String, String), LoadError> {
    if context.contains(|c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#') {
        return Err(doc.invalid(p, format!("context {context:?} must be a plain path")));
    }
    let context = if context.starts_with('/') { context.to_owned() } else { format!("/{context}") };
    let tidy = |path: String| {
        let mut path = path.replace("//", "/");
        while path.len() > 1 && path.ends_with('/') {
            path.pop();
        }
        if path.is_empty() {
            "/".to_owned()
        } else {
            path
        }
    };
    let suffix = format!("/{version}");
    let (versioned, unversioned) = if context.contains("{version}") {
        (context.replace("{version}", version), context.replace("{version}", ""))
    } else if let Some(stripped) = context.strip_suffix(&suffix) {
        (context.clone(), stripped.to_owned())
    } else {
        (format!("{}/{version}", context.trim_end_matches('/')), context.clone())
    };
    Ok((tidy(versioned), tidy(unversioned)))
}

/// Warnings for what `data` asks but is not enforced yet.
fn unenforced(doc: &mut Doc<'_>, data: &Map<String, Value>, p: &Pointer) {
    if let Some(Value::String(policy)) = data.get("apiThrottlingPolicy") {
        if !policy.is_empty() && policy != "Unlimited" {
            doc.warn(&p.key("apiThrottlingPolicy"), "rate limiting is not enforced yet");
        }
    }
    let cors = data.get("corsConfiguration").and_then(|c| c.get("corsConfigurationEnabled"));
    if cors == Some(&Value::Bool(true)) {
        doc.warn(
            &p.key("corsConfiguration"),
            "CORS is not handled yet; preflight requests are routed like any other",
        );
    }
    if data.get("enableSchemaValidation") == Some(&Value::Bool(true)) {
        doc.warn(&p.key("enableSchemaValidation"), "schema validation is not enforced yet");
    }
    if present(data.get("maxTps")) {
        doc.warn(&p.key("maxTps"), "backend rate limits (maxTps) are not enforced yet");
    }
    for key in ["apiPolicies", "mediationPolicies"] {
        if present(data.get(key)) {
            doc.warn(&p.key(key), format!("{key} are not applied yet"));
        }
    }
}

/// `endpointConfig`: production and sandbox endpoint sets.
fn endpoint_config(
    doc: &mut Doc<'_>,
    config: &Map<String, Value>,
    p: &Pointer,
) -> Result<(Option<EndpointSet>, Option<EndpointSet>), LoadError> {
    let kind = doc.optional(config, "endpoint_type", p)?.unwrap_or_else(|| "http".to_owned());
    let balance = match kind.as_str() {
        "http" => Balance::Single,
        "load_balance" => Balance::LoadBalance,
        "failover" => Balance::Failover,
        other => {
            return Err(doc.invalid(
                &p.key("endpoint_type"),
                format!(
                "endpoint type {other:?} is not supported: expected http, load_balance or failover"
            ),
            ))
        }
    };
    if let Some(security) = config.get("endpoint_security").and_then(Value::as_object) {
        for (env, value) in security {
            if value.get("enabled") == Some(&Value::Bool(true)) {
                doc.warn(
                    &p.key("endpoint_security").key(env),
                    "backend authentication is not supported yet; requests go without credentials",
                );
            }
        }
    }
    let mut sets = [None, None];
    for (slot, env) in sets.iter_mut().zip(["production", "sandbox"]) {
        let key = format!("{env}_endpoints");
        let Some(value) = config.get(&key).filter(|v| !v.is_null()) else { continue };
        let mut endpoints = urls(doc, value, &p.key(&key))?;
        if balance == Balance::Failover {
            let key = format!("{env}_failovers");
            if let Some(value) = config.get(&key).filter(|v| !v.is_null()) {
                endpoints.extend(urls(doc, value, &p.key(&key))?);
            }
            doc.warn(
                &p.key("endpoint_type"),
                "failover is not supported yet; served as load_balance",
            );
        }
        if endpoints.is_empty() {
            continue;
        }
        let balance = match balance {
            Balance::Single if endpoints.len() > 1 => Balance::LoadBalance,
            other => other,
        };
        *slot = Some(EndpointSet { balance, endpoints });
    }
    let [production, sandbox] = sets;
    Ok((production, sandbox))
}

/// `{url}` or `[{url}, ...]`.
fn urls(
    doc: &mut Doc<'_>,
    value: &Value,
    p: &Pointer,
) -> Result<Vec<turnpike_core::Endpoint>, LoadError> {
    let entries: Vec<(&Value, Pointer)> = match value {
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (v, p.index(i))).collect(),
        other => vec![(other, p.clone())],
    };
    let mut out = Vec::with_capacity(entries.len());
    for (entry, at) in entries {
        let map = doc.object(entry, &at)?;
        let url = doc.required(map, "url", &at, "the endpoint URL")?;
        if present(map.get("config")) {
            doc.warn(
                &at.key("config"),
                "per-endpoint timeouts and retries are not supported yet; gateway.toml timeouts apply",
            );
        }
        out.push(parse_url(&url).map_err(|reason| doc.invalid(&at.key("url"), reason))?);
    }
    Ok(out)
}

/// One `operations[]` entry.
fn operation(
    doc: &mut Doc<'_>,
    value: &Value,
    p: &Pointer,
    custom: &[String],
) -> Result<Operation, LoadError> {
    let op = doc.object(value, p)?;
    let target = doc.required(op, "target", p, "the resource path, e.g. /pets/{petId}")?;
    let verb = doc.required(op, "verb", p, "the HTTP method")?;
    let method = Method::from_key(&verb.to_ascii_lowercase())
        .ok_or_else(|| doc.invalid(&p.key("verb"), format!("unknown method {verb:?}")))?;
    let auth_none =
        doc.optional(op, "authType", p)?.is_some_and(|auth| auth.eq_ignore_ascii_case("None"));
    let mut scopes = Vec::new();
    if let Some(list) = op.get("scopes").filter(|v| !v.is_null()) {
        let Value::Array(items) = list else {
            return Err(doc.invalid(&p.key("scopes"), "expected a list of scope names"));
        };
        for (i, item) in items.iter().enumerate() {
            // apictl writes scope names; older exports write {name: ...} objects.
            let name = match item {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            };
            let Some(name) = name else {
                return Err(doc.invalid(&p.key("scopes").index(i), "expected a scope name"));
            };
            scopes.push(name);
        }
    }
    if let Some(policy) = doc.optional(op, "throttlingPolicy", p)? {
        if !policy.is_empty() && policy != "Unlimited" {
            doc.warn(&p.key("throttlingPolicy"), "rate limiting is not enforced yet");
        }
    }
    let policies = match op.get("operationPolicies") {
        None => Vec::new(),
        Some(v) => {
            policies::operation_policies(doc, v, &p.key("operationPolicies"), method, custom)?
        }
    };
    Ok(Operation { target, method, pointer: p.clone(), policies, auth_none, scopes })
}
