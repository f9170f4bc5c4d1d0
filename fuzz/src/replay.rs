//! Replaying saved fuzz inputs as plain tests: the directory walk and the per-file panic
//! capture shared by `http/tests/fuzz_regressions.rs` and `policy/tests/fuzz_regressions.rs`,
//! which include this file with `#[path]` (so it depends on `std` only). Not used by the
//! cargo-fuzz targets themselves.
//!
//! Inputs live in `fuzz/regressions/<target>/`, one file each; dot-files (`.gitkeep`) are left
//! out.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// `fuzz/regressions/`, from the including crate's manifest directory (a workspace member).
const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions");

/// Files of one target's directory, sorted. The directory must exist: a missing one means the
/// layout moved and nothing would be replayed.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(REGRESSIONS).join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("regression directory {} missing: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Runs `check` on every input of `target`; fails listing each input that panics. Returns how
/// many inputs ran.
pub fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let files = inputs(target);
    let mut failures = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("readable regression input");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {target} regressions fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    files.len()
}
