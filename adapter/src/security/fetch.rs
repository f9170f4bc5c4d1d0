//! A small blocking HTTP/1.1 client for control-plane callouts (JWKS today): one `GET` or `POST`
//! per connection (`Connection: close`) over `TcpStream`, or over rustls (ring provider) for
//! `https://`.
//!
//! Where it sits: under [`super::jwks`]'s refresher thread, on the control plane, never on a core.
//! The URL is parsed once ([`Url::parse`], at config load); each call resolves the host with the
//! system resolver (IPv4/IPv6 literals and DNS names), connects with
//! [`FetchOptions::connect_timeout`] per address, and runs the whole exchange under one deadline
//! ([`FetchOptions::timeout`]). The response head is parsed by `turnpike_http::h1::parse_response`
//! and the body framed by Content-Length, chunked coding (`ChunkedDecoder`) or connection close,
//! never more than [`FetchOptions::max_body`] bytes. Anything but `200` is
//! [`FetchError::Status`].
//!
//! Trust: neither `webpki-roots` nor `rustls-native-certs` is a dependency, so `https://` is
//! verified against [`FetchOptions::ca_file`] (a PEM bundle, e.g. the distribution's
//! `/etc/ssl/certs/ca-certificates.crt`) and refused without one ([`FetchError::NoTrustAnchors`]).
//!
//! What it does not do: no redirects, no proxies, no connection reuse, no compression, no
//! cookies, no client certificates; DNS resolution (`getaddrinfo`) is not bounded by the
//! timeouts, std offers no way to; bodies are held in memory.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use turnpike_http::h1::{self, ChunkedDecoder, ResponseBody, ResponseHead};
use turnpike_http::Limits;

/// Default for [`FetchOptions::max_body`]: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// Default for [`FetchOptions::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for [`FetchOptions::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

const USER_AGENT: &str = concat!("turnpike/", env!("CARGO_PKG_VERSION"));

/// An `http://` or `https://` URL, checked once: `scheme://host[:port][/path][?query]`, where host
/// is a DNS name, an IPv4 literal or a bracketed IPv6 literal. No userinfo; a fragment is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    text: String,
    tls: bool,
    /// Without brackets for IPv6.
    host: String,
    port: u16,
    /// Path and query, at least `/`.
    target: String,
}

impl Url {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<Url, FetchError> {
        let bad = |reason: &'static str| FetchError::InvalidUrl { url: text.to_owned(), reason };
        let (tls, rest) = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
            _ => return Err(bad("scheme must be http:// or https://")),
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("userinfo is not supported"));
        }
        let default_port = if tls { 443 } else { 80 };
        let parse_port = |p: &str| p.parse::<u16>().ok().filter(|&p| p != 0);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed IPv6 literal"))?;
            if host.parse::<Ipv6Addr>().is_err() {
                return Err(bad("invalid IPv6 literal"));
            }
            let port = match after {
                "" => default_port,
                _ => after.strip_prefix(':').and_then(parse_port).ok_or_else(|| bad("bad port"))?,
            };
            (host, port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((host, port)) => (host, parse_port(port).ok_or_else(|| bad("bad port"))?),
                None => (authority, default_port),
            };
            let name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
            if host.is_empty() || !host.bytes().all(name_byte) {
                return Err(bad("host must be a DNS name or an IP literal"));
            }
            (host, port)
        };
        // The request-target goes on the wire as is: visible ASCII only (RFC 3986, encoded).
        if !target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("path and query must be percent-encoded ASCII"));
        }
        let target = if target.starts_with('/') { target.to_owned() } else { format!("/{target}") };
        Ok(Url { text: text.to_owned(), tls, host: host.to_owned(), port, target })
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.tls
    }

    /// The host: a DNS name or an IP literal (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Path and query as sent in the request line (at least `/`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    fn authority(&self) -> String {
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let default_port = if self.tls { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Url {
    type Err = FetchError;

    fn from_str(text: &str) -> Result<Url, FetchError> {
        Url::parse(text)
    }
}

/// How a fetch is made.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Limit for each TCP connection attempt (one per resolved address).
    pub connect_timeout: Duration,
    /// Limit for the whole exchange: connection, TLS handshake, request and response.
    pub timeout: Duration,
    /// Largest response body accepted ([`FetchError::TooLarge`] beyond).
    pub max_body: usize,
    /// PEM bundle of the certificate authorities trusted for `https://`; required for it.
    pub ca_file: Option<PathBuf>,
    /// Extra request header fields (e.g. `Authorization`); names must be tokens and values
    /// must not contain control characters.
    pub headers: Vec<(String, String)>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            ca_file: None,
            headers: Vec::new(),
        }
    }
}

