//! An OAuth2 key-manager stand-in for the security e2e tests: a real HTTP/1.1 server on
//! 127.0.0.1, run in background threads of the test process, that publishes a JWKS and answers
//! token introspection, while the test mints tokens and steers it directly in-process.
//!
//! The gateway under test is pointed at [`KeyManager::jwks_url`] and
//! [`KeyManager::introspection_url`]; the test signs tokens with [`KeyManager::mint`] under keys
//! the server currently publishes (or no longer publishes), rotates keys, registers opaque
//! tokens, slows or breaks either endpoint, and counts what the gateway asked for
//! ([`KeyManager::jwks_fetches`], [`KeyManager::introspections`]) to prove caching and flood
//! bounds.
//!
//! Endpoints (see [`server`]): `GET /jwks`, `POST /introspect` (RFC 7662), and
//! `GET /.well-known/openid-configuration`. Keys are created by [`signing`]; signing never goes
//! through the gateway's own JOSE code.
//!
//! ```no_run
//! use serde_json::json;
//! use turnpike_tests::{KeyAlg, KeyManager};
//!
//! let km = KeyManager::start(); // RS256, ES256 and EdDSA keys published
//! // … start a gateway whose JWT issuer is km.issuer() with JWKS at km.jwks_url() …
//! let good = km.mint(KeyAlg::ES256, km.claims("alice"));
//! let unknown_kid = km.mint_with_header(KeyAlg::ES256, json!({"kid": "nope"}), km.claims("eve"));
//! km.rotate(); // `good` now names a kid the JWKS no longer lists
//! km.register_opaque("opaque-1", json!({"scope": "read", "client_id": "app"}), true);
//! assert_eq!(km.jwks_fetches(), 0);
//! # let _ = (good, unknown_kid);
//! ```
//!
//! It does not issue tokens over HTTP (no token endpoint), and it does not validate what the
//! gateway sends beyond what RFC 7662 needs (the form's `token`, optional Basic client
//! credentials).

mod server;
mod signing;

pub use signing::{b64url, KeyAlg};

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use signing::SigningKey;

/// The issuer [`KeyManager::issuer`] names unless the builder sets another.
pub const DEFAULT_ISSUER: &str = "https://km.test/oauth2/token";

/// Which key [`KeyManager::mint`] signs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChoice {
    /// The most recently published key of this algorithm (panics if none is published).
    Current(KeyAlg),
    /// The key with this `kid`, published or not (a removed or never-published key signs a token
    /// whose `kid` the JWKS does not list).
    Kid(String),
}

impl From<KeyAlg> for KeyChoice {
    fn from(alg: KeyAlg) -> Self {
        KeyChoice::Current(alg)
    }
}

impl From<&str> for KeyChoice {
    fn from(kid: &str) -> Self {
        KeyChoice::Kid(kid.to_owned())
    }
}

impl From<String> for KeyChoice {
    fn from(kid: String) -> Self {
        KeyChoice::Kid(kid)
    }
}

/// Every key ever made, and which of them the JWKS lists.
struct Keys {
    by_kid: HashMap<String, Arc<SigningKey>>,
    /// kids of the published keys, oldest first; the JWKS lists them in this order.
    published: Vec<String>,
    /// Numbers kids: `<alg>-<n>`.
    next_id: usize,
    /// Which committed RSA key the next RSA key uses.
    next_rsa: usize,
}

/// An opaque token registered for introspection.
struct Opaque {
    claims: Map<String, Value>,
    active: bool,
    introspections: usize,
}

/// What the test may change while the server runs.
#[derive(Default)]
struct Settings {
    jwks_delay: Duration,
    introspection_delay: Duration,
    jwks_failure: Option<u16>,
    introspection_failure: Option<u16>,
    /// Basic credentials `/introspect` requires, if any.
    client_credentials: Option<(String, String)>,
}

