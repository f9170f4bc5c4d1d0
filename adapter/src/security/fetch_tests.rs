//! Tests of [`super`]: URL checks, response framing on in-memory bytes, and real loopback
//! servers (plain and TLS) answering canned responses.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::thread;

use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn parses_urls() {
    let u = url("https://idp.example/oauth2/jwks?x=1#frag");
    assert!(u.is_https());
    assert_eq!((u.host(), u.port(), u.target()), ("idp.example", 443, "/oauth2/jwks?x=1"));
    assert_eq!(u.authority(), "idp.example");
    assert_eq!(u.to_string(), "https://idp.example/oauth2/jwks?x=1#frag");
    let u = url("HTTP://127.0.0.1:8080");
    assert!(!u.is_https());
    assert_eq!((u.host(), u.port(), u.target()), ("127.0.0.1", 8080, "/"));
    assert_eq!(u.authority(), "127.0.0.1:8080");
    let u = url("http://[::1]:9000?q");
    assert_eq!((u.host(), u.port(), u.target()), ("::1", 9000, "/?q"));
    assert_eq!(u.authority(), "[::1]:9000");
    assert_eq!(url("http://[::1]/").authority(), "[::1]");
    assert_eq!("http://a_b.local/k".parse::<Url>().unwrap().host(), "a_b.local");
}

#[test]
fn refuses_bad_urls() {
    for (text, why) in [
        ("ftp://x/", "scheme"),
        ("idp.example/jwks", "scheme"),
        ("http:///jwks", "host"),
        ("http://user:pw@idp/", "userinfo"),
        ("http://idp:0/", "port"),
        ("http://idp:99999/", "port"),
        ("http://idp:/", "port"),
        ("http://[::1/", "unclosed"),
        ("http://[zz]/", "IPv6"),
        ("http://[::1]x/", "port"),
        ("http://id p/", "host"),
        ("http://idp/a b", "percent-encoded"),
        ("http://idp/\u{e9}", "percent-encoded"),
        ("http://idp/a\r\nX: y", "percent-encoded"),
    ] {
        let err = Url::parse(text).unwrap_err();
        assert!(matches!(err, FetchError::InvalidUrl { .. }), "{text}");
        assert!(err.to_string().contains(why), "{text}: {err}");
        assert_eq!(err.url(), text);
    }
}

#[test]
fn request_head_is_well_formed() {
    let u = url("http://idp.example:8080/jwks?a=b");
    let mut options = FetchOptions::default();
    options.headers.push(("Authorization".into(), "Bearer t".into()));
    let head = request_head(&u, "POST", Some(("application/json", b"{}")), &options).unwrap();
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("POST /jwks?a=b HTTP/1.1\r\nHost: idp.example:8080\r\n"), "{head}");
    assert!(head.contains("\r\nAuthorization: Bearer t\r\n"));
    assert!(head.ends_with("Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"));
    for (name, value) in [("X-A", "a\r\nInjected: 1"), ("Bad Name", "v"), ("", "v")] {
        options.headers = vec![(name.into(), value.into())];
        let err = request_head(&u, "GET", None, &options).unwrap_err();
        assert!(matches!(err, FetchError::InvalidHeader { .. }), "{name}");
    }
}

fn read(raw: &[u8], max_body: usize) -> Result<Fetched, FetchError> {
    let u = url("http://idp/jwks");
    let options = FetchOptions { max_body, ..FetchOptions::default() };
    Ctx { url: &u, options: &options }.read_response(&mut &raw[..], h1::Method::Get)
}

#[test]
fn frames_bodies() {
    let raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\nabcXYZ";
    let r = read(raw, 1024).unwrap();
    assert_eq!(r.body, b"abc");
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n";
    let r = read(raw, 1024).unwrap();
    assert_eq!((r.body.as_slice(), r.content_type), (&b"abcde"[..], None));
    let raw = b"HTTP/1.1 200 OK\r\n\r\nuntil close";
    assert_eq!(read(raw, 1024).unwrap().body, b"until close");
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(read(raw, 1024).unwrap().body, b"");
}

#[test]
fn refuses_bad_responses() {
    let status = read(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 1024).unwrap_err();
    assert_eq!(status, FetchError::Status { url: "http://idp/jwks".into(), status: 404 });
    assert_eq!(status.to_string(), "http://idp/jwks: status 404, expected 200");
    let r = read(b"HTTP/1.1 204 No Content\r\n\r\n", 1024);
    assert!(matches!(r, Err(FetchError::Status { status: 204, .. })));
    let too_large = |raw: &[u8]| matches!(read(raw, 4), Err(FetchError::TooLarge { limit: 4, .. }));
    assert!(too_large(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"));
    assert!(too_large(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    ));
    assert!(too_large(b"HTTP/1.1 200 OK\r\n\r\nabcde"));
    for raw in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"",
    ] {
        let err = read(raw, 1024).unwrap_err();
        assert!(
            matches!(err, FetchError::Protocol { .. }),
            "{:?}: {err:?}",
            String::from_utf8_lossy(raw)
        );
        assert!(err.to_string().starts_with("http://idp/jwks: invalid response: "));
    }
}

/// A loopback server answering `responses` in turn, one per connection; returns what it read.
fn serve(listener: TcpListener, responses: Vec<Vec<u8>>) -> thread::JoinHandle<Vec<Vec<u8>>> {
    thread::spawn(move || {
        let mut seen = Vec::new();
        for response in responses {
            let (mut stream, _) = listener.accept().unwrap();
            seen.push(read_request(&mut stream));
            stream.write_all(&response).unwrap();
        }
        seen
    })
}

/// Reads a request head and its Content-Length body.
fn read_request<S: Read>(stream: &mut S) -> Vec<u8> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            return got;
        }
        got.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    got.extend_from_slice(&body);
    got
}

