//! Conformance against llhttp's own test vectors (`shared/vectors/http1/llhttp_cases.json`).
//!
//! Every case is driven like a server (or, for responses, a client) would: parse a head,
//! frame and consume its body (Content-Length, chunked, or close-delimited), then parse the
//! next pipelined message, until the bytes run out, an error occurs, or a message ends the
//! connection (`keep_alive == false`).
//!
//! Rules checked:
//! * every case llhttp rejects is rejected by us;
//! * every `*-lenient-*` case (accepted by llhttp only with a leniency flag) is rejected;
//! * every other case llhttp accepts is accepted, unless it is listed in [`DIVERGENCES`]
//!   with the error we deliberately answer instead. Unused table rows fail the test, so any
//!   behaviour change shows up here.
//!
//! Two notes on reading the vectors:
//! * The converter dropped the final newline of many markdown input blocks: llhttp's own log
//!   then reports offsets past the end of `raw`. When it does, we restore the CRLF llhttp saw.
//! * llhttp parses byte by byte and so reports a defect in a head it has not finished
//!   (e.g. a second Content-Length whose line is cut off). We judge a head when it is
//!   complete; when the bytes end inside a head (or chunk framing) we complete the input with
//!   CRLFs and require rejection then. "Data after `Connection: close`" (llhttp error) is, for
//!   us, the connection closing with the trailing bytes unread: the same outcome.

use base64::Engine as _;
use turnpike_http::h1::{
    parse_request, parse_response, ChunkedDecoder, Method, Parsed, RequestBody, RequestHead,
    ResponseBody, ResponseHead,
};
use turnpike_http::{H1Error, Limits};

const VECTORS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/http1/llhttp_cases.json");

const NO_HOST: &str = "HTTP/1.1 request without Host: 400 (RFC 9112 §3.2 MUST)";
const ONE_EMPTY_LINE: &str =
    "only one empty line is skipped before a request-line (RFC 9112 §2.2); two → 400";
const ASTERISK: &str = "asterisk-form only with OPTIONS (RFC 9112 §3.2.4)";
const NOT_HTTP: &str = "ICE/RTSP are not HTTP: refused";
const HTTP09: &str = "HTTP/0.9 (no version / version 0.9) not supported";
const FRAGMENT: &str = "fragment in request-target refused (RFC 9112 §3.2 has no fragment)";
const URI_BYTES: &str = "bytes outside RFC 3986 in request-target refused";
const USERINFO: &str = "userinfo in http(s) target refused (RFC 9110 §4.2.4)";

