//! Message framing through the gateway (RFC 9112): keep-alive, pipelining, chunked bodies both
//! ways, close-delimited responses, HEAD, HTTP/1.0 clients, upstream connection reuse.

use std::time::Duration;

use turnpike_tests::client::BodyFraming;
use turnpike_tests::{gateway_to, Backend, Behaviour, Digest, Framing};

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    for i in 0..5 {
        let r = c.request(format!("GET /api/k{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        assert_eq!(r.status, 200, "{}", r.describe());
        assert_eq!(r.json()["target"], format!("/k{i}"));
    }
    assert!(!c.is_closed(Duration::from_millis(100)), "keep-alive connection closed");
    // Sequential requests from one worker reuse one upstream connection.
    assert_eq!(b.connections(), 1, "upstream connections were not reused");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let b = Backend::builder()
        .route("/slow", Behaviour::Delay(Duration::from_millis(200), Box::new(Behaviour::Echo)))
        .start();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    c.send(
        b"GET /api/slow HTTP/1.1\r\nHost: a\r\n\r\n\
POST /api/p2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
GET /api/p3 HTTP/1.1\r\nHost: a\r\n\r\n\
POST /api/p4 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n\
GET /api/p5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let want = [("/slow", 0), ("/p2", 5), ("/p3", 0), ("/p4", 2), ("/p5", 0)];
    for (target, len) in want {
        let r = c.read_response();
        assert_eq!(r.status, 200, "{}", r.describe());
        assert_eq!(r.json()["target"], target, "responses out of order");
        assert_eq!(r.json()["body_len"], len);
    }
    assert!(c.is_closed(Duration::from_secs(2)), "Connection: close was not honoured");
}

#[test]
fn chunked_request_body_is_forwarded_chunked() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    c.send(b"POST /api/up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    std::thread::sleep(Duration::from_millis(50));
    c.send(b"1;ext=x\r\n \r\nb\r\nchunked!!!!\r\n0\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.describe());
    let rec = b.single_request();
    assert!(rec.chunked, "backend did not get chunked coding; head:\n{}", rec.head_text());
    assert!(rec.header("content-length").is_none());
    assert_eq!(rec.body, b"hello chunked!!!!");
}

#[test]
fn chunked_response_streams_to_a_1_1_client_chunked() {
    let b = Backend::with(Behaviour::Body { len: 1_000_003, framing: Framing::Chunked });
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/c HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.framing, BodyFraming::Chunked, "{}", r.describe());
    assert_eq!(r.digest, Digest::of_pattern(1_000_003));
    // The connection survives a chunked response.
    let r = c.request(b"GET /api/c HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.digest, Digest::of_pattern(1_000_003));
}

#[test]
fn close_delimited_response_reaches_a_1_1_client_chunked() {
    let b = Backend::with(Behaviour::Body { len: 300_000, framing: Framing::Close });
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/c HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.framing, BodyFraming::Chunked, "{}", String::from_utf8_lossy(&r.raw_head));
    assert_eq!(r.digest, Digest::of_pattern(300_000));
    // And the client connection stays usable.
    let r = c.request(b"GET /api/c HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.digest, Digest::of_pattern(300_000));
}

#[test]
fn content_length_response_keeps_its_length() {
    let b = Backend::with(Behaviour::Body { len: 12_345, framing: Framing::ContentLength });
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/c HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.framing, BodyFraming::ContentLength, "{}", String::from_utf8_lossy(&r.raw_head));
    assert_eq!(r.header("content-length"), Some("12345"));
    assert_eq!(r.digest, Digest::of_pattern(12_345));
}

#[test]
fn head_response_has_no_body_and_connection_continues() {
    let b = Backend::with(Behaviour::Body { len: 5000, framing: Framing::ContentLength });
    let gw = gateway_to(&b);
    let mut c = gw.client();
    c.send(b"HEAD /api/h HTTP/1.1\r\nHost: a\r\n\r\n");
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(b.single_request().method, "HEAD");
    // If the gateway wrongly sent a body, it would be read here as the next response's head.
    let r = c.request(b"GET /api/h HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.digest, Digest::of_pattern(5000));
}

#[test]
fn http_1_0_client_gets_a_delimited_body_and_a_close() {
    let b = Backend::with(Behaviour::Body { len: 70_000, framing: Framing::Chunked });
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/old HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_ne!(r.framing, BodyFraming::Chunked, "chunked sent to an HTTP/1.0 client");
    assert!(r.version == "HTTP/1.1" || r.version == "HTTP/1.0", "{}", r.version);
    assert_eq!(r.digest, Digest::of_pattern(70_000));
    assert!(
        c.is_closed(Duration::from_secs(2)),
        "HTTP/1.0 connection without keep-alive left open"
    );
    // The backend was spoken to in HTTP/1.1 with a Host.
    let rec = b.single_request();
    assert_eq!(rec.version, "HTTP/1.1");
    assert_eq!(rec.header("host"), Some(b.addr().to_string().as_str()));
}

#[test]
fn client_connection_close_is_honoured() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    let r = c.request(b"GET /api/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(c.is_closed(Duration::from_secs(2)));
}

#[test]
fn request_body_split_across_writes_arrives_whole() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    c.send(b"PUT /api/x HTTP/1.1\r\nHo");
    std::thread::sleep(Duration::from_millis(30));
    c.send(b"st: a\r\nContent-Length: 10\r\n\r\n01234");
    std::thread::sleep(Duration::from_millis(30));
    c.send(b"56789");
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(b.single_request().body, b"0123456789");
}
