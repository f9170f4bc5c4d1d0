//! Keeps each issuer's JWK set fresh: periodic refetches, a rate-limited refetch when a token
//! names an unknown `kid`, exponential backoff after failures, and change detection so that the
//! data plane hears only of key sets that actually changed.
//!
//! Where it sits: control plane. [`spawn_refresher`] runs one std thread that fetches every
//! [`JwksSource`] at start ([`super::fetch::get`]), then sleeps until the next refresh is due or
//! a core reports a `kid` miss through [`KidMissSender`]; every new key set goes to the
//! `on_change` callback, which publishes it to the cores (not this module's business). A reload
//! of `[security]` replaces the list of sources through [`SourcesSender`]
//! ([`Refresher::set_sources`]): unchanged sources keep their keys and timing, new ones (or ones
//! whose URL changed) are fetched at once, removed ones are forgotten. The
//! decisions live in [`Refresher`], a plain state machine driven with explicit instants, so it
//! is tested without threads or clocks.
//!
//! # Timing, per issuer
//! * Never fetched: due at once.
//! * Last fetch succeeded: due [`JwksSource::refresh`] after it.
//! * After `n` consecutive failures: due `min_refetch × 2ⁿ⁻¹` after the last attempt (at least
//!   one second), capped at `refresh`.
//! * A `kid` miss fetches at once unless the last attempt was less than
//!   [`JwksSource::min_refetch`] ago; then the miss is remembered and the fetch happens when
//!   `min_refetch` has passed. So however many unknown `kid`s an attacker sprays, an issuer's key
//!   manager sees at most one request per `min_refetch` from this gateway, plus the periodic ones.
//!
//! A failed fetch, a body that is not JSON, or JSON that is not a JWKS keeps the previous keys
//! and logs a warning; so does an unchanged document (compared as parsed JSON, so formatting and
//! member order do not count as changes), without the warning.
//!
//! What it does not do: no `Cache-Control` / `Expires` handling (the refresh period is
//! configured), no expiry of stale keys (an unreachable key manager leaves the last good set in
//! force), no token verification (`turnpike_policy::jose`), no publication to the cores.

use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use turnpike_policy::jose::KeySet;

use super::fetch::{self, FetchError, FetchOptions, Url};

/// Default [`JwksSource::refresh`]: five minutes.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);
/// Default [`JwksSource::min_refetch`]: thirty seconds.
pub const DEFAULT_MIN_REFETCH: Duration = Duration::from_secs(30);
/// Shortest wait before a retry or a periodic fetch, whatever the configuration says.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Kid misses queued for the refresher thread beyond which more are dropped (see
/// [`KidMissSender::send`]).
pub const KID_MISS_QUEUE: usize = 256;
/// Longest sleep of the refresher thread when nothing is due (no sources).
const IDLE: Duration = Duration::from_secs(3600);

/// Where one issuer's JWK set is published and how often to look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSource {
    /// The issuer's name, the key of everything below (unique among the sources).
    pub name: String,
    /// The JWKS endpoint.
    pub url: Url,
    /// Period of the refetches while they succeed; also the cap of the failure backoff.
    pub refresh: Duration,
    /// Shortest time between two fetches caused by `kid` misses, and the first retry delay
    /// after a failure.
    pub min_refetch: Duration,
}

impl JwksSource {
    /// A source with the default periods.
    pub fn new(name: impl Into<String>, url: Url) -> JwksSource {
        JwksSource {
            name: name.into(),
            url,
            refresh: DEFAULT_REFRESH,
            min_refetch: DEFAULT_MIN_REFETCH,
        }
    }

    fn period(&self) -> Duration {
        self.refresh.max(MIN_INTERVAL)
    }

    /// Wait after `failures` consecutive failures (at least one).
    fn backoff(&self, failures: u32) -> Duration {
        let doublings = 1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX);
        self.min_refetch.max(MIN_INTERVAL).saturating_mul(doublings).min(self.period())
    }
}

