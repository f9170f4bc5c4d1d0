//! Invariant checks for `turnpike_core::router::Router::lookup` over a fixed table.
//!
//! Where it sits: used by `fuzz/fuzz_targets/router_lookup.rs`. The table ([`specs`]) has
//! ~20 routes on three virtual hosts and the host-less table: nested base paths, literals
//! beside `{param}`s, trailing `/*` wildcards and a root base path.
//!
//! Rules checked, from the router's documented matching order (`core/src/router/mod.rs`):
//! * `params` is empty unless the result is `Matched`; each capture is a non-empty segment
//!   of the path (starts after '/', holds no '/'), in order, one per `{param}` of the template.
//! * A `Matched` route serves the request method, lies in the API the request selects
//!   (request host's APIs first, host-less ones only when none of their base paths match;
//!   the longest base path at a segment boundary), and its template matches the rest of the
//!   path according to an independent, naive matcher; `base_path_len` is that base path's.
//! * `NotFound` only when no template of the selected API matches the path;
//!   `MethodNotAllowed` only when some do and none serves the method, with `allow` one
//!   matching template's methods, not containing the request's.
//! * The result does not depend on the host's letter case, on a reused `params` vector, or
//!   on one extra trailing slash.
//!
//! What it does not do: no percent-decoding or normalisation checks (the router compares raw
//! bytes by design), no build-time errors (the table is fixed and valid).

use turnpike_core::router::{Lookup, RouteSpec, Router};
use turnpike_core::snapshot::RouteIndex;

/// (vhost, base path, template, methods) of the fixed table; the route index is the position.
const TABLE: &[(Option<&str>, &str, &str, &[&str])] = &[
    (None, "/petstore/v1", "/pets", &["GET", "POST"]),
    (None, "/petstore/v1", "/pets/{petId}", &["GET", "DELETE"]),
    (None, "/petstore/v1", "/pets/{petId}/photos/*", &["GET"]),
    (None, "/petstore/v1", "/pets/mine", &["GET"]),
    (None, "/petstore/v1", "/pets/{petId}/owner/{ownerId}", &["PUT"]),
    (None, "/petstore/v1", "/*", &["OPTIONS"]),
    (None, "/petstore/v10", "/", &["GET"]),
    (None, "/", "/", &["GET"]),
    (None, "/", "/health", &["GET", "HEAD"]),
    (None, "/", "/files/*", &["GET", "PUT"]),
    (None, "/", "/{a}/{b}/{c}", &["PATCH"]),
    (Some("api.example.com"), "/", "/*", &["GET"]),
    (Some("api.example.com"), "/v2", "/users/{id}", &["GET", "POST"]),
    (Some("api.example.com"), "/v2", "/users/me", &["GET"]),
    (Some("api.example.com"), "/v2", "/users/{id}/*", &["DELETE"]),
    (Some("[::1]"), "/petstore/v1", "/pets", &["GET"]),
    (Some("Mixed.Example"), "/a/b", "/c/{d}/", &["GET"]),
    (None, "/a", "/b/{x}/c", &["GET"]),
    (None, "/a", "/b/lit/c", &["POST"]),
    (None, "/a/b", "/%41/{p}", &["GET"]),
    (None, "/x", "/{id}", &["X-CUSTOM"]),
];

/// The route specs of the fixed table.
pub fn specs() -> Vec<RouteSpec> {
    TABLE
        .iter()
        .enumerate()
        .map(|(i, (vhost, base, template, methods))| RouteSpec {
            vhost: vhost.map(str::to_owned),
            base_path: (*base).to_owned(),
            template: (*template).to_owned(),
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            route: RouteIndex(i as u32),
        })
        .collect()
}

/// The router of the fixed table.
pub fn router() -> Router {
    match Router::build(specs()) {
        Ok(r) => r,
        Err(e) => panic!("the fixed route table must build: {e}"),
    }
}

/// Split a fuzz input into (host, method, path): first byte odd → a Host is present; the rest
/// is `host \n method \n path` (missing parts: `GET`, `/`).
pub fn split_input(data: &[u8]) -> (Option<&[u8]>, &[u8], &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return (None, b"GET", b"/");
    };
    let mut parts = rest.splitn(3, |&b| b == b'\n');
    let host = parts.next().unwrap_or(b"");
    let method = parts.next().unwrap_or(b"GET");
    let path = parts.next().unwrap_or(b"/");
    ((flags & 1 == 1).then_some(host), method, path)
}