impl FetchOptions {
    /// Loads [`FetchOptions::ca_file`] once, so that a missing or empty bundle is reported at
    /// configuration time rather than at the first `https://` fetch. `Ok` without a CA file.
    pub fn check(&self) -> Result<(), FetchError> {
        match &self.ca_file {
            Some(path) => load_roots(path, "").map(drop),
            None => Ok(()),
        }
    }
}

/// A `200` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The `Content-Type` field, if any.
    pub content_type: Option<String>,
    /// The whole body (de-chunked).
    pub body: Vec<u8>,
}

/// Why a fetch produced no `200` response. Every variant names the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Not an `http(s)://host[:port][/path]` URL.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An extra header from [`FetchOptions::headers`] that cannot be sent.
    InvalidHeader {
        /// The URL.
        url: String,
        /// The header name.
        name: String,
    },
    /// `https://` without [`FetchOptions::ca_file`].
    NoTrustAnchors {
        /// The URL.
        url: String,
    },
    /// The CA bundle cannot be read or holds no certificate.
    CaFile {
        /// The URL (empty from [`FetchOptions::check`]).
        url: String,
        /// The bundle's path.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// The host name did not resolve.
    Resolve {
        /// The URL.
        url: String,
        /// The resolver's error.
        error: String,
    },
    /// No resolved address accepted a connection.
    Connect {
        /// The URL.
        url: String,
        /// The last address's error.
        error: String,
    },
    /// The connect timeout or the total timeout passed.
    Timeout {
        /// The URL.
        url: String,
        /// The limit that passed.
        after: Duration,
    },
    /// The TLS handshake or record layer failed (e.g. an untrusted certificate).
    Tls {
        /// The URL.
        url: String,
        /// rustls's error.
        error: String,
    },
    /// The connection broke.
    Io {
        /// The URL.
        url: String,
        /// The I/O error.
        error: String,
    },
    /// The answer is not valid HTTP/1.1, or the body was cut short.
    Protocol {
        /// The URL.
        url: String,
        /// What was wrong.
        error: String,
    },
    /// The body is larger than [`FetchOptions::max_body`].
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// A final status other than `200`.
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
}

impl FetchError {
    /// The URL the error is about.
    pub fn url(&self) -> &str {
        match self {
            Self::InvalidUrl { url, .. }
            | Self::InvalidHeader { url, .. }
            | Self::NoTrustAnchors { url }
            | Self::CaFile { url, .. }
            | Self::Resolve { url, .. }
            | Self::Connect { url, .. }
            | Self::Timeout { url, .. }
            | Self::Tls { url, .. }
            | Self::Io { url, .. }
            | Self::Protocol { url, .. }
            | Self::TooLarge { url, .. }
            | Self::Status { url, .. } => url,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            Self::InvalidHeader { url, name } => {
                write!(f, "{url}: header {name:?} cannot be sent (not a token, or control bytes)")
            }
            Self::NoTrustAnchors { url } => write!(
                f,
                "{url}: https needs a CA bundle (ca_file); Turnpike has no built-in trust store"
            ),
            Self::CaFile { url, path, error } if url.is_empty() => {
                write!(f, "CA bundle {}: {error}", path.display())
            }
            Self::CaFile { url, path, error } => {
                write!(f, "{url}: CA bundle {}: {error}", path.display())
            }
            Self::Resolve { url, error } => write!(f, "{url}: host did not resolve: {error}"),
            Self::Connect { url, error } => write!(f, "{url}: connection failed: {error}"),
            Self::Timeout { url, after } => write!(f, "{url}: no answer within {after:?}"),
            Self::Tls { url, error } => write!(f, "{url}: TLS failed: {error}"),
            Self::Io { url, error } => write!(f, "{url}: connection broke: {error}"),
            Self::Protocol { url, error } => write!(f, "{url}: invalid response: {error}"),
            Self::TooLarge { url, limit } => {
                write!(f, "{url}: response body larger than {limit} bytes")
            }
            Self::Status { url, status } => write!(f, "{url}: status {status}, expected 200"),
        }
    }
}

impl std::error::Error for FetchError {}

/// `GET url`; `Ok` only for a `200` response.
pub fn get(url: &Url, options: &FetchOptions) -> Result<Fetched, FetchError> {
    request(url, "GET", None, options)
}

/// `POST url` with `body` of type `content_type`; `Ok` only for a `200` response.
pub fn post(
    url: &Url,
    content_type: &str,
    body: &[u8],
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    request(url, "POST", Some((content_type, body)), options)
}