/// What the refresher knows about one issuer.
#[derive(Debug)]
struct Issuer {
    source: JwksSource,
    /// When the last fetch started (a kid miss reserves it) or ended.
    last_attempt: Option<Instant>,
    last_success: Option<Instant>,
    /// Consecutive failed fetches since the last success.
    failures: u32,
    /// A kid miss arrived while rate limited: fetch once `min_refetch` has passed.
    miss_pending: bool,
    /// The current keys and the document they were built from.
    current: Option<(Arc<KeySet>, Value)>,
}

impl Issuer {
    fn next_due(&self, start: Instant) -> Instant {
        let Some(last) = self.last_attempt else { return start };
        let wait = match self.failures {
            0 => self.source.period(),
            n => self.source.backoff(n),
        };
        let due = last + wait;
        if self.miss_pending {
            due.min(last + self.source.min_refetch)
        } else {
            due
        }
    }
}

/// The refresh decisions for a set of issuers, driven by the caller with explicit instants:
/// [`Refresher::due`] says which issuers to fetch, [`Refresher::on_kid_miss`] whether a miss
/// warrants a fetch now, [`Refresher::on_fetched`] takes the outcome of each fetch.
#[derive(Debug)]
pub struct Refresher {
    issuers: BTreeMap<String, Issuer>,
    /// When the refresher was created: never-fetched issuers are due from then.
    start: Instant,
}

impl Refresher {
    /// Issuers from `sources` (a later source with the same name replaces an earlier one), none
    /// fetched yet, all due at `now`.
    pub fn new(sources: impl IntoIterator<Item = JwksSource>, now: Instant) -> Refresher {
        let issuers = sources
            .into_iter()
            .map(|source| {
                let issuer = Issuer {
                    source,
                    last_attempt: None,
                    last_success: None,
                    failures: 0,
                    miss_pending: false,
                    current: None,
                };
                (issuer.source.name.clone(), issuer)
            })
            .collect();
        Refresher { issuers, start: now }
    }

    /// Replaces the sources (a reload of `[security]`). An issuer whose name and URL are
    /// unchanged keeps its keys, failures and timing (its periods are updated); a new issuer, or
    /// one whose URL changed, starts over: never fetched, so due at once; an issuer not in
    /// `sources` is dropped. Returns the names of the issuers that start over.
    pub fn set_sources(&mut self, sources: impl IntoIterator<Item = JwksSource>) -> Vec<String> {
        let mut old = std::mem::take(&mut self.issuers);
        let mut fresh = Vec::new();
        for source in sources {
            let name = source.name.clone();
            let issuer = match old.remove(&name) {
                Some(mut kept) if kept.source.url == source.url => {
                    kept.source = source;
                    kept
                }
                _ => {
                    fresh.push(name.clone());
                    Issuer {
                        source,
                        last_attempt: None,
                        last_success: None,
                        failures: 0,
                        miss_pending: false,
                        current: None,
                    }
                }
            };
            self.issuers.insert(name, issuer);
        }
        fresh
    }

    /// The source of `issuer`.
    pub fn source(&self, issuer: &str) -> Option<&JwksSource> {
        self.issuers.get(issuer).map(|i| &i.source)
    }

