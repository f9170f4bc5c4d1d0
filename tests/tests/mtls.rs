//! Mutual TLS as API security (WSO2 `mutualssl` / `mutualssl_mandatory`) against the real
//! binary: apictl projects with `Client-certificates/` (a CA certificate, an exactly trusted
//! client certificate), client certificates made by the test, a rustls client, a key manager
//! stand-in for the tokens and a recording backend. Every denial is checked to carry WSO2's
//! code and to never reach the backend; a certificate no deployed API trusts, or an expired one,
//! fails the handshake. The verified certificate is forwarded to the backend in the configured
//! header, and a header of that name sent by the client never is.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use turnpike_tests::key_manager::KeyManager;
use turnpike_tests::temp::TempDir;
use turnpike_tests::tls::{ClientOptions, Issued, TestCa, TlsClient, TlsResponse};
use turnpike_tests::{free_port, Backend, Gateway, GatewayConfig};

const HEADER: &str = "X-WSO2-CLIENT-CERTIFICATE";

/// An apictl project (`api.yaml`, `Definitions/swagger.yaml`) named `name` at `/<name>/1.0.0`
/// with `GET /items`, secured by `schemes`.
fn project(cfg: GatewayConfig, name: &str, schemes: &str, backend: &Backend) -> GatewayConfig {
    let api = format!(
        "type: api\nversion: v4.2.0\ndata:\n  name: {name}\n  context: /{name}\n  version: 1.0.0\n  \
         lifeCycleStatus: PUBLISHED\n  type: HTTP\n  endpointImplementationType: ENDPOINT\n  \
         securityScheme: [{schemes}]\n  \
         endpointConfig:\n    endpoint_type: http\n    production_endpoints:\n      url: {}\n",
        backend.url("")
    );
    let oas = format!(
        "openapi: 3.0.3\ninfo: {{title: {name}, version: 1.0.0}}\npaths:\n  /items:\n    \
         get: {{responses: {{\"200\": {{description: ok}}}}}}\n"
    );
    cfg.api(&format!("{name}/api.yaml"), api).api(&format!("{name}/Definitions/swagger.yaml"), oas)
}

struct Setup {
    gw: Gateway,
    tls: SocketAddr,
    server_ca: TestCa,
    km: KeyManager,
    backend: Backend,
    /// Issued by the clients' CA, which `mand`, `opt` and `both` trust.
    alice: Issued,
    /// Issued by the clients' CA, expired a minute ago.
    alice_expired: Issued,
    /// Issued by a partner CA; trusted exactly (not its CA) by `partner` only.
    bob: Issued,
    /// Issued by the partner CA, expired, trusted exactly by `partner`.
    carol_expired: Issued,
    /// Issued by a CA no API trusts.
    mallory: Issued,
    _dir: TempDir,
}

