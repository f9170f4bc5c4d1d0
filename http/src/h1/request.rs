//! Request head parser: bytes → [`RequestHead`] (RFC 9112 §2–§6, RFC 9110 §7.2).
//!
//! Where it sits: first step after connection bytes arrive. `core::conn::h1` calls
//! [`parse_request`] on the unconsumed part of its read buffer until it returns
//! `Complete`, then routes on the spans in [`RequestHead`] and frames the body with
//! [`RequestHead::body`]; the next request starts at `head_len + body length`.
//!
//! How: `httparse` tokenises the head with its strict settings into an on-stack header
//! table (no allocation); this module closes `httparse`'s lenient gaps (bare LF, repeated
//! empty lines), then makes one pass over the fields for Host / Content-Length /
//! Transfer-Encoding / Connection / Expect / Upgrade.
//!
//! What it does not do: no body reading, no I/O, no header rewriting, no routing.

use std::mem::MaybeUninit;

use super::framing::{merge_content_length, TransferCodings};
use super::head::{
    diagnose_headers, diagnose_request_line, first_line_exceeds, has_bare_lf, leading_empty_line,
    lines_end_in_crlf,
};
use super::headers::{collect_connection, ConnectionFlags};
use super::target::{check_host, parse_target};
use super::{HeaderSpan, Method, Parsed, RequestBody, Version};
use crate::span::span_in;
use crate::{H1Error, Limits, Span};

/// A parsed request head. Spans point into the buffer given to [`parse_request`].
/// Reuse one per connection: vectors are cleared, not reallocated.
#[derive(Debug, Default)]
pub struct RequestHead {
    /// Method, classified.
    pub method: Method,
    /// Method bytes.
    pub method_span: Span,
    /// Raw request-target as received.
    pub target: Span,
    /// Path without query. Absolute-form: the path part ("/" if empty). Asterisk-form: "*".
    pub path: Span,
    /// Query after '?', without the '?'.
    pub query: Option<Span>,
    /// 1.0 or 1.1.
    pub version: Version,
    /// All header fields in order.
    pub headers: Vec<HeaderSpan>,
    /// Bytes of the head including the final CRLFCRLF (and a skipped leading CRLF).
    pub head_len: usize,
    /// Body framing.
    pub body: RequestBody,
    /// Host header value, or the authority of an absolute-form target (which wins,
    /// RFC 9112 §3.2.2).
    pub host: Option<Span>,
    /// RFC 9112 §9.3: 1.1 persists unless `close`; 1.0 only with `keep-alive`.
    pub keep_alive: bool,
    /// Tokens listed in Connection header(s), OWS trimmed (compare case-insensitively).
    pub connection_tokens: Vec<Span>,
    /// `Expect: 100-continue` present.
    pub expect_continue: bool,
    /// `Upgrade` header present. (`parse_request` refuses such requests for now, so this is
    /// only ever true on a head that came back with an error.)
    pub upgrade: bool,
}

impl RequestHead {
    /// First value of header `name` (ASCII case-insensitive).
    pub fn header<'a>(&self, buf: &'a [u8], name: &str) -> Option<&'a [u8]> {
        let name = name.as_bytes();
        self.headers
            .iter()
            .find(|h| h.name.get(buf).eq_ignore_ascii_case(name))
            .map(|h| h.value.get(buf))
    }

    /// Reset every field, keeping vector capacity.
    pub fn clear(&mut self) {
        self.method = Method::Get;
        self.method_span = Span::default();
        self.target = Span::default();
        self.path = Span::default();
        self.query = None;
        self.version = Version::Http11;
        self.headers.clear();
        self.head_len = 0;
        self.body = RequestBody::None;
        self.host = None;
        self.keep_alive = false;
        self.connection_tokens.clear();
        self.expect_continue = false;
        self.upgrade = false;
    }
}

fn to_span(base: &[u8], sub: &[u8]) -> Result<Span, H1Error> {
    span_in(base, sub).ok_or(H1Error::HeaderSectionTooLarge)
}

