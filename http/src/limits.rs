//! Explicit size limits for HTTP/1.x parsing.
//!
//! Where it sits: `core` builds one [`Limits`] per listener (from config compiled by `adapter`)
//! and passes it to every `http::h1` parser call. Each limit, when exceeded, yields its own
//! [`crate::H1Error`] variant, so the reply status says which limit was hit.
//!
//! What it does not do: no body-size limits (bodies stream through `core`, which enforces
//! its own caps) and no timeouts (time is `core`'s business).

/// Per-connection parsing limits. All sizes are in bytes unless named otherwise.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest request-line (method SP target SP version CRLF) → `UriTooLong` (414).
    pub max_request_line: usize,
    /// Largest whole head, request-line or status-line included → `HeaderSectionTooLarge` (431).
    pub max_header_bytes: usize,
    /// Most header fields in one head → `TooManyHeaders` (431).
    /// Values above [`Limits::HEADER_CAPACITY`] behave as `HEADER_CAPACITY`.
    pub max_headers: usize,
    /// Longest chunk-extension text on one chunk-size line → `ChunkExtensionTooLong` (400).
    pub max_chunk_ext_bytes: usize,
    /// Largest trailer section of a chunked body → `TrailersTooLarge` (431).
    pub max_trailer_bytes: usize,
}

impl Limits {
    /// Size of the parser's on-stack header table: the effective ceiling for `max_headers`.
    pub const HEADER_CAPACITY: usize = 256;

    /// `max_headers`, clamped to what the on-stack header table can hold.
    pub(crate) fn header_slots(&self) -> usize {
        self.max_headers.min(Self::HEADER_CAPACITY)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8 * 1024,
            max_header_bytes: 60 * 1024,
            max_headers: 100,
            max_chunk_ext_bytes: 4096,
            max_trailer_bytes: 16 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let l = Limits::default();
        assert_eq!(l.max_request_line, 8192);
        assert_eq!(l.max_header_bytes, 61440);
        assert_eq!(l.max_headers, 100);
        assert_eq!(l.max_chunk_ext_bytes, 4096);
        assert_eq!(l.max_trailer_bytes, 16384);
        assert_eq!(l.header_slots(), 100);
        let big = Limits { max_headers: 10_000, ..Limits::default() };
        assert_eq!(big.header_slots(), Limits::HEADER_CAPACITY);
    }
}
