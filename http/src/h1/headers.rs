//! Hop-by-hop and `Connection` header handling (RFC 9110 §7.6.1), and list splitting.
//!
//! Where it sits: the head parsers record the `Connection` tokens of a message as spans;
//! when `core` forwards a head it drops every field for which [`is_hop_by_hop`] or
//! [`is_connection_token`] is true, then adds its own framing headers via `encode`.
//!
//! What it does not do: no rewriting and no allocation; it only answers questions.

use crate::Span;

/// Fields that describe one connection, never forwarded by a proxy (RFC 9110 §7.6.1,
/// RFC 9112 §7.4 for TE/Trailer, plus the non-standard `Keep-Alive` and every `Proxy-*`).
/// ASCII case-insensitive.
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    const FIXED: [&[u8]; 6] =
        [b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade"];
    if name.len() >= 6 && name.get(..6).is_some_and(|p| p.eq_ignore_ascii_case(b"proxy-")) {
        return true;
    }
    FIXED.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// True if `name` is listed in the message's `Connection` header (RFC 9110 §7.6.1: a proxy
/// MUST remove those fields before forwarding). `tokens` are spans into `buf`.
pub fn is_connection_token(name: &[u8], tokens: &[Span], buf: &[u8]) -> bool {
    tokens.iter().any(|t| t.get(buf).eq_ignore_ascii_case(name))
}

/// Items of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed, as `(start, end)`
/// offsets into `value`. Empty items are yielded as empty ranges.
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let rest = value.get(start..).unwrap_or(&[]);
        let end = match rest.iter().position(|&b| b == b',') {
            Some(i) => start + i,
            None => {
                done = true;
                value.len()
            }
        };
        let item_start = start;
        start = end + 1;
        let item = value.get(item_start..end).unwrap_or(&[]);
        let lead = item.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        let trail = item.iter().rev().take_while(|&&b| b == b' ' || b == b'\t').count();
        let s = item_start + lead;
        let e = end.saturating_sub(trail).max(s);
        Some((s, e))
    })
}

/// What a `Connection` header said, accumulated over all its field lines.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConnectionFlags {
    pub close: bool,
    pub keep_alive: bool,
}

/// Record the tokens of one `Connection` field value (at `value_span` in the buffer).
pub(crate) fn collect_connection(
    value: &[u8],
    value_span: Span,
    tokens: &mut Vec<Span>,
    flags: &mut ConnectionFlags,
) {
    // Fast path: nearly every message says exactly `keep-alive` or `close`.
    let single = if value.eq_ignore_ascii_case(b"keep-alive") {
        Some(&mut flags.keep_alive)
    } else if value.eq_ignore_ascii_case(b"close") {
        Some(&mut flags.close)
    } else {
        None
    };
    if let Some(flag) = single {
        *flag = true;
        if let Some(sp) = Span::from_range(0, value.len()) {
            tokens.push(sp.shifted(value_span.start));
        }
        return;
    }
    for (s, e) in list_items(value) {
        if s == e {
            continue;
        }
        let tok = value.get(s..e).unwrap_or(&[]);
        if tok.eq_ignore_ascii_case(b"close") {
            flags.close = true;
        } else if tok.eq_ignore_ascii_case(b"keep-alive") {
            flags.keep_alive = true;
        }
        if let Some(sp) = Span::from_range(s, e) {
            tokens.push(sp.shifted(value_span.start));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_names() {
        for n in [
            "Connection",
            "keep-alive",
            "TE",
            "Trailer",
            "Transfer-Encoding",
            "UPGRADE",
            "Proxy-Connection",
            "proxy-authenticate",
            "Proxy-Authorization",
            "proxy-anything",
        ] {
            assert!(is_hop_by_hop(n.as_bytes()), "{n}");
        }
        for n in ["Host", "Content-Length", "Trailers", "proxy", "x-te", ""] {
            assert!(!is_hop_by_hop(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn list_splitting() {
        let v = b" a , b,,c\t, ";
        let items: Vec<&[u8]> = list_items(v).map(|(s, e)| &v[s..e]).collect();
        assert_eq!(items, vec![&b"a"[..], b"b", b"", b"c", b""]);
        assert_eq!(list_items(b"").count(), 1);
    }

    #[test]
    fn connection_tokens() {
        let buf = b"xxConnection: close, X-Foo ,keep-alive";
        let value_span = Span { start: 14, len: 24 };
        let mut toks = Vec::new();
        let mut flags = ConnectionFlags::default();
        collect_connection(value_span.get(buf), value_span, &mut toks, &mut flags);
        assert!(flags.close && flags.keep_alive);
        assert_eq!(toks.len(), 3);
        assert_eq!(toks[1].get(buf), b"X-Foo");
        assert!(is_connection_token(b"x-foo", &toks, buf));
        assert!(!is_connection_token(b"x-bar", &toks, buf));
    }
}
