//! The HTTPS listener against the real binary, with certificates made by the test (a test CA and
//! a rustls client with only that CA as root): SNI picks the certificate, ALPN gives `http/1.1`
//! (and a client that only speaks h2 is refused), TLS 1.2 works and TLS 1.1 is refused, a second
//! connection resumes the first one's session, a client that never finishes its handshake is
//! dropped after the timeout and excess handshakes are closed at once, and replacing the
//! certificate files by a rename, `gateway.toml` untouched, serves the new certificate to new
//! connections while open ones and requests under load keep working; a broken certificate file
//! is rejected and the running certificate stays.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use turnpike_tests::temp::TempDir;
use turnpike_tests::tls::{write_atomic, ClientOptions, Issued, TestCa, TlsClient};
use turnpike_tests::{free_port, wait_until, wildcard_api, Backend, Gateway, GatewayConfig};

/// Certificates of one test: CA, `a.test`, `*.w.test`, and a default one.
struct Certs {
    ca: TestCa,
    a: Issued,
    wild: Issued,
    default: Issued,
    dir: TempDir,
}

fn certs() -> Certs {
    let ca = TestCa::new("Turnpike Test CA");
    let a = ca.server(&["a.test"]);
    let wild = ca.server(&["*.w.test"]);
    let default = ca.server(&["default.test", "localhost"]);
    let dir = TempDir::new("tls-certs");
    a.write(dir.path(), "a");
    wild.write(dir.path(), "wild");
    default.write(dir.path(), "default");
    Certs { ca, a, wild, default, dir }
}

fn tls_toml(dir: &Path, port: u16, extra: &str) -> String {
    let d = dir.display();
    format!(
        r#"[apis]
debounce_ms = 30
[tls]
listen = "127.0.0.1:{port}"
{extra}
[[tls.certificates]]
cert_file = "{d}/a.crt"
key_file = "{d}/a.key"
server_names = ["a.test"]
[[tls.certificates]]
cert_file = "{d}/wild.crt"
key_file = "{d}/wild.key"
server_names = ["*.w.test"]
[[tls.certificates]]
cert_file = "{d}/default.crt"
key_file = "{d}/default.key"
"#
    )
}

struct Setup {
    gw: Gateway,
    tls: SocketAddr,
    certs: Certs,
    _backend: Backend,
}

fn start(extra: &str, workers: usize) -> Setup {
    let certs = certs();
    let backend = Backend::echo();
    let port = free_port();
    let gw = Gateway::start(
        GatewayConfig::new()
            .toml(&tls_toml(certs.dir.path(), port, extra))
            .workers(workers)
            .api("a.yaml", wildcard_api("/a", &backend.url("/up"))),
    );
    Setup { gw, tls: SocketAddr::from(([127, 0, 0, 1], port)), certs, _backend: backend }
}

