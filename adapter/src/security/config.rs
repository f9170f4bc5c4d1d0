//! `gateway.toml [security]`: the format, validated into [`SecurityConfig`] with errors naming the
//! file and key path.
//!
//! ```toml
//! [security]
//! default = "oauth2"            # APIs that declare no security: "oauth2" (WSO2's default) | "none"
//! realm = "turnpike"            # WWW-Authenticate realm
//! strip_credentials = true      # remove the credential header / query parameter before forwarding
//! basic_cache_ttl_s = 300       # successful Basic verifications are cached this long per core
//! subscriptions_file = ""       # JSON {"applications": [...], "subscriptions": [...]}
//! [[security.issuers]]          # OAuth2 key managers whose JWTs are accepted
//! name = "km"                   # unique, used in logs and the admin API
//! issuer = "https://km.example/oauth2/token"   # exact `iss`
//! jwks_url = "https://km.example/oauth2/jwks"  # or jwks_file = "km-jwks.json", or secret_env = "VAR" (HS*)
//!                               # or certificate = "km.pem" (X.509 certificate or PUBLIC KEY PEM)
//! kid = ""                      # with certificate: the key's kid; empty = matches any token kid
//! algorithms = ["RS256"]        # allow-list; default RS256 PS256 ES256 ES384 EdDSA (HS* with secret_env)
//! audiences = []                # when set, `aud` must contain one
//! clock_skew_s = 60
//! consumer_key_claim = "azp"
//! scopes_claim = "scope"
//! validate_subscriptions = false
//! jwks_refresh_s = 900          # background refresh period
//! jwks_min_refetch_s = 10       # an unknown kid refetches at most this often (per issuer)
//! claim_mappings = {}           # remote claim name = local claim name
//! [security.introspection]      # RFC 7662, for opaque tokens
//! url = "http://127.0.0.1:8080/oauth2/introspect"
//! client_id = ""                # with client_secret_env: HTTP Basic client authentication
//! client_secret_env = ""
//! cache_ttl_s = 300
//! introspect_failed_jwts = false
//! validate_subscriptions = false
//! max_in_flight = 16            # per core
//! [[security.api_keys]]         # plain API keys, stored as SHA-256 (turnpike token --plain-api-key)
//! application = "shop"
//! sha256 = "<64 hex digits>"
//! key_type = "PRODUCTION"       # or SANDBOX
//! apis = []                     # API names the key may call; empty = all
//! [[security.basic_users]]
//! username = "alice"
//! password_hash = "$argon2id$..."   # or bcrypt $2b$...
//! [security.backend_jwt]        # X-JWT-Assertion to backends; keys in `backend_jwt.rs`
//! enabled = false
//! header = "X-JWT-Assertion"
//! signing_key_file = ""         # PKCS#8 PEM; unset: generated at start (fetch /.wellknown/jwks)
//! algorithm = ""                # by key type: RS256 (RSA), ES256, ES384, EdDSA
//! kid = ""                      # default: RFC 7638 thumbprint
//! issuer = "wso2.org/products/am"
//! audience = ""
//! ttl_s = 900
//! claim_dialect = "http://wso2.org/claims"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use turnpike_core::Endpoint;
use turnpike_policy::credentials::{ApiKeyEntry, BasicUserEntry};
use turnpike_policy::jose::{Alg, KeySet};
use turnpike_policy::KeyType;

use crate::config::{expected, Section};
use crate::error::ConfigError;

/// What an API that declares no security gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultSecurity {
    /// OAuth2 bearer tokens, mandatory (WSO2's default).
    #[default]
    OAuth2,
    /// Open.
    None,
}

/// One `[[security.issuers]]` entry.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    pub name: String,
    pub issuer: String,
    pub jwks_url: Option<String>,
    /// Keys known without fetching (`jwks_file`, `secret_env`).
    pub static_keys: Option<KeySet>,
    pub algorithms: Vec<Alg>,
    pub audiences: Vec<String>,
    pub clock_skew_s: u64,
    pub consumer_key_claim: String,
    pub scopes_claim: String,
    pub validate_subscriptions: bool,
    pub jwks_refresh: Duration,
    pub jwks_min_refetch: Duration,
    pub claim_mappings: Vec<(String, String)>,
}

