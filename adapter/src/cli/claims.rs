//! What a token minted by `turnpike token` says: the claims of an OAuth2 access token and of a
//! WSO2 self-contained API key, as JSON ready to be signed.
//!
//! Where it sits: `token` parses the command line into [`TokenClaims`] (and [`ApiKeyGrant`]),
//! calls [`access_token`] or [`api_key`] with the current time and a random `jti`, and signs the
//! bytes with a [`turnpike_policy::jose::SigningKey`]. The API key shape is the one WSO2's
//! Developer Portal issues and `turnpike_policy::wso2::ApiKeyClaims` reads. Nothing here reads
//! files, draws random numbers or looks at the clock: those come in as arguments.

use serde_json::{json, Map, Value};

/// `--api NAME:CONTEXT:VERSION`: one subscribed API of an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribedApi {
    pub name: String,
    pub context: String,
    pub version: String,
}

/// Parses `NAME:CONTEXT:VERSION`; the context starts with `/` (and holds no `:`).
pub fn parse_api(text: &str) -> Result<SubscribedApi, String> {
    let usage = || format!("{text:?}: expected NAME:CONTEXT:VERSION, e.g. Pets:/pets/1.0.0:1.0.0");
    let (name, rest) = text.split_once(':').ok_or_else(usage)?;
    let (context, version) = rest.rsplit_once(':').ok_or_else(usage)?;
    if name.is_empty() || version.is_empty() || !context.starts_with('/') {
        return Err(usage());
    }
    Ok(SubscribedApi { name: name.into(), context: context.into(), version: version.into() })
}

/// Parses `--claim NAME=VALUE`: a VALUE that is JSON (number, boolean, array, object, quoted
/// string, null) is taken as JSON, anything else as a string.
pub fn parse_claim(text: &str) -> Result<(String, Value), String> {
    let (name, value) =
        text.split_once('=').ok_or_else(|| format!("{text:?}: expected NAME=VALUE"))?;
    if name.is_empty() {
        return Err(format!("{text:?}: the claim name is empty"));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((name.to_owned(), value))
}

/// The claims every minted token has.
#[derive(Debug, Clone, Default)]
pub struct TokenClaims {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub ttl_s: u64,
    /// `--claim` pairs, applied last (so they may override anything).
    pub extra: Vec<(String, Value)>,
}

/// What an access token adds.
#[derive(Debug, Clone, Default)]
pub struct AccessGrant {
    /// Space-separated scopes (`scope`).
    pub scope: Option<String>,
    /// The client the token was issued to (`azp` and `client_id`).
    pub azp: Option<String>,
}

/// What an API key adds.
#[derive(Debug, Clone)]
pub struct ApiKeyGrant {
    pub application: String,
    pub apis: Vec<SubscribedApi>,
    /// `PRODUCTION` or `SANDBOX`.
    pub key_type: &'static str,
    /// Subscription (and application) tier.
    pub tier: String,
    pub permitted_ip: Vec<String>,
    pub permitted_referer: Vec<String>,
}

fn registered(claims: &TokenClaims, now: u64, jti: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("iss".into(), json!(claims.issuer));
    map.insert("sub".into(), json!(claims.subject));
    match claims.audiences.as_slice() {
        [] => {}
        [one] => {
            map.insert("aud".into(), json!(one));
        }
        many => {
            map.insert("aud".into(), json!(many));
        }
    }
    map.insert("iat".into(), json!(now));
    map.insert("exp".into(), json!(now.saturating_add(claims.ttl_s)));
    map.insert("jti".into(), json!(jti));
    map
}

fn finish(mut map: Map<String, Value>, claims: &TokenClaims) -> Vec<u8> {
    for (name, value) in &claims.extra {
        map.insert(name.clone(), value.clone());
    }
    Value::Object(map).to_string().into_bytes()
}

/// An OAuth2 access token's claims (RFC 9068 names; WSO2 reads `scope`, `azp`, `client_id`).
pub fn access_token(claims: &TokenClaims, grant: &AccessGrant, now: u64, jti: &str) -> Vec<u8> {
    let mut map = registered(claims, now, jti);
    if let Some(scope) = grant.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        map.insert("scope".into(), json!(scope));
    }
    if let Some(azp) = &grant.azp {
        map.insert("azp".into(), json!(azp));
        map.insert("client_id".into(), json!(azp));
    }
    finish(map, claims)
}

