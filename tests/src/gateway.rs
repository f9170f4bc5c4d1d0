//! Spawning the real `turnpike` binary.
//!
//! [`Gateway::start`] writes a `gateway.toml` and an `apis/` directory into a fresh
//! [`TempDir`], picks a free port on 127.0.0.1 (bind to port 0, read it, release it), runs
//! `turnpike run --config … --apis … --listen 127.0.0.1:PORT --workers 1`, and polls connect until
//! the port accepts (10 s). If the binary exits first because the port was taken meanwhile, it
//! retries on another port. stderr goes to a file, printed when a test panics with the gateway
//! alive. Drop kills the process (SIGKILL) and reaps it.
//!
//! The binary: `$TURNPIKE_BIN`, else the newest of `{$CARGO_TARGET_DIR,<workspace>/target}/{debug,release}/turnpike`.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::temp::TempDir;

/// What to run the gateway with.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Contents of `gateway.toml` (may be empty).
    pub toml: String,
    /// API definition files: (file name, contents).
    pub apis: Vec<(String, String)>,
    /// `--workers` (default 1; `None` leaves it to the config).
    pub workers: Option<usize>,
    /// `--driver` (default: not passed).
    pub driver: Option<String>,
    /// Extra arguments after `run`.
    pub args: Vec<String>,
    /// Environment variables set for the process.
    pub env: Vec<(String, String)>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            toml: String::new(),
            apis: Vec::new(),
            workers: Some(1),
            driver: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }
}

impl GatewayConfig {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an API definition file.
    pub fn api(mut self, file: &str, yaml: impl Into<String>) -> Self {
        self.apis.push((file.to_owned(), yaml.into()));
        self
    }

    /// Appends to `gateway.toml`.
    pub fn toml(mut self, text: &str) -> Self {
        self.toml.push_str(text);
        self.toml.push('\n');
        self
    }

    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    pub fn driver(mut self, d: &str) -> Self {
        self.driver = Some(d.to_owned());
        self
    }

    /// Sets an environment variable for the gateway process.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// Why the gateway did not become ready.
#[derive(Debug)]
pub struct StartFailure {
    /// Its exit status if it exited; `None` if it was still running (and was killed) at the deadline.
    pub status: Option<ExitStatus>,
    pub stderr: String,
    /// The temporary directory (kept alive so paths in `stderr` still make sense).
    pub dir: TempDir,
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    child: Child,
    addr: SocketAddr,
    dir: TempDir,
    stderr_path: PathBuf,
    exit: Option<ExitStatus>,
}

/// Path of the binary under test.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TURNPIKE_BIN") {
        return PathBuf::from(p);
    }
    let workspace =
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
    let mut targets = Vec::new();
    for t in
        [std::env::var("CARGO_TARGET_DIR").ok(), option_env!("CARGO_TARGET_DIR").map(str::to_owned)]
            .into_iter()
            .flatten()
    {
        let p = PathBuf::from(t);
        targets.push(if p.is_absolute() { p } else { workspace.join(p) });
    }
    targets.push(workspace.join("target"));
    let candidates: Vec<PathBuf> = targets
        .iter()
        .flat_map(|t| [t.join("debug/turnpike"), t.join("release/turnpike")])
        .collect();
    candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| {
            panic!(
                "turnpike binary not found (run `cargo build -p turnpike-adapter` or set TURNPIKE_BIN); looked at {candidates:#?}"
            )
        })
}

/// Resident set size of `pid` in KiB (`VmRSS` from `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn read_file(p: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(p) {
        let mut b = Vec::new();
        let _ = f.read_to_end(&mut b);
        s = String::from_utf8_lossy(&b).into_owned();
    }
    s
}

impl Gateway {
    /// Starts the gateway; panics (with its stderr) if it does not become ready.
    pub fn start(cfg: GatewayConfig) -> Gateway {
        match Gateway::try_start(cfg) {
            Ok(g) => g,
            Err(f) => {
                panic!("gateway did not start (exit status {:?}); stderr:\n{}", f.status, f.stderr)
            }
        }
    }