fn start() -> Setup {
    let server_ca = TestCa::new("Turnpike Test Server CA");
    let clients_ca = TestCa::new("Turnpike Test Clients CA");
    let partner_ca = TestCa::new("Turnpike Test Partner CA");
    let rogue_ca = TestCa::new("Rogue CA");
    let alice = clients_ca.client("alice", -3600, 3600);
    let alice_expired = clients_ca.client("alice-old", -7200, -60);
    let bob = partner_ca.client("bob", -3600, 3600);
    let carol_expired = partner_ca.client("carol", -7200, -60);
    let mallory = rogue_ca.client("mallory", -3600, 3600);
    let dir = TempDir::new("mtls-certs");
    ca_server_cert(&server_ca).write(dir.path(), "server");
    let km = KeyManager::start();
    let backend = Backend::echo();
    let port = free_port();
    let d = dir.path().display();
    let toml = format!(
        "[tls]\nlisten = \"127.0.0.1:{port}\"\nforward_client_certificate_header = \"{HEADER}\"\n\
         [[tls.certificates]]\ncert_file = \"{d}/server.crt\"\nkey_file = \"{d}/server.key\"\n\
         [security]\ndefault = \"oauth2\"\n\
         [[security.issuers]]\nname = \"km\"\nissuer = \"{}\"\njwks_url = \"{}\"\n\
         audiences = [\"shop\"]\n",
        km.issuer(),
        km.jwks_url()
    );
    let mut cfg = GatewayConfig::new().toml(&toml).workers(2);
    cfg = project(cfg, "mand", "mutualssl, mutualssl_mandatory", &backend);
    cfg = project(cfg, "opt", "oauth2, mutualssl", &backend);
    cfg = project(
        cfg,
        "both",
        "oauth2, oauth_basic_auth_api_key_mandatory, mutualssl, mutualssl_mandatory",
        &backend,
    );
    cfg = project(cfg, "partner", "mutualssl, mutualssl_mandatory", &backend);
    // `mand` lists its CA in client_certificates.yaml with a tier; `opt` and `both` just hold the
    // PEM file; `partner` trusts two client certificates themselves.
    let meta = "type: client_certificates\nversion: v4.2.0\ndata:\n  - alias: clients\n    \
                certificate: clients.crt\n    tierName: Gold\n    \
                apiIdentifier: {apiName: mand, version: 1.0.0}\n";
    cfg = cfg
        .api("mand/Client-certificates/clients.crt", clients_ca.pem())
        .api("mand/Client-certificates/client_certificates.yaml", meta)
        .api("opt/Client-certificates/clients.crt", clients_ca.pem())
        .api("both/Client-certificates/clients.crt", clients_ca.pem())
        .api("partner/Client-certificates/bob.crt", bob.cert_pem.clone())
        .api("partner/Client-certificates/carol.crt", carol_expired.cert_pem.clone());
    let gw = Gateway::start(cfg);
    let tls = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        turnpike_tests::wait_until(Duration::from_secs(5), || std::net::TcpStream::connect(tls)
            .is_ok()),
        "HTTPS listener up"
    );
    Setup {
        gw,
        tls,
        server_ca,
        km,
        backend,
        alice,
        alice_expired,
        bob,
        carol_expired,
        mallory,
        _dir: dir,
    }
}

fn ca_server_cert(ca: &TestCa) -> Issued {
    ca.server(&["localhost"])
}

impl Setup {
    /// A TLS connection presenting `cert` (none: no client certificate).
    fn connect(&self, cert: Option<&Issued>) -> std::io::Result<TlsClient> {
        let mut options = ClientOptions::new(self.server_ca.der());
        options.client_auth = cert.map(Issued::client_auth);
        TlsClient::connect(self.tls, "localhost", &options.build())
    }

    /// `GET path` over a fresh TLS connection presenting `cert`; `Err` when the handshake or
    /// the exchange fails (with TLS 1.3 a refused client certificate surfaces at the first read).
    fn get(&self, cert: Option<&Issued>, path: &str, extra: &str) -> std::io::Result<TlsResponse> {
        self.connect(cert)?.get(path, extra)
    }

    fn token(&self) -> String {
        let mut claims = self.km.claims("alice");
        claims["aud"] = json!("shop");
        let token = self.km.mint(turnpike_tests::key_manager::KeyAlg::ES256, claims);
        format!("Authorization: Bearer {token}\r\n")
    }

    /// Checks the backend saw exactly `n` requests so far (denials never reach it).
    fn settled(&self, n: usize) {
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(self.backend.request_count(), n, "requests at the backend");
    }
}

fn ok(r: std::io::Result<TlsResponse>) -> TlsResponse {
    let r = r.expect("exchange");
    assert_eq!(r.status, 200, "{}{}", r.head, r.text());
    r
}

fn denied(r: std::io::Result<TlsResponse>, code: &str) {
    let r = r.expect("exchange");
    assert_eq!(r.status, 401, "{}{}", r.head, r.text());
    let body: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON error body");
    assert_eq!(body["code"], code, "{}", r.text());
}

