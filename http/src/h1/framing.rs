//! Message framing fields: Content-Length and Transfer-Encoding (RFC 9112 §6).
//!
//! Where it sits: called by the request and response head parsers for each
//! `Content-Length` / `Transfer-Encoding` field line; the result becomes
//! `RequestBody` / `ResponseBody`, which tells `core` how to find the end of the body.
//!
//! What it does not do: no body decoding (see `chunked.rs`), no content codings.

use super::head::is_token;
use super::headers::list_items;
use crate::H1Error;

/// Parse one Content-Length field value and merge it with an earlier one.
/// RFC 9110 §8.6: `1*DIGIT`; RFC 9112 §6.3 rule 5: a list of identical values may be
/// accepted as one, differing values are unrecoverable (400).
pub(crate) fn merge_content_length(value: &[u8], seen: Option<u64>) -> Result<u64, H1Error> {
    let mut result = seen;
    for (s, e) in list_items(value) {
        let item = value.get(s..e).unwrap_or(&[]);
        let n = parse_decimal(item).ok_or(H1Error::InvalidContentLength)?;
        match result {
            Some(prev) if prev != n => return Err(H1Error::DuplicateContentLength),
            _ => result = Some(n),
        }
    }
    result.ok_or(H1Error::InvalidContentLength)
}

/// `1*DIGIT` as u64; `None` on empty, non-digit, sign or overflow.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Transfer codings seen so far, over all Transfer-Encoding field lines of a message.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TransferCodings {
    /// A Transfer-Encoding field was present (even an empty one).
    pub present: bool,
    /// Number of non-empty codings.
    pub count: u32,
    /// `chunked` seen at least once.
    pub chunked_seen: bool,
    /// `chunked` seen more than once.
    pub chunked_twice: bool,
    /// The most recent coding is `chunked`.
    pub last_chunked: bool,
    /// A coding other than `chunked` appeared.
    pub other: bool,
    /// A coding outside the IANA registry appeared (RFC 9110 §18.4).
    pub unrecognized: bool,
    /// A list item was not a token.
    pub malformed: bool,
}

impl TransferCodings {
    /// Record one Transfer-Encoding field value (RFC 9112 §6.1, list of transfer-coding).
    pub(crate) fn add(&mut self, value: &[u8]) {
        self.present = true;
        for (s, e) in list_items(value) {
            if s == e {
                continue; // RFC 9110 §5.6.1: empty list elements are ignored
            }
            let item = value.get(s..e).unwrap_or(&[]);
            let name = match item.iter().position(|&b| b == b';') {
                Some(i) => item.get(..i).unwrap_or(&[]).trim_ascii_end(),
                None => item,
            };
            if !is_token(name) {
                self.malformed = true;
            }
            self.count += 1;
            if name.eq_ignore_ascii_case(b"chunked") {
                self.chunked_twice |= self.chunked_seen;
                self.chunked_seen = true;
                self.last_chunked = true;
            } else {
                self.other = true;
                self.last_chunked = false;
                self.unrecognized |= !is_registered_coding(name);
            }
        }
    }

    /// Request-side verdict. RFC 9112 §6.3 rule 4: if the final coding is not chunked the
    /// server MUST respond 400 and close; RFC 9112 §7: a sender MUST NOT apply chunked more
    /// than once; RFC 9112 §6.1: a server that receives a coding it does not understand
    /// SHOULD respond 501.
    pub(crate) fn request_verdict(&self) -> Result<(), H1Error> {
        if self.malformed {
            return Err(H1Error::InvalidHeaderValue);
        }
        // RFC 9112 §6.1: a coding the server does not understand → 501, whatever its position.
        if self.unrecognized {
            return Err(H1Error::UnknownTransferCoding);
        }
        if self.count == 0 || !self.last_chunked {
            return Err(H1Error::TransferEncodingNotChunkedLast);
        }
        if self.chunked_twice {
            return Err(H1Error::DuplicateChunked);
        }
        if self.other {
            return Err(H1Error::UnknownTransferCoding);
        }
        Ok(())
    }
}

/// Codings of the HTTP Transfer Coding Registry (RFC 9110 §18.4, RFC 9112 §7), which this
/// gateway recognises even though it decodes only `chunked`.
fn is_registered_coding(name: &[u8]) -> bool {
    [&b"compress"[..], b"deflate", b"gzip", b"x-compress", b"x-gzip", b"identity", b"trailers"]
        .iter()
        .any(|known| name.eq_ignore_ascii_case(known))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_values() {
        assert_eq!(merge_content_length(b"0", None), Ok(0));
        assert_eq!(merge_content_length(b"003", None), Ok(3));
        assert_eq!(merge_content_length(b"42, 42", None), Ok(42));
        assert_eq!(merge_content_length(b"42", Some(42)), Ok(42));
        assert_eq!(merge_content_length(b"18446744073709551615", None), Ok(u64::MAX));
        for bad in [&b""[..], b"+1", b"-1", b"1 2", b"0x10", b"18446744073709551616", b"1,", b"a"] {
            assert_eq!(
                merge_content_length(bad, None),
                Err(H1Error::InvalidContentLength),
                "{bad:?}"
            );
        }
        assert_eq!(merge_content_length(b"1, 2", None), Err(H1Error::DuplicateContentLength));
        assert_eq!(merge_content_length(b"2", Some(1)), Err(H1Error::DuplicateContentLength));
    }

    fn verdict(values: &[&[u8]]) -> Result<(), H1Error> {
        let mut t = TransferCodings::default();
        for v in values {
            t.add(v);
        }
        t.request_verdict()
    }

    #[test]
    fn transfer_codings() {
        assert_eq!(verdict(&[b"chunked"]), Ok(()));
        assert_eq!(verdict(&[b"CHUNKED"]), Ok(()));
        assert_eq!(verdict(&[b", chunked ,"]), Ok(()));
        assert_eq!(verdict(&[b"gzip, chunked"]), Err(H1Error::UnknownTransferCoding));
        assert_eq!(verdict(&[b"deflate", b"chunked"]), Err(H1Error::UnknownTransferCoding));
        assert_eq!(verdict(&[b"chunked, gzip"]), Err(H1Error::TransferEncodingNotChunkedLast));
        assert_eq!(verdict(&[b"identity"]), Err(H1Error::TransferEncodingNotChunkedLast));
        assert_eq!(verdict(&[b""]), Err(H1Error::TransferEncodingNotChunkedLast));
        assert_eq!(verdict(&[b"chunkedchunked"]), Err(H1Error::UnknownTransferCoding));
        assert_eq!(verdict(&[b"x-unknown"]), Err(H1Error::UnknownTransferCoding));
        assert_eq!(verdict(&[b"x-unknown, chunked"]), Err(H1Error::UnknownTransferCoding));
        assert_eq!(verdict(&[b"chunked", b"chunked"]), Err(H1Error::DuplicateChunked));
        assert_eq!(verdict(&[b"chun ked"]), Err(H1Error::InvalidHeaderValue));
    }
}
