//! What a definition says about security: OpenAPI security schemes (`components.securitySchemes`
//! / Swagger 2 `securityDefinitions`), security requirements at the root and per operation,
//! `x-wso2-disable-security`, `x-wso2-auth-header`, and, for apictl projects, `api.yaml`'s
//! `securityScheme`, `authorizationHeader`, `apiKeyHeader` and operation `authType` / `scopes`
//! (which win, as in WSO2).
//!
//! Where it sits: called by the document walk for the root and each operation; the result is a
//! [`DeclaredSecurity`] per route, turned into the route's authentication policy by `compile`
//! (where an undeclared route gets the gateway's `[security] default`). No I/O.
//!
//! Semantics: the alternatives of an OpenAPI requirement list are merged into one set of accepted
//! credential kinds (`oauth2`/`openIdConnect`/`http bearer` → OAuth2 bearer tokens, `http basic` /
//! `basic` → Basic, `apiKey` → an API key where the scheme says), with the union of their scopes;
//! a caller needs any one of those scopes (WSO2's rule). `security: []` and
//! `x-wso2-disable-security: true` make the operation open. WSO2's generated definitions name an
//! OAuth2 scheme `default` without always defining it; an undefined `default` is OAuth2, any other
//! undefined name is an error.

use serde_json::{Map, Value};
use turnpike_policy::auth::{ApiKeyLocation, MutualTlsMode, SecurityRequirement};

use super::document::Walker;
use crate::error::LoadError;
use crate::pointer::Pointer;

/// A route's security as the definition declares it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeclaredSecurity {
    /// Nothing declared: the gateway's `[security] default` applies (WSO2's is OAuth2).
    #[default]
    Unspecified,
    /// Explicitly open.
    Open,
    /// These credential kinds and scopes.
    Required(SecurityRequirement),
}

/// A security scheme definition, reduced to what the gateway enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemeKind {
    Bearer,
    Basic,
    ApiKey(ApiKeyLocation),
    /// Mutual TLS (OpenAPI 3.1 `mutualTLS`): not supported yet; never satisfied.
    MutualTls,
}

/// The document-level security context.
#[derive(Debug, Clone, Default)]
pub(super) struct RootSecurity {
    schemes: Vec<(String, SchemeKind)>,
    authorization_header: Option<String>,
    root: DeclaredSecurity,
}

/// Reads the schemes, `x-wso2-auth-header` and the root requirement.
pub(super) fn root(
    w: &mut Walker<'_>,
    top: &Map<String, Value>,
) -> Result<RootSecurity, LoadError> {
    let mut out = RootSecurity::default();
    let (defs, defs_ptr) = match top.get("components").and_then(|c| c.get("securitySchemes")) {
        Some(v) => (Some(v), Pointer::root().key("components").key("securitySchemes")),
        None => (top.get("securityDefinitions"), Pointer::root().key("securityDefinitions")),
    };
    if let Some(defs) = defs {
        for (name, def) in w.object(defs, &defs_ptr)? {
            let p = defs_ptr.key(name);
            let def = w.object(def, &p)?;
            out.schemes.push((name.clone(), scheme_kind(w, def, &p)?));
        }
    }
    if let Some(header) = top.get("x-wso2-auth-header") {
        let p = Pointer::root().key("x-wso2-auth-header");
        let Value::String(h) = header else {
            return Err(w.invalid(&p, "expected a header name"));
        };
        out.authorization_header = Some(h.trim().to_ascii_lowercase());
    }
    out.root = declared(w, &out, top, &Pointer::root(), &DeclaredSecurity::Unspecified)?;
    Ok(out)
}

fn scheme_kind(
    w: &Walker<'_>,
    def: &Map<String, Value>,
    p: &Pointer,
) -> Result<SchemeKind, LoadError> {
    let text = |key: &str| def.get(key).and_then(Value::as_str).unwrap_or("");
    match text("type") {
        "oauth2" | "openIdConnect" => Ok(SchemeKind::Bearer),
        "basic" => Ok(SchemeKind::Basic),
        "http" if text("scheme").eq_ignore_ascii_case("basic") => Ok(SchemeKind::Basic),
        "http" if text("scheme").eq_ignore_ascii_case("bearer") => Ok(SchemeKind::Bearer),
        "http" => Err(w.invalid(
            &p.key("scheme"),
            format!(
                "HTTP authentication scheme {:?} is not supported (basic, bearer)",
                text("scheme")
            ),
        )),
        "apiKey" => {
            let name = text("name").trim();
            if name.is_empty() {
                return Err(
                    w.invalid(&p.key("name"), "missing: the API key's header or parameter name")
                );
            }
            match text("in") {
                "header" => {
                    Ok(SchemeKind::ApiKey(ApiKeyLocation::Header(name.to_ascii_lowercase())))
                }
                "query" => Ok(SchemeKind::ApiKey(ApiKeyLocation::Query(name.to_owned()))),
                other => Err(w.invalid(
                    &p.key("in"),
                    format!("API keys in {other:?} are not supported (header, query)"),
                )),
            }
        }
        "mutualTLS" => Ok(SchemeKind::MutualTls),
        other => Err(w.invalid(&p.key("type"), format!("unknown security scheme type {other:?}"))),
    }
}

