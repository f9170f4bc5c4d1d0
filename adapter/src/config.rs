//! `gateway.toml`: the process-wide settings, compiled into the core's [`StaticConfig`] and
//! [`Settings`].
//!
//! Where it sits: the first thing `turnpike run` / `turnpike validate` do. The file is parsed as a
//! TOML table, then walked key by key with a [`Pointer`], so every rejection names the file and
//! the key path (`gateway.toml: /timeouts/upstream_connect_ms: expected a non-negative integer,
//! found a string`). Unknown keys and sections are rejected, not ignored. Command-line flags are
//! applied afterwards through [`Overrides`].
//!
//! The format, with its defaults (every key is optional):
//!
//! ```toml
//! [listener]
//! address = "0.0.0.0:9090"   # where clients connect
//! backlog = 1024             # listen(2) backlog
//! [runtime]
//! workers = 0                # worker cores; 0 = one per available core
//! driver = "auto"            # "auto" (io_uring, else epoll) | "uring" | "epoll"
//! pin_workers = true         # pin worker i to CPU i
//! uring_entries = 1024       # io_uring submission queue size per worker
//! [apis]
//! directory = "./apis"       # API definitions (*.yaml, *.yml, *.json), relative to the working dir
//! watch = true               # redeploy when files in the directory change
//! debounce_ms = 300          # wait this long after the last change before redeploying
//! [limits]
//! max_request_line = 8192    # bytes
//! max_header_bytes = 61440   # bytes, all request headers together
//! max_headers = 100
//! max_request_body = 0       # bytes; 0 = unlimited (streamed)
//! [timeouts]                 # milliseconds
//! request_head_ms = 10000
//! keepalive_idle_ms = 60000
//! upstream_connect_ms = 5000
//! upstream_response_ms = 60000
//! client_io_ms = 60000
//! shutdown_grace_ms = 15000
//! [upstream]
//! max_idle_per_endpoint = 64
//! idle_timeout_ms = 30000
//! [upstream_tls]             # TLS to https:// backends; see crate::upstream_tls
//! verify_hostname = true
//! # client_cert_file = "gw.crt"   # presented to backends that ask (with client_key_file)
//! [proxy]
//! trusted_proxies = []       # CIDRs whose X-Forwarded-For is believed
//! via = ""                   # Via pseudonym, e.g. "1.1 turnpike"; empty = no Via header
//! [log]
//! level = "info"             # tracing EnvFilter syntax; TURNPIKE_LOG overrides
//! [admin]                    # the admin API (apictl mg, probes); see crate::admin
//! enabled = true
//! address = "0.0.0.0:9843"
//! plain_http = false         # plain HTTP is refused unless the address is loopback
//! # tls_cert = "admin.crt"   # PEM chain, set with tls_key; unset: self-signed, kept in state_dir
//! # tls_key = "admin.key"    # PEM private key
//! state_dir = "./turnpike-state"   # generated certificate, APIs deployed through the admin API
//! token_ttl_s = 3600         # lifetime of tokens from /oauth2/token
//! max_body_bytes = 33554432  # largest upload (413 above)
//! max_connections = 64
//! io_timeout_ms = 30000      # read/write timeout on admin sockets
//! [[admin.users]]            # none: admin/admin on a loopback address only, else nobody
//! username = "admin"
//! password_hash = "pbkdf2-sha256$100000$<salt b64>$<hash b64>"   # turnpike hash-password
//! [tls]                      # the HTTPS listener; every key is described in crate::https
//! listen = "0.0.0.0:9095"    # default: the [listener] host, port 9095
//! handshake_timeout_ms = 10000
//! max_handshakes = 1024      # TLS handshakes in progress per core
//! [[tls.certificates]]       # none: no HTTPS listener
//! cert_file = "server.crt"   # PEM chain, leaf first
//! key_file = "server.key"    # PEM private key
//! server_names = ["api.example.com", "*.example.com"]   # SNI; none: the default certificate
//! ```
//!
//! This module does not read API definitions (see [`crate::load`]) and does not start anything.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use turnpike_core::{Cidr, Driver, Limits, PoolSettings, Settings, StaticConfig, Timeouts};

use crate::admin::{AdminConfig, AdminUser, PasswordHash};
use crate::error::ConfigError;
use crate::pointer::Pointer;

/// File read when no `--config` is given and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "gateway.toml";

