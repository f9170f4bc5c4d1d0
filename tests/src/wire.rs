//! HTTP/1.1 message framing shared by the test client and the test backend: a buffered reader
//! that finds a message head, parses it loosely (the tests must see what was actually sent, not
//! a normalised view), and reads a body by Content-Length, chunked coding or until EOF
//! (RFC 9112 §6–7), feeding it to a sink so large bodies never sit in memory.
//!
//! This is test tooling: it is permissive where the gateway must be strict, and never used to
//! decide whether the gateway's output is well-formed beyond what the assertions check.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest head either side accepts.
pub const MAX_HEAD: usize = 1 << 20;

/// A parsed message head: start line split on spaces, headers in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Head {
    /// The three parts of the start line (`method target version` or `version status reason`).
    pub start: [String; 3],
    /// Header fields as sent (names keep their case, values are trimmed).
    pub headers: Vec<(String, String)>,
    /// The raw head bytes, including the final empty line.
    pub raw: Vec<u8>,
}

impl Head {
    /// Value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Whether any `name` header contains `token` in its comma-separated list (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// First value of `name` in `headers` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Parses a head (everything up to and including the empty line).
pub fn parse_head(raw: &[u8]) -> Result<Head, String> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let start_line = lines.next().ok_or("empty head")?;
    let mut parts = start_line.splitn(3, ' ');
    let start = [
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    ];
    if start[1].is_empty() {
        return Err(format!("bad start line {start_line:?}"));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (n, v) = line.split_once(':').ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((n.to_owned(), v.trim().to_owned()));
    }
    Ok(Head { start, headers, raw: raw.to_vec() })
}

/// A buffered reader over a byte stream; counts every byte it reads into `counter`, if any.
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    counter: Option<Arc<AtomicU64>>,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader { inner, buf: vec![0; 64 * 1024], pos: 0, end: 0, counter: None }
    }

    pub fn with_counter(inner: R, counter: Arc<AtomicU64>) -> Self {
        let mut r = Self::new(inner);
        r.counter = Some(counter);
        r
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Bytes already read but not consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            } else {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        self.end += n;
        if let Some(c) = &self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    /// Reads one head. `Ok(None)`: clean EOF before any byte of it.
    pub fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut scanned: usize = 0;
        loop {
            let avail = &self.buf[self.pos..self.end];
            if let Some(i) = find(&avail[scanned.saturating_sub(3)..], b"\r\n\r\n") {
                let at = scanned.saturating_sub(3) + i + 4;
                let head = avail[..at].to_vec();
                self.pos += at;
                return Ok(Some(head));
            }
            scanned = avail.len();
            if scanned > MAX_HEAD {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
            }
            if self.fill()? == 0 {
                return if self.pos == self.end {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "EOF inside a head; got {:?}",
                            String::from_utf8_lossy(&self.buf[self.pos..self.end])
                        ),
                    ))
                };
            }
        }
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    pub fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf[self.pos..self.end], b"\r\n") {
                let line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 2;
                return Ok(line);
            }
            if self.end - self.pos > 64 * 1024 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF inside a line"));
            }
        }
    }

    /// Reads exactly `n` bytes into `sink`.
    pub fn read_exact_to(&mut self, mut n: u64, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        while n > 0 {
            if self.pos == self.end && self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("EOF with {n} body bytes still expected"),
                ));
            }
            let take = (self.end - self.pos).min(usize::try_from(n).unwrap_or(usize::MAX));
            sink(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take as u64;
        }
        Ok(())
    }

    /// Reads until EOF into `sink`.
    pub fn read_to_eof(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        loop {
            if self.pos < self.end {
                sink(&self.buf[self.pos..self.end]);
                self.pos = self.end;
            }
            if self.fill()? == 0 {
                return Ok(());
            }
        }
    }

    /// Reads a chunked body (RFC 9112 §7.1) into `sink`; returns the trailer fields.
    pub fn read_chunked(
        &mut self,
        sink: &mut dyn FnMut(&[u8]),
    ) -> io::Result<Vec<(String, String)>> {
        loop {
            let line = self.read_line()?;
            let text = String::from_utf8_lossy(&line);
            let size_text = text.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size line {text:?}"))
            })?;
            if size == 0 {
                let mut trailers = Vec::new();
                loop {
                    let line = self.read_line()?;
                    if line.is_empty() {
                        return Ok(trailers);
                    }
                    let t = String::from_utf8_lossy(&line);
                    if let Some((n, v)) = t.split_once(':') {
                        trailers.push((n.to_owned(), v.trim().to_owned()));
                    }
                }
            }
            self.read_exact_to(size, sink)?;
            let crlf = self.read_line()?;
            if !crlf.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk data not followed by CRLF",
                ));
            }
        }
    }
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A sink that digests everything and keeps the first `cap` bytes.
#[derive(Debug, Default)]
pub struct Capture {
    pub digest: crate::pattern::Digest,
    pub kept: Vec<u8>,
    pub cap: usize,
}

impl Capture {
    pub fn new(cap: usize) -> Capture {
        Capture { digest: crate::pattern::Digest::new(), kept: Vec::new(), cap }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.digest.update(data);
        let room = self.cap.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&data[..room.min(data.len())]);
    }
}

/// The reason phrase the test servers (backend, key manager) send with `code`.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Sleeps `d` unless `stop` is raised first (a test server shutting down); returns whether it
/// slept the whole time.
pub fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    loop {
        let now = Instant::now();
        if now >= until {
            return true;
        }
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5).min(until - now));
    }
}
