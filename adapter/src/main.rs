//! The `turnpike` binary: command-line parsing, logging setup, and the process lifecycle
//! (start the core, the admin API and the watchers, wait for SIGTERM/SIGINT, drain, exit).
//!
//! Where it sits: the outermost layer. `turnpike run` is: config → deploy manager (API directory
//! and persisted admin deployments) → `turnpike_core::start` → `admin::start` (unless disabled)
//! → directory and `gateway.toml` watchers → wait for a signal → stop the admin API and the
//! watchers → `GatewayHandle::shutdown` → exit 0. The client commands (`init`, `deploy`, ...)
//! live in `cli`. Only this file and `cli` decide exit codes: 0 done, 1 error or rejected, 2
//! usage, 3 gateway unreachable or authentication failed.
#![forbid(unsafe_code)]

mod cli;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{reload, EnvFilter, Registry};
use turnpike_adapter::deploy::{
    self, ConfigReloader, Manager, ManagerOptions, WatchOptions, Watcher,
};
use turnpike_adapter::{
    admin, build_snapshot, config, https, security, summary, GatewayConfig, Overrides, Warning,
};
use turnpike_core::{Driver, GatewayHandle};

const LONG_ABOUT: &str = "\
Turnpike is an API gateway: one process, one pinned worker per core, serving APIs described by
WSO2 API Microgateway style definitions (OpenAPI 3.0/3.1 or Swagger 2.0 files with x-wso2-*
extensions) from a directory.

