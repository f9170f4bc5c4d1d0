//! TLS for the end-to-end tests: a test certificate authority that issues server and client
//! certificates (rcgen), and a blocking rustls client with a custom root store that reports what
//! the handshake gave (peer certificate, ALPN, protocol version, resumption).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A certificate authority made for one test.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its key, PEM and DER.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl Issued {
    /// Writes `<stem>.crt` and `<stem>.key` under `dir`; returns their paths.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        write_atomic(&cert, self.cert_pem.as_bytes());
        write_atomic(&key, self.key_pem.as_bytes());
        (cert, key)
    }

    /// This certificate and key for a rustls client (mutual TLS).
    pub fn client_auth(&self) -> (Vec<CertificateDer<'static>>, Vec<u8>) {
        (vec![self.der.clone()], self.key_der.clone())
    }
}

/// Writes `path` through a temporary file and a rename (a watcher never sees half a file).
pub fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).expect("write temporary file");
    std::fs::rename(&tmp, path).expect("rename into place");
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("self-signed CA");
        TestCa { cert, key }
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for `names` (DNS SANs), common name `names[0]`.
    pub fn server(&self, names: &[&str]) -> Issued {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server params");
        params.distinguished_name.push(DnType::CommonName, names[0].clone());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate with common name `cn`, valid from `not_before` to `not_after`
    /// (seconds relative to now).
    pub fn client(&self, cn: &str, not_before: i64, not_after: i64) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        params.not_before = rcgen::date_time_ymd(1970, 1, 1)
            + Duration::from_secs(u64::try_from(now + not_before).expect("not_before"));
        params.not_after = rcgen::date_time_ymd(1970, 1, 1)
            + Duration::from_secs(u64::try_from(now + not_after).expect("not_after"));
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("sign leaf");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }
}

/// Options of a test client.
pub struct ClientOptions {
    pub roots: Vec<CertificateDer<'static>>,
    pub alpn: Vec<Vec<u8>>,
    /// `None`: TLS 1.3 and 1.2.
    pub only_version: Option<&'static rustls::SupportedProtocolVersion>,
    /// A client certificate chain and key (DER) for mutual TLS.
    pub client_auth: Option<(Vec<CertificateDer<'static>>, Vec<u8>)>,
}

impl ClientOptions {
    pub fn new(root: CertificateDer<'static>) -> ClientOptions {
        ClientOptions {
            roots: vec![root],
            alpn: vec![b"http/1.1".to_vec()],
            only_version: None,
            client_auth: None,
        }
    }

    /// A rustls client configuration (share it between connections to resume sessions).
    pub fn build(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        for r in &self.roots {
            roots.add(r.clone()).expect("add root");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = match self.only_version {
            Some(v) => vec![v],
            None => vec![&rustls::version::TLS13, &rustls::version::TLS12],
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .expect("versions")
            .with_root_certificates(roots);
        let mut config = match &self.client_auth {
            Some((chain, key)) => builder
                .with_client_auth_cert(
                    chain.clone(),
                    PrivateKeyDer::try_from(key.clone()).expect("client key DER"),
                )
                .expect("client certificate"),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols.clone_from(&self.alpn);
        Arc::new(config)
    }
}

/// A TLS connection to the gateway, handshake done.
pub struct TlsClient {
    pub stream: StreamOwned<ClientConnection, TcpStream>,
}

impl TlsClient {
    /// Connects and completes the handshake for server name `sni`.
    pub fn connect(addr: SocketAddr, sni: &str, config: &Arc<ClientConfig>) -> io::Result<Self> {
        let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        tcp.set_write_timeout(Some(Duration::from_secs(10)))?;
        let name = ServerName::try_from(sni.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn = ClientConnection::new(Arc::clone(config), name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(TlsClient { stream })
    }

    /// The server's leaf certificate.
    pub fn peer_certificate(&self) -> Option<CertificateDer<'static>> {
        self.stream.conn.peer_certificates().and_then(|c| c.first()).map(|c| c.clone().into_owned())
    }

    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.stream.conn.alpn_protocol().map(<[u8]>::to_vec)
    }

    pub fn version(&self) -> Option<rustls::ProtocolVersion> {
        self.stream.conn.protocol_version()
    }

    pub fn resumed(&self) -> bool {
        self.stream.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Sends `GET path` (keep-alive, or close) with extra header lines and reads the response.
    pub fn get(&mut self, path: &str, extra: &str) -> io::Result<TlsResponse> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: test.local\r\n{extra}\r\n");
        self.stream.write_all(req.as_bytes())?;
        self.stream.flush()?;
        self.read_response()
    }

    /// Reads one response framed by Content-Length (or to EOF without one).
    pub fn read_response(&mut self) -> io::Result<TlsResponse> {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            if self.stream.read(&mut byte)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a head"));
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, head.clone()))?;
        let length = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        });
        let mut body = Vec::new();
        match length {
            Some(n) => {
                body.resize(n, 0);
                self.stream.read_exact(&mut body)?;
            }
            None => {
                let _ = self.stream.read_to_end(&mut body);
            }
        }
        Ok(TlsResponse { status, head, body })
    }
}

/// A response read over TLS.
#[derive(Debug, Clone)]
pub struct TlsResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl TlsResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
