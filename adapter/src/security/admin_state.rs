//! The security state the admin API manages, and where it is kept: the subscriptions-file seed,
//! the admin overlay on it ([`SubscriptionOverlay`]) and the revoked token ids
//! ([`RevokedTokens`]), persisted as JSON under `<state_dir>/security/`:
//!
//! - `subscriptions.json`: `{"applications": [...], "subscriptions": [...],
//!   "deleted_applications": [ids], "deleted_subscriptions": [ids]}`;
//! - `revocations.json`: `{"revocations": [{"jti", "expires_at"}]}`.
//!
//! Where it sits: control plane, owned by the deploy manager. At start,
//! [`AdminSecurity::open`] reads both files (a missing file is empty), prunes expired revocations
//! (rewriting the file when it did) and applies the overlay over the seed that
//! `[security] subscriptions_file` gave. A file that does not parse stops the gateway from
//! starting: silently dropping it could re-enable a blocked subscription or a revoked token.
//! Every admin change writes the new file atomically (temporary file, fsync, rename) before the
//! snapshot that carries it is published.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use turnpike_policy::auth::{Application, Subscription};

use super::overlay::{with_id, Applied, SubscriptionOverlay};
use super::revoked::RevokedTokens;

/// Sub-directory of the state directory.
pub const SECURITY_DIR: &str = "security";
/// File of the applications and subscriptions overlay.
pub const SUBSCRIPTIONS_FILE: &str = "subscriptions.json";
/// File of the revoked token ids.
pub const REVOCATIONS_FILE: &str = "revocations.json";

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct AdminSecurity {
    dir: PathBuf,
    seed_applications: Vec<Application>,
    seed_subscriptions: Vec<Subscription>,
    pub overlay: SubscriptionOverlay,
    pub revoked: RevokedTokens,
}

