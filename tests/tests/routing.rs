//! Routing: base path + resource templates select an API and an endpoint; the upstream target is
//! the endpoint's base path plus the remainder after the API base path; misses are 404/405 JSON.

use std::time::Duration;

use turnpike_tests::client::get;
use turnpike_tests::{
    api_yaml, assert_error, paths, petstore, Backend, Client, Gateway, GatewayConfig,
};

const SETTLE: Duration = Duration::from_millis(150);

fn petstore_gateway() -> (Gateway, Backend, Backend) {
    let main = Backend::echo();
    let store = Backend::echo();
    let gw = Gateway::start(
        GatewayConfig::new().api("petstore.yaml", petstore(&main.url("/v2"), &store.url("/store"))),
    );
    (gw, main, store)
}

#[test]
fn forwards_to_endpoint_base_path_plus_remainder_with_query() {
    let (gw, main, store) = petstore_gateway();
    let r = get(gw.addr(), "/petstore/v1/pets/7?x=1&y=%2F");
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = main.single_request();
    assert_eq!(rec.method, "GET");
    assert_eq!(rec.target, "/v2/pets/7?x=1&y=%2F", "head:\n{}", rec.head_text());
    assert_eq!(rec.header_all("host"), vec![main.addr().to_string().as_str()], "upstream Host");
    // The backend's response came back through the gateway.
    assert_eq!(r.json()["target"], "/v2/pets/7?x=1&y=%2F");
    assert_eq!(r.json()["backend"], main.port());
    assert_eq!(store.bytes_received(), 0);
}

#[test]
fn exact_resource_and_post_body() {
    let (gw, main, _store) = petstore_gateway();
    let mut c = gw.client();
    let r = c.request(b"POST /petstore/v1/pets HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"name\":\"x\"}\n");
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = main.single_request();
    assert_eq!((rec.method.as_str(), rec.target.as_str()), ("POST", "/v2/pets"));
    assert_eq!(rec.body, b"{\"name\":\"x\"}\n");
    assert_eq!(rec.header("content-length"), Some("13"));
}

#[test]
fn unknown_api_is_404_json_and_not_forwarded() {
    let (gw, main, store) = petstore_gateway();
    assert_error(&get(gw.addr(), "/nothing/here"), 404, "404");
    assert_error(&get(gw.addr(), "/"), 404, "404");
    main.assert_received_nothing(SETTLE);
    assert_eq!(store.bytes_received(), 0);
}

#[test]
fn base_path_matches_whole_segments_only() {
    let (gw, main, _store) = petstore_gateway();
    assert_error(&get(gw.addr(), "/petstore/v1x/pets"), 404, "404");
    assert_error(&get(gw.addr(), "/petstore/v/pets"), 404, "404");
    assert_error(&get(gw.addr(), "/petstore"), 404, "404");
    main.assert_received_nothing(SETTLE);
}

#[test]
fn unknown_resource_in_known_api_is_404() {
    let (gw, main, _store) = petstore_gateway();
    assert_error(&get(gw.addr(), "/petstore/v1/owners"), 404, "404");
    // A path parameter matches exactly one segment.
    assert_error(&get(gw.addr(), "/petstore/v1/pets/7/toys"), 404, "404");
    main.assert_received_nothing(SETTLE);
}

#[test]
fn wrong_method_is_405_with_allow() {
    let (gw, main, _store) = petstore_gateway();
    let mut c = gw.client();
    let r = c.request(b"DELETE /petstore/v1/pets HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_error(&r, 405, "405");
    let allow = r.header_all("allow").join(",").to_ascii_uppercase();
    let mut methods: Vec<&str> =
        allow.split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
    methods.sort_unstable();
    methods.dedup();
    // HEAD may be listed as implied by GET.
    methods.retain(|m| *m != "HEAD");
    assert_eq!(methods, vec!["GET", "POST"], "Allow: {allow:?}\n{}", r.describe());
    main.assert_received_nothing(SETTLE);
}

#[test]
fn wildcard_resource_matches_any_depth() {
    let (gw, main, _store) = petstore_gateway();
    let mut c = gw.client();
    let r = c.request(
        b"PUT /petstore/v1/files/a/b/c.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = main.single_request();
    assert_eq!(rec.target, "/v2/files/a/b/c.txt");
    assert_eq!(rec.body, b"abc");
}

#[test]
fn resource_level_endpoint_overrides_the_api_endpoint() {
    let (gw, main, store) = petstore_gateway();
    let r = get(gw.addr(), "/petstore/v1/store/inventory?full=1");
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = store.single_request();
    // WSO2 semantics: the resource endpoint's base path + the path after the API base path.
    assert_eq!(rec.target, "/store/store/inventory?full=1", "head:\n{}", rec.head_text());
    assert_eq!(rec.header("host"), Some(store.addr().to_string().as_str()));
    assert_eq!(main.bytes_received(), 0);
}

#[test]
fn two_apis_in_two_files_route_independently() {
    let a = Backend::echo();
    let b = Backend::echo();
    let gw = Gateway::start(
        GatewayConfig::new()
            .api(
                "a.yaml",
                api_yaml("A", "/a/v1", &[a.url("/alpha")], &paths(&[("/items", &["get"])])),
            )
            .api("b.yaml", api_yaml("B", "/b/v1", &[b.url("")], &paths(&[("/items", &["get"])]))),
    );
    assert_eq!(get(gw.addr(), "/a/v1/items").status, 200);
    assert_eq!(get(gw.addr(), "/b/v1/items").status, 200);
    assert_eq!(a.single_request().target, "/alpha/items");
    assert_eq!(b.single_request().target, "/items");
}

#[test]
fn load_balance_round_robins_between_endpoints() {
    let b1 = Backend::echo();
    let b2 = Backend::echo();
    let gw = Gateway::start(GatewayConfig::new().workers(1).api(
        "lb.yaml",
        api_yaml("LB", "/lb", &[b1.url("/one"), b2.url("/two")], &paths(&[("/x", &["get"])])),
    ));
    let mut served = Vec::new();
    let mut c = gw.client();
    for _ in 0..6 {
        let r = c.request(b"GET /lb/x HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(r.status, 200, "{}", r.describe());
        served.push(r.json()["backend"].as_u64().expect("backend port"));
    }
    let (p1, p2) = (u64::from(b1.port()), u64::from(b2.port()));
    for pair in served.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "one worker must alternate endpoints: {served:?} (b1={p1}, b2={p2})"
        );
    }
    assert_eq!(b1.requests().iter().filter(|r| r.target == "/one/x").count(), 3);
    assert_eq!(b2.requests().iter().filter(|r| r.target == "/two/x").count(), 3);
}

#[test]
fn methods_are_case_sensitive() {
    // RFC 9110 §9.1: method names are case-sensitive; "get" is not GET.
    let (gw, main, _store) = petstore_gateway();
    let mut c = Client::connect(gw.addr());
    let r = c.request(b"get /petstore/v1/pets HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert!(r.status == 405 || r.status == 400 || r.status == 501, "{}", r.describe());
    main.assert_received_nothing(SETTLE);
}
