//! Invariant checks for the HTTP/1 decoders of `turnpike-http`: `parse_request`,
//! `parse_response` and `ChunkedDecoder`.
//!
//! Where it sits: shared by the cargo-fuzz targets (`fuzz/fuzz_targets/h1_*.rs`, through the
//! `turnpike_fuzz` library) and by the stable-Rust tests `http/tests/robustness.rs` and
//! `http/tests/fuzz_regressions.rs`, which include this file with `#[path]`. It therefore
//! depends on nothing but `turnpike_http` and `std`.
//!
//! Each `check_*` function runs one decoder on one input, several ways (whole, in pieces,
//! every prefix it is given, a reused head, tight and default limits), and panics with a
//! description when the decoder breaks one of these rules:
//!
//! * **Sans-IO contract** (STYLE.md point 1): "need more" is not an error. For growing
//!   prefixes of one input the outcome only moves forward: `Partial` → `Complete(h)` or
//!   `Partial` → `Err`; once complete, every longer buffer yields the same head, once refused,
//!   every longer buffer is refused. A prefix shorter than a complete head is `Partial`.
//! * **Spans**: `head_len <= buf.len()`, the head ends with CRLF CRLF, every span lies inside
//!   the head, in order, and resolves to bytes its field allows (token names, field-value
//!   bytes without surrounding whitespace, RFC 3986 target bytes).
//! * **Strict syntax** (RFC 9112 §2.2, §5.1): in an accepted head every CR is followed by LF
//!   and every LF preceded by CR, no NUL, no whitespace before a colon, no obs-fold.
//! * **Framing** (RFC 9112 §6): a request never carries both Content-Length and
//!   Transfer-Encoding; `Chunked` means exactly one coding, `chunked`; `Length(n)` means every
//!   Content-Length item is the decimal `n`; no HTTP/1.0 request is chunked. A response that
//!   carries both, or is close-delimited, is never kept alive; HEAD / 1xx / 204 / 304
//!   responses have no body.
//! * **Host** (RFC 9112 §3.2): an accepted HTTP/1.1 request has exactly one Host field.
//! * **Persistence** (RFC 9112 §9.3): `close` forbids keep-alive; HTTP/1.0 needs `keep-alive`.
//! * **Limits only refuse**: what is accepted under tight limits is accepted, identically,
//!   under the defaults; an accepted head respects the limits it was parsed with.
//! * **Chunked decoder** (RFC 9112 §7.1): `consumed <= input.len()`, a data range is
//!   non-empty and lies within `input[..consumed]`, a call on non-empty input either makes
//!   progress, finishes or fails (no progress-free loop); the data, the end position and the
//!   error are the same however the input is split; a finished body is re-framed the same by
//!   an independent, simpler reference decoder.
//!
//! What it does not do: it never repairs or classifies inputs, and it does not check the exact
//! error variant of a refusal (only that refusals are stable under more input).

use turnpike_http::h1::{
    parse_request, parse_response, ChunkedDecoder, Method, Parsed, RequestBody, RequestHead,
    ResponseBody, ResponseHead, Version,
};
use turnpike_http::{H1Error, Limits, Span};

/// Limits small enough that short fuzz inputs reach every one of them.
pub fn tight_limits() -> Limits {
    Limits {
        max_request_line: 40,
        max_header_bytes: 120,
        max_headers: 4,
        max_chunk_ext_bytes: 12,
        max_trailer_bytes: 24,
    }
}

/// Limits derived from `seed`, each at most the default (so "limits only refuse" applies),
/// and often tiny: 0, 1, or a few bytes, to probe the edges.
pub fn limits_from_seed(seed: u64) -> Limits {
    let d = Limits::default();
    let pick = |shift: u32, default: usize| -> usize {
        let r = (seed >> shift) as usize;
        match r % 4 {
            0 => r / 4 % 4,
            1 => r / 4 % 64,
            2 => r / 4 % 256,
            _ => default,
        }
        .min(default)
    };
    Limits {
        max_request_line: pick(0, d.max_request_line),
        max_header_bytes: pick(12, d.max_header_bytes),
        max_headers: pick(24, d.max_headers),
        max_chunk_ext_bytes: pick(36, d.max_chunk_ext_bytes),
        max_trailer_bytes: pick(48, d.max_trailer_bytes),
    }
}

/// Comparable copy of a [`RequestHead`] (which has no `PartialEq`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSnapshot {
    pub method: Method,
    pub method_span: Span,
    pub target: Span,
    pub path: Span,
    pub query: Option<Span>,
    pub version: Version,
    pub headers: Vec<(Span, Span)>,
    pub head_len: usize,
    pub body: RequestBody,
    pub host: Option<Span>,
    pub keep_alive: bool,
    pub connection_tokens: Vec<Span>,
    pub expect_continue: bool,
}

