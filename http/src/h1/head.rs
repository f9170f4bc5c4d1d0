//! Byte-level checks shared by the request and response head parsers.
//!
//! Where it sits: inside `http::h1`, between `httparse` (which tokenises the head) and the
//! semantic passes in `request.rs` / `response.rs`. `httparse` is lenient in places (bare LF
//! line endings, any number of leading empty lines); these functions close those gaps, and
//! turn an `httparse` error into the precise [`H1Error`] variant (slow path only).
//!
//! What it does not do: no field semantics (Content-Length, Host, ...), no allocation.

use crate::H1Error;

// Evaluated at compile time: an out-of-range index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn tchar_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    t
}

static TCHAR: [bool; 256] = tchar_table();

/// `tchar` of RFC 9110 §5.6.2.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR.get(b as usize).copied().unwrap_or(false)
}

/// `token` of RFC 9110 §5.6.2: one or more tchar.
#[inline]
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Bytes allowed in a field value (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text.
#[inline]
pub(crate) fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received before
/// the request-line. We skip exactly one; a second empty line or a bare LF is an error.
/// Returns the number of bytes to skip, or `None` if more bytes are needed to decide.
pub(crate) fn leading_empty_line(buf: &[u8]) -> Result<Option<usize>, H1Error> {
    match buf {
        [] | [b'\r'] => Ok(None),
        [b'\n', ..] => Err(H1Error::BareLf),
        [b'\r', b'\n'] => Ok(None),
        [b'\r', b'\n', b'\r' | b'\n', ..] => Err(H1Error::BadRequestLine),
        [b'\r', b'\n', ..] => Ok(Some(2)),
        [b'\r', ..] => Err(H1Error::BareCr),
        _ => Ok(Some(0)),
    }
}

/// True if some LF is not preceded by CR (RFC 9112 §2.2: we do not accept bare LF as a line
/// terminator; strict). Branch-free fold so it vectorises; one pass over the head.
#[inline]
pub(crate) fn has_bare_lf(head: &[u8]) -> bool {
    if head.first() == Some(&b'\n') {
        return true;
    }
    head.iter()
        .zip(head.iter().skip(1))
        .fold(false, |acc, (&a, &b)| acc | ((b == b'\n') & (a != b'\r')))
}

/// RFC 9112 §2.2 (strict): whether every line of the complete head `data[..n]`, whose field
/// names httparse returned as `field_names` (slices of `data`), ends in CRLF.
///
/// httparse accepts a bare LF as a line ending, and nowhere else: a strict parse refuses LF inside
/// a line (a control character), obs-fold, and whitespace before a field name. So each field line
/// starts right after the previous line's LF, and the two bytes before each field name plus the
/// last four bytes of the head cover every line ending, in O(fields) rather than O(bytes) — a
/// head carrying a 1 KiB token costs the same as one without.
pub(crate) fn lines_end_in_crlf<'a>(
    data: &[u8],
    n: usize,
    field_names: impl Iterator<Item = &'a [u8]>,
) -> bool {
    let crlf_before =
        |end: usize| end.checked_sub(2).and_then(|s| data.get(s..end)) == Some(b"\r\n");
    let base = data.as_ptr() as usize;
    field_names.into_iter().all(|name| crlf_before((name.as_ptr() as usize).wrapping_sub(base)))
        && crlf_before(n)
        && n.checked_sub(2).is_some_and(crlf_before)
}

/// `HTTP/` DIGIT [ "." DIGIT ]: a well-formed version token (any numbers).
pub(crate) fn looks_like_http_version(v: &[u8]) -> bool {
    match v {
        [b'H', b'T', b'T', b'P', b'/', d] => d.is_ascii_digit(),
        [b'H', b'T', b'T', b'P', b'/', a, b'.', b] => a.is_ascii_digit() && b.is_ascii_digit(),
        _ => false,
    }
}

/// Line-ending problems in one line (`line` excludes its LF; `has_lf` says whether an LF
/// followed). Returns the content without the trailing CR.
fn line_content(line: &[u8], has_lf: bool) -> Result<&[u8], H1Error> {
    if line.contains(&0) {
        return Err(H1Error::NulByte);
    }
    let content = match line.split_last() {
        Some((b'\r', rest)) if has_lf => rest,
        _ if has_lf => return Err(H1Error::BareLf),
        _ => line,
    };
    // A CR anywhere else is a bare CR (RFC 9112 §2.2: CR only as part of CRLF).
    if content.contains(&b'\r') {
        return Err(H1Error::BareCr);
    }
    Ok(content)
}