    /// The names of the issuers, in order.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.keys().map(String::as_str)
    }

    /// The issuers whose fetch is due at `now` (see the module docs for the timing).
    pub fn due(&self, now: Instant) -> Vec<String> {
        self.issuers
            .iter()
            .filter(|(_, issuer)| issuer.next_due(self.start) <= now)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The earliest instant at which an issuer becomes due; `None` without issuers.
    pub fn next_due(&self) -> Option<Instant> {
        self.issuers.values().map(|issuer| issuer.next_due(self.start)).min()
    }

    /// A token of `issuer` named a `kid` its keys lack. `true`: fetch now, then report with
    /// [`Refresher::on_fetched`] (the slot is taken: a second miss right after gets `false`).
    /// `false`: the last fetch started less than `min_refetch` ago (the miss is remembered and
    /// makes the issuer due when `min_refetch` has passed), or the issuer is unknown.
    pub fn on_kid_miss(&mut self, issuer: &str, now: Instant) -> bool {
        let Some(state) = self.issuers.get_mut(issuer) else { return false };
        let allowed = state
            .last_attempt
            .is_none_or(|last| now.saturating_duration_since(last) >= state.source.min_refetch);
        if allowed {
            state.last_attempt = Some(now);
            state.miss_pending = false;
        } else {
            state.miss_pending = true;
        }
        allowed
    }

    /// The outcome of a fetch of `issuer` that ended at `now`: the JWKS document or why there is
    /// none. Returns the new key set when it differs from the current one (the first good set
    /// included); `None` when the document is unchanged, or when the fetch failed or the document
    /// is not a usable JWKS (the previous keys stay; a warning is logged).
    pub fn on_fetched(
        &mut self,
        issuer: &str,
        result: Result<Vec<u8>, FetchError>,
        now: Instant,
    ) -> Option<Arc<KeySet>> {
        let state = self.issuers.get_mut(issuer)?;
        state.last_attempt = Some(now);
        state.miss_pending = false;
        let outcome = result.map_err(|e| e.to_string()).and_then(|body| {
            let document = serde_json::from_slice::<Value>(&body)
                .map_err(|e| format!("{}: not JSON: {e}", state.source.url))?;
            if state.current.as_ref().is_some_and(|(_, current)| *current == document) {
                return Ok(None);
            }
            let keys = KeySet::from_jwks(&body)
                .map_err(|e| format!("{}: not a usable JWKS: {e}", state.source.url))?;
            Ok(Some((keys, document)))
        });
        match outcome {
            Ok(None) => {
                state.failures = 0;
                state.last_success = Some(now);
                tracing::debug!(issuer, "JWKS unchanged");
                None
            }
            Ok(Some((keys, document))) => {
                state.failures = 0;
                state.last_success = Some(now);
                for (kid, reason) in keys.refused() {
                    tracing::warn!(issuer, kid = kid.unwrap_or("-"), %reason, "JWKS key refused");
                }
                if keys.is_empty() {
                    tracing::warn!(issuer, url = %state.source.url, "JWKS has no usable key");
                }
                tracing::info!(issuer, keys = keys.len(), "JWKS loaded");
                let keys = Arc::new(keys);
                state.current = Some((keys.clone(), document));
                Some(keys)
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let retry_in = state.source.backoff(state.failures);
                tracing::warn!(
                    issuer,
                    %error,
                    failures = state.failures,
                    ?retry_in,
                    have_keys = state.current.is_some(),
                    "JWKS refresh failed; keeping the previous keys"
                );
                None
            }
        }
    }

    /// The current key set of `issuer`, if one was ever loaded.
    pub fn keys(&self, issuer: &str) -> Option<Arc<KeySet>> {
        let (keys, _) = self.issuers.get(issuer)?.current.as_ref()?;
        Some(keys.clone())
    }

    /// When the last successful fetch of `issuer` ended (changed or not).
    pub fn last_success(&self, issuer: &str) -> Option<Instant> {
        self.issuers.get(issuer)?.last_success
    }

    /// Consecutive failed fetches of `issuer` since its last success.
    pub fn failures(&self, issuer: &str) -> u32 {
        self.issuers.get(issuer).map_or(0, |i| i.failures)
    }
}

/// What the refresher thread is told.
#[derive(Debug)]
enum Command {
    KidMiss(String),
    /// A reload of `[security]`: the new list ([`Refresher::set_sources`]).
    Sources(Vec<JwksSource>),
    Stop,
}

/// Reports `kid` misses to the refresher thread; cheap to clone, one per core. Sending never
/// blocks: when [`KID_MISS_QUEUE`] reports are already waiting (the thread is busy in a slow
/// fetch), the report is dropped, since the misses it stands for will recur.
#[derive(Debug, Clone)]
pub struct KidMissSender(SyncSender<Command>);