impl RequestSnapshot {
    fn of(h: &RequestHead) -> Self {
        RequestSnapshot {
            method: h.method,
            method_span: h.method_span,
            target: h.target,
            path: h.path,
            query: h.query,
            version: h.version,
            headers: h.headers.iter().map(|f| (f.name, f.value)).collect(),
            head_len: h.head_len,
            body: h.body,
            host: h.host,
            keep_alive: h.keep_alive,
            connection_tokens: h.connection_tokens.clone(),
            expect_continue: h.expect_continue,
        }
    }
}

/// Comparable copy of a [`ResponseHead`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSnapshot {
    pub version: Version,
    pub status: u16,
    pub reason: Span,
    pub headers: Vec<(Span, Span)>,
    pub head_len: usize,
    pub body: ResponseBody,
    pub keep_alive: bool,
    pub connection_tokens: Vec<Span>,
}

impl ResponseSnapshot {
    fn of(h: &ResponseHead) -> Self {
        ResponseSnapshot {
            version: h.version,
            status: h.status,
            reason: h.reason,
            headers: h.headers.iter().map(|f| (f.name, f.value)).collect(),
            head_len: h.head_len,
            body: h.body,
            keep_alive: h.keep_alive,
            connection_tokens: h.connection_tokens.clone(),
        }
    }
}

/// Outcome of one head parse, comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadOutcome<T> {
    /// `Ok(Parsed::Complete)` and the head it produced.
    Complete(T),
    /// `Ok(Parsed::Partial)`.
    Partial,
    /// `Err(e)`.
    Error(H1Error),
}

impl<T> HeadOutcome<T> {
    /// The head, when complete.
    pub fn complete(&self) -> Option<&T> {
        match self {
            HeadOutcome::Complete(h) => Some(h),
            _ => None,
        }
    }
}

/// Tokenish helpers, written from the RFC grammar independently of the crate under test.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// RFC 9110 §5.5: field-value bytes are HTAB, SP, VCHAR (0x21..=0x7E) and obs-text.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// Non-empty comma-separated list items, OWS trimmed (RFC 9110 §5.6.1).
fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim_ows).filter(|i| !i.is_empty())
}

fn bytes(span: Span, buf: &[u8]) -> &[u8] {
    &buf[span.start as usize..span.end()]
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

/// `span` lies inside `buf[..end]`.
fn assert_within(what: &str, span: Span, end: usize, buf: &[u8]) {
    assert!(
        span.end() <= end,
        "{what} span {span:?} ends past the head ({end} bytes) in {:?}",
        show(buf)
    );
}

/// RFC 9112 §2.2 (strict): CR only in CRLF, LF only after CR, no NUL in the head.
fn assert_strict_lines(head: &[u8], buf: &[u8]) {
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'\n' => {
                assert!(i > 0 && head[i - 1] == b'\r', "bare LF at {i} accepted in {:?}", show(buf))
            }
            b'\r' => assert!(
                head.get(i + 1) == Some(&b'\n'),
                "bare CR at {i} accepted in {:?}",
                show(buf)
            ),
            0 => panic!("NUL at {i} accepted in {:?}", show(buf)),
            _ => {}
        }
    }
}

/// Header fields: names are tokens followed directly by ':', values are trimmed field-value
/// bytes, fields are in order inside the head.
fn assert_fields(fields: &[(Span, Span)], head_len: usize, buf: &[u8]) {
    let mut last_end = 0usize;
    for &(name, value) in fields {
        assert_within("header name", name, head_len, buf);
        assert_within("header value", value, head_len, buf);
        assert!(
            name.start as usize >= last_end && value.start > name.start + name.len,
            "header spans out of order ({name:?}, {value:?}) in {:?}",
            show(buf)
        );
        last_end = value.end();
        let n = bytes(name, buf);
        let v = bytes(value, buf);
        assert!(is_token(n), "header name {:?} is not a token", show(n));
        assert_eq!(
            buf.get(name.end()),
            Some(&b':'),
            "header name {:?} not followed by ':' (RFC 9112 §5.1) in {:?}",
            show(n),
            show(buf)
        );
        assert!(
            v.iter().all(|&b| is_field_byte(b)),
            "header value {:?} has bytes outside field-value (RFC 9110 §5.5)",
            show(v)
        );
        assert!(
            v.first().is_none_or(|&b| !is_ows(b)) && v.last().is_none_or(|&b| !is_ows(b)),
            "header value {:?} is not OWS-trimmed",
            show(v)
        );
        // The value is the rest of the line: only OWS between the value and CRLF.
        let rest = &buf[value.end()..head_len];
        let eol = rest.iter().position(|&b| b == b'\r').unwrap_or(rest.len());
        assert!(
            rest[..eol].iter().all(|&b| is_ows(b)),
            "header value {:?} stops before the end of its line in {:?}",
            show(v),
            show(buf)
        );
    }
}

fn fields_named<'b>(
    fields: &'b [(Span, Span)],
    buf: &'b [u8],
    name: &'b str,
) -> impl Iterator<Item = &'b [u8]> + 'b {
    fields
        .iter()
        .filter(move |(n, _)| bytes(*n, buf).eq_ignore_ascii_case(name.as_bytes()))
        .map(move |(_, v)| bytes(*v, buf))
}

