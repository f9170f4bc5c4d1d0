//! HTTP/1.x: head parsers, chunked decoder and encoders (RFC 9112, RFC 9110).
//!
//! Where it sits: `core::conn::h1` reads bytes into its buffer and calls
//! [`parse_request`] until it gets [`Parsed::Complete`]; the body is then framed by
//! [`RequestHead::body`] (a length, or [`ChunkedDecoder`]). Upstream responses go through
//! [`parse_response`] the same way, and everything written to a socket is built with the
//! functions in [`encode`]. See `LIFECYCLE.md` beside this file for the keep-alive cycle.
//!
//! What it does not do: no I/O, no buffering, no header rewriting (`core` decides what to
//! forward, using [`is_hop_by_hop`] and [`is_connection_token`]), no content codings.

pub mod chunked;
pub mod encode;
mod framing;
mod head;
pub mod headers;
pub mod request;
pub mod response;
mod target;

pub use chunked::{ChunkStep, ChunkedDecoder};
pub use encode::{
    end_head, write_chunk_end, write_chunk_header, write_content_length, write_header,
    write_last_chunk, write_request_line, write_status_line, write_u64,
};
pub use headers::{is_connection_token, is_hop_by_hop};
pub use request::{parse_request, RequestHead};
pub use response::{parse_response, ResponseHead};

use crate::Span;

/// Protocol version of a message. Only 1.0 and 1.1 are accepted; others give
/// [`crate::H1Error::UnsupportedVersion`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    #[default]
    Http11,
}

/// Request method. `Other` is any other valid token; its bytes are at
/// [`RequestHead::method_span`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// GET
    #[default]
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
    /// CONNECT (always refused by the parser: Turnpike is not a forward proxy)
    Connect,
    /// Any other token (methods are case-sensitive, RFC 9110 §9.1)
    Other,
}

impl Method {
    /// Classify method bytes (case-sensitive, RFC 9110 §9.1).
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            b"PATCH" => Method::Patch,
            b"TRACE" => Method::Trace,
            b"CONNECT" => Method::Connect,
            _ => Method::Other,
        }
    }

    /// Canonical bytes for the named methods; `None` for `Other`.
    pub fn as_bytes(&self) -> Option<&'static [u8]> {
        Some(match self {
            Method::Get => b"GET",
            Method::Head => b"HEAD",
            Method::Post => b"POST",
            Method::Put => b"PUT",
            Method::Delete => b"DELETE",
            Method::Options => b"OPTIONS",
            Method::Patch => b"PATCH",
            Method::Trace => b"TRACE",
            Method::Connect => b"CONNECT",
            Method::Other => return None,
        })
    }
}

/// How the request body is framed (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestBody {
    /// No body (no Content-Length, no Transfer-Encoding).
    #[default]
    None,
    /// Exactly this many bytes follow the head (may be 0).
    Length(u64),
    /// Chunked: feed the bytes after the head to a [`ChunkedDecoder`].
    Chunked,
}

/// How the response body is framed (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseBody {
    /// No body: HEAD request, 1xx, 204, 304.
    #[default]
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked: use a [`ChunkedDecoder`].
    Chunked,
    /// Everything until the upstream closes; the connection cannot be reused.
    CloseDelimited,
}

/// One header field: name and value spans into the read buffer. The value has no leading or
/// trailing whitespace.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeaderSpan {
    /// Field name as received (case preserved).
    pub name: Span,
    /// Field value, OWS trimmed.
    pub value: Span,
}

/// Outcome of a head parse that did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head is complete and the head struct is filled in.
    Complete,
    /// Need more bytes: call again with the same bytes plus more. Not an error.
    Partial,
}
