//! `gateway.toml [security.backend_jwt]`: the backend JWT (`X-JWT-Assertion`) the gateway signs
//! for authenticated requests, validated into [`BackendJwtConfig`] with errors naming the file and
//! key path.
//!
//! ```toml
//! [security.backend_jwt]
//! enabled = false               # on for every secured route of every API, or off
//! header = "X-JWT-Assertion"    # request header the assertion is sent in
//! signing_key_file = ""         # PKCS#8 PEM private key (RSA 2048-4096, P-256, P-384, Ed25519);
//!                               # unset: a P-256 key generated at start (changes every restart)
//! algorithm = ""                # default by key type: RSA RS256, P-256 ES256, P-384 ES384,
//!                               # Ed25519 EdDSA; RSA keys also PS256..PS512, RS384, RS512
//! kid = ""                      # default: the key's RFC 7638 JWK thumbprint
//! issuer = "wso2.org/products/am"   # `iss`
//! audience = ""                 # `aud`, when set
//! ttl_s = 900                   # `exp` = `iat` + ttl_s, never after the credential's expiry
//! claim_dialect = "http://wso2.org/claims"
//! ```
//!
//! Where it sits: parsed with the rest of `[security]`, before anything starts. The key is loaded
//! (or generated) here, once: the parsed config holds it, so every snapshot compiled from it
//! signs with the same key and publishes the same `/.wellknown/jwks`. Its `Debug` shows the
//! configured values, not a generated key, so comparing configurations on reload does not see a
//! change where there is none.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use turnpike_policy::backend_jwt::{
    generate_signing_key, load_signing_key, BackendJwtSettings, DEFAULT_DIALECT, DEFAULT_HEADER,
    DEFAULT_ISSUER, DEFAULT_TTL_SECS,
};
use turnpike_policy::jose::{Alg, SigningKey};
use turnpike_policy::{Direction, HeaderEdit, HeaderMediation};

use crate::config::Section;
use crate::error::ConfigError;

/// Headers the proxy writes itself; an assertion there would be sent twice.
const PROXY_HEADERS: [&str; 5] =
    ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id", "via"];

/// An enabled `[security.backend_jwt]`.
#[derive(Clone)]
pub struct BackendJwtConfig {
    pub settings: BackendJwtSettings,
    /// The signing key, loaded from `key_file` or generated.
    pub key: Arc<SigningKey>,
    /// Where the key came from; `None`: generated at start.
    pub key_file: Option<PathBuf>,
    /// `algorithm` and `kid` as configured.
    pub algorithm: Option<Alg>,
    pub kid: Option<String>,
}

impl BackendJwtConfig {
    /// Whether the key was generated at start (backends must fetch `/.wellknown/jwks`).
    pub fn ephemeral(&self) -> bool {
        self.key_file.is_none()
    }
}

impl fmt::Debug for BackendJwtConfig {
    /// The configuration as written (and, for a key file, the key's algorithm and `kid`): two
    /// parses of the same file print the same, even though each generates its own ephemeral key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BackendJwtConfig");
        d.field("settings", &self.settings)
            .field("key_file", &self.key_file)
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid);
        if self.key_file.is_some() {
            d.field("key", &self.key);
        }
        d.finish()
    }
}

fn non_empty(s: &Section<'_>, key: &str) -> Result<Option<String>, ConfigError> {
    match s.string(key)? {
        Some((p, v)) if v.trim().is_empty() || v.chars().any(char::is_control) => {
            Err(s.invalid(&p, "must be non-empty, without control characters".into()))
        }
        Some((_, v)) => Ok(Some(v)),
        None => Ok(None),
    }
}

