//! TLS to backends: `https://` endpoints verified against the project's `Endpoint-certificates/`
//! or the system trust store, host names checked, connections pooled, the gateway's client
//! certificate presented, and every handshake failure answered 503 102503 before the request is
//! sent. Certificates are made per test (rcgen); the backend is a rustls front on loopback before a
//! recording backend, which only ever sees what came through a completed handshake.

use std::time::Duration;

use serde_json::json;
use turnpike_tests::key_manager::{unix_now, KeyManager};
use turnpike_tests::temp::TempDir;
use turnpike_tests::tls_backend::{Identity, TestCa, TlsBackend};
use turnpike_tests::{api_yaml, assert_error, wildcard_api, Backend, Gateway, GatewayConfig};

const SETTLE: Duration = Duration::from_millis(200);

/// An apictl project at `/secure/1.0.0` whose endpoint is `url`; `certificates` are
/// `(endpoint URL, PEM)` entries of `Endpoint-certificates/endpoint_certificates.yaml`.
fn project(
    cfg: GatewayConfig,
    name: &str,
    url: &str,
    certificates: &[(&str, &str)],
) -> GatewayConfig {
    let api = format!(
        "type: api\nversion: v4.2.0\ndata:\n  name: {name}\n  context: /{name}\n  version: 1.0.0\n  \
         lifeCycleStatus: PUBLISHED\n  type: HTTP\n  endpointImplementationType: ENDPOINT\n  \
         endpointConfig:\n    endpoint_type: http\n    production_endpoints:\n      url: {url}\n"
    );
    let oas = format!(
        "openapi: 3.0.3\ninfo: {{title: {name}, version: 1.0.0}}\npaths:\n  /items:\n    \
         get: {{responses: {{\"200\": {{description: ok}}}}}}\n    \
         post: {{responses: {{\"200\": {{description: ok}}}}}}\n"
    );
    let mut cfg = cfg
        .api(&format!("{name}/api.yaml"), api)
        .api(&format!("{name}/Definitions/swagger.yaml"), oas);
    if !certificates.is_empty() {
        let mut mapping = String::from("type: endpoint_certificates\nversion: v4.2.0\ndata:\n");
        for (i, (endpoint, pem)) in certificates.iter().enumerate() {
            mapping.push_str(&format!(
                "  - alias: cert{i}\n    endpoint: {endpoint}\n    certificate: cert{i}.crt\n"
            ));
            cfg = cfg.api(&format!("{name}/Endpoint-certificates/cert{i}.crt"), *pem);
        }
        cfg = cfg.api(&format!("{name}/Endpoint-certificates/endpoint_certificates.yaml"), mapping);
    }
    cfg
}

fn get(gw: &Gateway, path: &str) -> turnpike_tests::Response {
    gw.client().request(format!("GET {path} HTTP/1.1\r\nHost: gw\r\n\r\n").as_bytes())
}

/// Asserts a TLS refusal: 503 102503 naming `words`, the reason logged, nothing in clear behind
/// the front.
fn assert_refused(gw: &Gateway, front: &TlsBackend, path: &str, words: &str) {
    let r = get(gw, path);
    assert_error(&r, 503, "102503");
    let description = r.json()["error_description"].as_str().unwrap_or_default().to_owned();
    assert!(description.contains(words), "description {description:?} lacks {words:?}");
    front.backend().assert_received_nothing(SETTLE);
    assert_eq!(front.handshakes(), 0, "no handshake may complete; errors: {:?}", front.errors());
    assert!(
        gw.stderr().contains("upstream TLS handshake failed"),
        "reason logged; stderr:\n{}",
        gw.stderr()
    );
}

fn server(ca: &TestCa) -> Identity {
    ca.server(&["localhost", "127.0.0.1"])
}

