//! Authentication and authorization end to end: the real binary, a real key manager stand-in on
//! loopback (JWKS + RFC 7662 introspection), a recording backend. Every denial is checked to have
//! WSO2's code and status, and to never reach the backend.

use std::time::{Duration, Instant};

use serde_json::json;
use turnpike_tests::key_manager::{unix_now, KeyAlg, KeyManager};
use turnpike_tests::{api_yaml, Backend, Client, Gateway, GatewayConfig, Response};

/// An API whose `/open` is open, `/items` needs OAuth2, `/admin` needs scope `admin`,
/// `/keyed` takes API keys or Basic, `/reports` an API key or a token with scope `admin`.
fn secured_api(backend: &Backend) -> String {
    let paths = [
        "  /open:",
        "    get:",
        "      x-wso2-disable-security: true",
        "      responses: {\"200\": {description: ok}}",
        "  /items:",
        "    get:",
        "      responses: {\"200\": {description: ok}}",
        "  /admin:",
        "    get:",
        "      security: [{default: [admin]}]",
        "      responses: {\"200\": {description: ok}}",
        "  /keyed:",
        "    get:",
        "      security: [{key: []}, {basic: []}]",
        "      responses: {\"200\": {description: ok}}",
        "  /reports:",
        "    get:",
        "      security: [{default: [admin]}, {key: []}]",
        "      responses: {\"200\": {description: ok}}",
        "",
    ]
    .join("\n");
    let mut doc = api_yaml("Shop", "/shop/v1", &[backend.url("")], &paths);
    doc.push_str(
        "components:\n  securitySchemes:\n    default: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://x', scopes: {admin: admin}}}}\n    key: {type: apiKey, in: header, name: X-Api-Key}\n    basic: {type: http, scheme: basic}\n",
    );
    doc
}

fn security_toml(km: &KeyManager, extra: &str) -> String {
    format!(
        "[security]\ndefault = \"oauth2\"\n\
         [[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\njwks_url = \"{}\"\n\
         audiences = [\"shop\"]\njwks_min_refetch_s = 2\n{extra}",
        km.issuer(),
        km.jwks_url()
    )
}

fn get(c: &mut Client, path: &str, headers: &str) -> Response {
    c.request(format!("GET {path} HTTP/1.1\r\nHost: a\r\n{headers}\r\n").as_bytes())
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

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn assert_denied(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.describe());
    assert_eq!(r.json()["code"], code, "{}", r.describe());
}

fn start(km: &KeyManager, backend: &Backend, extra: &str) -> Gateway {
    Gateway::start(
        GatewayConfig::new()
            .api("shop.yaml", secured_api(backend))
            .toml(&security_toml(km, extra))
            .workers(1),
    )
}