/// Everything `gateway.toml` configures, validated.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The file this came from (`None`: built-in defaults).
    pub file: Option<PathBuf>,
    /// Settings that need a restart.
    pub static_config: StaticConfig,
    /// Settings that travel with every snapshot.
    pub settings: Settings,
    /// Directory of API definitions.
    pub apis_dir: PathBuf,
    /// Log filter (tracing `EnvFilter` syntax); `TURNPIKE_LOG` takes precedence at startup.
    pub log_level: String,
    /// `[admin]`: the admin API.
    pub admin: AdminConfig,
    /// `[apis] watch`: redeploy when the API directory changes.
    pub apis_watch: bool,
    /// `[apis] debounce_ms`: quiet time after the last change before redeploying.
    pub apis_debounce: Duration,
    /// `[admin] state_dir`: generated admin certificate and admin-deployed APIs (the same path
    /// as `admin.state_dir`).
    pub state_dir: PathBuf,
    /// `[security]`.
    pub security: crate::security::SecurityConfig,
    /// `[tls]`: the HTTPS listener (its certificates are in `settings.tls`).
    pub tls: Option<crate::https::TlsConfig>,
    /// `[upstream_tls]`.
    pub upstream_tls: crate::upstream_tls::UpstreamTls,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            file: None,
            static_config: StaticConfig::default(),
            settings: Settings::default(),
            apis_dir: PathBuf::from("./apis"),
            log_level: "info".to_owned(),
            admin: AdminConfig::default(),
            apis_watch: true,
            apis_debounce: Duration::from_millis(300),
            state_dir: PathBuf::from(crate::admin::DEFAULT_STATE_DIR),
            security: crate::security::SecurityConfig::default(),
            tls: None,
            upstream_tls: crate::upstream_tls::UpstreamTls::default(),
        }
    }
}

/// Command-line values that replace what the file says.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub apis_dir: Option<PathBuf>,
    /// `Some(0)` means one worker per available core.
    pub workers: Option<usize>,
    pub driver: Option<Driver>,
}

impl GatewayConfig {
    /// Applies command-line overrides on top of the file's values.
    pub fn apply(&mut self, overrides: &Overrides) {
        if let Some(listen) = overrides.listen {
            self.static_config.listen = listen;
        }
        if let Some(dir) = &overrides.apis_dir {
            self.apis_dir.clone_from(dir);
        }
        if let Some(workers) = overrides.workers {
            self.static_config.workers = resolve_workers(workers);
        }
        if let Some(driver) = overrides.driver {
            self.static_config.driver = driver;
        }
    }
}

