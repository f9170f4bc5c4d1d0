//! Graceful shutdown: on SIGTERM the gateway stops accepting, finishes in-flight requests (up to
//! `shutdown_grace_ms`), and exits 0.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use turnpike_tests::{wait_until, wildcard_api, Backend, Behaviour, Gateway, GatewayConfig};

#[test]
fn in_flight_request_completes_after_sigterm_and_new_connections_are_refused() {
    let b = Backend::with(Behaviour::Delay(Duration::from_secs(1), Box::new(Behaviour::Echo)));
    let mut gw =
        Gateway::start(GatewayConfig::new().api("api.yaml", wildcard_api("/api", &b.url(""))));
    let mut c = gw.client();
    c.send(b"GET /api/slow HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(
        wait_until(Duration::from_secs(3), || b.request_count() == 1),
        "request never reached the backend"
    );
    let t = Instant::now();
    gw.terminate();
    // Within the backend's delay, the listener must be gone.
    let refused = wait_until(Duration::from_millis(700), || {
        TcpStream::connect_timeout(&gw.addr(), Duration::from_millis(100)).is_err()
    });
    assert!(refused, "new connections still accepted {:?} after SIGTERM", t.elapsed());
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.json()["target"], "/slow");
    let status = gw
        .wait_exit(Duration::from_secs(5))
        .expect("gateway did not exit after the in-flight request");
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
}

#[test]
fn idle_gateway_exits_promptly_even_with_idle_keep_alive_connections() {
    let b = Backend::echo();
    let mut gw = Gateway::start(
        GatewayConfig::new()
            .toml("[timeouts]\nshutdown_grace_ms = 10000")
            .api("api.yaml", wildcard_api("/api", &b.url(""))),
    );
    let mut c = gw.client();
    let r = c.request(b"GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.status, 200);
    let t = Instant::now();
    gw.terminate();
    let status = gw.wait_exit(Duration::from_secs(5));
    assert!(
        status.is_some(),
        "an idle keep-alive connection held shutdown for more than 5 s (grace is 10 s)"
    );
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    assert!(c.is_closed(Duration::from_secs(1)), "idle connection not closed on shutdown");
    eprintln!("idle shutdown took {:?}", t.elapsed());
}

#[test]
fn shutdown_grace_bounds_the_wait_for_a_stuck_request() {
    let b = Backend::with(Behaviour::Never);
    let mut gw = Gateway::start(
        GatewayConfig::new()
            .toml("[timeouts]\nshutdown_grace_ms = 500")
            .api("api.yaml", wildcard_api("/api", &b.url(""))),
    );
    let mut c = gw.client();
    c.send(b"GET /api/stuck HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(wait_until(Duration::from_secs(3), || b.request_count() == 1));
    let t = Instant::now();
    gw.terminate();
    let status = gw.wait_exit(Duration::from_secs(5));
    let took = t.elapsed();
    assert!(
        status.is_some(),
        "gateway still running {took:?} after SIGTERM with shutdown_grace_ms = 500"
    );
    assert!(took >= Duration::from_millis(400), "exited after {took:?}, before the grace period");
}
