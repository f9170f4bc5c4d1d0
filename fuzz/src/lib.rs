//! Shared invariant checks for Turnpike's cargo-fuzz targets.
//!
//! Where it sits: `fuzz/fuzz_targets/*.rs` are thin `fuzz_target!` wrappers around these
//! functions. [`h1_checks`] is also included by `http/tests/robustness.rs` and
//! `http/tests/fuzz_regressions.rs` (stable Rust, no libFuzzer), so the same invariants run
//! in every `cargo test`; [`jose_checks`] and [`basic_checks`] are included the same way by
//! `policy/tests/fuzz_regressions.rs`; [`router_checks`] needs `turnpike-core` and is only
//! used here.
//!
//! What it does not do: it fixes nothing and knows no corpus; a failing check panics with a
//! description, which libFuzzer reports as a crash.

pub mod basic_checks;
pub mod h1_checks;
pub mod jose_checks;
pub mod router_checks;
