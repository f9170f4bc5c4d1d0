//! A raw TCP client: writes exactly the bytes a test gives it and reads HTTP/1.1 responses with
//! its own small reader ([`crate::wire`]): Content-Length, chunked, or until close (RFC 9112
//! §6.3). Every read has a timeout (10 s unless changed), so a silent gateway fails a test
//! instead of hanging it.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::pattern::Digest;
use crate::wire::{self, Capture, Reader};

/// How the body of a response was delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body by definition (HEAD, 1xx, 204, 304).
    None,
    ContentLength,
    Chunked,
    /// Read until the server closed the connection.
    Close,
}

/// One response as received.
#[derive(Clone, Debug)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Header fields as sent, in order.
    pub headers: Vec<(String, String)>,
    pub raw_head: Vec<u8>,
    /// The body (de-chunked), unless read with [`Client::read_response_digest`]; then empty.
    pub body: Vec<u8>,
    /// Length and digest of the whole (de-chunked) body.
    pub digest: Digest,
    pub framing: BodyFraming,
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::header(&self.headers, name)
    }

    /// Every value of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON (panics with the response shown if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}):\n{}", self.describe()))
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Head plus the start of the body, for assertion messages.
    pub fn describe(&self) -> String {
        let body = &self.body[..self.body.len().min(2048)];
        format!(
            "{}{}{}",
            String::from_utf8_lossy(&self.raw_head),
            String::from_utf8_lossy(body),
            if self.body.len() > 2048 { "…" } else { "" }
        )
    }
}

/// A client connection.
pub struct Client {
    reader: Reader<TcpStream>,
    writer: TcpStream,
    peer: SocketAddr,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("peer", &self.peer).finish()
    }
}

/// Default read timeout.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// Connects (panics on failure).
    pub fn connect(addr: SocketAddr) -> Client {
        Client::try_connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"))
    }

    pub fn try_connect(addr: SocketAddr) -> io::Result<Client> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(READ_TIMEOUT))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        let _ = s.set_nodelay(true);
        let writer = s.try_clone()?;
        Ok(Client { reader: Reader::new(s), writer, peer: addr })
    }

    /// Changes the read timeout.
    pub fn set_timeout(&mut self, d: Duration) {
        self.writer.set_read_timeout(Some(d)).expect("set_read_timeout");
    }

    pub fn stream(&self) -> &TcpStream {
        &self.writer
    }

    /// Writes all of `bytes` (panics on failure).
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap_or_else(|e| panic!("write to {}: {e}", self.peer));
    }

    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Half-closes the write side.
    pub fn shutdown_write(&mut self) {
        let _ = self.writer.shutdown(Shutdown::Write);
    }

    /// Reads one response, keeping its body (panics on error or timeout).
    pub fn read_response(&mut self) -> Response {
        self.try_read(false, true)
            .unwrap_or_else(|e| panic!("reading a response from {}: {e}", self.peer))
    }

    /// Reads the response to a HEAD request (no body whatever the headers say).
    pub fn read_head_response(&mut self) -> Response {
        self.try_read(true, true)
            .unwrap_or_else(|e| panic!("reading a response from {}: {e}", self.peer))
    }

    /// Reads one response, digesting its body without keeping it.
    pub fn read_response_digest(&mut self) -> Response {
        self.try_read(false, false)
            .unwrap_or_else(|e| panic!("reading a response from {}: {e}", self.peer))
    }

    /// Sends `bytes` and reads one response.
    pub fn request(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.read_response()
    }

    /// Reads one response; `head_request` suppresses the body, `keep` keeps it in memory.
    pub fn try_read(&mut self, head_request: bool, keep: bool) -> io::Result<Response> {
        let raw = self.reader.read_head()?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before a response")
        })?;
        let head =
            wire::parse_head(&raw).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let status: u16 = head.start[1].parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line in {:?}", String::from_utf8_lossy(&raw)),
            )
        })?;
        let mut cap = Capture::new(if keep { usize::MAX } else { 0 });
        let mut trailers = Vec::new();
        let framing =
            if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
                BodyFraming::None
            } else if head.has_token("transfer-encoding", "chunked") {
                trailers = self.reader.read_chunked(&mut |b| cap.push(b))?;
                BodyFraming::Chunked
            } else if let Some(cl) = head.header("content-length") {
                let n: u64 = cl.trim().parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("bad content-length {cl:?}"))
                })?;
                self.reader.read_exact_to(n, &mut |b| cap.push(b))?;
                BodyFraming::ContentLength
            } else {
                self.reader.read_to_eof(&mut |b| cap.push(b))?;
                BodyFraming::Close
            };
        Ok(Response {
            version: head.start[0].clone(),
            status,
            reason: head.start[2].clone(),
            headers: head.headers,
            raw_head: raw,
            body: cap.kept,
            digest: cap.digest,
            framing,
            trailers,
        })
    }

    /// Whether the server closes this connection within `wait`: EOF or reset → true; silence → false.
    /// Bytes that arrive meanwhile also mean "not closed" (they stay unread by the caller).
    pub fn is_closed(&mut self, wait: Duration) -> bool {
        if !self.reader.buffered().is_empty() {
            return false;
        }
        let deadline = Instant::now() + wait;
        let _ = self.writer.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        let closed = loop {
            match self.reader.fill() {
                Ok(0) => break true,
                Ok(_) => break false,
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    break false
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted && Instant::now() < deadline => {
                    continue
                }
                Err(_) => break true,
            }
        };
        let _ = self.writer.set_read_timeout(Some(READ_TIMEOUT));
        closed
    }

    /// Bytes received but not yet consumed (e.g. after [`Client::is_closed`] returned false).
    pub fn buffered(&self) -> Vec<u8> {
        self.reader.buffered().to_vec()
    }
}

/// One request on a fresh connection: `GET path` with `Host` and `Connection: close`.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    let mut c = Client::connect(addr);
    c.request(
        format!("GET {path} HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}