/// A WSO2 self-contained API key's claims: `token_type: apiKey`, `keytype`, `application`,
/// `subscribedAPIs`, `tierInfo`, `permittedIP`, `permittedReferer`.
pub fn api_key(
    claims: &TokenClaims,
    grant: &ApiKeyGrant,
    now: u64,
    jti: &str,
    app_uuid: &str,
) -> Vec<u8> {
    let mut map = registered(claims, now, jti);
    map.insert("token_type".into(), json!("apiKey"));
    map.insert("keytype".into(), json!(grant.key_type));
    map.insert(
        "application".into(),
        json!({
            "id": 1,
            "uuid": app_uuid,
            "name": grant.application,
            "tier": grant.tier,
            "owner": claims.subject,
        }),
    );
    let apis: Vec<Value> = grant
        .apis
        .iter()
        .map(|api| {
            json!({
                "name": api.name,
                "context": api.context,
                "version": api.version,
                "publisher": "admin",
                "subscriptionTier": grant.tier,
                "subscriberTenantDomain": "carbon.super",
            })
        })
        .collect();
    map.insert("subscribedAPIs".into(), Value::Array(apis));
    let mut tiers = Map::new();
    tiers.insert(
        grant.tier.clone(),
        json!({
            "tierQuotaType": "requestCount",
            "stopOnQuotaReach": true,
            "spikeArrestLimit": 0,
            "spikeArrestUnit": null,
            "graphQLMaxDepth": 0,
            "graphQLMaxComplexity": 0,
        }),
    );
    map.insert("tierInfo".into(), Value::Object(tiers));
    map.insert("permittedIP".into(), json!(grant.permitted_ip.join(",")));
    map.insert("permittedReferer".into(), json!(grant.permitted_referer.join(",")));
    finish(map, claims)
}

/// A random (version 4) UUID from 16 random bytes, as WSO2 writes `jti` and application ids.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use turnpike_policy::jose::Claims;
    use turnpike_policy::wso2::ApiKeyClaims;
    use turnpike_policy::KeyType;

    fn base() -> TokenClaims {
        TokenClaims {
            issuer: "https://iss".into(),
            subject: "alice".into(),
            audiences: vec!["shop".into()],
            ttl_s: 60,
            extra: vec![("groups".into(), json!(["a"])), ("sub".into(), json!("bob"))],
        }
    }

    #[test]
    fn access_tokens_carry_the_registered_claims_and_extras_win() {
        let grant = AccessGrant { scope: Some(" read write ".into()), azp: Some("app".into()) };
        let bytes = access_token(&base(), &grant, 1_000, "j1");
        let claims = Claims::parse(&bytes).unwrap();
        assert_eq!(claims.iss.as_deref(), Some("https://iss"));
        assert_eq!(claims.sub.as_deref(), Some("bob"));
        assert_eq!(
            (claims.iat, claims.exp, claims.jti.as_deref()),
            (Some(1_000), Some(1_060), Some("j1"))
        );
        assert_eq!(claims.all["scope"], "read write");
        assert_eq!(claims.all["aud"], "shop");
        assert_eq!((&claims.all["azp"], &claims.all["client_id"]), (&json!("app"), &json!("app")));
        assert_eq!(claims.all["groups"], json!(["a"]));
        let none = access_token(&TokenClaims::default(), &AccessGrant::default(), 5, "j");
        let none = Claims::parse(&none).unwrap();
        assert!(!none.all.contains_key("scope") && !none.all.contains_key("aud"));
    }

    #[test]
    fn api_keys_have_the_shape_the_gateway_reads() {
        let grant = ApiKeyGrant {
            application: "shop-app".into(),
            apis: vec![parse_api("Pets:/pets/1.0.0:1.0.0").unwrap()],
            key_type: "SANDBOX",
            tier: "Gold".into(),
            permitted_ip: vec!["10.0.0.0/8".into(), "127.0.0.1".into()],
            permitted_referer: Vec::new(),
        };
        let bytes = api_key(&base(), &grant, 1_000, "j2", "u-1");
        let key = ApiKeyClaims::parse(&bytes).unwrap();
        assert_eq!(key.key_type, KeyType::Sandbox);
        assert_eq!(key.application.name.as_deref(), Some("shop-app"));
        assert_eq!(key.application.id.as_deref(), Some("1"));
        assert!(key.subscribed_to("Pets", "1.0.0", "/pets/1.0.0"));
        assert!(!key.subscribed_to("Pets", "2.0.0", "/pets/2.0.0"));
        assert!(key.tier_info.contains_key("Gold"));
        assert!(key.ip_permitted("10.1.2.3".parse().unwrap()));
        assert!(!key.ip_permitted("192.0.2.1".parse().unwrap()));
        assert!(key.referer_permitted(None), "no Referer list: no restriction");
        assert_eq!(key.exp, Some(1_060));
        assert_eq!(key.token_type.as_deref(), Some("apiKey"));
    }

    #[test]
    fn arguments_parse_or_say_what_is_expected() {
        assert_eq!(
            parse_api("A:B:/c:1").unwrap_err(),
            "\"A:B:/c:1\": expected NAME:CONTEXT:VERSION, e.g. Pets:/pets/1.0.0:1.0.0"
        );
        assert!(parse_api("Pets:/pets").is_err() && parse_api(":/p:1").is_err());
        assert!(parse_api("Pets:/p:").is_err());
        assert_eq!(parse_claim("n=3").unwrap(), ("n".into(), json!(3)));
        assert_eq!(parse_claim("s=a=b").unwrap(), ("s".into(), json!("a=b")));
        assert_eq!(parse_claim("l=[\"x\"]").unwrap(), ("l".into(), json!(["x"])));
        assert!(parse_claim("novalue").is_err() && parse_claim("=1").is_err());
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