/// Connection tokens are the non-empty, trimmed, comma-free items of the Connection fields;
/// `close` forbids persistence and HTTP/1.0 needs `keep-alive` (RFC 9112 §9.3).
fn assert_connection(
    fields: &[(Span, Span)],
    tokens: &[Span],
    version: Version,
    keep_alive: bool,
    buf: &[u8],
) {
    let values: Vec<&[u8]> = fields_named(fields, buf, "connection").collect();
    let expected: usize = values.iter().map(|v| list_items(v).count()).sum();
    assert_eq!(
        tokens.len(),
        expected,
        "connection tokens {tokens:?} vs fields {values:?} in {:?}",
        show(buf)
    );
    let mut close = false;
    let mut ka = false;
    for t in tokens {
        let tb = bytes(*t, buf);
        assert!(
            !tb.is_empty() && !tb.contains(&b',') && trim_ows(tb) == tb,
            "bad connection token {:?}",
            show(tb)
        );
        close |= tb.eq_ignore_ascii_case(b"close");
        ka |= tb.eq_ignore_ascii_case(b"keep-alive");
    }
    if close {
        assert!(!keep_alive, "keep-alive despite Connection: close");
    }
    if version == Version::Http10 && !ka {
        assert!(!keep_alive, "HTTP/1.0 kept alive without Connection: keep-alive");
    }
}

/// Every Content-Length item is the decimal `n`.
fn assert_content_length(fields: &[(Span, Span)], n: u64, buf: &[u8]) {
    let mut count = 0;
    for v in fields_named(fields, buf, "content-length") {
        for item in v.split(|&b| b == b',').map(trim_ows) {
            count += 1;
            assert!(
                !item.is_empty() && item.iter().all(u8::is_ascii_digit),
                "Content-Length item {:?} is not 1*DIGIT (RFC 9110 §8.6)",
                show(item)
            );
            let value = std::str::from_utf8(item).ok().and_then(|s| s.parse::<u64>().ok());
            assert_eq!(
                value,
                Some(n),
                "Content-Length item {:?} disagrees with body Length({n})",
                show(item)
            );
        }
    }
    assert!(count > 0, "body Length({n}) without Content-Length");
}

/// Names (before any `;`) of the transfer codings, over all Transfer-Encoding fields.
fn codings<'b>(fields: &'b [(Span, Span)], buf: &'b [u8]) -> Vec<&'b [u8]> {
    fields_named(fields, buf, "transfer-encoding")
        .flat_map(list_items)
        .map(|i| trim_ows(i.split(|&b| b == b';').next().unwrap_or(i)))
        .collect()
}

/// RFC 3986 request-target bytes (no fragment) with well-formed pct-encoding.
fn assert_target_bytes(t: &[u8], buf: &[u8]) {
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        let ok = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
        assert!(ok, "target byte {b:#04x} outside RFC 3986 accepted in {:?}", show(buf));
        if b == b'%' {
            assert!(
                t.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && t.get(i + 2).is_some_and(u8::is_ascii_hexdigit),
                "broken pct-encoding accepted in target {:?}",
                show(t)
            );
            i += 2;
        }
        i += 1;
    }
}

fn span_inside(inner: Span, outer: Span) -> bool {
    inner.start >= outer.start && inner.end() <= outer.end()
}

