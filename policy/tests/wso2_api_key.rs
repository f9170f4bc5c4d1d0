//! Tests of `wso2::ApiKeyClaims` on the payload of a WSO2 API key: parsing, subscription
//! matching by context and version, and the `permittedIP` / `permittedReferer` restrictions.

use std::net::IpAddr;

use serde_json::{Map, Value};
use turnpike_policy::wso2::{ApiKeyClaims, IpRange};
use turnpike_policy::KeyType;

const KEY: &str = r#"{
    "sub": "admin@carbon.super",
    "application": {"owner": "admin", "tier": "Unlimited", "name": "DefaultApplication",
                    "id": 1, "uuid": "b3a5d1e6-0f8e-4c1b-9c55-3a7d2f0a9e11"},
    "iss": "https://localhost:9443/oauth2/token",
    "tierInfo": {"Gold": {"tierQuotaType": "requestCount", "graphQLMaxComplexity": 0,
                          "graphQLMaxDepth": 0, "stopOnQuotaReach": true,
                          "spikeArrestLimit": 0, "spikeArrestUnit": null}},
    "keytype": "SANDBOX",
    "permittedReferer": "",
    "subscribedAPIs": [{"subscriberTenantDomain": "carbon.super", "name": "PizzaShackAPI",
                        "context": "/pizzashack/1.0.0", "publisher": "admin",
                        "version": "1.0.0", "subscriptionTier": "Gold"}],
    "token_type": "apiKey",
    "permittedIP": "",
    "iat": 1601281412,
    "jti": "9d5f8f1a-4b1e-4d2c-8f8a-2f1f6e5e2a10"
}"#;

/// [`KEY`] with one claim replaced.
fn with(name: &str, value: Value) -> ApiKeyClaims {
    let mut all: Map<String, Value> = serde_json::from_str(KEY).unwrap();
    all.insert(name.into(), value);
    ApiKeyClaims::parse(Value::Object(all).to_string().as_bytes()).unwrap()
}

#[test]
fn parses_a_wso2_api_key() {
    let key = ApiKeyClaims::parse(KEY.as_bytes()).unwrap();
    assert_eq!(key.key_type, KeyType::Sandbox);
    assert_eq!(key.application.id.as_deref(), Some("1"));
    assert_eq!(key.application.tier.as_deref(), Some("Unlimited"));
    let api = &key.subscribed_apis[0];
    assert_eq!(
        (api.name.as_str(), api.subscription_tier.as_deref()),
        ("PizzaShackAPI", Some("Gold"))
    );
    assert_eq!(key.tier_info["Gold"].stop_on_quota_reach, Some(true));
    assert_eq!(key.tier_info["Gold"].spike_arrest_unit, None);
    assert_eq!((key.permitted_ip.as_ref(), key.permitted_referer.as_ref()), (None, None));
    assert_eq!((key.exp, key.iat), (None, Some(1601281412)));
    assert_eq!(key.sub.as_deref(), Some("admin@carbon.super"));
    assert_eq!(key.token_type.as_deref(), Some("apiKey"));
}

