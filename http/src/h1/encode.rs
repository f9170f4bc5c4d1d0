//! HTTP/1.1 encoders: heads and chunk framing, appended to a caller's `Vec<u8>`.
//!
//! Where it sits: last step of the flow. `core` builds the upstream request head and the
//! downstream response head (and re-chunks bodies) with these functions, then writes the
//! vector to the socket.
//!
//! What it does not do: no validation of names/values (`core` only forwards bytes that the
//! parsers already validated, or its own constants), no allocation beyond growing `out`,
//! no `format!`.

use super::Version;

/// `{method} {target} HTTP/1.1\r\n`. We always speak HTTP/1.1 upstream.
pub fn write_request_line(out: &mut Vec<u8>, method: &[u8], target: &[u8]) {
    out.reserve(method.len() + target.len() + 11);
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// `HTTP/1.x {status} {reason}\r\n`. `status` is written as three digits (values above 999
/// are written modulo 1000; callers pass real status codes).
pub fn write_status_line(out: &mut Vec<u8>, status: u16, reason: &[u8], version: Version) {
    out.reserve(reason.len() + 15);
    out.extend_from_slice(match version {
        Version::Http10 => b"HTTP/1.0 ",
        Version::Http11 => b"HTTP/1.1 ",
    });
    let s = status % 1000;
    out.extend_from_slice(&[
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
}

/// `{name}: {value}\r\n`
pub fn write_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.reserve(name.len() + value.len() + 4);
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `Content-Length: {len}\r\n`
pub fn write_content_length(out: &mut Vec<u8>, len: u64) {
    out.extend_from_slice(b"Content-Length: ");
    write_u64(out, len);
    out.extend_from_slice(b"\r\n");
}

/// `n` in decimal, no allocation.
pub fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or(&[]));
}

/// The empty line ending a head.
pub fn end_head(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n");
}

/// `{len:x}\r\n` before `len` bytes of chunk data (`len` should not be 0: that is the
/// last-chunk, see [`write_last_chunk`]).
pub fn write_chunk_header(out: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    let mut n = len as u64;
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = HEX.get((n & 0xf) as usize).copied().unwrap_or(b'0');
        }
        n >>= 4;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or(&[]));
    out.extend_from_slice(b"\r\n");
}

/// CRLF after chunk data.
pub fn write_chunk_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n");
}

/// `0\r\n\r\n`: last-chunk, no trailers, final CRLF.
pub fn write_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::{ChunkedDecoder, Parsed, ResponseHead};
    use crate::{h1, Limits};

    #[test]
    fn request_line_and_headers() {
        let mut out = Vec::new();
        write_request_line(&mut out, b"GET", b"/a?b");
        write_header(&mut out, b"Host", b"example.com");
        write_content_length(&mut out, 0);
        end_head(&mut out);
        assert_eq!(out, b"GET /a?b HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n");
    }

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        write_status_line(&mut out, 200, b"OK", Version::Http11);
        write_status_line(&mut out, 404, b"", Version::Http10);
        write_status_line(&mut out, 101, b"x", Version::Http11);
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nHTTP/1.0 404 \r\nHTTP/1.1 101 x\r\n");
    }

    #[test]
    fn decimals() {
        for n in [0u64, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            let mut cl = Vec::new();
            write_content_length(&mut cl, n);
            assert_eq!(cl, format!("Content-Length: {n}\r\n").as_bytes());
        }
    }

    #[test]
    fn chunk_framing() {
        for n in [1usize, 9, 10, 15, 16, 255, 4096, 65536, usize::MAX] {
            let mut out = Vec::new();
            write_chunk_header(&mut out, n);
            assert_eq!(out, format!("{n:x}\r\n").as_bytes());
        }
        let mut out = Vec::new();
        write_chunk_header(&mut out, 5);
        out.extend_from_slice(b"hello");
        write_chunk_end(&mut out);
        write_last_chunk(&mut out);
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
        // Round trip through the decoder.
        let mut d = ChunkedDecoder::new(&Limits::default());
        let s1 = d.decode(&out).unwrap();
        assert_eq!(s1.data, Some(3..8));
        let s2 = d.decode(&out[s1.consumed..]).unwrap();
        assert!(s2.done);
        assert_eq!(s1.consumed + s2.consumed, out.len());
    }

    #[test]
    fn encoded_response_parses() {
        let mut out = Vec::new();
        write_status_line(&mut out, 200, b"OK", Version::Http11);
        write_content_length(&mut out, 2);
        end_head(&mut out);
        out.extend_from_slice(b"hi");
        let mut head = ResponseHead::default();
        let r = h1::parse_response(&out, &Limits::default(), h1::Method::Get, &mut head);
        assert_eq!(r, Ok(Parsed::Complete));
        assert_eq!(head.body, h1::ResponseBody::Length(2));
    }
}