/// Loads the configuration: `path` if given (it must exist), else `./gateway.toml` if it exists,
/// else the defaults.
pub fn load(path: Option<&Path>) -> Result<GatewayConfig, ConfigError> {
    let file = match path {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from(DEFAULT_CONFIG_FILE);
            if !default.exists() {
                return Ok(GatewayConfig::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|source| ConfigError::Read { file: file.clone(), source })?;
    parse(&file, &text)
}

/// Parses and validates the text of a configuration file (`file` is used in errors only).
pub fn parse(file: &Path, text: &str) -> Result<GatewayConfig, ConfigError> {
    let root: toml::Table = toml::from_str(text).map_err(|err| {
        let (line, column) = err.span().map_or((0, 0), |span| line_column(text, span.start));
        ConfigError::Syntax {
            file: file.to_path_buf(),
            line,
            column,
            message: err.message().to_owned(),
        }
    })?;
    let top = Section { file, pointer: Pointer::root(), table: &root };
    top.only(&[
        "listener",
        "runtime",
        "apis",
        "limits",
        "timeouts",
        "upstream",
        "proxy",
        "log",
        "admin",
        "security",
        "tls",
        "upstream_tls",
    ])?;
    let mut config = GatewayConfig { file: Some(file.to_path_buf()), ..GatewayConfig::default() };

    if let Some(s) = top.section("listener")? {
        s.only(&["address", "backlog"])?;
        if let Some((p, text)) = s.string("address")? {
            config.static_config.listen = text
                .parse()
                .map_err(|_| s.invalid(&p, format!("{text:?} is not an IP:port socket address")))?;
        }
        if let Some(backlog) = s.uint("backlog")? {
            config.static_config.backlog = s.fits("backlog", backlog)?;
        }
    }
    if let Some(s) = top.section("runtime")? {
        s.only(&["workers", "driver", "pin_workers", "uring_entries"])?;
        if let Some(workers) = s.uint("workers")? {
            config.static_config.workers = resolve_workers(s.fits("workers", workers)?);
        }
        if let Some((p, text)) = s.string("driver")? {
            config.static_config.driver = parse_driver(&text).ok_or_else(|| {
                s.invalid(&p, format!("unknown driver {text:?}: expected auto, uring or epoll"))
            })?;
        }
        if let Some(pin) = s.bool("pin_workers")? {
            config.static_config.pin_workers = pin;
        }
        if let Some(entries) = s.uint("uring_entries")? {
            config.static_config.uring_entries = s.fits("uring_entries", entries)?;
        }
    }
    if let Some(s) = top.section("apis")? {
        s.only(&["directory", "watch", "debounce_ms"])?;
        if let Some((p, dir)) = s.string("directory")? {
            if dir.is_empty() {
                return Err(s.invalid(&p, "must not be empty".to_owned()));
            }
            config.apis_dir = PathBuf::from(dir);
        }
        if let Some(watch) = s.bool("watch")? {
            config.apis_watch = watch;
        }
        if let Some(d) = s.millis("debounce_ms", true)? {
            config.apis_debounce = d;
        }
    }
    if let Some(s) = top.section("limits")? {
        s.only(&["max_request_line", "max_header_bytes", "max_headers", "max_request_body"])?;
        config.settings.limits = limits(&s)?;
        if let Some(body) = s.uint("max_request_body")? {
            config.settings.max_request_body = (body > 0).then_some(body);
        }
    }
    if let Some(s) = top.section("timeouts")? {
        s.only(&[
            "request_head_ms",
            "keepalive_idle_ms",
            "upstream_connect_ms",
            "upstream_response_ms",
            "client_io_ms",
            "shutdown_grace_ms",
        ])?;
        config.settings.timeouts = timeouts(&s)?;
    }
    if let Some(s) = top.section("upstream")? {
        s.only(&["max_idle_per_endpoint", "idle_timeout_ms"])?;
        let mut pool = PoolSettings::default();
        if let Some(n) = s.uint("max_idle_per_endpoint")? {
            pool.max_idle_per_endpoint = s.fits("max_idle_per_endpoint", n)?;
        }
        if let Some(d) = s.millis("idle_timeout_ms", false)? {
            pool.idle_timeout = d;
        }
        config.settings.pool = pool;
    }
    if let Some(s) = top.section("upstream_tls")? {
        config.upstream_tls = crate::upstream_tls::parse_section(&s)?;
    }
    if let Some(s) = top.section("proxy")? {
        s.only(&["trusted_proxies", "via"])?;
        if let Some(items) = s.strings("trusted_proxies")? {
            let mut cidrs = Vec::with_capacity(items.len());
            for (p, text) in items {
                cidrs.push(Cidr::parse(&text).map_err(|err| s.invalid(&p, err.to_string()))?);
            }
            config.settings.trusted_proxies = cidrs;
        }
        if let Some((p, via)) = s.string("via")? {
            if via.chars().any(|c| c.is_ascii_control()) {
                return Err(s.invalid(&p, "must not contain control characters".to_owned()));
            }
            config.settings.via = (!via.trim().is_empty()).then(|| via.trim().to_owned());
        }
    }
    if let Some(s) = top.section("log")? {
        s.only(&["level"])?;
        if let Some((p, level)) = s.string("level")? {
            tracing_subscriber::EnvFilter::try_new(&level)
                .map_err(|err| s.invalid(&p, format!("invalid log filter {level:?}: {err}")))?;
            config.log_level = level;
        }
    }
    if let Some(s) = top.section("admin")? {
        config.admin = admin(&s)?;
        config.state_dir.clone_from(&config.admin.state_dir);
    }
    if let Some(s) = top.section("security")? {
        config.security = crate::security::parse_security(&s)?;
    }
    if let Some(s) = top.section("tls")? {
        let tls = crate::https::parse(&s, config.static_config.listen.ip())?;
        config.settings.tls = crate::https::build(file, &tls)?;
        config.static_config.tls_listen = config.settings.tls.is_some().then_some(tls.listen);
        config.settings.client_certificate_header = tls.forward_client_certificate_header.clone();
        config.tls = Some(tls);
    }
    Ok(config)
}

/// `[admin]` and its `[[admin.users]]`.
fn admin(s: &Section<'_>) -> Result<AdminConfig, ConfigError> {
    s.only(&[
        "enabled",
        "address",
        "plain_http",
        "tls_cert",
        "tls_key",
        "state_dir",
        "token_ttl_s",
        "max_body_bytes",
        "max_connections",
        "io_timeout_ms",
        "users",
    ])?;
    let mut admin = AdminConfig::default();
    if let Some(enabled) = s.bool("enabled")? {
        admin.enabled = enabled;
    }
    if let Some((p, text)) = s.string("address")? {
        admin.address = text
            .parse()
            .map_err(|_| s.invalid(&p, format!("{text:?} is not an IP:port socket address")))?;
    }
    if let Some(plain) = s.bool("plain_http")? {
        admin.plain_http = plain;
    }
    let path = |key: &str| -> Result<Option<PathBuf>, ConfigError> {
        match s.string(key)? {
            Some((p, text)) if text.is_empty() => {
                Err(s.invalid(&p, "must not be empty".to_owned()))
            }
            other => Ok(other.map(|(_, text)| PathBuf::from(text))),
        }
    };
    admin.tls_cert = path("tls_cert")?;
    admin.tls_key = path("tls_key")?;
    if admin.tls_cert.is_some() != admin.tls_key.is_some() {
        let missing = if admin.tls_cert.is_some() { "tls_key" } else { "tls_cert" };
        return Err(s.invalid(
            &s.pointer.key(missing),
            "tls_cert and tls_key must be set together".to_owned(),
        ));
    }
    if let Some(dir) = path("state_dir")? {
        admin.state_dir = dir;
    }
    if let Some(ttl) = s.positive("token_ttl_s")? {
        admin.token_ttl = Duration::from_secs(ttl);
    }
    if let Some(n) = s.positive("max_body_bytes")? {
        admin.max_body = s.fits("max_body_bytes", n)?;
    }
    if let Some(n) = s.positive("max_connections")? {
        admin.max_connections = s.fits("max_connections", n)?;
    }
    if let Some(d) = s.millis("io_timeout_ms", false)? {
        admin.io_timeout = d;
    }
    for user in s.tables("users")? {
        user.only(&["username", "password_hash"])?;
        let username = match user.string("username")? {
            Some((p, name)) if name.is_empty() || name.contains(':') => {
                return Err(user.invalid(&p, "must be non-empty and contain no ':'".to_owned()))
            }
            Some((_, name)) => name,
            None => return Err(user.invalid(&user.pointer.key("username"), "required".into())),
        };
        let password_hash = match user.string("password_hash")? {
            Some((p, text)) => PasswordHash::parse(&text).map_err(|why| user.invalid(&p, why))?,
            None => {
                return Err(user.invalid(
                    &user.pointer.key("password_hash"),
                    "required (create one with `turnpike hash-password`)".into(),
                ))
            }
        };
        if admin.users.iter().any(|u| u.username == username) {
            return Err(user.invalid(
                &user.pointer.key("username"),
                format!("user {username:?} is listed twice"),
            ));
        }
        admin.users.push(AdminUser { username, password_hash });
    }
    Ok(admin)
}

/// Parses a `--driver` / `runtime.driver` value.
pub fn parse_driver(text: &str) -> Option<Driver> {
    match text {
        "auto" => Some(Driver::Auto),
        "uring" | "io_uring" => Some(Driver::Uring),
        "epoll" => Some(Driver::Epoll),
        _ => None,
    }
}

/// `0` means one worker per available core.
fn resolve_workers(workers: usize) -> usize {
    if workers == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        workers
    }
}

fn limits(s: &Section<'_>) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    if let Some(n) = s.positive("max_request_line")? {
        limits.max_request_line = s.fits("max_request_line", n)?;
    }
    if let Some(n) = s.positive("max_header_bytes")? {
        limits.max_header_bytes = s.fits("max_header_bytes", n)?;
    }
    if let Some(n) = s.positive("max_headers")? {
        limits.max_headers = s.fits("max_headers", n)?;
    }
    Ok(limits)
}

