//! Encoding the heads the proxy sends: the upstream request head (from the client's) and the client
//! response head (from the upstream's), applying proxy semantics in one pass over the headers:
//! hop-by-hop headers and the ones `Connection` names are removed (RFC 9110 §7.6.1), framing
//! headers are rewritten by the proxy, `Host` becomes the endpoint's authority, `X-Forwarded-*`,
//! `x-request-id` and optionally `Via` are set, and policy header edits are applied.

use turnpike_http::h1::{
    self, is_connection_token, is_hop_by_hop, RequestHead, ResponseHead, Version,
};
use turnpike_policy::{HeaderEdits, Rewrites};

/// What a received header is to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Forward as received.
    Forward,
    /// Never forwarded: hop-by-hop, framing, or replaced by the proxy.
    Drop,
    /// `X-Forwarded-For`: kept in the chain only behind a trusted proxy.
    ForwardedFor,
    /// `x-request-id`: the proxy decides its value.
    RequestId,
}

/// Classifies a request header name (any case). Dispatches on length first: most headers are
/// rejected by one comparison.
fn classify_request(name: &[u8]) -> Class {
    let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    match name.len() {
        4 if is("host") => Class::Drop,
        6 if is("expect") => Class::Drop,
        12 if is("x-request-id") => Class::RequestId,
        14 if is("content-length") => Class::Drop,
        15 if is("x-forwarded-for") => Class::ForwardedFor,
        // The backend JWT is the gateway's to set; a client's copy is never believed.
        15 if is("x-jwt-assertion") => Class::Drop,
        16 if is("x-forwarded-host") => Class::Drop,
        17 if is("x-forwarded-proto") => Class::Drop,
        _ if is_hop_by_hop(name) => Class::Drop,
        _ => Class::Forward,
    }
}

/// Everything the upstream request head needs besides the client's head.
#[derive(Debug)]
pub struct UpstreamRequest<'a> {
    /// Upstream request-target (endpoint base path + remainder + query).
    pub target_path: &'a [u8],
    pub target_remainder: &'a [u8],
    pub query: Option<&'a [u8]>,
    /// `Host` for the upstream.
    pub authority: &'a [u8],
    /// The client's IP as text, and whether a received XFF chain is kept.
    pub peer_ip: &'a [u8],
    pub keep_forwarded_chain: bool,
    pub request_id: &'a [u8],
    pub via: Option<&'a str>,
    /// How the body is framed upstream.
    pub body: UpstreamBody,
    pub edits: &'a HeaderEdits,
    /// Path, method and query rewrites from policies.
    pub rewrites: &'a Rewrites,
}

/// Framing of the request body sent upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamBody {
    None,
    Length(u64),
    Chunked,
}

