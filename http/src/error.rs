//! [`H1Error`]: every way an HTTP/1.x message can be refused, one variant per rule.
//!
//! Where it sits: returned by `http::h1` parsers and the chunked decoder; `core`'s
//! `local_reply` renders a request-side error with [`H1Error::status`] and
//! [`H1Error::reason`] (short text for the JSON error body) and closes the connection.
//! Response-side errors (upstream sent something malformed) report 502.
//!
//! What it does not do: no I/O errors, no policy denials, no upstream connection failures
//! (those live in `core`'s proxy error).

use std::fmt;

/// A protocol violation found while parsing HTTP/1.x. Each variant names one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H1Error {
    // ---- request line ----
    /// Malformed request-line: bad spacing, missing version, more than one leading empty line.
    BadRequestLine,
    /// Method is not a valid token.
    InvalidMethod,
    /// Request-line longer than `Limits::max_request_line`.
    UriTooLong,
    /// Request-target has bytes outside RFC 3986, or a form not allowed for the method.
    InvalidTarget,
    /// Request-target carries a `#fragment`.
    FragmentInTarget,
    /// The path has a `.` or `..` segment, literally or percent-encoded (`%2e`): a gateway must
    /// not let `/api/v1/../admin` leave the API's base path at the backend.
    DotSegmentInPath,
    /// Absolute-form target with `userinfo@` (RFC 9110 §4.2.4).
    UserinfoInTarget,
    /// A well-formed HTTP version other than 1.0 / 1.1 (including the HTTP/2 preface).
    UnsupportedVersion,
    /// CONNECT: Turnpike is not a forward proxy.
    ConnectNotSupported,
    /// `Upgrade` header (WebSocket, h2c): not supported yet. Also an upstream `101`.
    UpgradeNotSupported,
    // ---- head structure ----
    /// Whole head larger than `Limits::max_header_bytes`.
    HeaderSectionTooLarge,
    /// More header fields than `Limits::max_headers`.
    TooManyHeaders,
    /// Header name empty or not a token.
    InvalidHeaderName,
    /// Whitespace between a header name and its colon.
    WhitespaceBeforeColon,
    /// Control character (or DEL) in a header value.
    InvalidHeaderValue,
    /// Obsolete line folding (a line starting with SP / HTAB).
    ObsFold,
    /// CR not followed by LF.
    BareCr,
    /// LF not preceded by CR (strict: we never accept bare LF line endings).
    BareLf,
    /// NUL byte in the head.
    NulByte,
    // ---- framing ----
    /// Both Content-Length and Transfer-Encoding on a request.
    ContentLengthAndTransferEncoding,
    /// Content-Length empty, not digits, signed or overflowing.
    InvalidContentLength,
    /// Several Content-Length values that differ.
    DuplicateContentLength,
    /// Transfer-Encoding whose final coding is not `chunked`.
    TransferEncodingNotChunkedLast,
    /// `chunked` listed more than once.
    DuplicateChunked,
    /// A transfer coding we cannot decode (gzip, deflate, compress, identity, unknown).
    UnknownTransferCoding,
    /// Transfer-Encoding on an HTTP/1.0 request.
    TransferEncodingOnHttp10,
    // ---- host ----
    /// HTTP/1.1 request without Host.
    MissingHost,
    /// More than one Host header.
    DuplicateHost,
    /// Host value (or target authority) that is not `host[:port]`.
    InvalidHost,
    // ---- chunked body ----
    /// Chunk-size missing or with a non-hex byte.
    InvalidChunkSize,
    /// Chunk-size over 16 hex digits.
    ChunkSizeOverflow,
    /// Malformed chunk extension.
    InvalidChunkExtension,
    /// Chunk extensions longer than `Limits::max_chunk_ext_bytes`.
    ChunkExtensionTooLong,
    /// Chunk data not followed by CRLF, or the final CRLF missing.
    InvalidChunkData,
    /// Malformed trailer field.
    InvalidTrailer,
    /// Trailer section larger than `Limits::max_trailer_bytes`.
    TrailersTooLarge,
    // ---- response side ----
    /// Upstream response head malformed.
    InvalidResponse,
    /// Upstream status code not three digits in 100..=599.
    InvalidStatus,
}

