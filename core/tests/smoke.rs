//! Data-plane smoke test without the adapter: a hand-built snapshot, the real workers, a loopback
//! backend on std threads, and raw HTTP/1.1 over TCP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use turnpike_core::router::{RouteSpec, Router};
use turnpike_core::{
    start, Api, ApiId, ApiIndex, Cluster, ClusterId, ClusterIndex, Driver, Endpoint, Route,
    RouteIndex, Settings, Snapshot, StaticConfig,
};

/// A backend that answers every request with its request line echoed in the body, and reports the
/// raw bytes of each request head it saw.
fn backend() -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = find(&buf, b"\r\n\r\n") {
                        let head = buf[..end + 4].to_vec();
                        buf.drain(..end + 4);
                        let line =
                            String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string();
                        let _ = tx.send(head);
                        let body = format!("{{\"saw\":\"{line}\"}}");
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                            body.len(),
                            body
                        );
                        if stream.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    (addr, rx)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn snapshot(backend: SocketAddr) -> Snapshot {
    let router = Router::build(vec![RouteSpec {
        vhost: None,
        base_path: "/pets/v1".into(),
        template: "/pets/{id}".into(),
        methods: vec!["GET".into()],
        route: RouteIndex(0),
    }])
    .unwrap();
    Snapshot {
        version: 0,
        apis: vec![Api {
            id: ApiId(1),
            name: "pets".into(),
            version: "v1".into(),
            base_path: "/pets/v1".into(),
            vhost: None,
        }],
        routes: vec![Route {
            api: ApiIndex(0),
            template: "/pets/{id}".into(),
            methods: vec!["GET".into()],
            production: ClusterIndex(0),
            sandbox: None,
            policies: vec![],
            action: turnpike_core::RouteAction::Proxy,
        }],
        clusters: vec![Cluster {
            id: ClusterId(9),
            endpoints: vec![Endpoint {
                addr: backend,
                authority: backend.to_string(),
                base_path: "/backend".into(),
                tls: None,
            }],
        }],
        router,
        settings: Settings::default(),
        security: Default::default(),
    }
}

fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + len {
                return String::from_utf8_lossy(&buf[..end + 4 + len]).into_owned();
            }
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn run_with(driver: Driver) {
    let (backend_addr, seen) = backend();
    let config = StaticConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 2,
        driver,
        pin_workers: false,
        ..StaticConfig::default()
    };
    let handle = start(config, snapshot(backend_addr)).unwrap();
    let addr = handle.local_addr();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();

    client.write_all(b"GET /pets/v1/pets/7?x=1 HTTP/1.1\r\nHost: example\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n\r\n").unwrap();
    let resp = read_response(&mut client);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("GET /backend/pets/7?x=1 HTTP/1.1"), "{resp}");
    let head = String::from_utf8(seen.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert!(head.contains(&format!("host: {backend_addr}\r\n")), "{head}");
    assert!(head.contains("x-forwarded-for: 127.0.0.1\r\n"), "{head}");
    assert!(head.contains("x-forwarded-host: example\r\n"), "{head}");
    assert!(!head.to_lowercase().contains("x-drop"), "{head}");
    assert!(!head.to_lowercase().contains("connection"), "{head}");

    // 404 and 405, same connection.
    client.write_all(b"GET /nope HTTP/1.1\r\nHost: e\r\n\r\n").unwrap();
    let resp = read_response(&mut client);
    assert!(resp.starts_with("HTTP/1.1 404 "), "{resp}");
    assert!(resp.contains("\"code\":\"404\""), "{resp}");
    client.write_all(b"POST /pets/v1/pets/7 HTTP/1.1\r\nHost: e\r\n\r\n").unwrap();
    let resp = read_response(&mut client);
    assert!(resp.starts_with("HTTP/1.1 405 "), "{resp}");
    assert!(resp.to_lowercase().contains("allow: get\r\n"), "{resp}");

    // Republish with a new version; the next request is served by it.
    let v = handle.publish(snapshot(backend_addr));
    assert!(handle.wait_acknowledged(v, Duration::from_secs(5)));
    client.write_all(b"GET /pets/v1/pets/8 HTTP/1.1\r\nHost: e\r\n\r\n").unwrap();
    assert!(read_response(&mut client).contains("/backend/pets/8"));

    let counters = handle.counters();
    assert_eq!(counters.iter().map(|c| c.requests).sum::<u64>(), 4);
    let report = handle.shutdown();
    assert_eq!(report.workers, 2);
}

#[test]
fn proxies_routes_and_replies_with_epoll() {
    run_with(Driver::Epoll);
}

#[test]
fn proxies_routes_and_replies_with_auto_driver() {
    run_with(Driver::Auto);
}

#[test]
fn uring_driver_starts_where_io_uring_works() {
    let (backend_addr, _seen) = backend();
    let config = StaticConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        driver: Driver::Uring,
        pin_workers: false,
        ..StaticConfig::default()
    };
    match start(config, snapshot(backend_addr)) {
        Ok(handle) => {
            assert_eq!(handle.drivers(), vec![turnpike_core::DriverKind::IoUring]);
            let mut client = TcpStream::connect(handle.local_addr()).unwrap();
            client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            client.write_all(b"GET /pets/v1/pets/1 HTTP/1.1\r\nHost: e\r\n\r\n").unwrap();
            assert!(read_response(&mut client).starts_with("HTTP/1.1 200 "));
            handle.shutdown();
        }
        Err(err) => {
            // io_uring missing or blocked here: the error must say so, not be something else.
            let text = err.to_string();
            assert!(text.contains("runtime"), "{text}");
            eprintln!("io_uring not available on this machine: {text}");
        }
    }
}
