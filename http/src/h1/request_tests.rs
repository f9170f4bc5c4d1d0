//! Unit tests for `request.rs`: one accept and one reject case per rule.

use super::*;
use crate::h1::RequestBody;

fn parse(buf: &[u8]) -> (Result<Parsed, H1Error>, RequestHead) {
    let mut head = RequestHead::default();
    let r = parse_request(buf, &Limits::default(), &mut head);
    (r, head)
}

fn err(buf: &[u8]) -> H1Error {
    match parse(buf).0 {
        Err(e) => e,
        other => panic!("expected error for {:?}, got {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn ok(buf: &[u8]) -> RequestHead {
    let (r, h) = parse(buf);
    assert_eq!(r, Ok(Parsed::Complete), "{:?}", String::from_utf8_lossy(buf));
    h
}

const GET: &[u8] = b"GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

#[test]
fn simple_get() {
    let h = ok(GET);
    assert_eq!(h.method, Method::Get);
    assert_eq!(h.method_span.get(GET), b"GET");
    assert_eq!(h.target.get(GET), b"/a/b?x=1");
    assert_eq!(h.path.get(GET), b"/a/b");
    assert_eq!(h.query.unwrap().get(GET), b"x=1");
    assert_eq!(h.version, Version::Http11);
    assert_eq!(h.headers.len(), 2);
    assert_eq!(h.head_len, GET.len());
    assert_eq!(h.body, RequestBody::None);
    assert_eq!(h.host.unwrap().get(GET), b"example.com");
    assert!(h.keep_alive);
    assert!(!h.expect_continue);
    assert_eq!(h.header(GET, "ACCEPT"), Some(&b"*/*"[..]));
    assert_eq!(h.header(GET, "missing"), None);
}

#[test]
fn every_prefix_is_partial() {
    for i in 0..GET.len() {
        let (r, _) = parse(&GET[..i]);
        assert_eq!(r, Ok(Parsed::Partial), "prefix {i}");
    }
    let post = b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    for i in 0..post.len() - 3 {
        assert_eq!(parse(&post[..i]).0, Ok(Parsed::Partial), "prefix {i}");
    }
}

#[test]
fn pipelined() {
    let two = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi";
    let first = ok(two);
    assert_eq!(first.path.get(two), b"/1");
    let rest = &two[first.head_len..];
    let mut head = first;
    assert_eq!(parse_request(rest, &Limits::default(), &mut head), Ok(Parsed::Complete));
    assert_eq!(head.path.get(rest), b"/2");
    assert_eq!(head.body, RequestBody::Length(2));
    assert_eq!(&rest[head.head_len..], b"hi");
}

#[test]
fn vec_capacity_reused() {
    let mut head = RequestHead::default();
    let l = Limits::default();
    parse_request(GET, &l, &mut head).unwrap();
    let cap = head.headers.capacity();
    parse_request(GET, &l, &mut head).unwrap();
    assert_eq!(head.headers.capacity(), cap);
}

#[test]
fn leading_empty_line() {
    let b = b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    let h = ok(b);
    assert_eq!(h.head_len, b.len());
    assert_eq!(h.path.get(b), b"/");
    assert_eq!(err(b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::BadRequestLine);
    assert_eq!(err(b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::BareLf);
}

#[test]
fn line_endings() {
    assert_eq!(err(b"GET / HTTP/1.1\nHost: h\r\n\r\n"), H1Error::BareLf);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\n\r\n"), H1Error::BareLf);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\r\n\n"), H1Error::BareLf);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), H1Error::BareCr);
    assert_eq!(err(b"GET / HTTP/1.1\rHost: h\r\n\r\n"), H1Error::BareCr);
    // partial head with a bare LF already fails
    assert_eq!(err(b"GET / HTTP/1.1\nHost"), H1Error::BareLf);
}

#[test]
fn header_syntax() {
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), H1Error::ObsFold);
    assert_eq!(err(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n"), H1Error::ObsFold);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"), H1Error::WhitespaceBeforeColon);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHo@st: h\r\n\r\n"), H1Error::InvalidHeaderName);
    assert_eq!(err(b"GET / HTTP/1.1\r\n: h\r\n\r\n"), H1Error::InvalidHeaderName);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\0\r\n\r\n"), H1Error::NulByte);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\x0c\r\n\r\n"), H1Error::InvalidHeaderValue);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: h\x7f\r\n\r\n"), H1Error::InvalidHeaderValue);
    // obs-text is allowed in values
    ok(b"GET / HTTP/1.1\r\nHost: h\r\nX: D\xc3\xbcsseldorf\r\n\r\n");
}

