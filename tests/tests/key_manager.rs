//! Self-tests of the key-manager stand-in, no gateway involved: its JWKS, fetched over a raw TCP
//! connection, verifies the tokens it mints with the gateway's own verifier
//! (`turnpike_policy::jose`), so the stand-in is a real key manager and not one that only agrees
//! with itself. Also: rotation, key removal, introspection (RFC 7662) with and without client
//! credentials, delays, failures, and the counters the security tests rely on.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use turnpike_policy::jose::{self, Alg, IssuerPolicy, JoseError, KeySet};
use turnpike_tests::client::{self, Client};
use turnpike_tests::key_manager::{unix_now, DEFAULT_ISSUER};
use turnpike_tests::{KeyAlg, KeyManager};

/// The JWKS as served, over a fresh connection.
fn fetch_jwks(km: &KeyManager) -> Value {
    let r = client::get(km.addr(), "/jwks");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

fn key_set(km: &KeyManager) -> KeySet {
    let jwks = fetch_jwks(km);
    let set = KeySet::from_jwks(jwks.to_string().as_bytes()).expect("JWKS parses");
    assert_eq!(set.refused().count(), 0, "refused keys: {:?}", set.refused().collect::<Vec<_>>());
    set
}

fn policy(km: &KeyManager) -> IssuerPolicy {
    IssuerPolicy::new(km.issuer(), Alg::ALL.to_vec())
}

fn verify(km: &KeyManager, keys: &KeySet, token: &str) -> Result<jose::Claims, JoseError> {
    jose::decode_and_verify(token, keys, &policy(km), unix_now())
}

fn introspect(c: &mut Client, body: &str, auth: Option<&str>) -> turnpike_tests::Response {
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    c.request(
        format!(
            "POST /introspect HTTP/1.1\r\nHost: km\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

#[test]
fn minted_tokens_verify_against_the_served_jwks_for_every_algorithm() {
    let km = KeyManager::builder().keys(&KeyAlg::ALL).start();
    let keys = key_set(&km);
    assert_eq!(keys.len(), KeyAlg::ALL.len());
    assert_eq!(km.jwks_fetches(), 1);
    for alg in KeyAlg::ALL {
        let mut claims = km.claims("alice");
        claims["scope"] = json!("read write");
        let token = km.mint(alg, claims);
        // Compact serialization, base64url without padding.
        assert_eq!(token.split('.').count(), 3, "{token}");
        assert!(!token.contains(['=', '+', '/']), "{token}");
        let jws = jose::decode(&token).expect("decodes");
        assert_eq!(jws.header().alg.name(), alg.name());
        assert_eq!(jws.header().kid, km.current_kid(alg));
        let claims = verify(&km, &keys, &token)
            .unwrap_or_else(|e| panic!("{} token does not verify: {e:?}", alg.name()));
        assert_eq!(claims.sub.as_deref(), Some("alice"));
        assert_eq!(claims.iss.as_deref(), Some(DEFAULT_ISSUER));
        assert_eq!(claims.scope.as_deref(), Some("read write"));
    }
}

#[test]
fn jwks_members_are_as_rfc_7517_and_7518_say() {
    let km = KeyManager::start();
    let jwks = fetch_jwks(&km);
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 3);
    let by_kty = |kty: &str| keys.iter().find(|k| k["kty"] == kty).expect(kty).clone();
    let rsa = by_kty("RSA");
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["e"], "AQAB");
    assert_eq!(rsa["n"].as_str().map(str::len), Some(342), "2048-bit modulus, no padding");
    let ec = by_kty("EC");
    assert_eq!((ec["crv"].as_str(), ec["alg"].as_str()), (Some("P-256"), Some("ES256")));
    assert_eq!(ec["x"].as_str().map(str::len), Some(43));
    assert_eq!(ec["y"].as_str().map(str::len), Some(43));
    let okp = by_kty("OKP");
    assert_eq!((okp["crv"].as_str(), okp["alg"].as_str()), (Some("Ed25519"), Some("EdDSA")));
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(k["kid"].is_string());
        assert!(k.get("d").is_none(), "no private member: {k}");
    }
    assert_eq!(jwks, km.jwks());
}

#[test]
fn rotation_replaces_every_published_key() {
    let km = KeyManager::start();
    let before = km.published_kids();
    let old_token = km.mint(KeyAlg::ES256, km.claims("alice"));
    assert!(verify(&km, &key_set(&km), &old_token).is_ok());

    let new_kids = km.rotate();
    assert_eq!(new_kids.len(), before.len());
    assert_eq!(km.published_kids(), new_kids);
    let served: Vec<Value> = fetch_jwks(&km)["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    for kid in &before {
        assert!(!served.contains(&json!(kid)), "old kid {kid} still served: {served:?}");
    }
    let keys = key_set(&km);
    assert!(
        matches!(verify(&km, &keys, &old_token), Err(JoseError::UnknownKid(_))),
        "{:?}",
        verify(&km, &keys, &old_token)
    );
    let new_token = km.mint(KeyAlg::ES256, km.claims("alice"));
    assert!(verify(&km, &keys, &new_token).is_ok());
    assert_eq!(km.jwks_fetches(), 3);
}

#[test]
fn removed_and_unpublished_keys_still_sign() {
    let km = KeyManager::builder().keys(&[KeyAlg::EdDSA]).start();
    let extra = km.add_key(KeyAlg::RS256);
    assert!(fetch_jwks(&km)["keys"].as_array().is_some_and(|k| k.len() == 2));
    km.remove_key(&extra);
    let keys = key_set(&km);
    assert_eq!(keys.len(), 1);
    // Signed with the removed key: its kid is unknown to the served JWKS.
    let t = km.mint(extra.as_str(), km.claims("bob"));
    assert!(matches!(verify(&km, &keys, &t), Err(JoseError::UnknownKid(_))));
    // A key never published.
    let hidden = km.create_key(KeyAlg::ES256);
    assert!(!km.published_kids().contains(&hidden));
    let t = km.mint(hidden.clone(), km.claims("bob"));
    assert!(verify(&km, &key_set(&km), &t).is_err());
    km.publish(&hidden);
    assert!(verify(&km, &key_set(&km), &t).is_ok());
}

#[test]
fn header_overrides_sign_with_the_chosen_key_whatever_the_header_says() {
    let km = KeyManager::start();
    let keys = key_set(&km);
    // Claims the RSA key's kid but is signed by the Ed25519 key.
    let rsa_kid = km.current_kid(KeyAlg::RS256).expect("rsa key");
    let t = km.mint_with_header(KeyAlg::EdDSA, json!({"kid": rsa_kid}), km.claims("eve"));
    assert!(verify(&km, &keys, &t).is_err());
    // No kid at all: still verifiable by key type alone.
    let t = km.mint_with_header(KeyAlg::EdDSA, json!({"kid": null}), km.claims("eve"));
    assert_eq!(jose::decode(&t).expect("decodes").header().kid, None);
    assert!(verify(&km, &keys, &t).is_ok(), "{:?}", verify(&km, &keys, &t));
    // Expired claims are signed as given.
    let mut claims = km.claims("eve");
    claims["exp"] = json!(unix_now() - 3600);
    let t = km.mint(KeyAlg::ES256, claims);
    assert!(
        matches!(verify(&km, &keys, &t), Err(JoseError::Expired)),
        "{:?}",
        verify(&km, &keys, &t)
    );
}

#[test]
fn introspection_answers_active_inactive_and_unknown_tokens() {
    let km = KeyManager::start();
    km.register_opaque(
        "opaque-1",
        json!({"scope": "a b", "client_id": "app", "username": "alice", "exp": unix_now() + 600}),
        true,
    );
    km.register_opaque("opaque-2", json!({"scope": "a"}), false);
    // One keep-alive connection for all of them.
    let mut c = Client::connect(km.addr());
    let r = introspect(&mut c, "token=opaque-1&token_type_hint=access_token", None);
    assert_eq!(r.status, 200, "{}", r.describe());
    let j = r.json();
    assert_eq!(j["active"], true);
    assert_eq!(j["scope"], "a b");
    assert_eq!(j["client_id"], "app");
    assert_eq!(j["username"], "alice");
    assert_eq!(j["token_type"], "Bearer");
    assert!(j["exp"].is_u64());
    assert_eq!(introspect(&mut c, "token=opaque-2", None).json(), json!({"active": false}));
    assert_eq!(introspect(&mut c, "token=never-seen", None).json(), json!({"active": false}));
    assert_eq!(introspect(&mut c, "nothing=here", None).status, 400);
    km.set_active("opaque-1", false);
    assert_eq!(introspect(&mut c, "token=opaque-1", None).json(), json!({"active": false}));
    assert_eq!(km.connections(), 1);
    assert_eq!(km.introspections(), 5);
    assert_eq!(km.introspections_of("opaque-1"), 2);
    assert_eq!(km.introspections_of("opaque-2"), 1);
    assert_eq!(km.jwks_fetches(), 0);
}

#[test]
fn introspection_form_values_are_url_decoded() {
    let km = KeyManager::start();
    km.register_opaque("a+b c/=", json!({}), true);
    let mut c = Client::connect(km.addr());
    let r = introspect(&mut c, "token=a%2Bb+c%2F%3D", None);
    assert_eq!(r.json()["active"], true, "{}", r.describe());
}

#[test]
fn introspection_requires_client_credentials_when_configured() {
    let km = KeyManager::builder().client_credentials("gateway", "s3cret").start();
    km.register_opaque("t", json!({"scope": "x"}), true);
    let mut c = Client::connect(km.addr());
    let r = introspect(&mut c, "token=t", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"key-manager\""));
    assert_eq!(r.json()["error"], "invalid_client");
    // "gateway:nope".
    assert_eq!(introspect(&mut c, "token=t", Some("Basic Z2F0ZXdheTpub3Bl")).status, 401);
    // "gateway:s3cret" in standard base64, with padding.
    let r = introspect(&mut c, "token=t", Some("Basic Z2F0ZXdheTpzM2NyZXQ="));
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.json()["active"], true);
    assert_eq!(km.introspections(), 3);
    assert_eq!(km.introspections_of("t"), 1);
    km.set_client_credentials(None);
    assert_eq!(introspect(&mut c, "token=t", None).status, 200);
}

