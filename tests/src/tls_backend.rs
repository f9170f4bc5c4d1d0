//! TLS for the upstream tests: certificates made at run time (a test CA issuing server and client
//! certificates, with rcgen) and a TLS front (rustls, on std threads) that terminates TLS on
//! 127.0.0.1 and passes the plaintext to a recording [`Backend`], one plain connection per TLS
//! connection, opened only once the handshake has completed.
//!
//! So a test can tell apart what the TLS layer saw (connections, completed and failed handshakes,
//! client certificates presented) from what the HTTP backend received: a refused handshake leaves
//! [`Backend::bytes_received`] at zero.
//!
//! The front polls non-blocking sockets (1 ms naps when idle): simple and bounded, meant for small
//! test exchanges, not for throughput.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

use crate::backend::Backend;

/// A certificate authority made for one test.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

/// A certificate chain (leaf first, then the CA) and its key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    /// The leaf and the CA, PEM.
    pub chain_pem: String,
    pub key_pem: String,
}

impl Identity {
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        TestCa { cert, key }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, names: &[&str]) -> Identity {
        self.issue(names.iter().map(|n| (*n).to_owned()).collect(), names[0])
    }

    /// A client certificate with common name `cn`.
    pub fn client(&self, cn: &str) -> Identity {
        self.issue(Vec::new(), cn)
    }

    fn issue(&self, names: Vec<String>, cn: &str) -> Identity {
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("leaf cert");
        Identity {
            chain: vec![cert.der().clone(), self.der()],
            key_der: key.serialize_der(),
            chain_pem: format!("{}{}", cert.pem(), self.pem()),
            key_pem: key.serialize_pem(),
        }
    }
}

#[derive(Default)]
struct Stats {
    tcp: AtomicUsize,
    handshakes: AtomicUsize,
    failures: AtomicUsize,
    client_certs: AtomicUsize,
    stop: AtomicBool,
    errors: Mutex<Vec<String>>,
}

/// A TLS front for a recording [`Backend`]; stops on drop.
pub struct TlsBackend {
    addr: SocketAddr,
    backend: Option<Backend>,
    stats: Arc<Stats>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TlsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsBackend").field("addr", &self.addr).finish()
    }
}

impl TlsBackend {
    /// Serves `identity`; with `client_ca`, a client certificate issued by it is required.
    pub fn start(identity: &Identity, client_ca: Option<&TestCa>) -> TlsBackend {
        TlsBackend::start_with(identity, client_ca, Backend::echo())
    }

    /// Like [`TlsBackend::start`], in front of `backend`.
    pub fn start_with(identity: &Identity, client_ca: Option<&TestCa>, backend: Backend) -> Self {
        let inner = backend.addr();
        let mut front = TlsBackend::front(identity, client_ca, inner);
        front.backend = Some(backend);
        front
    }

    /// A TLS front for any plaintext server at `inner` (e.g. the key manager).
    pub fn front(identity: &Identity, client_ca: Option<&TestCa>, inner: SocketAddr) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                roots.add(ca.der()).expect("client ca");
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = Arc::new(
            builder.with_single_cert(identity.chain.clone(), identity.key()).expect("server cert"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tls front");
        let addr = listener.local_addr().expect("addr");
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let accept = std::thread::Builder::new()
            .name(format!("tls-front-{}", addr.port()))
            .spawn(move || {
                for conn in listener.incoming() {
                    if st.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(tcp) = conn else { continue };
                    st.tcp.fetch_add(1, Ordering::SeqCst);
                    let (st, config) = (st.clone(), config.clone());
                    std::thread::spawn(move || {
                        if let Err(e) = relay(tcp, config, inner, &st) {
                            st.errors.lock().unwrap_or_else(|e| e.into_inner()).push(e.to_string());
                        }
                    });
                }
            })
            .expect("spawn tls front");
        TlsBackend { addr, backend: None, stats, accept: Some(accept) }
    }

    /// `https://HOST:PORT` + `base_path`.
    pub fn url(&self, host: &str, base_path: &str) -> String {
        format!("https://{host}:{}{base_path}", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The recording backend behind the front (made with [`TlsBackend::start`]).
    pub fn backend(&self) -> &Backend {
        self.backend.as_ref().expect("a front made by TlsBackend::front has no Backend")
    }

    /// TCP connections accepted.
    pub fn tcp_connections(&self) -> usize {
        self.stats.tcp.load(Ordering::SeqCst)
    }

    /// Handshakes completed.
    pub fn handshakes(&self) -> usize {
        self.stats.handshakes.load(Ordering::SeqCst)
    }

    /// Handshakes that failed (alerts sent or received, bad records).
    pub fn handshake_failures(&self) -> usize {
        self.stats.failures.load(Ordering::SeqCst)
    }

    /// Completed handshakes in which the client presented a certificate.
    pub fn client_certificates(&self) -> usize {
        self.stats.client_certs.load(Ordering::SeqCst)
    }

    /// What went wrong on connections so far (handshake errors included).
    pub fn errors(&self) -> Vec<String> {
        self.stats.errors.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for TlsBackend {
    fn drop(&mut self) {
        self.stats.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// One TLS connection: handshake, then plaintext both ways until either side closes.
fn relay(
    mut tls: TcpStream,
    config: Arc<ServerConfig>,
    inner: SocketAddr,
    st: &Stats,
) -> io::Result<()> {
    tls.set_nonblocking(true)?;
    let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut plain: Option<TcpStream> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tls_eof = false;
    loop {
        if st.stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return Ok(());
        }
        let mut progressed = false;
        if !tls_eof {
            match conn.read_tls(&mut tls) {
                Ok(0) => tls_eof = true,
                Ok(_) => {
                    progressed = true;
                    if let Err(e) = conn.process_new_packets() {
                        let _ = conn.write_tls(&mut tls);
                        if plain.is_none() {
                            st.failures.fetch_add(1, Ordering::SeqCst);
                        }
                        return Err(io::Error::other(format!("tls: {e}")));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if plain.is_none() && !conn.is_handshaking() {
            st.handshakes.fetch_add(1, Ordering::SeqCst);
            if conn.peer_certificates().is_some_and(|c| !c.is_empty()) {
                st.client_certs.fetch_add(1, Ordering::SeqCst);
            }
            let p = TcpStream::connect(inner)?;
            p.set_nonblocking(true)?;
            plain = Some(p);
        }
        if let Some(p) = plain.as_mut() {
            // TLS → backend.
            loop {
                match conn.reader().read(&mut buf) {
                    Ok(0) => {
                        let _ = p.shutdown(Shutdown::Write);
                        break;
                    }
                    Ok(n) => {
                        write_all_nb(p, &buf[..n])?;
                        progressed = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            // Backend → TLS.
            match p.read(&mut buf) {
                Ok(0) => {
                    conn.send_close_notify();
                    flush_tls(&mut conn, &mut tls)?;
                    let _ = tls.shutdown(Shutdown::Write);
                    return Ok(());
                }
                Ok(n) => {
                    conn.writer().write_all(&buf[..n])?;
                    progressed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        flush_tls(&mut conn, &mut tls)?;
        if tls_eof && plain.is_none() {
            if conn.is_handshaking() {
                st.failures.fetch_add(1, Ordering::SeqCst);
            }
            return Ok(());
        }
        if tls_eof {
            if let Some(p) = plain.as_ref() {
                let _ = p.shutdown(Shutdown::Write);
            }
        }
        if !progressed {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

fn flush_tls(conn: &mut ServerConnection, tls: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(tls) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn write_all_nb(s: &mut TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match s.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
