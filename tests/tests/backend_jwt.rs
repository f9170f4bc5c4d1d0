//! The backend JWT end to end: the real binary signs an `X-JWT-Assertion` for every
//! authenticated request, the recording backend receives it, and the test verifies it with ring
//! against the key set the gateway publishes at `/.wellknown/jwks` (no gateway code involved in
//! the verification), then checks the WSO2 claims.

use std::time::Duration;

use ring::signature::{self as sig, UnparsedPublicKey};
use serde_json::{json, Value};
use turnpike_tests::key_manager::{unix_now, KeyAlg, KeyManager};
use turnpike_tests::{api_yaml, Backend, Client, Gateway, GatewayConfig, Recorded, Response};

const KEY_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/backend-jwt-rsa-2048.pem");
const DIALECT: &str = "http://wso2.org/claims/";

/// `Shop` at `/shop/v1`: `/items` needs OAuth2, `/open` is open. `WellKnown` at `/.wellknown`
/// owns `/jwks` (open), to show which one wins.
fn apis(cfg: GatewayConfig, backend: &Backend) -> GatewayConfig {
    let shop = [
        "  /items:",
        "    get:",
        "      responses: {\"200\": {description: ok}}",
        "  /open:",
        "    get:",
        "      x-wso2-disable-security: true",
        "      responses: {\"200\": {description: ok}}",
        "",
    ]
    .join("\n");
    let well_known = "  /jwks:\n    get:\n      x-wso2-disable-security: true\n      responses: {\"200\": {description: ok}}\n";
    cfg.api("shop.yaml", api_yaml("Shop", "/shop/v1", &[backend.url("")], &shop))
        .api("wellknown.yaml", api_yaml("WellKnown", "/.wellknown", &[backend.url("")], well_known))
}

fn start(km: &KeyManager, backend: &Backend, backend_jwt: &str) -> Gateway {
    let toml = format!(
        "[security]\ndefault = \"oauth2\"\n\
         [[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\njwks_url = \"{}\"\n{backend_jwt}",
        km.issuer(),
        km.jwks_url()
    );
    Gateway::start(apis(GatewayConfig::new().toml(&toml).workers(1), backend))
}

fn get(c: &mut Client, path: &str, headers: &str) -> Response {
    c.request(format!("GET {path} HTTP/1.1\r\nHost: a\r\n{headers}\r\n").as_bytes())
}

