//! The admin API's HTTP layer, over real sockets: TLS (a rustls client pinning the generated
//! certificate's fingerprint) and plain HTTP on loopback, against an in-test [`Deployments`] that
//! records what reached it. The real deploy manager is exercised end to end elsewhere.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use turnpike_adapter::admin::{
    self, hash_password, hash_password_with_iterations, AdminConfig, AdminError, AdminHandle,
    AdminUser, PasswordHash,
};
use turnpike_adapter::deploy::{
    ApiSource, Change, DeployError, DeployOutcome, DeployedApi, Deployments, SnapshotInfo,
};

// ---------------------------------------------------------------------------------------------
// A recording Deployments.

#[derive(Debug, Clone, PartialEq)]
enum Call {
    Deploy { zip: Vec<u8>, override_existing: bool },
    DryRun { zip: Vec<u8> },
    Undeploy { name: String, version: String, vhost: Option<String> },
}

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<Call>>,
    ready: AtomicBool,
    /// Returned (once) by the next deploy / dry run / undeploy.
    fail_next: Mutex<Option<DeployError>>,
}

impl Recorder {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
    fn fail_next(&self, e: DeployError) {
        *self.fail_next.lock().unwrap() = Some(e);
    }
    fn take_failure(&self) -> Result<(), DeployError> {
        match self.fail_next.lock().unwrap().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn api(name: &str, vhost: Option<&str>) -> DeployedApi {
    DeployedApi {
        name: name.into(),
        version: "1.0.0".into(),
        vhost: vhost.map(Into::into),
        context: format!("/{name}/1.0.0"),
        source: ApiSource::Admin,
        lifecycle: "PUBLISHED".into(),
    }
}

impl Deployments for Recorder {
    fn deploy_archive(&self, zip: &[u8], over: bool) -> Result<DeployOutcome, DeployError> {
        self.calls
            .lock()
            .unwrap()
            .push(Call::Deploy { zip: zip.to_vec(), override_existing: over });
        self.take_failure()?;
        Ok(DeployOutcome {
            snapshot_version: 7,
            apis: vec![api("petstore", None)],
            warnings: vec![],
        })
    }
    fn dry_run_archive(&self, zip: &[u8]) -> Result<Change, DeployError> {
        self.calls.lock().unwrap().push(Call::DryRun { zip: zip.to_vec() });
        self.take_failure()?;
        Ok(Change {
            added_apis: vec!["petstore:1.0.0".into()],
            added_routes: vec!["GET /petstore/1.0.0/pets".into()],
            ..Change::default()
        })
    }
    fn undeploy(
        &self,
        name: &str,
        version: &str,
        vhost: Option<&str>,
    ) -> Result<DeployOutcome, DeployError> {
        self.calls.lock().unwrap().push(Call::Undeploy {
            name: name.into(),
            version: version.into(),
            vhost: vhost.map(Into::into),
        });
        self.take_failure()?;
        Ok(DeployOutcome { snapshot_version: 8, apis: vec![api(name, vhost)], warnings: vec![] })
    }
    fn list(&self) -> Vec<DeployedApi> {
        vec![api("petstore", None), api("echo", Some("echo.example.com"))]
    }
    fn snapshot_info(&self) -> SnapshotInfo {
        SnapshotInfo {
            version: 5,
            apis: self.list(),
            routes: vec!["GET /petstore/1.0.0/pets".into()],
            acknowledged: vec![5, 5],
        }
    }
    fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------------------------
// Servers and clients.

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "turnpike-admin-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn user(name: &str, password: &str) -> AdminUser {
    AdminUser {
        username: name.into(),
        password_hash: PasswordHash::parse(&hash_password_with_iterations(password, 1000)).unwrap(),
    }
}

fn plain_config() -> AdminConfig {
    AdminConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        plain_http: true,
        state_dir: temp_dir(),
        users: vec![user("ops", "secret")],
        ..AdminConfig::default()
    }
}

fn start(config: &AdminConfig) -> (AdminHandle, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let handle = admin::start(config, recorder.clone()).expect("admin server starts");
    (handle, recorder)
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// Writes `request` (head and body), reads the whole reply (the request asks to close).
fn exchange<S: Read + Write>(stream: &mut S, request: &[u8]) -> Reply {
    stream.write_all(request).unwrap();
    stream.flush().unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("complete head");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let body = raw[end + 4..].to_vec();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").unwrap().1.parse().unwrap();
    assert_eq!(body.len(), length, "body length matches content-length");
    Reply { status, headers, body }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn plain(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    exchange(&mut tcp, raw)
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        turnpike_policy::base64::encode_standard(format!("{user}:{password}").as_bytes())
    )
}

const APIS: &str = "/api/mgw/adapter/0.1/apis";
const TOKEN: &str = "/api/mgw/adapter/0.1/oauth2/token";

/// A rustls client that accepts exactly the certificate with this SHA-256 fingerprint.
mod pinned {
    use super::*;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct Pinned {
        fingerprint: String,
        provider: Arc<CryptoProvider>,
    }

    impl ServerCertVerifier for Pinned {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            if admin::tls::fingerprint(end_entity.as_ref()) == self.fingerprint {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(rustls::Error::General("certificate fingerprint mismatch".into()))
            }
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            let algs = &self.provider.signature_verification_algorithms;
            verify_tls12_signature(message, cert, dss, algs)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            let algs = &self.provider.signature_verification_algorithms;
            verify_tls13_signature(message, cert, dss, algs)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider.signature_verification_algorithms.supported_schemes()
        }
    }

    pub fn tls(addr: SocketAddr, fingerprint: &str, raw: &[u8]) -> Result<Reply, std::io::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned {
                fingerprint: fingerprint.to_owned(),
                provider,
            }))
            .with_no_client_auth();
        let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap())
            .unwrap();
        let tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        stream.write_all(raw)?;
        stream.flush()?;
        let mut out = Vec::new();
        stream.read_to_end(&mut out)?;
        Ok(parse_reply(&out))
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn tls_probes_and_certificate_persisted_across_starts() {
    let state = temp_dir();
    let config = AdminConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        state_dir: state.clone(),
        ..AdminConfig::default()
    };
    let (handle, recorder) = start(&config);
    let fingerprint = handle.cert_fingerprint().expect("HTTPS by default").to_owned();
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    assert!(state.join("admin-cert.pem").is_file());
    assert!(state.join("admin-key.pem").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.join("admin-key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key is private: {mode:o}");
    }
    let addr = handle.local_addr();

    let health = pinned::tls(addr, &fingerprint, &request("GET", "/health", &[], b"")).unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), serde_json::json!({"status": "UP"}));
    let ready = pinned::tls(addr, &fingerprint, &request("GET", "/ready", &[], b"")).unwrap();
    assert_eq!(ready.status, 503);
    recorder.ready.store(true, Ordering::SeqCst);
    let ready = pinned::tls(addr, &fingerprint, &request("GET", "/ready", &[], b"")).unwrap();
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json(), serde_json::json!({"status": "READY", "snapshot": 5}));
    // Authenticated call over TLS (default admin/admin: no users configured, loopback).
    let auth = basic("admin", "admin");
    let list =
        pinned::tls(addr, &fingerprint, &request("GET", APIS, &[("authorization", &auth)], b""))
            .unwrap();
    assert_eq!(list.status, 200);
    // A client pinning another fingerprint does not get through.
    assert!(pinned::tls(addr, "00:11", &request("GET", "/health", &[], b"")).is_err());
    handle.shutdown();

    // Second start: same certificate.
    let (handle, _) = start(&config);
    assert_eq!(handle.cert_fingerprint(), Some(fingerprint.as_str()));
    let addr = handle.local_addr();
    let health = pinned::tls(addr, &fingerprint, &request("GET", "/health", &[], b"")).unwrap();
    assert_eq!(health.status, 200);
    handle.shutdown();
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn configured_certificate_is_served() {
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("c.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("k.pem"), key.serialize_pem()).unwrap();
    let config = AdminConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        tls_cert: Some(dir.join("c.pem")),
        tls_key: Some(dir.join("k.pem")),
        state_dir: dir.join("state"),
        ..AdminConfig::default()
    };
    let (handle, _) = start(&config);
    let expected = admin::tls::fingerprint(cert.der());
    assert_eq!(handle.cert_fingerprint(), Some(expected.as_str()));
    let reply =
        pinned::tls(handle.local_addr(), &expected, &request("GET", "/health", &[], b"")).unwrap();
    assert_eq!(reply.status, 200);
    assert!(!dir.join("state").join("admin-cert.pem").exists(), "nothing generated");

    let broken = AdminConfig { tls_key: None, ..config.clone() };
    assert!(matches!(
        admin::start(&broken, Arc::new(Recorder::default())),
        Err(AdminError::IncompleteTls)
    ));
    let missing = AdminConfig { tls_cert: Some(dir.join("nope.pem")), ..config };
    let err = admin::start(&missing, Arc::new(Recorder::default())).unwrap_err();
    assert!(err.to_string().contains("nope.pem"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_http_refused_off_loopback() {
    let config = AdminConfig {
        address: "0.0.0.0:0".parse().unwrap(),
        plain_http: true,
        state_dir: temp_dir(),
        ..AdminConfig::default()
    };
    let err = admin::start(&config, Arc::new(Recorder::default())).unwrap_err();
    assert!(matches!(err, AdminError::PlainHttpNotLoopback(_)), "{err}");
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(!config.state_dir.exists(), "nothing written when refused");
}

#[test]
fn probes_are_unauthenticated_and_apis_are_not() {
    let (handle, _) = start(&plain_config());
    let addr = handle.local_addr();
    assert_eq!(plain(addr, &request("GET", "/health", &[], b"")).status, 200);
    assert_eq!(plain(addr, &request("GET", "/ready", &[], b"")).status, 503);

    let none = plain(addr, &request("GET", APIS, &[], b""));
    assert_eq!(none.status, 401);
    let challenges = none.header_values("www-authenticate");
    assert!(challenges.iter().any(|c| c.starts_with("Basic ")), "{challenges:?}");
    assert!(challenges.iter().any(|c| c.starts_with("Bearer ")), "{challenges:?}");
    let body = none.json();
    assert_eq!(body["code"], 401);
    assert!(body["message"].is_string() && body["description"].is_string());

    let wrong =
        plain(addr, &request("GET", APIS, &[("authorization", &basic("ops", "nope"))], b""));
    assert_eq!(wrong.status, 401);
    assert!(!wrong.header_values("www-authenticate").is_empty());
    let unknown =
        plain(addr, &request("GET", APIS, &[("authorization", &basic("nobody", "secret"))], b""));
    assert_eq!(unknown.status, 401);
    // Configured users replace the default admin/admin.
    let default =
        plain(addr, &request("GET", APIS, &[("authorization", &basic("admin", "admin"))], b""));
    assert_eq!(default.status, 401);
    let odd = plain(addr, &request("GET", APIS, &[("authorization", "Digest x")], b""));
    assert_eq!(odd.status, 401);
    let ok = plain(addr, &request("GET", APIS, &[("authorization", &basic("ops", "secret"))], b""));
    assert_eq!(ok.status, 200);
    let snapshot = plain(addr, &request("GET", "/api/turnpike/v1/snapshot", &[], b""));
    assert_eq!(snapshot.status, 401);
}

#[test]
fn security_endpoints_need_credentials_and_say_when_security_is_not_managed() {
    let (handle, _) = start(&plain_config());
    let addr = handle.local_addr();
    let ops = basic("ops", "secret");
    for path in ["applications", "subscriptions", "revocations"] {
        let path = format!("/api/turnpike/v1/{path}");
        assert_eq!(plain(addr, &request("GET", &path, &[], b"")).status, 401, "{path}");
        let body = br#"{"jti":"j","expires_at":1}"#;
        let post = plain(addr, &request("POST", &path, &[], body));
        assert_eq!(post.status, 401, "{path}");
        // This Deployments manages no security tables.
        let get = plain(addr, &request("GET", &path, &[("authorization", &ops)], b""));
        assert_eq!(get.status, 501, "{path}");
        assert_eq!(get.json()["code"], 501);
    }
    let put = plain(
        addr,
        &request("PUT", "/api/turnpike/v1/revocations", &[("authorization", &ops)], b"{}"),
    );
    assert_eq!(put.status, 405);
    assert_eq!(put.header_values("allow"), ["GET, POST"]);
}

#[test]
fn token_flow() {
    let config = AdminConfig { token_ttl: Duration::from_millis(400), ..plain_config() };
    let (handle, _) = start(&config);
    let addr = handle.local_addr();

    // Basic-authenticated token request.
    let reply =
        plain(addr, &request("POST", TOKEN, &[("authorization", &basic("ops", "secret"))], b""));
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 0); // 400 ms, in whole seconds
    let token = body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let bearer = format!("Bearer {token}");
    let ok = plain(addr, &request("GET", APIS, &[("authorization", &bearer)], b""));
    assert_eq!(ok.status, 200);
    // apictl mg (some versions) sends `Basic <token>`.
    let basic_token = format!("Basic {token}");
    assert_eq!(
        plain(addr, &request("GET", APIS, &[("authorization", &basic_token)], b"")).status,
        200
    );

    // The JSON body `apictl mg login` sends.
    let creds = br#"{"username":"ops","password":"secret"}"#;
    let json = plain(addr, &request("POST", TOKEN, &[("content-type", "application/json")], creds));
    assert_eq!(json.status, 200);
    let second = json.json()["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(second, token);

    let bad = br#"{"username":"ops","password":"x"}"#;
    let refused =
        plain(addr, &request("POST", TOKEN, &[("content-type", "application/json")], bad));
    assert_eq!(refused.status, 401);
    assert!(!refused.header_values("www-authenticate").is_empty());
    let wrong_basic =
        plain(addr, &request("POST", TOKEN, &[("authorization", &basic("ops", "x"))], b""));
    assert_eq!(wrong_basic.status, 401);
    assert_eq!(plain(addr, &request("POST", TOKEN, &[], b"")).status, 401);
    assert_eq!(plain(addr, &request("POST", TOKEN, &[], b"{not json")).status, 400);
    assert_eq!(plain(addr, &request("GET", TOKEN, &[], b"")).status, 405);

    let unknown = plain(
        addr,
        &request("GET", APIS, &[("authorization", &format!("Bearer {}", "a".repeat(64)))], b""),
    );
    assert_eq!(unknown.status, 401);
    assert!(unknown.header_values("www-authenticate").iter().any(|c| c.contains("invalid_token")));

    std::thread::sleep(Duration::from_millis(500));
    let expired = plain(addr, &request("GET", APIS, &[("authorization", &bearer)], b""));
    assert_eq!(expired.status, 401);
}

/// Every byte value, so that any text mangling shows.
fn zip_bytes() -> Vec<u8> {
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend((0..=255u8).cycle().take(70_000));
    zip.extend_from_slice(b"\r\n--notaboundary\r\n");
    zip
}

#[test]
fn deploy_raw_and_multipart_reach_the_manager_intact() {
    let (handle, recorder) = start(&plain_config());
    let addr = handle.local_addr();
    let auth = basic("ops", "secret");
    let zip = zip_bytes();

    let raw = plain(
        addr,
        &request(
            "POST",
            APIS,
            &[("authorization", &auth), ("content-type", "application/zip")],
            &zip,
        ),
    );
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let body = raw.json();
    assert_eq!(body["action"], "DEPLOYED");
    assert_eq!(body["snapshotVersion"], 7);
    assert_eq!(body["apis"][0]["apiName"], "petstore");

    // As apictl sends it: multipart/form-data, part "file", ?override=true.
    let boundary = "------------------------a1b2c3d4e5";
    let mut multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"petstore.zip\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    multipart.extend_from_slice(&zip);
    multipart.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let reply = plain(
        addr,
        &request(
            "POST",
            &format!("{APIS}?override=true"),
            &[("authorization", &auth), ("content-type", &ct)],
            &multipart,
        ),
    );
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    // Older apictl: ?overwrite=true, no content type.
    let reply = plain(
        addr,
        &request("POST", &format!("{APIS}?overwrite=true"), &[("authorization", &auth)], &zip),
    );
    assert_eq!(reply.status, 200);

    assert_eq!(
        recorder.calls(),
        vec![
            Call::Deploy { zip: zip.clone(), override_existing: false },
            Call::Deploy { zip: zip.clone(), override_existing: true },
            Call::Deploy { zip: zip.clone(), override_existing: true },
        ]
    );
}

#[test]
fn chunked_upload_with_expect_continue() {
    let (handle, recorder) = start(&plain_config());
    let zip = zip_bytes();
    let mut raw = format!(
        "POST {APIS} HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: {}\r\n\
         content-type: application/zip\r\ntransfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n",
        basic("ops", "secret")
    )
    .into_bytes();
    for chunk in zip.chunks(10_000) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let mut tcp = TcpStream::connect(handle.local_addr()).unwrap();
    tcp.write_all(&raw).unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).unwrap();
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
    assert!(out.starts_with(interim), "{}", String::from_utf8_lossy(&out[..40]));
    let reply = parse_reply(&out[interim.len()..]);
    assert_eq!(reply.status, 200);
    assert_eq!(recorder.calls(), vec![Call::Deploy { zip, override_existing: false }]);
}

#[test]
fn dry_run_deploys_nothing() {
    let (handle, recorder) = start(&plain_config());
    let auth = basic("ops", "secret");
    let reply = plain(
        handle.local_addr(),
        &request("POST", &format!("{APIS}?dryRun=true"), &[("authorization", &auth)], b"PK-zip"),
    );
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["addedApis"], serde_json::json!(["petstore:1.0.0"]));
    assert_eq!(body["addedRoutes"], serde_json::json!(["GET /petstore/1.0.0/pets"]));
    assert_eq!(body["removedApis"], serde_json::json!([]));
    assert_eq!(body["warnings"], serde_json::json!([]));
    assert_eq!(recorder.calls(), vec![Call::DryRun { zip: b"PK-zip".to_vec() }]);
}

#[test]
fn delete_passes_its_parameters() {
    let (handle, recorder) = start(&plain_config());
    let addr = handle.local_addr();
    let auth = basic("ops", "secret");
    let reply = plain(
        addr,
        &request(
            "DELETE",
            &format!("{APIS}?apiName=Pet%20Store&version=1.0.0&vhost=pets.example.com&environments=Default"),
            &[("authorization", &auth)],
            b"",
        ),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["action"], "UNDEPLOYED");
    let reply = plain(
        addr,
        &request(
            "DELETE",
            &format!("{APIS}?apiName=echo&version=2"),
            &[("authorization", &auth)],
            b"",
        ),
    );
    assert_eq!(reply.status, 200);
    let missing = plain(
        addr,
        &request("DELETE", &format!("{APIS}?apiName=echo"), &[("authorization", &auth)], b""),
    );
    assert_eq!(missing.status, 400);
    assert_eq!(
        recorder.calls(),
        vec![
            Call::Undeploy {
                name: "Pet Store".into(),
                version: "1.0.0".into(),
                vhost: Some("pets.example.com".into())
            },
            Call::Undeploy { name: "echo".into(), version: "2".into(), vhost: None },
        ]
    );
}

#[test]
fn list_shape_and_filters() {
    let (handle, _) = start(&plain_config());
    let addr = handle.local_addr();
    let auth = basic("ops", "secret");
    let get = |query: &str| {
        plain(addr, &request("GET", &format!("{APIS}{query}"), &[("authorization", &auth)], b""))
    };

    let all = get("");
    assert_eq!(all.status, 200);
    assert_eq!(all.header_values("content-type"), vec!["application/json"]);
    let body = all.json();
    assert_eq!(body["total"], 2);
    assert_eq!(body["count"], 2);
    let first = &body["list"][0];
    assert_eq!(first["apiName"], "petstore");
    assert_eq!(first["version"], "1.0.0");
    assert_eq!(first["apiType"], "HTTP");
    assert_eq!(first["context"], "/petstore/1.0.0");
    assert_eq!(first["gateway-envs"], serde_json::json!(["Default"]));
    assert!(first.get("vhost").is_none());
    assert_eq!(body["list"][1]["vhost"], "echo.example.com");

    let limited = get("?limit=1").json();
    assert_eq!((limited["total"].as_u64(), limited["count"].as_u64()), (Some(2), Some(1)));
    assert_eq!(get("?query=type:http").json()["count"], 2);
    assert_eq!(get("?query=type%3Aws").json()["count"], 0);
    assert_eq!(get("?apiType=WS").json()["count"], 0);
    assert_eq!(get("?limit=0").status, 400);
    assert_eq!(get("?query=name:x").status, 400);

    let snapshot =
        plain(addr, &request("GET", "/api/turnpike/v1/snapshot", &[("authorization", &auth)], b""));
    assert_eq!(snapshot.status, 200);
    let body = snapshot.json();
    assert_eq!(body["version"], 5);
    assert_eq!(body["acknowledged"], serde_json::json!([5, 5]));
    assert_eq!(body["routes"], serde_json::json!(["GET /petstore/1.0.0/pets"]));
    assert_eq!(body["apis"][1]["apiName"], "echo");
}

#[test]
fn errors_map_to_precise_statuses() {
    let (handle, recorder) = start(&plain_config());
    let addr = handle.local_addr();
    let auth = basic("ops", "secret");
    let post = |query: &str, headers: &[(&str, &str)], body: &[u8]| {
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        plain(addr, &request("POST", &format!("{APIS}{query}"), &all, body))
    };

    recorder.fail_next(DeployError::AlreadyExists {
        name: "petstore".into(),
        version: "1.0.0".into(),
        vhost: None,
    });
    let conflict = post("", &[], b"zip");
    assert_eq!(conflict.status, 409);
    let body = conflict.json();
    assert_eq!(body["code"], 409);
    assert!(body["description"].as_str().unwrap().contains("petstore:1.0.0"), "{body}");

    recorder.fail_next(DeployError::Invalid {
        file: "api.yaml".into(),
        pointer: "/data/name".into(),
        reason: "missing".into(),
    });
    let invalid = post("", &[], b"zip");
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["description"], "api.yaml: /data/name: missing");

    recorder.fail_next(DeployError::BadArchive("not a zip".into()));
    assert_eq!(post("", &[], b"zip").status, 400);
    recorder.fail_next(DeployError::Internal("disk full".into()));
    assert_eq!(post("", &[], b"zip").status, 500);

    recorder.fail_next(DeployError::NotFound {
        name: "x".into(),
        version: "1".into(),
        vhost: None,
    });
    let gone = plain(
        addr,
        &request(
            "DELETE",
            &format!("{APIS}?apiName=x&version=1"),
            &[("authorization", &auth)],
            b"",
        ),
    );
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["code"], 404);

    // Refused before reaching the manager.
    let calls = recorder.calls().len();
    assert_eq!(post("", &[], b"").status, 400);
    assert_eq!(post("", &[("content-type", "text/plain")], b"zip").status, 400);
    assert_eq!(post("", &[("content-type", "multipart/form-data")], b"zip").status, 400);
    let no_file = post(
        "",
        &[("content-type", "multipart/form-data; boundary=b")],
        b"--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n",
    );
    assert_eq!(no_file.status, 400);
    assert_eq!(post("?override=maybe", &[], b"zip").status, 400);
    assert_eq!(recorder.calls().len(), calls);

    let unknown = plain(addr, &request("GET", "/api/mgw/adapter/0.1/nope", &[], b""));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["code"], 404);
    let method = plain(addr, &request("PUT", APIS, &[("authorization", &auth)], b"x"));
    assert_eq!(method.status, 405);
    assert_eq!(method.header_values("allow"), vec!["GET, POST, DELETE"]);
    let bad_http = plain(addr, b"GET /health HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n");
    assert_eq!(bad_http.status, 400);
}