/// (kind, title, error we answer, why): cases llhttp accepts and we deliberately refuse.
/// `kind` is "request" or "response".
const DIVERGENCES: &[(&str, &str, H1Error, &str)] = &[
    ("request", "`keep-alive` / Setting flag", H1Error::MissingHost, NO_HOST),
    ("request", "`keep-alive` / Setting flag / Restarting when keep-alive is explicitly", H1Error::MissingHost, NO_HOST),
    ("request", "`keep-alive` / Setting flag / CRLF between requests, implicit `keep-alive`", H1Error::BadRequestLine, ONE_EMPTY_LINE),
    ("request", "`keep-alive` / `close` / Setting flag on `close`", H1Error::MissingHost, NO_HOST),
    ("request", "`keep-alive` / `close` / Setting flag on `close` followed by tab", H1Error::MissingHost, NO_HOST),
    ("request", "`keep-alive` / Parsing multiple tokens / Sample", H1Error::MissingHost, NO_HOST),
    ("request", "`Content-Length` with zeroes", H1Error::MissingHost, NO_HOST),
    ("request", "`Content-Length` with zeroes / `Content-Length` with follow-up headers", H1Error::MissingHost, NO_HOST),
    ("request", "`Content-Length` with zeroes / Spaces in `Content-Length` (surrounding)", H1Error::MissingHost, NO_HOST),
    ("request", "`Content-Length` with zeroes / Spaces in `Content-Length` (surrounding) / Tabs in `Content-Length` (surrounding)", H1Error::MissingHost, NO_HOST),
    ("request", "`Content-Length` with zeroes / Content-Length reset when no body is received", H1Error::MissingHost, NO_HOST),
    ("request", "It should be safe to finish after GET request", H1Error::MissingHost, NO_HOST),
    ("request", "REPORT request", H1Error::MissingHost, NO_HOST),
    ("request", "REPORT request / CONNECT request / M-SEARCH request", H1Error::InvalidTarget, ASTERISK),
    ("request", "REPORT request / CONNECT request / SOURCE request with ICE", H1Error::BadRequestLine, NOT_HTTP),
    ("request", "REPORT request / CONNECT request / OPTIONS request with RTSP", H1Error::BadRequestLine, NOT_HTTP),
    ("request", "REPORT request / CONNECT request / ANNOUNCE request with RTSP", H1Error::BadRequestLine, NOT_HTTP),
    ("request", "on_message_begin", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_protocol_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_method_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_url_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_version_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_header_field_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_header_value_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_headers_complete", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_chunk_header", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_chunk_extension_name", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_chunk_extension_value", H1Error::MissingHost, NO_HOST),
    ("request", "on_message_begin / on_message_complete / on_chunk_complete", H1Error::MissingHost, NO_HOST),
    ("request", "Should parse multiple events", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / Request with method starting with `H`", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / DUMBPACK", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / No headers and no body", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / One header and no body", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / Prefix newline", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / No HTTP version", H1Error::BadRequestLine, HTTP09),
    ("request", "Simple request / Request starting with CRLF", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / Extended Characters", H1Error::MissingHost, NO_HOST),
    ("request", "Simple request / 255 ASCII in header value", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / Parse chunks with lowercase size", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / Parse chunks with uppercase size", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / POST with `Transfer-Encoding: chunked`", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / Two chunks and triple zero prefixed end chunk", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / Trailing headers", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / Chunk extensions", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / Parsing and setting flag / Chunk extensions quoting", H1Error::MissingHost, NO_HOST),
    ("request", "`chunked` / POST with `chunked` as last transfer-encoding", H1Error::FragmentInTarget, FRAGMENT),
    ("request", "`chunked` / POST with `chunked` as last transfer-encoding (multiple headers)", H1Error::FragmentInTarget, FRAGMENT),
    ("request", "Quotes in URI", H1Error::InvalidTarget, URI_BYTES),
    ("request", "Quotes in URI / Query URL with question mark", H1Error::MissingHost, NO_HOST),
    ("request", "Quotes in URI / Host terminated by a query string", H1Error::MissingHost, NO_HOST),
    ("request", "Quotes in URI / `host:port` terminated by a query string", H1Error::MissingHost, NO_HOST),
    ("request", "Quotes in URI / Query URL with vertical bar character", H1Error::InvalidTarget, URI_BYTES),
    ("request", "Quotes in URI / `host:port` terminated by a space", H1Error::MissingHost, NO_HOST),
    ("request", "Quotes in URI / Fragment in URI", H1Error::FragmentInTarget, FRAGMENT),
    ("request", "Quotes in URI / `host:port` and basic auth", H1Error::UserinfoInTarget, USERINFO),
    ("response", "Simple response / RTSP response", H1Error::InvalidResponse, NOT_HTTP),
    ("response", "Simple response / ICE response", H1Error::InvalidResponse, NOT_HTTP),
    ("response", "Simple response / HTTP version 0.9", H1Error::UnsupportedVersion, HTTP09),
];

/// (kind, title, why): cases llhttp refuses and we deliberately accept.
const ACCEPTED_DESPITE_LLHTTP: &[(&str, &str, &str)] = &[(
    "request",
    "ICE protocol and GET method / ICE protocol, but not really / HTTP protocol and ANNOUNCE method",
    "a method is any token (RFC 9110 §9.1); llhttp only knows a fixed list per protocol",
)];

#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// All bytes consumed at a message boundary.
    Clean,
    /// Bytes ended inside a head or body (a server would wait, then time out / close).
    Incomplete,
    /// A message ended the connection; trailing bytes are never read.
    ClosedWithExtra,
    /// Refused.
    Error(H1Error),
}

#[derive(Debug)]
struct Outcome {
    messages: usize,
    end: End,
}

/// Consume a body framed by length or chunking; `None` = bytes ran out.
fn consume_chunked(buf: &[u8], limits: &Limits) -> Result<Option<usize>, H1Error> {
    let mut dec = ChunkedDecoder::new(limits);
    let mut pos = 0;
    loop {
        let step = dec.decode(buf.get(pos..).unwrap_or(&[]))?;
        pos += step.consumed;
        if step.done {
            return Ok(Some(pos));
        }
        if step.consumed == 0 && step.data.is_none() {
            return Ok(None);
        }
    }
}

fn drive_requests(buf: &[u8], limits: &Limits) -> Outcome {
    let mut head = RequestHead::default();
    let mut pos = 0;
    let mut messages = 0;
    let end = loop {
        if pos == buf.len() {
            break End::Clean;
        }
        let rest = &buf[pos..];
        match parse_request(rest, limits, &mut head) {
            Err(e) => break End::Error(e),
            Ok(Parsed::Partial) => break End::Incomplete,
            Ok(Parsed::Complete) => {}
        }
        let body_start = pos + head.head_len;
        let body_len = match head.body {
            RequestBody::None => 0,
            RequestBody::Length(n) => {
                if (buf.len() - body_start) as u64 >= n {
                    n as usize
                } else {
                    break End::Incomplete;
                }
            }
            RequestBody::Chunked => match consume_chunked(&buf[body_start..], limits) {
                Err(e) => break End::Error(e),
                Ok(None) => break End::Incomplete,
                Ok(Some(n)) => n,
            },
        };
        pos = body_start + body_len;
        messages += 1;
        if !head.keep_alive {
            break if pos == buf.len() { End::Clean } else { End::ClosedWithExtra };
        }
    };
    Outcome { messages, end }
}

fn drive_responses(buf: &[u8], limits: &Limits, method: Method) -> Outcome {
    let mut head = ResponseHead::default();
    let mut pos = 0;
    let mut messages = 0;
    let end = loop {
        if pos == buf.len() {
            break End::Clean;
        }
        let rest = &buf[pos..];
        match parse_response(rest, limits, method, &mut head) {
            Err(e) => break End::Error(e),
            Ok(Parsed::Partial) => break End::Incomplete,
            Ok(Parsed::Complete) => {}
        }
        let body_start = pos + head.head_len;
        let body_len = match head.body {
            ResponseBody::None => 0,
            ResponseBody::Length(n) => {
                if (buf.len() - body_start) as u64 >= n {
                    n as usize
                } else {
                    break End::Incomplete;
                }
            }
            ResponseBody::Chunked => match consume_chunked(&buf[body_start..], limits) {
                Err(e) => break End::Error(e),
                Ok(None) => break End::Incomplete,
                Ok(Some(n)) => n,
            },
            ResponseBody::CloseDelimited => buf.len() - body_start,
        };
        pos = body_start + body_len;
        messages += 1;
        if !head.keep_alive && !head.is_interim() {
            break if pos == buf.len() { End::Clean } else { End::ClosedWithExtra };
        }
    };
    Outcome { messages, end }
}

struct Case {
    kind: &'static str,
    ty: String,
    title: String,
    raw: Vec<u8>,
    llhttp_rejects: bool,
    method: Method,
}

/// Offsets llhttp's log mentions: `off=N` and `off=N len=L` (span end).
fn log_needs_crlf(log: &[serde_json::Value], raw_len: usize) -> bool {
    log.iter().filter_map(|l| l.as_str()).any(|l| {
        let Some(rest) = l.strip_prefix("off=") else {
            return false;
        };
        let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let Ok(off) = num.parse::<usize>() else {
            return false;
        };
        let len = rest
            .split_once(" len=")
            .and_then(|(_, r)| {
                r.chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect::<String>()
                    .parse::<usize>()
                    .ok()
            })
            .unwrap_or(0);
        off > raw_len || off + len > raw_len
    })
}

fn load() -> Vec<Case> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| {
        panic!(
            "llhttp vectors missing at {VECTORS}: {e}. The conformance suite must not be skipped."
        )
    });
    let doc: serde_json::Value = serde_json::from_str(&text).expect("vector file is JSON");
    let cases = doc["cases"].as_array().expect("`cases` array");
    cases
        .iter()
        .map(|c| {
            let ty = c["type"].as_str().expect("type").to_string();
            let mut raw = base64::engine::general_purpose::STANDARD
                .decode(c["raw_b64"].as_str().expect("raw_b64"))
                .expect("base64");
            let log = c["llhttp_log"].as_array().cloned().unwrap_or_default();
            if log_needs_crlf(&log, raw.len()) {
                raw.extend_from_slice(b"\r\n");
            }
            let skip_body = c["meta"]["skipBody"].as_bool().unwrap_or(false);
            Case {
                kind: if ty.starts_with("request") { "request" } else { "response" },
                title: c["title"].as_str().expect("title").to_string(),
                llhttp_rejects: !c["llhttp_error"].is_null(),
                ty,
                raw,
                method: if skip_body { Method::Head } else { Method::Get },
            }
        })
        .collect()
}

