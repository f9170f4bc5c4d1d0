//! Run-time security through the admin API, end to end: the real binary with its admin API on
//! loopback, the key-manager stand-in, a recording backend. Revocations (cached tokens included,
//! across restarts), subscriptions changed while traffic flows (on top of a subscriptions-file
//! seed, across restarts), WSO2 self-contained API-key JWTs, and the admin API's input errors.
//! Every denial is checked to have WSO2's status and code and to never reach the backend.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use turnpike_tests::key_manager::{unix_now, KeyAlg, KeyManager};
use turnpike_tests::temp::TempDir;
use turnpike_tests::{
    api_yaml, free_port, wait_until, Backend, Client, Gateway, GatewayConfig, Response,
};

/// `Shop` 1.0 at `/shop/v1`: `/items` needs an OAuth2 token, `/keyed` a WSO2 API key in the
/// `apikey` header.
fn shop_api(backend: &Backend) -> String {
    let paths = [
        "  /items:",
        "    get:",
        "      responses: {\"200\": {description: ok}}",
        "  /keyed:",
        "    get:",
        "      security: [{api_key: []}]",
        "      responses: {\"200\": {description: ok}}",
        "",
    ]
    .join("\n");
    let mut doc = api_yaml("Shop", "/shop/v1", &[backend.url("")], &paths);
    doc.push_str(
        "components:\n  securitySchemes:\n    api_key: {type: apiKey, in: header, name: apikey}\n",
    );
    doc
}

/// A gateway serving [`shop_api`] with `[security]` = `security` and its admin API on plain HTTP
/// at a free loopback port, state in `state`; returns it and the admin address.
fn start(backend: &Backend, security: &str, state: &Path, workers: usize) -> (Gateway, SocketAddr) {
    let port = free_port();
    let admin = format!(
        "[admin]\naddress = \"127.0.0.1:{port}\"\nplain_http = true\nstate_dir = \"{}\"\n",
        state.display()
    );
    let gw = Gateway::start(
        GatewayConfig::new()
            .api("shop.yaml", shop_api(backend))
            .toml(&admin)
            .toml(security)
            .workers(workers),
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let up = wait_until(Duration::from_secs(10), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
    assert!(up, "admin API never listened on {addr}; stderr:\n{}", gw.stderr());
    (gw, addr)
}

fn issuer_toml(km: &KeyManager, extra: &str) -> String {
    format!(
        "[security]\ndefault = \"oauth2\"\n{extra}\n\
         [[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\njwks_url = \"{}\"\n",
        km.issuer(),
        km.jwks_url()
    )
}

/// One admin API request as `admin`/`admin` (the loopback default), on its own connection.
fn admin(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let mut c = Client::connect(addr);
    c.request(
        format!(
            "{method} /api/turnpike/v1{path} HTTP/1.1\r\nHost: admin\r\n\
             Authorization: Basic YWRtaW46YWRtaW4=\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

fn assert_admin(r: &Response, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.describe());
    r.json()
}

fn get(c: &mut Client, path: &str, headers: &str) -> Response {
    c.request(format!("GET {path} HTTP/1.1\r\nHost: a\r\n{headers}\r\n").as_bytes())
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn assert_denied(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.describe());
    assert_eq!(r.json()["code"], code, "{}", r.describe());
}

/// Waits a moment, then checks the backend saw exactly `n` requests (denials never reach it).
fn settled(b: &Backend, n: usize) {
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(
        b.request_count(),
        n,
        "{:#?}",
        b.requests().iter().map(|r| r.head_text()).collect::<Vec<_>>()
    );
}

/// The `jti` of claims made by `KeyManager::claims`.
fn jti(claims: &Value) -> String {
    claims["jti"].as_str().expect("jti").to_owned()
}

#[test]
fn revoked_tokens_are_refused_at_once_cached_or_not_and_after_a_restart() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let state = TempDir::new("revocations");
    let security = issuer_toml(&km, "");
    let (gw, admin_addr) = start(&b, &security, state.path(), 2);

    let doomed_claims = km.claims("mallory");
    let doomed = km.mint(KeyAlg::ES256, doomed_claims.clone());
    let other_claims = km.claims("alice");
    let other = km.mint(KeyAlg::RS256, other_claims.clone());

    // The token works, on connections spread over both cores, and again from each core's cache;
    // one connection stays open across the revocation.
    let mut kept = gw.client();
    for _ in 0..2 {
        assert_eq!(get(&mut kept, "/shop/v1/items", &bearer(&doomed)).status, 200);
    }
    for _ in 0..6 {
        let mut c = gw.client();
        for _ in 0..2 {
            assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&doomed)).status, 200);
        }
    }
    assert_eq!(b.wait_requests(14, Duration::from_secs(2)).len(), 14);

    let exp = doomed_claims["exp"].as_u64().unwrap();
    let body = json!({"jti": jti(&doomed_claims), "expires_at": exp}).to_string();
    let v = assert_admin(&admin(admin_addr, "POST", "/revocations", &body), 200);
    assert_eq!(v["action"], "REVOKED", "{v}");
    assert_eq!(v["revoked"], 1, "{v}");

    // The very next request, on the kept connection (its core had the token cached) and on new
    // ones, is refused as an invalid credential; the backend never sees it.
    assert_denied(&get(&mut kept, "/shop/v1/items", &bearer(&doomed)), 401, "900901");
    for _ in 0..6 {
        assert_denied(&get(&mut gw.client(), "/shop/v1/items", &bearer(&doomed)), 401, "900901");
    }
    assert_eq!(get(&mut kept, "/shop/v1/items", &bearer(&other)).status, 200, "others pass");
    settled(&b, 15);

    // An array, with one revocation already expired: accepted, and the expired one not listed.
    let body = json!([
        {"jti": "already-expired", "expires_at": unix_now() - 10},
        {"jti": "never-seen", "expires_at": unix_now() + 600},
    ])
    .to_string();
    assert_admin(&admin(admin_addr, "POST", "/revocations", &body), 200);
    let listed = assert_admin(&admin(admin_addr, "GET", "/revocations", ""), 200);
    let jtis: Vec<&str> =
        listed["list"].as_array().unwrap().iter().filter_map(|r| r["jti"].as_str()).collect();
    assert_eq!(jtis, [jti(&doomed_claims).as_str(), "never-seen"], "{listed}");
    assert_eq!(listed["list"][0]["expires_at"], exp, "{listed}");

    // A restart with the same state directory: still revoked.
    drop(kept);
    drop(gw);
    let (gw, admin_addr) = start(&b, &security, state.path(), 2);
    let mut c = gw.client();
    assert_denied(&get(&mut c, "/shop/v1/items", &bearer(&doomed)), 401, "900901");
    assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&other)).status, 200);
    let listed = assert_admin(&admin(admin_addr, "GET", "/revocations", ""), 200);
    assert_eq!(listed["count"], 2, "{listed}");

    // The CLI: `turnpike revoke`, then `turnpike revocations list`.
    let url = format!("http://{admin_addr}");
    let other_exp = other_claims["exp"].as_u64().unwrap().to_string();
    let out =
        cli(&["revoke", "--jti", &jti(&other_claims), "--expires-at", &other_exp, "--admin", &url]);
    assert!(out.status.success(), "{out:?}");
    assert_denied(&get(&mut c, "/shop/v1/items", &bearer(&other)), 401, "900901");
    let out = cli(&["revocations", "list", "--admin", &url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains(&jti(&other_claims)), "{out:?}");
    settled(&b, 16);
}