/// `[security.introspection]`.
#[derive(Debug, Clone)]
pub struct IntrospectionConfig {
    pub url: String,
    pub endpoint: Endpoint,
    pub authorization: Option<String>,
    pub cache_ttl_s: u64,
    pub introspect_failed_jwts: bool,
    pub validate_subscriptions: bool,
    pub max_in_flight: u32,
}

/// Everything `[security]` configures.
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    pub default: DefaultSecurity,
    pub realm: Option<String>,
    pub strip_credentials: Option<bool>,
    pub basic_cache_ttl_s: Option<u64>,
    pub subscriptions_file: Option<PathBuf>,
    pub issuers: Vec<IssuerConfig>,
    pub introspection: Option<IntrospectionConfig>,
    pub api_keys: Vec<ApiKeyEntry>,
    pub basic_users: Vec<BasicUserEntry>,
    /// `[security.backend_jwt]`, when enabled.
    pub backend_jwt: Option<super::backend_jwt::BackendJwtConfig>,
}

const DEFAULT_ALGS: [Alg; 5] = [Alg::RS256, Alg::PS256, Alg::ES256, Alg::ES384, Alg::EdDSA];

/// Parses `[security]`.
pub(crate) fn parse_security(s: &Section<'_>) -> Result<SecurityConfig, ConfigError> {
    s.only(&[
        "default",
        "realm",
        "strip_credentials",
        "basic_cache_ttl_s",
        "subscriptions_file",
        "issuers",
        "introspection",
        "api_keys",
        "basic_users",
        "backend_jwt",
    ])?;
    let mut out = SecurityConfig::default();
    if let Some((p, text)) = s.string("default")? {
        out.default = match text.as_str() {
            "oauth2" => DefaultSecurity::OAuth2,
            "none" => DefaultSecurity::None,
            _ => return Err(s.invalid(&p, format!("{text:?}: expected \"oauth2\" or \"none\""))),
        };
    }
    if let Some((p, realm)) = s.string("realm")? {
        if realm.is_empty() || realm.chars().any(char::is_control) {
            return Err(s.invalid(&p, "must be non-empty, without control characters".into()));
        }
        out.realm = Some(realm);
    }
    out.strip_credentials = s.bool("strip_credentials")?;
    out.basic_cache_ttl_s = s.uint("basic_cache_ttl_s")?;
    if let Some((_, file)) = s.string("subscriptions_file")? {
        out.subscriptions_file = (!file.is_empty()).then(|| PathBuf::from(file));
    }
    for item in s.tables("issuers")? {
        let issuer = issuer(&item)?;
        if out.issuers.iter().any(|i| i.name == issuer.name || i.issuer == issuer.issuer) {
            return Err(item.invalid(
                &item.pointer,
                format!("issuer {:?} ({}) is configured twice", issuer.name, issuer.issuer),
            ));
        }
        out.issuers.push(issuer);
    }
    if let Some(i) = s.section("introspection")? {
        out.introspection = Some(introspection(&i)?);
    }
    if let Some(b) = s.section("backend_jwt")? {
        out.backend_jwt = super::backend_jwt::parse(&b)?;
    }
    for item in s.tables("api_keys")? {
        item.only(&["application", "sha256", "key_type", "apis"])?;
        let application = required(&item, "application")?;
        let sha256_hex = required(&item, "sha256")?;
        let key_type = key_type(&item)?;
        let apis = item.strings("apis")?.map(|a| a.into_iter().map(|(_, n)| n).collect::<Vec<_>>());
        out.api_keys.push(ApiKeyEntry {
            application,
            sha256_hex,
            key_type,
            apis: apis.filter(|a| !a.is_empty()),
        });
    }
    for item in s.tables("basic_users")? {
        item.only(&["username", "password_hash"])?;
        out.basic_users.push(BasicUserEntry {
            username: required(&item, "username")?,
            password_hash: required(&item, "password_hash")?,
        });
    }
    Ok(out)
}