fn request(
    url: &Url,
    method: &str,
    body: Option<(&str, &[u8])>,
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let start = Instant::now();
    let head = request_head(url, method, body, options)?;
    // Build the TLS configuration before touching the network: a missing CA is a usage error.
    let tls = if url.tls { Some(tls_config(url, options)?) } else { None };
    let tcp = connect(url, options, start)?;
    let deadline = start + options.timeout;
    let io = Ctx { url, options };
    let stream = DeadlineStream { tcp, deadline };
    match tls {
        Some(config) => {
            let name = ServerName::try_from(url.host.clone()).map_err(|e| FetchError::Tls {
                url: url.text.clone(),
                error: format!("host is not a valid server name: {e}"),
            })?;
            let conn = ClientConnection::new(config, name)
                .map_err(|e| FetchError::Tls { url: url.text.clone(), error: e.to_string() })?;
            io.exchange(&mut StreamOwned::new(conn, stream), &head, body)
        }
        None => io.exchange(&mut { stream }, &head, body),
    }
}

fn request_head(
    url: &Url,
    method: &str,
    body: Option<(&str, &[u8])>,
    options: &FetchOptions,
) -> Result<Vec<u8>, FetchError> {
    let mut head = Vec::with_capacity(256);
    h1::write_request_line(&mut head, method.as_bytes(), url.target.as_bytes());
    h1::write_header(&mut head, b"Host", url.authority().as_bytes());
    h1::write_header(&mut head, b"User-Agent", USER_AGENT.as_bytes());
    h1::write_header(&mut head, b"Accept", b"application/json");
    h1::write_header(&mut head, b"Connection", b"close");
    for (name, value) in &options.headers {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        // RFC 9110 §5.5: field values are VCHAR, SP and HTAB (obs-text refused here).
        let value_ok = value.bytes().all(|b| b == b'\t' || b == b' ' || b.is_ascii_graphic());
        if name.is_empty() || !name.bytes().all(token) || !value_ok {
            return Err(FetchError::InvalidHeader { url: url.text.clone(), name: name.clone() });
        }
        h1::write_header(&mut head, name.as_bytes(), value.as_bytes());
    }
    if let Some((content_type, body)) = body {
        if !content_type.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            let name = "Content-Type".to_owned();
            return Err(FetchError::InvalidHeader { url: url.text.clone(), name });
        }
        h1::write_header(&mut head, b"Content-Type", content_type.as_bytes());
        h1::write_content_length(&mut head, body.len() as u64);
    }
    h1::end_head(&mut head);
    Ok(head)
}

fn load_roots(path: &PathBuf, url: &str) -> Result<RootCertStore, FetchError> {
    let fail =
        |error: String| FetchError::CaFile { url: url.to_owned(), path: path.clone(), error };
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| fail(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        let cert = cert.map_err(|e| fail(e.to_string()))?;
        roots.add(cert).map_err(|e| fail(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(fail("no certificate in the file".into()));
    }
    Ok(roots)
}

fn tls_config(url: &Url, options: &FetchOptions) -> Result<Arc<ClientConfig>, FetchError> {
    let Some(path) = &options.ca_file else {
        return Err(FetchError::NoTrustAnchors { url: url.text.clone() });
    };
    let roots = load_roots(path, &url.text)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls { url: url.text.clone(), error: e.to_string() })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn connect(url: &Url, options: &FetchOptions, start: Instant) -> Result<TcpStream, FetchError> {
    let addrs: Vec<_> = match url.host.parse::<IpAddr>() {
        Ok(ip) => vec![(ip, url.port).into()],
        Err(_) => (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| FetchError::Resolve { url: url.text.clone(), error: e.to_string() })?
            .collect(),
    };
    let mut last = None;
    for addr in addrs {
        let left = options.timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        let limit = options.connect_timeout.min(left);
        match TcpStream::connect_timeout(&addr, limit) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) if is_timeout(&e) => {
                last = Some(FetchError::Timeout { url: url.text.clone(), after: limit });
            }
            Err(e) => {
                let error = format!("{addr}: {e}");
                last = Some(FetchError::Connect { url: url.text.clone(), error });
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        if start.elapsed() >= options.timeout {
            FetchError::Timeout { url: url.text.clone(), after: options.timeout }
        } else {
            FetchError::Resolve { url: url.text.clone(), error: "no address".into() }
        }
    }))
}

