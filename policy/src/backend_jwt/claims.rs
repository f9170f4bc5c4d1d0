//! The claims of a backend JWT, in WSO2's dialect as Choreo Connect's enforcer sends them
//! (carbon-apimgt `APIMgtGatewayJWTGeneratorImpl.populateStandardClaims`):
//!
//! | claim | value |
//! |---|---|
//! | `iss` | the configured issuer (`wso2.org/products/am`) |
//! | `sub` | the caller's subject (end user, client, Basic user, or API key application) |
//! | `aud` | the configured audience, when set |
//! | `iat`, `exp` | now, and `min(now + ttl, credential expiry)` (NumericDate, seconds) |
//! | `jti` | a random UUID per signed assertion |
//! | `<dialect>/subscriber` | the application's owner, else the subject |
//! | `<dialect>/applicationid`, `/applicationUUId` | the application's id, when known |
//! | `<dialect>/applicationname`, `/applicationtier` | name and tier, when known |
//! | `<dialect>/apiname`, `/apicontext`, `/version` | the API of the route |
//! | `<dialect>/tier` | the subscription tier, when known |
//! | `<dialect>/keytype` | `PRODUCTION` or `SANDBOX` (after subscription validation) |
//! | `<dialect>/usertype` | `APPLICATION` for API keys, `APPLICATION_USER` otherwise |
//! | `<dialect>/enduser` | the subject |
//! | `<dialect>/enduserTenantId` | `-1234` (WSO2's super tenant; Turnpike has no tenants) |
//! | `<dialect>/client_id` | the OAuth2 consumer key, when known |
//!
//! Application facts come from a WSO2 API key's own claims, else from the subscription table by
//! consumer key, else from the token's `application` claim (name only). The result is a pure
//! function of these inputs, the time and the `jti`, which is what lets the per-core cache
//! ([`super::AssertionCache`]) reuse it.
//!
//! Runs only on a cache miss, just before a signature; no I/O.

use serde_json::{Map, Value};

use crate::auth::{ApiRef, AuthMethod, Caller, Subscriptions};
use crate::KeyType;

use super::generator::BackendJwtSettings;

/// WSO2's super tenant id, sent as `enduserTenantId`.
const SUPER_TENANT_ID: &str = "-1234";

/// Everything an assertion says, besides the settings.
#[derive(Debug, Clone, Copy)]
pub struct ClaimInputs<'a> {
    pub caller: &'a Caller,
    pub api: &'a ApiRef,
    /// The request's key type (subscription validation may have changed the caller's).
    pub key_type: KeyType,
    pub subscriptions: &'a Subscriptions,
}

/// The application facts an assertion carries.
#[derive(Debug, Default, PartialEq, Eq)]
struct AppFacts<'a> {
    id: Option<&'a str>,
    uuid: Option<&'a str>,
    name: Option<&'a str>,
    tier: Option<&'a str>,
    owner: Option<&'a str>,
    subscription_tier: Option<&'a str>,
}

fn app_facts<'a>(inputs: &ClaimInputs<'a>) -> AppFacts<'a> {
    let caller = inputs.caller;
    let api = inputs.api;
    if let Some(key) = caller.api_key.as_deref() {
        let app = &key.application;
        return AppFacts {
            id: app.id.as_deref(),
            uuid: app.uuid.as_deref(),
            name: app.name.as_deref(),
            tier: app.tier.as_deref(),
            owner: app.owner.as_deref(),
            subscription_tier: key
                .subscription(&api.name, &api.version, &api.context)
                .and_then(|s| s.subscription_tier.as_deref()),
        };
    }
    let known = caller.consumer_key.as_deref().and_then(|k| inputs.subscriptions.application_of(k));
    if let Some((app, _)) = known {
        // Linear, on a cache miss only (next to a signature that costs far more).
        let subscription = inputs.subscriptions.subscriptions().iter().find(|s| {
            s.application == app.id && s.api_name == api.name && s.api_version == api.version
        });
        return AppFacts {
            id: Some(&app.id),
            uuid: Some(&app.id),
            name: Some(&app.name),
            tier: Some(&app.tier),
            owner: Some(&app.owner).filter(|o| !o.is_empty()).map(|o| o.as_str()),
            subscription_tier: subscription.map(|s| s.tier.as_str()),
        };
    }
    AppFacts { name: caller.application.as_deref(), ..AppFacts::default() }
}

/// The claims set as JSON, signed with `iat = now` and `exp` as in the module documentation;
/// returns the JSON and `exp`.
pub fn claims_json(
    settings: &BackendJwtSettings,
    inputs: &ClaimInputs<'_>,
    now: u64,
    jti: &str,
) -> (String, u64) {
    let caller = inputs.caller;
    let exp = now.saturating_add(settings.ttl_secs).min(caller.expires_at);
    let mut claims = Map::new();
    let mut put = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    put("iss", settings.issuer.as_str().into());
    put("sub", caller.subject.as_str().into());
    if let Some(aud) = &settings.audience {
        put("aud", aud.as_str().into());
    }
    put("iat", now.into());
    put("exp", exp.into());
    put("jti", jti.into());

    let dialect = settings.dialect.as_str();
    let claim = |name: &str| {
        if dialect.is_empty() {
            name.to_owned()
        } else {
            format!("{dialect}/{name}")
        }
    };
    let app = app_facts(inputs);
    let api = inputs.api;
    let mut put_opt = |name: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            claims.insert(claim(name), v.into());
        }
    };
    put_opt("subscriber", app.owner.or(Some(caller.subject.as_str())));
    put_opt("applicationid", app.id);
    put_opt("applicationUUId", app.uuid);
    put_opt("applicationname", app.name);
    put_opt("applicationtier", app.tier);
    put_opt("apiname", Some(&api.name));
    put_opt("apicontext", Some(&api.context));
    put_opt("version", Some(&api.version));
    put_opt("tier", app.subscription_tier);
    put_opt(
        "keytype",
        Some(match inputs.key_type {
            KeyType::Production => "PRODUCTION",
            KeyType::Sandbox => "SANDBOX",
        }),
    );
    put_opt(
        "usertype",
        Some(if caller.method == AuthMethod::ApiKey { "APPLICATION" } else { "APPLICATION_USER" }),
    );
    put_opt("enduser", Some(&caller.subject));
    put_opt("enduserTenantId", Some(SUPER_TENANT_ID));
    put_opt("client_id", caller.consumer_key.as_deref());
    (Value::Object(claims).to_string(), exp)
}

