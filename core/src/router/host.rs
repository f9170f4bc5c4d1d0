//! Normalisation of the request `Host` header into the form virtual hosts are stored in.
//!
//! Where it sits: the first step of [`super::Router::lookup`], per request, when at least one API
//! is bound to a virtual host. It strips the port (`example.com:8080` → `example.com`, `[::1]:80`
//! → `[::1]`) and one trailing dot, and lower-cases the name into a caller-provided stack buffer,
//! so it never allocates.
//!
//! It does not validate the header (the HTTP layer does), and it does not resolve or compare
//! anything: the router looks the result up in its table of virtual hosts.

/// Longest host name that can match a virtual host (DNS names are at most 253 bytes).
pub(super) const MAX_HOST_LEN: usize = 255;

/// Writes the lower-cased host name of `raw` (a `Host` header value) into `buf` and returns it;
/// `None` when it is empty or longer than [`MAX_HOST_LEN`].
pub(super) fn normalize<'b>(raw: &[u8], buf: &'b mut [u8; MAX_HOST_LEN]) -> Option<&'b [u8]> {
    let name = strip_port(trim_ows(raw));
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() || name.len() > MAX_HOST_LEN {
        return None;
    }
    let out = buf.get_mut(..name.len())?;
    for (dst, src) in out.iter_mut().zip(name) {
        *dst = src.to_ascii_lowercase();
    }
    Some(out)
}

/// Removes the `:port` suffix, keeping IPv6 literals (`[::1]`) intact.
fn strip_port(host: &[u8]) -> &[u8] {
    if host.first() == Some(&b'[') {
        return match host.iter().position(|b| *b == b']') {
            Some(close) => host.get(..=close).unwrap_or(host),
            None => host,
        };
    }
    match host.iter().rposition(|b| *b == b':') {
        Some(colon) => host.get(..colon).unwrap_or(host),
        None => host,
    }
}

/// Trims optional whitespace (space and tab) around a header value.
fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    value.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Option<String> {
        let mut buf = [0u8; MAX_HOST_LEN];
        normalize(raw.as_bytes(), &mut buf).map(|h| String::from_utf8(h.to_vec()).unwrap())
    }

    #[test]
    fn strips_port_and_lowercases() {
        assert_eq!(norm("Example.COM:8080").as_deref(), Some("example.com"));
        assert_eq!(norm("example.com").as_deref(), Some("example.com"));
        assert_eq!(norm(" example.com. ").as_deref(), Some("example.com"));
        assert_eq!(norm("[::1]:9090").as_deref(), Some("[::1]"));
        assert_eq!(norm("[::1]").as_deref(), Some("[::1]"));
        assert_eq!(norm("10.0.0.1:80").as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn rejects_empty_and_oversized() {
        assert_eq!(norm(""), None);
        assert_eq!(norm(":80"), None);
        assert_eq!(norm(&"a".repeat(256)), None);
        assert!(norm(&"a".repeat(255)).is_some());
    }
}
