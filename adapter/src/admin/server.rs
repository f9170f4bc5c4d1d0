//! Sockets, TLS and HTTP/1.1 framing of the admin listener, on plain std threads.
//!
//! Where it sits: [`start`] binds the listener and spawns the accept thread; each accepted
//! connection gets its own thread (at most `max_connections` at once, the rest are closed), with
//! read and write timeouts, an optional rustls session, and a keep-alive loop: the head is parsed
//! with `turnpike_http::h1::parse_request`, the body read by Content-Length or through
//! `ChunkedDecoder` up to `max_body` (413 above, before reading it), then [`super::routes::handle`]
//! answers a [`Request`] with a [`Response`].
//!
//! What it does not do: no pipelining across a body that is still being read, no HTTP/2, no
//! graceful drain of connections at shutdown (they end on their own timeouts).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use turnpike_http::h1::{parse_request, ChunkedDecoder, Method, Parsed, RequestBody, RequestHead};
use turnpike_http::{H1Error, Limits};

use super::auth::{AdminUser, Authenticator};
use super::password::PasswordHash;
use super::routes::{self, Response};
use super::tls::{self, CertSource};
use super::{AdminConfig, AdminError, DEFAULT_CREDENTIALS};
use crate::deploy::Deployments;

/// What every connection thread shares.
pub struct Shared {
    pub deployments: Arc<dyn Deployments>,
    pub auth: Authenticator,
    pub max_body: usize,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    io_timeout: std::time::Duration,
}

/// One request, with its body read.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// Method bytes as received (for logs and `Other`).
    pub method_name: String,
    /// Path, without the query.
    pub path: String,
    /// Query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Header fields (names lower-cased), in order.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
}

impl Request {
    /// First value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// First value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The running admin server. Dropping it (or [`AdminHandle::shutdown`]) stops accepting
/// connections; connections in progress finish on their own.
pub struct AdminHandle {
    local_addr: SocketAddr,
    fingerprint: Option<String>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for AdminHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminHandle").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl AdminHandle {
    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// SHA-256 fingerprint of the served certificate (`AB:CD:...`); `None` for plain HTTP.
    pub fn cert_fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// Stops accepting and waits for the accept thread to end.
    pub fn shutdown(mut self) {
        self.stop_accepting();
    }

    fn stop_accepting(&mut self) {
        let Some(accept) = self.accept.take() else { return };
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a connection of our own.
        let mut wake = self.local_addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, std::time::Duration::from_secs(1));
        let _ = accept.join();
    }
}

impl Drop for AdminHandle {
    fn drop(&mut self) {
        self.stop_accepting();
    }
}

pub(super) fn start(
    config: &AdminConfig,
    deployments: Arc<dyn Deployments>,
) -> Result<AdminHandle, AdminError> {
    let loopback = config.address.ip().is_loopback();
    if config.plain_http && !loopback {
        return Err(AdminError::PlainHttpNotLoopback(config.address));
    }
    let cert_key = match (&config.tls_cert, &config.tls_key) {
        (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
        (None, None) => None,
        _ => return Err(AdminError::IncompleteTls),
    };
    let tls = if config.plain_http {
        None
    } else {
        Some(tls::server_config(cert_key, &config.state_dir, config.address)?)
    };
    let users = if !config.users.is_empty() {
        config.users.clone()
    } else if loopback {
        tracing::warn!(
            "admin API: no [[admin.users]] configured; accepting the default admin/admin because \
             the listener is loopback only. Configure users (turnpike hash-password) before \
             exposing it"
        );
        let (username, password) = DEFAULT_CREDENTIALS;
        vec![AdminUser {
            username: username.to_owned(),
            password_hash: PasswordHash::new(password, 1000),
        }]
    } else {
        tracing::warn!(
            address = %config.address,
            "admin API: no [[admin.users]] configured and the listener is not loopback: nobody \
             can log in. Add users (turnpike hash-password) to deploy through the admin API"
        );
        Vec::new()
    };

    let listener = TcpListener::bind(config.address)
        .map_err(|source| AdminError::Bind { address: config.address, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| AdminError::Bind { address: config.address, source })?;
    let fingerprint = tls.as_ref().map(|t| t.fingerprint.clone());
    match &tls {
        Some(t) => {
            let how = match t.source {
                CertSource::Configured => "configured",
                CertSource::Generated => "self-signed, generated now",
                CertSource::Reused => "self-signed, generated earlier",
            };
            tracing::info!(
                address = %local_addr,
                certificate = %t.cert_path.display(),
                sha256 = %t.fingerprint,
                "admin API listening on HTTPS ({how} certificate)"
            );
        }
        None => tracing::info!(address = %local_addr, "admin API listening on plain HTTP"),
    }
    let shared = Arc::new(Shared {
        deployments,
        auth: Authenticator::new(users, config.token_ttl),
        max_body: config.max_body,
        limits: Limits::default(),
        tls: tls.map(|t| t.config),
        io_timeout: config.io_timeout,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let max_connections = config.max_connections.max(1);
    let accept = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("turnpike-admin".into())
            .spawn(move || accept_loop(&listener, &shared, &stop, max_connections))
            .map_err(AdminError::Thread)?
    };
    Ok(AdminHandle { local_addr, fingerprint, stop, accept: Some(accept) })
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    stop: &AtomicBool,
    max_connections: usize,
) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "admin API: accept failed");
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
        };
        if active.load(Ordering::SeqCst) >= max_connections {
            tracing::warn!(%peer, max_connections, "admin API: too many connections; closing");
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let guard = ActiveGuard(active.clone());
        let shared = shared.clone();
        let spawned =
            std::thread::Builder::new().name("turnpike-admin-conn".into()).spawn(move || {
                let _guard = guard;
                serve(tcp, peer, &shared);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "admin API: cannot start a connection thread");
        }
    }
}