/// The security declared on `node` (the root or an operation), `inherited` when it says nothing.
pub(super) fn declared(
    w: &mut Walker<'_>,
    ctx: &RootSecurity,
    node: &Map<String, Value>,
    p: &Pointer,
    inherited: &DeclaredSecurity,
) -> Result<DeclaredSecurity, LoadError> {
    if let Some(disable) = node.get("x-wso2-disable-security") {
        match disable {
            Value::Bool(true) => return Ok(DeclaredSecurity::Open),
            Value::Bool(false) => {}
            _ => return Err(w.invalid(&p.key("x-wso2-disable-security"), "expected a boolean")),
        }
    }
    let Some(list) = node.get("security") else {
        return Ok(inherited.clone());
    };
    let list_ptr = p.key("security");
    let Value::Array(alternatives) = list else {
        return Err(w.invalid(&list_ptr, "expected a list of security requirement objects"));
    };
    if alternatives.is_empty() {
        return Ok(DeclaredSecurity::Open);
    }
    let mut req = SecurityRequirement {
        oauth2: false,
        authorization_header: ctx
            .authorization_header
            .clone()
            .unwrap_or_else(|| "authorization".to_owned()),
        ..SecurityRequirement::default()
    };
    for (i, alt) in alternatives.iter().enumerate() {
        let alt_ptr = list_ptr.index(i);
        let alt = w.object(alt, &alt_ptr)?;
        if alt.is_empty() {
            // `{}` in the list: anonymous access is one of the alternatives.
            req.mandatory = false;
        }
        for (name, scopes) in alt {
            let name_ptr = alt_ptr.key(name);
            let kind = match ctx.schemes.iter().find(|(n, _)| n == name) {
                Some((_, kind)) => kind.clone(),
                None if name == "default" => SchemeKind::Bearer,
                None => {
                    return Err(
                        w.invalid(&name_ptr, format!("security scheme {name:?} is not defined"))
                    )
                }
            };
            match kind {
                SchemeKind::Bearer => req.oauth2 = true,
                SchemeKind::Basic => req.basic = true,
                SchemeKind::ApiKey(location) => {
                    if !req.api_keys.contains(&location) {
                        req.api_keys.push(location);
                    }
                }
                SchemeKind::MutualTls => w.warn(
                    &name_ptr,
                    "mutual TLS is not supported yet: this alternative never passes",
                ),
            }
            let Value::Array(scopes) = scopes else {
                return Err(w.invalid(&name_ptr, "expected a list of scopes"));
            };
            for (j, scope) in scopes.iter().enumerate() {
                let Value::String(scope) = scope else {
                    return Err(w.invalid(&name_ptr.index(j), "expected a scope name"));
                };
                if !req.scopes.contains(scope) {
                    req.scopes.push(scope.clone());
                }
            }
        }
    }
    Ok(DeclaredSecurity::Required(req))
}

impl RootSecurity {
    /// The root-level declaration (what operations inherit).
    pub(super) fn inherited(&self) -> &DeclaredSecurity {
        &self.root
    }
}

/// What `api.yaml` says about security (apictl projects); it wins over the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiYamlSecurity {
    /// `securityScheme` entries, e.g. `oauth2`, `api_key`, `basic_auth`,
    /// `oauth_basic_auth_api_key_mandatory`, `mutualssl`, `mutualssl_mandatory`.
    pub schemes: Option<Vec<String>>,
    /// `authorizationHeader` (lower case).
    pub authorization_header: Option<String>,
    /// `apiKeyHeader` (lower case).
    pub api_key_header: Option<String>,
}

impl ApiYamlSecurity {
    /// The requirement of an operation with `scopes`, or `None` when `securityScheme` is absent.
    pub fn requirement(&self, scopes: &[String]) -> Option<DeclaredSecurity> {
        let schemes = self.schemes.as_ref()?;
        let has = |s: &str| schemes.iter().any(|x| x.eq_ignore_ascii_case(s));
        let api_key = self.api_key_header.clone().unwrap_or_else(|| "apikey".to_owned());
        let api_keys = if has("api_key") {
            vec![ApiKeyLocation::Header(api_key.clone()), ApiKeyLocation::Query(api_key)]
        } else {
            Vec::new()
        };
        let mutual_tls = if has("mutualssl_mandatory") {
            MutualTlsMode::Mandatory
        } else if has("mutualssl") {
            MutualTlsMode::Optional
        } else {
            MutualTlsMode::Off
        };
        let application = has("oauth2") || has("basic_auth") || has("api_key");
        // WSO2: without mutual SSL, application security is always mandatory; with it,
        // `oauth_basic_auth_api_key_mandatory` says whether it is (an optional certificate that
        // is absent makes it required anyway, see `Authenticate`).
        let mandatory = match mutual_tls {
            MutualTlsMode::Off => true,
            _ => application && has("oauth_basic_auth_api_key_mandatory"),
        };
        let req = SecurityRequirement {
            oauth2: has("oauth2"),
            basic: has("basic_auth"),
            api_keys,
            mandatory,
            authorization_header: self
                .authorization_header
                .clone()
                .unwrap_or_else(|| "authorization".to_owned()),
            scopes: scopes.to_vec(),
            mutual_tls,
            // Filled by `compile` from the project's `Client-certificates/`.
            client_certificates: Default::default(),
        };
        Some(DeclaredSecurity::Required(req))
    }
}
