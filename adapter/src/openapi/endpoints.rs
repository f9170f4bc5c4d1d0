//! Backend endpoints of a definition: `x-wso2-production-endpoints` / `x-wso2-sandbox-endpoints`
//! values, the named `x-wso2-endpoints` catalogue they may refer to, and the `http://` URLs inside.
//!
//! Where it sits: called by `document` at each level that may declare endpoints (document, path
//! item, operation). A value is either an inline definition `{ urls: [...], type: ... }` or a
//! reference `"#/x-wso2-endpoints/<name>"` (also `{ $ref: ... }`); the catalogue may be a list of
//! one-key maps (`- myEndpoint: { urls: [...] }`, as WSO2 API Microgateway writes it) or a plain
//! map of names. Each URL is parsed and its host resolved with the system resolver here, on the
//! control thread, so the data plane only ever sees socket addresses.
//!
//! Errors point at the value at fault: a bad URL inside a catalogue entry is reported at the
//! entry (`/x-wso2-endpoints/0/myEndpoint/urls/1`), a dangling reference at the reference.
//! `https://` URLs (default port 443) become endpoints with TLS whose server name is the URL's
//! host; their trust and client configuration are attached when the snapshot compiles
//! (`crate::upstream_tls`).
//!
//! Not done here: health checks, timeouts per endpoint (`advanceEndpointConfig`, warned),
//! backend credentials (`securityConfig`, warned).

use std::net::ToSocketAddrs;

use serde_json::{Map, Value};
use turnpike_core::tls::client::EndpointTls;
use turnpike_core::Endpoint;

use super::document::{kind, Walker};
use super::{Balance, EndpointSet};
use crate::error::LoadError;
use crate::pointer::{unescape, Pointer};

/// Document-level key of the named endpoint catalogue.
pub(super) const CATALOGUE: &str = "x-wso2-endpoints";
/// Prefix of a reference into the catalogue.
const REF_PREFIX: &str = "#/x-wso2-endpoints/";

/// The endpoints declared under `key` of `object` (which sits at `pointer`), if the key is there.
pub(super) fn declared(
    w: &mut Walker<'_>,
    object: &Map<String, Value>,
    pointer: &Pointer,
    key: &str,
) -> Result<Option<EndpointSet>, LoadError> {
    match object.get(key) {
        Some(value) => endpoint_set(w, value, &pointer.key(key)).map(Some),
        None => Ok(None),
    }
}

/// Parses every entry of the `x-wso2-endpoints` catalogue, so that broken entries are reported
/// even when nothing refers to them, and references resolve from the cache.
pub(super) fn catalogue(w: &mut Walker<'_>) -> Result<(), LoadError> {
    let root = w.root;
    let pointer = Pointer::root().key(CATALOGUE);
    let entries: Vec<(&Value, Pointer)> = match root.get(CATALOGUE) {
        None => return Ok(()),
        Some(Value::Array(items)) => {
            let mut entries = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let item_ptr = pointer.index(i);
                let map = w.object(item, &item_ptr)?;
                if map.is_empty() {
                    return Err(w.invalid(&item_ptr, "expected `name: { urls: [...] }`"));
                }
                entries.extend(map.iter().map(|(name, def)| (def, item_ptr.key(name))));
            }
            entries
        }
        Some(Value::Object(map)) => {
            map.iter().map(|(name, def)| (def, pointer.key(name))).collect()
        }
        Some(other) => {
            return Err(w.invalid(
                &pointer,
                format!(
                    "expected a list or map of named endpoint definitions, found {}",
                    kind(other)
                ),
            ))
        }
    };
    for (def, def_ptr) in entries {
        let map = w.object(def, &def_ptr)?;
        let set = definition(w, map, &def_ptr)?;
        w.endpoint_cache.insert(def_ptr.to_string(), set);
    }
    Ok(())
}