#[test]
fn endpoint_certificate_trusts_the_backend_and_connections_are_pooled() {
    let ca = TestCa::new("backend test CA");
    let front = TlsBackend::start(&server(&ca), None);
    let url = front.url("localhost", "/v2");
    let gw = Gateway::start(project(GatewayConfig::new(), "secure", &url, &[(&url, &ca.pem())]));

    let mut client = gw.client();
    for i in 0..3 {
        let r = client.request(b"GET /secure/1.0.0/items?n=1 HTTP/1.1\r\nHost: gw\r\n\r\n");
        assert_eq!(r.status, 200, "request {i}: {}", r.describe());
        assert_eq!(r.json()["target"], "/v2/items?n=1", "{}", r.describe());
    }
    let r = client.request(
        b"POST /secure/1.0.0/items HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.json()["body_len"], 5);

    let seen = front.backend().wait_requests(4, Duration::from_secs(2));
    assert_eq!(seen.len(), 4);
    let port = front.port();
    assert_eq!(seen[0].header("host"), Some(format!("localhost:{port}").as_str()));
    // Keep-alive: one TCP connection, one handshake, one plaintext connection for all four.
    assert_eq!(front.tcp_connections(), 1, "TLS connections opened");
    assert_eq!(front.handshakes(), 1);
    assert_eq!(front.backend().connections(), 1);
    assert!(seen.iter().all(|r| r.conn == 0));
}

#[test]
fn a_certificate_from_another_ca_is_refused_before_anything_is_sent() {
    let ca = TestCa::new("backend test CA");
    let other = TestCa::new("some other CA");
    let front = TlsBackend::start(&server(&ca), None);
    let url = front.url("localhost", "");
    let gw = Gateway::start(project(GatewayConfig::new(), "secure", &url, &[(&url, &other.pem())]));
    assert_refused(&gw, &front, "/secure/1.0.0/items", "not trusted");
    assert!(front.handshake_failures() >= 1, "the front saw the client give up");
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let ca = TestCa::new("backend test CA");
    let front = TlsBackend::start(&ca.server(&["backend.other.example"]), None);
    let url = front.url("localhost", "");
    let gw = Gateway::start(project(GatewayConfig::new(), "secure", &url, &[(&url, &ca.pem())]));
    assert_refused(&gw, &front, "/secure/1.0.0/items", "host name");
}

#[test]
fn verify_hostname_off_accepts_another_name_but_still_checks_the_chain() {
    let ca = TestCa::new("backend test CA");
    let other = TestCa::new("some other CA");
    let misnamed = TlsBackend::start(&ca.server(&["backend.other.example"]), None);
    let untrusted = TlsBackend::start(&server(&other), None);
    let (url, bad_url) = (misnamed.url("localhost", ""), untrusted.url("localhost", ""));
    let cfg = GatewayConfig::new().toml("[upstream_tls]\nverify_hostname = false");
    let cfg = project(cfg, "misnamed", &url, &[(&url, &ca.pem())]);
    let cfg = project(cfg, "untrusted", &bad_url, &[(&bad_url, &ca.pem())]);
    let gw = Gateway::start(cfg);

    let r = get(&gw, "/misnamed/1.0.0/items");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(misnamed.handshakes(), 1);
    assert!(
        gw.stderr().contains("verify_hostname = false"),
        "loud warning; stderr:\n{}",
        gw.stderr()
    );
    assert_refused(&gw, &untrusted, "/untrusted/1.0.0/items", "not trusted");
}

#[test]
fn the_gateway_presents_its_client_certificate_to_a_backend_that_requires_one() {
    let ca = TestCa::new("backend test CA");
    let client_ca = TestCa::new("gateway client CA");
    let front = TlsBackend::start(&server(&ca), Some(&client_ca));
    let url = front.url("localhost", "");

    // Without a client certificate the backend ends the session: 503, nothing reaches it.
    let gw = Gateway::start(project(GatewayConfig::new(), "secure", &url, &[(&url, &ca.pem())]));
    let r = get(&gw, "/secure/1.0.0/items");
    assert_error(&r, 503, "102503");
    let description = r.json()["error_description"].as_str().unwrap_or_default().to_owned();
    assert!(description.contains("refused"), "{description}");
    front.backend().assert_received_nothing(SETTLE);
    assert_eq!(front.client_certificates(), 0);
    drop(gw);

    let files = TempDir::new("client-cert");
    let identity = client_ca.client("turnpike-gateway");
    let cert = files.write("gw.crt", &identity.chain_pem);
    let key = files.write("gw.key", &identity.key_pem);
    let toml = format!(
        "[upstream_tls]\nclient_cert_file = \"{}\"\nclient_key_file = \"{}\"",
        cert.display(),
        key.display()
    );
    let gw = Gateway::start(project(
        GatewayConfig::new().toml(&toml),
        "secure",
        &url,
        &[(&url, &ca.pem())],
    ));
    let r = get(&gw, "/secure/1.0.0/items");
    assert_eq!(r.status, 200, "{}; front errors: {:?}", r.describe(), front.errors());
    assert_eq!(front.client_certificates(), 1);
    assert_eq!(front.backend().request_count(), 1);
}

#[test]
fn without_endpoint_certificates_the_system_trust_store_decides() {
    let ca = TestCa::new("backend test CA");
    let front = TlsBackend::start(&server(&ca), None);
    // A bare OpenAPI definition (no project, so no endpoint certificates), by IP address.
    let api = wildcard_api("/sys", &front.url("127.0.0.1", ""));
    let files = TempDir::new("trust-store");

    // A trust store without the test CA: refused.
    let unrelated = files.write("unrelated.pem", &TestCa::new("unrelated CA").pem());
    let gw = Gateway::start(
        GatewayConfig::new()
            .api("sys.yaml", api.clone())
            .env("SSL_CERT_FILE", &unrelated.to_string_lossy()),
    );
    assert_refused(&gw, &front, "/sys/x", "not trusted");
    drop(gw);

    // The distribution's own store does not hold a CA made a moment ago either.
    if std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").is_file() {
        let gw = Gateway::start(GatewayConfig::new().api("sys.yaml", api.clone()));
        assert_refused(&gw, &front, "/sys/x", "not trusted");
        drop(gw);
    }

    // The same store with the test CA added (SSL_CERT_FILE, as OpenSSL and curl read it): served.
    let trusted = files.write("trusted.pem", &ca.pem());
    let gw = Gateway::start(
        GatewayConfig::new().api("sys.yaml", api).env("SSL_CERT_FILE", &trusted.to_string_lossy()),
    );
    let r = get(&gw, "/sys/x");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(front.backend().request_count(), 1);
}