#[test]
fn request_line() {
    assert_eq!(err(b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::BadRequestLine);
    assert_eq!(err(b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::BadRequestLine);
    assert_eq!(err(b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::InvalidMethod);
    assert_eq!(err(b"GET /\r\n\r\n"), H1Error::BadRequestLine);
    assert_eq!(err(b"GET / ICE/1.0\r\n\r\n"), H1Error::BadRequestLine);
    let h = ok(b"PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(h.method, Method::Other);
    assert_eq!(ok(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n").method, Method::Head);
}

#[test]
fn versions() {
    for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3", "HTTP/5.6"] {
        let req = format!("GET / {v}\r\nHost: h\r\n\r\n");
        assert_eq!(err(req.as_bytes()), H1Error::UnsupportedVersion, "{v}");
    }
    assert_eq!(err(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), H1Error::UnsupportedVersion);
    assert_eq!(err(b"PRI * HTTP/2.0"), H1Error::UnsupportedVersion);
    let h = ok(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(h.version, Version::Http10);
    assert!(!h.keep_alive);
    assert_eq!(h.host, None);
}

#[test]
fn uri_too_long() {
    let limits = Limits { max_request_line: 32, ..Limits::default() };
    let mut head = RequestHead::default();
    let long = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(40));
    assert_eq!(parse_request(long.as_bytes(), &limits, &mut head), Err(H1Error::UriTooLong));
    // Still partial (no CRLF yet): 414 as soon as the line is over the limit.
    assert_eq!(parse_request(&long.as_bytes()[..36], &limits, &mut head), Err(H1Error::UriTooLong));
    assert_eq!(parse_request(&long.as_bytes()[..20], &limits, &mut head), Ok(Parsed::Partial));
    let fits = b"GET /aaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n"; // line of 32
    assert_eq!(parse_request(fits, &limits, &mut head), Ok(Parsed::Complete));
}

#[test]
fn header_section_limits() {
    let limits = Limits { max_header_bytes: 64, max_headers: 3, ..Limits::default() };
    let mut head = RequestHead::default();
    let big = format!("GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n", "v".repeat(60));
    assert_eq!(
        parse_request(big.as_bytes(), &limits, &mut head),
        Err(H1Error::HeaderSectionTooLarge)
    );
    assert_eq!(
        parse_request(&big.as_bytes()[..70], &limits, &mut head),
        Err(H1Error::HeaderSectionTooLarge)
    );
    let many = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(parse_request(many, &limits, &mut head), Err(H1Error::TooManyHeaders));
    assert_eq!(H1Error::TooManyHeaders.status(), 431);
}

#[test]
fn content_length_rules() {
    let h = ok(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(h.body, RequestBody::Length(5));
    let h = ok(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(h.body, RequestBody::Length(5));
    let h = ok(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n");
    assert_eq!(h.body, RequestBody::Length(5));
    for bad in ["", "-1", "+1", "1x", "99999999999999999999", "1 2"] {
        let req = format!("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {bad}\r\n\r\n");
        assert_eq!(err(req.as_bytes()), H1Error::InvalidContentLength, "{bad:?}");
    }
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        H1Error::DuplicateContentLength
    );
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n"),
        H1Error::DuplicateContentLength
    );
    assert_eq!(
        err(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        H1Error::ContentLengthAndTransferEncoding
    );
}

#[test]
fn transfer_encoding_rules() {
    let te = |v: &str| {
        let req = format!("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {v}\r\n\r\n");
        parse(req.as_bytes()).0.map(|_| ())
    };
    assert_eq!(te("chunked"), Ok(()));
    assert_eq!(te("Chunked"), Ok(()));
    assert_eq!(te("gzip, chunked"), Err(H1Error::UnknownTransferCoding));
    assert_eq!(te("identity, chunked"), Err(H1Error::UnknownTransferCoding));
    assert_eq!(te("chunked, gzip"), Err(H1Error::TransferEncodingNotChunkedLast));
    assert_eq!(te("identity"), Err(H1Error::TransferEncodingNotChunkedLast));
    assert_eq!(te("chunked, chunked"), Err(H1Error::DuplicateChunked));
    let h = ok(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(h.body, RequestBody::Chunked);
    assert_eq!(
        err(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        H1Error::TransferEncodingOnHttp10
    );
}

#[test]
fn host_rules() {
    assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), H1Error::MissingHost);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), H1Error::DuplicateHost);
    for bad in ["a b", "u@h", "h/x", "h:port", "h:99999", ""] {
        let req = format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n");
        assert_eq!(err(req.as_bytes()), H1Error::InvalidHost, "{bad:?}");
    }
    let b = b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n";
    assert_eq!(ok(b).host.unwrap().get(b), b"[::1]:8080");
    // HTTP/1.0 without Host is fine
    ok(b"GET / HTTP/1.0\r\n\r\n");
}

#[test]
fn absolute_form_authority_wins() {
    let b = b"GET http://upstream.example:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n";
    let h = ok(b);
    assert_eq!(h.host.unwrap().get(b), b"upstream.example:8080");
    assert_eq!(h.path.get(b), b"/p");
    assert_eq!(h.query.unwrap().get(b), b"q");
    let b = b"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_eq!(ok(b).path.get(b), b"/");
}

#[test]
fn target_rules() {
    let b = b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_eq!(ok(b).path.get(b), b"*");
    assert_eq!(err(b"GET * HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::InvalidTarget);
    assert_eq!(err(b"GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::FragmentInTarget);
    assert_eq!(err(b"GET /a|b HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::InvalidTarget);
    assert_eq!(err(b"GET /\xce\xb4 HTTP/1.1\r\nHost: h\r\n\r\n"), H1Error::InvalidTarget);
    assert_eq!(err(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), H1Error::ConnectNotSupported);
    assert_eq!(H1Error::ConnectNotSupported.status(), 501);
}

#[test]
fn upgrade_refused() {
    let e =
        err(b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    assert_eq!(e, H1Error::UpgradeNotSupported);
    assert_eq!(e.status(), 501);
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"),
        H1Error::UpgradeNotSupported
    );
    // The token alone (no Upgrade header) is just a Connection option.
    ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
}

#[test]
fn keep_alive_rules() {
    assert!(ok(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: x, CLOSE\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
    let b = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret, keep-alive\r\nX-Secret: 1\r\n\r\n";
    let h = ok(b);
    assert_eq!(h.connection_tokens.len(), 2);
    assert!(crate::h1::is_connection_token(b"x-secret", &h.connection_tokens, b));
}

#[test]
fn expect_continue() {
    assert!(
        ok(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
            .expect_continue
    );
    assert!(!ok(b"PUT / HTTP/1.1\r\nHost: h\r\n\r\n").expect_continue);
}