/// Parses `[security.backend_jwt]`; `None` when it is not enabled (its keys are still checked,
/// the key file is not read).
pub(crate) fn parse(s: &Section<'_>) -> Result<Option<BackendJwtConfig>, ConfigError> {
    s.only(&[
        "enabled",
        "header",
        "signing_key_file",
        "algorithm",
        "kid",
        "issuer",
        "audience",
        "ttl_s",
        "claim_dialect",
    ])?;
    let enabled = s.bool("enabled")?.unwrap_or(false);
    let header = match s.string("header")? {
        None => DEFAULT_HEADER.to_owned(),
        Some((p, name)) => {
            let edit = HeaderEdit::Set { name: name.clone(), value: String::new() };
            HeaderMediation::new(Direction::Request, vec![edit])
                .map_err(|e| s.invalid(&p, e.to_string()))?;
            if PROXY_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
                return Err(s.invalid(&p, format!("header {name:?} is managed by the gateway")));
            }
            name
        }
    }
    // Lower case, as every header a policy sets: the encoder compares received names against it
    // (so a client's copy under any case is never forwarded), and HTTP names are case-insensitive.
    .to_ascii_lowercase();
    let algorithm = match s.string("algorithm")? {
        None => None,
        Some((p, name)) => {
            Some(Alg::parse(&name).map_err(|why| s.invalid(&p, format!("{name:?}: {why:?}")))?)
        }
    };
    let kid = non_empty(s, "kid")?;
    let settings = BackendJwtSettings {
        header,
        issuer: non_empty(s, "issuer")?.unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
        ttl_secs: s.positive("ttl_s")?.unwrap_or(DEFAULT_TTL_SECS),
        dialect: match s.string("claim_dialect")? {
            Some((p, d)) if d.chars().any(|c| c.is_control() || c == '"') => {
                return Err(s.invalid(&p, "must not contain control characters or quotes".into()))
            }
            Some((_, d)) => d,
            None => DEFAULT_DIALECT.to_owned(),
        },
        audience: non_empty(s, "audience")?,
    };
    let key_file = s.string("signing_key_file")?.filter(|(_, f)| !f.is_empty());
    if !enabled {
        return Ok(None);
    }
    let key = match &key_file {
        Some((p, file)) => {
            let bytes = std::fs::read(file)
                .map_err(|e| s.invalid(p, format!("cannot read {file}: {e}")))?;
            load_signing_key(&bytes, algorithm, kid.clone())
                .map_err(|e| s.invalid(p, format!("{file}: {e}")))?
        }
        None => generate_signing_key(algorithm, kid.clone()).map_err(|e| {
            let at = if algorithm.is_some() { "algorithm" } else { "signing_key_file" };
            s.invalid(&s.pointer.key(at), e.to_string())
        })?,
    };
    Ok(Some(BackendJwtConfig {
        settings,
        key: Arc::new(key),
        key_file: key_file.map(|(_, f)| PathBuf::from(f)),
        algorithm,
        kid,
    }))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse as parse_config;

    const RSA_PEM: &str = include_str!("../../../policy/tests/keys/rsa2048.pem");

    fn parse_text(body: &str) -> Result<Option<BackendJwtConfig>, ConfigError> {
        let text = format!("[security.backend_jwt]\n{body}");
        parse_config(Path::new("gateway.toml"), &text).map(|c| c.security.backend_jwt)
    }

    fn error(body: &str) -> (String, String) {
        match parse_text(body).unwrap_err() {
            ConfigError::InvalidConfig { pointer, reason, .. } => (pointer, reason),
            other => panic!("expected InvalidConfig, got {other}"),
        }
    }

    #[test]
    fn disabled_by_default_and_defaults_when_enabled() {
        assert!(parse_text("").unwrap().is_none());
        assert!(parse_text("header = \"X-Jwt\"\nsigning_key_file = \"/nonexistent\"")
            .unwrap()
            .is_none());
        let c = parse_text("enabled = true").unwrap().unwrap();
        assert!(c.ephemeral());
        assert_eq!(c.key.alg(), Alg::ES256);
        assert_eq!(c.settings, BackendJwtSettings::default());
        // Two parses generate two keys but read the same.
        let again = parse_text("enabled = true").unwrap().unwrap();
        assert_ne!(c.key.kid(), again.key.kid());
        assert_eq!(format!("{c:?}"), format!("{again:?}"));
    }

    #[test]
    fn reads_a_key_file_and_every_setting() {
        let dir = std::env::temp_dir().join(format!("tp-bjwt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key.pem");
        std::fs::write(&file, RSA_PEM).unwrap();
        let c = parse_text(&format!(
            "enabled = true\nsigning_key_file = {:?}\nheader = \"X-Backend-JWT\"\nissuer = \"gw\"\n\
             audience = \"backend\"\nttl_s = 60\nclaim_dialect = \"\"\nkid = \"k1\"\n\
             algorithm = \"PS256\"",
            file.display().to_string()
        ))
        .unwrap()
        .unwrap();
        assert!(!c.ephemeral());
        assert_eq!((c.key.alg(), c.key.kid()), (Alg::PS256, Some("k1")));
        assert_eq!(
            c.settings,
            BackendJwtSettings {
                header: "x-backend-jwt".into(),
                issuer: "gw".into(),
                ttl_secs: 60,
                dialect: String::new(),
                audience: Some("backend".into()),
            }
        );
        let (pointer, reason) = error(&format!(
            "enabled = true\nsigning_key_file = {:?}\nalgorithm = \"ES256\"",
            file.display().to_string()
        ));
        assert_eq!(pointer, "/security/backend_jwt/signing_key_file");
        assert!(reason.contains("ES256 cannot be used with an RSA key"), "{reason}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secured_proxied_routes_get_the_policy_after_authentication() {
        use turnpike_core::RouteAction;
        use turnpike_policy::BuiltinPolicy;

        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/apis");
        let defs = crate::load_dir(&examples).unwrap().definitions;
        let compile = |body: &str| {
            let config = parse_text(body).unwrap();
            let mut inputs = super::super::SecurityInputs::default();
            inputs.config.backend_jwt = config;
            crate::compile_secured(&defs, turnpike_core::Settings::default(), &inputs).unwrap()
        };
        let is_jwt = |p: &BuiltinPolicy| matches!(p, BuiltinPolicy::BackendJwt(_));

        let on = compile("enabled = true");
        assert!(on.security.backend_jwt.is_some());
        let (mut proxied, mut mocked) = (0, 0);
        for route in &on.routes {
            let authenticated =
                matches!(route.policies.first(), Some(BuiltinPolicy::Authenticate(_)));
            let jwt_at: Vec<usize> = route
                .policies
                .iter()
                .enumerate()
                .filter(|(_, p)| is_jwt(p))
                .map(|(i, _)| i)
                .collect();
            match (&route.action, authenticated) {
                (RouteAction::Proxy, true) => {
                    proxied += 1;
                    assert_eq!(jwt_at, [1], "right after Authenticate: {route:?}");
                }
                (RouteAction::Mock(_), true) => {
                    mocked += 1;
                    assert!(jwt_at.is_empty(), "no backend, no assertion: {route:?}");
                }
                _ => assert!(jwt_at.is_empty(), "{route:?}"),
            }
        }
        assert!(proxied > 0 && mocked > 0, "both kinds of route are covered");

        let off = compile("enabled = false");
        assert!(off.security.backend_jwt.is_none());
        assert!(off.routes.iter().all(|r| !r.policies.iter().any(is_jwt)));
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                "enabled = true\nsigning_key_file = \"/nonexistent/k.pem\"",
                "signing_key_file",
                "cannot read",
            ),
            ("enabled = true\nalgorithm = \"RS256\"", "algorithm", "signing_key_file"),
            ("enabled = true\nalgorithm = \"HS256\"", "algorithm", "not allowed"),
            ("algorithm = \"none\"", "algorithm", "None"),
            ("header = \"bad header\"", "header", "not a valid HTTP token"),
            ("header = \"Connection\"", "header", "managed by the gateway"),
            ("header = \"X-Request-Id\"", "header", "managed by the gateway"),
            ("ttl_s = 0", "ttl_s", "greater than 0"),
            ("issuer = \"\"", "issuer", "non-empty"),
            ("claim_dialect = \"a\\\"b\"", "claim_dialect", "quotes"),
            ("enable = true", "enable", "unknown key"),
        ];
        for (body, key, words) in cases {
            let (pointer, reason) = error(body);
            assert_eq!(pointer, format!("/security/backend_jwt/{key}"), "{body}");
            assert!(reason.contains(words), "{body}: {reason}");
        }
    }
}