/// Slow path: explain why the request-line (first line of `data`) was refused.
pub(crate) fn diagnose_request_line(data: &[u8]) -> H1Error {
    let (line, has_lf) = first_line(data);
    let content = match line_content(line, has_lf) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut parts = content.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or(&[]);
    if !is_token(method) {
        return H1Error::InvalidMethod;
    }
    let target = match parts.next() {
        Some(t) if !t.is_empty() => t,
        _ => return H1Error::BadRequestLine,
    };
    if target.iter().any(|&b| b <= b' ' || b == 0x7f || b >= 0x80 || b == b'"') {
        return H1Error::InvalidTarget;
    }
    match parts.next() {
        // RFC 9112 §2.3 / RFC 9110 §2.5: a well-formed version we do not speak → 505.
        Some(v) if looks_like_http_version(v) && v != b"HTTP/1.1" && v != b"HTTP/1.0" => {
            H1Error::UnsupportedVersion
        }
        _ => H1Error::BadRequestLine,
    }
}

/// Slow path: explain why a header section was refused. `data` starts at the start-line.
/// `response` maps every header-syntax problem to `InvalidResponse`.
pub(crate) fn diagnose_headers(data: &[u8]) -> H1Error {
    let (first, has_lf) = first_line(data);
    if let Err(e) = line_content(first, has_lf) {
        return e;
    }
    let mut rest = data.get(first.len() + 1..).unwrap_or(&[]);
    while !rest.is_empty() {
        let (line, has_lf) = first_line(rest);
        let content = match line_content(line, has_lf) {
            Ok(c) => c,
            Err(e) => return e,
        };
        if content.is_empty() {
            break;
        }
        // RFC 9112 §5.2: obs-fold is not accepted in requests (we reject it in responses too).
        if matches!(content.first(), Some(b' ' | b'\t')) {
            return H1Error::ObsFold;
        }
        let Some(colon) = content.iter().position(|&b| b == b':') else {
            return if has_lf { H1Error::InvalidHeaderName } else { H1Error::InvalidHeaderValue };
        };
        let (name, value) = content.split_at(colon);
        // RFC 9112 §5.1: no whitespace between field name and colon; MUST reject (400).
        if matches!(name.last(), Some(b' ' | b'\t')) && is_token(name.trim_ascii_end()) {
            return H1Error::WhitespaceBeforeColon;
        }
        if !is_token(name) {
            return H1Error::InvalidHeaderName;
        }
        if !value.iter().skip(1).all(|&b| is_field_value_byte(b)) {
            return H1Error::InvalidHeaderValue;
        }
        rest = rest.get(line.len() + 1..).unwrap_or(&[]);
    }
    H1Error::InvalidHeaderValue
}

/// First line of `data` without its LF, and whether an LF ended it.
fn first_line(data: &[u8]) -> (&[u8], bool) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (data.get(..i).unwrap_or(&[]), true),
        None => (data, false),
    }
}