#[test]
fn sni_selects_the_certificate_and_alpn_is_http11() {
    let s = start("", 2);
    let config = ClientOptions::new(s.certs.ca.der()).build();
    for (sni, want) in [
        ("a.test", &s.certs.a),
        ("x.w.test", &s.certs.wild),
        ("default.test", &s.certs.default),
        ("localhost", &s.certs.default),
    ] {
        let mut c = TlsClient::connect(s.tls, sni, &config)
            .unwrap_or_else(|e| panic!("handshake for {sni}: {e}; stderr:\n{}", s.gw.stderr()));
        assert_eq!(c.peer_certificate().as_ref(), Some(&want.der), "certificate for {sni}");
        assert_eq!(c.alpn().as_deref(), Some(&b"http/1.1"[..]), "ALPN for {sni}");
        assert_eq!(c.version(), Some(rustls::ProtocolVersion::TLSv1_3), "TLS 1.3 preferred");
        let resp = c.get("/a/hello", "").expect("request over TLS");
        assert_eq!(resp.status, 200, "{}", resp.head);
        assert!(resp.text().contains("/up/hello"), "backend saw the request: {}", resp.text());
        // Keep-alive: a second request on the same session.
        assert_eq!(c.get("/a/again", "").expect("second request").status, 200);
    }
    // A client offering h2 first still gets http/1.1; one offering only h2 is refused.
    let mut both = ClientOptions::new(s.certs.ca.der());
    both.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let c = TlsClient::connect(s.tls, "a.test", &both.build()).expect("h2 + http/1.1");
    assert_eq!(c.alpn().as_deref(), Some(&b"http/1.1"[..]));
    let mut h2 = ClientOptions::new(s.certs.ca.der());
    h2.alpn = vec![b"h2".to_vec()];
    assert!(TlsClient::connect(s.tls, "a.test", &h2.build()).is_err(), "h2 only is refused");
    // A client trusting another CA refuses the gateway's certificate (the check is real).
    let other = ClientOptions::new(TestCa::new("Other CA").der()).build();
    assert!(TlsClient::connect(s.tls, "a.test", &other).is_err());
}

#[test]
fn tls12_accepted_and_tls11_refused() {
    let s = start("", 1);
    let mut v12 = ClientOptions::new(s.certs.ca.der());
    v12.only_version = Some(&rustls::version::TLS12);
    let mut c = TlsClient::connect(s.tls, "a.test", &v12.build()).expect("TLS 1.2 handshake");
    assert_eq!(c.version(), Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(c.get("/a/x", "").expect("request").status, 200);

    for (label, version) in [("TLS 1.1", [3u8, 2u8]), ("TLS 1.0", [3, 1])] {
        let mut tcp = TcpStream::connect(s.tls).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        tcp.write_all(&legacy_client_hello(version)).expect("send ClientHello");
        let mut reply = Vec::new();
        let _ = tcp.read_to_end(&mut reply);
        // A fatal alert record (21), protocol_version (70) or handshake_failure (40); never a
        // ServerHello (22).
        assert_eq!(reply.first(), Some(&21), "{label}: expected an alert, got {reply:?}");
        assert!(matches!(reply.get(6), Some(70 | 40)), "{label}: alert {reply:?}");
    }
}

/// A ClientHello that offers only `version` (no supported_versions extension) and CBC suites.
fn legacy_client_hello(version: [u8; 2]) -> Vec<u8> {
    let mut body = vec![version[0], version[1]];
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0, 4, 0xc0, 0x13, 0x00, 0x2f]); // ECDHE-RSA-AES128-SHA, AES128-SHA
    body.extend_from_slice(&[1, 0]); // null compression
    let mut handshake = vec![1, 0, 0, u8::try_from(body.len()).expect("short")];
    handshake.extend_from_slice(&body);
    let mut record = vec![22, 3, 1, 0, u8::try_from(handshake.len()).expect("short")];
    record.extend_from_slice(&handshake);
    record
}

#[test]
fn second_connection_resumes_the_session() {
    let s = start("", 2);
    let config = ClientOptions::new(s.certs.ca.der()).build();
    let mut first = TlsClient::connect(s.tls, "a.test", &config).expect("first handshake");
    assert!(!first.resumed());
    // The tickets arrive after the handshake: read a response so the client has them.
    assert_eq!(first.get("/a/1", "").expect("request").status, 200);
    // Several connections: with two workers, at least one lands on the other core.
    for i in 0..6 {
        let mut next = TlsClient::connect(s.tls, "a.test", &config).expect("handshake");
        assert!(next.resumed(), "connection {i} did not resume");
        assert_eq!(next.get("/a/2", "").expect("request").status, 200);
    }
}