fn listen(addr: &str) -> Option<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).ok()?;
    let addr = listener.local_addr().ok()?;
    Some((listener, addr))
}

#[test]
fn fetches_over_loopback() {
    let (listener, addr) = listen("127.0.0.1:0").unwrap();
    let server = serve(
        listener,
        vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n".to_vec(),
            b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ],
    );
    let options = FetchOptions::default();
    let u = url(&format!("http://127.0.0.1:{}/keys", addr.port()));
    assert_eq!(get(&u, &options).unwrap().body, b"{}");
    let named = url(&format!("http://localhost:{}/token", addr.port()));
    let posted = post(&named, "application/x-www-form-urlencoded", b"a=b", &options);
    // `localhost` may resolve to ::1 first; the IPv4 listener still answers on the next address.
    assert_eq!(posted.unwrap().body, b"ok");
    let err = get(&u, &options).unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 503, .. }));
    let seen = server.join().unwrap();
    let first = String::from_utf8(seen[0].clone()).unwrap();
    assert!(
        first.starts_with(&format!("GET /keys HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", addr.port()))
    );
    assert!(first.contains("\r\nConnection: close\r\n"));
    let second = String::from_utf8(seen[1].clone()).unwrap();
    assert!(second.starts_with("POST /token HTTP/1.1\r\n"));
    assert!(second.ends_with("Content-Length: 3\r\n\r\na=b"));
}

#[test]
fn fetches_from_an_ipv6_literal() {
    let Some((listener, addr)) = listen("[::1]:0") else {
        return; // no IPv6 loopback on this machine
    };
    let server = serve(listener, vec![b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n6".to_vec()]);
    let u = url(&format!("http://[::1]:{}/", addr.port()));
    assert_eq!(get(&u, &FetchOptions::default()).unwrap().body, b"6");
    let seen = server.join().unwrap();
    assert!(String::from_utf8_lossy(&seen[0]).contains(&format!("Host: [::1]:{}\r\n", addr.port())));
}

#[test]
fn times_out_and_reports_connection_failures() {
    let (listener, addr) = listen("127.0.0.1:0").unwrap();
    let silent = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_millis(600));
        drop(stream);
    });
    let options = FetchOptions { timeout: Duration::from_millis(200), ..FetchOptions::default() };
    let u = url(&format!("http://127.0.0.1:{}/", addr.port()));
    let started = Instant::now();
    let err = get(&u, &options).unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(550));
    assert!(err.to_string().starts_with(&format!("{u}: no answer within")));
    silent.join().unwrap();
    // Nothing listens on the port any more.
    let err = get(&u, &FetchOptions::default()).unwrap_err();
    assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("{u}: connection failed: 127.0.0.1:")));
    let err = get(&url("http://does-not-exist.invalid/"), &FetchOptions::default()).unwrap_err();
    assert!(matches!(err, FetchError::Resolve { .. }), "{err:?}");
}

/// A CA certificate (PEM) and a server configuration whose leaf it signed, for `localhost` and
/// 127.0.0.1.
fn tls_server() -> (String, Arc<rustls::ServerConfig>) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    (ca.pem(), Arc::new(config))
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("turnpike-fetch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn fetches_over_tls_with_a_ca_file() {
    let (ca_pem, config) = tls_server();
    let (listener, addr) = listen("127.0.0.1:0").unwrap();
    let server = thread::spawn(move || {
        // First connection: a verified client; second: one that refuses our certificate.
        for answer in [true, false] {
            let (tcp, _) = listener.accept().unwrap();
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = StreamOwned::new(conn, tcp);
            if answer {
                read_request(&mut tls);
                tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").unwrap();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            } else {
                let _ = tls.read(&mut [0u8; 1]);
            }
        }
    });
    let u = url(&format!("https://localhost:{}/jwks", addr.port()));
    let err = get(&u, &FetchOptions::default()).unwrap_err();
    assert_eq!(err, FetchError::NoTrustAnchors { url: u.to_string() });
    assert!(err.to_string().contains("needs a CA bundle"));

    let ca_file = temp_file("ca.pem", &ca_pem);
    let options = FetchOptions { ca_file: Some(ca_file), ..FetchOptions::default() };
    options.check().unwrap();
    assert_eq!(get(&u, &options).unwrap().body, b"hello");

    let (other_ca, _) = tls_server();
    let options = FetchOptions {
        ca_file: Some(temp_file("other.pem", &other_ca)),
        ..FetchOptions::default()
    };
    let err = get(&u, &options).unwrap_err();
    assert!(matches!(err, FetchError::Tls { .. }), "{err:?}");
    server.join().unwrap();

    let empty = FetchOptions {
        ca_file: Some(temp_file("empty.pem", "not a certificate\n")),
        ..FetchOptions::default()
    };
    let err = empty.check().unwrap_err();
    assert!(matches!(err, FetchError::CaFile { .. }), "{err:?}");
    assert!(err.to_string().contains("no certificate"), "{err}");
    let missing = FetchOptions {
        ca_file: Some(Path::new("/nonexistent/ca.pem").to_path_buf()),
        ..FetchOptions::default()
    };
    let err = get(&u, &missing).unwrap_err();
    assert!(err.to_string().starts_with(&format!("{u}: CA bundle /nonexistent/ca.pem: ")), "{err}");
}