/// Decrements the connection count when a connection thread ends (or never started).
struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve(tcp: TcpStream, peer: SocketAddr, shared: &Shared) {
    let timeout = Some(shared.io_timeout);
    if tcp.set_read_timeout(timeout).is_err() || tcp.set_write_timeout(timeout).is_err() {
        return;
    }
    let _ = tcp.set_nodelay(true);
    match &shared.tls {
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else { return };
            let mut stream = rustls::StreamOwned::new(conn, tcp);
            serve_http(&mut stream, peer, shared);
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
        None => {
            let mut stream = tcp;
            serve_http(&mut stream, peer, shared);
        }
    }
}

/// Outcome of reading one request.
enum Read1 {
    Request(Request, usize),
    /// Answer this and close.
    Refuse(Response),
    /// The peer went away (or timed out, or TLS failed) between or inside requests.
    Closed,
}

/// The keep-alive loop of one connection.
fn serve_http<S: Read + Write>(stream: &mut S, peer: SocketAddr, shared: &Shared) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut head = RequestHead::default();
    loop {
        let (response, keep_alive) = match read_request(stream, &mut buf, &mut head, peer, shared) {
            Read1::Request(request, consumed) => {
                let started = Instant::now();
                let response = routes::handle(&request, shared);
                tracing::debug!(
                    %peer,
                    method = %request.method_name,
                    path = %request.path,
                    status = response.status,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "admin request"
                );
                buf.drain(..consumed.min(buf.len()));
                (response, head.keep_alive)
            }
            Read1::Refuse(response) => (response, false),
            Read1::Closed => return,
        };
        let keep_alive = keep_alive && !response.close;
        if stream.write_all(&response.encode(keep_alive)).and_then(|()| stream.flush()).is_err() {
            return;
        }
        if !keep_alive {
            return;
        }
    }
}

fn read_request<S: Read + Write>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    head: &mut RequestHead,
    peer: SocketAddr,
    shared: &Shared,
) -> Read1 {
    // The head.
    loop {
        match parse_request(buf, &shared.limits, head) {
            Ok(Parsed::Complete) => break,
            Ok(Parsed::Partial) => {
                if !fill(stream, buf) {
                    return Read1::Closed;
                }
            }
            Err(e) => return Read1::Refuse(h1_error(&e)),
        }
    }
    let head_len = head.head_len;
    let too_large = || Read1::Refuse(routes::too_large(shared.max_body));
    // The body.
    let (body, consumed) = match head.body {
        RequestBody::None => (Vec::new(), head_len),
        RequestBody::Length(n) => {
            let Some(n) = usize::try_from(n).ok().filter(|n| *n <= shared.max_body) else {
                return too_large();
            };
            if head.expect_continue && buf.len() < head_len + n && !continue_100(stream) {
                return Read1::Closed;
            }
            while buf.len() < head_len + n {
                if !fill(stream, buf) {
                    return Read1::Closed;
                }
            }
            (buf.get(head_len..head_len + n).unwrap_or(&[]).to_vec(), head_len + n)
        }
        RequestBody::Chunked => {
            if head.expect_continue && !continue_100(stream) {
                return Read1::Closed;
            }
            let mut decoder = ChunkedDecoder::new(&shared.limits);
            let mut body = Vec::new();
            let mut pos = head_len;
            loop {
                let step = match decoder.decode(buf.get(pos..).unwrap_or(&[])) {
                    Ok(step) => step,
                    Err(e) => return Read1::Refuse(h1_error(&e)),
                };
                if let Some(range) = step.data.clone() {
                    body.extend_from_slice(
                        buf.get(pos + range.start..pos + range.end).unwrap_or(&[]),
                    );
                    if body.len() > shared.max_body {
                        return too_large();
                    }
                }
                pos += step.consumed;
                if step.done {
                    break;
                }
                if step.consumed == 0 && step.data.is_none() && !fill(stream, buf) {
                    return Read1::Closed;
                }
            }
            (body, pos)
        }
    };
    Read1::Request(request_from(head, buf, body, peer), consumed)
}

fn request_from(head: &RequestHead, buf: &[u8], body: Vec<u8>, peer: SocketAddr) -> Request {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    Request {
        method: head.method,
        method_name: text(head.method_span.get(buf)),
        path: text(head.path.get(buf)),
        query: head.query.map(|q| parse_query(q.get(buf))).unwrap_or_default(),
        headers: head
            .headers
            .iter()
            .map(|h| (text(h.name.get(buf)).to_ascii_lowercase(), h.value.get(buf).to_vec()))
            .collect(),
        body,
        peer,
    }
}

/// `a=1&b=x%20y+z` → pairs, percent- and `+`-decoded (`application/x-www-form-urlencoded`).
pub fn parse_query(query: &[u8]) -> Vec<(String, String)> {
    query
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let name = it.next().unwrap_or(&[]);
            let value = it.next().unwrap_or(&[]);
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let hex = |at: usize| input.get(at).and_then(|c| (*c as char).to_digit(16));
        match b {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads more bytes into `buf`; false when the peer closed or the read failed (timeout included).
fn fill<S: Read>(stream: &mut S, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                return true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// `100 Continue` before reading a body the client is waiting to send (RFC 9110 §10.1.1).
fn continue_100<S: Write>(stream: &mut S) -> bool {
    stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").and_then(|()| stream.flush()).is_ok()
}

fn h1_error(e: &H1Error) -> Response {
    routes::error(e.status(), e.reason(), &e.to_string())
}
