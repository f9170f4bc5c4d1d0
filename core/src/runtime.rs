//! The only module of Turnpike that calls the async runtime (monoio): building one runtime per
//! worker with the configured driver, pinning the worker thread, binding the `SO_REUSEPORT`
//! listener, connecting upstream, spawning tasks, and timers.
//!
//! Everything else in `core` uses the names re-exported here, so a change of runtime or driver
//! setup stays in this file. Driver choice: `auto` tries io_uring and falls back to epoll (logged
//! once per process) when io_uring is missing, forbidden (seccomp, sysctl) or short of locked
//! memory; `uring` fails instead of falling back; `epoll` never tries io_uring.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Once;
use std::time::Duration;

use monoio::time::TimeDriver;
use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};

use crate::config::Driver;

pub use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut, SliceMut};
pub use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt};
pub use monoio::net::{TcpListener, TcpStream};
pub use monoio::select;
pub use monoio::spawn;
pub use monoio::time::Instant;
pub use monoio::BufResult;

/// The runtime type every worker runs: io_uring or epoll, both with timers.
pub type Runtime = monoio::FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>;

/// The driver a runtime ended up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverKind {
    IoUring,
    Epoll,
}

impl std::fmt::Display for DriverKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::IoUring => "io_uring",
            Self::Epoll => "epoll",
        })
    }
}

static FALLBACK_LOGGED: Once = Once::new();

/// Builds a runtime for the current thread with the configured driver.
pub fn build(driver: Driver, uring_entries: u32) -> io::Result<(Runtime, DriverKind)> {
    match driver {
        Driver::Epoll => Ok((build_epoll(uring_entries)?, DriverKind::Epoll)),
        Driver::Uring => Ok((build_uring(uring_entries)?, DriverKind::IoUring)),
        Driver::Auto => match build_uring(uring_entries) {
            Ok(rt) => Ok((rt, DriverKind::IoUring)),
            Err(err) => {
                FALLBACK_LOGGED.call_once(|| {
                    tracing::warn!(
                        error = %err,
                        "io_uring unavailable (missing, blocked or short of locked memory); \
                         falling back to epoll"
                    );
                });
                Ok((build_epoll(uring_entries)?, DriverKind::Epoll))
            }
        },
    }
}

fn build_uring(entries: u32) -> io::Result<Runtime> {
    if !monoio::utils::detect_uring() {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "io_uring is not supported here"));
    }
    // Completions are run by this thread when it enters the kernel to wait (DEFER_TASKRUN), and
    // only this thread submits (SINGLE_ISSUER): no inter-processor interrupts and no lock
    // contention on the completion path. Linux 6.1+; older kernels refuse the flags, and the
    // ring is built with the default ones instead.
    let mut tuned = io_uring::IoUring::builder();
    tuned.setup_single_issuer().setup_defer_taskrun();
    let built = RuntimeBuilder::<IoUringDriver>::new()
        .with_entries(entries)
        .uring_builder(tuned)
        .enable_timer()
        .build();
    let rt = match built {
        Ok(rt) => rt,
        Err(err) => {
            tracing::debug!(error = %err, "io_uring without DEFER_TASKRUN (kernel older than 6.1?)");
            RuntimeBuilder::<IoUringDriver>::new().with_entries(entries).enable_timer().build()?
        }
    };
    Ok(rt.into())
}

fn build_epoll(entries: u32) -> io::Result<Runtime> {
    let rt = RuntimeBuilder::<LegacyDriver>::new().with_entries(entries).enable_timer().build()?;
    Ok(rt.into())
}

/// Pins the calling thread to `cpu`.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    monoio::utils::bind_to_cpu_set([cpu]).map_err(|e| io::Error::other(format!("{e:?}")))
}

/// Binds this worker's listener with `SO_REUSEPORT` so the kernel spreads connections over workers.
pub fn bind_listener(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let opts = monoio::net::ListenerOpts::new()
        .reuse_port(true)
        .reuse_addr(true)
        .backlog(i32::try_from(backlog).unwrap_or(i32::MAX));
    TcpListener::bind_with_config(addr, &opts)
}

/// Connects to an upstream within `limit`; `Ok(None)` means the limit passed.
pub async fn connect(addr: SocketAddr, limit: Duration) -> io::Result<Option<TcpStream>> {
    match monoio::time::timeout(limit, TcpStream::connect_addr(addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(Some(stream))
        }
        Ok(Err(err)) => Err(err),
        Err(_) => Ok(None),
    }
}

/// Runs `fut` for at most `limit`; `None` means the limit passed (the future is dropped).
pub async fn timeout<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    monoio::time::timeout(limit, fut).await.ok()
}

/// Sleeps for `dur`.
pub async fn sleep(dur: Duration) {
    monoio::time::sleep(dur).await;
}
