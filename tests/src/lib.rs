//! Harness for Turnpike's end-to-end tests (the test files live in `tests/`).
//!
//! Everything here talks to the real `turnpike` binary from outside, over real sockets on
//! 127.0.0.1: [`gateway`] spawns and stops the binary, [`backend`] is a recording HTTP/1.1 origin
//! on std threads, [`client`] is a raw TCP client with its own small response reader, [`temp`]
//! makes throw-away directories and [`pattern`] generates and digests deterministic bodies.
//! [`key_manager`] is an OAuth2 key-manager stand-in (JWKS, introspection, token minting) for
//! the security tests. [`tls_backend`] makes certificates and puts a TLS front before a backend
//! (upstream TLS tests). It does not depend on any gateway crate, so it cannot share the gateway's
//! bugs.
//!
//! Every blocking read is bounded by a timeout; every port comes from binding `127.0.0.1:0`, so
//! tests run in parallel.

pub mod backend;
pub mod cli;
pub mod client;
pub mod gateway;
pub mod key_manager;
pub mod pattern;
pub mod temp;
pub mod tls;
pub mod tls_backend;
pub mod wire;

pub use backend::{Backend, Behaviour, Framing, Recorded};
pub use client::{Client, Response};
pub use gateway::{Gateway, GatewayConfig};
pub use key_manager::{KeyAlg, KeyChoice, KeyManager};
pub use pattern::Digest;

use std::time::{Duration, Instant};

/// A minimal OpenAPI 3.0 definition with WSO2 extensions: `paths_yaml` is inserted verbatim
/// (indented by the caller as a mapping under `paths:`, i.e. two spaces per entry).
pub fn api_yaml(title: &str, base_path: &str, urls: &[String], paths_yaml: &str) -> String {
    let urls = urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
    format!(
        "openapi: 3.0.3\n\
         info: {{title: {title}, version: \"1.0\"}}\n\
         x-wso2-basePath: {base_path}\n\
         x-wso2-production-endpoints: {{urls: [{urls}], type: load_balance}}\n\
         paths:\n{paths_yaml}"
    )
}

/// Resource entries for [`api_yaml`]: every listed method on every listed path.
pub fn paths(entries: &[(&str, &[&str])]) -> String {
    let mut out = String::new();
    for (path, methods) in entries {
        out.push_str(&format!("  \"{path}\":\n"));
        for m in *methods {
            out.push_str(&format!("    {m}: {{responses: {{\"200\": {{description: ok}}}}}}\n"));
        }
    }
    out
}

/// Asserts that `resp` is one of the gateway's JSON error replies with this status and code.
pub fn assert_error(resp: &Response, status: u16, code: &str) {
    assert_eq!(resp.status, status, "status; response:\n{}", resp.describe());
    let ct = resp.header("content-type").unwrap_or_default();
    assert!(
        ct.to_ascii_lowercase().starts_with("application/json"),
        "content-type {ct:?}; response:\n{}",
        resp.describe()
    );
    let v: serde_json::Value = serde_json::from_slice(&resp.body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}); response:\n{}", resp.describe()));
    assert_eq!(v["code"].as_str(), Some(code), "code; response:\n{}", resp.describe());
    assert!(v["error_message"].is_string(), "error_message; response:\n{}", resp.describe());
    assert!(
        v["error_description"].is_string(),
        "error_description; response:\n{}",
        resp.describe()
    );
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A free TCP port on 127.0.0.1 (bound then released), never the same one twice in this test
/// process. That matters: the gateway binds with `SO_REUSEPORT`, so two gateways of parallel tests
/// handed the same port would both start and the kernel would split connections between them.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local_addr").port();
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
pub fn dead_port() -> u16 {
    free_port()
}

/// The Petstore definition used across the tests (`/petstore/v1`): `/pets` (GET, POST),
/// `/pets/{petId}` (GET), `/store/inventory` (GET, with its own endpoint `store_url`),
/// `/files/*` (PUT, DELETE), all others on `main_url`.
pub fn petstore(main_url: &str, store_url: &str) -> String {
    format!(
        r#"openapi: 3.0.3
info: {{title: Petstore, version: "1.0"}}
x-wso2-basePath: /petstore/v1
x-wso2-production-endpoints: {{urls: ["{main_url}"], type: load_balance}}
paths:
  /pets:
    get: {{responses: {{"200": {{description: ok}}}}}}
    post: {{responses: {{"200": {{description: ok}}}}}}
  /pets/{{petId}}:
    get: {{responses: {{"200": {{description: ok}}}}}}
  /store/inventory:
    get:
      x-wso2-production-endpoints: {{urls: ["{store_url}"]}}
      responses: {{"200": {{description: ok}}}}
  /files/*:
    put: {{responses: {{"200": {{description: ok}}}}}}
    delete: {{responses: {{"200": {{description: ok}}}}}}
"#
    )
}

/// A gateway with one API at `base_path` whose resource `/*` (every common method) goes to
/// `url`. Most tests use this.
pub fn wildcard_api(base_path: &str, url: &str) -> String {
    // name:version identifies an API (WSO2): each base path gets its own name.
    wildcard_api_named(&format!("Wild{}", base_path.replace('/', "-")), base_path, url)
}

/// [`wildcard_api`] with an explicit API name (`info.title`).
pub fn wildcard_api_named(title: &str, base_path: &str, url: &str) -> String {
    let methods = ["get", "post", "put", "delete", "patch", "head", "options"];
    let mut p = String::from("  /*:\n");
    for m in methods {
        p.push_str(&format!("    {m}: {{responses: {{\"200\": {{description: ok}}}}}}\n"));
    }
    api_yaml(title, base_path, &[url.to_owned()], &p)
}

/// Starts a gateway with [`wildcard_api`] at `/api` → `backend.url("")`.
pub fn gateway_to(backend: &Backend) -> Gateway {
    Gateway::start(GatewayConfig::new().api("api.yaml", wildcard_api("/api", &backend.url(""))))
}
