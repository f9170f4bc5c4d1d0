//! The key manager's HTTP/1.1 side: one accept thread, one thread per connection, keep-alive,
//! request bodies by Content-Length or chunked, every response with Content-Length.
//!
//! Routes: `GET /jwks` (the published keys, RFC 7517 §5), `POST /introspect` (RFC 7662 §2: form
//! field `token`, optional HTTP Basic client authentication, RFC 6749 §2.3.1), and
//! `GET /.well-known/openid-configuration` (issuer and the two endpoint URLs). Anything else is
//! 404 (405 for a known path with another method).
//!
//! Requests are read with the harness's permissive [`crate::wire`] reader: this is test tooling,
//! not a conformance target.

use std::io::{self, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::signing::b64_std_decode;
use super::{lock, State};
use crate::wire::{self, Reader};

pub(super) const JWKS_PATH: &str = "/jwks";
pub(super) const INTROSPECT_PATH: &str = "/introspect";
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Largest request body read (introspection forms are small).
const MAX_BODY: u64 = 1 << 20;

pub(super) fn accept_loop(listener: TcpListener, state: Arc<State>) {
    for conn in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else { continue };
        let id = state.connections.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            lock(&state.open).insert(id, c);
        }
        let st = state.clone();
        let _ =
            std::thread::Builder::new().name(format!("key-manager-conn-{id}")).spawn(move || {
                let _ = serve(stream, &st);
                lock(&st.open).remove(&id);
            });
    }
}

/// One parsed request.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// One response: status, JSON body, extra header lines.
struct Reply {
    status: u16,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, body, headers: Vec::new() }
    }

    fn error(status: u16, error: &str) -> Reply {
        Reply::json(status, json!({ "error": error }))
    }
}

fn serve(stream: TcpStream, state: &State) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let _ = stream.set_nodelay(true);
    let mut out = stream.try_clone()?;
    let mut rd = Reader::new(stream);
    loop {
        let Some(raw) = rd.read_head()? else { return Ok(()) };
        let Ok(head) = wire::parse_head(&raw) else {
            write_reply(&mut out, &Reply::error(400, "invalid_request"), true)?;
            return Ok(());
        };
        let mut body = Vec::new();
        if head.has_token("transfer-encoding", "chunked") {
            rd.read_chunked(&mut |b| body.extend_from_slice(b))?;
        } else if let Some(cl) = head.header("content-length") {
            let n: u64 = match cl.trim().parse() {
                Ok(n) if n <= MAX_BODY => n,
                _ => {
                    write_reply(&mut out, &Reply::error(400, "invalid_request"), true)?;
                    return Ok(());
                }
            };
            rd.read_exact_to(n, &mut |b| body.extend_from_slice(b))?;
        }
        let close = head.has_token("connection", "close")
            || (head.start[2] == "HTTP/1.0" && !head.has_token("connection", "keep-alive"));
        let target = &head.start[1];
        let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p).to_owned();
        let req = Request { method: head.start[0].clone(), path, headers: head.headers, body };
        let Some(reply) = handle(&req, state) else {
            // Stopped during a delay: leave without answering.
            return Ok(());
        };
        write_reply(&mut out, &reply, close)?;
        if close {
            let _ = out.flush();
            let _ = out.shutdown(Shutdown::Write);
            return Ok(());
        }
    }
}

/// Routes a request; `None` when the server stopped while the request waited.
fn handle(req: &Request, state: &State) -> Option<Reply> {
    let allowed = match req.path.as_str() {
        JWKS_PATH | DISCOVERY_PATH => "GET",
        INTROSPECT_PATH => "POST",
        _ => return Some(Reply::error(404, "not_found")),
    };
    if req.method != allowed {
        let mut r = Reply::error(405, "method_not_allowed");
        r.headers.push(("allow", allowed.to_owned()));
        return Some(r);
    }
    match req.path.as_str() {
        JWKS_PATH => jwks(state),
        INTROSPECT_PATH => introspect(req, state),
        _ => Some(Reply::json(
            200,
            json!({
                "issuer": state.issuer,
                "jwks_uri": format!("{}{JWKS_PATH}", state.base_url),
                "introspection_endpoint": format!("{}{INTROSPECT_PATH}", state.base_url),
            }),
        )),
    }
}

fn jwks(state: &State) -> Option<Reply> {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let (delay, failure) = {
        let s = lock(&state.settings);
        (s.jwks_delay, s.jwks_failure)
    };
    if !crate::wire::pause(delay, &state.stop) {
        return None;
    }
    if let Some(status) = failure {
        return Some(Reply::error(status, "server_error"));
    }
    // Built after the delay, so a rotation during it is what the client receives.
    Some(Reply::json(200, state.jwks()))
}

fn introspect(req: &Request, state: &State) -> Option<Reply> {
    state.introspections.fetch_add(1, Ordering::SeqCst);
    let (delay, failure, credentials) = {
        let s = lock(&state.settings);
        (s.introspection_delay, s.introspection_failure, s.client_credentials.clone())
    };
    if !crate::wire::pause(delay, &state.stop) {
        return None;
    }
    if let Some((id, secret)) = credentials {
        let given = wire::header(&req.headers, "authorization").and_then(basic_credentials);
        if given.as_deref() != Some(format!("{id}:{secret}").as_bytes()) {
            let mut r = Reply::error(401, "invalid_client");
            r.headers.push(("www-authenticate", "Basic realm=\"key-manager\"".to_owned()));
            return Some(r);
        }
    }
    if let Some(status) = failure {
        return Some(Reply::error(status, "server_error"));
    }
    let Some(token) = form_field(&req.body, "token") else {
        return Some(Reply::error(400, "invalid_request"));
    };
    let mut tokens = lock(&state.tokens);
    let Some(t) = tokens.get_mut(&token) else {
        return Some(Reply::json(200, json!({ "active": false })));
    };
    t.introspections += 1;
    if !t.active {
        return Some(Reply::json(200, json!({ "active": false })));
    }
    let mut body = json!({ "active": true, "token_type": "Bearer" });
    for (k, v) in &t.claims {
        body[k] = v.clone();
    }
    Some(Reply::json(200, body))
}

/// The decoded `user:password` of an `Authorization: Basic` value (RFC 7617 §2).
fn basic_credentials(value: &str) -> Option<Vec<u8>> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    b64_std_decode(token.trim())
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k)? == name).then(|| form_decode(v)).flatten()
    })
}

/// `+` is a space, `%XX` a byte (WHATWG URL §5.1).
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn write_reply(out: &mut TcpStream, reply: &Reply, close: bool) -> io::Result<()> {
    let body = reply.body.to_string();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\ncache-control: no-store\r\n",
        reply.status,
        crate::wire::reason_phrase(reply.status),
        body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut msg = head.into_bytes();
    msg.extend_from_slice(body.as_bytes());
    out.write_all(&msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields() {
        assert_eq!(form_field(b"token=abc", "token").as_deref(), Some("abc"));
        assert_eq!(
            form_field(b"token_type_hint=access_token&token=a%2Bb+c%3D", "token").as_deref(),
            Some("a+b c=")
        );
        assert_eq!(form_field(b"x=1", "token"), None);
        assert_eq!(form_field(b"token=%zz", "token"), None);
        assert_eq!(form_field(b"token=%4", "token"), None);
    }

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(
            basic_credentials("Basic Y2xpZW50OnNlY3JldA==").as_deref(),
            Some(&b"client:secret"[..])
        );
        assert_eq!(
            basic_credentials("basic Y2xpZW50OnNlY3JldA").as_deref(),
            Some(&b"client:secret"[..])
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
    }
}
