//! One worker = one core: its runtime, its `SO_REUSEPORT` listener, its connections, upstream pool,
//! balancer, counters, clock and its cached copy of the current snapshot.
//!
//! The accept loop spawns one task per client connection (`conn::h1::serve`); the HTTPS
//! listener, when configured, has its own accept loop (`conn::tls`), which hands each connection
//! to the same connection loop once its handshake is done. A control task
//! applies messages from the control thread between requests: a new snapshot replaces the cached
//! one (requests in flight keep the `Rc` they started with), shutdown raises the stop signal. On
//! shutdown the listener closes first, then the worker waits for open connections to finish, up to
//! the grace period of the snapshot it serves.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use turnpike_policy::auth::AuthStateConfig;
use turnpike_policy::credentials::InvalidThrottleConfig;
use turnpike_policy::CoreState;

use crate::clock::Clock;
use crate::control::{ControlMessage, ControlReceiver, Published};
use crate::counters::{bump, drop_one, WorkerCounters};
use crate::deadline::{self, Deadlines};
use crate::events::{CoreEvent, EventSender};
use crate::request_id::RequestIds;
use crate::runtime::{self, TcpListener};
use crate::shutdown::ShutdownSignal;
use crate::snapshot::Snapshot;
use crate::tls::client::{CoreClients, TlsPoolKey, TlsStream};
use crate::upstream::{Balancer, Pool};

/// The snapshot a core serves, as cached by that core (cloning the `Rc` is not atomic).
pub type Table = Rc<Arc<Snapshot>>;

/// Per-core state shared by the tasks of one worker.
#[derive(Debug)]
pub struct Worker {
    pub index: usize,
    table: RefCell<Table>,
    pub pool: RefCell<Pool>,
    /// Idle TLS connections to `https://` endpoints (a pool of their own: see `upstream::pool`).
    pub tls_pool: RefCell<Pool<TlsStream, TlsPoolKey>>,
    /// This core's copies of the snapshot's upstream TLS configurations (session caches).
    pub tls_clients: RefCell<CoreClients>,
    pub balancer: RefCell<Balancer>,
    pub counters: Arc<WorkerCounters>,
    pub clock: Clock,
    pub shutdown: ShutdownSignal,
    /// Deadlines of this core's connections, swept every [`deadline::TICK`].
    pub deadlines: Rc<Deadlines>,
    pub request_ids: RefCell<RequestIds>,
    /// Policy state: clocks and authentication caches (borrowed for one policy phase at a time).
    pub policy_state: RefCell<CoreState>,
    /// Policy callouts in flight on this core.
    pub callouts_in_flight: Cell<usize>,
    /// Where kid misses and other events for the control thread go.
    events: Option<EventSender>,
    open_connections: Cell<usize>,
    /// TLS handshakes in progress on this core (bounded by the snapshot's `max_handshakes`).
    pub handshakes: Rc<Cell<usize>>,
}

impl Worker {
    /// A worker serving `snapshot`.
    ///
    /// # Errors
    /// When the authentication state's limits are invalid.
    pub fn new(
        index: usize,
        snapshot: Arc<Snapshot>,
        counters: Arc<WorkerCounters>,
        events: Option<EventSender>,
    ) -> Result<Self, InvalidThrottleConfig> {
        counters.snapshot_version.store(snapshot.version, std::sync::atomic::Ordering::Release);
        let mut policy_state = CoreState::new(AuthStateConfig::default())?;
        policy_state.on_snapshot(&snapshot.security);
        Ok(Self {
            index,
            table: RefCell::new(Rc::new(snapshot)),
            pool: RefCell::new(Pool::default()),
            tls_pool: RefCell::new(Pool::default()),
            tls_clients: RefCell::new(CoreClients::default()),
            balancer: RefCell::new(Balancer::default()),
            counters,
            clock: Clock::System,
            shutdown: ShutdownSignal::default(),
            deadlines: Deadlines::new(),
            request_ids: RefCell::new(RequestIds::new()),
            policy_state: RefCell::new(policy_state),
            callouts_in_flight: Cell::new(0),
            events,
            open_connections: Cell::new(0),
            handshakes: Rc::new(Cell::new(0)),
        })
    }

    /// Sends the kid misses the last policy phase noted to the control thread.
    pub fn report_kid_misses(&self) {
        let misses = self.policy_state.borrow_mut().auth.take_kid_misses();
        if let Some(events) = &self.events {
            for issuer in misses {
                let _ = events.send(CoreEvent::KidMiss { issuer });
            }
        }
    }

    /// The snapshot to serve the next request with.
    #[inline]
    pub fn table(&self) -> Table {
        self.table.borrow().clone()
    }

