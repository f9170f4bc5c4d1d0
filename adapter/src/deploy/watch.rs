//! Watching the API directory and `gateway.toml`, debounced, on one control thread.
//!
//! Where it sits: beside the admin API as the second way changes reach the [`Manager`]. File
//! system events (inotify through `notify`; a polling watcher when that fails) only mark a source
//! as dirty; once it has been quiet for the debounce period the thread reloads it: the directory
//! through [`Manager::reload_directory`], the configuration through a [`ConfigReload`]. A
//! half-written file never deploys: temporary names (`*.tmp`, `*.part`, `*~`, dotfiles) are
//! ignored, the quiet period must pass, and a file that does not load is logged (file and JSON
//! pointer) while the old snapshot keeps serving; the next change retries.
//!
//! Not done here: deciding what a configuration change means (see [`super::reload`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::RecursiveMode;

use super::manager::{Manager, Publisher, Reloaded};

/// Called (on the watcher thread) once `gateway.toml` changed and went quiet.
pub type ConfigReload = Box<dyn FnMut() + Send>;

/// What to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub apis_dir: PathBuf,
    /// `gateway.toml`, when the gateway was started from one.
    pub config_file: Option<PathBuf>,
    /// Quiet period before a change is acted on.
    pub debounce: Duration,
}

enum Msg {
    Apis,
    Config,
    Stop,
}

/// The running watcher; [`Watcher::stop`] ends it.
pub struct Watcher {
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
    _fs: Box<dyn notify::Watcher + Send>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

/// Whether a file name in the API directory can be a finished definition.
pub fn is_candidate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !(name.is_empty()
        || name.starts_with('.')
        || name.ends_with('~')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".swp"))
}

impl Watcher {
    /// Starts watching; changes are applied through `manager` and `on_config`.
    pub fn start<P: Publisher + 'static>(
        options: WatchOptions,
        manager: Arc<Manager<P>>,
        on_config: Option<ConfigReload>,
    ) -> notify::Result<Watcher> {
        let apis_dir = options.apis_dir.canonicalize().unwrap_or(options.apis_dir.clone());
        let config = options.config_file.as_ref().map(|f| {
            let abs = f.canonicalize().unwrap_or(f.clone());
            let dir = abs.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let name = abs.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            (dir, name)
        });
        let (tx, rx) = mpsc::channel();
        let handler = {
            let tx = tx.clone();
            let apis_dir = apis_dir.clone();
            let config = config.clone();
            move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for path in &event.paths {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if let Some((dir, file)) = &config {
                        if path.parent() == Some(dir.as_path()) && path.file_name() == Some(file) {
                            let _ = tx.send(Msg::Config);
                            continue;
                        }
                    }
                    if (path.parent() == Some(apis_dir.as_path()) && is_candidate(name))
                        || path == &apis_dir
                    {
                        let _ = tx.send(Msg::Apis);
                    }
                }
            }
        };
        let mut dirs = vec![apis_dir.clone()];
        if let Some((dir, _)) = &config {
            if *dir != apis_dir {
                dirs.push(dir.clone());
            }
        }
        let fs = match watch_with(notify::recommended_watcher(handler.clone()), &dirs) {
            Ok(w) => w,
            Err(err) => {
                tracing::warn!(error = %err, "file system notifications unavailable; polling instead");
                let poll = notify::Config::default()
                    .with_poll_interval(options.debounce.max(Duration::from_millis(100)));
                watch_with(notify::PollWatcher::new(handler, poll), &dirs)?
            }
        };
        let debounce = options.debounce;
        let thread = std::thread::Builder::new()
            .name("turnpike-watch".to_owned())
            .spawn(move || run(&rx, debounce, &manager, on_config))
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        tracing::info!(dir = %apis_dir.display(), ?debounce, "watching the API directory");
        Ok(Watcher { tx, thread: Some(thread), _fs: fs })
    }

    /// Stops the thread (a change in progress completes first).
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn watch_with<W: notify::Watcher + Send + 'static>(
    watcher: notify::Result<W>,
    dirs: &[PathBuf],
) -> notify::Result<Box<dyn notify::Watcher + Send>> {
    let mut watcher = watcher?;
    for dir in dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    Ok(Box::new(watcher))
}

/// The debounce loop.
fn run<P: Publisher>(
    rx: &mpsc::Receiver<Msg>,
    debounce: Duration,
    manager: &Manager<P>,
    mut on_config: Option<ConfigReload>,
) {
    let mut apis_due: Option<Instant> = None;
    let mut config_due: Option<Instant> = None;
    loop {
        let next = [apis_due, config_due].into_iter().flatten().min();
        let wait =
            next.map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(Instant::now()));
        match rx.recv_timeout(wait) {
            Ok(Msg::Apis) => apis_due = Some(Instant::now() + debounce),
            Ok(Msg::Config) => config_due = Some(Instant::now() + debounce),
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if config_due.is_some_and(|t| t <= now) {
            config_due = None;
            if let Some(reload) = on_config.as_mut() {
                reload();
            }
        }
        if apis_due.is_some_and(|t| t <= now) {
            apis_due = None;
            match manager.reload_directory() {
                Ok(Reloaded::Unchanged) => tracing::debug!("API directory unchanged"),
                Ok(Reloaded::Published { version, warnings }) => {
                    for w in &warnings {
                        tracing::warn!(file = %w.file.display(), pointer = %w.pointer, "{}", w.message);
                    }
                    tracing::info!(version, "API directory reloaded; snapshot published");
                }
                Err(err) => tracing::error!(
                    "API directory change rejected, the previous snapshot keeps serving: {err}"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_ignored() {
        for name in [".api.yaml", "api.yaml.tmp", "api.yaml.part", "api.yaml~", ".x.swp", ""] {
            assert!(!is_candidate(name), "{name}");
        }
        for name in ["api.yaml", "petstore.json", "x.yml"] {
            assert!(is_candidate(name), "{name}");
        }
    }
}