/// Shared between the handle and the server threads.
struct State {
    issuer: String,
    base_url: String,
    keys: Mutex<Keys>,
    tokens: Mutex<HashMap<String, Opaque>>,
    settings: Mutex<Settings>,
    jwks_fetches: AtomicUsize,
    introspections: AtomicUsize,
    connections: AtomicUsize,
    stop: AtomicBool,
    open: Mutex<HashMap<usize, TcpStream>>,
}

impl State {
    /// The published keys as a JWK Set (RFC 7517 §5), in publication order.
    fn jwks(&self) -> Value {
        let keys = lock(&self.keys);
        let list: Vec<Value> = keys.published.iter().map(|kid| keys.by_kid[kid].jwk()).collect();
        json!({ "keys": list })
    }
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Builder for a [`KeyManager`].
#[derive(Clone, Debug)]
pub struct KeyManagerBuilder {
    keys: Vec<KeyAlg>,
    issuer: String,
    client_credentials: Option<(String, String)>,
}

impl Default for KeyManagerBuilder {
    fn default() -> Self {
        KeyManagerBuilder {
            keys: vec![KeyAlg::RS256, KeyAlg::ES256, KeyAlg::EdDSA],
            issuer: DEFAULT_ISSUER.to_owned(),
            client_credentials: None,
        }
    }
}

impl KeyManagerBuilder {
    /// The keys published at start, one per entry (default: RS256, ES256, EdDSA).
    pub fn keys(mut self, algs: &[KeyAlg]) -> Self {
        self.keys = algs.to_vec();
        self
    }

    /// The `iss` of minted tokens (default [`DEFAULT_ISSUER`]).
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = issuer.to_owned();
        self
    }

    /// `/introspect` requires `Authorization: Basic` with these client credentials.
    pub fn client_credentials(mut self, client_id: &str, client_secret: &str) -> Self {
        self.client_credentials = Some((client_id.to_owned(), client_secret.to_owned()));
        self
    }

    /// Binds a free port of 127.0.0.1 and starts serving.
    pub fn start(self) -> KeyManager {
        let (listener, addr) = bind_free_port();
        let state = Arc::new(State {
            issuer: self.issuer,
            base_url: format!("http://{addr}"),
            keys: Mutex::new(Keys {
                by_kid: HashMap::new(),
                published: Vec::new(),
                next_id: 1,
                next_rsa: 0,
            }),
            tokens: Mutex::new(HashMap::new()),
            settings: Mutex::new(Settings {
                client_credentials: self.client_credentials,
                ..Settings::default()
            }),
            jwks_fetches: AtomicUsize::new(0),
            introspections: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
        });
        let mut km = KeyManager { addr, state: state.clone(), accept: None };
        for alg in self.keys {
            km.add_key(alg);
        }
        let accept = std::thread::Builder::new()
            .name(format!("key-manager-{}", addr.port()))
            .spawn(move || server::accept_loop(listener, state))
            .expect("spawn key-manager accept thread");
        km.accept = Some(accept);
        km
    }
}

/// Binds 127.0.0.1 on a port from [`crate::free_port`], retrying if another process took it
/// between its release and this bind.
fn bind_free_port() -> (TcpListener, SocketAddr) {
    let mut last = None;
    for _ in 0..20 {
        let addr = SocketAddr::from(([127, 0, 0, 1], crate::free_port()));
        match TcpListener::bind(addr) {
            Ok(l) => return (l, addr),
            Err(e) => last = Some(e),
        }
    }
    panic!("key manager: no free port on 127.0.0.1: {last:?}")
}

/// A running key manager; stops (closing every connection) on drop.
pub struct KeyManager {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager").field("addr", &self.addr).finish()
    }
}

impl KeyManager {
    /// A key manager publishing one RS256, one ES256 and one EdDSA key, no client credentials.
    pub fn start() -> KeyManager {
        KeyManager::builder().start()
    }

    pub fn builder() -> KeyManagerBuilder {
        KeyManagerBuilder::default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.state.base_url.clone()
    }

    /// `http://127.0.0.1:PORT/jwks`.
    pub fn jwks_url(&self) -> String {
        format!("{}{}", self.state.base_url, server::JWKS_PATH)
    }