fn drive(case: &Case, raw: &[u8]) -> Outcome {
    let limits = Limits::default();
    if case.kind == "request" {
        drive_requests(raw, &limits)
    } else {
        drive_responses(raw, &limits, case.method)
    }
}

/// Our verdict: `Err(e)` = refused (or the connection closes before the offending bytes),
/// `Ok(())` = accepted. Incomplete inputs are completed with CRLFs to get a verdict on the
/// unfinished head (see module docs).
fn verdict(case: &Case) -> (Result<(), Option<H1Error>>, Outcome) {
    let out = drive(case, &case.raw);
    let v = match &out.end {
        End::Error(e) => Err(Some(e.clone())),
        End::ClosedWithExtra => Err(None),
        End::Clean => Ok(()),
        End::Incomplete => {
            if !case.llhttp_rejects && !case.ty.contains("lenient") {
                Ok(())
            } else {
                let mut completed = None;
                for tail in [&b"\r\n"[..], b"\r\n\r\n"] {
                    let mut raw = case.raw.clone();
                    raw.extend_from_slice(tail);
                    if let End::Error(e) = drive(case, &raw).end {
                        completed = Some(e);
                        break;
                    }
                }
                match completed {
                    Some(e) => Err(Some(e)),
                    None => Ok(()),
                }
            }
        }
    };
    (v, out)
}