fn is_timeout(err: &io::Error) -> bool {
    matches!(err.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

/// A socket whose every read and write is bounded by what is left of one deadline.
struct DeadlineStream {
    tcp: TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            Ok(left)
        }
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.set_read_timeout(Some(self.left()?))?;
        self.tcp.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.set_write_timeout(Some(self.left()?))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// What one exchange needs to name its errors and enforce its limits.
struct Ctx<'a> {
    url: &'a Url,
    options: &'a FetchOptions,
}

impl Ctx<'_> {
    fn exchange<S: Read + Write>(
        &self,
        stream: &mut S,
        head: &[u8],
        body: Option<(&str, &[u8])>,
    ) -> Result<Fetched, FetchError> {
        stream.write_all(head).map_err(|e| self.io_error(&e))?;
        if let Some((_, body)) = body {
            stream.write_all(body).map_err(|e| self.io_error(&e))?;
        }
        stream.flush().map_err(|e| self.io_error(&e))?;
        let method = if body.is_some() { h1::Method::Post } else { h1::Method::Get };
        self.read_response(stream, method)
    }

    fn io_error(&self, err: &io::Error) -> FetchError {
        let url = self.url.text.clone();
        if is_timeout(err) {
            return FetchError::Timeout { url, after: self.options.timeout };
        }
        match err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            Some(tls) => FetchError::Tls { url, error: tls.to_string() },
            None => FetchError::Io { url, error: err.to_string() },
        }
    }

    fn protocol(&self, error: impl Into<String>) -> FetchError {
        FetchError::Protocol { url: self.url.text.clone(), error: error.into() }
    }

    fn too_large(&self) -> FetchError {
        FetchError::TooLarge { url: self.url.text.clone(), limit: self.options.max_body }
    }

    /// Reads more bytes into `buf`; 0 at the end of the stream.
    fn read_more<S: Read>(&self, stream: &mut S, buf: &mut Vec<u8>) -> Result<usize, FetchError> {
        let mut chunk = [0u8; 8192];
        loop {
            return match stream.read(&mut chunk) {
                Ok(n) => {
                    buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                    Ok(n)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A TLS peer that closes without close_notify: the callers check that the
                // framing says the body is complete (a close-delimited body may be truncated).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                Err(e) => Err(self.io_error(&e)),
            };
        }
    }

    /// Reads one final response; the body only for a `200`.
    fn read_response<S: Read>(
        &self,
        stream: &mut S,
        method: h1::Method,
    ) -> Result<Fetched, FetchError> {
        let limits = Limits::default();
        let mut buf = Vec::with_capacity(8192);
        let mut head = ResponseHead::default();
        loop {
            if !buf.is_empty() {
                let parsed = h1::parse_response(&buf, &limits, method, &mut head)
                    .map_err(|e| self.protocol(e.reason()))?;
                if parsed == h1::Parsed::Complete {
                    if head.is_interim() {
                        buf.drain(..head.head_len);
                        continue;
                    }
                    break;
                }
            }
            if self.read_more(stream, &mut buf)? == 0 {
                return Err(self.protocol("connection closed before a response"));
            }
        }
        if head.status != 200 {
            return Err(FetchError::Status { url: self.url.text.clone(), status: head.status });
        }
        let content_type =
            head.header(&buf, "content-type").map(|v| String::from_utf8_lossy(v).into_owned());
        let rest = buf.split_off(head.head_len);
        let body = match head.body {
            ResponseBody::None => Vec::new(),
            ResponseBody::Length(n) => self.read_length(stream, rest, n)?,
            ResponseBody::Chunked => self.read_chunked(stream, rest, &limits)?,
            ResponseBody::CloseDelimited => self.read_to_close(stream, rest)?,
        };
        Ok(Fetched { content_type, body })
    }

    fn read_length<S: Read>(
        &self,
        stream: &mut S,
        mut rest: Vec<u8>,
        n: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > self.options.max_body {
            return Err(self.too_large());
        }
        while rest.len() < n {
            if self.read_more(stream, &mut rest)? == 0 {
                return Err(self.protocol("body shorter than its Content-Length"));
            }
        }
        rest.truncate(n);
        Ok(rest)
    }

    fn read_chunked<S: Read>(
        &self,
        stream: &mut S,
        mut rest: Vec<u8>,
        limits: &Limits,
    ) -> Result<Vec<u8>, FetchError> {
        let mut decoder = ChunkedDecoder::new(limits);
        let mut out = Vec::new();
        loop {
            let step = decoder
                .decode(&rest)
                .map_err(|e| self.protocol(format!("chunked body: {}", e.reason())))?;
            if let Some(range) = step.data.clone() {
                if out.len() + range.len() > self.options.max_body {
                    return Err(self.too_large());
                }
                out.extend_from_slice(rest.get(range).unwrap_or(&[]));
            }
            rest.drain(..step.consumed.min(rest.len()));
            if step.done {
                return Ok(out);
            }
            let need_more = step.consumed == 0 && step.data.is_none();
            if need_more && self.read_more(stream, &mut rest)? == 0 {
                return Err(self.protocol("chunked body cut short"));
            }
        }
    }

    fn read_to_close<S: Read>(
        &self,
        stream: &mut S,
        mut rest: Vec<u8>,
    ) -> Result<Vec<u8>, FetchError> {
        loop {
            if rest.len() > self.options.max_body {
                return Err(self.too_large());
            }
            if self.read_more(stream, &mut rest)? == 0 {
                return Ok(rest);
            }
        }
    }
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
