//! Hot reload of `gateway.toml [security]` against the real binary and two key-manager stand-ins:
//! removing an issuer refuses its tokens at once (cached verifications included), adding one
//! with a JWKS URL accepts its tokens once the refresher fetched the keys, an added API key
//! works, keys of an unchanged JWKS URL are not fetched again, and a broken section is rejected
//! with the file, key and reason logged while the previous security keeps serving.

use std::time::Duration;

use turnpike_tests::key_manager::{KeyAlg, KeyManager};
use turnpike_tests::{api_yaml, wait_until, Backend, Gateway, GatewayConfig, Response};

const KEY: &str = "tp_live_reload_0123456789abcdefghijklmnop";

/// `/items` needs an OAuth2 token (the default), `/keyed` an API key.
fn api(backend: &Backend) -> String {
    let paths = [
        "  /items:",
        "    get:",
        "      responses: {\"200\": {description: ok}}",
        "  /keyed:",
        "    get:",
        "      security: [{key: []}]",
        "      responses: {\"200\": {description: ok}}",
        "",
    ]
    .join("\n");
    let mut doc = api_yaml("Shop", "/shop/v1", &[backend.url("")], &paths);
    doc.push_str(
        "components:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-Api-Key}\n",
    );
    doc
}

/// The whole `gateway.toml`: a short watch debounce and `[security]` with `body` in it.
fn gateway_toml(body: &str) -> String {
    format!("[apis]\ndebounce_ms = 30\n[security]\ndefault = \"oauth2\"\n{body}")
}

fn issuer(name: &str, km: &KeyManager) -> String {
    format!(
        "[[security.issuers]]\nname = \"{name}\"\nissuer = \"{}\"\njwks_url = \"{}\"\n",
        km.issuer(),
        km.jwks_url()
    )
}

fn api_key() -> String {
    let digest = turnpike_policy::credentials::api_key_digest_hex(KEY);
    format!("[[security.api_keys]]\napplication = \"shop-app\"\nsha256 = \"{digest}\"\n")
}

/// Replaces `gateway.toml` atomically (a temporary file renamed over it).
fn write_config(gw: &Gateway, text: &str) {
    let tmp = gw.dir().join(".gateway.toml.tmp");
    std::fs::write(&tmp, text).expect("write temporary gateway.toml");
    std::fs::rename(&tmp, gw.dir().join("gateway.toml")).expect("rename gateway.toml");
}

/// `GET path` on a fresh connection with one extra header line.
fn get(gw: &Gateway, path: &str, header: &str) -> Response {
    gw.client().request(format!("GET {path} HTTP/1.1\r\nHost: a\r\n{header}\r\n").as_bytes())
}

fn with_token(gw: &Gateway, token: &str) -> u16 {
    get(gw, "/shop/v1/items", &format!("Authorization: Bearer {token}\r\n")).status
}

fn with_key(gw: &Gateway) -> u16 {
    get(gw, "/shop/v1/keyed", &format!("X-Api-Key: {KEY}\r\n")).status
}

fn eventually(gw: &Gateway, what: &str, cond: impl FnMut() -> bool) {
    let ok = wait_until(Duration::from_secs(10), cond);
    assert!(ok, "{what} never happened; stderr:\n{}", gw.stderr());
}

#[test]
fn security_changes_apply_without_a_restart_and_a_broken_section_is_rejected() {
    let km1 = KeyManager::start();
    let km2 = KeyManager::builder().issuer("https://km2.test/oauth2/token").start();
    let backend = Backend::echo();
    let mut cfg = GatewayConfig::new()
        .api("shop.yaml", api(&backend))
        .toml(&gateway_toml(&issuer("km1", &km1)));
    cfg.args.extend(["--admin-listen".to_owned(), "off".to_owned()]);
    let gw = Gateway::start(cfg);

    let t1 = km1.mint(KeyAlg::RS256, km1.claims("alice"));
    let t2 = km2.mint(KeyAlg::ES256, km2.claims("bob"));
    assert_eq!(with_token(&gw, &t1), 200);
    assert_eq!(with_token(&gw, &t1), 200, "now served from the core's cache");
    assert_eq!(with_token(&gw, &t2), 401, "km2 is not trusted yet");
    assert_eq!(with_key(&gw), 401, "no API keys configured yet");

    // km1 removed: its token is refused although the core had it cached.
    write_config(&gw, &gateway_toml(""));
    eventually(&gw, "the removal of km1", || with_token(&gw, &t1) == 401);
    let r = get(&gw, "/shop/v1/items", &format!("Authorization: Bearer {t1}\r\n"));
    assert_eq!(r.json()["code"], "900901", "{}", r.describe());
    // Polling above let t1 through until the reload landed; from here on the count is exact.
    std::thread::sleep(Duration::from_millis(100));
    let reached = backend.request_count();

    // km2 added: the refresher fetches its JWKS and its tokens pass; km1's still do not.
    write_config(&gw, &gateway_toml(&issuer("km2", &km2)));
    eventually(&gw, "km2's tokens accepted", || with_token(&gw, &t2) == 200);
    assert_eq!(with_token(&gw, &t1), 401);
    assert!(km2.jwks_fetches() >= 1);

    // A plain API key added; km2 unchanged, so its keys are kept and not fetched again.
    let fetches = km2.jwks_fetches();
    write_config(&gw, &gateway_toml(&format!("{}{}", issuer("km2", &km2), api_key())));
    eventually(&gw, "the API key accepted", || with_key(&gw) == 200);
    assert_eq!(with_token(&gw, &t2), 200);
    assert_eq!(km2.jwks_fetches(), fetches, "unchanged JWKS URL fetched again");

    // A broken section: rejected whole, logged with file, key and reason; all still serves.
    let broken = format!("{}algorithms = [\"RS999\"]\n{}", issuer("km2", &km2), api_key());
    write_config(&gw, &gateway_toml(&broken));
    eventually(&gw, "the rejection logged", || {
        gw.stderr().contains("configuration change rejected")
    });
    let log = gw.stderr();
    let line = log.lines().find(|l| l.contains("configuration change rejected")).unwrap();
    assert!(
        line.contains("gateway.toml") && line.contains("algorithms") && line.contains("RS999"),
        "the log names file, key and problem: {line}"
    );
    assert_eq!(with_token(&gw, &t2), 200, "the previous issuers keep serving");
    assert_eq!(with_key(&gw), 200, "the previous API keys keep serving");
    assert!(!log.contains("restart required for security"), "{log}");
    // Since km1's removal, one each: t2, the key, t2, t2, the key. Refusals never reach it.
    let counted = wait_until(Duration::from_secs(2), || backend.request_count() >= reached + 5);
    assert!(counted, "{} requests", backend.request_count());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(backend.request_count(), reached + 5, "a refused request reached the backend");
}