/// The handshake (or the first exchange after it) fails: no HTTP response at all.
fn refused(r: std::io::Result<TlsResponse>, what: &str) {
    if let Ok(r) = r {
        panic!("{what}: expected the handshake to fail, got {}{}", r.head, r.text());
    }
}

#[test]
fn mandatory_mutual_tls() {
    let s = start();
    let forged = format!("{HEADER}: forged\r\n");

    // The right certificate: at the backend, with the certificate forwarded (base64 DER) in
    // place of the forged header the client sent.
    ok(s.get(Some(&s.alice), "/mand/1.0.0/items", &forged));
    let seen = s.backend.wait_requests(1, Duration::from_secs(2));
    let want = turnpike_policy::base64::encode_standard(s.alice.der.as_ref());
    assert_eq!(seen[0].header_all(&HEADER.to_ascii_lowercase()), [want.as_str()]);

    // No certificate, over TLS and over plain HTTP: missing credentials, even with a token.
    denied(s.get(None, "/mand/1.0.0/items", ""), "900902");
    denied(s.get(None, "/mand/1.0.0/items", &s.token()), "900902");
    let mut plain = s.gw.client();
    let r = plain.request(b"GET /mand/1.0.0/items HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("900902")), "{}", r.describe());

    // A certificate the TLS layer accepts (another API trusts it) but this API does not.
    denied(s.get(Some(&s.bob), "/mand/1.0.0/items", ""), "900901");
    denied(s.get(Some(&s.alice), "/partner/1.0.0/items", ""), "900901");
    s.settled(1);

    // An exactly trusted certificate works for its API.
    ok(s.get(Some(&s.bob), "/partner/1.0.0/items", ""));
    s.settled(2);

    // A certificate from a CA no API trusts, and expired ones (issued by a trusted CA, or
    // trusted themselves): refused at the handshake.
    refused(s.get(Some(&s.mallory), "/mand/1.0.0/items", ""), "unknown CA");
    refused(s.get(Some(&s.alice_expired), "/mand/1.0.0/items", ""), "expired, trusted CA");
    refused(s.get(Some(&s.carol_expired), "/partner/1.0.0/items", ""), "expired, trusted leaf");
    s.settled(2);
}

#[test]
fn optional_and_combined_mutual_tls() {
    let s = start();
    let token = s.token();
    let forged = format!("{HEADER}: forged\r\n");

    // Optional: an accepted certificate suffices; without one the token decides.
    ok(s.get(Some(&s.alice), "/opt/1.0.0/items", ""));
    ok(s.get(None, "/opt/1.0.0/items", &format!("{token}{forged}")));
    let seen = s.backend.wait_requests(2, Duration::from_secs(2));
    assert!(seen[1].header(&HEADER.to_ascii_lowercase()).is_none(), "{}", seen[1].head_text());
    denied(s.get(None, "/opt/1.0.0/items", ""), "900902");
    // A certificate this API does not trust is ignored: the token is then required.
    denied(s.get(Some(&s.bob), "/opt/1.0.0/items", ""), "900902");
    ok(s.get(Some(&s.bob), "/opt/1.0.0/items", &token));
    s.settled(3);

    // Both mandatory: the certificate and the token.
    denied(s.get(Some(&s.alice), "/both/1.0.0/items", ""), "900902");
    denied(s.get(None, "/both/1.0.0/items", &token), "900902");
    denied(s.get(Some(&s.alice), "/both/1.0.0/items", "Authorization: Bearer nope\r\n"), "900901");
    ok(s.get(Some(&s.alice), "/both/1.0.0/items", &token));
    s.settled(4);
}

#[test]
fn connections_keep_their_certificate_across_requests() {
    let s = start();
    let mut c = s.connect(Some(&s.alice)).expect("handshake");
    for _ in 0..3 {
        ok(c.get("/mand/1.0.0/items", ""));
    }
    let denied_on_same = c.get("/partner/1.0.0/items", "").expect("exchange");
    assert_eq!(denied_on_same.status, 401);
    s.settled(3);
}
