//! Response head parser: upstream bytes → [`ResponseHead`] (RFC 9112 §4, §6.3, §9.3).
//!
//! Where it sits: on the upstream side of `core`'s exchange. After writing a request to an
//! upstream connection, `core` calls [`parse_response`] on what it reads back until
//! `Complete`, skips interim `1xx` heads, and frames the body with [`ResponseHead::body`].
//! `keep_alive == false` means the pooled connection must be closed afterwards.
//!
//! What it does not do: no body reading, no I/O, no header rewriting. Any malformed head is
//! an error (`InvalidResponse` / `InvalidStatus`, 502 to the client), never repaired.

use std::mem::MaybeUninit;

use super::framing::{merge_content_length, TransferCodings};
use super::head::{has_bare_lf, leading_empty_line, lines_end_in_crlf, looks_like_http_version};
use super::headers::{collect_connection, ConnectionFlags};
use super::{HeaderSpan, Method, Parsed, ResponseBody, Version};
use crate::span::span_in;
use crate::{H1Error, Limits, Span};

/// A parsed response head. Spans point into the buffer given to [`parse_response`].
#[derive(Debug, Default)]
pub struct ResponseHead {
    /// 1.0 or 1.1.
    pub version: Version,
    /// Status code, 100..=599.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: Span,
    /// All header fields in order.
    pub headers: Vec<HeaderSpan>,
    /// Bytes of the head including the final CRLFCRLF (and a skipped leading CRLF).
    pub head_len: usize,
    /// Body framing per RFC 9112 §6.3.
    pub body: ResponseBody,
    /// Whether the upstream connection may be reused after this response.
    pub keep_alive: bool,
    /// Tokens listed in Connection header(s).
    pub connection_tokens: Vec<Span>,
}

impl ResponseHead {
    /// First value of header `name` (ASCII case-insensitive).
    pub fn header<'a>(&self, buf: &'a [u8], name: &str) -> Option<&'a [u8]> {
        let name = name.as_bytes();
        self.headers
            .iter()
            .find(|h| h.name.get(buf).eq_ignore_ascii_case(name))
            .map(|h| h.value.get(buf))
    }

    /// True for 1xx interim responses (another head follows).
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status)
    }

    /// Reset every field, keeping vector capacity.
    pub fn clear(&mut self) {
        self.version = Version::Http11;
        self.status = 0;
        self.reason = Span::default();
        self.headers.clear();
        self.head_len = 0;
        self.body = ResponseBody::None;
        self.keep_alive = false;
        self.connection_tokens.clear();
    }
}