/// Parse a request head at the start of `buf`.
///
/// `Ok(Partial)`: need more bytes (limits are still enforced on what is there).
/// `Ok(Complete)`: `head` is filled in; the body starts at `head.head_len`.
/// `Err(e)`: answer `e.status()` and close the connection.
pub fn parse_request(
    buf: &[u8],
    limits: &Limits,
    head: &mut RequestHead,
) -> Result<Parsed, H1Error> {
    head.clear();
    let Some(skip) = leading_empty_line(buf)? else {
        return Ok(Parsed::Partial);
    };
    let data = buf.get(skip..).unwrap_or(&[]);

    let mut slots =
        [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; Limits::HEADER_CAPACITY];
    let slots = slots.get_mut(..limits.header_slots()).unwrap_or(&mut []);
    let mut req = httparse::Request::new(&mut []);
    let config = httparse::ParserConfig::default(); // every leniency off
    let status = config.parse_request_with_uninit_headers(&mut req, data, slots);
    let n = match status {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            // RFC 9112 §3: a server that receives a request-target longer than it wishes to
            // parse MUST respond 414; checked before the line is complete.
            if first_line_exceeds(data, limits.max_request_line) {
                return Err(H1Error::UriTooLong);
            }
            // RFC 9110 §15.5.20 / RFC 6585 §5: header section too large → 431.
            if buf.len() > limits.max_header_bytes {
                return Err(H1Error::HeaderSectionTooLarge);
            }
            if has_bare_lf(data) {
                return Err(H1Error::BareLf);
            }
            return Ok(Parsed::Partial);
        }
        Err(e) => return Err(map_error(e, data, limits)),
    };
    let head_len = skip + n;
    if head_len > limits.max_header_bytes {
        return Err(H1Error::HeaderSectionTooLarge);
    }
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(H1Error::BadRequestLine);
    };
    // method SP target SP "HTTP/1.x" (strict config: exactly one SP each).
    if method.len() + target.len() + 10 > limits.max_request_line {
        return Err(H1Error::UriTooLong);
    }
    // RFC 9112 §2.2: we do not accept a bare LF as a line terminator (strict).
    if !lines_end_in_crlf(data, n, req.headers.iter().map(|h| h.name.as_bytes())) {
        return Err(H1Error::BareLf);
    }
    head.head_len = head_len;
    head.version = if minor == 0 { Version::Http10 } else { Version::Http11 };
    head.method = Method::from_bytes(method.as_bytes());
    head.method_span = to_span(buf, method.as_bytes())?;
    head.target = to_span(buf, target.as_bytes())?;
    // RFC 9112 §3.2.3 authority-form is only for CONNECT, and we are not a forward proxy.
    if head.method == Method::Connect {
        return Err(H1Error::ConnectNotSupported);
    }
    let t = parse_target(target.as_bytes(), head.target, head.method)?;
    head.path = t.path;
    head.query = t.query;

    let mut content_length: Option<u64> = None;
    let mut codings = TransferCodings::default();
    let mut host_count = 0u32;
    let mut conn = ConnectionFlags::default();
    head.headers.reserve(req.headers.len());
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        let hs = HeaderSpan { name: to_span(buf, name)?, value: to_span(buf, h.value)? };
        head.headers.push(hs);
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                host_count += 1;
                head.host = Some(hs.value);
                // RFC 9110 §7.2 / RFC 9112 §3.2: invalid Host → 400.
                check_host(h.value)?;
            }
            6 if name.eq_ignore_ascii_case(b"expect") => {
                head.expect_continue |= h.value.eq_ignore_ascii_case(b"100-continue");
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => head.upgrade = true,
            10 if name.eq_ignore_ascii_case(b"connection") => {
                collect_connection(h.value, hs.value, &mut head.connection_tokens, &mut conn);
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                content_length = Some(merge_content_length(h.value, content_length)?);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => codings.add(h.value),
            _ => {}
        }
    }

    // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host, and to
    // any request with more than one Host field line or an invalid Host value.
    if host_count > 1 {
        return Err(H1Error::DuplicateHost);
    }
    if host_count == 0 && head.version == Version::Http11 {
        return Err(H1Error::MissingHost);
    }
    // RFC 9112 §3.2.2: with an absolute-form target, the Host header is ignored and the
    // target's authority is used instead.
    if let Some(auth) = t.authority {
        head.host = Some(auth);
    }

    head.body = if codings.present {
        // RFC 9112 §6.1: a server that receives TE in an HTTP/1.0 request MUST treat the
        // framing as faulty; we refuse it.
        if head.version == Version::Http10 {
            return Err(H1Error::TransferEncodingOnHttp10);
        }
        // RFC 9112 §6.1: a server MAY reject a request with both CL and TE (smuggling).
        if content_length.is_some() {
            return Err(H1Error::ContentLengthAndTransferEncoding);
        }
        codings.request_verdict()?;
        RequestBody::Chunked
    } else {
        match content_length {
            Some(n) => RequestBody::Length(n),
            None => RequestBody::None,
        }
    };

    // RFC 9110 §7.8: Upgrade is optional to honour; until WebSocket support lands we
    // refuse rather than silently ignore it (the client would wait for a 101).
    if head.upgrade {
        return Err(H1Error::UpgradeNotSupported);
    }

    // RFC 9112 §9.3: persistence.
    head.keep_alive = match head.version {
        Version::Http11 => !conn.close,
        Version::Http10 => conn.keep_alive && !conn.close,
    };
    Ok(Parsed::Complete)
}

/// Turn an httparse error into the precise variant (slow path).
fn map_error(e: httparse::Error, data: &[u8], limits: &Limits) -> H1Error {
    use httparse::Error as E;
    if first_line_exceeds(data, limits.max_request_line) {
        return H1Error::UriTooLong;
    }
    match e {
        E::TooManyHeaders => H1Error::TooManyHeaders,
        E::Token | E::Version | E::Status => diagnose_request_line(data),
        E::HeaderName | E::HeaderValue | E::NewLine => match diagnose_request_line_ok(data) {
            Some(err) => err,
            None => diagnose_headers(data),
        },
    }
}

/// If the request-line itself is bad, say why; `None` if it looks fine.
fn diagnose_request_line_ok(data: &[u8]) -> Option<H1Error> {
    let line_end = data.iter().position(|&b| b == b'\n')?;
    let line = data.get(..line_end)?;
    if line.ends_with(b"HTTP/1.1\r") || line.ends_with(b"HTTP/1.0\r") {
        None
    } else {
        Some(diagnose_request_line(data))
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
