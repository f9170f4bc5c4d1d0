//! Broken configuration stops the gateway at start: exit status 1, and stderr names the file and
//! the JSON pointer (RFC 6901) of the offending value.

use std::time::Duration;

use turnpike_tests::{api_yaml, paths, wildcard_api, Gateway, GatewayConfig};

fn fails(cfg: GatewayConfig) -> String {
    let (status, stderr) = Gateway::run_to_exit(cfg, Duration::from_secs(5));
    let status = status
        .unwrap_or_else(|| panic!("gateway kept running with a broken config; stderr:\n{stderr}"));
    assert_eq!(status.code(), Some(1), "exit status {status:?}; stderr:\n{stderr}");
    stderr
}

#[test]
fn invalid_endpoint_url_names_the_file_and_pointer() {
    let cfg =
        GatewayConfig::new().api("good.yaml", wildcard_api("/good", "http://127.0.0.1:9/")).api(
            "broken-endpoint.yaml",
            api_yaml("Bad", "/bad", &["not a url".to_owned()], &paths(&[("/x", &["get"])])),
        );
    let err = fails(cfg);
    assert!(err.contains("broken-endpoint.yaml"), "file name missing from stderr:\n{err}");
    assert!(
        err.contains("/x-wso2-production-endpoints/urls/0"),
        "JSON pointer missing from stderr:\n{err}"
    );
}

#[test]
fn invalid_resource_endpoint_pointer_escapes_the_path() {
    let yaml = r#"openapi: 3.0.3
info: {title: Bad, version: "1.0"}
x-wso2-basePath: /bad
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:9/"]}
paths:
  /pets/list:
    get:
      x-wso2-production-endpoints: {urls: ["ftp://127.0.0.1/nope"]}
      responses: {"200": {description: ok}}
"#;
    let err = fails(GatewayConfig::new().api("resource.yaml", yaml));
    assert!(err.contains("resource.yaml"), "file name missing:\n{err}");
    // RFC 6901: "/" inside a key is written "~1".
    assert!(
        err.contains("/paths/~1pets~1list/get/x-wso2-production-endpoints/urls/0"),
        "JSON pointer missing or unescaped:\n{err}"
    );
}

#[test]
fn yaml_syntax_error_names_the_file() {
    let err = fails(GatewayConfig::new().api("syntax.yaml", "openapi: 3.0.3\npaths: [unclosed\n"));
    assert!(err.contains("syntax.yaml"), "file name missing:\n{err}");
}

#[test]
fn unknown_gateway_toml_key_is_rejected() {
    let (status, stderr) = Gateway::run_to_exit(
        GatewayConfig::new()
            .toml("[limits]\nmax_headerz = 5")
            .api("a.yaml", wildcard_api("/a", "http://127.0.0.1:9/")),
        Duration::from_secs(5),
    );
    let status =
        status.unwrap_or_else(|| panic!("gateway accepted an unknown key; stderr:\n{stderr}"));
    assert!(!status.success(), "exit status {status:?}");
    assert!(stderr.contains("max_headerz"), "the unknown key is not named:\n{stderr}");
}