/// An inline definition or a reference.
fn endpoint_set(w: &mut Walker<'_>, value: &Value, p: &Pointer) -> Result<EndpointSet, LoadError> {
    match value {
        Value::String(target) => reference(w, target, p),
        Value::Object(map) if map.contains_key("$ref") => {
            let ref_ptr = p.key("$ref");
            let target = map.get("$ref").map_or(Ok(""), |v| w.string(v, &ref_ptr))?;
            if map.len() > 1 {
                w.warn(p, "keys beside $ref are ignored");
            }
            reference(w, target, &ref_ptr)
        }
        Value::Object(map) => definition(w, map, p),
        other => Err(w.invalid(
            p,
            format!(
                "expected an endpoint definition ({{ urls: [...] }}) or a reference \
                 (\"{REF_PREFIX}<name>\"), found {}",
                kind(other)
            ),
        )),
    }
}

/// Resolves `"#/x-wso2-endpoints/<name>"` against the catalogue parsed by [`catalogue`].
fn reference(w: &mut Walker<'_>, target: &str, p: &Pointer) -> Result<EndpointSet, LoadError> {
    let Some(name) = target.strip_prefix(REF_PREFIX).filter(|n| !n.is_empty() && !n.contains('/'))
    else {
        return Err(w.invalid(
            p,
            format!("endpoint reference {target:?} must have the form \"{REF_PREFIX}<name>\""),
        ));
    };
    let name = unescape(name);
    let catalogue = Pointer::root().key(CATALOGUE);
    let candidates = match w.root.get(CATALOGUE) {
        Some(Value::Array(items)) => {
            (0..items.len()).map(|i| catalogue.index(i).key(&name)).collect()
        }
        Some(_) => vec![catalogue.key(&name)],
        None => {
            return Err(
                w.invalid(p, format!("refers to {target:?}, but the document has no {CATALOGUE}"))
            )
        }
    };
    candidates
        .iter()
        .find_map(|c| w.endpoint_cache.get(c.as_str()).cloned())
        .ok_or_else(|| w.invalid(p, format!("endpoint {name:?} is not defined in {CATALOGUE}")))
}

/// `{ urls: [...], type: http|load_balance|failover }`.
fn definition(
    w: &mut Walker<'_>,
    map: &Map<String, Value>,
    p: &Pointer,
) -> Result<EndpointSet, LoadError> {
    for key in map.keys() {
        match key.as_str() {
            "urls" | "type" | "name" => {}
            "advanceEndpointConfig" => w.warn(
                &p.key(key),
                "per-endpoint timeouts and retries are not supported yet; gateway.toml timeouts apply",
            ),
            "securityConfig" => {
                w.warn(&p.key(key), "backend authentication is not supported yet; ignored")
            }
            _ => w.warn(&p.key(key), "unknown key in endpoint definition; ignored"),
        }
    }
    let urls_ptr = p.key("urls");
    let urls = match map.get("urls") {
        Some(Value::Array(urls)) if !urls.is_empty() => urls,
        Some(Value::Array(_)) => return Err(w.invalid(&urls_ptr, "must list at least one URL")),
        Some(other) => {
            return Err(
                w.invalid(&urls_ptr, format!("expected a list of URLs, found {}", kind(other)))
            )
        }
        None => return Err(w.invalid(&urls_ptr, "missing: an endpoint definition needs `urls`")),
    };
    let mut endpoints = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        let url_ptr = urls_ptr.index(i);
        let text = w.string(url, &url_ptr)?;
        endpoints.push(parse_url(text).map_err(|reason| w.invalid(&url_ptr, reason))?);
    }
    let balance = match map.get("type") {
        None if endpoints.len() > 1 => Balance::LoadBalance,
        None => Balance::Single,
        Some(value) => {
            let type_ptr = p.key("type");
            match w.string(value, &type_ptr)? {
                "http" if endpoints.len() > 1 => Balance::LoadBalance,
                "http" => Balance::Single,
                "load_balance" => Balance::LoadBalance,
                "failover" => {
                    w.warn(&type_ptr, "failover is not supported yet; served as load_balance");
                    Balance::Failover
                }
                other => {
                    return Err(w.invalid(
                        &type_ptr,
                        format!(
                        "unknown endpoint type {other:?}: expected http, load_balance or failover"
                    ),
                    ))
                }
            }
        }
    };
    Ok(EndpointSet { balance, endpoints })
}