#[test]
fn silent_clients_are_dropped_and_handshakes_are_bounded() {
    let s = start("handshake_timeout_ms = 600\nmax_handshakes = 2", 1);
    let started = Instant::now();
    let mut silent: Vec<TcpStream> = (0..2)
        .map(|_| {
            let t = TcpStream::connect(s.tls).expect("connect");
            t.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            t
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    // A third connection while two handshakes are in progress: closed at once.
    let mut third = TcpStream::connect(s.tls).expect("connect");
    third.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let mut byte = [0u8; 1];
    assert!(matches!(third.read(&mut byte), Ok(0) | Err(_)), "excess handshake closed");
    assert!(started.elapsed() < Duration::from_millis(550), "closed before the timeout");
    // The silent ones are dropped once the timeout passes, not before.
    for t in &mut silent {
        assert!(matches!(t.read(&mut byte), Ok(0) | Err(_)));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(500), "dropped early: {waited:?}");
        assert!(waited < Duration::from_secs(3), "dropped late: {waited:?}");
    }
    // Their slots are free again: a real client gets through.
    let config = ClientOptions::new(s.certs.ca.der()).build();
    let mut c = TlsClient::connect(s.tls, "a.test", &config).expect("handshake after the drop");
    assert_eq!(c.get("/a/x", "").expect("request").status, 200);
}

#[test]
fn certificate_reload_keeps_connections_and_load() {
    let s = start("", 2);
    let config = ClientOptions::new(s.certs.ca.der()).build();
    let mut open = TlsClient::connect(s.tls, "a.test", &config).expect("handshake");
    assert_eq!(open.get("/a/before", "").expect("request").status, 200);

    // Load: fresh handshakes and keep-alive requests, all through the reloads.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (stop, ok, failed, config) =
                (stop.clone(), ok.clone(), failed.clone(), config.clone());
            let addr = s.tls;
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let served = TlsClient::connect(addr, "a.test", &config).and_then(|mut c| {
                        (0..3).try_for_each(|_| {
                            c.get("/a/load", "").map(|r| assert_eq!(r.status, 200))
                        })
                    });
                    match served {
                        Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("load request failed: {e}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();

    // New certificate for a.test (new key too), renamed into place as certificate managers do;
    // gateway.toml is not touched: the watcher reloads on the files alone.
    let renewed = s.certs.ca.server(&["a.test"]);
    renewed.write(s.certs.dir.path(), "a");
    // Fresh client configurations: a resumed session would report the certificate of the
    // session it resumes (tickets stay valid across reloads).
    let fresh = || ClientOptions::new(s.certs.ca.der()).build();
    let seen_new = wait_until(Duration::from_secs(10), || {
        TlsClient::connect(s.tls, "a.test", &fresh())
            .map(|c| c.peer_certificate() == Some(renewed.der.clone()))
            .unwrap_or(false)
    });
    assert!(seen_new, "new connections never got the new certificate; stderr:\n{}", s.gw.stderr());
    // The connection opened before the reload still works, with its old certificate.
    assert_eq!(open.peer_certificate(), Some(s.certs.a.der.clone()));
    assert_eq!(open.get("/a/after", "").expect("request on the old connection").status, 200);

    // A broken certificate file is rejected whole; the renewed certificate keeps serving.
    write_atomic(&s.certs.dir.path().join("a.crt"), b"-----BEGIN CERTIFICATE-----\nnope\n");
    let rejected = wait_until(Duration::from_secs(10), || {
        s.gw.stderr().contains("configuration change rejected")
    });
    assert!(rejected, "no rejection logged; stderr:\n{}", s.gw.stderr());
    assert!(s.gw.stderr().contains("/tls/certificates/0/cert_file"), "{}", s.gw.stderr());
    let c = TlsClient::connect(s.tls, "a.test", &fresh()).expect("handshake after a bad reload");
    assert_eq!(c.peer_certificate(), Some(renewed.der.clone()));

    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().expect("load thread");
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok > 10, "too little load to mean anything: {ok}");
    assert_eq!(failed, 0, "{failed} of {} load connections failed", ok + failed);
}