#[test]
fn bad_endpoint_certificates_name_the_file_and_entry() {
    let url = "https://localhost:8443";
    let cfg = project(GatewayConfig::new(), "secure", url, &[(url, "not a certificate")]);
    let (status, stderr) = Gateway::run_to_exit(cfg, Duration::from_secs(10));
    assert!(status.is_some_and(|s| !s.success()), "must refuse to start; stderr:\n{stderr}");
    assert!(
        stderr.contains("endpoint_certificates.yaml") && stderr.contains("/data/0/certificate"),
        "names the mapping entry; stderr:\n{stderr}"
    );
}

#[test]
fn token_introspection_over_https_uses_the_same_tls_client() {
    let ca = TestCa::new("key manager test CA");
    let km = KeyManager::start();
    let front = TlsBackend::front(&server(&ca), None, km.addr());
    let backend = Backend::echo();
    let files = TempDir::new("km-trust");
    let trusted = files.write("ca.pem", &ca.pem());
    let paths = "  /items:\n    get: {responses: {\"200\": {description: ok}}}\n";
    let toml = format!(
        "[security]\ndefault = \"oauth2\"\n[[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\n\
         jwks_url = \"{}\"\n[security.introspection]\nurl = \"{}\"\ncache_ttl_s = 60\n",
        km.issuer(),
        km.jwks_url(),
        km.introspection_url()
            .replace(&format!("http://{}", km.addr()), &front.url("localhost", "")),
    );
    let gw = Gateway::start(
        GatewayConfig::new()
            .api("shop.yaml", api_yaml("Shop", "/shop/v1", &[backend.url("")], paths))
            .toml(&toml)
            .env("SSL_CERT_FILE", &trusted.to_string_lossy()),
    );
    km.register_opaque(
        "opaque-tls",
        json!({"scope": "", "client_id": "app", "exp": unix_now() + 600}),
        true,
    );
    let r = gw.client().request(
        b"GET /shop/v1/items HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer opaque-tls\r\n\r\n",
    );
    assert_eq!(r.status, 200, "{}; front errors: {:?}", r.describe(), front.errors());
    assert_eq!(km.introspections_of("opaque-tls"), 1);
    assert_eq!(front.handshakes(), 1, "the introspection call went through the TLS front");
}