#[test]
fn refuses_malformed_keys() {
    for (bad, want) in [
        (r#"{"token_type":"apiKey","sub":"a"}"#, "missing"),
        (r#"{"token_type":"apiKey","keytype":"TEST"}"#, "unknown"),
        (r#"{"token_type":"apiKey","keytype":1}"#, "unknown"),
        (r#"{"token_type":"apiKey","keytype":"SANDBOX","subscribedAPIs":{}}"#, "subscribedAPIs"),
        (r#"{"token_type":"apiKey","keytype":"SANDBOX","permittedIP":[]}"#, "permittedIP"),
        (r#"{"token_type":"apiKey","keytype":"SANDBOX","exp":"soon"}"#, "exp"),
        (r#"{"token_type":"apiKey","keytype":"SANDBOX","keytype":"SANDBOX"}"#, "object"),
        (r#"{"token_type":"InternalKey","keytype":"PRODUCTION"}"#, "InternalKey"),
        (r#"{"token_type":7,"keytype":"PRODUCTION"}"#, "token_type"),
        (r#"{"keytype":"PRODUCTION"}"#, "not an API key"),
        (r#"{"keytype":"PRODUCTION","application":{},"consumerKey":"ck"}"#, "not an API key"),
    ] {
        let err = ApiKeyClaims::parse(bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains(want), "{bad}: {err}");
    }
    let key = ApiKeyClaims::parse(br#"{"keytype":"production","application":{"id":"7"}}"#);
    assert_eq!(key.unwrap().application.id.as_deref(), Some("7"));
}

#[test]
fn subscription_by_context_and_version() {
    let key = ApiKeyClaims::parse(KEY.as_bytes()).unwrap();
    assert!(key.subscribed_to("PizzaShackAPI", "1.0.0", "/pizzashack/1.0.0"));
    assert!(key.subscribed_to("Pizza", "1.0.0", "/pizzashack"));
    assert!(key.subscribed_to("Pizza", "1.0.0", "/pizzashack/"));
    assert!(key.subscribed_to("Pizza", "1.0.0", "/pizzashack/{version}"));
    assert!(key.subscribed_to("PizzaShackAPI", "1.0.0", ""));
    assert!(!key.subscribed_to("PizzaShackAPI", "2.0.0", "/pizzashack"));
    assert!(!key.subscribed_to("PizzaShackAPI", "1.0.0", "/pizza"));
    assert!(!key.subscribed_to("PizzaShackAPI", "1.0.0", "/pizzashack/2.0.0"));
    assert!(!key.subscribed_to("Other", "1.0.0", ""));
    let templated = with(
        "subscribedAPIs",
        serde_json::json!([{"name": "N", "context": "/1.0.0/svc", "version": "1.0.0"}]),
    );
    assert!(templated.subscribed_to("N", "1.0.0", "/{version}/svc"));
}

#[test]
fn ip_restrictions() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let key = ApiKeyClaims::parse(KEY.as_bytes()).unwrap();
    assert!(key.ip_permitted(ip("203.0.113.9")));
    let key = with("permittedIP", "192.0.2.7, 10.0.0.0/8,2001:db8::/32 ,".into());
    for ok in ["192.0.2.7", "10.255.0.1", "::ffff:10.1.2.3", "2001:db8:ffff::1"] {
        assert!(key.ip_permitted(ip(ok)), "{ok}");
    }
    for no in ["192.0.2.8", "11.0.0.1", "2001:db9::1", "::1"] {
        assert!(!key.ip_permitted(ip(no)), "{no}");
    }
    let garbage = with("permittedIP", "not-an-ip, 10.0.0.0/33".into());
    assert_eq!(garbage.permitted_ip, Some(Vec::new()));
    assert!(!garbage.ip_permitted(ip("10.0.0.1")));
    let everyone = IpRange::parse("0.0.0.0/0").unwrap();
    assert!(everyone.contains(ip("8.8.8.8")) && !everyone.contains(ip("::1")));
    assert_eq!(IpRange::parse("::ffff:10.0.0.0/104"), IpRange::parse("10.0.0.0/8"));
    assert!(IpRange::parse("::ffff:0.0.0.0/95").is_none());
    assert!(IpRange::parse("::/0").unwrap().contains(ip("2001:db8::1")));
}

#[test]
fn referer_restrictions() {
    let key = ApiKeyClaims::parse(KEY.as_bytes()).unwrap();
    assert!(key.referer_permitted(None));
    let key = with("permittedReferer", "www.example.com/*, *.example.org/app*".into());
    for ok in [
        &b"www.example.com/"[..],
        b"www.example.com/path/x?y=1",
        b" shop.example.org/app ",
        b"a.b.example.org/apps/1",
    ] {
        assert!(key.referer_permitted(Some(ok)), "{}", String::from_utf8_lossy(ok));
    }
    for no in [
        &b"www.example.com"[..],
        b"https://www.example.com/",
        b"wwwXexample.com/",
        b"www.example.com/a b",
        b"example.org/app",
        b"",
    ] {
        assert!(!key.referer_permitted(Some(no)), "{}", String::from_utf8_lossy(no));
    }
    assert!(!key.referer_permitted(None));
    let spaced = with("permittedReferer", "a * b".into());
    assert!(spaced.referer_permitted(Some(b"a xyz b")));
    assert!(!spaced.referer_permitted(Some(b"a x z b")));
}