/// Parses `http[s]://host[:port][/path]` and resolves the host. The error is the reason text.
pub(crate) fn parse_url(url: &str) -> Result<Endpoint, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "{url:?} is not an absolute URL (expected http[s]://host[:port][/path])"
        ));
    };
    let tls = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(format!(
            "{url:?}: unsupported scheme {scheme:?}; expected http:// or https://"
        ));
    };
    if rest.contains(['?', '#']) {
        return Err(format!("{url:?}: an endpoint URL must not have a query or fragment"));
    }
    if rest.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?}: must not contain whitespace"));
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if authority.is_empty() {
        return Err(format!("{url:?}: missing host"));
    }
    if authority.contains('@') {
        return Err(format!("{url:?}: user information in endpoint URLs is not supported"));
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) =
        split_host_port(authority, default_port).map_err(|reason| format!("{url:?}: {reason}"))?;
    let tls = match tls {
        false => None,
        true => Some(EndpointTls::for_host(host).ok_or_else(|| {
            format!("{url:?}: {host:?} is not a valid TLS server name (DNS name or IP address)")
        })?),
    };
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|err| format!("{url:?}: cannot resolve host {host:?}: {err}"))?
        .next()
        .ok_or_else(|| format!("{url:?}: host {host:?} resolved to no address"))?;
    Ok(Endpoint {
        addr,
        authority: authority.to_owned(),
        base_path: path.trim_end_matches('/').to_owned(),
        tls,
    })
}

/// Splits `host[:port]` / `[v6][:port]`; the port defaults to `default_port`.
fn split_host_port(authority: &str, default_port: u16) -> Result<(&str, u16), String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed '[' in host")?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or("garbage after IPv6 address")?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".to_owned());
    }
    let port = match port {
        None => default_port,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("invalid port {text:?}"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let e = parse_url("http://127.0.0.1:8081/v2/").unwrap();
        assert_eq!(e.addr, "127.0.0.1:8081".parse().unwrap());
        assert_eq!(e.authority, "127.0.0.1:8081");
        assert_eq!(e.base_path, "/v2");
        let e = parse_url("http://127.0.0.1").unwrap();
        assert_eq!(e.addr.port(), 80);
        assert_eq!(e.authority, "127.0.0.1");
        assert_eq!(e.base_path, "");
        let e = parse_url("HTTP://[::1]:9000/a/b").unwrap();
        assert_eq!(e.addr, "[::1]:9000".parse().unwrap());
        assert_eq!(e.authority, "[::1]:9000");
        assert_eq!(e.base_path, "/a/b");
        assert!(parse_url("http://localhost:8081").is_ok());
        assert!(e.tls.is_none());
    }

    #[test]
    fn parses_https_urls() {
        let e = parse_url("https://127.0.0.1/v1").unwrap();
        assert_eq!(e.addr.port(), 443);
        assert_eq!(e.authority, "127.0.0.1");
        let tls = e.tls.unwrap();
        assert_eq!(tls.server_name.to_str(), "127.0.0.1");
        assert!(tls.client.is_none(), "attached at compile time");
        let e = parse_url("HTTPS://localhost:8443").unwrap();
        assert_eq!(e.addr.port(), 8443);
        assert_eq!(e.tls.unwrap().server_name.to_str(), "localhost");
        let e = parse_url("https://[::1]:9443/x").unwrap();
        assert_eq!(e.tls.unwrap().server_name.to_str(), "::1");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "127.0.0.1:80",
            "ftp://h/",
            "http://",
            "http://h:0",
            "http://h:99999",
            "http://h:x",
            "http://u@h",
            "http://h/?q",
            "http://[::1",
            "http://h.invalid.",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
