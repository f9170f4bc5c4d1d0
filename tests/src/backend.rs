//! A real HTTP/1.1 origin on std threads that records every request it receives.
//!
//! One accept thread, one thread per connection, keep-alive honoured. Each request is matched by
//! path prefix against the configured routes (first match wins, default [`Behaviour::Echo`]) and
//! answered accordingly: an echo of what arrived, a deterministic body of any size with any
//! framing, a delay, silence, or an immediate close. Everything received is counted
//! ([`Backend::bytes_received`]) even when it does not parse, so a test can assert that the
//! gateway forwarded nothing at all.
//!
//! It does not validate requests: it records them as sent, for the tests to judge.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::pattern::{self, Digest};
use crate::wire::{self, Capture, Head, Reader};

/// How a generated response body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    Chunked,
    /// No length: the body ends when the backend closes the connection.
    Close,
}

/// What the backend does with a request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// 200 with a JSON description of the request: method, target, version, headers (in order,
    /// as sent), body length and digest, and the backend's port.
    Echo,
    /// 200 with the received body as the response body (Content-Length framing).
    EchoBody,
    /// 200 with `len` bytes of the deterministic pattern; the digest is in `x-body-digest`.
    Body { len: u64, framing: Framing },
    /// 200 with this status and body (Content-Length framing).
    Status(u16, String),
    /// Waits, then behaves as the inner behaviour.
    Delay(Duration, Box<Behaviour>),
    /// Waits before reading the request body (a slow consumer), then behaves as the inner behaviour.
    DelayRead(Duration, Box<Behaviour>),
    /// Reads the request and never answers; the connection stays open until the backend drops.
    Never,
    /// Closes the connection as soon as the request has arrived.
    Close,
}

/// One request as the backend received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Which connection (0-based, in accept order) carried it.
    pub conn: usize,
    pub method: String,
    pub target: String,
    pub version: String,
    /// Header fields as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The raw head bytes.
    pub raw_head: Vec<u8>,
    /// The first MiB of the (de-chunked) body.
    pub body: Vec<u8>,
    /// Length and digest of the whole (de-chunked) body.
    pub body_digest: Digest,
    /// Whether the body arrived with chunked transfer coding.
    pub chunked: bool,
}

impl Recorded {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::header(&self.headers, name)
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The raw head, for assertion messages.
    pub fn head_text(&self) -> String {
        String::from_utf8_lossy(&self.raw_head).into_owned()
    }
}

struct State {
    routes: Vec<(String, Behaviour)>,
    record: bool,
    requests: Mutex<Vec<Recorded>>,
    bytes: Arc<AtomicU64>,
    connections: AtomicUsize,
    stop: AtomicBool,
    open: Mutex<HashMap<usize, TcpStream>>,
}

/// Builder for a [`Backend`].
#[derive(Debug, Default)]
pub struct BackendBuilder {
    routes: Vec<(String, Behaviour)>,
    no_record: bool,
    listen: Option<SocketAddr>,
}

impl BackendBuilder {
    /// Requests whose path starts with `prefix` get `behaviour` (first match wins).
    pub fn route(mut self, prefix: &str, behaviour: Behaviour) -> Self {
        self.routes.push((prefix.to_owned(), behaviour));
        self
    }

    /// Do not keep requests (the standalone server runs for ever).
    pub fn no_record(mut self) -> Self {
        self.no_record = true;
        self
    }

    /// Listen here instead of on an ephemeral port of 127.0.0.1.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    pub fn start(self) -> Backend {
        self.try_start().expect("start backend")
    }

    pub fn try_start(self) -> io::Result<Backend> {
        let listener =
            TcpListener::bind(self.listen.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            routes: self.routes,
            record: !self.no_record,
            requests: Mutex::new(Vec::new()),
            bytes: Arc::new(AtomicU64::new(0)),
            connections: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
        });
        let st = state.clone();
        let accept = std::thread::Builder::new()
            .name(format!("backend-{}", addr.port()))
            .spawn(move || accept_loop(listener, st))?;
        Ok(Backend { addr, state, accept: Some(accept) })
    }
}

/// A running backend; stops (closing every connection) on drop.
pub struct Backend {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("addr", &self.addr).finish()
    }
}

impl Backend {
    pub fn builder() -> BackendBuilder {
        BackendBuilder::default()
    }

