//! Replays every saved fuzz crash through the decoder it broke (STYLE.md point 15).
//!
//! Each file under `fuzz/regressions/<target>/` is one input, named for the bug it found,
//! in the byte layout of the cargo-fuzz target of the same name (`fuzz/fuzz_targets/`):
//!
//! * `h1_request/*`, `h1_response/*`: the read buffer, as is;
//! * `h1_chunked/*`: first byte = split seed, the rest = the chunked body.
//!
//! They run through the same invariant checks as the fuzz targets and `robustness.rs`
//! (`fuzz/src/h1_checks.rs`), one by one, and the test reports every failing file by name.
//! `router_lookup/` inputs need `turnpike-core` and are replayed by `cargo fuzz run
//! router_lookup fuzz/regressions/router_lookup/*` instead; `jose_decode/` and `basic_header/`
//! are replayed by `policy/tests/fuzz_regressions.rs`.
//!
//! What it does not do: it does not pin the exact error of each input (a fix may choose a
//! different, equally valid refusal); it only requires "no panic, no broken invariant".

#[path = "../../fuzz/src/h1_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions");

/// Files of one target's directory, sorted, dot-files (`.gitkeep`) left out. The directory
/// must exist: a missing one means the layout moved and nothing would be replayed.
fn inputs(target: &str) -> Vec<PathBuf> {
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

/// Run `check` on every input of `target`; fail listing each input that panics.
fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
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

/// Every prefix, as the fuzz targets do for short inputs.
fn all_cuts(data: &[u8]) -> Vec<usize> {
    let stride = (data.len() / 64).max(1);
    (0..=data.len()).step_by(stride).collect()
}

#[test]
fn h1_request_regressions() {
    let n = replay("h1_request", |data| {
        checks::check_request(data, &all_cuts(data));
    });
    eprintln!("h1_request: {n} regression inputs");
}

#[test]
fn h1_response_regressions() {
    let n = replay("h1_response", |data| {
        checks::check_response(data, &all_cuts(data));
    });
    eprintln!("h1_response: {n} regression inputs");
}

#[test]
fn h1_chunked_regressions() {
    let n = replay("h1_chunked", |data| {
        if let Some((&seed, body)) = data.split_first() {
            checks::check_chunked(body, seed);
        }
    });
    eprintln!("h1_chunked: {n} regression inputs");
}

#[test]
fn router_regression_directory_exists() {
    // Replayed by the router_lookup fuzz target (needs turnpike-core); here only the layout.
    inputs("router_lookup");
}