/// The documented host normalisation: trim OWS, drop the port (keeping `[v6]`), drop one
/// trailing dot, ASCII-lowercase; `None` when empty or over 255 bytes.
fn normalize_host(raw: &[u8]) -> Option<Vec<u8>> {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = raw.iter().position(|b| !is_ows(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    let h = &raw[start..end];
    let h = if h.first() == Some(&b'[') {
        match h.iter().position(|&b| b == b']') {
            Some(close) => &h[..=close],
            None => h,
        }
    } else {
        match h.iter().rposition(|&b| b == b':') {
            Some(colon) => &h[..colon],
            None => h,
        }
    };
    let h = h.strip_suffix(b".").unwrap_or(h);
    (!h.is_empty() && h.len() <= 255).then(|| h.to_ascii_lowercase())
}

/// Base path `base` prefixes `path` at a segment boundary (`/` prefixes everything).
fn base_matches(base: &str, path: &[u8]) -> bool {
    base == "/"
        || (path.starts_with(base.as_bytes()) && matches!(path.get(base.len()), None | Some(b'/')))
}

/// Naive template match of `rest` (the path after the base path, `""` or starting with '/'):
/// returns the `(start, end)` offsets of the params, relative to `rest`, or `None`.
fn template_match(template: &str, rest: &[u8]) -> Option<Vec<(usize, usize)>> {
    // Path segments with offsets; one trailing slash is ignored; "" and "/" are the root.
    let trimmed = match rest {
        [] | [b'/'] => &rest[..0],
        [.., b'/'] => &rest[..rest.len() - 1],
        _ => rest,
    };
    let mut segs: Vec<(usize, usize)> = Vec::new();
    if !trimmed.is_empty() {
        let mut start = 1;
        for (i, &b) in trimmed.iter().enumerate().skip(1) {
            if b == b'/' {
                segs.push((start, i));
                start = i + 1;
            }
        }
        segs.push((start, trimmed.len()));
    }
    let body = template.trim_start_matches('/');
    let body = body.strip_suffix('/').unwrap_or(body);
    let mut tpl: Vec<&str> = if body.is_empty() { Vec::new() } else { body.split('/').collect() };
    let wildcard = tpl.last() == Some(&"*");
    if wildcard {
        tpl.pop();
    }
    let fits = if wildcard { segs.len() >= tpl.len() } else { segs.len() == tpl.len() };
    if !fits {
        return None;
    }
    let mut params = Vec::new();
    for (t, &(s, e)) in tpl.iter().zip(&segs) {
        let seg = &rest[s..e];
        if t.starts_with('{') {
            if seg.is_empty() {
                return None;
            }
            params.push((s, e));
        } else if seg != t.as_bytes() {
            return None;
        }
    }
    Some(params)
}

/// Rows of the API the request selects (see the module docs), with that API's base path.
fn selected_api(host: Option<&[u8]>, path: &[u8]) -> Option<(Option<String>, &'static str)> {
    let vhost = host.and_then(normalize_host);
    let pick = |want: Option<&[u8]>| {
        TABLE
            .iter()
            .filter(|(v, base, _, _)| {
                v.map(|v| v.to_ascii_lowercase().into_bytes()).as_deref() == want
                    && base_matches(base, path)
            })
            .map(|(v, base, _, _)| (v.map(str::to_ascii_lowercase), *base))
            .max_by_key(|(_, base)| if *base == "/" { 0 } else { base.len() })
    };
    let on_host = match &vhost {
        Some(v) if TABLE.iter().any(|r| r.0.is_some()) => pick(Some(v)),
        _ => None,
    };
    on_host.or_else(|| pick(None))
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

/// Look up (host, method, path) in `router` (built from [`specs`]) and check every rule.
pub fn check_lookup(router: &Router, host: Option<&[u8]>, method: &[u8], path: &[u8]) {
    let ctx =
        || format!("host {:?} method {:?} path {:?}", host.map(show), show(method), show(path));
    let mut params = vec![(7, 3); 3]; // dirty on purpose
    let result = router.lookup(host, method, path, &mut params);

    // Same answer with a fresh vector, an upper-cased host, and one more trailing slash.
    let mut fresh = Vec::new();
    assert_eq!(router.lookup(host, method, path, &mut fresh), result, "{}", ctx());
    assert_eq!(fresh, params, "params depend on the vector's old contents: {}", ctx());
    let upper = host.map(|h| h.to_ascii_uppercase());
    let mut p2 = Vec::new();
    assert_eq!(
        router.lookup(upper.as_deref(), method, path, &mut p2),
        result,
        "host letter case changed the result: {}",
        ctx()
    );
    if path.len() > 1 && path.first() == Some(&b'/') && path.last() != Some(&b'/') {
        let mut slashed = path.to_vec();
        slashed.push(b'/');
        let mut p3 = Vec::new();
        assert_eq!(
            router.lookup(host, method, &slashed, &mut p3),
            result,
            "one trailing slash changed the result: {}",
            ctx()
        );
        assert_eq!(p3, params, "trailing slash changed the params: {}", ctx());
    }

    if !matches!(result, Lookup::Matched(_)) {
        assert!(params.is_empty(), "params {params:?} left on {result:?}: {}", ctx());
    }
    let selected = if path.first() == Some(&b'/') { selected_api(host, path) } else { None };
    let Some((api_host, api_base)) = selected else {
        assert_eq!(result, Lookup::NotFound, "no API selects this path: {}", ctx());
        return;
    };
    let base_len = if api_base == "/" { 0 } else { api_base.len() };
    let rest = &path[base_len..];
    // Templates of the selected API that match the path: (row, params).
    let matching: Vec<(usize, Vec<(usize, usize)>)> = TABLE
        .iter()
        .enumerate()
        .filter(|(_, (v, base, _, _))| {
            v.map(str::to_ascii_lowercase) == api_host && *base == api_base
        })
        .filter_map(|(i, (_, _, t, _))| template_match(t, rest).map(|p| (i, p)))
        .collect();
    let serves = |row: usize| TABLE[row].3.iter().any(|m| m.as_bytes() == method);

    match result {
        Lookup::Matched(RouteIndex(r)) => {
            let r = r as usize;
            assert!(r < TABLE.len(), "route {r} out of the table: {}", ctx());
            assert!(serves(r), "route {r} does not serve the method: {}", ctx());
            let Some((_, expected)) = matching.iter().find(|(i, _)| *i == r) else {
                panic!(
                    "route {r} ({:?} {:?}) does not match the path, or is not in the \
                     selected API ({api_host:?} {api_base:?}): {}",
                    TABLE[r].1,
                    TABLE[r].2,
                    ctx()
                );
            };
            let expected: Vec<(u32, u32)> = expected
                .iter()
                .map(|&(s, e)| ((s + base_len) as u32, (e + base_len) as u32))
                .collect();
            assert_eq!(params, expected, "wrong captures: {}", ctx());
            for &(s, e) in &params {
                let (s, e) = (s as usize, e as usize);
                assert!(
                    s < e && e <= path.len() && path[s - 1] == b'/' && !path[s..e].contains(&b'/'),
                    "capture {s}..{e} is not a path segment: {}",
                    ctx()
                );
            }
            assert_eq!(
                router.base_path_len(RouteIndex(r as u32)),
                base_len,
                "base_path_len of route {r}: {}",
                ctx()
            );
        }
        Lookup::MethodNotAllowed { allow } => {
            assert!(!matching.is_empty(), "405 but no template matches: {}", ctx());
            assert!(
                !matching.iter().any(|(i, _)| serves(*i)),
                "405 but a matching template serves the method: {}",
                ctx()
            );
            assert!(
                matching.iter().any(|(i, _)| TABLE[*i].3.join(", ") == allow),
                "Allow {allow:?} is no matching template's methods: {}",
                ctx()
            );
            assert!(
                !allow.split(", ").any(|m| m.as_bytes() == method),
                "Allow lists the request method: {}",
                ctx()
            );
        }
        Lookup::NotFound => {
            assert!(
                matching.is_empty(),
                "404 but rows {:?} match: {}",
                matching.iter().map(|(i, _)| i).collect::<Vec<_>>(),
                ctx()
            );
        }
    }
    if !matching.is_empty() && matching.iter().any(|(i, _)| serves(*i)) {
        assert!(
            matches!(result, Lookup::Matched(_)),
            "a matching template serves the method, got {result:?}: {}",
            ctx()
        );
    }
}
