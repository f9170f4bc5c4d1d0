//! API projects through the real binary: every shipped example deploys and serves as WSO2 would
//! (bare OpenAPI, Swagger 2.0, apictl project with operation policies and a default version, a
//! prototyped API answered from its examples); a blocked API answers 503 `700700`; and bad uploads
//! to the admin API are refused with a JSON error while the served snapshot stays the same.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use turnpike_tests::client::get;
use turnpike_tests::{assert_error, Backend, Gateway, GatewayConfig};

/// Every file under `examples/apis`, relative path → contents, with the example backend's address
/// replaced by `backend`.
fn example_files(backend: &str) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>, backend: &str) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out, backend);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let text =
                    std::fs::read_to_string(&path).unwrap().replace("127.0.0.1:8081", backend);
                out.push((rel, text));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/apis");
    let mut out = Vec::new();
    walk(&root, &root, &mut out, backend);
    assert!(out.len() >= 8, "examples/apis looks incomplete: {out:?}");
    out
}

fn request(gw: &Gateway, raw: &str) -> turnpike_tests::client::Response {
    gw.client().request(raw.as_bytes())
}

#[test]
fn every_example_deploys_and_serves_as_wso2_would() {
    let backend = Backend::echo();
    let mut cfg = GatewayConfig::new();
    for (file, text) in example_files(&backend.addr().to_string()) {
        cfg = cfg.api(&file, text);
    }
    let gw = Gateway::start(cfg);

    // Bare OpenAPI 3 and Swagger 2.0 definitions.
    assert_eq!(get(gw.addr(), "/petstore/v1/pets/7").status, 200);
    assert_eq!(get(gw.addr(), "/echo/v1/anything").status, 200);

    // The apictl project: api.yaml's context + version, its endpoint, its operation policies.
    let r = get(gw.addr(), "/petstore-project/1.0.0/pets");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.header("x-served-by"), Some("turnpike"), "response addHeader policy");
    // isDefaultVersion: the context without the version routes to the same API.
    assert_eq!(get(gw.addr(), "/petstore-project/pets").status, 200);
    // rewriteResourcePath with includeQueryParams.
    assert_eq!(get(gw.addr(), "/petstore-project/1.0.0/inventory?full=1").status, 200);

    let seen = backend.wait_requests(5, Duration::from_secs(5));
    let targets: Vec<&str> = seen.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        ["/v2/pets/7", "/anything", "/v3/pets", "/v3/pets", "/v3/store/inventory?full=1"],
        "upstream targets"
    );
    let project_request = &seen[2];
    assert_eq!(
        project_request.header("x-petstore-client"),
        Some("turnpike-example"),
        "request addHeader policy: {}",
        project_request.head_text()
    );

    // The prototyped API answers from its examples, without a backend.
    let before = backend.request_count();
    let menu = get(gw.addr(), "/pizzashack-mock/1.0.0/menu");
    assert_eq!(menu.status, 200, "{}", menu.describe());
    assert!(String::from_utf8_lossy(&menu.body).contains("Margherita"), "{}", menu.describe());
    let missing = request(
        &gw,
        "GET /pizzashack-mock/1.0.0/order/7 HTTP/1.1\r\nHost: x\r\nPrefer: code=404\r\n\r\n",
    );
    assert_eq!(missing.status, 404, "{}", missing.describe());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(backend.request_count(), before, "mocked API reached the backend");
}

#[test]
fn blocked_api_answers_503_700700_and_the_backend_sees_nothing() {
    let backend = Backend::echo();
    let api = format!(
        "type: api\nversion: v4.2.0\ndata:\n  name: Frozen\n  context: /frozen\n  version: 1.0.0\n  \
         lifeCycleStatus: BLOCKED\n  type: HTTP\n  endpointImplementationType: ENDPOINT\n  \
         endpointConfig:\n    endpoint_type: http\n    production_endpoints:\n      url: {}\n",
        backend.url("")
    );
    let oas = "openapi: 3.0.3\ninfo: {title: Frozen, version: 1.0.0}\npaths:\n  /items:\n    \
               get: {responses: {\"200\": {description: ok}}}\n";
    let gw = Gateway::start(
        GatewayConfig::new()
            .api("frozen/api.yaml", api)
            .api("frozen/Definitions/swagger.yaml", oas),
    );
    let r = get(gw.addr(), "/frozen/1.0.0/items");
    assert_error(&r, 503, "700700");
    backend.assert_received_nothing(Duration::from_millis(200));
}

/// A zip holding `entries` (name, contents), deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        let opts: zip::write::SimpleFileOptions = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    out.into_inner()
}

fn admin_post(addr: std::net::SocketAddr, body: &[u8]) -> turnpike_tests::client::Response {
    let mut c = turnpike_tests::client::Client::connect(addr);
    let mut raw = format!(
        "POST /api/mgw/adapter/0.1/apis HTTP/1.1\r\nHost: admin\r\n\
         Authorization: Basic YWRtaW46YWRtaW4=\r\nContent-Type: application/zip\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    c.request(&raw)
}

fn snapshot_version(addr: std::net::SocketAddr) -> u64 {
    let mut c = turnpike_tests::client::Client::connect(addr);
    let r = c.request(
        b"GET /api/turnpike/v1/snapshot HTTP/1.1\r\nHost: admin\r\n\
          Authorization: Basic YWRtaW46YWRtaW4=\r\n\r\n",
    );
    assert_eq!(r.status, 200, "{}", r.describe());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["version"].as_u64().unwrap()
}

#[test]
fn admin_api_refuses_bad_uploads_with_json_errors_and_changes_nothing() {
    let admin_port = turnpike_tests::free_port();
    let admin = std::net::SocketAddr::from(([127, 0, 0, 1], admin_port));
    let gw = Gateway::start(GatewayConfig::new().toml(&format!(
        "[admin]\naddress = \"{admin}\"\nplain_http = true\nstate_dir = \"state\"\n"
    )));
    let _ = gw.addr();
    assert!(turnpike_tests::wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(admin).is_ok()
    }));
    let version = snapshot_version(admin);

    let bomb = vec![b'a'; 40 * 1024 * 1024];
    let valid_oas = b"openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n";
    // (case, upload, what the error description must say)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a zip", b"this is not a zip archive".to_vec(), "not a zip archive"),
        ("path traversal", zip_of(&[("../evil/api.yaml", b"type: api")]), "`..`"),
        ("absolute path", zip_of(&[("/etc/api.yaml", b"type: api")]), "absolute paths"),
        ("zip bomb", zip_of(&[("p/api.yaml", b"type: api"), ("p/big.bin", &bomb)]), "big.bin"),
        (
            "invalid YAML",
            zip_of(&[
                ("p/api.yaml", b"type: api\ndata: [unclosed"),
                ("p/Definitions/swagger.yaml", valid_oas),
            ]),
            "p/api.yaml: line 3",
        ),
        ("no api.yaml", zip_of(&[("p/readme.txt", b"hello")]), "no api.yaml"),
    ];
    for (what, body, says) in cases {
        let r = admin_post(admin, &body);
        assert!((400..500).contains(&r.status), "{what}: {}", r.describe());
        assert_eq!(r.header("content-type"), Some("application/json"), "{what}: {}", r.describe());
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {}", r.describe()));
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {v}");
        let description = v["description"].as_str().unwrap_or_default();
        assert!(description.contains(says), "{what}: expected {says:?} in {v}");
        assert_eq!(snapshot_version(admin), version, "{what} changed the served snapshot");
    }
}