    /// `http://127.0.0.1:PORT/introspect`.
    pub fn introspection_url(&self) -> String {
        format!("{}{}", self.state.base_url, server::INTROSPECT_PATH)
    }

    /// The issuer name tokens carry (`iss`), e.g. `https://km.test/oauth2/token`.
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    // ---- keys ----

    /// Makes a key for `alg` without publishing it; returns its kid. Tokens it signs carry a
    /// `kid` the JWKS does not list until [`KeyManager::publish`].
    pub fn create_key(&self, alg: KeyAlg) -> String {
        let mut keys = lock(&self.state.keys);
        let kid = format!("{}-{}", alg.name().to_ascii_lowercase(), keys.next_id);
        keys.next_id += 1;
        let rsa_index = keys.next_rsa;
        if matches!(alg, KeyAlg::RS256 | KeyAlg::PS256) {
            keys.next_rsa += 1;
        }
        let key = SigningKey::new(alg, kid.clone(), rsa_index);
        keys.by_kid.insert(kid.clone(), Arc::new(key));
        kid
    }

    /// Adds a key made by [`KeyManager::create_key`] to the JWKS (a no-op if it is listed).
    pub fn publish(&self, kid: &str) {
        let mut keys = lock(&self.state.keys);
        assert!(keys.by_kid.contains_key(kid), "key manager has no key {kid:?}");
        if !keys.published.iter().any(|k| k == kid) {
            keys.published.push(kid.to_owned());
        }
    }

    /// Makes and publishes a key for `alg`; returns its kid.
    pub fn add_key(&self, alg: KeyAlg) -> String {
        let kid = self.create_key(alg);
        self.publish(&kid);
        kid
    }

    /// Takes `kid` out of the JWKS. The private key stays, so `mint(kid, …)` still signs tokens
    /// the JWKS can no longer verify.
    pub fn remove_key(&self, kid: &str) {
        lock(&self.state.keys).published.retain(|k| k != kid);
    }

    /// Replaces every published key by a new key of the same algorithm (the old ones leave the
    /// JWKS at the same moment); returns the new kids in JWKS order.
    pub fn rotate(&self) -> Vec<String> {
        let old: Vec<(String, KeyAlg)> = {
            let keys = lock(&self.state.keys);
            keys.published.iter().map(|kid| (kid.clone(), keys.by_kid[kid].alg())).collect()
        };
        let new: Vec<String> = old.iter().map(|(_, alg)| self.create_key(*alg)).collect();
        lock(&self.state.keys).published = new.clone();
        new
    }

    /// The kids the JWKS lists now, in order.
    pub fn published_kids(&self) -> Vec<String> {
        lock(&self.state.keys).published.clone()
    }

    /// The kid [`KeyChoice::Current`] picks for `alg`, if any key of it is published.
    pub fn current_kid(&self, alg: KeyAlg) -> Option<String> {
        let keys = lock(&self.state.keys);
        keys.published.iter().rev().find(|kid| keys.by_kid[*kid].alg() == alg).cloned()
    }

    /// The JWKS document `/jwks` serves now.
    pub fn jwks(&self) -> Value {
        self.state.jwks()
    }

    fn signing_key(&self, key: KeyChoice) -> Arc<SigningKey> {
        let kid = match key {
            KeyChoice::Kid(kid) => kid,
            KeyChoice::Current(alg) => self
                .current_kid(alg)
                .unwrap_or_else(|| panic!("key manager publishes no {} key", alg.name())),
        };
        let keys = lock(&self.state.keys);
        keys.by_kid.get(&kid).cloned().unwrap_or_else(|| panic!("key manager has no key {kid:?}"))
    }

    // ---- tokens ----

    /// A compact JWS (header `alg`, `typ: JWT`, `kid`) over `claims`, signed with `key`.
    /// Claims are signed as given: start from [`KeyManager::claims`] for a valid token.
    pub fn mint(&self, key: impl Into<KeyChoice>, claims: Value) -> String {
        self.mint_with_header(key, json!({}), claims)
    }

