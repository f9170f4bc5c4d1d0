//! Backend failures become the gateway's JSON errors: nothing listening or a reset → 503
//! `102503`; no answer within `upstream_response_ms` → 504 `102504`, in about that time. The
//! gateway keeps serving afterwards.

use std::time::{Duration, Instant};

use turnpike_tests::client::get;
use turnpike_tests::{
    assert_error, dead_port, wildcard_api, Backend, Behaviour, Gateway, GatewayConfig,
};

#[test]
fn backend_down_is_503_102503() {
    let url = format!("http://127.0.0.1:{}", dead_port());
    let gw = Gateway::start(GatewayConfig::new().api("api.yaml", wildcard_api("/api", &url)));
    let t = Instant::now();
    let r = get(gw.addr(), "/api/x");
    assert_error(&r, 503, "102503");
    assert!(t.elapsed() < Duration::from_secs(3), "refused connect took {:?}", t.elapsed());
}

#[test]
fn backend_closing_without_a_response_is_an_upstream_error() {
    let b = Backend::with(Behaviour::Close);
    let gw = Gateway::start(GatewayConfig::new().api("api.yaml", wildcard_api("/api", &b.url(""))));
    let r = get(gw.addr(), "/api/x");
    // A reset or premature close: 503 102503 by the contract (502 would also be defensible).
    assert!(r.status == 503 || r.status == 502, "{}", r.describe());
    if r.status == 503 {
        assert_error(&r, 503, "102503");
    }
    assert!(b.request_count() >= 1);
}

#[test]
fn backend_silence_is_504_102504_after_upstream_response_ms() {
    let b = Backend::with(Behaviour::Never);
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml("[timeouts]\nupstream_response_ms = 500")
            .api("api.yaml", wildcard_api("/api", &b.url(""))),
    );
    let t = Instant::now();
    let r = get(gw.addr(), "/api/x");
    let took = t.elapsed();
    assert_error(&r, 504, "102504");
    assert!(took >= Duration::from_millis(450), "504 after only {took:?}");
    assert!(took < Duration::from_secs(3), "504 took {took:?} with upstream_response_ms = 500");
}

#[test]
fn slow_backend_within_the_timeout_succeeds() {
    let b = Backend::with(Behaviour::Delay(Duration::from_millis(200), Box::new(Behaviour::Echo)));
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml("[timeouts]\nupstream_response_ms = 1500")
            .api("api.yaml", wildcard_api("/api", &b.url(""))),
    );
    let r = get(gw.addr(), "/api/x");
    assert_eq!(r.status, 200, "{}", r.describe());
}

#[test]
fn gateway_keeps_serving_after_upstream_faults() {
    let good = Backend::echo();
    let silent = Backend::with(Behaviour::Never);
    let down = format!("http://127.0.0.1:{}", dead_port());
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml("[timeouts]\nupstream_response_ms = 300")
            .api("good.yaml", wildcard_api("/good", &good.url("")))
            .api("silent.yaml", wildcard_api("/silent", &silent.url("")))
            .api("down.yaml", wildcard_api("/down", &down)),
    );
    let mut c = gw.client();
    // Errors on a keep-alive connection leave it usable (they are not framing errors).
    let r = c.request(b"GET /down/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_error(&r, 503, "102503");
    let r = c.request(b"GET /silent/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_error(&r, 504, "102504");
    let r = c.request(b"GET /good/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(good.single_request().target, "/x");
}

#[test]
fn backend_closing_mid_body_does_not_fake_a_complete_response() {
    // Content-Length promised, connection closed early: the client must not receive a complete
    // message of that length (the gateway must abort the client connection).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let srv = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut s, _)) = listener.accept() {
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly-a-part");
        }
    });
    let gw = Gateway::start(
        GatewayConfig::new().api("api.yaml", wildcard_api("/api", &format!("http://{addr}"))),
    );
    let mut c = gw.client();
    c.send(b"GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
    // An error reading means the client connection was aborted mid-body: correct.
    if let Ok(r) = c.try_read(false, true) {
        assert!(r.status >= 500, "a truncated body was delivered as complete: {}", r.describe());
    }
    srv.join().expect("server thread");
}

/// A backend that answers each connection's first request with keep-alive, then closes that
/// connection shortly after, as a backend with a short idle timeout does. Counts connections.
fn closes_idle_connections(
) -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                std::thread::sleep(Duration::from_millis(50));
                // Dropping the stream closes it while the gateway keeps it in its pool.
            });
        }
    });
    (addr, connections)
}

#[test]
fn request_on_a_pooled_connection_the_backend_closed_is_retried_once_on_a_fresh_one() {
    let (addr, connections) = closes_idle_connections();
    let gw = Gateway::start(
        GatewayConfig::new().api("api.yaml", wildcard_api("/api", &format!("http://{addr}"))),
    );
    let first = get(gw.addr(), "/api/one");
    assert_eq!(first.status, 200, "{}", first.describe());
    // Let the backend close the connection the gateway pooled.
    std::thread::sleep(Duration::from_millis(300));
    let second = get(gw.addr(), "/api/two");
    assert_eq!(
        second.status,
        200,
        "stale pooled connection was not retried: {}",
        second.describe()
    );
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);
}