/// Parse a response head at the start of `buf`; `request_method` is the method of the
/// request this answers (HEAD responses have no body).
pub fn parse_response(
    buf: &[u8],
    limits: &Limits,
    request_method: Method,
    head: &mut ResponseHead,
) -> Result<Parsed, H1Error> {
    head.clear();
    let skip = match leading_empty_line(buf) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Parsed::Partial),
        Err(_) => return Err(H1Error::InvalidResponse),
    };
    let data = buf.get(skip..).unwrap_or(&[]);
    let mut slots =
        [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; Limits::HEADER_CAPACITY];
    let slots = slots.get_mut(..limits.header_slots()).unwrap_or(&mut []);
    let mut resp = httparse::Response::new(&mut []);
    let config = httparse::ParserConfig::default(); // every leniency off
    let n = match config.parse_response_with_uninit_headers(&mut resp, data, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() > limits.max_header_bytes {
                return Err(H1Error::HeaderSectionTooLarge);
            }
            if has_bare_lf(data) {
                return Err(H1Error::InvalidResponse);
            }
            return Ok(Parsed::Partial);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(H1Error::TooManyHeaders),
        Err(httparse::Error::Status) => return Err(H1Error::InvalidStatus),
        Err(httparse::Error::Version) => {
            let v = data.split(|&b| b == b' ').next().unwrap_or(&[]);
            return Err(if looks_like_http_version(v) {
                H1Error::UnsupportedVersion
            } else {
                H1Error::InvalidResponse
            });
        }
        // obs-fold, bare CR, NUL, bad names or values: all malformed upstream heads.
        Err(_) => return Err(H1Error::InvalidResponse),
    };
    head.head_len = skip + n;
    if head.head_len > limits.max_header_bytes {
        return Err(H1Error::HeaderSectionTooLarge);
    }
    // RFC 9112 §2.2: strict CRLF line endings.
    if !lines_end_in_crlf(data, n, resp.headers.iter().map(|h| h.name.as_bytes())) {
        return Err(H1Error::InvalidResponse);
    }
    let (Some(minor), Some(status), Some(reason)) = (resp.version, resp.code, resp.reason) else {
        return Err(H1Error::InvalidResponse);
    };
    // RFC 9110 §15: status-code is 3 digits, classes 1xx–5xx.
    if !(100..=599).contains(&status) {
        return Err(H1Error::InvalidStatus);
    }
    head.status = status;
    head.version = if minor == 0 { Version::Http10 } else { Version::Http11 };
    head.reason = span_in(buf, reason.as_bytes()).unwrap_or_default();
    // We never ask for an upgrade, so a 101 (RFC 9110 §15.2.2) is a protocol error here.
    if status == 101 {
        return Err(H1Error::UpgradeNotSupported);
    }

    let mut content_length: Option<u64> = None;
    let mut cl_error = None;
    let mut codings = TransferCodings::default();
    let mut conn = ConnectionFlags::default();
    head.headers.reserve(resp.headers.len());
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        let (Some(n_sp), Some(v_sp)) = (span_in(buf, name), span_in(buf, h.value)) else {
            return Err(H1Error::InvalidResponse);
        };
        head.headers.push(HeaderSpan { name: n_sp, value: v_sp });
        match name.len() {
            10 if name.eq_ignore_ascii_case(b"connection") => {
                collect_connection(h.value, v_sp, &mut head.connection_tokens, &mut conn);
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                match merge_content_length(h.value, content_length) {
                    Ok(v) => content_length = Some(v),
                    Err(e) => cl_error = Some(e),
                }
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => codings.add(h.value),
            _ => {}
        }
    }

    // RFC 9112 §9.3 persistence, before framing may force a close.
    let mut keep_alive = match head.version {
        Version::Http11 => !conn.close,
        Version::Http10 => conn.keep_alive && !conn.close,
    };

    // RFC 9112 §6.3, in order.
    head.body =
        if request_method == Method::Head || head.is_interim() || status == 204 || status == 304 {
            // Rule 1: no body, whatever the framing fields say.
            ResponseBody::None
        } else if codings.present {
            if codings.chunked_twice || codings.malformed {
                return Err(H1Error::InvalidResponse);
            }
            // RFC 9112 §6.1: TE in an HTTP/1.0 message → framing faulty, close afterwards.
            if head.version == Version::Http10 {
                keep_alive = false;
            }
            if codings.count > 0 && codings.last_chunked {
                // We cannot undo codings applied before chunked (and TE is hop-by-hop).
                if codings.other {
                    return Err(H1Error::UnknownTransferCoding);
                }
                // Rule 3: TE overrides CL; such a message may be smuggling: close afterwards.
                if content_length.is_some() || cl_error.is_some() {
                    keep_alive = false;
                }
                ResponseBody::Chunked
            } else {
                // Rule 4 (response): chunked not final → read until close.
                keep_alive = false;
                ResponseBody::CloseDelimited
            }
        } else if cl_error.is_some() {
            // Rule 5: invalid or differing Content-Length → unrecoverable.
            return Err(H1Error::InvalidResponse);
        } else if let Some(n) = content_length {
            ResponseBody::Length(n)
        } else {
            // Rule 8: read until close.
            keep_alive = false;
            ResponseBody::CloseDelimited
        };
    head.keep_alive = keep_alive;
    Ok(Parsed::Complete)
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