fn issuer(s: &Section<'_>) -> Result<IssuerConfig, ConfigError> {
    s.only(&[
        "name",
        "issuer",
        "jwks_url",
        "jwks_file",
        "secret_env",
        "certificate",
        "kid",
        "algorithms",
        "audiences",
        "clock_skew_s",
        "consumer_key_claim",
        "scopes_claim",
        "validate_subscriptions",
        "jwks_refresh_s",
        "jwks_min_refetch_s",
        "claim_mappings",
    ])?;
    let name = required(s, "name")?;
    let issuer = required(s, "issuer")?;
    let jwks_url = s.string("jwks_url")?.map(|(_, u)| u);
    let jwks_file = s.string("jwks_file")?;
    let secret_env = s.string("secret_env")?;
    let certificate = s.string("certificate")?;
    let sources = usize::from(jwks_url.is_some())
        + usize::from(jwks_file.is_some())
        + usize::from(secret_env.is_some())
        + usize::from(certificate.is_some());
    if sources != 1 {
        return Err(s.invalid(
            &s.pointer,
            "exactly one of jwks_url, jwks_file, secret_env or certificate is required".into(),
        ));
    }
    let kid = s.string("kid")?.filter(|(_, k)| !k.is_empty());
    if let (Some((p, _)), None) = (&kid, &certificate) {
        return Err(s.invalid(p, "kid goes with certificate (a JWKS names its own kids)".into()));
    }
    if let Some(url) = &jwks_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(s.invalid(&s.pointer.key("jwks_url"), "must be an http(s) URL".into()));
        }
    }
    let static_keys = match (&jwks_file, &secret_env) {
        (Some((p, file)), _) => {
            let bytes = std::fs::read(file)
                .map_err(|e| s.invalid(p, format!("cannot read {file}: {e}")))?;
            let keys = KeySet::from_jwks(&bytes)
                .map_err(|e| s.invalid(p, format!("{file} is not a usable JWKS: {e}")))?;
            if keys.is_empty() {
                return Err(s.invalid(p, format!("{file} holds no usable key")));
            }
            Some(keys)
        }
        (None, Some((p, var))) => {
            let secret = std::env::var(var)
                .map_err(|_| s.invalid(p, format!("environment variable {var} is not set")))?;
            Some(
                KeySet::from_secret(secret.as_bytes(), None)
                    .map_err(|e| s.invalid(p, format!("unusable secret in {var}: {e}")))?,
            )
        }
        _ => match &certificate {
            Some((p, file)) => Some(KeySet::from_keys([super::certificate::read_issuer_key(
                Path::new(file),
                kid.as_ref().map(|(_, k)| k.as_str()),
            )
            .map_err(|e| s.invalid(p, format!("{file}: {e}")))?])),
            None => None,
        },
    };
    let algorithms = match s.strings("algorithms")? {
        None if secret_env.is_some() => vec![Alg::HS256, Alg::HS384, Alg::HS512],
        None => DEFAULT_ALGS.to_vec(),
        Some(list) => {
            let mut algs = Vec::with_capacity(list.len());
            for (p, name) in list {
                let alg = Alg::parse(&name)
                    .map_err(|why| s.invalid(&p, format!("algorithm {name:?}: {why:?}")))?;
                let hmac = alg.min_hmac_key_len().is_some();
                if hmac != secret_env.is_some() {
                    return Err(s.invalid(
                        &p,
                        format!(
                            "{name} needs {}",
                            if hmac {
                                "secret_env (a shared secret)"
                            } else {
                                "a public key (jwks_url, jwks_file or certificate)"
                            }
                        ),
                    ));
                }
                algs.push(alg);
            }
            if algs.is_empty() {
                return Err(s.invalid(&s.pointer.key("algorithms"), "must not be empty".into()));
            }
            algs
        }
    };
    let mut claim_mappings = Vec::new();
    if let Some(map) = s.section("claim_mappings")? {
        for (remote, local) in map.table {
            let toml::Value::String(local) = local else {
                return Err(map.invalid(&map.pointer.key(remote), expected("a string", local)));
            };
            claim_mappings.push((remote.clone(), local.clone()));
        }
    }
    Ok(IssuerConfig {
        name,
        issuer,
        jwks_url,
        static_keys,
        algorithms,
        audiences: s
            .strings("audiences")?
            .unwrap_or_default()
            .into_iter()
            .map(|(_, a)| a)
            .collect(),
        clock_skew_s: s.uint("clock_skew_s")?.unwrap_or(60),
        consumer_key_claim: s
            .string("consumer_key_claim")?
            .map_or_else(|| "azp".into(), |(_, c)| c),
        scopes_claim: s.string("scopes_claim")?.map_or_else(|| "scope".into(), |(_, c)| c),
        validate_subscriptions: s.bool("validate_subscriptions")?.unwrap_or(false),
        jwks_refresh: Duration::from_secs(s.positive("jwks_refresh_s")?.unwrap_or(900)),
        jwks_min_refetch: Duration::from_secs(s.uint("jwks_min_refetch_s")?.unwrap_or(10)),
        claim_mappings,
    })
}