/// Request-line length check on a partial head: true if the first line is already known to
/// exceed `max` bytes (excluding CRLF).
pub(crate) fn first_line_exceeds(data: &[u8], max: usize) -> bool {
    if data.len() <= max.saturating_add(1) {
        return false;
    }
    let window = data.get(..max.saturating_add(2)).unwrap_or(data);
    match window.iter().position(|&b| b == b'\n') {
        None => true,
        Some(lf) => {
            let len = if lf > 0 && window.get(lf - 1) == Some(&b'\r') { lf - 1 } else { lf };
            len > max
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_set() {
        for b in b"!#$%&'*+-.^_`|~azAZ09" {
            assert!(is_tchar(*b), "{}", *b as char);
        }
        for b in b" \t\r\n:;,\"()/<>=?@[\\]{}\x7f\x00\x80" {
            assert!(!is_tchar(*b), "{b}");
        }
        assert!(!is_token(b""));
    }

    #[test]
    fn leading_lines() {
        assert_eq!(leading_empty_line(b""), Ok(None));
        assert_eq!(leading_empty_line(b"\r"), Ok(None));
        assert_eq!(leading_empty_line(b"\r\n"), Ok(None));
        assert_eq!(leading_empty_line(b"\r\nG"), Ok(Some(2)));
        assert_eq!(leading_empty_line(b"GET"), Ok(Some(0)));
        assert_eq!(leading_empty_line(b"\r\n\r\nGET"), Err(H1Error::BadRequestLine));
        assert_eq!(leading_empty_line(b"\nGET"), Err(H1Error::BareLf));
        assert_eq!(leading_empty_line(b"\rGET"), Err(H1Error::BareCr));
    }

    #[test]
    fn bare_lf() {
        assert!(!has_bare_lf(b"a\r\nb\r\n\r\n"));
        assert!(has_bare_lf(b"a\nb"));
        assert!(has_bare_lf(b"\nb"));
        assert!(has_bare_lf(b"a\r\nb\n"));
        assert!(!has_bare_lf(b""));
    }

    #[test]
    fn crlf_line_ends_are_checked_at_each_field_start() {
        let names = |data: &'static [u8], at: &[usize]| -> Vec<&'static [u8]> {
            at.iter().map(|&i| data.get(i..i + 1).unwrap()).collect()
        };
        let good: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n";
        assert!(lines_end_in_crlf(good, good.len(), names(good, &[16, 25]).into_iter()));
        let no_fields: &[u8] = b"GET / HTTP/1.0\r\n\r\n";
        assert!(lines_end_in_crlf(no_fields, no_fields.len(), std::iter::empty()));
        // A bare LF after the request line, after a field, or as the empty line.
        let bad_first: &[u8] = b"GET / HTTP/1.1\nHost: a\r\n\r\n";
        assert!(!lines_end_in_crlf(
            bad_first,
            bad_first.len(),
            names(bad_first, &[15]).into_iter()
        ));
        let bad_mid: &[u8] = b"GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n";
        assert!(!lines_end_in_crlf(bad_mid, bad_mid.len(), names(bad_mid, &[16, 24]).into_iter()));
        let bad_last: &[u8] = b"GET / HTTP/1.1\r\nHost: a\n\r\n";
        assert!(!lines_end_in_crlf(bad_last, bad_last.len(), names(bad_last, &[16]).into_iter()));
        let bad_end: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\n";
        assert!(!lines_end_in_crlf(bad_end, bad_end.len(), names(bad_end, &[16]).into_iter()));
    }

    #[test]
    fn versions() {
        assert!(looks_like_http_version(b"HTTP/2.0"));
        assert!(looks_like_http_version(b"HTTP/3"));
        assert!(!looks_like_http_version(b"HTTP/1.01"));
        assert!(!looks_like_http_version(b"ICE/1.0"));
        assert_eq!(
            diagnose_request_line(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            H1Error::UnsupportedVersion
        );
        assert_eq!(diagnose_request_line(b"GET /\r\n"), H1Error::BadRequestLine);
        assert_eq!(diagnose_request_line(b"G@T / HTTP/1.1\r\n"), H1Error::InvalidMethod);
        assert_eq!(diagnose_request_line(b"GET / HTTP/1.1\rX"), H1Error::BareCr);
    }

    #[test]
    fn first_line_limit() {
        assert!(!first_line_exceeds(b"GET / HTTP/1.1\r\n", 14));
        assert!(first_line_exceeds(b"GET / HTTP/1.1\r\n", 13));
        assert!(first_line_exceeds(b"GET /aaaaaaaaaaaa", 10));
        assert!(!first_line_exceeds(b"GET /a", 10));
    }

    #[test]
    fn header_diagnosis() {
        let d = |s: &[u8]| diagnose_headers(s);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), H1Error::ObsFold);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA : b\r\n\r\n"), H1Error::WhitespaceBeforeColon);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA@: b\r\n\r\n"), H1Error::InvalidHeaderName);
        assert_eq!(d(b"GET / HTTP/1.1\r\n: b\r\n\r\n"), H1Error::InvalidHeaderName);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"), H1Error::InvalidHeaderValue);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), H1Error::BareCr);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA: b\0\r\n\r\n"), H1Error::NulByte);
        assert_eq!(d(b"GET / HTTP/1.1\r\nA: b\nc: d\r\n\r\n"), H1Error::BareLf);
    }
}