#[test]
fn llhttp_vectors() {
    let cases = load();
    assert!(cases.len() > 200, "expected the full llhttp vector set");
    let mut used = vec![false; DIVERGENCES.len()];
    let mut used_accept = vec![false; ACCEPTED_DESPITE_LLHTTP.len()];
    let (mut rejected_ok, mut accepted_ok, mut lenient_ok, mut diverged) = (0, 0, 0, 0);
    let mut messages = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let (v, out) = verdict(case);
        messages += out.messages;
        let lenient = case.ty.contains("lenient");
        let row = DIVERGENCES.iter().position(|(k, t, _, _)| *k == case.kind && *t == case.title);
        let accept_row = ACCEPTED_DESPITE_LLHTTP
            .iter()
            .position(|(k, t, _)| *k == case.kind && *t == case.title);
        if let Some(i) = accept_row {
            used_accept[i] = true;
            if v.is_ok() {
                diverged += 1;
            } else {
                failures.push(format!(
                    "[{}] {:?}: listed as accepted despite llhttp, but we refuse: {:?}",
                    case.ty, case.title, v
                ));
            }
        } else if case.llhttp_rejects || lenient {
            if v.is_ok() {
                failures.push(format!(
                    "[{}] {:?}: llhttp {} but we accept ({:?})",
                    case.ty,
                    case.title,
                    if lenient { "needs leniency" } else { "rejects" },
                    out
                ));
            } else if lenient {
                lenient_ok += 1;
            } else {
                rejected_ok += 1;
            }
        } else if let Some(i) = row {
            used[i] = true;
            let want = &DIVERGENCES[i].2;
            match &v {
                Err(Some(e)) if e == want => diverged += 1,
                _ => failures.push(format!(
                    "[{}] {:?}: listed divergence expects {:?}, got {:?} ({:?})",
                    case.ty, case.title, want, v, out
                )),
            }
        } else if v.is_ok() {
            accepted_ok += 1;
        } else {
            failures.push(format!(
                "[{}] {:?}: llhttp accepts, we refuse with {:?}; add a DIVERGENCES row if \
                 deliberate:\n    (\"{}\", {:?}, H1Error::{:?}, \"\"),",
                case.ty,
                case.title,
                v,
                case.kind,
                case.title,
                v.clone().err().flatten().unwrap_or(H1Error::BadRequestLine)
            ));
        }
    }
    for (i, u) in used.iter().enumerate() {
        if !*u {
            failures.push(format!("unused DIVERGENCES row: {:?}", DIVERGENCES[i].1));
        }
    }
    for (i, u) in used_accept.iter().enumerate() {
        if !*u {
            failures.push(format!(
                "unused ACCEPTED_DESPITE_LLHTTP row: {:?}",
                ACCEPTED_DESPITE_LLHTTP[i].1
            ));
        }
    }
    println!(
        "llhttp conformance: {} cases ({} messages completed); {} rejected like llhttp, {} lenient-only rejected, \
         {} accepted like llhttp, {} deliberate divergences ({} + {} table rows)",
        cases.len(),
        messages,
        rejected_ok,
        lenient_ok,
        accepted_ok,
        diverged,
        DIVERGENCES.len(),
        ACCEPTED_DESPITE_LLHTTP.len()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(rejected_ok + lenient_ok + accepted_ok + diverged, cases.len());
    // Pinned so that any change in behaviour is visible in review.
    assert_eq!(
        (cases.len(), rejected_ok, lenient_ok, accepted_ok, diverged),
        (251, 90, 37, 61, 63)
    );
}
