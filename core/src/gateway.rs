//! Starting, updating and stopping the data plane, from the control thread.
//!
//! [`start`] spawns one thread per worker; each pins itself, builds its runtime with the configured
//! driver, binds its `SO_REUSEPORT` listener and reports back before serving, so a start either
//! fully succeeds or fails with the reason. [`GatewayHandle::publish`] puts a snapshot in the shared
//! slot and tells every core; [`GatewayHandle::shutdown`] stops them gracefully and joins them.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::config::StaticConfig;
use crate::control::{self, ControlMessage, ControlSender, Published};
use crate::counters::{CounterValues, WorkerCounters};
use crate::events::EventSender;
use crate::runtime::{self, DriverKind};
use crate::snapshot::Snapshot;
use crate::worker::{self, Worker};

/// Why the gateway could not start.
#[derive(Debug)]
pub enum StartError {
    /// `workers` was 0.
    NoWorkers,
    /// A worker could not build its runtime with the requested driver.
    Runtime { worker: usize, source: std::io::Error },
    /// A worker could not bind the listener.
    Bind { worker: usize, addr: SocketAddr, source: std::io::Error },
    /// A worker thread could not be spawned or died while starting.
    Thread { worker: usize, reason: String },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoWorkers => f.write_str("at least one worker is required"),
            Self::Runtime { worker, source } => {
                write!(f, "worker {worker}: cannot build the I/O runtime: {source}")
            }
            Self::Bind { worker, addr, source } => {
                write!(f, "worker {worker}: cannot listen on {addr}: {source}")
            }
            Self::Thread { worker, reason } => write!(f, "worker {worker}: {reason}"),
        }
    }
}

impl std::error::Error for StartError {}

/// What a worker reports once it is serving (or why it is not): the HTTP and HTTPS addresses.
type Ready = Result<(SocketAddr, Option<SocketAddr>, DriverKind), StartError>;

struct WorkerHandle {
    control: ControlSender,
    thread: JoinHandle<()>,
    counters: Arc<WorkerCounters>,
    driver: DriverKind,
}

/// The running data plane, owned by the control thread.
pub struct GatewayHandle {
    workers: Vec<WorkerHandle>,
    published: Published,
    next_version: AtomicU64,
    local_addr: SocketAddr,
    /// Where the HTTPS listener is bound (`None`: no HTTPS listener).
    tls_addr: Option<SocketAddr>,
    /// Snapshots replaced by newer ones, kept until no core holds them any more, so that the
    /// control thread, not a core between requests, pays for freeing them.
    retired: Mutex<Vec<Arc<Snapshot>>>,
}

impl std::fmt::Debug for GatewayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayHandle")
            .field("workers", &self.workers.len())
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Workers that stopped.
    pub workers: usize,
    /// Workers whose thread panicked.
    pub panicked: usize,
    /// Time from the request to the last worker stopping.
    pub took: Duration,
}

/// Starts `config.workers` workers serving `snapshot` (which becomes version 1).
pub fn start(config: StaticConfig, snapshot: Snapshot) -> Result<GatewayHandle, StartError> {
    start_with_events(config, snapshot, None)
}

/// Like [`start`], with a channel for the cores' events to the control thread (kid misses).
pub fn start_with_events(
    config: StaticConfig,
    mut snapshot: Snapshot,
    events: Option<EventSender>,
) -> Result<GatewayHandle, StartError> {
    if config.workers == 0 {
        return Err(StartError::NoWorkers);
    }
    snapshot.version = 1;
    let published: Published = Arc::new(ArcSwap::from_pointee(snapshot));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut handle = GatewayHandle {
        workers: Vec::with_capacity(config.workers),
        published,
        next_version: AtomicU64::new(2),
        local_addr: config.listen,
        tls_addr: config.tls_listen,
        retired: Mutex::new(Vec::new()),
    };
    for index in 0..config.workers {
        // Worker 0 may bind port 0; the others bind the port it got.
        let events = events.clone();
        let addrs = (handle.local_addr, handle.tls_addr);
        match spawn_worker(index, addrs, &config, cpus, &handle.published, events) {
            Ok((worker, bound, tls_bound)) => {
                handle.local_addr = bound;
                handle.tls_addr = tls_bound;
                tracing::info!(worker = index, driver = %worker.driver, %bound, "worker serving");
                handle.workers.push(worker);
            }
            Err(err) => {
                handle.shutdown();
                return Err(err);
            }
        }
    }
    Ok(handle)
}