#[test]
fn jwt_access_tokens_are_verified_and_denials_never_reach_the_backend() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let gw = start(&km, &b, "");
    let mut c = gw.client();
    let claims = |extra: serde_json::Value| {
        let mut base = km.claims("alice");
        base["aud"] = json!("shop");
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };

    // Open resource: no credentials needed.
    assert_eq!(get(&mut c, "/shop/v1/open", "").status, 200);
    assert_eq!(b.wait_requests(1, Duration::from_secs(2)).len(), 1);

    // Missing credentials: 401 900902 with a Bearer challenge (RFC 6750 §3.1: no error code).
    let r = get(&mut c, "/shop/v1/items", "");
    assert_denied(&r, 401, "900902");
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"turnpike\""));

    // Invalid tokens of every kind: 401 900901 with error="invalid_token".
    let now = unix_now();
    let bad = [
        ("garbage", "not-a-jwt".to_owned()),
        ("expired", km.mint(KeyAlg::RS256, claims(json!({"exp": now - 600})))),
        ("not yet valid", km.mint(KeyAlg::ES256, claims(json!({"nbf": now + 600})))),
        ("wrong audience", km.mint(KeyAlg::EdDSA, claims(json!({"aud": "other"})))),
        ("wrong issuer", km.mint(KeyAlg::RS256, claims(json!({"iss": "https://evil"})))),
        ("alg none", {
            let t = km.mint(KeyAlg::RS256, claims(json!({})));
            let mut parts = t.split('.');
            let _ = parts.next();
            format!("eyJhbGciOiJub25lIn0.{}.", parts.next().unwrap())
        }),
        ("bad signature", {
            let t = km.mint(KeyAlg::ES256, claims(json!({})));
            let (head, sig) = t.rsplit_once('.').unwrap();
            let flipped = if sig.starts_with('A') { "B" } else { "A" };
            format!("{head}.{flipped}{}", &sig[1..])
        }),
    ];
    for (what, token) in &bad {
        let r = get(&mut c, "/shop/v1/items", &bearer(token));
        assert_denied(&r, 401, "900901");
        assert!(
            r.header("www-authenticate").unwrap_or("").contains("invalid_token"),
            "{what}: {}",
            r.describe()
        );
    }
    settled(&b, 1);

    // Valid tokens of each algorithm pass; the credential is not forwarded.
    for alg in [KeyAlg::RS256, KeyAlg::ES256, KeyAlg::EdDSA] {
        let token = km.mint(alg, claims(json!({})));
        let r = get(&mut c, "/shop/v1/items", &bearer(&token));
        assert_eq!(r.status, 200, "{alg:?}: {}", r.describe());
        // The cached path answers the same.
        assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&token)).status, 200);
    }
    let recorded = b.wait_requests(7, Duration::from_secs(2));
    assert_eq!(recorded.len(), 7);
    assert!(recorded.iter().all(|r| r.header("authorization").is_none()), "credential stripped");

    // Scopes: 403 900910 with insufficient_scope naming the scope.
    let plain = km.mint(KeyAlg::RS256, claims(json!({"scope": "read"})));
    let r = get(&mut c, "/shop/v1/admin", &bearer(&plain));
    assert_denied(&r, 403, "900910");
    let challenge = r.header("www-authenticate").unwrap_or("");
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("scope=\"admin\""),
        "{challenge}"
    );
    let admin = km.mint(KeyAlg::RS256, claims(json!({"scope": "read admin"})));
    assert_eq!(get(&mut c, "/shop/v1/admin", &bearer(&admin)).status, 200);

    // A client-supplied backend JWT never reaches the backend.
    let r = get(&mut c, "/shop/v1/open", "X-JWT-Assertion: forged\r\n");
    assert_eq!(r.status, 200);
    let last = b.wait_requests(9, Duration::from_secs(2)).pop().unwrap();
    assert!(last.header("x-jwt-assertion").is_none(), "{}", last.head_text());
}

#[test]
fn key_rotation_is_picked_up_and_kid_floods_are_bounded() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let gw = start(&km, &b, "");
    let mut c = gw.client();
    let mut claims = km.claims("bob");
    claims["aud"] = json!("shop");
    let before = km.jwks_fetches();
    assert!(before >= 1, "the gateway fetched the JWKS at start");

    // A flood of tokens with random kids: the key manager sees a bounded number of fetches.
    for i in 0..300 {
        let token = km.mint_with_header(
            KeyAlg::ES256,
            json!({"kid": format!("spray-{i}")}),
            claims.clone(),
        );
        assert_denied(&get(&mut c, "/shop/v1/items", &bearer(&token)), 401, "900901");
    }
    std::thread::sleep(Duration::from_millis(300));
    let flood = km.jwks_fetches() - before;
    assert!(flood <= 3, "kid-miss flood caused {flood} JWKS fetches");
    settled(&b, 0);

    // Rotation: tokens signed with the new key verify once the gateway has refetched (the
    // unknown kid triggers it, rate-limited to one per jwks_min_refetch_s = 2 s).
    km.rotate();
    let token = km.mint(KeyAlg::ES256, claims.clone());
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let r = get(&mut c, "/shop/v1/items", &bearer(&token));
        if r.status == 200 {
            break;
        }
        assert_denied(&r, 401, "900901");
        assert!(Instant::now() < deadline, "new key never accepted");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn opaque_tokens_are_introspected_and_cached() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let extra = format!(
        "[security.introspection]\nurl = \"{}\"\ncache_ttl_s = 60\n",
        km.introspection_url()
    );
    let gw = start(&km, &b, &extra);
    let mut c = gw.client();
    km.register_opaque(
        "opaque-good",
        json!({"scope": "admin", "client_id": "app", "exp": unix_now() + 600}),
        true,
    );
    km.register_opaque("opaque-dead", json!({}), false);

    let r = get(&mut c, "/shop/v1/admin", &bearer("opaque-good"));
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(get(&mut c, "/shop/v1/admin", &bearer("opaque-good")).status, 200);
    assert_eq!(km.introspections_of("opaque-good"), 1, "the answer is cached per core");

    assert_denied(&get(&mut c, "/shop/v1/items", &bearer("opaque-dead")), 401, "900901");
    assert_denied(&get(&mut c, "/shop/v1/items", &bearer("never-issued")), 401, "900901");
    settled(&b, 2);
}