impl AdminSecurity {
    /// Loads the persisted state of `state_dir` over the seed, pruning revocations expired at
    /// `now` (Unix seconds).
    ///
    /// # Errors
    /// A persisted file that cannot be read, parsed or (after pruning) rewritten; the message
    /// names the file.
    pub fn open(
        state_dir: &Path,
        seed_applications: Vec<Application>,
        seed_subscriptions: Vec<Subscription>,
        now: u64,
    ) -> Result<Self, String> {
        let dir = state_dir.join(SECURITY_DIR);
        let overlay = match read(&dir.join(SUBSCRIPTIONS_FILE))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: {e}", dir.join(SUBSCRIPTIONS_FILE).display()))?,
            None => SubscriptionOverlay::default(),
        };
        let revocations = dir.join(REVOCATIONS_FILE);
        let mut revoked = match read(&revocations)? {
            Some(bytes) => RevokedTokens::from_json(&bytes)
                .map_err(|e| format!("{}: {e}", revocations.display()))?,
            None => RevokedTokens::default(),
        };
        let state = Self {
            dir,
            seed_applications,
            seed_subscriptions: seed_subscriptions.into_iter().map(with_id).collect(),
            overlay,
            revoked: RevokedTokens::default(),
        };
        if revoked.prune(now) > 0 {
            state.save_revoked(&revoked)?;
        }
        Ok(Self { revoked, ..state })
    }

    /// The same admin state (overlay, revocations, directory) over another seed: a reload of
    /// `[security]` that changed the subscriptions file keeps the admin changes on top.
    pub fn with_seed(
        &self,
        seed_applications: Vec<Application>,
        seed_subscriptions: Vec<Subscription>,
    ) -> Self {
        Self {
            seed_applications,
            seed_subscriptions: seed_subscriptions.into_iter().map(with_id).collect(),
            ..self.clone()
        }
    }

    /// The applications and subscriptions `overlay` makes of the seed.
    ///
    /// # Errors
    /// See [`SubscriptionOverlay::apply`].
    pub fn apply(&self, overlay: &SubscriptionOverlay) -> Result<Applied, String> {
        overlay.apply(&self.seed_applications, &self.seed_subscriptions)
    }

    /// Writes `overlay` to `subscriptions.json`.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn save_overlay(&self, overlay: &SubscriptionOverlay) -> Result<(), String> {
        let bytes = serde_json::to_vec_pretty(overlay).map_err(|e| e.to_string())?;
        self.write(SUBSCRIPTIONS_FILE, &bytes)
    }

    /// Writes `revoked` to `revocations.json`.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn save_revoked(&self, revoked: &RevokedTokens) -> Result<(), String> {
        self.write(REVOCATIONS_FILE, &revoked.to_json())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        let path = self.dir.join(name);
        write_atomic(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// The file's bytes, or `None` when it does not exist.
fn read(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Writes `bytes` to `path` through a temporary file beside it (created with its directory),
/// synced before the rename, so a crash leaves the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::super::revoked::Revocation;
    use super::*;
    use turnpike_policy::auth::SubscriptionState;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "turnpike-admin-state-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn seed() -> (Vec<Application>, Vec<Subscription>) {
        let apps = serde_json::from_str(r#"[{"id":"a","name":"A","consumer_keys":[{"key":"k"}]}]"#)
            .unwrap();
        let subs =
            serde_json::from_str(r#"[{"application":"a","api_name":"P","api_version":"1"}]"#)
                .unwrap();
        (apps, subs)
    }

    #[test]
    fn nothing_persisted_is_the_seed() {
        let dir = temp_dir("empty");
        let (apps, subs) = seed();
        let state = AdminSecurity::open(&dir, apps.clone(), subs, 0).unwrap();
        let applied = state.apply(&state.overlay).unwrap();
        assert_eq!(applied.applications, apps);
        assert_eq!(applied.subscriptions[0].id, "a:P:1");
        assert!(state.revoked.is_empty());
        assert!(!dir.join(SECURITY_DIR).exists(), "nothing written");
    }

    #[test]
    fn changes_survive_a_reopen_and_expired_revocations_are_pruned() {
        let dir = temp_dir("reopen");
        let (apps, subs) = seed();
        let mut state = AdminSecurity::open(&dir, apps.clone(), subs.clone(), 0).unwrap();
        let current = state.apply(&state.overlay).unwrap().subscriptions;
        let mut blocked = current[0].clone();
        blocked.state = SubscriptionState::Blocked;
        state.overlay.upsert_subscription(blocked.clone(), &current);
        state.save_overlay(&state.overlay).unwrap();
        for (jti, expires_at) in [("old", 100), ("new", 300)] {
            state.revoked.insert(Revocation { jti: jti.into(), expires_at });
        }
        state.save_revoked(&state.revoked).unwrap();
        let files = std::fs::read_dir(dir.join(SECURITY_DIR)).unwrap().count();
        assert_eq!(files, 2, "no temporary file left behind");

        let again = AdminSecurity::open(&dir, apps, subs, 200).unwrap();
        assert_eq!(again.apply(&again.overlay).unwrap().subscriptions, [blocked]);
        assert_eq!(again.revoked.live(0), [Revocation { jti: "new".into(), expires_at: 300 }]);
        let text = std::fs::read_to_string(dir.join(SECURITY_DIR).join(REVOCATIONS_FILE)).unwrap();
        assert!(!text.contains("old"), "pruned at start and rewritten: {text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = temp_dir("corrupt");
        std::fs::create_dir_all(dir.join(SECURITY_DIR)).unwrap();
        std::fs::write(dir.join(SECURITY_DIR).join(REVOCATIONS_FILE), b"{").unwrap();
        let err = AdminSecurity::open(&dir, Vec::new(), Vec::new(), 0).unwrap_err();
        assert!(err.contains(REVOCATIONS_FILE), "{err}");
        std::fs::write(dir.join(SECURITY_DIR).join(REVOCATIONS_FILE), br#"{"revocations":[]}"#)
            .unwrap();
        std::fs::write(dir.join(SECURITY_DIR).join(SUBSCRIPTIONS_FILE), b"{\"x\":1}").unwrap();
        let err = AdminSecurity::open(&dir, Vec::new(), Vec::new(), 0).unwrap_err();
        assert!(err.contains(SUBSCRIPTIONS_FILE), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
