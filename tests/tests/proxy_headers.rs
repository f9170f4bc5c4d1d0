//! Request headers on the way to the backend: hop-by-hop fields removed (RFC 9110 §7.6.1),
//! X-Forwarded-* set, x-request-id kept or generated, end-to-end fields passed unchanged.

use turnpike_tests::{gateway_to, wildcard_api, Backend, Gateway, GatewayConfig};

#[test]
fn hop_by_hop_headers_are_removed() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(
        b"GET /api/h HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop-One\r\nX-Hop-One: 1\r\n\
Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n\
Proxy-Connection: keep-alive\r\nX-End-To-End: kept\r\nAuthorization: Bearer t\r\n\r\n",
    );
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.single_request();
    for h in [
        "x-hop-one",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
        "upgrade",
    ] {
        assert!(
            rec.header(h).is_none(),
            "{h} must not reach the backend; head:\n{}",
            rec.head_text()
        );
    }
    // Connection may be present only as the gateway's own (e.g. keep-alive), never naming X-Hop-One.
    for v in rec.header_all("connection") {
        assert!(!v.to_ascii_lowercase().contains("x-hop-one"), "head:\n{}", rec.head_text());
    }
    assert_eq!(rec.header("x-end-to-end"), Some("kept"));
    assert_eq!(rec.header("authorization"), Some("Bearer t"));
    // The client's keep-alive is honoured.
    assert!(!c.is_closed(std::time::Duration::from_millis(100)));
}

#[test]
fn end_to_end_headers_keep_their_values_and_order() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/h HTTP/1.1\r\nHost: a\r\nX-Multi: one\r\nAccept: */*\r\nX-Multi: two\r\nX-Empty:\r\nUser-Agent: t/1 (x; y)\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.single_request();
    assert_eq!(rec.header_all("x-multi").join(", "), "one, two", "head:\n{}", rec.head_text());
    assert_eq!(rec.header("user-agent"), Some("t/1 (x; y)"));
    assert_eq!(rec.header("accept"), Some("*/*"));
}

#[test]
fn forwarded_headers_are_set_and_client_xff_is_replaced() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(
        b"GET /api/f HTTP/1.1\r\nHost: shop.example:8443\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n\r\n",
    );
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.single_request();
    assert_eq!(rec.header_all("x-forwarded-for"), vec!["127.0.0.1"], "head:\n{}", rec.head_text());
    assert_eq!(rec.header_all("x-forwarded-proto"), vec!["http"], "head:\n{}", rec.head_text());
    assert_eq!(
        rec.header_all("x-forwarded-host"),
        vec!["shop.example:8443"],
        "head:\n{}",
        rec.head_text()
    );
    assert_eq!(rec.header_all("host"), vec![b.addr().to_string().as_str()]);
}

#[test]
fn xff_is_appended_when_the_peer_is_a_trusted_proxy() {
    let b = Backend::echo();
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml("[proxy]\ntrusted_proxies = [\"127.0.0.1/32\"]")
            .api("api.yaml", wildcard_api("/api", &b.url(""))),
    );
    let mut c = gw.client();
    let r =
        c.request(b"GET /api/f HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.1\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.single_request();
    let xff: Vec<String> = rec
        .header_all("x-forwarded-for")
        .join(",")
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    assert_eq!(xff, vec!["1.2.3.4", "10.0.0.1", "127.0.0.1"], "head:\n{}", rec.head_text());
}

#[test]
fn request_id_is_generated_unique_and_returned() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r1 = c.request(b"GET /api/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    let r2 = c.request(b"GET /api/2 HTTP/1.1\r\nHost: a\r\n\r\n");
    let reqs = b.wait_requests(2, std::time::Duration::from_secs(2));
    assert_eq!(reqs.len(), 2);
    let ids: Vec<&str> =
        reqs.iter().map(|r| r.header("x-request-id").unwrap_or_default()).collect();
    assert!(!ids[0].is_empty() && !ids[1].is_empty(), "backend saw no x-request-id: {ids:?}");
    assert_ne!(ids[0], ids[1], "request ids must be unique");
    assert_eq!(reqs[0].header_all("x-request-id").len(), 1);
    assert_eq!(r1.header("x-request-id"), Some(ids[0]), "response 1:\n{}", r1.describe());
    assert_eq!(r2.header("x-request-id"), Some(ids[1]), "response 2:\n{}", r2.describe());
}

#[test]
fn request_id_sent_by_the_client_is_kept() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/1 HTTP/1.1\r\nHost: a\r\nX-Request-ID: abc-123\r\n\r\n");
    let rec = b.single_request();
    assert_eq!(rec.header_all("x-request-id"), vec!["abc-123"], "head:\n{}", rec.head_text());
    assert_eq!(r.header_all("x-request-id"), vec!["abc-123"], "{}", r.describe());
}

#[test]
fn via_is_added_when_configured() {
    let b = Backend::echo();
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml("[proxy]\nvia = \"1.1 turnpike\"")
            .api("api.yaml", wildcard_api("/api", &b.url(""))),
    );
    let r = turnpike_tests::client::get(gw.addr(), "/api/v");
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.single_request();
    assert!(rec.header_all("via").join(",").contains("1.1 turnpike"), "head:\n{}", rec.head_text());
    assert!(r.header_all("via").join(",").contains("1.1 turnpike"), "{}", r.describe());
}

#[test]
fn backend_status_body_and_headers_pass_through() {
    let b = Backend::with(turnpike_tests::Behaviour::Status(201, "created".into()));
    let gw = gateway_to(&b);
    let r = turnpike_tests::client::get(gw.addr(), "/api/x");
    assert_eq!(r.status, 201, "{}", r.describe());
    assert_eq!(r.text(), "created");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    // The backend's own end-to-end header passes.
    assert!(r.header("x-body-digest").is_some(), "{}", r.describe());
}