impl KidMissSender {
    /// A token of `issuer` named an unknown `kid`. `false` when the report was dropped (queue
    /// full or refresher stopped).
    pub fn send(&self, issuer: &str) -> bool {
        match self.0.try_send(Command::KidMiss(issuer.to_owned())) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

/// Hands the refresher thread a new list of sources (a reload of `[security]`); cheap to clone.
#[derive(Debug, Clone)]
pub struct SourcesSender(SyncSender<Command>);

impl SourcesSender {
    /// Replaces the refresher's sources (see [`Refresher::set_sources`]). Blocks only while the
    /// command queue is full (the thread is in a fetch, bounded by its timeout). `false` when the
    /// refresher is stopped.
    pub fn send(&self, sources: Vec<JwksSource>) -> bool {
        self.0.send(Command::Sources(sources)).is_ok()
    }
}

/// The running refresher thread. Dropping the handle stops it too.
#[derive(Debug)]
pub struct RefresherHandle {
    /// Where cores report `kid` misses.
    pub kid_miss: KidMissSender,
    thread: Option<JoinHandle<()>>,
}

impl RefresherHandle {
    /// Where a reload sends the new list of sources.
    pub fn sources(&self) -> SourcesSender {
        SourcesSender(self.kid_miss.0.clone())
    }

    /// Stops the thread and waits for it: at once when it is idle, after the fetch in progress
    /// otherwise (bounded by [`FetchOptions::timeout`]).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Blocking: a full queue drains as soon as the thread is back from its fetch.
            let _ = self.kid_miss.0.send(Command::Stop);
            if thread.join().is_err() {
                tracing::error!("the JWKS refresher thread panicked");
            }
        }
    }
}

impl Drop for RefresherHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the refresher thread (`turnpike-jwks`): fetches every source at once, then keeps them
/// fresh (see the module docs), calling `on_change(source, keys)` with each new key set,
/// the first one of each issuer included, from that thread. `source` names the issuer and the
/// URL the keys came from, so that keys fetched just before a reload changed the URL can be
/// told apart.
pub fn spawn_refresher(
    sources: Vec<JwksSource>,
    on_change: impl Fn(&JwksSource, Arc<KeySet>) + Send + 'static,
    fetch_options: FetchOptions,
) -> io::Result<RefresherHandle> {
    let (tx, rx) = mpsc::sync_channel(KID_MISS_QUEUE);
    let worker = Worker {
        refresher: Refresher::new(sources, Instant::now()),
        options: fetch_options,
        on_change,
        rx,
    };
    let thread = thread::Builder::new().name("turnpike-jwks".into()).spawn(move || worker.run())?;
    Ok(RefresherHandle { kid_miss: KidMissSender(tx), thread: Some(thread) })
}

/// The refresher thread's state.
struct Worker<F> {
    refresher: Refresher,
    options: FetchOptions,
    on_change: F,
    rx: Receiver<Command>,
}

/// Whether the thread goes on.
enum Flow {
    Continue,
    Stop,
}

impl<F: Fn(&JwksSource, Arc<KeySet>)> Worker<F> {
    fn run(mut self) {
        loop {
            for issuer in self.refresher.due(Instant::now()) {
                self.fetch(&issuer);
                // Stay responsive to stop (and misses) between fetches of many issuers.
                loop {
                    match self.rx.try_recv() {
                        Ok(command) => {
                            if let Flow::Stop = self.on_command(command) {
                                return;
                            }
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                }
            }
            let wait = self
                .refresher
                .next_due()
                .map_or(IDLE, |due| due.saturating_duration_since(Instant::now()));
            match self.rx.recv_timeout(wait) {
                Ok(command) => {
                    if let Flow::Stop = self.on_command(command) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn on_command(&mut self, command: Command) -> Flow {
        match command {
            Command::KidMiss(issuer) => {
                if self.refresher.on_kid_miss(&issuer, Instant::now()) {
                    tracing::debug!(issuer, "unknown kid; refetching the JWKS");
                    self.fetch(&issuer);
                }
                Flow::Continue
            }
            Command::Sources(sources) => {
                let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
                let fresh = self.refresher.set_sources(sources);
                tracing::info!(?names, ?fresh, "JWKS sources changed");
                Flow::Continue
            }
            Command::Stop => Flow::Stop,
        }
    }

    fn fetch(&mut self, issuer: &str) {
        let Some(source) = self.refresher.source(issuer).cloned() else { return };
        let result = fetch::get(&source.url, &self.options).map(|fetched| fetched.body);
        if let Some(keys) = self.refresher.on_fetched(issuer, result, Instant::now()) {
            (self.on_change)(&source, keys);
        }
    }
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