#[test]
fn body_over_the_limit_is_413() {
    let config = AdminConfig { max_body: 1024, ..plain_config() };
    let (handle, recorder) = start(&config);
    let auth = basic("ops", "secret");
    let big = vec![b'x'; 2000];
    let reply =
        plain(handle.local_addr(), &request("POST", APIS, &[("authorization", &auth)], &big));
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["code"], 413);
    assert!(recorder.calls().is_empty());
    let fits = plain(
        handle.local_addr(),
        &request("POST", APIS, &[("authorization", &auth)], &big[..1024]),
    );
    assert_eq!(fits.status, 200);
}

#[test]
fn keep_alive_serves_several_requests() {
    let (handle, _) = start(&plain_config());
    let mut tcp = TcpStream::connect(handle.local_addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let one = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n";
    tcp.write_all(one).unwrap();
    tcp.write_all(&request("GET", "/ready", &[], b"")).unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 2, "{text}");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(text.contains("HTTP/1.1 503 "));
}

#[test]
fn password_hash_format() {
    let text = hash_password("correct horse");
    let parts: Vec<&str> = text.split('$').collect();
    assert_eq!(parts.len(), 4, "{text}");
    assert_eq!(parts[0], "pbkdf2-sha256");
    assert_eq!(parts[1], "100000");
    let parsed = PasswordHash::parse(&text).unwrap();
    assert_eq!(parsed.to_string(), text);
    assert!(parsed.verify("correct horse"));
    assert!(!parsed.verify("correct horse!"));
    assert!(!parsed.verify("Correct horse"));
    assert!(PasswordHash::parse("plain-text-password").is_err());
}

#[test]
fn without_users_off_loopback_nobody_logs_in() {
    let config = AdminConfig {
        address: "0.0.0.0:0".parse().unwrap(),
        state_dir: temp_dir(),
        ..AdminConfig::default()
    };
    let (handle, _) = start(&config);
    let fingerprint = handle.cert_fingerprint().unwrap().to_owned();
    let addr: SocketAddr = format!("127.0.0.1:{}", handle.local_addr().port()).parse().unwrap();
    let auth = basic("admin", "admin");
    let refused =
        pinned::tls(addr, &fingerprint, &request("GET", APIS, &[("authorization", &auth)], b""))
            .unwrap();
    assert_eq!(refused.status, 401);
    let token =
        pinned::tls(addr, &fingerprint, &request("POST", TOKEN, &[("authorization", &auth)], b""))
            .unwrap();
    assert_eq!(token.status, 401);
    let health = pinned::tls(addr, &fingerprint, &request("GET", "/health", &[], b"")).unwrap();
    assert_eq!(health.status, 200);
    handle.shutdown();
    let _ = std::fs::remove_dir_all(&config.state_dir);
}