#[test]
fn delays_and_failures() {
    let km = KeyManager::start();
    km.register_opaque("t", json!({}), true);
    km.set_introspection_delay(Duration::from_millis(300));
    km.set_jwks_delay(Duration::from_millis(300));
    let mut c = Client::connect(km.addr());
    let start = Instant::now();
    assert_eq!(introspect(&mut c, "token=t", None).status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    let start = Instant::now();
    fetch_jwks(&km);
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    km.set_introspection_delay(Duration::ZERO);
    km.set_jwks_delay(Duration::ZERO);

    km.set_jwks_failure(Some(503));
    assert_eq!(client::get(km.addr(), "/jwks").status, 503);
    km.set_introspection_failure(Some(500));
    assert_eq!(introspect(&mut c, "token=t", None).status, 500);
    km.set_jwks_failure(None);
    km.set_introspection_failure(None);
    fetch_jwks(&km);
    assert_eq!(introspect(&mut c, "token=t", None).status, 200);
    assert_eq!(km.jwks_fetches(), 3);
    assert_eq!(km.introspections(), 3);
}

#[test]
fn concurrent_jwks_fetches_are_all_counted() {
    let km = KeyManager::start();
    km.set_jwks_delay(Duration::from_millis(100));
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| fetch_jwks(&km));
        }
    });
    assert_eq!(km.jwks_fetches(), 8);
    assert!(km.wait_jwks_fetches(8, Duration::ZERO));
}

#[test]
fn discovery_and_unknown_paths() {
    let km = KeyManager::builder().issuer("https://issuer.example").start();
    let j = client::get(km.addr(), "/.well-known/openid-configuration").json();
    assert_eq!(j["issuer"], "https://issuer.example");
    assert_eq!(j["jwks_uri"], km.jwks_url());
    assert_eq!(j["introspection_endpoint"], km.introspection_url());
    assert_eq!(km.url(), format!("http://{}", km.addr()));
    assert_eq!(client::get(km.addr(), "/nope").status, 404);
    let r = client::get(km.addr(), "/introspect");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(km.jwks_fetches(), 0);
    assert_eq!(km.introspections(), 0);
}

#[test]
fn drop_stops_the_server_even_during_a_delay() {
    let km = KeyManager::start();
    km.set_jwks_delay(Duration::from_secs(30));
    let addr = km.addr();
    let mut c = Client::connect(addr);
    c.send(b"GET /jwks HTTP/1.1\r\nHost: km\r\n\r\n");
    assert!(km.wait_jwks_fetches(1, Duration::from_secs(5)));
    let start = Instant::now();
    drop(km);
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert!(c.is_closed(Duration::from_secs(2)));
}