/// A random (version 4) UUID for `jti`; `None` when the system generator fails.
pub fn random_jti() -> Option<String> {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::auth::{Application, ConsumerKey, Subscription, SubscriptionState};
    use serde_json::json;

    pub(crate) fn caller(method: AuthMethod) -> Caller {
        Caller {
            method,
            issuer: Some("km".into()),
            subject: "alice".into(),
            consumer_key: Some("ck-1".into()),
            application: Some("from-token".into()),
            scopes: vec!["read".into()],
            key_type: KeyType::Production,
            jti: Some("t-1".into()),
            expires_at: 10_000,
            api_key: None,
            validate_subscriptions: false,
            tier: None,
        }
    }

    fn api() -> ApiRef {
        ApiRef { name: "Shop".into(), version: "v1".into(), context: "/shop/v1".into() }
    }

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn wso2_dialect_claims_from_the_token() {
        let settings = BackendJwtSettings::default();
        let caller = caller(AuthMethod::Jwt);
        let api = api();
        let subs = Subscriptions::default();
        let inputs = ClaimInputs {
            caller: &caller,
            api: &api,
            key_type: KeyType::Sandbox,
            subscriptions: &subs,
        };
        let (json, exp) = claims_json(&settings, &inputs, 1_000, "j-1");
        assert_eq!(exp, 1_900, "iat + ttl when the token lives longer");
        assert_eq!(
            parse(&json),
            json!({
                "iss": "wso2.org/products/am",
                "sub": "alice",
                "iat": 1_000,
                "exp": 1_900,
                "jti": "j-1",
                "http://wso2.org/claims/subscriber": "alice",
                "http://wso2.org/claims/applicationname": "from-token",
                "http://wso2.org/claims/apiname": "Shop",
                "http://wso2.org/claims/apicontext": "/shop/v1",
                "http://wso2.org/claims/version": "v1",
                "http://wso2.org/claims/keytype": "SANDBOX",
                "http://wso2.org/claims/usertype": "APPLICATION_USER",
                "http://wso2.org/claims/enduser": "alice",
                "http://wso2.org/claims/enduserTenantId": "-1234",
                "http://wso2.org/claims/client_id": "ck-1",
            })
        );
    }

    #[test]
    fn exp_never_outlives_the_credential_and_options_apply() {
        let settings = BackendJwtSettings {
            audience: Some("backend".into()),
            dialect: String::new(),
            issuer: "https://gw".into(),
            ..Default::default()
        };
        let caller = caller(AuthMethod::ApiKey);
        let api = api();
        let subs = Subscriptions::default();
        let inputs = ClaimInputs {
            caller: &caller,
            api: &api,
            key_type: KeyType::Production,
            subscriptions: &subs,
        };
        let (json, exp) = claims_json(&settings, &inputs, 9_500, "j");
        assert_eq!(exp, 10_000, "the token's exp is sooner than iat + ttl");
        let v = parse(&json);
        assert_eq!(v["aud"], "backend");
        assert_eq!(v["iss"], "https://gw");
        assert_eq!(v["usertype"], "APPLICATION");
        assert_eq!(v["keytype"], "PRODUCTION");
    }

    #[test]
    fn application_facts_from_the_subscription_table() {
        let subs = Subscriptions::new(
            vec![Application {
                id: "app-uuid".into(),
                name: "Shopper".into(),
                owner: "bob".into(),
                tier: "Gold".into(),
                consumer_keys: vec![ConsumerKey {
                    key: "ck-1".into(),
                    key_type: KeyType::Production,
                }],
            }],
            vec![Subscription {
                id: "sub-1".into(),
                application: "app-uuid".into(),
                api_name: "Shop".into(),
                api_version: "v1".into(),
                state: SubscriptionState::Active,
                tier: "Silver".into(),
            }],
        )
        .unwrap();
        let caller = caller(AuthMethod::Jwt);
        let api = api();
        let inputs = ClaimInputs {
            caller: &caller,
            api: &api,
            key_type: KeyType::Production,
            subscriptions: &subs,
        };
        let v = parse(&claims_json(&BackendJwtSettings::default(), &inputs, 0, "j").0);
        let d = |n: &str| v[format!("http://wso2.org/claims/{n}")].clone();
        assert_eq!(d("subscriber"), "bob");
        assert_eq!(d("applicationid"), "app-uuid");
        assert_eq!(d("applicationname"), "Shopper");
        assert_eq!(d("applicationtier"), "Gold");
        assert_eq!(d("tier"), "Silver");
        assert_eq!(d("enduser"), "alice");
    }

    #[test]
    fn jti_is_a_v4_uuid() {
        let a = random_jti().unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(a, random_jti().unwrap());
    }
}