impl H1Error {
    /// Status code to answer a client with for this error.
    pub fn status(&self) -> u16 {
        use H1Error::*;
        match self {
            UriTooLong => 414,
            HeaderSectionTooLarge | TooManyHeaders | TrailersTooLarge => 431,
            UnknownTransferCoding | UpgradeNotSupported | ConnectNotSupported => 501,
            UnsupportedVersion => 505,
            InvalidResponse | InvalidStatus => 502,
            _ => 400,
        }
    }

    /// Short human text for error bodies and logs.
    pub fn reason(&self) -> &'static str {
        use H1Error::*;
        match self {
            BadRequestLine => "malformed request line",
            InvalidMethod => "invalid method",
            UriTooLong => "request line too long",
            InvalidTarget => "invalid request target",
            FragmentInTarget => "fragment not allowed in request target",
            DotSegmentInPath => "request path must not contain '.' or '..' segments",
            UserinfoInTarget => "userinfo not allowed in request target",
            UnsupportedVersion => "HTTP version not supported",
            ConnectNotSupported => "CONNECT is not supported",
            UpgradeNotSupported => "protocol upgrade (e.g. WebSocket) is not supported yet",
            HeaderSectionTooLarge => "header section too large",
            TooManyHeaders => "too many header fields",
            InvalidHeaderName => "invalid header name",
            WhitespaceBeforeColon => "whitespace between header name and colon",
            InvalidHeaderValue => "invalid header value",
            ObsFold => "obsolete line folding not allowed",
            BareCr => "CR without LF",
            BareLf => "LF without CR",
            NulByte => "NUL byte in message head",
            ContentLengthAndTransferEncoding => "both Content-Length and Transfer-Encoding",
            InvalidContentLength => "invalid Content-Length",
            DuplicateContentLength => "conflicting Content-Length values",
            TransferEncodingNotChunkedLast => "Transfer-Encoding must end with chunked",
            DuplicateChunked => "chunked applied more than once",
            UnknownTransferCoding => "transfer coding not supported",
            TransferEncodingOnHttp10 => "Transfer-Encoding not allowed in HTTP/1.0",
            MissingHost => "missing Host header",
            DuplicateHost => "more than one Host header",
            InvalidHost => "invalid Host",
            InvalidChunkSize => "invalid chunk size",
            ChunkSizeOverflow => "chunk size too large",
            InvalidChunkExtension => "invalid chunk extension",
            ChunkExtensionTooLong => "chunk extension too long",
            InvalidChunkData => "chunk data not terminated by CRLF",
            InvalidTrailer => "invalid trailer field",
            TrailersTooLarge => "trailer section too large",
            InvalidResponse => "malformed upstream response",
            InvalidStatus => "invalid upstream status code",
        }
    }
}

impl fmt::Display for H1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason(), self.status())
    }
}

impl std::error::Error for H1Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        assert_eq!(H1Error::UriTooLong.status(), 414);
        assert_eq!(H1Error::TooManyHeaders.status(), 431);
        assert_eq!(H1Error::HeaderSectionTooLarge.status(), 431);
        assert_eq!(H1Error::TrailersTooLarge.status(), 431);
        assert_eq!(H1Error::UnsupportedVersion.status(), 505);
        assert_eq!(H1Error::UpgradeNotSupported.status(), 501);
        assert_eq!(H1Error::ConnectNotSupported.status(), 501);
        assert_eq!(H1Error::UnknownTransferCoding.status(), 501);
        assert_eq!(H1Error::ObsFold.status(), 400);
        assert_eq!(H1Error::InvalidResponse.status(), 502);
        assert_eq!(
            H1Error::UpgradeNotSupported.reason(),
            "protocol upgrade (e.g. WebSocket) is not supported yet"
        );
        assert_eq!(H1Error::MissingHost.to_string(), "missing Host header (400)");
    }
}