fn timeouts(s: &Section<'_>) -> Result<Timeouts, ConfigError> {
    let mut t = Timeouts::default();
    let fields: [(&str, &mut Duration, bool); 6] = [
        ("request_head_ms", &mut t.request_head, false),
        ("keepalive_idle_ms", &mut t.keepalive_idle, false),
        ("upstream_connect_ms", &mut t.upstream_connect, false),
        ("upstream_response_ms", &mut t.upstream_response, false),
        ("client_io_ms", &mut t.client_io, false),
        ("shutdown_grace_ms", &mut t.shutdown_grace, true),
    ];
    for (key, slot, zero_ok) in fields {
        if let Some(d) = s.millis(key, zero_ok)? {
            *slot = d;
        }
    }
    Ok(t)
}

/// One TOML table being walked, with its pointer for error messages.
pub(crate) struct Section<'a> {
    pub(crate) file: &'a Path,
    pub(crate) pointer: Pointer,
    pub(crate) table: &'a toml::Table,
}

impl<'a> Section<'a> {
    pub(crate) fn invalid(&self, pointer: &Pointer, reason: String) -> ConfigError {
        ConfigError::InvalidConfig {
            file: self.file.to_path_buf(),
            pointer: pointer.to_string(),
            reason,
        }
    }

    /// Rejects keys other than `allowed`.
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), ConfigError> {
        match self.table.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(unknown) => Err(self.invalid(
                &self.pointer.key(unknown),
                format!("unknown key; expected one of: {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn section(&self, key: &str) -> Result<Option<Section<'a>>, ConfigError> {
        let pointer = self.pointer.key(key);
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Table(table)) => {
                Ok(Some(Section { file: self.file, pointer, table }))
            }
            Some(other) => Err(self.invalid(&pointer, expected("a table", other))),
        }
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<(Pointer, String)>, ConfigError> {
        let pointer = self.pointer.key(key);
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some((pointer, s.clone()))),
            Some(other) => Err(self.invalid(&pointer, expected("a string", other))),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.invalid(&self.pointer.key(key), expected("a boolean", other))),
        }
    }

    pub(crate) fn uint(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if *n >= 0 => Ok(u64::try_from(*n).ok()),
            Some(other) => {
                Err(self.invalid(&self.pointer.key(key), expected("a non-negative integer", other)))
            }
        }
    }

    pub(crate) fn positive(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.uint(key)? {
            Some(0) => Err(self.invalid(&self.pointer.key(key), "must be greater than 0".into())),
            other => Ok(other),
        }
    }

    /// A millisecond duration; 0 is rejected unless `zero_ok`.
    pub(crate) fn millis(&self, key: &str, zero_ok: bool) -> Result<Option<Duration>, ConfigError> {
        let value = if zero_ok { self.uint(key)? } else { self.positive(key)? };
        Ok(value.map(Duration::from_millis))
    }

    /// Converts to a narrower integer type, rejecting values that do not fit.
    pub(crate) fn fits<T: TryFrom<u64>>(&self, key: &str, value: u64) -> Result<T, ConfigError> {
        T::try_from(value)
            .map_err(|_| self.invalid(&self.pointer.key(key), format!("{value} is too large")))
    }

    /// The tables of an array of tables (`[[section.key]]`), each with its pointer.
    pub(crate) fn tables(&self, key: &str) -> Result<Vec<Section<'a>>, ConfigError> {
        let pointer = self.pointer.key(key);
        match self.table.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    toml::Value::Table(table) => {
                        Ok(Section { file: self.file, pointer: pointer.index(i), table })
                    }
                    other => Err(self.invalid(&pointer.index(i), expected("a table", other))),
                })
                .collect(),
            Some(other) => Err(self.invalid(&pointer, expected("an array of tables", other))),
        }
    }

    pub(crate) fn strings(&self, key: &str) -> Result<Option<Vec<(Pointer, String)>>, ConfigError> {
        let pointer = self.pointer.key(key);
        let items = match self.table.get(key) {
            None => return Ok(None),
            Some(toml::Value::Array(items)) => items,
            Some(other) => return Err(self.invalid(&pointer, expected("an array", other))),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                toml::Value::String(s) => out.push((pointer.index(i), s.clone())),
                other => return Err(self.invalid(&pointer.index(i), expected("a string", other))),
            }
        }
        Ok(Some(out))
    }
}