/// Runs `turnpike <args>` with the loopback default admin credentials.
fn cli(args: &[&str]) -> std::process::Output {
    turnpike_tests::cli::run_as_admin(args)
}

#[test]
fn subscription_changes_through_the_admin_api_apply_at_once_and_persist() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let dir = TempDir::new("subscriptions");
    // The seed: an application whose subscription to Shop is active.
    let seed = dir.write(
        "subscriptions.json",
        r#"{"applications": [{"id": "seed-app", "name": "seed", "consumer_keys": [{"key": "ck-seed"}]}],
            "subscriptions": [{"application": "seed-app", "api_name": "Shop", "api_version": "1.0"}]}"#,
    );
    let mut security = issuer_toml(&km, &format!("subscriptions_file = \"{}\"", seed.display()));
    security.push_str("validate_subscriptions = true\n");
    let state = dir.path().join("state");
    let (gw, admin_addr) = start(&b, &security, &state, 1);
    let token_for = |consumer_key: &str| {
        let mut claims = km.claims("alice");
        claims["azp"] = json!(consumer_key);
        km.mint(KeyAlg::ES256, claims)
    };
    let seeded = token_for("ck-seed");
    let token = token_for("ck-1");
    let mut c = gw.client();
    let mut call = |t: &str| get(&mut c, "/shop/v1/items", &bearer(t));

    assert_eq!(call(&seeded).status, 200, "the seed's subscription is active");
    assert_denied(&call(&token), 403, "900908");

    let app = r#"{"uuid": "app-1", "name": "shop-app", "consumer_keys": [{"key": "ck-1"}]}"#;
    let v = assert_admin(&admin(admin_addr, "POST", "/applications", app), 201);
    assert_eq!(v["action"], "CREATED", "{v}");
    assert_denied(&call(&token), 403, "900908");

    let sub = |state: &str| {
        format!(
            r#"{{"uuid": "sub-1", "application": "app-1", "api_name": "Shop",
                 "api_version": "1.0", "state": "{state}"}}"#
        )
    };
    assert_admin(&admin(admin_addr, "POST", "/subscriptions", &sub("UNBLOCKED")), 201);
    assert_eq!(call(&token).status, 200, "active subscription");
    let v = assert_admin(&admin(admin_addr, "POST", "/subscriptions", &sub("BLOCKED")), 200);
    assert_eq!(v["action"], "UPDATED", "{v}");
    assert_denied(&call(&token), 403, "900908");
    assert_admin(&admin(admin_addr, "POST", "/subscriptions", &sub("ON_HOLD")), 200);
    assert_denied(&call(&token), 403, "900908");
    assert_admin(&admin(admin_addr, "POST", "/subscriptions", &sub("ACTIVE")), 200);
    assert_eq!(call(&token).status, 200, "active again");
    let v = assert_admin(&admin(admin_addr, "DELETE", "/subscriptions?uuid=sub-1", ""), 200);
    assert_eq!(v["action"], "DELETED", "{v}");
    assert_denied(&call(&token), 403, "900908");

    // The seed's subscription (id derived from application, API name and version) is blocked
    // through the admin API; a subscription for an unknown application is refused.
    let blocked = r#"{"application": "seed-app", "api_name": "Shop", "api_version": "1.0",
                      "state": "BLOCKED"}"#;
    assert_admin(&admin(admin_addr, "POST", "/subscriptions", blocked), 200);
    assert_denied(&call(&seeded), 403, "900908");
    let orphan = r#"{"application": "nobody", "api_name": "Shop", "api_version": "1.0"}"#;
    let v = assert_admin(&admin(admin_addr, "POST", "/subscriptions", orphan), 400);
    assert!(v["description"].as_str().unwrap().contains("/application"), "{v}");
    assert_admin(&admin(admin_addr, "POST", "/subscriptions", &sub("ACTIVE")), 201);
    assert_eq!(call(&token).status, 200);
    settled(&b, 4);

    let listed =
        assert_admin(&admin(admin_addr, "GET", "/subscriptions?application=seed-app", ""), 200);
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["list"][0]["id"], "seed-app:Shop:1.0", "{listed}");
    assert_eq!(listed["list"][0]["state"], "BLOCKED", "{listed}");
    assert_eq!(listed["list"][0]["source"], "admin", "{listed}");

    // A restart reads the seed again and applies the admin changes over it.
    drop(gw);
    let (gw, admin_addr) = start(&b, &security, &state, 1);
    let mut c = gw.client();
    assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&token)).status, 200);
    assert_denied(&get(&mut c, "/shop/v1/items", &bearer(&seeded)), 403, "900908");

    // Deleting the application deletes its subscriptions.
    let v = assert_admin(&admin(admin_addr, "DELETE", "/applications?uuid=app-1", ""), 200);
    assert_eq!(v["removedSubscriptions"], json!(["sub-1"]), "{v}");
    assert_denied(&get(&mut c, "/shop/v1/items", &bearer(&token)), 403, "900908");
    let listed = assert_admin(&admin(admin_addr, "GET", "/applications", ""), 200);
    assert_eq!(listed["list"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["list"][0]["id"], "seed-app", "{listed}");
    assert_eq!(listed["list"][0]["source"], "file", "{listed}");
    settled(&b, 5);
}