/// Everything that must hold of a request head `parse_request` called complete.
pub fn assert_request_head(buf: &[u8], limits: &Limits, h: &RequestSnapshot) {
    let hl = h.head_len;
    assert!(hl <= buf.len(), "head_len {hl} > buf.len() {}", buf.len());
    assert!(hl <= limits.max_header_bytes, "head_len {hl} over max_header_bytes");
    let head = &buf[..hl];
    assert!(
        head.ends_with(b"\r\n\r\n"),
        "complete head does not end with CRLFCRLF: {:?}",
        show(head)
    );
    assert_strict_lines(head, buf);

    // Request-line: [CRLF] method SP target SP HTTP/1.x CRLF (RFC 9112 §2.2, §3).
    let skip = if head.starts_with(b"\r\n") { 2 } else { 0 };
    assert_eq!(h.method_span.start as usize, skip, "method does not start the head");
    assert_within("method", h.method_span, hl, buf);
    assert_within("target", h.target, hl, buf);
    let m = bytes(h.method_span, buf);
    assert!(is_token(m), "method {:?} is not a token", show(m));
    assert_eq!(Method::from_bytes(m), h.method, "method misclassified");
    assert_ne!(h.method, Method::Connect, "CONNECT accepted");
    assert_eq!(buf.get(h.method_span.end()), Some(&b' '), "method not followed by SP");
    assert_eq!(
        h.target.start as usize,
        h.method_span.end() + 1,
        "target does not follow method SP"
    );
    let version = match h.version {
        Version::Http10 => &b" HTTP/1.0\r\n"[..],
        Version::Http11 => b" HTTP/1.1\r\n",
    };
    assert!(
        buf[h.target.end()..].starts_with(version),
        "request-line does not end with {:?} after target in {:?}",
        show(version),
        show(buf)
    );
    let line_len = h.target.end() + version.len() - 2 - skip;
    assert!(
        line_len <= limits.max_request_line,
        "request-line of {line_len} bytes accepted with max_request_line {}",
        limits.max_request_line
    );
    let t = bytes(h.target, buf);
    assert!(!t.is_empty(), "empty target");
    assert_target_bytes(t, buf);

    // Path and query lie inside the target; origin-form is `path [? query]`.
    assert!(span_inside(h.path, h.target), "path outside target");
    let p = bytes(h.path, buf);
    assert!(
        p.first() == Some(&b'/') || (p == b"*" && h.method == Method::Options && t == b"*"),
        "path {:?} neither absolute nor OPTIONS *",
        show(p)
    );
    assert!(!p.contains(&b'?'), "path {:?} contains '?'", show(p));
    if let Some(q) = h.query {
        assert!(span_inside(q, h.target), "query outside target");
        assert_eq!(buf.get((q.start as usize).wrapping_sub(1)), Some(&b'?'), "query not after '?'");
        assert_eq!(q.end(), h.target.end(), "query does not end the target");
    }
    if t.first() == Some(&b'/') {
        assert_eq!(h.path.start, h.target.start, "origin-form path not at target");
        match h.query {
            Some(q) => assert_eq!(q.start as usize, h.path.end() + 1),
            None => assert_eq!(h.path, h.target, "origin-form path is not the target"),
        }
    }

    // Fields.
    assert!(
        h.headers.len() <= limits.max_headers.min(Limits::HEADER_CAPACITY),
        "{} headers accepted with max_headers {}",
        h.headers.len(),
        limits.max_headers
    );
    assert_fields(&h.headers, hl, buf);
    if let Some(first) = h.headers.first() {
        assert!(
            first.0.start as usize >= h.target.end() + version.len(),
            "header before the end of the request-line"
        );
    }

    // Host (RFC 9112 §3.2): one field on 1.1, at most one on 1.0; absolute-form wins.
    let hosts: Vec<&[u8]> = fields_named(&h.headers, buf, "host").collect();
    assert!(hosts.len() <= 1, "{} Host fields accepted", hosts.len());
    if h.version == Version::Http11 {
        assert_eq!(hosts.len(), 1, "HTTP/1.1 request without Host accepted");
    }
    match h.host {
        Some(host) => {
            assert_within("host", host, hl, buf);
            let hb = bytes(host, buf);
            assert!(
                !hb.is_empty()
                    && hb.iter().all(|&b| b > b' ' && b < 0x7f && !b"@/?#\\\"<>{}|^`".contains(&b)),
                "invalid host {:?} accepted",
                show(hb)
            );
            if t.first() == Some(&b'/') || t == b"*" {
                assert_eq!(Some(hb), hosts.first().copied(), "host is not the Host field");
            } else {
                assert!(span_inside(host, h.target), "absolute-form host outside target");
            }
        }
        None => assert!(hosts.is_empty(), "Host field present but head.host is None"),
    }

    // Upgrade is refused for now; Expect: 100-continue is reported.
    assert!(fields_named(&h.headers, buf, "upgrade").next().is_none(), "Upgrade accepted");
    assert_eq!(
        h.expect_continue,
        fields_named(&h.headers, buf, "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue")),
        "expect_continue disagrees with the Expect fields"
    );

    // Framing (RFC 9112 §6.1, §6.3): never both CL and TE; TE only on 1.1, chunked alone.
    let te = fields_named(&h.headers, buf, "transfer-encoding").count();
    let cl = fields_named(&h.headers, buf, "content-length").count();
    assert!(
        te == 0 || cl == 0,
        "request with both Content-Length and Transfer-Encoding accepted: {:?}",
        show(buf)
    );
    match h.body {
        RequestBody::Chunked => {
            assert_eq!(h.version, Version::Http11, "chunked HTTP/1.0 request");
            let c = codings(&h.headers, buf);
            assert!(
                c.len() == 1 && c[0].eq_ignore_ascii_case(b"chunked"),
                "Chunked body with codings {:?}",
                c.iter().map(|c| show(c)).collect::<Vec<_>>()
            );
        }
        RequestBody::Length(n) => {
            assert_eq!(te, 0, "Length body with Transfer-Encoding");
            assert_content_length(&h.headers, n, buf);
        }
        RequestBody::None => assert!(te == 0 && cl == 0, "no body despite framing fields"),
    }
    assert_connection(&h.headers, &h.connection_tokens, h.version, h.keep_alive, buf);
    if h.version == Version::Http11 {
        let close =
            h.connection_tokens.iter().any(|t| bytes(*t, buf).eq_ignore_ascii_case(b"close"));
        assert_eq!(h.keep_alive, !close, "HTTP/1.1 persistence wrong");
    }
}