fn introspection(s: &Section<'_>) -> Result<IntrospectionConfig, ConfigError> {
    s.only(&[
        "url",
        "client_id",
        "client_secret_env",
        "cache_ttl_s",
        "introspect_failed_jwts",
        "validate_subscriptions",
        "max_in_flight",
    ])?;
    let url = required(s, "url")?;
    let url_ptr = s.pointer.key("url");
    let endpoint = crate::openapi::parse_url(&url)
        .map_err(|why| s.invalid(&url_ptr, format!("{url:?}: {why}")))?;
    let client_id = s.string("client_id")?.map(|(_, c)| c).filter(|c| !c.is_empty());
    let secret = match s.string("client_secret_env")? {
        Some((p, var)) if !var.is_empty() => Some(
            std::env::var(&var)
                .map_err(|_| s.invalid(&p, format!("environment variable {var} is not set")))?,
        ),
        _ => None,
    };
    let authorization = match (client_id, secret) {
        (Some(id), Some(secret)) => Some(format!(
            "Basic {}",
            turnpike_policy::base64::encode_standard(format!("{id}:{secret}").as_bytes())
        )),
        (None, None) => None,
        _ => {
            return Err(s.invalid(&s.pointer, "client_id and client_secret_env go together".into()))
        }
    };
    Ok(IntrospectionConfig {
        url,
        endpoint,
        authorization,
        cache_ttl_s: s.uint("cache_ttl_s")?.unwrap_or(300),
        introspect_failed_jwts: s.bool("introspect_failed_jwts")?.unwrap_or(false),
        validate_subscriptions: s.bool("validate_subscriptions")?.unwrap_or(false),
        max_in_flight: s.fits("max_in_flight", s.positive("max_in_flight")?.unwrap_or(16))?,
    })
}

fn required(s: &Section<'_>, key: &str) -> Result<String, ConfigError> {
    match s.string(key)? {
        Some((p, v)) if v.trim().is_empty() => Err(s.invalid(&p, "must not be empty".into())),
        Some((_, v)) => Ok(v),
        None => Err(s.invalid(&s.pointer.key(key), "required".into())),
    }
}

fn key_type(s: &Section<'_>) -> Result<KeyType, ConfigError> {
    match s.string("key_type")? {
        None => Ok(KeyType::Production),
        Some((_, t)) if t.eq_ignore_ascii_case("PRODUCTION") => Ok(KeyType::Production),
        Some((_, t)) if t.eq_ignore_ascii_case("SANDBOX") => Ok(KeyType::Sandbox),
        Some((p, t)) => Err(s.invalid(&p, format!("{t:?}: expected PRODUCTION or SANDBOX"))),
    }
}

/// Reads the subscriptions file: `{"applications": [...], "subscriptions": [...]}`.
pub(crate) fn read_subscriptions(
    file: &Path,
) -> Result<
    (Vec<turnpike_policy::auth::Application>, Vec<turnpike_policy::auth::Subscription>),
    String,
> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        #[serde(default)]
        applications: Vec<turnpike_policy::auth::Application>,
        #[serde(default)]
        subscriptions: Vec<turnpike_policy::auth::Subscription>,
    }
    let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let table: Table =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((table.applications, table.subscriptions))
}