#[test]
fn api_keys_and_basic_users() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let key = "tp_live_0123456789abcdefghijklmnopqrstuv";
    let digest = turnpike_policy::credentials::api_key_digest_hex(key);
    let hash = bcrypt::hash("s3cret-pass", 4).unwrap();
    let extra = format!(
        "[[security.api_keys]]\napplication = \"shop-app\"\nsha256 = \"{digest}\"\n\
         [[security.api_keys]]\napplication = \"other-app\"\nsha256 = \"{}\"\napis = [\"Other\"]\n\
         [[security.basic_users]]\nusername = \"alice\"\npassword_hash = \"{hash}\"\n",
        "ab".repeat(32)
    );
    let gw = start(&km, &b, &extra);
    let mut c = gw.client();

    // API keys: valid, unknown, missing.
    let r = get(&mut c, "/shop/v1/keyed", &format!("X-Api-Key: {key}\r\n"));
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.wait_requests(1, Duration::from_secs(2)).pop().unwrap();
    assert!(rec.header("x-api-key").is_none(), "API key stripped: {}", rec.head_text());
    assert_denied(&get(&mut c, "/shop/v1/keyed", "X-Api-Key: nope\r\n"), 401, "900901");
    // An OAuth2 access token, verified (and cached) as a bearer token, is not an API key.
    let mut claims = km.claims("mallory");
    claims["aud"] = json!("shop");
    let access = km.mint(KeyAlg::RS256, claims);
    assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&access)).status, 200);
    let r = get(&mut c, "/shop/v1/keyed", &format!("X-Api-Key: {access}\r\n"));
    assert_denied(&r, 401, "900901");
    assert_denied(&get(&mut c, "/shop/v1/keyed", ""), 401, "900902");
    // Scopes are not checked for API keys (as WSO2's API-key authenticators): the key passes a
    // resource whose OAuth2 alternative needs `admin`, a token without `admin` does not.
    let r = get(&mut c, "/shop/v1/reports", &format!("X-Api-Key: {key}\r\n"));
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_denied(&get(&mut c, "/shop/v1/reports", &bearer(&access)), 403, "900910");

    // Basic: right and wrong passwords, challenge on failure.
    let basic = |user: &str, pass: &str| {
        let raw = format!("{user}:{pass}");
        format!(
            "Authorization: Basic {}\r\n",
            turnpike_policy::base64::encode_standard(raw.as_bytes())
        )
    };
    assert_eq!(get(&mut c, "/shop/v1/keyed", &basic("alice", "s3cret-pass")).status, 200);
    let r = get(&mut c, "/shop/v1/keyed", &basic("alice", "wrong"));
    assert_denied(&r, 401, "900901");
    // A Bearer token on a route that accepts only API keys and Basic is not a credential it takes.
    assert_denied(&get(&mut c, "/shop/v1/keyed", &bearer("x.y.z")), 401, "900902");
    // API keys on /keyed and /reports, the bearer token on /items, Basic: nothing else reached
    // the backend.
    settled(&b, 4);
}