/// Everything that must hold of a response head `parse_response` called complete.
pub fn assert_response_head(buf: &[u8], limits: &Limits, method: Method, h: &ResponseSnapshot) {
    let hl = h.head_len;
    assert!(hl <= buf.len(), "head_len {hl} > buf.len() {}", buf.len());
    assert!(hl <= limits.max_header_bytes, "head_len {hl} over max_header_bytes");
    let head = &buf[..hl];
    assert!(
        head.ends_with(b"\r\n\r\n"),
        "complete head does not end with CRLFCRLF: {:?}",
        show(head)
    );
    assert_strict_lines(head, buf);
    let skip = if head.starts_with(b"\r\n") { 2 } else { 0 };
    let version = match h.version {
        Version::Http10 => &b"HTTP/1.0 "[..],
        Version::Http11 => b"HTTP/1.1 ",
    };
    assert!(
        head[skip..].starts_with(version),
        "status-line does not start with {:?}: {:?}",
        show(version),
        show(buf)
    );
    let code = head.get(skip + version.len()..skip + version.len() + 3).unwrap_or(b"");
    assert!(
        code.len() == 3 && code.iter().all(u8::is_ascii_digit),
        "status code {:?} is not 3 digits",
        show(code)
    );
    let code_value = code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    assert_eq!(code_value, h.status, "status disagrees with the status-line");
    assert!((100..=599).contains(&h.status) && h.status != 101, "status {} accepted", h.status);
    assert_within("reason", h.reason, hl, buf);
    let reason = bytes(h.reason, buf);
    assert!(
        reason.iter().all(|&b| is_field_byte(b)),
        "reason phrase {:?} has control bytes (RFC 9112 §4)",
        show(reason)
    );
    assert!(
        h.headers.len() <= limits.max_headers.min(Limits::HEADER_CAPACITY),
        "{} headers accepted with max_headers {}",
        h.headers.len(),
        limits.max_headers
    );
    assert_fields(&h.headers, hl, buf);

    // Framing, RFC 9112 §6.3 in order.
    let te = fields_named(&h.headers, buf, "transfer-encoding").count();
    let cl = fields_named(&h.headers, buf, "content-length").count();
    let bodiless = method == Method::Head
        || (100..200).contains(&h.status)
        || h.status == 204
        || h.status == 304;
    if bodiless {
        assert_eq!(h.body, ResponseBody::None, "body on a bodiless response");
    }
    match h.body {
        ResponseBody::None => assert!(bodiless, "no body on a response that has one"),
        ResponseBody::Chunked => {
            let c = codings(&h.headers, buf);
            assert!(
                c.last().is_some_and(|l| l.eq_ignore_ascii_case(b"chunked"))
                    && c.iter().filter(|c| c.eq_ignore_ascii_case(b"chunked")).count() == 1,
                "Chunked body with codings {:?}",
                c.iter().map(|c| show(c)).collect::<Vec<_>>()
            );
            // Rule 3: TE overrides CL, but such a message may be smuggling: close.
            if cl > 0 {
                assert!(!h.keep_alive, "response with CL and TE kept alive");
            }
            if h.version == Version::Http10 {
                assert!(!h.keep_alive, "HTTP/1.0 response with TE kept alive");
            }
        }
        ResponseBody::Length(n) => {
            assert_eq!(te, 0, "Length body with Transfer-Encoding");
            assert_content_length(&h.headers, n, buf);
        }
        ResponseBody::CloseDelimited => {
            assert!(!h.keep_alive, "close-delimited response kept alive");
        }
    }
    assert_connection(&h.headers, &h.connection_tokens, h.version, h.keep_alive, buf);
}

fn request_once(
    buf: &[u8],
    limits: &Limits,
    head: &mut RequestHead,
) -> HeadOutcome<RequestSnapshot> {
    match parse_request(buf, limits, head) {
        Ok(Parsed::Complete) => HeadOutcome::Complete(RequestSnapshot::of(head)),
        Ok(Parsed::Partial) => HeadOutcome::Partial,
        Err(e) => HeadOutcome::Error(e),
    }
}

fn response_once(
    buf: &[u8],
    limits: &Limits,
    method: Method,
    head: &mut ResponseHead,
) -> HeadOutcome<ResponseSnapshot> {
    match parse_response(buf, limits, method, head) {
        Ok(Parsed::Complete) => HeadOutcome::Complete(ResponseSnapshot::of(head)),
        Ok(Parsed::Partial) => HeadOutcome::Partial,
        Err(e) => HeadOutcome::Error(e),
    }
}