#[test]
fn wso2_api_key_jwts_are_checked_against_their_subscriptions_ip_and_referer() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let state = TempDir::new("apikeys");
    let (gw, admin_addr) = start(&b, &issuer_toml(&km, ""), state.path(), 1);
    // As WSO2's Developer Portal issues them.
    let api_key = |api: Value, permitted_ip: &str, permitted_referer: &str| {
        let mut claims = km.claims("admin@carbon.super");
        let extra = json!({
            "keytype": "PRODUCTION",
            "token_type": "apiKey",
            "application": {"id": 1, "uuid": "9a6b", "name": "DefaultApplication",
                            "tier": "Unlimited", "owner": "admin"},
            "tierInfo": {"Unlimited": {"tierQuotaType": "requestCount", "stopOnQuotaReach": true,
                                       "spikeArrestLimit": 0}},
            "subscribedAPIs": [api],
            "permittedIP": permitted_ip,
            "permittedReferer": permitted_referer,
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        (km.mint(KeyAlg::RS256, claims.clone()), claims)
    };
    let shop = json!({"name": "Shop", "context": "/shop/v1", "version": "1.0",
                      "publisher": "admin", "subscriptionTier": "Unlimited",
                      "subscriberTenantDomain": "carbon.super"});
    let other = json!({"name": "Other", "context": "/other/v1", "version": "1.0"});
    let mut c = gw.client();
    let mut call = |key: &str, headers: &str| {
        get(&mut c, "/shop/v1/keyed", &format!("apikey: {key}\r\n{headers}"))
    };

    let (good, good_claims) = api_key(shop.clone(), "127.0.0.1, 10.0.0.0/8", "");
    let r = call(&good, "");
    assert_eq!(r.status, 200, "{}", r.describe());
    let recorded = b.wait_requests(1, Duration::from_secs(2));
    assert!(recorded[0].header("apikey").is_none(), "API key stripped");
    assert_eq!(call(&good, "").status, 200, "cached");

    let (unsubscribed, _) = api_key(other, "", "");
    assert_denied(&call(&unsubscribed, ""), 403, "900908");
    let (elsewhere, _) = api_key(shop.clone(), "10.0.0.0/8", "");
    assert_denied(&call(&elsewhere, ""), 403, "900908");
    let (referer_bound, _) = api_key(shop.clone(), "", "https://shop.example/*");
    assert_eq!(call(&referer_bound, "Referer: https://shop.example/cart\r\n").status, 200);
    assert_denied(&call(&referer_bound, "Referer: https://evil.example/\r\n"), 403, "900908");
    assert_denied(&call(&referer_bound, ""), 403, "900908");
    // An OAuth2 access token is not an API key.
    assert_denied(&call(&km.mint(KeyAlg::RS256, km.claims("bob")), ""), 401, "900901");

    // API keys are revoked by jti like access tokens.
    let body = json!({"jti": jti(&good_claims), "expires_at": good_claims["exp"]}).to_string();
    assert_admin(&admin(admin_addr, "POST", "/revocations", &body), 200);
    assert_denied(&call(&good, ""), 401, "900901");
    settled(&b, 3);
}

#[test]
fn admin_input_errors_are_json_400s_naming_the_field() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let state = TempDir::new("admin-errors");
    let (_gw, addr) = start(&b, &issuer_toml(&km, ""), state.path(), 1);
    let cases: [(&str, &str, &str, &str); 9] = [
        ("POST", "/applications", "{", "an application: EOF"),
        ("POST", "/applications", r#"{"id": "a"}"#, "missing field `name`"),
        (
            "POST",
            "/applications",
            r#"{"id": "a", "name": "n", "colour": 1}"#,
            "unknown field `colour`",
        ),
        (
            "POST",
            "/applications",
            r#"{"id": "a", "name": "n", "consumer_keys": [{"key": ""}]}"#,
            "/consumer_keys/0/key",
        ),
        (
            "POST",
            "/subscriptions",
            r#"{"application": "a", "api_name": "P", "api_version": "1",
                                       "state": "PAUSED"}"#,
            "unknown variant `PAUSED`",
        ),
        ("POST", "/revocations", r#"{"jti": "j"}"#, "missing field `expires_at`"),
        ("POST", "/revocations", r#"{"jti": "", "expires_at": 1}"#, "/jti: must not be empty"),
        ("POST", "/revocations", "[]", "nothing to revoke"),
        ("DELETE", "/subscriptions", "", "uuid"),
    ];
    for (method, path, body, needle) in cases {
        let r = admin(addr, method, path, body);
        let v = assert_admin(&r, 400);
        assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.describe());
        assert_eq!(v["code"], 400, "{v}");
        let description = v["description"].as_str().unwrap_or_default();
        assert!(description.contains(needle), "{method} {path} {body}: {v}");
    }
    let v = assert_admin(&admin(addr, "DELETE", "/applications?uuid=nope", ""), 404);
    assert!(v["description"].as_str().unwrap().contains("nope"), "{v}");
    assert_admin(&admin(addr, "PUT", "/revocations", ""), 405);

    // Without credentials: 401, and nothing changes.
    let mut c = Client::connect(addr);
    let body = r#"{"jti": "x", "expires_at": 99999999999}"#;
    let r = c.request(
        format!(
            "POST /api/turnpike/v1/revocations HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 401, "{}", r.describe());
    let listed = assert_admin(&admin(addr, "GET", "/revocations", ""), 200);
    assert_eq!(listed["count"], 0, "{listed}");
    settled(&b, 0);
}
