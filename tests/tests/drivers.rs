//! The same proxying behaviour on each I/O driver: `--driver epoll` always; `--driver uring`
//! when io_uring works here (otherwise the test prints why it skipped); `auto`; two workers.

use std::time::Duration;

use turnpike_tests::{wildcard_api, Backend, Behaviour, Digest, Framing, Gateway, GatewayConfig};

fn config(b: &Backend) -> GatewayConfig {
    GatewayConfig::new().api("api.yaml", wildcard_api("/api", &b.url("/base")))
}

/// Keep-alive, pipelining, a chunked upload and a 2 MB download.
fn exercise(gw: &Gateway, b: &Backend) {
    let mut c = gw.client();
    for i in 0..3 {
        let r = c.request(format!("GET /api/k{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        assert_eq!(r.status, 200, "{}", r.describe());
        assert_eq!(r.json()["target"], format!("/base/k{i}"));
    }
    c.send(b"GET /api/p1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /api/p2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assert_eq!(c.read_response().json()["target"], "/base/p1");
    let r = c.read_response();
    assert_eq!(r.json()["target"], "/base/p2");
    assert_eq!(r.json()["body_digest"], Digest::of(b"abc").to_text());
    let r = c.request(b"GET /api/big HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(r.digest, Digest::of_pattern(2_000_000));
    assert!(!c.is_closed(Duration::from_millis(50)));
    assert!(b.request_count() >= 6);
}

fn backend() -> Backend {
    Backend::builder()
        .route("/base/big", Behaviour::Body { len: 2_000_000, framing: Framing::Chunked })
        .start()
}

#[test]
fn epoll_driver() {
    let b = backend();
    let gw = Gateway::start(config(&b).driver("epoll"));
    exercise(&gw, &b);
}

#[test]
fn uring_driver_or_skip() {
    let b = backend();
    match Gateway::try_start(config(&b).driver("uring")) {
        Ok(gw) => exercise(&gw, &b),
        Err(f) => {
            let lower = f.stderr.to_ascii_lowercase();
            if f.status.is_some() && (lower.contains("uring") || lower.contains("io_uring")) {
                eprintln!(
                    "SKIPPED uring_driver_or_skip: io_uring is not usable here; gateway said:\n{}",
                    f.stderr
                );
            } else {
                panic!(
                    "gateway with --driver uring failed to start (status {:?}):\n{}",
                    f.status, f.stderr
                );
            }
        }
    }
}

#[test]
fn auto_driver() {
    let b = backend();
    let gw = Gateway::start(config(&b).driver("auto"));
    exercise(&gw, &b);
}

#[test]
fn two_workers_serve_many_connections() {
    let b = backend();
    let gw = Gateway::start(config(&b).workers(2));
    let addr = gw.addr();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = turnpike_tests::Client::connect(addr);
                for i in 0..10 {
                    let r = c.request(
                        format!("GET /api/t{t}/{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
                    );
                    assert_eq!(r.status, 200, "{}", r.describe());
                    assert_eq!(r.json()["target"], format!("/base/t{t}/{i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    assert_eq!(b.request_count(), 80);
}