/// A token of `sub` with consumer key `ck-<sub>`, expiring in `ttl` seconds.
fn token(km: &KeyManager, sub: &str, ttl: u64) -> (String, u64) {
    let mut claims = km.claims(sub);
    let exp = unix_now() + ttl;
    claims["exp"] = json!(exp);
    claims["azp"] = json!(format!("ck-{sub}"));
    claims["application"] = json!({"name": "Shopper"});
    (km.mint(KeyAlg::ES256, claims), exp)
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// The last request the backend received (waiting for the `n`th).
fn received(b: &Backend, n: usize) -> Recorded {
    let all = b.wait_requests(n, Duration::from_secs(3));
    assert_eq!(all.len(), n, "{:#?}", all.iter().map(Recorded::head_text).collect::<Vec<_>>());
    all.last().cloned().unwrap()
}

/// The one assertion the backend received, also shown in the echo of the response.
fn assertion(rec: &Recorded, echo: &Response) -> String {
    let values = rec.header_all("x-jwt-assertion");
    assert_eq!(values.len(), 1, "{}", rec.head_text());
    let echoed: Vec<String> = echo.json()["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case("x-jwt-assertion"))
        .map(|h| h[1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(echoed, vec![values[0].to_owned()], "the echo shows what the backend received");
    values[0].to_owned()
}

fn b64url_decode(text: &str) -> Vec<u8> {
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes() {
        let v = URL.iter().position(|&u| u == c).unwrap_or_else(|| panic!("not base64url: {text}"));
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// `GET /.wellknown/jwks` from the gateway: 200, JSON, one key.
fn gateway_jwks(c: &mut Client) -> Value {
    let r = get(c, "/.wellknown/jwks", "");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let jwks = r.json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "{jwks}");
    jwks
}

/// Verifies `jwt` with the key of `jwks` its `kid` names, with ring; returns the claims.
fn verify(jwt: &str, jwks: &Value) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let header: Value = serde_json::from_slice(&b64url_decode(parts[0])).unwrap();
    assert_eq!(header["typ"], "JWT");
    let kid = header["kid"].as_str().expect("kid in the header");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} not in {jwks}"));
    assert_eq!(jwk["alg"], header["alg"]);
    let field = |name: &str| b64url_decode(jwk[name].as_str().unwrap());
    let message = format!("{}.{}", parts[0], parts[1]);
    let signature = b64url_decode(parts[2]);
    let verified = match header["alg"].as_str().unwrap() {
        "RS256" => sig::RsaPublicKeyComponents { n: field("n"), e: field("e") }.verify(
            &sig::RSA_PKCS1_2048_8192_SHA256,
            message.as_bytes(),
            &signature,
        ),
        "ES256" => {
            let point = [vec![4], field("x"), field("y")].concat();
            UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                .verify(message.as_bytes(), &signature)
        }
        other => panic!("unexpected alg {other}"),
    };
    assert!(verified.is_ok(), "signature does not verify with the published key: {jwt}");
    serde_json::from_slice(&b64url_decode(parts[1])).unwrap()
}

fn wso2(claims: &Value, name: &str) -> Value {
    claims[format!("{DIALECT}{name}")].clone()
}

#[test]
fn assertion_verifies_with_the_published_key_and_carries_the_caller_and_api() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let gw = start(
        &km,
        &b,
        &format!("[security.backend_jwt]\nenabled = true\nsigning_key_file = \"{KEY_FILE}\"\n"),
    );
    let mut c = gw.client();
    let jwks = gateway_jwks(&mut c);
    let key = &jwks["keys"][0];
    assert_eq!((key["kty"].as_str(), key["alg"].as_str()), (Some("RSA"), Some("RS256")));
    assert!(key.get("d").is_none(), "private members are never published");

    // A secured call: the client's own assertion is replaced, not forwarded.
    let (alice, alice_exp) = token(&km, "alice", 600);
    let headers = format!("{}X-JWT-Assertion: forged.by.client\r\n", bearer(&alice));
    let before = unix_now();
    let r = get(&mut c, "/shop/v1/items", &headers);
    assert_eq!(r.status, 200, "{}", r.describe());
    let first = assertion(&received(&b, 1), &r);
    assert_ne!(first, "forged.by.client");
    let claims = verify(&first, &jwks);
    assert_eq!(claims["iss"], "wso2.org/products/am");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(wso2(&claims, "enduser"), "alice");
    assert_eq!(wso2(&claims, "subscriber"), "alice");
    assert_eq!(wso2(&claims, "applicationname"), "Shopper");
    assert_eq!(wso2(&claims, "apiname"), "Shop");
    assert_eq!(wso2(&claims, "apicontext"), "/shop/v1");
    assert_eq!(wso2(&claims, "version"), "1.0");
    assert_eq!(wso2(&claims, "keytype"), "PRODUCTION");
    assert_eq!(wso2(&claims, "usertype"), "APPLICATION_USER");
    assert_eq!(wso2(&claims, "client_id"), "ck-alice");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() == 36), "{claims}");
    let (iat, exp) = (claims["iat"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
    assert!(iat >= before && iat <= unix_now(), "{claims}");
    assert_eq!(exp, alice_exp, "a 600 s token expires before iat + 900: exp is the token's");

    // The same token again: the cached assertion, byte for byte (a new one would differ in
    // `jti`), and the client's credential was stripped as usual.
    let r = get(&mut c, "/shop/v1/items", &bearer(&alice));
    let rec = received(&b, 2);
    assert_eq!(assertion(&rec, &r), first);
    assert_eq!(rec.header("authorization"), None);

    // Another caller, another assertion; a long-lived token gets iat + ttl.
    let (bob, _) = token(&km, "bob", 3600);
    let r = get(&mut c, "/shop/v1/items", &bearer(&bob));
    let claims = verify(&assertion(&received(&b, 3), &r), &jwks);
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["exp"].as_u64().unwrap(), claims["iat"].as_u64().unwrap() + 900);

    // An open resource gets no assertion, even when the client sends one and a token.
    let headers = format!("{}X-JWT-Assertion: forged.by.client\r\n", bearer(&alice));
    let r = get(&mut c, "/shop/v1/open", &headers);
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = received(&b, 4);
    assert!(rec.header_all("x-jwt-assertion").is_empty(), "{}", rec.head_text());

    // While enabled, the well-known path is the gateway's, not the API's that owns it.
    assert_eq!(gateway_jwks(&mut c), jwks);
    c.send(b"HEAD /.wellknown/jwks HTTP/1.1\r\nHost: a\r\n\r\n");
    let head = c.read_head_response();
    assert_eq!(head.status, 200, "{}", head.describe());
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length").and_then(|l| l.parse::<usize>().ok()),
        Some(jwks.to_string().len())
    );
    let r = c.request(b"POST /.wellknown/jwks HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405, "{}", r.describe());
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(b.request_count(), 4, "the well-known requests never reached the API");
}

#[test]
fn disabled_backend_jwt_sends_no_assertion_and_leaves_the_well_known_path_to_apis() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let gw = start(&km, &b, "[security.backend_jwt]\nenabled = false\n");
    let mut c = gw.client();

    let (alice, _) = token(&km, "alice", 600);
    let headers = format!("{}X-JWT-Assertion: forged.by.client\r\n", bearer(&alice));
    let r = get(&mut c, "/shop/v1/items", &headers);
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = received(&b, 1);
    assert!(rec.header_all("x-jwt-assertion").is_empty(), "{}", rec.head_text());

    // No key set: the API that owns the path serves it.
    let r = get(&mut c, "/.wellknown/jwks", "");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(received(&b, 2).target, "/jwks");
    assert!(r.json().get("keys").is_none(), "the backend's echo, not a key set");
}