pub(crate) fn expected(what: &str, found: &toml::Value) -> String {
    format!("expected {what}, found {}", found.type_str())
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<GatewayConfig, ConfigError> {
        parse(Path::new("gateway.toml"), text)
    }

    fn invalid_at(text: &str) -> (String, String) {
        match parse_str(text).unwrap_err() {
            ConfigError::InvalidConfig { pointer, reason, .. } => (pointer, reason),
            other => panic!("expected InvalidConfig, got {other}"),
        }
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse_str("").unwrap();
        assert_eq!(c.static_config.listen, "0.0.0.0:9090".parse().unwrap());
        assert!(c.static_config.workers >= 1);
        assert_eq!(c.static_config.driver, Driver::Auto);
        assert_eq!(c.apis_dir, PathBuf::from("./apis"));
        assert_eq!(c.settings.timeouts, Timeouts::default());
        assert_eq!(c.settings.max_request_body, None);
        assert_eq!(c.log_level, "info");
    }

    #[test]
    fn reads_every_section() {
        let c = parse_str(
            r#"
            [listener]
            address = "127.0.0.1:8080"
            [runtime]
            workers = 3
            driver = "epoll"
            pin_workers = false
            [apis]
            directory = "defs"
            [limits]
            max_request_line = 4096
            max_headers = 50
            max_request_body = 1048576
            [timeouts]
            upstream_connect_ms = 250
            shutdown_grace_ms = 0
            [upstream]
            max_idle_per_endpoint = 8
            idle_timeout_ms = 1000
            [proxy]
            trusted_proxies = ["10.0.0.0/8", "::1"]
            via = "1.1 turnpike"
            [log]
            level = "debug,turnpike_core=trace"
            "#,
        )
        .unwrap();
        assert_eq!(c.static_config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.static_config.workers, 3);
        assert_eq!(c.static_config.driver, Driver::Epoll);
        assert!(!c.static_config.pin_workers);
        assert_eq!(c.apis_dir, PathBuf::from("defs"));
        assert_eq!(c.settings.limits.max_request_line, 4096);
        assert_eq!(c.settings.limits.max_headers, 50);
        assert_eq!(c.settings.max_request_body, Some(1_048_576));
        assert_eq!(c.settings.timeouts.upstream_connect, Duration::from_millis(250));
        assert_eq!(c.settings.timeouts.shutdown_grace, Duration::ZERO);
        assert_eq!(c.settings.timeouts.request_head, Duration::from_secs(10));
        assert_eq!(c.settings.pool.max_idle_per_endpoint, 8);
        assert_eq!(c.settings.trusted_proxies.len(), 2);
        assert_eq!(c.settings.via.as_deref(), Some("1.1 turnpike"));
        assert_eq!(c.log_level, "debug,turnpike_core=trace");
    }

    #[test]
    fn errors_name_the_key_path() {
        let (p, r) = invalid_at("[timeouts]\nupstream_connect_ms = \"5s\"");
        assert_eq!(p, "/timeouts/upstream_connect_ms");
        assert!(r.contains("found string"), "{r}");
        assert_eq!(invalid_at("[timeouts]\ntypo_ms = 1").0, "/timeouts/typo_ms");
        assert_eq!(invalid_at("[nope]\n").0, "/nope");
        assert_eq!(invalid_at("listener = 1").0, "/listener");
        assert_eq!(invalid_at("[runtime]\ndriver = \"kqueue\"").0, "/runtime/driver");
        assert_eq!(
            invalid_at("[proxy]\ntrusted_proxies = [\"10/8\"]").0,
            "/proxy/trusted_proxies/0"
        );
        assert_eq!(invalid_at("[listener]\naddress = \"nohost\"").0, "/listener/address");
        assert_eq!(invalid_at("[timeouts]\nclient_io_ms = 0").0, "/timeouts/client_io_ms");
        assert_eq!(invalid_at("[limits]\nmax_headers = -1").0, "/limits/max_headers");
        assert_eq!(invalid_at("[log]\nlevel = \"[[[\"").0, "/log/level");
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        match parse_str("[listener]\naddress = \n").unwrap_err() {
            ConfigError::Syntax { line, .. } => assert_eq!(line, 2),
            other => panic!("expected Syntax, got {other}"),
        }
        let shown = parse_str("[runtime]\nworkers = \"x\"").unwrap_err().to_string();
        assert!(shown.starts_with("gateway.toml: /runtime/workers: "), "{shown}");
    }

    #[test]
    fn overrides_win() {
        let mut c = parse_str("[runtime]\nworkers = 2").unwrap();
        c.apply(&Overrides {
            listen: Some("127.0.0.1:1".parse().unwrap()),
            apis_dir: Some("x".into()),
            workers: Some(5),
            driver: Some(Driver::Uring),
        });
        assert_eq!(c.static_config.workers, 5);
        assert_eq!(c.static_config.listen.port(), 1);
        assert_eq!(c.apis_dir, PathBuf::from("x"));
        assert_eq!(c.static_config.driver, Driver::Uring);
    }

    #[test]
    fn admin_and_watch_defaults() {
        let c = parse_str("").unwrap();
        assert!(c.apis_watch);
        assert_eq!(c.apis_debounce, Duration::from_millis(300));
        assert_eq!(c.state_dir, PathBuf::from("./turnpike-state"));
        assert_eq!(c.admin, AdminConfig::default());
        assert_eq!(c.admin.address, "0.0.0.0:9843".parse().unwrap());
        assert!(!c.admin.plain_http && c.admin.enabled && c.admin.users.is_empty());
        assert_eq!(c.admin.max_body, 32 * 1024 * 1024);
    }

    #[test]
    fn reads_admin_and_watch() {
        let hash = crate::admin::hash_password_with_iterations("pw", 1000);
        let c = parse_str(&format!(
            r#"
            [apis]
            watch = false
            debounce_ms = 0
            [admin]
            address = "127.0.0.1:19843"
            plain_http = true
            tls_cert = "c.pem"
            tls_key = "k.pem"
            state_dir = "/var/lib/turnpike"
            token_ttl_s = 60
            max_body_bytes = 1024
            max_connections = 4
            io_timeout_ms = 500
            [[admin.users]]
            username = "ops"
            password_hash = "{hash}"
            "#
        ))
        .unwrap();
        assert!(!c.apis_watch);
        assert_eq!(c.apis_debounce, Duration::ZERO);
        let a = &c.admin;
        assert_eq!(a.address, "127.0.0.1:19843".parse().unwrap());
        assert!(a.plain_http);
        assert_eq!(a.tls_cert.as_deref(), Some(Path::new("c.pem")));
        assert_eq!(a.tls_key.as_deref(), Some(Path::new("k.pem")));
        assert_eq!(a.state_dir, PathBuf::from("/var/lib/turnpike"));
        assert_eq!(c.state_dir, a.state_dir);
        assert_eq!(a.token_ttl, Duration::from_secs(60));
        assert_eq!((a.max_body, a.max_connections), (1024, 4));
        assert_eq!(a.io_timeout, Duration::from_millis(500));
        assert_eq!(a.users.len(), 1);
        assert_eq!(a.users[0].username, "ops");
        assert!(a.users[0].password_hash.verify("pw"));
    }

    #[test]
    fn admin_errors_name_the_key_path() {
        let user = |fields: &str| format!("[[admin.users]]\n{fields}");
        assert_eq!(
            invalid_at(&user("username = \"a\"\npassword_hash = \"plain\"")).0,
            "/admin/users/0/password_hash"
        );
        assert_eq!(invalid_at(&user("password_hash = \"x\"")).0, "/admin/users/0/username");
        assert_eq!(invalid_at(&user("username = \"a:b\"")).0, "/admin/users/0/username");
        assert_eq!(invalid_at(&user("username = \"a\"\nrole = 1")).0, "/admin/users/0/role");
        let h = crate::admin::hash_password_with_iterations("pw", 1);
        let twice = format!(
            "[[admin.users]]\nusername = \"a\"\npassword_hash = \"{h}\"\n\
             [[admin.users]]\nusername = \"a\"\npassword_hash = \"{h}\""
        );
        assert_eq!(invalid_at(&twice).0, "/admin/users/1/username");
        assert_eq!(invalid_at("[admin]\nusers = 1").0, "/admin/users");
        assert_eq!(invalid_at("[admin]\ntls_cert = \"c.pem\"").0, "/admin/tls_key");
        assert_eq!(invalid_at("[admin]\naddress = \"x\"").0, "/admin/address");
        assert_eq!(invalid_at("[admin]\nport = 1").0, "/admin/port");
        assert_eq!(invalid_at("[admin]\nmax_body_bytes = 0").0, "/admin/max_body_bytes");
        assert_eq!(invalid_at("[apis]\nwatch = \"yes\"").0, "/apis/watch");
        assert_eq!(invalid_at("[apis]\ndebounce_ms = -1").0, "/apis/debounce_ms");
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let err = load(Some(Path::new("/nonexistent/gateway.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }
}
