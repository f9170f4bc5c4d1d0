//! Request-target forms (RFC 9112 §3.2) and Host syntax (RFC 9110 §7.2, RFC 3986 §3.2).
//!
//! Where it sits: called by `parse_request` once the request-line is tokenised; yields the
//! path / query spans `core` routes on, and the authority of an absolute-form target
//! (which wins over the Host header, RFC 9112 §3.2.2).
//!
//! What it does not do: no percent-decoding, no dot-segment normalisation (routing in
//! `core` decides how to match), no authority-form (CONNECT is refused earlier).

use super::Method;
use crate::{H1Error, Span};

// Evaluated at compile time: an out-of-range index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn uri_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        // RFC 3986 §2: unreserved / sub-delims / ":" / "@" / "/" / "?" / "%" (checked apart)
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
                    | b'%'
            );
        i += 1;
    }
    t
}

static URI: [bool; 256] = uri_table();

/// Path, query and authority of a validated request-target, as spans into the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target {
    pub path: Span,
    pub query: Option<Span>,
    /// Authority of an absolute-form target.
    pub authority: Option<Span>,
}

/// Every byte is allowed by RFC 3986 and every `%` starts a `pct-encoded` triplet.
/// RFC 9112 §3.2: the target has no fragment; we reject `#` rather than strip it.
fn check_uri_bytes(t: &[u8]) -> Result<(), H1Error> {
    let mut i = 0;
    while let Some(&b) = t.get(i) {
        if b == b'#' {
            return Err(H1Error::FragmentInTarget);
        }
        if !URI.get(b as usize).copied().unwrap_or(false) {
            return Err(H1Error::InvalidTarget);
        }
        if b == b'%' {
            let ok = matches!((t.get(i + 1), t.get(i + 2)), (Some(h), Some(l))
                if h.is_ascii_hexdigit() && l.is_ascii_hexdigit());
            if !ok {
                return Err(H1Error::InvalidTarget);
            }
            i += 2;
        }
        i += 1;
    }
    Ok(())
}

fn sub(base: Span, s: usize, e: usize) -> Span {
    Span::from_range(s, e).unwrap_or_default().shifted(base.start)
}

/// Split `path?query` at offset `from` of `t` (whose span is `base`).
fn path_query(t: &[u8], base: Span, from: usize) -> (Span, Option<Span>) {
    let rest = t.get(from..).unwrap_or(&[]);
    match rest.iter().position(|&b| b == b'?') {
        Some(q) => (sub(base, from, from + q), Some(sub(base, from + q + 1, t.len()))),
        None => (sub(base, from, t.len()), None),
    }
}

/// Validate the request-target `t` (at `base` in the buffer) for `method`.
pub(crate) fn parse_target(t: &[u8], base: Span, method: Method) -> Result<Target, H1Error> {
    check_uri_bytes(t)?;
    let target = match t.first() {
        // RFC 9112 §3.2.1 origin-form = absolute-path [ "?" query ]
        Some(b'/') => {
            let (path, query) = path_query(t, base, 0);
            Target { path, query, authority: None }
        }
        // RFC 9112 §3.2.4 asterisk-form: only for a server-wide OPTIONS
        Some(b'*') if t.len() == 1 => {
            if method != Method::Options {
                return Err(H1Error::InvalidTarget);
            }
            return Ok(Target { path: base, query: None, authority: None });
        }
        _ => parse_absolute(t, base)?,
    };
    // RFC 3986 §5.2.4: dot-segments are resolved by whoever normalises the path; a gateway that
    // routes on the raw path and forwards it would let the backend resolve `/api/../admin` outside
    // the API. Strict by default: refuse them (Envoy, in front of WSO2, normalises instead).
    let start = target.path.start.saturating_sub(base.start) as usize;
    let path = t.get(start..start + target.path.len as usize).unwrap_or_default();
    if has_dot_segment(path) {
        return Err(H1Error::DotSegmentInPath);
    }
    Ok(target)
}

