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

#[path = "../../fuzz/src/replay.rs"]
mod replay;

use replay::{inputs, replay};

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
