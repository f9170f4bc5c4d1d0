//! The authenticated caller: what authentication learnt about who sent the request, kept in the
//! request context (as an `Rc`, shared with the per-core verified-token cache) for authorization,
//! the backend JWT and rate limiting.

use crate::wso2::ApiKeyClaims;
use crate::KeyType;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A self-contained OAuth2 access token (JWT) verified with the issuer's keys.
    Jwt,
    /// An opaque OAuth2 token, checked by introspection (RFC 7662).
    OpaqueToken,
    /// An API key (configured digest, or a WSO2 self-contained API key).
    ApiKey,
    /// HTTP Basic credentials of a configured user.
    Basic,
    /// A client certificate (mutual TLS) the API trusts.
    MutualTls,
}

impl AuthMethod {
    /// Name used in logs and the backend JWT.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::OpaqueToken => "opaque",
            Self::ApiKey => "api_key",
            Self::Basic => "basic",
            Self::MutualTls => "mutual_tls",
        }
    }
}

/// Who is calling, as established by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub method: AuthMethod,
    /// The issuer (key manager) name from configuration; `None` for API keys from configuration
    /// and Basic users.
    pub issuer: Option<String>,
    /// The end user or client: `sub`, introspection `username`/`sub`, the Basic user name, the
    /// API key's application, or the client certificate's subject DN.
    pub subject: String,
    /// OAuth2 client id (consumer key): the issuer's consumer-key claim (`azp` by default).
    pub consumer_key: Option<String>,
    /// Application name, when known (WSO2 `application` claim, API key, subscription table).
    pub application: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Production or sandbox.
    pub key_type: KeyType,
    /// Token id (`jti`), checked against revocations.
    pub jti: Option<String>,
    /// Unix seconds after which the credential is no longer valid (cache entries expire then).
    pub expires_at: u64,
    /// The claims of a WSO2 self-contained API key (subscribed APIs, permitted IPs and
    /// referers), checked on every request.
    pub api_key: Option<Box<ApiKeyClaims>>,
    /// Whether the caller's application must hold an active subscription to the API (set by the
    /// issuer's configuration).
    pub validate_subscriptions: bool,
    /// The throttling tier the credential is mapped to (a client certificate's `tierName`).
    pub tier: Option<String>,
}

impl Caller {
    /// Whether the caller holds at least one of `required` (WSO2 semantics: any listed scope
    /// grants access); an empty list requires nothing.
    pub fn has_any_scope(&self, required: &[String]) -> bool {
        required.is_empty() || required.iter().any(|r| self.scopes.iter().any(|s| s == r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_listed_scope_grants_access() {
        let caller = Caller {
            method: AuthMethod::Jwt,
            issuer: None,
            subject: "s".into(),
            consumer_key: None,
            application: None,
            scopes: vec!["read".into(), "write".into()],
            key_type: KeyType::Production,
            jti: None,
            expires_at: 0,
            api_key: None,
            validate_subscriptions: false,
            tier: None,
        };
        assert!(caller.has_any_scope(&[]));
        assert!(caller.has_any_scope(&["admin".into(), "write".into()]));
        assert!(!caller.has_any_scope(&["admin".into()]));
    }
}
