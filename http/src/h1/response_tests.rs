//! Unit tests for `response.rs`: framing per RFC 9112 §6.3 and header strictness.

use super::*;

fn parse_m(buf: &[u8], m: Method) -> Result<ResponseHead, H1Error> {
    let mut head = ResponseHead::default();
    match parse_response(buf, &Limits::default(), m, &mut head)? {
        Parsed::Complete => Ok(head),
        Parsed::Partial => panic!("partial: {:?}", String::from_utf8_lossy(buf)),
    }
}

fn parse(buf: &[u8]) -> Result<ResponseHead, H1Error> {
    parse_m(buf, Method::Get)
}

#[test]
fn simple() {
    let b = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
    let h = parse(b).unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(h.reason.get(b), b"OK");
    assert_eq!(h.version, Version::Http11);
    assert_eq!(h.body, ResponseBody::Length(5));
    assert!(h.keep_alive);
    assert_eq!(&b[h.head_len..], b"hello");
    assert_eq!(h.header(b, "x"), Some(&b"y"[..]));
}

#[test]
fn partial_prefixes() {
    let b = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    let mut head = ResponseHead::default();
    for i in 0..b.len() {
        assert_eq!(
            parse_response(&b[..i], &Limits::default(), Method::Get, &mut head),
            Ok(Parsed::Partial),
            "prefix {i}"
        );
    }
}

#[test]
fn no_body_cases() {
    let b = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    assert_eq!(parse_m(b, Method::Head).unwrap().body, ResponseBody::None);
    for s in ["100 Continue", "103 Early Hints", "204 No Content", "304 Not Modified"] {
        let r = format!("HTTP/1.1 {s}\r\nContent-Length: 5\r\n\r\n");
        let h = parse(r.as_bytes()).unwrap();
        assert_eq!(h.body, ResponseBody::None, "{s}");
        assert!(h.keep_alive);
    }
    assert!(parse(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap().is_interim());
    assert_eq!(
        parse(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n").map(|h| h.status),
        Err(H1Error::UpgradeNotSupported)
    );
}

#[test]
fn te_and_cl() {
    let h = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    assert_eq!(h.body, ResponseBody::Chunked);
    assert!(h.keep_alive);
    // RFC 9112 §6.3 rule 3: chunked wins over CL, but close afterwards.
    let h = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    assert_eq!(h.body, ResponseBody::Chunked);
    assert!(!h.keep_alive);
    let h = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").unwrap();
    assert_eq!(h.body, ResponseBody::CloseDelimited);
    assert!(!h.keep_alive);
    assert_eq!(
        parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").map(|h| h.body),
        Err(H1Error::UnknownTransferCoding)
    );
    assert_eq!(
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").map(|h| h.body),
        Err(H1Error::InvalidResponse)
    );
    assert_eq!(
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").map(|h| h.body),
        Err(H1Error::InvalidResponse)
    );
    let h = parse(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
    assert_eq!(h.body, ResponseBody::CloseDelimited);
    assert!(!h.keep_alive);
    let h =
        parse(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
    assert_eq!(h.body, ResponseBody::Chunked);
    assert!(!h.keep_alive);
}

#[test]
fn keep_alive() {
    assert!(
        !parse(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap()
            .keep_alive
    );
    assert!(!parse(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap().keep_alive);
    let b = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n";
    let h = parse(b).unwrap();
    assert!(h.keep_alive);
    assert_eq!(h.connection_tokens[0].get(b), b"keep-alive");
}

#[test]
fn strictness() {
    let bad: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX@: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\rY: b\r\n\r\n",
        b"HTTP/1.1 200 OK\nX: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\n\r\n",
        b"RTSP/1.1 200 OK\r\n\r\n",
        b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    ];
    for b in bad {
        assert_eq!(
            parse(b).map(|h| h.status),
            Err(H1Error::InvalidResponse),
            "{:?}",
            String::from_utf8_lossy(b)
        );
    }
    for s in ["099", "600", "2", "20x"] {
        let r = format!("HTTP/1.1 {s} X\r\n\r\n");
        assert_eq!(parse(r.as_bytes()).map(|h| h.status), Err(H1Error::InvalidStatus), "{s}");
    }
    assert_eq!(
        parse(b"HTTP/2.0 200 OK\r\n\r\n").map(|h| h.status),
        Err(H1Error::UnsupportedVersion)
    );
    // No reason phrase, and a leading CRLF, are fine.
    assert_eq!(parse(b"HTTP/1.1 301\r\n\r\n").unwrap().status, 301);
    assert_eq!(parse(b"\r\nHTTP/1.1 204 No Content\r\n\r\n").unwrap().head_len, 29);
}