/// The sans-IO rule for a prefix `buf[..k]` of `buf`, given the outcome on all of `buf`.
fn assert_prefix<T: PartialEq + std::fmt::Debug>(
    buf: &[u8],
    k: usize,
    full: &HeadOutcome<T>,
    prefix: &HeadOutcome<T>,
    head_len: impl Fn(&T) -> usize,
) {
    let ctx = || format!("prefix {k} of {} bytes {:?}", buf.len(), show(buf));
    match (full, prefix) {
        (HeadOutcome::Complete(f), p) => {
            if k < head_len(f) {
                assert_eq!(
                    p,
                    &HeadOutcome::Partial,
                    "a prefix of a complete head must be Partial: {}",
                    ctx()
                );
            } else {
                assert_eq!(p, full, "bytes after the head changed it: {}", ctx());
            }
        }
        (_, HeadOutcome::Complete(p)) => {
            panic!("prefix complete ({p:?}) but the whole buffer gives {full:?}: {}", ctx())
        }
        (HeadOutcome::Partial, HeadOutcome::Error(e)) => {
            panic!("prefix refused ({e:?}) but the whole buffer is Partial: {}", ctx())
        }
        _ => {}
    }
}

/// A head that fills every field of a reused [`RequestHead`].
const DIRTY_REQUEST: &[u8] = b"POST http://h:1/a?b HTTP/1.1\r\nHost: x\r\nConnection: close, x\r\n\
Expect: 100-continue\r\nContent-Length: 5\r\n\r\n";
const DIRTY_RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nConnection: close, x\r\nContent-Length: 5\r\nX: y\r\n\r\n";

/// Run `parse_request` on `buf` (and on the prefixes `buf[..k]` for each `k` in `cuts`, plus
/// the boundaries around the head) under [`tight_limits`] and default limits; panic on any
/// broken invariant. Returns the outcome under the default limits.
pub fn check_request(buf: &[u8], cuts: &[usize]) -> HeadOutcome<RequestSnapshot> {
    check_request_with(buf, cuts, &tight_limits())
}

/// [`check_request`] with `tight` (each field at most the default) in place of
/// [`tight_limits`].
pub fn check_request_with(
    buf: &[u8],
    cuts: &[usize],
    tight: &Limits,
) -> HeadOutcome<RequestSnapshot> {
    let defaults = Limits::default();
    let mut head = RequestHead::default();
    let mut full = HeadOutcome::Partial;
    for (limits, is_tight) in [(tight, true), (&defaults, false)] {
        full = request_once(buf, limits, &mut head);
        // A reused head gives the same answer as a fresh one.
        let mut dirty = RequestHead::default();
        let _ = parse_request(DIRTY_REQUEST, &Limits::default(), &mut dirty);
        assert_eq!(
            request_once(buf, limits, &mut dirty),
            full,
            "reused head changed the result for {:?}",
            show(buf)
        );
        match &full {
            HeadOutcome::Complete(h) => assert_request_head(buf, limits, h),
            HeadOutcome::Error(e) => {
                assert!(
                    matches!(e.status(), 400 | 414 | 431 | 501 | 505),
                    "request error {e:?} with status {}",
                    e.status()
                );
                assert!(
                    !matches!(
                        e,
                        H1Error::InvalidResponse
                            | H1Error::InvalidStatus
                            | H1Error::InvalidChunkSize
                            | H1Error::ChunkSizeOverflow
                            | H1Error::InvalidChunkExtension
                            | H1Error::ChunkExtensionTooLong
                            | H1Error::InvalidChunkData
                            | H1Error::InvalidTrailer
                            | H1Error::TrailersTooLarge
                    ),
                    "parse_request returned a non-request error {e:?}"
                );
            }
            HeadOutcome::Partial => {}
        }
        let boundary = full.complete().map(|h| [h.head_len.saturating_sub(1), h.head_len]);
        for &k in cuts.iter().chain(boundary.iter().flatten()) {
            if k <= buf.len() {
                let prefix = request_once(&buf[..k], limits, &mut head);
                assert_prefix(buf, k, &full, &prefix, |h| h.head_len);
            }
        }
        if is_tight {
            if let HeadOutcome::Complete(h) = &full {
                let relaxed = request_once(buf, &defaults, &mut head);
                assert_eq!(
                    relaxed,
                    HeadOutcome::Complete(h.clone()),
                    "accepted under tight limits, not the same under defaults: {:?}",
                    show(buf)
                );
            }
        }
    }
    full
}

/// Run `parse_response` on `buf` for a GET and a HEAD request, like [`check_request`].
pub fn check_response(buf: &[u8], cuts: &[usize]) -> HeadOutcome<ResponseSnapshot> {
    check_response_with(buf, cuts, &tight_limits())
}

