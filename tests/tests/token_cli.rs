//! `turnpike token` end to end: credentials minted by the real binary are accepted by a real
//! gateway whose issuer trusts the matching `certificate` (or public key PEM), and refused when
//! they should be; plain API keys pasted into the config work; usage errors exit 2; and the
//! example configuration with its test issuer validates and serves the README's secured calls.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use turnpike_tests::cli::show;
use turnpike_tests::temp::TempDir;
use turnpike_tests::{api_yaml, assert_error, Backend, Client, Gateway, GatewayConfig, Response};

const ISSUER: &str = "https://test-issuer.turnpike.test";

/// Runs `turnpike <args>` in `dir`.
fn turnpike(dir: &Path, args: &[&str]) -> Output {
    turnpike_tests::cli::run(args, Some(dir))
}

/// Runs `turnpike token <args>` expecting exit 0; returns stdout without the final newline.
fn token(dir: &Path, args: &[&str]) -> String {
    let out = turnpike(dir, &[&["token"], args].concat());
    assert_eq!(out.status.code(), Some(0), "token {args:?}:\n{}", show(&out));
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `Shop` 1.0 at `/shop/v1`: `/items` needs scope `read`, `/admin` scope `admin`, `/keyed` takes
/// an API key in the `apikey` header.
fn shop_api(backend: &Backend) -> String {
    let paths = "  /items:\n    get: {responses: {\"200\": {description: ok}}}\n\
                 \x20 /admin:\n    get:\n      security: [{default: [admin]}]\n      responses: {\"200\": {description: ok}}\n\
                 \x20 /keyed:\n    get:\n      security: [{apikey: []}]\n      responses: {\"200\": {description: ok}}\n";
    let mut doc = api_yaml("Shop", "/shop/v1", &[backend.url("")], paths);
    doc.push_str(
        "security: [{default: [read]}]\n\
         components:\n  securitySchemes:\n    default: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://x', scopes: {read: r, admin: a}}}}\n    apikey: {type: apiKey, in: header, name: apikey}\n",
    );
    doc
}

/// `[security]` with one issuer whose key is `certificate` (an absolute path), plus `extra`.
fn issuer_toml(certificate: &Path, extra: &str) -> String {
    format!(
        "[security]\ndefault = \"oauth2\"\n\
         [[security.issuers]]\nname = \"local-test\"\nissuer = \"{ISSUER}\"\ncertificate = \"{}\"\n{extra}",
        certificate.display()
    )
}

fn start(backend: &Backend, toml: &str) -> Gateway {
    Gateway::start(GatewayConfig::new().api("shop.yaml", shop_api(backend)).toml(toml).workers(1))
}

fn get(c: &mut Client, path: &str, header: &str) -> Response {
    c.request(format!("GET {path} HTTP/1.1\r\nHost: a\r\n{header}\r\n").as_bytes())
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn api_key(key: &str) -> String {
    format!("apikey: {key}\r\n")
}

/// Waits a moment, then checks the backend saw exactly `n` requests (denials never reach it).
fn settled(b: &Backend, n: usize) {
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(b.request_count(), n);
}

#[test]
fn tokens_and_api_keys_minted_with_a_generated_key_pass_a_gateway_trusting_its_certificate() {
    let dir = TempDir::new("token");
    let d = dir.path();
    // A new issuer key and its certificate; a second, unrelated key.
    let written = token(d, &["--generate-key", "issuer.key.pem", "--cert", "issuer.pem"]);
    assert_eq!(written, "", "writing keys prints no token");
    let pem = std::fs::read_to_string(d.join("issuer.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let key_pem = std::fs::read_to_string(d.join("issuer.key.pem")).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    token(d, &["--generate-key", "other.key.pem", "--alg", "EdDSA"]);

    let backend = Backend::echo();
    let gw = start(&backend, &issuer_toml(&d.join("issuer.pem"), ""));
    let mut c = gw.client();
    let mint = |key: &str, extra: &[&str]| {
        token(d, &[&["--key", key, "--issuer", ISSUER], extra].concat())
    };

    // Scope `read`: 200 at the backend; the token is a three-part JWS.
    let read = mint("issuer.key.pem", &["--scope", "read", "--sub", "alice"]);
    assert_eq!(read.split('.').count(), 3, "{read}");
    let r = get(&mut c, "/shop/v1/items", &bearer(&read));
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(backend.wait_requests(1, Duration::from_secs(2)).len(), 1);
    // Any kid is accepted when the issuer's certificate has none configured.
    let with_kid = mint("issuer.key.pem", &["--scope", "read write", "--kid", "rotated-1"]);
    assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&with_kid)).status, 200);

    // Wrong scope: 403 900910. No token: 401 900902. Another key: 401 900901.
    let write = mint("issuer.key.pem", &["--scope", "write"]);
    assert_error(&get(&mut c, "/shop/v1/items", &bearer(&write)), 403, "900910");
    assert_error(&get(&mut c, "/shop/v1/admin", &bearer(&read)), 403, "900910");
    assert_error(&get(&mut c, "/shop/v1/items", ""), 401, "900902");
    let forged = mint("other.key.pem", &["--scope", "read"]);
    assert_error(&get(&mut c, "/shop/v1/items", &bearer(&forged)), 401, "900901");
    // Another issuer name signed by the right key: unknown issuer.
    let stranger =
        token(d, &["--key", "issuer.key.pem", "--issuer", "https://else", "--scope", "read"]);
    assert_error(&get(&mut c, "/shop/v1/items", &bearer(&stranger)), 401, "900901");
    // --claim overrides: an expired token is refused.
    let expired = mint("issuer.key.pem", &["--scope", "read", "--claim", "exp=1000"]);
    assert_error(&get(&mut c, "/shop/v1/items", &bearer(&expired)), 401, "900901");
    settled(&backend, 2);

    // A WSO2 API key subscribed to Shop: 200 in the apikey header; one for another API: 403.
    let key = mint(
        "issuer.key.pem",
        &["--api-key", "--application", "shop-app", "--api", "Shop:/shop/v1:1.0"],
    );
    let r = get(&mut c, "/shop/v1/keyed", &api_key(&key));
    assert_eq!(r.status, 200, "{}", r.describe());
    let elsewhere = mint(
        "issuer.key.pem",
        &["--api-key", "--application", "shop-app", "--api", "Pets:/pets/1.0:1.0"],
    );
    assert_error(&get(&mut c, "/shop/v1/keyed", &api_key(&elsewhere)), 403, "900908");
    // The IP restriction is enforced: loopback is not in 192.0.2.0/24.
    let fenced = mint(
        "issuer.key.pem",
        &[
            "--api-key",
            "--application",
            "a",
            "--api",
            "Shop:/shop/v1:1.0",
            "--permitted-ip",
            "192.0.2.0/24",
        ],
    );
    assert_error(&get(&mut c, "/shop/v1/keyed", &api_key(&fenced)), 403, "900908");
    // An access token is not an API key.
    assert_error(&get(&mut c, "/shop/v1/keyed", &api_key(&read)), 401, "900901");
    settled(&backend, 3);
}

#[test]
fn rsa_keys_public_key_pems_and_a_configured_kid() {
    let dir = TempDir::new("token-rsa");
    let d = dir.path();
    let rsa = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/rsa-2048-1.pem");
    let rsa = path_str(&rsa);
    // The public key of an existing key, as a PUBLIC KEY PEM.
    assert_eq!(token(d, &["--key", rsa, "--public-key", "issuer.pub.pem"]), "");
    let public = std::fs::read_to_string(d.join("issuer.pub.pem")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");

    let backend = Backend::echo();
    let toml = issuer_toml(&d.join("issuer.pub.pem"), "kid = \"rsa-1\"\n");
    let gw = start(&backend, &toml);
    let mut c = gw.client();
    for alg in ["RS256", "PS256"] {
        let t = token(
            d,
            &["--key", rsa, "--issuer", ISSUER, "--scope", "read", "--alg", alg, "--kid", "rsa-1"],
        );
        let r = get(&mut c, "/shop/v1/items", &bearer(&t));
        assert_eq!(r.status, 200, "{alg}: {}", r.describe());
    }
    // Without kid the configured key is still the only candidate; with another kid: refused.
    let no_kid = token(d, &["--key", rsa, "--issuer", ISSUER, "--scope", "read"]);
    assert_eq!(get(&mut c, "/shop/v1/items", &bearer(&no_kid)).status, 200);
    let other_kid =
        token(d, &["--key", rsa, "--issuer", ISSUER, "--scope", "read", "--kid", "rsa-2"]);
    assert_error(&get(&mut c, "/shop/v1/items", &bearer(&other_kid)), 401, "900901");
    settled(&backend, 3);
}

#[test]
fn a_plain_api_key_pasted_into_the_config_works() {
    let dir = TempDir::new("token-plain");
    let out = token(dir.path(), &["--plain-api-key"]);
    let mut lines = out.lines();
    let (key, sha_line) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(key.starts_with("tpk_") && key.len() >= 40, "{out}");
    assert!(sha_line.starts_with("sha256 = \"") && sha_line.len() == 64 + 11, "{out}");
    assert_ne!(token(dir.path(), &["--plain-api-key"]), out, "keys are random");

    let backend = Backend::echo();
    let toml = format!(
        "[security]\ndefault = \"oauth2\"\n[[security.api_keys]]\napplication = \"shop-app\"\n{sha_line}\n"
    );
    let gw = start(&backend, &toml);
    let mut c = gw.client();
    let r = get(&mut c, "/shop/v1/keyed", &api_key(key));
    assert_eq!(r.status, 200, "{}", r.describe());
    let wrong = format!("{key}x");
    assert_error(&get(&mut c, "/shop/v1/keyed", &api_key(&wrong)), 401, "900901");
    settled(&backend, 1);
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    let dir = TempDir::new("token-usage");
    let d = dir.path();
    token(d, &["--generate-key", "k.pem"]);
    let usage: &[&[&str]] = &[
        &[],
        &["--key", "k.pem"],
        &["--issuer", ISSUER],
        &["--key", "k.pem", "--generate-key", "n.pem", "--issuer", ISSUER],
        &["--key", "k.pem", "--issuer", ISSUER, "--api-key", "--api", "A:/a:1"],
        &["--key", "k.pem", "--issuer", ISSUER, "--api-key", "--application", "a"],
        &["--key", "k.pem", "--issuer", ISSUER, "--application", "a"],
        &["--key", "k.pem", "--issuer", ISSUER, "--api-key", "--application", "a", "--api", "bad"],
        &[
            "--key",
            "k.pem",
            "--issuer",
            ISSUER,
            "--api-key",
            "--application",
            "a",
            "--api",
            "A:/a:1",
            "--scope",
            "x",
        ],
        &["--key", "k.pem", "--issuer", ISSUER, "--ttl", "0"],
        &["--key", "k.pem", "--issuer", ISSUER, "--claim", "novalue"],
        &["--key", "k.pem", "--issuer", ISSUER, "--alg", "none"],
        &["--key", "k.pem", "--issuer", ISSUER, "--alg", "HS256"],
        &["--key", "k.pem", "--scope", "read"],
        &["--plain-api-key", "--issuer", ISSUER],
        &["--generate-key", "rsa.pem", "--alg", "RS256"],
        &["--cert", "c.pem"],
        &["--unknown"],
    ];
    for args in usage {
        let out = turnpike(d, &[&["token"], *args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}:\n{}", show(&out));
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout:\n{}", show(&out));
    }
    assert!(!d.join("rsa.pem").exists(), "nothing written on a usage error");
    let failing: &[(&[&str], &str)] = &[
        (&["--key", "missing.pem", "--issuer", ISSUER], "missing.pem"),
        (&["--generate-key", "k.pem"], "k.pem"),
        (&["--key", "k.pem", "--issuer", ISSUER, "--alg", "RS256"], "key refused for RS256"),
    ];
    for (args, says) in failing {
        let out = turnpike(d, &[&["token"], *args].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}:\n{}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let help = turnpike(d, &["token", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in ["--plain-api-key", "--api-key", "--generate-key", "--cert", "EXAMPLES"] {
        assert!(help.contains(needle), "{needle} in:\n{help}");
    }
}

#[test]
fn certificate_config_errors_name_the_file_the_key_path_and_the_problem() {
    let dir = TempDir::new("token-badcert");
    let d = dir.path();
    token(d, &["--generate-key", "k.pem", "--cert", "c.pem"]);
    std::fs::create_dir_all(d.join("apis")).unwrap();
    let not_pem = dir.write("notes.txt", "hello\n");
    let cases: [(String, &[&str]); 5] = [
        (issuer_toml(&d.join("k.pem"), ""), &["/security/issuers/0/certificate", "k.pem", "PRIVATE KEY"]),
        (issuer_toml(&not_pem, ""), &["/security/issuers/0/certificate", "notes.txt", "not PEM"]),
        (issuer_toml(&d.join("absent.pem"), ""), &["certificate", "absent.pem", "cannot read"]),
        (
            issuer_toml(&d.join("c.pem"), "jwks_file = \"k.json\"\n"),
            &["/security/issuers/0", "exactly one of jwks_url, jwks_file, secret_env or certificate"],
        ),
        (
            "[security]\n[[security.issuers]]\nname = \"a\"\nissuer = \"b\"\njwks_file = \"k.json\"\nkid = \"k\"\n".to_owned(),
            &["/security/issuers/0/kid", "kid goes with certificate"],
        ),
    ];
    for (toml, needles) in cases {
        let config = dir.write("gateway.toml", &toml);
        let out = turnpike(d, &["validate", "--config", path_str(&config), "--apis", "apis"]);
        assert_eq!(out.status.code(), Some(1), "{toml}\n{}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in std::iter::once(&"gateway.toml").chain(needles) {
            assert!(stderr.contains(needle), "{needle} in: {stderr}");
        }
    }
    // The same file set up right validates.
    let config = dir.write("gateway.toml", &issuer_toml(&d.join("c.pem"), "kid = \"k1\"\n"));
    let out = turnpike(d, &["validate", "--config", path_str(&config), "--apis", "apis"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The issuer, scope and paths of README's "The two commands" against the shipped example files.
#[test]
fn the_example_config_and_test_issuer_validate_and_serve_the_readme_calls() {
    let root = repo_root();
    let out = turnpike(&root, &["validate", "--config", "examples/gateway.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/orders/v1"), "{}", show(&out));

    // The example's issuer section, as it is, in front of the example's secured API (pointed at
    // a recording backend): the README's token passes, a missing one is refused.
    let example = std::fs::read_to_string(root.join("examples/gateway.toml")).unwrap();
    let security = &example[example.find("[security]").unwrap()..];
    let cert = root.join("examples/keys/test-issuer.cert.pem");
    let security = security
        .replace("\"examples/keys/test-issuer.cert.pem\"", &format!("{:?}", path_str(&cert)));
    let issuer = security
        .lines()
        .find_map(|l| l.strip_prefix("issuer = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap()
        .to_owned();
    let backend = Backend::echo();
    let api = std::fs::read_to_string(root.join("examples/apis/orders-secured.yaml"))
        .unwrap()
        .replace("http://127.0.0.1:8081", &backend.url(""));
    let gw =
        Gateway::start(GatewayConfig::new().api("orders.yaml", api).toml(&security).workers(1));
    let mut c = gw.client();
    let key = "examples/keys/test-issuer.key.pem";
    let read = token(&root, &["--key", key, "--issuer", &issuer, "--scope", "read"]);
    let r = get(&mut c, "/orders/v1/orders", &bearer(&read));
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_error(&get(&mut c, "/orders/v1/orders", ""), 401, "900902");
    let r = c.request(
        format!(
            "POST /orders/v1/orders HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n{}\r\n",
            bearer(&read)
        )
        .as_bytes(),
    );
    assert_error(&r, 403, "900910");
    // A denied request with a body ends its connection; the API key goes on a new one.
    let mut c = gw.client();
    let api_key_token = token(
        &root,
        &[
            "--api-key",
            "--key",
            key,
            "--issuer",
            &issuer,
            "--application",
            "demo",
            "--api",
            "Orders:/orders/v1:1.0.0",
        ],
    );
    let r = get(&mut c, "/orders/v1/orders/7", &api_key(&api_key_token));
    assert_eq!(r.status, 200, "{}", r.describe());
    let seen = backend.wait_requests(2, Duration::from_secs(2));
    assert_eq!(seen.len(), 2);
    settled(&backend, 2);
}
