//! What one route requires of a caller: which credential kinds are accepted (WSO2
//! `securityScheme`: `oauth2`, `api_key`, `basic_auth`, `mutualssl`), whether application-level
//! security is mandatory, where the credentials are read, the scopes the operation needs, and the
//! client certificates its API trusts.
//!
//! Compiled by the adapter from the OpenAPI `security` requirements / `x-wso2-disable-security`
//! and `api.yaml` (`securityScheme`, `authorizationHeader`, `apiKeyHeader`, operation scopes and
//! `authType`); read by [`super::Authenticate`] on every request.

use std::sync::Arc;

use super::mutual_tls::{ClientCertificates, MutualTlsMode};

/// Where an API key is presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyLocation {
    /// A request header (name in lower case), WSO2's default `apikey`.
    Header(String),
    /// A query parameter (exact name).
    Query(String),
}

/// The security of one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityRequirement {
    /// OAuth2 bearer tokens (JWT or opaque) in the authorization header.
    pub oauth2: bool,
    /// HTTP Basic in the authorization header.
    pub basic: bool,
    /// API keys, and where they are read from (several locations may be accepted).
    pub api_keys: Vec<ApiKeyLocation>,
    /// Whether a request without any credential is refused (WSO2
    /// `oauth_basic_auth_api_key_mandatory`, the default). When optional, a request without
    /// credentials passes unauthenticated; presented credentials are still checked.
    pub mandatory: bool,
    /// Header carrying OAuth2 / Basic credentials (lower case; WSO2 `authorizationHeader`).
    pub authorization_header: String,
    /// Scopes of the operation; the caller needs one of them.
    pub scopes: Vec<String>,
    /// Whether a client certificate (mutual TLS) authenticates, and whether it must.
    pub mutual_tls: MutualTlsMode,
    /// The client certificates the route's API trusts (shared by the API's routes; empty unless
    /// `mutual_tls` is on).
    pub client_certificates: Arc<ClientCertificates>,
}

impl Default for SecurityRequirement {
    /// WSO2's default: OAuth2, mandatory, `Authorization` header, no scopes.
    fn default() -> Self {
        Self {
            oauth2: true,
            basic: false,
            api_keys: Vec::new(),
            mandatory: true,
            authorization_header: "authorization".to_owned(),
            scopes: Vec::new(),
            mutual_tls: MutualTlsMode::Off,
            client_certificates: Arc::default(),
        }
    }
}

impl SecurityRequirement {
    /// Whether any credential kind is accepted at all.
    pub fn accepts_anything(&self) -> bool {
        self.accepts_application_credentials() || self.mutual_tls != MutualTlsMode::Off
    }

    /// Whether an application-level credential (token, key, Basic) is accepted.
    pub fn accepts_application_credentials(&self) -> bool {
        self.oauth2 || self.basic || !self.api_keys.is_empty()
    }
}