/// [`check_response`] with `tight` in place of [`tight_limits`].
pub fn check_response_with(
    buf: &[u8],
    cuts: &[usize],
    tight: &Limits,
) -> HeadOutcome<ResponseSnapshot> {
    let defaults = Limits::default();
    let mut head = ResponseHead::default();
    let mut result = HeadOutcome::Partial;
    for (limits, is_tight) in [(tight, true), (&defaults, false)] {
        let mut per_method = Vec::new();
        for method in [Method::Head, Method::Get] {
            let full = response_once(buf, limits, method, &mut head);
            let mut dirty = ResponseHead::default();
            let _ = parse_response(DIRTY_RESPONSE, &Limits::default(), Method::Get, &mut dirty);
            assert_eq!(
                response_once(buf, limits, method, &mut dirty),
                full,
                "reused head changed the result for {:?}",
                show(buf)
            );
            if let HeadOutcome::Complete(h) = &full {
                assert_response_head(buf, limits, method, h);
            }
            let boundary = full.complete().map(|h| [h.head_len.saturating_sub(1), h.head_len]);
            for &k in cuts.iter().chain(boundary.iter().flatten()) {
                if k <= buf.len() {
                    let prefix = response_once(&buf[..k], limits, method, &mut head);
                    assert_prefix(buf, k, &full, &prefix, |h| h.head_len);
                }
            }
            if is_tight {
                if let HeadOutcome::Complete(h) = &full {
                    assert_eq!(
                        response_once(buf, &defaults, method, &mut head),
                        HeadOutcome::Complete(h.clone()),
                        "accepted under tight limits, not the same under defaults: {:?}",
                        show(buf)
                    );
                }
            }
            per_method.push(full);
        }
        // The request method only changes the body framing (RFC 9112 §6.3 rule 1).
        match (&per_method[0], &per_method[1]) {
            (HeadOutcome::Complete(head_m), HeadOutcome::Complete(get_m)) => {
                // Framing may force a GET response's connection closed; never the reverse.
                assert!(
                    head_m.keep_alive || !get_m.keep_alive,
                    "GET response kept alive, the same answering HEAD not"
                );
                let mut expected = get_m.clone();
                expected.body = ResponseBody::None;
                expected.keep_alive = head_m.keep_alive;
                assert_eq!(head_m, &expected, "HEAD vs GET changed more than the body");
            }
            (HeadOutcome::Complete(_), HeadOutcome::Error(_)) => {
                // A GET response can be refused for its framing (e.g. bad Content-Length)
                // where the same head answering HEAD has no body to frame.
            }
            (a, b) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "HEAD gives {a:?}, GET gives {b:?} for {:?}",
                show(buf)
            ),
        }
        result = per_method.pop().unwrap_or(HeadOutcome::Partial);
    }
    result
}

/// How a chunked body run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkEnd {
    /// The body ended after `consumed` bytes of the input.
    Done { consumed: usize },
    /// Every byte was consumed; more are needed.
    NeedMore,
    /// Refused.
    Error(H1Error),
}

/// Data and end of one chunked body run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRun {
    /// Concatenated chunk data.
    pub data: Vec<u8>,
    /// How it ended.
    pub end: ChunkEnd,
}

/// Feed `input` to a fresh decoder the way `core` does: bytes arrive up to each position in
/// `arrivals` (ascending), then the rest; the decoder is always handed everything it has not
/// consumed yet. Checks the per-call contract.
pub fn run_chunked(input: &[u8], limits: &Limits, arrivals: &[usize]) -> ChunkRun {
    let mut dec = ChunkedDecoder::new(limits);
    let mut data = Vec::new();
    let mut pos = 0usize;
    let mut next_arrival = arrivals.iter().copied().filter(|&a| a <= input.len());
    let mut avail = next_arrival.next().unwrap_or(input.len());
    // Each call consumes a byte, returns data, or waits for an arrival: bounded.
    let mut calls_left = 2 * input.len() + arrivals.len() + 8;
    loop {
        assert!(calls_left > 0, "decoder loops without progress on {:?}", show(input));
        calls_left -= 1;
        let window = &input[pos..avail];
        let step = match dec.decode(window) {
            Ok(s) => s,
            Err(e) => return ChunkRun { data, end: ChunkEnd::Error(e) },
        };
        assert!(
            step.consumed <= window.len(),
            "consumed {} of a {}-byte input",
            step.consumed,
            window.len()
        );
        if let Some(r) = &step.data {
            assert!(
                r.start < r.end && r.end <= step.consumed,
                "data range {r:?} not inside consumed {} (input {})",
                step.consumed,
                window.len()
            );
            data.extend_from_slice(&window[r.clone()]);
        }
        pos += step.consumed;
        if step.done {
            assert!(step.data.is_none(), "data on the done step");
            assert!(dec.is_done(), "done step but is_done() is false");
            let again = dec.decode(&input[pos..avail]);
            assert_eq!(
                again,
                Ok(turnpike_http::h1::ChunkStep { consumed: 0, data: None, done: true }),
                "a finished decoder must report done and consume nothing"
            );
            return ChunkRun { data, end: ChunkEnd::Done { consumed: pos } };
        }
        assert!(!dec.is_done(), "is_done() without a done step");
        if step.consumed == 0 && step.data.is_none() {
            assert!(
                window.is_empty(),
                "no progress on a non-empty input {:?} (at {pos} of {:?})",
                show(window),
                show(input)
            );
            if avail == input.len() {
                return ChunkRun { data, end: ChunkEnd::NeedMore };
            }
            avail = next_arrival.next().unwrap_or(input.len()).max(avail);
        }
    }
}

