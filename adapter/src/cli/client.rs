//! A small blocking HTTP/1.1 client for the admin API: one request per connection
//! (`Connection: close`) over `TcpStream`, or over rustls (ring provider) for `https://`.
//!
//! Where it sits: under the `deploy`, `apis list`, `undeploy` and `diff` commands. Responses are
//! parsed with `turnpike_http::h1::parse_response` and the body framed by Content-Length,
//! chunked coding (`ChunkedDecoder`) or connection close. `--insecure` installs a certificate
//! verifier that accepts any certificate (signatures are still checked); otherwise the server
//! must chain to `--cacert` or the system roots.
//!
//! Not a general client: no redirects, no proxies, no connection reuse, bodies held in memory.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use turnpike_http::h1::{self, ChunkedDecoder, ResponseBody, ResponseHead};
use turnpike_http::Limits;
use turnpike_policy::base64::encode_standard;

/// Largest response body read.
const MAX_BODY: usize = 16 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request got no response.
#[derive(Debug)]
pub enum ClientError {
    /// Nothing listens, DNS failed, or the connection broke (exit 3).
    Unreachable(String),
    /// The TLS handshake failed, e.g. an untrusted certificate (exit 3).
    Tls(String),
    /// The server's answer is not valid HTTP.
    Protocol(String),
    /// A usage problem (bad URL, unreadable CA file).
    Usage(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "gateway unreachable: {why}"),
            Self::Tls(why) => write!(f, "TLS failed: {why}"),
            Self::Protocol(why) => write!(f, "invalid response from the gateway: {why}"),
            Self::Usage(why) => f.write_str(why),
        }
    }
}

/// A response: status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Where and how to reach the admin API.
#[derive(Debug, Clone)]
pub struct Target {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix from the URL (no trailing slash).
    pub prefix: String,
    pub insecure: bool,
    pub cacert: Option<PathBuf>,
    /// `Authorization` header value.
    pub authorization: Option<String>,
}

impl Target {
    /// Parses `http(s)://host[:port][/prefix]`.
    pub fn parse(url: &str) -> Result<Target, ClientError> {
        let bad = || ClientError::Usage(format!("invalid --admin URL {url:?}"));
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None => default_port,
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad())?),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Target {
            tls,
            host,
            port,
            prefix: path.trim_end_matches('/').to_owned(),
            insecure: false,
            cacert: None,
            authorization: None,
        })
    }

    /// Sends one request; `path` starts with `/` and may carry a query.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Reply, ClientError> {
        let addrs: Vec<_> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| ClientError::Unreachable(format!("{}: {e}", self.host)))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(format!("{addr}: {e}")),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            ClientError::Unreachable(last.unwrap_or_else(|| format!("{}: no address", self.host)))
        })?;
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        let _ = tcp.set_write_timeout(Some(TIMEOUT));
        let _ = tcp.set_nodelay(true);
        let head = self.head(method, path, content_type, body.len());
        if self.tls {
            let config = self.tls_config()?;
            let name = ServerName::try_from(self.host.clone())
                .map_err(|e| ClientError::Usage(format!("invalid host {:?}: {e}", self.host)))?;
            let conn = ClientConnection::new(config, name).map_err(|e| tls_error(&e))?;
            let mut stream = StreamOwned::new(conn, tcp);
            exchange(&mut stream, &head, body, method)
        } else {
            let mut stream = tcp;
            exchange(&mut stream, &head, body, method)
        }
    }

    fn head(&self, method: &str, path: &str, content_type: Option<&str>, len: usize) -> Vec<u8> {
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let mut head = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {host}:{}\r\nUser-Agent: turnpike-cli\r\nAccept: application/json\r\nConnection: close\r\n",
            self.prefix, self.port
        );
        if let Some(auth) = &self.authorization {
            head.push_str(&format!("Authorization: {auth}\r\n"));
        }
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if len > 0 || matches!(method, "POST" | "PUT") {
            head.push_str(&format!("Content-Length: {len}\r\n"));
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    fn tls_config(&self) -> Result<Arc<ClientConfig>, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let config = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            let files = match &self.cacert {
                Some(f) => vec![f.clone()],
                None => ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
                    .iter()
                    .map(PathBuf::from)
                    .filter(|p| p.exists())
                    .collect(),
            };
            for file in files {
                let certs = CertificateDer::pem_file_iter(&file)
                    .map_err(|e| ClientError::Usage(format!("{}: {e}", file.display())))?;
                for cert in certs.flatten() {
                    let _ = roots.add(cert);
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(Arc::new(config))
    }
}

fn tls_error(err: &rustls::Error) -> ClientError {
    ClientError::Tls(err.to_string())
}

/// An I/O error on a TLS stream may be a TLS failure in disguise.
fn io_error(err: &std::io::Error) -> ClientError {
    match err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(tls) => ClientError::Tls(format!(
            "{tls} (for a self-signed admin certificate use --insecure or --cacert)"
        )),
        None => ClientError::Unreachable(err.to_string()),
    }
}