/// Whether a path has a segment that is `.` or `..`, also when its dots are percent-encoded.
fn has_dot_segment(path: &[u8]) -> bool {
    path.split(|&b| b == b'/').any(|segment| {
        let mut dots = 0;
        let mut rest = segment;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix(b".") {
                rest = after;
            } else if rest.len() >= 3
                && rest.first() == Some(&b'%')
                && rest.get(1) == Some(&b'2')
                && rest.get(2).is_some_and(|b| b.eq_ignore_ascii_case(&b'e'))
            {
                rest = rest.get(3..).unwrap_or_default();
            } else {
                return false;
            }
            dots += 1;
            if dots > 2 {
                return false;
            }
        }
        dots == 1 || dots == 2
    })
}

/// RFC 9112 §3.2.2 absolute-form, `http` or `https` only (we are not a forward proxy for
/// other schemes). An empty path is reported as "/" (the second slash of "://").
fn parse_absolute(t: &[u8], base: Span) -> Result<Target, H1Error> {
    let scheme_end =
        if t.len() >= 7 && t.get(..7).is_some_and(|s| s.eq_ignore_ascii_case(b"http://")) {
            7
        } else if t.len() >= 8 && t.get(..8).is_some_and(|s| s.eq_ignore_ascii_case(b"https://")) {
            8
        } else {
            return Err(H1Error::InvalidTarget);
        };
    let rest = t.get(scheme_end..).unwrap_or(&[]);
    let auth_len = rest.iter().position(|&b| b == b'/' || b == b'?').unwrap_or(rest.len());
    let authority = rest.get(..auth_len).unwrap_or(&[]);
    // RFC 9110 §4.2.4: userinfo is deprecated in http(s) URIs; a recipient SHOULD treat its
    // presence as an error. We refuse it.
    if authority.contains(&b'@') {
        return Err(H1Error::UserinfoInTarget);
    }
    check_host(authority)?;
    let after = scheme_end + auth_len;
    let (path, query) = match t.get(after) {
        Some(b'/') => path_query(t, base, after),
        _ => {
            let (_, q) = path_query(t, base, after);
            (sub(base, scheme_end - 1, scheme_end), q)
        }
    };
    Ok(Target { path, query, authority: Some(sub(base, scheme_end, after)) })
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2): IP-literal, IPv4 or
/// reg-name, then an optional non-empty decimal port ≤ 65535. Empty hosts are refused.
pub(crate) fn check_host(h: &[u8]) -> Result<(), H1Error> {
    let (host, port) = if h.first() == Some(&b'[') {
        let close = h.iter().position(|&b| b == b']').ok_or(H1Error::InvalidHost)?;
        let inner = h.get(1..close).unwrap_or(&[]);
        if inner.is_empty()
            || !inner.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(H1Error::InvalidHost);
        }
        match h.get(close + 1..).unwrap_or(&[]) {
            [] => (inner, None),
            [b':', port @ ..] => (inner, Some(port)),
            _ => return Err(H1Error::InvalidHost),
        }
    } else {
        let (host, port) = match h.iter().position(|&b| b == b':') {
            Some(c) => (h.get(..c).unwrap_or(&[]), h.get(c + 1..)),
            None => (h, None),
        };
        if host.is_empty() {
            return Err(H1Error::InvalidHost);
        }
        let mut i = 0;
        while let Some(&b) = host.get(i) {
            let ok = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                );
            if b == b'%' {
                let pct = matches!((host.get(i + 1), host.get(i + 2)), (Some(a), Some(c))
                    if a.is_ascii_hexdigit() && c.is_ascii_hexdigit());
                if !pct {
                    return Err(H1Error::InvalidHost);
                }
                i += 3;
                continue;
            }
            if !ok {
                return Err(H1Error::InvalidHost);
            }
            i += 1;
        }
        (host, port)
    };
    let _ = host;
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.iter().all(u8::is_ascii_digit)
            && port.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0')) <= 65535;
        if !valid {
            return Err(H1Error::InvalidHost);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str, m: Method) -> Result<(String, Option<String>, Option<String>), H1Error> {
        let base = Span { start: 0, len: t.len() as u32 };
        let r = parse_target(t.as_bytes(), base, m)?;
        let s = |sp: Span| String::from_utf8(sp.get(t.as_bytes()).to_vec()).unwrap();
        Ok((s(r.path), r.query.map(s), r.authority.map(s)))
    }

    #[test]
    fn dot_segments_are_refused_literal_or_encoded() {
        for bad in [
            "/api/v1/../admin",
            "/api/v1/..",
            "/api/./x",
            "/.",
            "/a/%2e%2e/b",
            "/a/%2E%2e",
            "/a/.%2e/b",
            "/a/%2e/b",
            "http://h/a/../b",
        ] {
            assert_eq!(parse(bad, Method::Get), Err(H1Error::DotSegmentInPath), "{bad}");
        }
        for good in
            ["/a/.../b", "/a/..b/c", "/a/b..", "/.well-known/x", "/a/%2e%2e%2e", "/a?x=/../"]
        {
            assert!(parse(good, Method::Get).is_ok(), "{good}");
        }
    }

    #[test]
    fn origin_form() {
        assert_eq!(
            parse("/a/b?x=1&y", Method::Get),
            Ok(("/a/b".into(), Some("x=1&y".into()), None))
        );
        assert_eq!(parse("/", Method::Get), Ok(("/".into(), None, None)));
        assert_eq!(parse("/p?", Method::Get), Ok(("/p".into(), Some("".into()), None)));
        assert_eq!(
            parse("/test.cgi?foo=bar?baz", Method::Get),
            Ok(("/test.cgi".into(), Some("foo=bar?baz".into()), None))
        );
        assert_eq!(parse("/%41%2f", Method::Get).map(|r| r.0), Ok("/%41%2f".into()));
    }

    #[test]
    fn bad_bytes() {
        for t in ["/a b", "/\"q\"", "/a|b", "/a{b}", "/a\\b", "/%4", "/%zz", "/a^", "/\u{e9}"] {
            assert_eq!(parse(t, Method::Get), Err(H1Error::InvalidTarget), "{t}");
        }
        assert_eq!(parse("/a#frag", Method::Get), Err(H1Error::FragmentInTarget));
    }

    #[test]
    fn asterisk_form() {
        assert_eq!(parse("*", Method::Options), Ok(("*".into(), None, None)));
        assert_eq!(parse("*", Method::Get), Err(H1Error::InvalidTarget));
        assert_eq!(parse("*x", Method::Options), Err(H1Error::InvalidTarget));
    }

    #[test]
    fn absolute_form() {
        assert_eq!(
            parse("http://example.com:8080/a?b", Method::Get),
            Ok(("/a".into(), Some("b".into()), Some("example.com:8080".into())))
        );
        assert_eq!(parse("HTTPS://h", Method::Get), Ok(("/".into(), None, Some("h".into()))));
        assert_eq!(
            parse("http://hypnotoad.org?hail=all", Method::Get),
            Ok(("/".into(), Some("hail=all".into()), Some("hypnotoad.org".into())))
        );
        assert_eq!(parse("http://a:b@h/", Method::Get), Err(H1Error::UserinfoInTarget));
        assert_eq!(parse("ftp://h/", Method::Get), Err(H1Error::InvalidTarget));
        assert_eq!(parse("http:///x", Method::Get), Err(H1Error::InvalidHost));
        assert_eq!(parse("example.com:443", Method::Get), Err(H1Error::InvalidTarget));
    }

    #[test]
    fn hosts() {
        for ok in [
            "example.com",
            "example.com:80",
            "127.0.0.1:65535",
            "[::1]",
            "[::1]:8080",
            "0.0.0.0=5000",
            "a%20b",
            "under_score",
        ] {
            assert_eq!(check_host(ok.as_bytes()), Ok(()), "{ok}");
        }
        for bad in [
            "", ":80", "a b", "a@b", "a/b", "h:", "h:65536", "h:8o", "h:123456", "[::1", "[]",
            "[::1]x", "h\t", "a%2",
        ] {
            assert_eq!(check_host(bad.as_bytes()), Err(H1Error::InvalidHost), "{bad}");
        }
    }
}