CONFIGURATION
  Settings come from gateway.toml (--config FILE; without it ./gateway.toml is read if it exists,
  otherwise built-in defaults apply). Command-line flags override the file. Every key is optional;
  unknown keys are errors. Format and defaults:

    [listener]
    address = \"0.0.0.0:9090\"      # where clients connect
    backlog = 1024
    [runtime]
    workers = 0                   # 0 = one worker per available core
    driver = \"auto\"               # auto (io_uring, else epoll) | uring | epoll
    pin_workers = true            # pin worker i to CPU i
    uring_entries = 1024
    [apis]
    directory = \"./apis\"          # *.yaml, *.yml, *.json (not recursive, hidden files skipped)
    [limits]
    max_request_line = 8192       # bytes
    max_header_bytes = 61440      # bytes
    max_headers = 100
    max_request_body = 0          # bytes, 0 = unlimited
    [timeouts]                    # milliseconds
    request_head_ms = 10000
    keepalive_idle_ms = 60000
    upstream_connect_ms = 5000
    upstream_response_ms = 60000
    client_io_ms = 60000
    shutdown_grace_ms = 15000
    [upstream]
    max_idle_per_endpoint = 64
    idle_timeout_ms = 30000
    [proxy]
    trusted_proxies = []          # CIDRs whose X-Forwarded-For is believed
    via = \"\"                      # e.g. \"1.1 turnpike\"; empty = no Via header
    [log]
    level = \"info\"                # tracing EnvFilter syntax; env TURNPIKE_LOG overrides
    [tls]                         # HTTPS listener (none without [[tls.certificates]])
    listen = \"0.0.0.0:9095\"       # default: the [listener] host, port 9095
    handshake_timeout_ms = 10000  # accept to end of handshake; slower clients are dropped
    max_handshakes = 1024         # handshakes in progress per core; more are closed at once
    [[tls.certificates]]          # one per certificate; SNI picks among them
    cert_file = \"server.crt\"      # PEM chain, leaf first
    key_file = \"server.key\"       # PEM private key (PKCS#8, PKCS#1, SEC1)
    server_names = [\"api.example.com\", \"*.example.com\"]  # none: the default certificate
  HTTPS: TLS 1.3 and 1.2 only (1.3 preferred, server cipher order, ECDHE + AEAD suites), ALPN
  http/1.1 (no h2), resumption by tickets valid on every core. Certificate and key files are read
  again when they are replaced (in place or by rename) or gateway.toml changes, after the
  [apis] debounce: new connections get the new certificate, open ones keep theirs; a file that
  does not load is logged and the running certificates stay. tls.listen needs a restart.
    [upstream_tls]                # https:// backends (a change needs a restart)
    verify_hostname = true        # false: chains still verified, host names not (warned)
    # client_cert_file / client_key_file: PEM chain and key presented to backends that ask

API DEFINITIONS
  Each file needs info.title, info.version, x-wso2-basePath (e.g. /petstore/v1) and
  x-wso2-production-endpoints ({ urls: [\"http[s]://host:port/base\"], type: http|load_balance|
  failover } or \"#/x-wso2-endpoints/<name>\") at the API, path or operation level. Optional:
  x-wso2-sandbox-endpoints, x-wso2-vhost. Extensions that are recognised but not enforced yet
  (throttling, CORS, interceptors, transports, mutual TLS) are logged as warnings.

SECURITY
  [security] default = \"oauth2\" (WSO2's: an API declaring no security needs a bearer token) or
  \"none\"; [[security.issuers]] name, issuer, jwks_url | jwks_file | secret_env | certificate
  (X.509 certificate or PUBLIC KEY PEM; kid optional), algorithms, audiences, clock_skew_s,
  consumer_key_claim, scopes_claim, validate_subscriptions, jwks_refresh_s, jwks_min_refetch_s,
  claim_mappings; [security.introspection] url, client_id,
  client_secret_env, cache_ttl_s, introspect_failed_jwts, max_in_flight; [[security.api_keys]]
  application, sha256, key_type, apis; [[security.basic_users]] username, password_hash;
  realm, strip_credentials, basic_cache_ttl_s, subscriptions_file. Changes need a restart.
  Applications, subscriptions and revoked token ids also change at run time through the admin
  API (/api/turnpike/v1/applications, /subscriptions, /revocations; turnpike revoke); they are
  kept in state_dir/security/. At start the subscriptions_file is read as the seed, then the
  admin changes (upserts and deletions by id) are applied over it; revocations last until their
  expires_at.
  [security.backend_jwt] enabled (false), header (X-JWT-Assertion), signing_key_file (PKCS#8 PEM;
  unset: a key generated at start, so backends must fetch it), algorithm (by key type: RS256,
  ES256, ES384, EdDSA), kid (RFC 7638 thumbprint), issuer (wso2.org/products/am), audience,
  ttl_s (900), claim_dialect (http://wso2.org/claims): every authenticated request reaches its
  backend with a signed JWT of the caller and API (WSO2 claims); GET /.wellknown/jwks on the
  listener serves the public key (it takes precedence over an API on that path while enabled).
  `turnpike token` mints test credentials for a local test issuer (turnpike token --help).
  A broken definition stops the gateway from starting: the error names the file and the JSON
  pointer of the offending key.

HOT DEPLOYMENT
  While running, the API directory is watched ([apis] watch, debounce_ms): a change is loaded,
  compiled with everything else and published to every core without dropping a request; a broken
  file is logged and the previous APIs keep serving. gateway.toml is watched too: limits,
  timeouts, upstream pool, proxy, log level and [security] apply at once (new JWKS URLs are
  fetched right after; their tokens get 401 until the keys arrive; cached verifications are
  dropped); a broken file or section is logged and the previous one keeps serving; listener,
  runtime and apis.directory changes are logged as \"restart required\". The admin API
  ([admin], default https on 0.0.0.0:9843; --admin-listen ADDR|off) deploys apictl projects
  (turnpike deploy), persisted in [admin] state_dir and loaded again at start.

EXIT STATUS
  0 after a clean shutdown (SIGTERM/SIGINT) or a successful command; 1 on any error or rejected
  change; 2 on a usage error; 3 when the admin API is unreachable or authentication failed.";

#[derive(Parser, Debug)]
#[command(name = "turnpike", version, about = "Turnpike API gateway", long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the APIs until SIGTERM or SIGINT, then drain in-flight requests and exit.
    Run(RunArgs),
    /// Without PATHs: load and compile the configuration and the API directory, print warnings
    /// and the route table, exit 0 if everything is valid (1 otherwise). With PATHs (project
    /// folders, project zips, OpenAPI files): check each, print every problem, exit 1 if any.
    Validate(ValidateArgs),
    /// Create an apictl project skeleton: api.yaml, Definitions/swagger.yaml,
    /// deployment_environments.yaml.
    Init {
        /// The project folder to create (must not exist or be empty).
        dir: PathBuf,
        /// Use this OpenAPI file as Definitions/swagger.yaml instead of a minimal one.
        #[arg(long, value_name = "FILE")]
        oas: Option<PathBuf>,
    },
    /// Deploy a project (folder, zip or OpenAPI file) through a running gateway's admin API.
    Deploy {
        /// Project folder, project zip, or OpenAPI file.
        path: PathBuf,
        /// Replace an API with the same name, version and vhost deployed before.
        #[arg(long = "override")]
        override_existing: bool,
        #[command(flatten)]
        admin: cli::AdminArgs,
    },
    /// Show what deploying a project would change (a dry run; nothing is changed).
    Diff {
        /// Project folder, project zip, or OpenAPI file.
        path: PathBuf,
        #[command(flatten)]
        admin: cli::AdminArgs,
    },
    /// Deployed APIs.
    Apis {
        #[command(subcommand)]
        command: ApisCommand,
    },
    /// Remove an API deployed through the admin API.
    Undeploy {
        /// API name.
        #[arg(long)]
        name: String,
        /// API version.
        #[arg(long = "version", value_name = "VERSION")]
        api_version: String,
        /// Virtual host it was deployed for.
        #[arg(long)]
        vhost: Option<String>,
        #[command(flatten)]
        admin: cli::AdminArgs,
    },
    /// Revoke a token id (jti) on a running gateway until the token's expiry; answers once
    /// every core refuses the token.
    Revoke {
        /// The token's `jti`.
        #[arg(long)]
        jti: String,
        /// When the token expires (Unix seconds, its `exp`); the revocation lasts until then.
        #[arg(long, value_name = "UNIX_SECONDS")]
        expires_at: u64,
        #[command(flatten)]
        admin: cli::AdminArgs,
    },
    /// Revoked token ids still in force.
    Revocations {
        #[command(subcommand)]
        command: ListCommand,
    },
    /// Applications (subscriptions file and admin API).
    Applications {
        #[command(subcommand)]
        command: ListCommand,
    },
    /// Subscriptions (subscriptions file and admin API).
    Subscriptions {
        #[command(subcommand)]
        command: ListCommand,
    },
    /// Read a password from stdin and print its hash for [[admin.users]] password_hash.
    HashPassword,
    /// Mint test credentials for a local test issuer: a signed access token (--key, --issuer),
    /// a WSO2 API key (--api-key), a plain API key with its sha256 (--plain-api-key), or a new
    /// issuer key with its certificate (--generate-key, --cert).
    Token(Box<cli::token::TokenArgs>),
}

#[derive(Subcommand, Debug)]
enum ListCommand {
    /// List them, one per line.
    List {
        #[command(flatten)]
        admin: cli::AdminArgs,
    },
}

#[derive(Subcommand, Debug)]
enum ApisCommand {
    /// List the APIs a running gateway serves, with their source.
    List {
        #[command(flatten)]
        admin: cli::AdminArgs,
    },
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Gateway configuration file [default: ./gateway.toml if it exists, else built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of API definitions [default: apis.directory from the config, "./apis"].
    #[arg(long, value_name = "DIR")]
    apis: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Project folders, project zips or OpenAPI files to check instead of the API directory.
    paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Listener address [default: listener.address from the config, "0.0.0.0:9090"].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Worker cores, 0 = one per available core [default: runtime.workers from the config, 0].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// I/O driver [default: runtime.driver from the config, "auto"].
    #[arg(long, value_enum)]
    driver: Option<DriverArg>,
    /// Admin API address, or "off" to run without it [default: admin.address from the config,
    /// "0.0.0.0:9843"; when that default is taken the gateway runs without the admin API].
    #[arg(long, value_name = "ADDR:PORT|off", value_parser = parse_admin_listen)]
    admin_listen: Option<AdminListen>,
    /// State directory (admin certificate, admin-deployed APIs, applications, subscriptions and
    /// revocations changed through the admin API) [default: admin.state_dir from
    /// the config, "./turnpike-state"].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug)]
enum AdminListen {
    Off,
    At(SocketAddr),
}

fn parse_admin_listen(text: &str) -> Result<AdminListen, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(AdminListen::Off);
    }
    text.parse()
        .map(AdminListen::At)
        .map_err(|_| format!("{text:?} is neither an IP:port address nor \"off\""))
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DriverArg {
    /// io_uring when available, else epoll.
    Auto,
    /// io_uring only (start fails without it).
    Uring,
    /// epoll only.
    Epoll,
}

impl From<DriverArg> for Driver {
    fn from(arg: DriverArg) -> Self {
        match arg {
            DriverArg::Auto => Driver::Auto,
            DriverArg::Uring => Driver::Uring,
            DriverArg::Epoll => Driver::Epoll,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args).map_err(failure),
        Command::Validate(args) if args.paths.is_empty() => validate(args.common).map_err(failure),
        Command::Validate(args) => validate_paths(&args.paths),
        Command::Init { dir, oas } => cli::init(&dir, oas.as_deref()),
        Command::Deploy { path, override_existing, admin } => {
            cli::deploy(&path, override_existing, &admin)
        }
        Command::Diff { path, admin } => cli::diff(&path, &admin),
        Command::Apis { command: ApisCommand::List { admin } } => cli::list(&admin),
        Command::Undeploy { name, api_version, vhost, admin } => {
            cli::undeploy(&name, &api_version, vhost.as_deref(), &admin)
        }
        Command::Revoke { jti, expires_at, admin } => {
            cli::security::revoke(&jti, expires_at, &admin)
        }
        Command::Revocations { command: ListCommand::List { admin } } => {
            cli::security::list("revocations", &admin)
        }
        Command::Applications { command: ListCommand::List { admin } } => {
            cli::security::list("applications", &admin)
        }
        Command::Subscriptions { command: ListCommand::List { admin } } => {
            cli::security::list("subscriptions", &admin)
        }
        Command::Token(args) => cli::token::run(&args),
        Command::HashPassword => {
            cli::read_password().map(|p| println!("{}", admin::hash_password(&p)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("turnpike: error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn failure(err: anyhow::Error) -> cli::Failure {
    cli::Failure::rejected(format!("{err:#}"))
}

/// Loads the config file and applies the flags.
fn configure(common: &CommonArgs, overrides: Overrides) -> anyhow::Result<GatewayConfig> {
    let mut config = config::load(common.config.as_deref())?;
    config.apply(&Overrides { apis_dir: common.apis.clone(), ..overrides });
    Ok(config)
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: args.listen,
        apis_dir: args.common.apis.clone(),
        workers: args.workers,
        driver: args.driver.map(Driver::from),
    };
    let mut config = configure(&args.common, overrides.clone())?;
    if let Some(dir) = &args.state_dir {
        config.state_dir.clone_from(dir);
        config.admin.state_dir.clone_from(dir);
    }
    let log = init_tracing(&config.log_level)?;
    let mut inputs = security::initial_inputs(&config.security).map_err(anyhow::Error::msg)?;
    let jwks_sources = security::sources(&config.security).map_err(anyhow::Error::msg)?;
    let fetch_options = security::fetch_options();
    inputs.fetched.extend(security::initial_keys(&jwks_sources, &fetch_options));
    let options = ManagerOptions {
        apis_dir: config.apis_dir.clone(),
        state_dir: config.state_dir.clone(),
        settings: config.settings.clone(),
        ack_timeout: deploy::manager::DEFAULT_ACK_TIMEOUT,
        security: inputs,
        upstream_tls: config.upstream_tls.clone(),
    };
    let (manager, snapshot, warnings) = Manager::<GatewayHandle>::open(options)?;
    log_warnings(&warnings);
    if snapshot.apis.is_empty() {
        tracing::warn!(dir = %config.apis_dir.display(), "no APIs deployed yet; every request will get 404");
    }
    for line in summary::api_lines(&snapshot) {
        tracing::info!("{line}");
    }
    let static_config = config.static_config.clone();
    let mut signals =
        Signals::new([SIGTERM, SIGINT]).context("cannot install SIGTERM/SIGINT handlers")?;
    let (events, core_events) = turnpike_core::events::channel();
    let handle = turnpike_core::start_with_events(static_config.clone(), snapshot, Some(events))
        .context("the gateway could not start")?;
    tracing::info!(
        "turnpike listening on {} with {} workers (driver {})",
        handle.local_addr(),
        static_config.workers,
        driver_name(static_config.driver)
    );
    if let Some(tls_addr) = handle.tls_addr() {
        tracing::info!("turnpike listening for HTTPS on {tls_addr}");
    }
    let manager = Arc::new(manager);
    manager.attach(handle);
    let keys =
        security::KeyService::start(jwks_sources, fetch_options, manager.clone(), core_events)
            .context("cannot start the JWKS refresher")?;
    let admin = match start_admin(&config, args.admin_listen, &manager) {
        Ok(admin) => admin,
        Err(err) => {
            stop_gateway(&manager);
            return Err(err);
        }
    };
    let watcher = if config.apis_watch {
        let on_config = config.file.clone().map(|file| {
            let mut reloader = ConfigReloader::new(
                file,
                overrides,
                config.clone(),
                manager.clone(),
                log.map(|handle| -> deploy::reload::SetLogLevel {
                    Box::new(move |level: &str| {
                        let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
                        handle.reload(filter).map_err(|e| e.to_string())
                    })
                }),
            )
            .with_jwks(keys.sources());
            Box::new(move || reloader.reload()) as deploy::ConfigReload
        });
        let options = WatchOptions {
            apis_dir: config.apis_dir.clone(),
            config_file: config.file.clone(),
            config_inputs: config.tls.as_ref().map(https::TlsConfig::files).unwrap_or_default(),
            debounce: config.apis_debounce,
        };
        match Watcher::start(options, manager.clone(), on_config) {
            Ok(w) => Some(w),
            Err(err) => {
                tracing::error!(
                    "cannot watch {}: {err}; hot reload is off",
                    config.apis_dir.display()
                );
                None
            }
        }
    } else {
        None
    };
    let signal = signals.forever().next();
    tracing::info!(?signal, "shutting down; draining in-flight requests");
    // Listeners close first (no new connection is accepted from here on), then the control-plane
    // parts stop, then the workers are joined once their requests in flight are done.
    let handle = manager.detach();
    if let Some(handle) = &handle {
        handle.begin_shutdown();
    }
    if let Some(admin) = admin {
        admin.shutdown();
    }
    if let Some(watcher) = watcher {
        watcher.stop();
    }
    if let Some(handle) = handle {
        let report = handle.shutdown();
        tracing::info!(?report, "turnpike stopped");
    }
    keys.stop();
    Ok(())
}

fn stop_gateway(manager: &Manager<GatewayHandle>) {
    if let Some(handle) = manager.detach() {
        let report = handle.shutdown();
        tracing::info!(?report, "turnpike stopped");
    }
}

/// Starts the admin API unless it is off. A failure to bind the built-in default address (not
/// asked for by flag or config) is logged and the gateway runs without the admin API, so that
/// several gateways on one host (tests, side-by-side runs) do not fight over port 9843.
fn start_admin(
    config: &GatewayConfig,
    flag: Option<AdminListen>,
    manager: &Arc<Manager<GatewayHandle>>,
) -> anyhow::Result<Option<admin::AdminHandle>> {
    let mut admin_config = config.admin.clone();
    let explicit = match flag {
        Some(AdminListen::Off) => return Ok(None),
        Some(AdminListen::At(addr)) => {
            admin_config.address = addr;
            admin_config.enabled = true;
            true
        }
        None => admin_config.address != admin::AdminConfig::default().address,
    };
    if !admin_config.enabled {
        return Ok(None);
    }
    let deployments: Arc<dyn deploy::Deployments> = manager.clone();
    match admin::start(&admin_config, deployments) {
        Ok(handle) => {
            let scheme = if admin_config.plain_http { "http" } else { "https" };
            tracing::info!("admin API listening on {scheme}://{}", handle.local_addr());
            Ok(Some(handle))
        }
        Err(err @ admin::AdminError::Bind { .. }) if !explicit => {
            tracing::error!(
                "{err}; running without the admin API (set [admin] address or --admin-listen)"
            );
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

fn validate(args: CommonArgs) -> anyhow::Result<()> {
    let config = configure(&args, Overrides::default())?;
    let inputs = security::initial_inputs(&config.security).map_err(anyhow::Error::msg)?;
    let (snapshot, warnings) =
        build_snapshot(&config.apis_dir, config.settings.clone(), &inputs, &config.upstream_tls)?;
    let source =
        config.file.as_ref().map_or("built-in defaults".to_owned(), |f| f.display().to_string());
    println!("config: {source}");
    println!("apis:   {}", config.apis_dir.display());
    for warning in &warnings {
        println!("warning: {warning}");
    }
    println!("\n{} APIs:", snapshot.apis.len());
    for line in summary::api_lines(&snapshot) {
        println!("  {line}");
    }
    println!("\n{} routes:", snapshot.routes.len());
    for line in summary::route_lines(&snapshot) {
        println!("  {line}");
    }
    println!("\nOK");
    Ok(())
}

/// `turnpike validate PATH...`: each path on its own, then all of them together.
fn validate_paths(paths: &[PathBuf]) -> Result<(), cli::Failure> {
    let mut problems = 0usize;
    let mut all = Vec::new();
    for path in paths {
        match deploy::source::load_path(path) {
            Ok(project) => {
                for w in &project.warnings {
                    println!("warning: {w}");
                }
                match turnpike_adapter::compile(&project.definitions, Default::default()) {
                    Ok(snapshot) => {
                        println!("{}: OK", path.display());
                        for line in summary::route_lines(&snapshot) {
                            println!("  {line}");
                        }
                        all.extend(project.definitions);
                    }
                    Err(err) => {
                        problems += 1;
                        eprintln!("error: {err}");
                    }
                }
            }
            Err(err) => {
                problems += 1;
                eprintln!("error: {}", describe_load_error(path, &err));
            }
        }
    }
    if paths.len() > 1 && problems == 0 {
        if let Err(err) = turnpike_adapter::compile(&all, Default::default()) {
            problems += 1;
            eprintln!("error: together: {err}");
        }
    }
    if problems > 0 {
        return Err(cli::Failure::rejected(format!("{problems} problem(s) found")));
    }
    Ok(())
}

fn describe_load_error(path: &Path, err: &turnpike_adapter::LoadError) -> String {
    let text = err.to_string();
    if text.contains(&path.display().to_string()) {
        text
    } else {
        format!("{}: {text}", path.display())
    }
}

/// Log filter from `TURNPIKE_LOG`, else the configured level. Returns the handle that changes
/// the level at run time, unless `TURNPIKE_LOG` fixed it.
fn init_tracing(level: &str) -> anyhow::Result<Option<reload::Handle<EnvFilter, Registry>>> {
    let (filter, from_env) = match std::env::var("TURNPIKE_LOG") {
        Ok(env) if !env.trim().is_empty() => (
            EnvFilter::try_new(&env).with_context(|| format!("invalid TURNPIKE_LOG {env:?}"))?,
            true,
        ),
        _ => (
            EnvFilter::try_new(level).with_context(|| format!("invalid log level {level:?}"))?,
            false,
        ),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in files or pipes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .map_err(|err| anyhow::anyhow!(err))?;
    Ok((!from_env).then_some(handle))
}

fn driver_name(driver: Driver) -> &'static str {
    match driver {
        Driver::Auto => "auto",
        Driver::Uring => "uring",
        Driver::Epoll => "epoll",
    }
}

fn log_warnings(warnings: &[Warning]) {
    for w in warnings {
        tracing::warn!(file = %w.file.display(), pointer = %w.pointer, "{}", w.message);
    }
}