/// Starts worker `index` and waits until it serves; returns its handle and the bound address.
fn spawn_worker(
    index: usize,
    (addr, tls_addr): (SocketAddr, Option<SocketAddr>),
    config: &StaticConfig,
    cpus: usize,
    published: &Published,
    events: Option<EventSender>,
) -> Result<(WorkerHandle, SocketAddr, Option<SocketAddr>), StartError> {
    let (control_tx, control_rx) = control::channel();
    let counters = Arc::new(WorkerCounters::default());
    let (ready_tx, ready_rx) = mpsc::channel::<Ready>();
    let published = Arc::clone(published);
    let thread_counters = Arc::clone(&counters);
    let (driver, entries, backlog, pin) =
        (config.driver, config.uring_entries, config.backlog, config.pin_workers);
    let thread = std::thread::Builder::new()
        .name(format!("turnpike-w{index}"))
        .spawn(move || {
            if pin {
                if let Err(err) = runtime::pin_current_thread(index % cpus) {
                    tracing::warn!(worker = index, error = %err, "cannot pin worker to its core");
                }
            }
            let (mut rt, kind) = match runtime::build(driver, entries) {
                Ok(built) => built,
                Err(source) => {
                    let _ = ready_tx.send(Err(StartError::Runtime { worker: index, source }));
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match runtime::bind_listener(addr, backlog) {
                    Ok(l) => l,
                    Err(source) => {
                        let _ =
                            ready_tx.send(Err(StartError::Bind { worker: index, addr, source }));
                        return;
                    }
                };
                let bound = listener.local_addr().unwrap_or(addr);
                let tls_listener = match tls_addr.map(|a| (a, runtime::bind_listener(a, backlog))) {
                    None => None,
                    Some((_, Ok(l))) => Some(l),
                    Some((addr, Err(source))) => {
                        let _ =
                            ready_tx.send(Err(StartError::Bind { worker: index, addr, source }));
                        return;
                    }
                };
                let tls_bound = tls_listener.as_ref().and_then(|l| l.local_addr().ok());
                let worker =
                    match Worker::new(index, published.load_full(), thread_counters, events) {
                        Ok(w) => Rc::new(w),
                        Err(err) => {
                            let reason = format!("invalid authentication limits: {err}");
                            let _ =
                                ready_tx.send(Err(StartError::Thread { worker: index, reason }));
                            return;
                        }
                    };
                let _ = ready_tx.send(Ok((bound, tls_bound, kind)));
                worker::run(worker, listener, tls_listener, control_rx, published).await;
            });
        })
        .map_err(|e| StartError::Thread { worker: index, reason: e.to_string() })?;
    match ready_rx.recv() {
        Ok(Ok((bound, tls_bound, driver))) => {
            Ok((WorkerHandle { control: control_tx, thread, counters, driver }, bound, tls_bound))
        }
        Ok(Err(err)) => {
            let _ = thread.join();
            Err(err)
        }
        Err(_) => {
            let _ = thread.join();
            Err(StartError::Thread { worker: index, reason: "died while starting".into() })
        }
    }
}

impl GatewayHandle {
    /// The address the listener is bound to (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the HTTPS listener is bound to, if there is one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The driver each worker runs.
    pub fn drivers(&self) -> Vec<DriverKind> {
        self.workers.iter().map(|w| w.driver).collect()
    }

    /// Publishes `snapshot` to every core; returns the version it was given.
    pub fn publish(&self, mut snapshot: Snapshot) -> u64 {
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        snapshot.version = version;
        let replaced = self.published.swap(Arc::new(snapshot));
        for w in &self.workers {
            w.control.send(ControlMessage::SnapshotPublished);
        }
        if let Ok(mut retired) = self.retired.lock() {
            retired.push(replaced);
        }
        self.free_retired();
        version
    }

    /// Frees the retired snapshots no core holds any more (their last holder is this thread).
    fn free_retired(&self) {
        if let Ok(mut retired) = self.retired.lock() {
            retired.retain(|snapshot| Arc::strong_count(snapshot) > 1);
        }
    }

    /// Waits until every core serves `version` or newer; `false` if `limit` passed first.
    pub fn wait_acknowledged(&self, version: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.workers.iter().all(|w| w.counters.read().snapshot_version >= version) {
                self.free_retired();
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Counters of every worker.
    pub fn counters(&self) -> Vec<CounterValues> {
        self.workers.iter().map(|w| w.counters.read()).collect()
    }

    /// Tells every worker to stop accepting and to drain, without waiting: the listeners close at
    /// once while the caller stops other things; [`GatewayHandle::shutdown`] then waits.
    pub fn begin_shutdown(&self) {
        for w in &self.workers {
            w.control.send(ControlMessage::Shutdown);
        }
    }

    /// Stops accepting, lets requests in flight finish (within the snapshot's grace period), and
    /// joins every worker.
    pub fn shutdown(mut self) -> ShutdownReport {
        let began = Instant::now();
        self.begin_shutdown();
        let mut report = ShutdownReport { workers: 0, panicked: 0, took: Duration::ZERO };
        for w in self.workers.drain(..) {
            match w.thread.join() {
                Ok(()) => report.workers += 1,
                Err(_) => report.panicked += 1,
            }
        }
        report.took = began.elapsed();
        report
    }
}