    /// A backend that echoes every request.
    pub fn echo() -> Backend {
        Backend::builder().start()
    }

    /// A backend with one behaviour for every path.
    pub fn with(behaviour: Behaviour) -> Backend {
        Backend::builder().route("", behaviour).start()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` followed by `base_path`.
    pub fn url(&self, base_path: &str) -> String {
        format!("http://{}{}", self.addr, base_path)
    }

    /// Every request received so far (complete heads; bodies read to their end).
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The only request received; panics (showing them) if there is not exactly one.
    pub fn single_request(&self) -> Recorded {
        let r = self.requests();
        assert_eq!(r.len(), 1, "backend expected exactly one request, got: {:#?}", heads(&r));
        r.into_iter().next().expect("one request")
    }

    /// Waits up to `timeout` for at least `n` requests; returns them.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        crate::wait_until(timeout, || self.request_count() >= n);
        self.requests()
    }

    /// Total bytes read from every connection, parsed or not.
    pub fn bytes_received(&self) -> u64 {
        self.state.bytes.load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// Asserts that no byte has arrived, after `settle` to let a stray forward land.
    pub fn assert_received_nothing(&self, settle: Duration) {
        std::thread::sleep(settle);
        let n = self.bytes_received();
        assert_eq!(
            n,
            0,
            "backend must receive nothing, but got {n} bytes; requests: {:#?}",
            heads(&self.requests())
        );
    }

    /// Blocks for ever (the standalone binary).
    pub fn join(mut self) {
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn heads(r: &[Recorded]) -> Vec<String> {
    r.iter().map(Recorded::head_text).collect()
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        for s in self.state.open.lock().unwrap_or_else(|e| e.into_inner()).values() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    for conn in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else { continue };
        let id = state.connections.fetch_add(1, Ordering::Relaxed);
        if let Ok(c) = stream.try_clone() {
            state.open.lock().unwrap_or_else(|e| e.into_inner()).insert(id, c);
        }
        let st = state.clone();
        let _ = std::thread::Builder::new().name(format!("backend-conn-{id}")).spawn(move || {
            let _ = serve(stream, id, &st);
            st.open.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        });
    }
}

fn serve(stream: TcpStream, id: usize, state: &State) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let _ = stream.set_nodelay(true);
    let mut out = stream.try_clone()?;
    let mut rd = Reader::with_counter(stream, state.bytes.clone());
    loop {
        let Some(raw) = rd.read_head()? else { return Ok(()) };
        let head = match wire::parse_head(&raw) {
            Ok(h) => h,
            Err(e) => {
                let msg = format!("backend could not parse head: {e}");
                write_simple(&mut out, 400, &msg, true)?;
                return Ok(());
            }
        };
        let chunked = head.has_token("transfer-encoding", "chunked");
        let mut behaviour = route(&state.routes, &head.start[1]);
        if let Behaviour::DelayRead(d, inner) = behaviour {
            crate::wire::pause(*d, &state.stop);
            behaviour = inner;
        }
        let mut cap = Capture::new(1 << 20);
        if chunked {
            rd.read_chunked(&mut |b| cap.push(b))?;
        } else if let Some(cl) = head.header("content-length") {
            let n: u64 = cl.trim().parse().unwrap_or(0);
            rd.read_exact_to(n, &mut |b| cap.push(b))?;
        }
        let rec = Recorded {
            conn: id,
            method: head.start[0].clone(),
            target: head.start[1].clone(),
            version: head.start[2].clone(),
            headers: head.headers.clone(),
            raw_head: raw,
            body: cap.kept,
            body_digest: cap.digest,
            chunked,
        };
        let close_requested = head.has_token("connection", "close")
            || (rec.version == "HTTP/1.0" && !head.has_token("connection", "keep-alive"));
        if state.record {
            state.requests.lock().unwrap_or_else(|e| e.into_inner()).push(rec.clone());
        }
        let keep = respond(&mut out, &rec, &head, behaviour, state)?;
        if !keep || close_requested {
            let _ = out.flush();
            let _ = out.shutdown(Shutdown::Write);
            // Drain briefly so the peer sees FIN, not RST.
            let _ = rd.get_ref().set_read_timeout(Some(Duration::from_millis(200)));
            let _ = rd.read_to_eof(&mut |_| {});
            return Ok(());
        }
    }
}

fn route<'a>(routes: &'a [(String, Behaviour)], target: &str) -> &'a Behaviour {
    const ECHO: &Behaviour = &Behaviour::Echo;
    routes.iter().find(|(p, _)| target.starts_with(p.as_str())).map_or(ECHO, |(_, b)| b)
}

/// Writes the response; returns whether the connection may carry another request.
fn respond(
    out: &mut TcpStream,
    rec: &Recorded,
    head: &Head,
    behaviour: &Behaviour,
    state: &State,
) -> io::Result<bool> {
    let is_head = rec.method == "HEAD";
    match behaviour {
        Behaviour::Echo => {
            let v = serde_json::json!({
                "method": rec.method,
                "target": rec.target,
                "version": rec.version,
                "headers": head.headers.iter().map(|(n, v)| [n, v]).collect::<Vec<_>>(),
                "body_len": rec.body_digest.len,
                "body_digest": rec.body_digest.to_text(),
                "chunked": rec.chunked,
                "backend": out.local_addr().map(|a| a.port()).unwrap_or(0),
            });
            let body = v.to_string();
            write_full(out, 200, "application/json", body.as_bytes(), is_head)?;
            Ok(true)
        }
        Behaviour::EchoBody => {
            write_full(out, 200, "application/octet-stream", &rec.body, is_head)?;
            Ok(true)
        }
        Behaviour::Status(code, body) => {
            write_full(out, *code, "text/plain", body.as_bytes(), is_head)?;
            Ok(true)
        }
        Behaviour::Body { len, framing } => {
            write_generated(out, *len, *framing, is_head)?;
            Ok(*framing != Framing::Close)
        }
        // The read delay was served before the body was read.
        Behaviour::DelayRead(_, inner) => respond(out, rec, head, inner, state),
        Behaviour::Delay(d, inner) => {
            if !crate::wire::pause(*d, &state.stop) {
                return Ok(false);
            }
            respond(out, rec, head, inner, state)
        }
        Behaviour::Never => {
            let until = Instant::now() + Duration::from_secs(60);
            while !state.stop.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(false)
        }
        Behaviour::Close => Ok(false),
    }
}

fn write_full(
    out: &mut TcpStream,
    code: u16,
    ctype: &str,
    body: &[u8],
    is_head: bool,
) -> io::Result<()> {
    let mut msg = format!(
        "HTTP/1.1 {code} {}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nx-body-digest: {}\r\n\r\n",
        crate::wire::reason_phrase(code),
        body.len(),
        Digest::of(body).to_text()
    )
    .into_bytes();
    if !is_head {
        msg.extend_from_slice(body);
    }
    out.write_all(&msg)
}

fn write_simple(out: &mut TcpStream, code: u16, text: &str, close: bool) -> io::Result<()> {
    let conn = if close { "connection: close\r\n" } else { "" };
    let msg = format!(
        "HTTP/1.1 {code} {}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{conn}\r\n{text}",
        crate::wire::reason_phrase(code),
        text.len()
    );
    out.write_all(msg.as_bytes())
}

fn write_generated(
    out: &mut TcpStream,
    len: u64,
    framing: Framing,
    is_head: bool,
) -> io::Result<()> {
    let digest = Digest::of_pattern(len).to_text();
    let framing_header = match framing {
        Framing::ContentLength => format!("content-length: {len}\r\n"),
        Framing::Chunked => "transfer-encoding: chunked\r\n".to_owned(),
        Framing::Close => "connection: close\r\n".to_owned(),
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\nx-body-digest: {digest}\r\n{framing_header}\r\n"
    );
    out.write_all(head.as_bytes())?;
    if is_head {
        return Ok(());
    }
    // Chunk sizes vary so that chunk boundaries fall everywhere relative to the gateway's buffers.
    const SIZES: [usize; 5] = [16384, 1, 4000, 65536, 777];
    let mut buf = vec![0u8; 65536];
    let mut off = 0u64;
    let mut k = 0;
    while off < len {
        let n = (len - off).min(SIZES[k % SIZES.len()] as u64) as usize;
        k += 1;
        pattern::fill(off, &mut buf[..n]);
        if framing == Framing::Chunked {
            out.write_all(format!("{n:x}\r\n").as_bytes())?;
            out.write_all(&buf[..n])?;
            out.write_all(b"\r\n")?;
        } else {
            out.write_all(&buf[..n])?;
        }
        off += n as u64;
    }
    if framing == Framing::Chunked {
        out.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}