    /// Starts the gateway and waits until it accepts connections, or until it exits.
    pub fn try_start(cfg: GatewayConfig) -> Result<Gateway, StartFailure> {
        let mut dir = TempDir::new("gw");
        // Suites about routing and proxying deploy APIs that declare no security; the gateway's
        // default (OAuth2, WSO2's) would refuse them, so they run with `default = "none"` unless
        // they configure `[security]` themselves (the security suites do).
        let toml = if cfg.toml.contains("[security]") {
            cfg.toml.clone()
        } else {
            format!("{}\n[security]\ndefault = \"none\"\n", cfg.toml)
        };
        let config = dir.write("gateway.toml", &toml);
        let apis = dir.path().join("apis");
        std::fs::create_dir_all(&apis).expect("create apis dir");
        for (name, text) in &cfg.apis {
            dir.write(&format!("apis/{name}"), text);
        }
        let bin = binary();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = crate::free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let stderr_path = dir.path().join(format!("stderr-{attempt}.log"));
            let stderr = std::fs::File::create(&stderr_path).expect("create stderr file");
            let mut cmd = Command::new(&bin);
            cmd.arg("run")
                .arg("--config")
                .arg(&config)
                .arg("--apis")
                .arg(&apis)
                .arg("--listen")
                .arg(addr.to_string());
            if let Some(w) = cfg.workers {
                cmd.arg("--workers").arg(w.to_string());
            }
            if let Some(d) = &cfg.driver {
                cmd.arg("--driver").arg(d);
            }
            // Parallel test gateways must not all reach for the admin API's default port: the
            // admin listener runs only where a test configures it.
            if !cfg.toml.contains("[admin]") && !cfg.args.iter().any(|a| a == "--admin-listen") {
                cmd.arg("--admin-listen").arg("off");
            }
            cmd.args(&cfg.args)
                .envs(cfg.env.iter().map(|(k, v)| (k, v)))
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr);
            let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let mut gw = Gateway { child, addr, dir, stderr_path, exit: None };
            match gw.wait_ready(Duration::from_secs(10)) {
                Ok(()) => return Ok(gw),
                Err(status) => {
                    let stderr = gw.stderr();
                    let lower = stderr.to_ascii_lowercase();
                    let port_race = status.is_some()
                        && (lower.contains("address already in use")
                            || lower.contains("addrinuse"));
                    if port_race && attempt < 5 {
                        dir = gw.into_dir();
                        continue;
                    }
                    return Err(StartFailure { status, stderr, dir: gw.into_dir() });
                }
            }
        }
    }

    /// Polls connect until it succeeds; on failure returns the exit status (None: timed out).
    fn wait_ready(&mut self, timeout: Duration) -> Result<(), Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        let mut listening_since: Option<Instant> = None;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.exit = Some(st);
                return Err(Some(st));
            }
            if listening_since.is_none()
                && TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok()
            {
                listening_since = Some(Instant::now());
            }
            // Listening, and the watcher installed (a quieter log level hides that line: then
            // a few seconds of grace instead).
            if listening_since.is_some_and(|t| {
                self.control_plane_started() || t.elapsed() > Duration::from_secs(3)
            }) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the control plane's last start-up step is done: the file watcher is installed
    /// (or said it cannot be, or is off). The data plane listens before it, so a test that
    /// changes a file right after the port opens could otherwise change it unwatched.
    fn control_plane_started(&self) -> bool {
        let config = read_file(&self.dir.path().join("gateway.toml"));
        if config.lines().any(|l| l.trim().replace(' ', "") == "watch=false") {
            return true;
        }
        let log = self.stderr();
        log.contains("watching the API directory") || log.contains("hot reload is off")
    }

    fn into_dir(mut self) -> TempDir {
        self.kill();
        let dir = std::mem::replace(&mut self.dir, TempDir::new("moved"));
        drop(self);
        dir
    }

    /// Runs the gateway with this configuration expecting it to exit by itself (e.g. on a bad
    /// definition) within `timeout`; returns its status (None: still running, killed) and stderr.
    pub fn run_to_exit(cfg: GatewayConfig, timeout: Duration) -> (Option<ExitStatus>, String) {
        // try_start waits up to 10 s for either readiness or exit; a gateway that listens before
        // it validates may still exit after becoming ready.
        match Gateway::try_start(cfg) {
            Ok(mut g) => {
                let st = g.wait_exit(timeout);
                let err = g.stderr();
                (st, err)
            }
            Err(f) => (f.status, f.stderr),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temporary directory holding `gateway.toml` and `apis/`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new client connection to the gateway.
    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Everything the gateway wrote to stderr so far.
    pub fn stderr(&self) -> String {
        read_file(&self.stderr_path)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.signal(libc::SIGTERM);
    }

    /// Sends a signal to the process.
    pub fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) takes plain integers and touches no memory of ours; the pid is our
        // own child, not yet reaped (Drop reaps it), so it cannot name another process.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed: {}", std::io::Error::last_os_error());
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.exit.is_some() {
            return self.exit;
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.exit = Some(st);
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.child.id())
    }

    fn kill(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let s = self.stderr();
            let mut start = s.len().saturating_sub(8192);
            while !s.is_char_boundary(start) {
                start += 1;
            }
            let tail = &s[start..];
            eprintln!(
                "---- turnpike stderr ({}; pid {}, exit {:?}) ----\n{tail}\n---- end of turnpike stderr ----",
                self.addr,
                self.child.id(),
                self.exit
            );
        }
    }
}
