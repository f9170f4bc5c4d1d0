//! Watching the API directory, `gateway.toml` and the files it names, debounced, on one control
//! thread.
//!
//! Where it sits: beside the admin API as the second way changes reach the [`Manager`]. File
//! system events (inotify through `notify`; a polling watcher when that fails) only mark a source
//! as dirty; once it has been quiet for the debounce period the thread reloads it: the directory
//! through [`Manager::reload_directory`], the configuration through a [`ConfigReload`]. A
//! half-written file never deploys: temporary names (`*.tmp`, `*.part`, `*~`, dotfiles) are
//! ignored, the quiet period must pass, and a file that does not load is logged (file and JSON
//! pointer) while the old snapshot keeps serving; the next change retries.
//!
//! Files that `gateway.toml` reads (the HTTPS listener's certificates and keys,
//! [`WatchOptions::config_inputs`]) count as the configuration: replacing one, in place or by a
//! rename as certificate managers do, reloads the configuration as a change of `gateway.toml`
//! would. Their directories are watched (a rename replaces the inode a file watch would follow);
//! in such a directory a swap of `..data` (how Kubernetes updates a mounted Secret) counts too.
//! The files are those named when the watcher started: a new path in `gateway.toml` is read at
//! its reload, and watched after a restart.
//!
//! Not done here: deciding what a configuration change means (see [`super::reload`]).

use std::ffi::{OsStr, OsString};
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
    /// Files read with `gateway.toml` whose change reloads it (certificates and keys).
    pub config_inputs: Vec<PathBuf>,
    /// Quiet period before a change is acted on.
    pub debounce: Duration,
}

#[derive(Debug, PartialEq, Eq)]
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

/// Which watched paths mean what: the API directory's candidates, or the configuration's files.
#[derive(Debug, Clone)]
struct Targets {
    apis_dir: PathBuf,
    /// `(directory, file name)` of `gateway.toml` and its inputs, directories made absolute.
    config: Vec<(PathBuf, OsString)>,
}

impl Targets {
    fn new(apis_dir: PathBuf, config_files: &[PathBuf]) -> Targets {
        let mut config = Vec::new();
        for file in config_files {
            let abs = std::path::absolute(file).unwrap_or(file.clone());
            let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else { continue };
            // The directory, not the file, is resolved: the file may be a link that is swapped.
            let dir = dir.canonicalize().unwrap_or(dir.to_path_buf());
            for name in [name, OsStr::new(K8S_DATA)] {
                if !config.iter().any(|(d, n)| *d == dir && n == name) {
                    config.push((dir.clone(), name.to_os_string()));
                }
            }
        }
        Targets { apis_dir, config }
    }

    /// The directories to watch, the API directory first.
    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.apis_dir.clone()];
        for (dir, _) in &self.config {
            if !dirs.contains(dir) {
                dirs.push(dir.clone());
            }
        }
        dirs
    }

    /// What a change of `path` asks for, if anything.
    fn classify(&self, path: &Path) -> Option<Msg> {
        let (dir, name) = (path.parent(), path.file_name());
        if self.config.iter().any(|(d, n)| dir == Some(d.as_path()) && name == Some(n.as_os_str()))
        {
            return Some(Msg::Config);
        }
        let candidate = name.and_then(|n| n.to_str()).is_some_and(is_candidate);
        ((dir == Some(self.apis_dir.as_path()) && candidate) || path == self.apis_dir)
            .then_some(Msg::Apis)
    }
}

/// The link Kubernetes swaps when a mounted Secret or ConfigMap changes.
const K8S_DATA: &str = "..data";

impl Watcher {
    /// Starts watching; changes are applied through `manager` and `on_config`.
    pub fn start<P: Publisher + 'static>(
        options: WatchOptions,
        manager: Arc<Manager<P>>,
        on_config: Option<ConfigReload>,
    ) -> notify::Result<Watcher> {
        let apis_dir = options.apis_dir.canonicalize().unwrap_or(options.apis_dir.clone());
        let mut files = options.config_inputs.clone();
        files.extend(options.config_file.iter().cloned());
        let targets = Targets::new(apis_dir.clone(), &files);
        let (tx, rx) = mpsc::channel();
        let handler = {
            let tx = tx.clone();
            let targets = targets.clone();
            move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for msg in event.paths.iter().filter_map(|p| targets.classify(p)) {
                    let _ = tx.send(msg);
                }
            }
        };
        let dirs = targets.dirs();
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
    fn configuration_inputs_reload_the_configuration() {
        // Paths that do not exist stay as given (nothing to resolve).
        let root = Path::new("/nonexistent-turnpike");
        let (apis, certs) = (root.join("apis"), root.join("certs"));
        let files = [certs.join("a.crt"), certs.join("a.key"), root.join("gateway.toml")];
        let t = Targets::new(apis.clone(), &files);
        assert_eq!(t.dirs(), vec![apis.clone(), certs.clone(), root.to_path_buf()]);
        for changed in [certs.join("a.crt"), certs.join("a.key"), certs.join("..data")] {
            assert_eq!(t.classify(&changed), Some(Msg::Config), "{}", changed.display());
        }
        assert_eq!(t.classify(&root.join("gateway.toml")), Some(Msg::Config));
        for other in [certs.join("a.crt.tmp-write"), certs.join("b.crt"), root.join("x.toml")] {
            assert_eq!(t.classify(&other), None, "{}", other.display());
        }
        assert_eq!(t.classify(&apis.join("a.yaml")), Some(Msg::Apis));
        assert_eq!(t.classify(&apis.join("a.yaml.tmp")), None);
    }

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