/// An independent, lenient re-framing of a chunked body that the decoder finished at
/// `consumed`: sizes, skip extensions to CRLF, data, CRLF, ..., `0`, trailer lines, CRLF.
/// Returns the data, or `None` where the framing does not add up.
fn reference_chunked(body: &[u8]) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut i = 0usize;
    loop {
        let digits = body[i..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 || digits > 16 {
            return None;
        }
        let size = u64::from_str_radix(std::str::from_utf8(&body[i..i + digits]).ok()?, 16).ok()?;
        i += digits;
        let cr = i + body[i..].iter().position(|&b| b == b'\r')?;
        if body.get(cr + 1) != Some(&b'\n') || body[i..cr].contains(&b'\n') {
            return None;
        }
        i = cr + 2;
        if size == 0 {
            break;
        }
        let end = i.checked_add(usize::try_from(size).ok()?)?;
        data.extend_from_slice(body.get(i..end)?);
        if body.get(end..end + 2) != Some(&b"\r\n"[..]) {
            return None;
        }
        i = end + 2;
    }
    // Trailer lines, then the empty line that ends the body.
    loop {
        let cr = i + body[i..].iter().position(|&b| b == b'\r')?;
        if body.get(cr + 1) != Some(&b'\n') || body[i..cr].contains(&b'\n') {
            return None;
        }
        let line = &body[i..cr];
        i = cr + 2;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        if !is_token(&line[..colon]) || !line[colon + 1..].iter().all(|&b| is_field_byte(b)) {
            return None;
        }
    }
    (i == body.len()).then_some(data)
}

/// Split points for a chunked input, derived from one seed byte: one cut at a proportional
/// position, and a regular stride.
pub fn chunk_arrivals(seed: u8, len: usize) -> Vec<usize> {
    let first = len * usize::from(seed) / 256;
    let stride = usize::from(seed % 13) + 1;
    let mut v: Vec<usize> = (0..=len).step_by(stride).collect();
    v.push(first);
    v.sort_unstable();
    v.dedup();
    v
}

/// Run the chunked decoder on `input` whole, split per `seed`, and byte by byte (for inputs up
/// to 4 KiB), under tight and default limits; panic on any broken invariant. Returns the run
/// under the default limits.
pub fn check_chunked(input: &[u8], seed: u8) -> ChunkRun {
    check_chunked_with(input, seed, &tight_limits())
}

/// [`check_chunked`] with `tight` in place of [`tight_limits`].
pub fn check_chunked_with(input: &[u8], seed: u8, tight: &Limits) -> ChunkRun {
    let defaults = Limits::default();
    let split = chunk_arrivals(seed, input.len());
    let single: Vec<usize> = vec![input.len() * usize::from(seed) / 256];
    let bytewise: Vec<usize> =
        if input.len() <= 4096 { (1..=input.len()).collect() } else { Vec::new() };
    let mut tight_run = None;
    let mut relaxed = None;
    for (limits, is_tight) in [(tight, true), (&defaults, false)] {
        let whole = run_chunked(input, limits, &[]);
        for arrivals in [&single, &split, &bytewise] {
            let run = run_chunked(input, limits, arrivals);
            assert_eq!(
                run,
                whole,
                "splitting the input changed the result (arrivals {arrivals:?}) for {:?}",
                show(input)
            );
        }
        if let ChunkEnd::Done { consumed } = whole.end {
            assert!(consumed >= 5, "body done after {consumed} bytes");
            let body = &input[..consumed];
            assert!(body.ends_with(b"\r\n"), "body does not end with CRLF");
            assert_eq!(
                reference_chunked(body).as_deref(),
                Some(&whole.data[..]),
                "reference decoder disagrees on {:?}",
                show(body)
            );
            // Bytes after the body are never looked at.
            let truncated = run_chunked(body, limits, &[]);
            assert_eq!(truncated, whole, "bytes after the body changed the result");
        }
        if let ChunkEnd::Error(e) = &whole.end {
            assert!(
                matches!(
                    e,
                    H1Error::InvalidChunkSize
                        | H1Error::ChunkSizeOverflow
                        | H1Error::InvalidChunkExtension
                        | H1Error::ChunkExtensionTooLong
                        | H1Error::InvalidChunkData
                        | H1Error::InvalidTrailer
                        | H1Error::TrailersTooLarge
                ),
                "chunked decoder returned a non-chunked error {e:?}"
            );
        }
        if is_tight {
            tight_run = Some(whole);
        } else {
            relaxed = Some(whole);
        }
    }
    let relaxed = relaxed.unwrap_or(ChunkRun { data: Vec::new(), end: ChunkEnd::NeedMore });
    if let Some(t) = tight_run {
        if matches!(t.end, ChunkEnd::Done { .. }) {
            assert_eq!(t, relaxed, "tight limits accepted, defaults differ");
        }
    }
    relaxed
}