    /// Installs a newer snapshot; older or equal versions are ignored.
    pub fn install(&self, snapshot: Arc<Snapshot>) {
        let version = snapshot.version;
        if version <= self.table.borrow().version {
            return;
        }
        self.policy_state.borrow_mut().on_snapshot(&snapshot.security);
        if !self.tls_clients.borrow().is_empty() {
            let in_use: Vec<_> = snapshot.tls_client_ids().collect();
            self.tls_clients.borrow_mut().retain(|id| in_use.contains(&id));
        }
        *self.table.borrow_mut() = Rc::new(snapshot);
        self.counters.snapshot_version.store(version, std::sync::atomic::Ordering::Release);
        tracing::debug!(worker = self.index, version, "snapshot installed");
    }

    /// Marks a client connection open; the guard marks it closed when dropped.
    pub fn connection_opened(self: &Rc<Self>) -> ConnectionGuard {
        self.open_connections.set(self.open_connections.get() + 1);
        bump(&self.counters.open_connections);
        ConnectionGuard { worker: Rc::clone(self) }
    }

    /// Client connections currently open on this core.
    pub fn open_connections(&self) -> usize {
        self.open_connections.get()
    }
}

/// Keeps the open-connection count right however a connection task ends.
#[derive(Debug)]
pub struct ConnectionGuard {
    worker: Rc<Worker>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let w = &self.worker;
        w.open_connections.set(w.open_connections.get().saturating_sub(1));
        drop_one(&w.counters.open_connections);
    }
}

/// The worker's main task: accept until shutdown, then drain.
pub async fn run(
    worker: Rc<Worker>,
    listener: TcpListener,
    tls_listener: Option<TcpListener>,
    control: ControlReceiver,
    published: Published,
) {
    runtime::spawn(control_loop(Rc::clone(&worker), control, published));
    if let Some(tls_listener) = tls_listener {
        runtime::spawn(crate::conn::tls::accept_loop(Rc::clone(&worker), tls_listener));
    }
    runtime::spawn(sweeper(Rc::clone(&worker)));
    loop {
        runtime::select! {
            () = worker.shutdown.wait() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let guard = worker.connection_opened();
                    runtime::spawn(crate::conn::h1::serve(Rc::clone(&worker), stream, peer, guard));
                }
                Err(err) => {
                    tracing::warn!(worker = worker.index, error = %err, "accept failed");
                    // Out of descriptors or similar: back off instead of spinning.
                    runtime::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
    drop(listener);
    let grace = worker.table().settings.timeouts.shutdown_grace;
    let deadline = std::time::Instant::now() + grace;
    while worker.open_connections() > 0 && std::time::Instant::now() < deadline {
        runtime::sleep(Duration::from_millis(5)).await;
    }
    if worker.open_connections() > 0 {
        tracing::warn!(
            worker = worker.index,
            open = worker.open_connections(),
            "shutdown grace period over; closing connections still open"
        );
    }
    worker.pool.borrow_mut().clear();
    worker.tls_pool.borrow_mut().clear();
}

async fn control_loop(worker: Rc<Worker>, mut control: ControlReceiver, published: Published) {
    while let Some(message) = control.recv().await {
        match message {
            ControlMessage::SnapshotPublished => worker.install(published.load_full()),
            ControlMessage::Shutdown => {
                stop(&worker);
                return;
            }
        }
    }
    // The control thread is gone: stop as if asked to.
    stop(&worker);
}

/// Raises the stop signal and closes connections idle between requests.
fn stop(worker: &Worker) {
    worker.shutdown.raise();
    worker.deadlines.fire_idle();
}

/// Fires connection deadlines every tick and closes expired pooled connections every second.
async fn sweeper(worker: Rc<Worker>) {
    let ticks_per_eviction = (1000 / deadline::TICK.as_millis()).max(1);
    let mut ticks = 0u128;
    loop {
        runtime::select! {
            () = worker.shutdown.wait() => {
                // Keep firing deadlines while connections drain; stop once they are gone.
                while worker.open_connections() > 0 {
                    worker.deadlines.sweep();
                    runtime::sleep(deadline::TICK).await;
                }
                return;
            }
            () = runtime::sleep(deadline::TICK) => {
                worker.deadlines.sweep();
                ticks += 1;
                if ticks.is_multiple_of(ticks_per_eviction) {
                    let idle_timeout = worker.table().settings.pool.idle_timeout;
                    let now = worker.clock.now();
                    worker.pool.borrow_mut().evict_expired(now, idle_timeout);
                    worker.tls_pool.borrow_mut().evict_expired(now, idle_timeout);
                }
            }
        }
    }
}