#[test]
fn without_an_api_there_the_well_known_path_is_404_when_disabled() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let toml = format!(
        "[security]\n[[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\njwks_url = \"{}\"\n",
        km.issuer(),
        km.jwks_url()
    );
    let paths = "  /items:\n    get:\n      responses: {\"200\": {description: ok}}\n";
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml(&toml)
            .api("shop.yaml", api_yaml("Shop", "/shop/v1", &[b.url("")], paths)),
    );
    let mut c = gw.client();
    let r = get(&mut c, "/.wellknown/jwks", "");
    assert_eq!(r.status, 404, "{}", r.describe());
    let (alice, _) = token(&km, "alice", 600);
    let r = get(&mut c, "/shop/v1/items", &bearer(&alice));
    let rec = received(&b, 1);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert!(rec.header_all("x-jwt-assertion").is_empty(), "{}", rec.head_text());
}

#[test]
fn ephemeral_key_publishes_a_jwks_that_verifies_and_settings_apply() {
    let km = KeyManager::start();
    let b = Backend::echo();
    let gw = start(
        &km,
        &b,
        "[security.backend_jwt]\nenabled = true\nheader = \"X-Backend-JWT\"\nissuer = \"https://gw.test\"\n\
         audience = \"orders-service\"\nttl_s = 60\nclaim_dialect = \"\"\n",
    );
    let mut c = gw.client();
    let jwks = gateway_jwks(&mut c);
    assert_eq!(
        (jwks["keys"][0]["kty"].as_str(), jwks["keys"][0]["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert!(
        gw.stderr().contains("/.wellknown/jwks"),
        "the ephemeral key is announced: {}",
        gw.stderr()
    );

    let (alice, _) = token(&km, "alice", 3600);
    let headers = format!("{}X-Backend-JWT: forged\r\nX-JWT-Assertion: forged\r\n", bearer(&alice));
    let r = get(&mut c, "/shop/v1/items", &headers);
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = received(&b, 1);
    assert!(rec.header_all("x-jwt-assertion").is_empty(), "{}", rec.head_text());
    let values = rec.header_all("x-backend-jwt");
    assert_eq!(values.len(), 1, "{}", rec.head_text());
    let claims = verify(values[0], &jwks);
    assert_eq!(claims["iss"], "https://gw.test");
    assert_eq!(claims["aud"], "orders-service");
    assert_eq!(claims["exp"].as_u64().unwrap(), claims["iat"].as_u64().unwrap() + 60);
    assert_eq!(claims["apicontext"], "/shop/v1", "empty dialect: bare claim names");
    assert_eq!(claims["enduser"], "alice");
}

#[test]
fn an_unusable_key_stops_the_gateway_naming_the_file_and_key() {
    let km = KeyManager::start();
    let b = Backend::echo();
    // A missing file; an RSA key asked to sign ES256.
    let cases = [
        (format!("signing_key_file = \"{}\"", "/nonexistent/backend.pem"), "cannot read"),
        (format!("signing_key_file = \"{KEY_FILE}\"\nalgorithm = \"ES256\""), "RSA key"),
    ];
    for (extra, words) in cases {
        let toml = format!(
            "[security]\n[[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\njwks_url = \"{}\"\n\
             [security.backend_jwt]\nenabled = true\n{extra}\n",
            km.issuer(),
            km.jwks_url()
        );
        let (status, stderr) = Gateway::run_to_exit(
            apis(GatewayConfig::new().toml(&toml), &b),
            Duration::from_secs(5),
        );
        let status = status.unwrap_or_else(|| panic!("gateway started; stderr:\n{stderr}"));
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("gateway.toml"), "names the file: {stderr}");
        assert!(
            stderr.contains("/security/backend_jwt/signing_key_file"),
            "names the key: {stderr}"
        );
        assert!(stderr.contains(words), "{words}: {stderr}");
    }
    b.assert_received_nothing(Duration::from_millis(50));
}