/// Encodes the upstream request head into `out`.
pub fn encode_request(out: &mut Vec<u8>, head: &RequestHead, buf: &[u8], up: &UpstreamRequest<'_>) {
    let rewrites = up.rewrites;
    let method = rewrites.method.as_deref().map_or(head.method_span.get(buf), str::as_bytes);
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(up.target_path);
    let (remainder, query) = match &rewrites.path {
        Some(path) => (path.as_bytes(), if rewrites.keep_query { up.query } else { None }),
        None => (up.target_remainder, up.query),
    };
    out.extend_from_slice(remainder);
    if up.target_path.is_empty() && remainder.is_empty() {
        out.push(b'/');
    }
    let mut separator = b'?';
    if let Some(q) = query {
        if rewrites.remove_query.is_empty() {
            out.push(separator);
            out.extend_from_slice(q);
            separator = b'&';
        } else {
            for pair in q.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
                let name = pair.split(|&b| b == b'=').next().unwrap_or_default();
                if rewrites.remove_query.iter().any(|r| r.as_bytes() == name) {
                    continue;
                }
                out.push(separator);
                out.extend_from_slice(pair);
                separator = b'&';
            }
        }
    }
    for (name, value) in &rewrites.add_query {
        out.push(separator);
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        separator = b'&';
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    h1::write_header(out, b"host", up.authority);

    let mut forwarded_chain: Option<&[u8]> = None;
    for header in &head.headers {
        let name = header.name.get(buf);
        let value = header.value.get(buf);
        match classify_request(name) {
            Class::Drop => continue,
            Class::ForwardedFor => {
                // Several XFF headers are one list (RFC 9110 §5.3); only the first is kept here,
                // which covers every real deployment.
                if forwarded_chain.is_none() {
                    forwarded_chain = Some(value);
                }
                continue;
            }
            // The proxy's value (the client's when it was sane) is written below.
            Class::RequestId => continue,
            Class::Forward => {}
        }
        if is_connection_token(name, &head.connection_tokens, buf) {
            continue;
        }
        if (!up.edits.request_remove.is_empty() || !up.edits.request_set.is_empty())
            && up.edits.drops_request_header(name)
        {
            continue;
        }
        h1::write_header(out, name, value);
    }
    for (name, value) in &up.edits.request_set {
        h1::write_header(out, name.as_bytes(), value.as_bytes());
    }

    // X-Forwarded-For: the chain only when the peer is a trusted proxy.
    out.extend_from_slice(b"x-forwarded-for: ");
    if let (true, Some(chain)) = (up.keep_forwarded_chain, forwarded_chain) {
        out.extend_from_slice(chain);
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(up.peer_ip);
    out.extend_from_slice(b"\r\n");
    h1::write_header(out, b"x-forwarded-proto", b"http");
    if let Some(host) = head.host {
        h1::write_header(out, b"x-forwarded-host", host.get(buf));
    }
    h1::write_header(out, b"x-request-id", up.request_id);
    if let Some(via) = up.via {
        h1::write_header(out, b"via", via.as_bytes());
    }
    match up.body {
        UpstreamBody::None => {}
        UpstreamBody::Length(n) => h1::write_content_length(out, n),
        UpstreamBody::Chunked => h1::write_header(out, b"transfer-encoding", b"chunked"),
    }
    h1::end_head(out);
}

/// Framing of the response body sent to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientBody {
    /// No body; a received `Content-Length` is passed on (HEAD, 304).
    None,
    Length(u64),
    Chunked,
    /// Body ends when the connection closes (HTTP/1.0 client, unknown length).
    UntilClose,
}

/// Everything the client response head needs besides the upstream's head.
#[derive(Debug)]
pub struct ClientResponse<'a> {
    pub version: Version,
    pub body: ClientBody,
    pub keep_alive: bool,
    pub request_id: &'a [u8],
    pub via: Option<&'a str>,
    pub edits: &'a HeaderEdits,
}

/// Encodes the client response head into `out`.
pub fn encode_response(
    out: &mut Vec<u8>,
    head: &ResponseHead,
    buf: &[u8],
    resp: &ClientResponse<'_>,
) {
    h1::write_status_line(out, head.status, head.reason.get(buf), resp.version);
    let mut has_request_id = false;
    for header in &head.headers {
        let name = header.name.get(buf);
        let value = header.value.get(buf);
        if name.len() == 14 && name.eq_ignore_ascii_case(b"content-length") {
            if resp.body == ClientBody::None {
                h1::write_header(out, name, value);
            }
            continue;
        }
        if is_hop_by_hop(name) || is_connection_token(name, &head.connection_tokens, buf) {
            continue;
        }
        if name.len() == 12 && name.eq_ignore_ascii_case(b"x-request-id") {
            has_request_id = true;
        }
        if (!resp.edits.response_remove.is_empty() || !resp.edits.response_set.is_empty())
            && resp.edits.drops_response_header(name)
        {
            continue;
        }
        h1::write_header(out, name, value);
    }
    for (name, value) in &resp.edits.response_set {
        h1::write_header(out, name.as_bytes(), value.as_bytes());
    }
    if !has_request_id {
        h1::write_header(out, b"x-request-id", resp.request_id);
    }
    if let Some(via) = resp.via {
        h1::write_header(out, b"via", via.as_bytes());
    }
    match resp.body {
        ClientBody::None | ClientBody::UntilClose => {}
        ClientBody::Length(n) => h1::write_content_length(out, n),
        ClientBody::Chunked => h1::write_header(out, b"transfer-encoding", b"chunked"),
    }
    if !resp.keep_alive {
        h1::write_header(out, b"connection", b"close");
    } else if resp.version == Version::Http10 {
        h1::write_header(out, b"connection", b"keep-alive");
    }
    h1::end_head(out);
}