fn exchange<S: Read + Write>(
    stream: &mut S,
    head: &[u8],
    body: &[u8],
    method: &str,
) -> Result<Reply, ClientError> {
    stream.write_all(head).map_err(|e| io_error(&e))?;
    stream.write_all(body).map_err(|e| io_error(&e))?;
    stream.flush().map_err(|e| io_error(&e))?;
    read_response(stream, method)
}

/// Reads one response to its end.
fn read_response<S: Read>(stream: &mut S, method: &str) -> Result<Reply, ClientError> {
    let limits = Limits::default();
    let req_method = if method == "HEAD" { h1::Method::Head } else { h1::Method::Get };
    let mut buf = Vec::with_capacity(8192);
    let mut head = ResponseHead::default();
    loop {
        if !buf.is_empty() {
            let parsed = h1::parse_response(&buf, &limits, req_method, &mut head)
                .map_err(|e| ClientError::Protocol(format!("{e:?}")))?;
            if parsed == h1::Parsed::Complete {
                if head.is_interim() {
                    buf.drain(..head.head_len);
                    continue;
                }
                break;
            }
        }
        if read_more(stream, &mut buf)? == 0 {
            return Err(ClientError::Unreachable("connection closed before a response".into()));
        }
    }
    let status = head.status;
    let mut rest = buf.split_off(head.head_len);
    let body = match head.body {
        ResponseBody::None => Vec::new(),
        ResponseBody::Length(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > MAX_BODY {
                return Err(ClientError::Protocol(format!("response body of {n} bytes")));
            }
            while rest.len() < n {
                if read_more(stream, &mut rest)? == 0 {
                    return Err(ClientError::Protocol("response body cut short".into()));
                }
            }
            rest.truncate(n);
            rest
        }
        ResponseBody::Chunked => {
            let mut decoder = ChunkedDecoder::new(&limits);
            let mut out = Vec::new();
            loop {
                let step = decoder
                    .decode(&rest)
                    .map_err(|e| ClientError::Protocol(format!("chunked body: {e:?}")))?;
                if let Some(range) = step.data.clone() {
                    out.extend_from_slice(rest.get(range).unwrap_or(&[]));
                }
                rest.drain(..step.consumed);
                if step.done {
                    break;
                }
                if out.len() > MAX_BODY {
                    return Err(ClientError::Protocol("response body too large".into()));
                }
                if step.consumed == 0 && step.data.is_none() && read_more(stream, &mut rest)? == 0 {
                    return Err(ClientError::Protocol("chunked body cut short".into()));
                }
            }
            out
        }
        ResponseBody::CloseDelimited => {
            while read_more(stream, &mut rest)? > 0 {
                if rest.len() > MAX_BODY {
                    return Err(ClientError::Protocol("response body too large".into()));
                }
            }
            rest
        }
    };
    Ok(Reply { status, body })
}

fn read_more<S: Read>(stream: &mut S, buf: &mut Vec<u8>) -> Result<usize, ClientError> {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk) {
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(n)
        }
        // A peer that closes without close_notify after a complete close-delimited body.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        Err(e) => Err(io_error(&e)),
    }
}

/// `--insecure`: any certificate is accepted; handshake signatures are still verified.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `Basic <base64(user:password)>` (RFC 7617).
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", encode_standard(format!("{user}:{password}").as_bytes()))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn encode_query(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_admin_urls() {
        let t = Target::parse("https://127.0.0.1:9843").unwrap();
        assert!(t.tls);
        assert_eq!((t.host.as_str(), t.port, t.prefix.as_str()), ("127.0.0.1", 9843, ""));
        let t = Target::parse("http://[::1]:80/x/").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.prefix.as_str()), ("::1", 80, "/x"));
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("http://:80").is_err());
    }

    #[test]
    fn reads_chunked_and_length_bodies() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let r = read_response(&mut &raw[..], "GET").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abc"[..]));
        let raw =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\nno";
        let r = read_response(&mut &raw[..], "POST").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (409, &b"no"[..]));
    }
}
