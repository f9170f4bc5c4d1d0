//! The `turnpike` binary: command-line parsing, logging setup, and the process lifecycle
//! (start the core, wait for SIGTERM/SIGINT, drain, exit).
//!
//! Where it sits: the outermost layer. Everything it does with configuration and definitions is
//! a call into the `turnpike_adapter` library (`config`, `load`, `compile`, `summary`); the data
//! plane is `turnpike_core::start`. This is the only file that uses `anyhow` and the only one
//! that decides exit codes: 0 on a clean run or a valid `validate`, 1 on any error.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing_subscriber::EnvFilter;
use turnpike_adapter::{build_snapshot, config, summary, GatewayConfig, Overrides, Warning};
use turnpike_core::Driver;

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

API DEFINITIONS
  Each file needs info.title, info.version, x-wso2-basePath (e.g. /petstore/v1) and
  x-wso2-production-endpoints ({ urls: [\"http://host:port/base\"], type: http|load_balance|
  failover } or \"#/x-wso2-endpoints/<name>\") at the API, path or operation level. Optional:
  x-wso2-sandbox-endpoints, x-wso2-vhost. Extensions that are recognised but not enforced yet
  (security, throttling, CORS, interceptors, transports) are logged as warnings.
  A broken definition stops the gateway from starting: the error names the file and the JSON
  pointer of the offending key.

EXIT STATUS
  0 after a clean shutdown (SIGTERM/SIGINT) or a successful validate; 1 on any error.";

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
    /// Load and compile the configuration and API definitions, print warnings and the route
    /// table, and exit 0 if everything is valid (1 otherwise). Starts nothing.
    Validate(CommonArgs),
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
        Command::Run(args) => run(args),
        Command::Validate(args) => validate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("turnpike: error: {err:#}");
            ExitCode::FAILURE
        }
    }
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
        apis_dir: None,
        workers: args.workers,
        driver: args.driver.map(Driver::from),
    };
    let config = configure(&args.common, overrides)?;
    init_tracing(&config.log_level)?;
    let (snapshot, warnings) = build_snapshot(&config.apis_dir, config.settings.clone())?;
    log_warnings(&warnings);
    if snapshot.apis.is_empty() {
        tracing::warn!(dir = %config.apis_dir.display(), "no API definitions found; every request will get 404");
    }
    for line in summary::api_lines(&snapshot) {
        tracing::info!("{line}");
    }
    let static_config = config.static_config.clone();
    let mut signals =
        Signals::new([SIGTERM, SIGINT]).context("cannot install SIGTERM/SIGINT handlers")?;
    let handle = turnpike_core::start(static_config.clone(), snapshot)
        .context("the gateway could not start")?;
    tracing::info!(
        "turnpike listening on {} with {} workers (driver {})",
        handle.local_addr(),
        static_config.workers,
        driver_name(static_config.driver)
    );
    let signal = signals.forever().next();
    tracing::info!(?signal, "shutting down; draining in-flight requests");
    let report = handle.shutdown();
    tracing::info!(?report, "turnpike stopped");
    Ok(())
}

fn validate(args: CommonArgs) -> anyhow::Result<()> {
    let config = configure(&args, Overrides::default())?;
    let (snapshot, warnings) = build_snapshot(&config.apis_dir, config.settings.clone())?;
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

/// Log filter from `TURNPIKE_LOG`, else the configured level.
fn init_tracing(level: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("TURNPIKE_LOG") {
        Ok(env) if !env.trim().is_empty() => {
            EnvFilter::try_new(&env).with_context(|| format!("invalid TURNPIKE_LOG {env:?}"))?
        }
        _ => EnvFilter::try_new(level).with_context(|| format!("invalid log level {level:?}"))?,
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in files or pipes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init()
        .map_err(|err| anyhow::anyhow!(err))?;
    Ok(())
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
