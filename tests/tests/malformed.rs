//! Malformed requests (RFC 9112 §2–7, RFC 9110): each gets the gateway's JSON error, the backend
//! receives nothing at all, and after a framing error (400-class) the connection is closed.
//! Each case runs against its own gateway and backend, so one stray forward cannot hide another.

use std::time::Duration;

use turnpike_tests::{assert_error, gateway_to, Backend};

/// Sends `raw` and checks status, code, that the backend saw no byte, and (if `closes`) that
/// the gateway closed the connection.
fn rejected(raw: &[u8], status: u16, code: &str, closes: bool) {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    let mut c = gw.client();
    // A gateway may answer and close before reading everything; a failed write is not a failure here.
    let _ = c.try_send(raw);
    let r = match c.try_read(false, true) {
        Ok(r) => r,
        Err(e) => {
            panic!("no response to {:?}: {e}", String::from_utf8_lossy(&raw[..raw.len().min(300)]))
        }
    };
    assert_error(&r, status, code);
    b.assert_received_nothing(Duration::from_millis(150));
    if closes {
        assert!(c.is_closed(Duration::from_secs(2)), "connection left open after a {status}");
    }
}

const CLOSE: bool = true;

#[test]
fn content_length_with_transfer_encoding() {
    rejected(
        b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
        "400",
        CLOSE,
    );
}

#[test]
fn differing_content_lengths() {
    rejected(
        b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
        "400",
        CLOSE,
    );
    rejected(
        b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!",
        400,
        "400",
        CLOSE,
    );
}

#[test]
fn invalid_content_length() {
    rejected(b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400, "400", CLOSE);
    rejected(b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "400", CLOSE);
    rejected(
        b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
        400,
        "400",
        CLOSE,
    );
}

#[test]
fn bad_chunk_size() {
    rejected(b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn chunk_data_without_crlf() {
    rejected(b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn obs_fold() {
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn bare_cr_in_header_value() {
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn bare_cr_in_request_line() {
    rejected(b"GET /api/x\r HTTP/1.1\r\nHost: a\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn nul_in_header_value() {
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn missing_host_on_http_1_1() {
    rejected(b"GET /api/x HTTP/1.1\r\nX-A: b\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn duplicate_host() {
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn bad_header_names() {
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400, "400", CLOSE);
    // RFC 9112 §5.1: whitespace between field name and colon MUST be rejected with 400.
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-A : x\r\n\r\n", 400, "400", CLOSE);
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400, "400", CLOSE);
    rejected(b"GET /api/x HTTP/1.1\r\nHost: a\r\nX(A): x\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn garbage_request_line() {
    rejected(b"GET  /api/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "400", CLOSE);
    rejected(b"NOT A REQUEST\r\n\r\n", 400, "400", CLOSE);
    rejected(b"GET /api/x HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn request_line_too_long_is_414() {
    let target = format!("/api/{}", "a".repeat(9000));
    rejected(format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(), 414, "414", CLOSE);
}

#[test]
fn header_section_too_big_is_431() {
    let mut req = String::from("GET /api/x HTTP/1.1\r\nHost: a\r\n");
    for i in 0..9 {
        req.push_str(&format!("X-Big-{i}: {}\r\n", "b".repeat(8000)));
    }
    req.push_str("\r\n");
    assert!(req.len() > 61_440);
    rejected(req.as_bytes(), 431, "431", CLOSE);
}

#[test]
fn too_many_headers_is_431() {
    let mut req = String::from("GET /api/x HTTP/1.1\r\nHost: a\r\n");
    for i in 0..120 {
        req.push_str(&format!("X-H-{i}: v\r\n"));
    }
    req.push_str("\r\n");
    rejected(req.as_bytes(), 431, "431", CLOSE);
}

#[test]
fn http_2_0_version_line_is_505() {
    rejected(b"GET /api/x HTTP/2.0\r\nHost: a\r\n\r\n", 505, "505", false);
}

#[test]
fn unknown_http_version_is_rejected() {
    rejected(b"GET /api/x HTTP/1.2\r\nHost: a\r\n\r\n", 505, "505", false);
}

#[test]
fn websocket_upgrade_is_501() {
    rejected(
        b"GET /api/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        501,
        "501",
        false,
    );
}

#[test]
fn unknown_transfer_coding_is_501() {
    rejected(
        b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x-unknown\r\n\r\n",
        501,
        "501",
        CLOSE,
    );
}

#[test]
fn chunked_not_last_is_400() {
    // RFC 9112 §6.3: chunked must be the final coding of a request.
    rejected(
        b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        400,
        "400",
        CLOSE,
    );
}

#[test]
fn the_gateway_survives_malformed_input() {
    let b = Backend::echo();
    let gw = gateway_to(&b);
    for raw in [&b"\0\0\0\0\r\n\r\n"[..], b"GET / HTTP/1.1\r\n\xff\xfe: x\r\n\r\n", b"\r\n\r\n\r\n"]
    {
        let mut c = gw.client();
        let _ = c.try_send(raw);
        let _ = c.try_read(false, true);
    }
    let r = turnpike_tests::client::get(gw.addr(), "/api/ok");
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(b.single_request().target, "/ok");
}

#[test]
fn dot_segments_in_the_path_are_400_and_never_reach_the_backend() {
    // `/api/../admin` must not leave the API's base path at a backend that normalises paths.
    rejected(b"GET /api/../admin HTTP/1.1\r\nHost: a\r\n\r\n", 400, "400", CLOSE);
}

#[test]
fn percent_encoded_dot_segments_are_400_too() {
    rejected(b"GET /api/x/%2e%2E/%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 400, "400", CLOSE);
}
