//! Self-tests of the harness: the client against the backend directly, no gateway involved.
//! If these fail, every other failure is suspect.

use std::time::{Duration, Instant};

use turnpike_tests::client::BodyFraming;
use turnpike_tests::{Backend, Behaviour, Client, Digest, Framing};

#[test]
fn echo_records_and_describes_the_request() {
    let b = Backend::echo();
    let mut c = Client::connect(b.addr());
    let r = c.request(
        b"POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["method"], "POST");
    assert_eq!(j["target"], "/a/b?x=1");
    assert_eq!(j["body_digest"], Digest::of(b"hello").to_text());
    let rec = b.single_request();
    assert_eq!(rec.header("x-one"), Some("1"));
    assert_eq!(rec.body, b"hello");
    assert!(b.bytes_received() > 0);
}

#[test]
fn keep_alive_and_pipelining_against_the_backend() {
    let b = Backend::echo();
    let mut c = Client::connect(b.addr());
    c.send(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(c.read_response().json()["target"], "/1");
    assert_eq!(c.read_response().json()["target"], "/2");
    assert_eq!(b.connections(), 1);
    assert!(!c.is_closed(Duration::from_millis(100)));
}

#[test]
fn generated_bodies_in_every_framing() {
    let b = Backend::builder()
        .route("/len", Behaviour::Body { len: 300_000, framing: Framing::ContentLength })
        .route("/ch", Behaviour::Body { len: 300_000, framing: Framing::Chunked })
        .route("/close", Behaviour::Body { len: 300_000, framing: Framing::Close })
        .start();
    let want = Digest::of_pattern(300_000);
    let mut c = Client::connect(b.addr());
    let r = c.request(b"GET /len HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!((r.framing, r.digest), (BodyFraming::ContentLength, want));
    let r = c.request(b"GET /ch HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!((r.framing, r.digest), (BodyFraming::Chunked, want));
    assert_eq!(r.header("x-body-digest"), Some(want.to_text().as_str()));
    let r = c.request(b"GET /close HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!((r.framing, r.digest), (BodyFraming::Close, want));
}

#[test]
fn chunked_request_bodies_are_decoded() {
    let b = Backend::with(Behaviour::EchoBody);
    let mut c = Client::connect(b.addr());
    let r = c.request(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
    assert_eq!(r.body, b"abcde");
    assert!(b.single_request().chunked);
}

#[test]
fn never_and_close_behaviours() {
    let b = Backend::builder()
        .route("/never", Behaviour::Never)
        .route("/close", Behaviour::Close)
        .start();
    let mut c = Client::connect(b.addr());
    c.send(b"GET /close HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(c.is_closed(Duration::from_secs(2)));
    let mut c = Client::connect(b.addr());
    c.set_timeout(Duration::from_millis(300));
    c.send(b"GET /never HTTP/1.1\r\nHost: h\r\n\r\n");
    let t = Instant::now();
    assert!(c.try_read(false, true).is_err());
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(b.request_count(), 2);
}

#[test]
fn delay_behaviour_waits() {
    let b = Backend::with(Behaviour::Delay(Duration::from_millis(300), Box::new(Behaviour::Echo)));
    let t = Instant::now();
    let r = turnpike_tests::client::get(b.addr(), "/x");
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn unparseable_bytes_are_still_counted() {
    let b = Backend::echo();
    let mut c = Client::connect(b.addr());
    c.send(b"garbage");
    assert!(turnpike_tests::wait_until(Duration::from_secs(2), || b.bytes_received() == 7));
    assert_eq!(b.request_count(), 0);
}