    /// [`KeyManager::mint`] with header members overridden by `header` (an object; a `null`
    /// member removes that member). The signature is still made with `key`, whatever `alg` or
    /// `kid` the header then claims: for algorithm-confusion and kid-spoofing tests.
    pub fn mint_with_header(
        &self,
        key: impl Into<KeyChoice>,
        header: Value,
        claims: Value,
    ) -> String {
        let key = self.signing_key(key.into());
        let mut h = key.header();
        let Value::Object(overrides) = header else {
            panic!("JWS header overrides must be an object")
        };
        for (name, value) in overrides {
            if value.is_null() {
                h.remove(&name);
            } else {
                h.insert(name, value);
            }
        }
        key.sign_compact(&Value::Object(h), claims.to_string().as_bytes())
    }

    /// Claims of a valid token for `sub`: `iss` ([`KeyManager::issuer`]), `sub`, `iat` now,
    /// `exp` in an hour, a unique `jti`. Add or change members before minting.
    pub fn claims(&self, sub: &str) -> Value {
        static JTI: AtomicUsize = AtomicUsize::new(0);
        let now = unix_now();
        json!({
            "iss": self.state.issuer,
            "sub": sub,
            "iat": now,
            "exp": now + 3600,
            "jti": format!("jti-{}-{}", self.addr.port(), JTI.fetch_add(1, Ordering::Relaxed)),
        })
    }

    /// Registers (or replaces) an opaque token for `/introspect`. When `active`, the answer is
    /// `{"active": true, "token_type": "Bearer"}` plus every member of `claims` (an object, e.g.
    /// `scope`, `client_id`, `username`, `exp`); otherwise `{"active": false}`.
    pub fn register_opaque(&self, token: &str, claims: Value, active: bool) {
        let Value::Object(claims) = claims else {
            panic!("introspection claims must be an object")
        };
        lock(&self.state.tokens)
            .insert(token.to_owned(), Opaque { claims, active, introspections: 0 });
    }

    /// Marks a registered token active or not (revocation); panics if it is not registered.
    pub fn set_active(&self, token: &str, active: bool) {
        lock(&self.state.tokens)
            .get_mut(token)
            .unwrap_or_else(|| panic!("token {token:?} is not registered"))
            .active = active;
    }

    // ---- behaviour ----

    /// `/introspect` waits this long before answering (after counting the call).
    pub fn set_introspection_delay(&self, d: Duration) {
        lock(&self.state.settings).introspection_delay = d;
    }

    /// `/jwks` waits this long before answering (after counting the fetch).
    pub fn set_jwks_delay(&self, d: Duration) {
        lock(&self.state.settings).jwks_delay = d;
    }

    /// `Some(status)`: `/jwks` answers that status with an error body instead of the keys.
    pub fn set_jwks_failure(&self, status: Option<u16>) {
        lock(&self.state.settings).jwks_failure = status;
    }

    /// `Some(status)`: `/introspect` answers that status with an error body (after the client
    /// credentials check).
    pub fn set_introspection_failure(&self, status: Option<u16>) {
        lock(&self.state.settings).introspection_failure = status;
    }

    /// `Some((id, secret))`: `/introspect` answers 401 unless `Authorization: Basic` carries
    /// them; `None`: no client authentication.
    pub fn set_client_credentials(&self, credentials: Option<(&str, &str)>) {
        lock(&self.state.settings).client_credentials =
            credentials.map(|(id, secret)| (id.to_owned(), secret.to_owned()));
    }

    // ---- counters ----

    /// `GET /jwks` requests received so far (failed and delayed ones included).
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// `POST /introspect` requests received so far (refused ones included).
    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    /// How many introspections asked about this registered token (0 if it is not registered).
    pub fn introspections_of(&self, token: &str) -> usize {
        lock(&self.state.tokens).get(token).map_or(0, |t| t.introspections)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` until at least `n` JWKS fetches arrived; returns whether they did.
    pub fn wait_jwks_fetches(&self, n: usize, timeout: Duration) -> bool {
        crate::wait_until(timeout, || self.jwks_fetches() >= n)
    }
}

impl Drop for KeyManager {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        for s in lock(&self.state.open).values() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
