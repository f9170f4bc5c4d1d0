//! Replays every saved fuzz input of the policy decoders (STYLE.md point 15).
//!
//! Each file under `fuzz/regressions/<target>/` is one input, named for the bug it found (or,
//! for `seed-*` files, for the path it was written to reach), in the byte layout of the
//! cargo-fuzz target of the same name (`fuzz/fuzz_targets/`):
//!
//! * `jose_decode/*`: the bytes given to `jose::decode` (when UTF-8), `KeySet::from_jwks` and
//!   `VerifyingKey::from_jwk`;
//! * `basic_header/*`: an `Authorization` header value.
//!
//! They run through the same invariant checks as the fuzz targets (`fuzz/src/jose_checks.rs`,
//! `fuzz/src/basic_checks.rs`), one by one, and the test reports every failing file by name.
//! The HTTP/1 targets are replayed by `http/tests/fuzz_regressions.rs`.
//!
//! What it does not do: it does not pin the exact error of each input (a fix may choose a
//! different, equally valid refusal); it only requires "no panic, no broken invariant".

#[path = "../../fuzz/src/basic_checks.rs"]
mod basic_checks;
#[path = "../../fuzz/src/jose_checks.rs"]
#[allow(dead_code)]
mod jose_checks;

#[path = "../../fuzz/src/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn jose_decode_regressions() {
    let n = replay("jose_decode", jose_checks::check_jose);
    assert!(n > 0, "no jose_decode inputs: the seeds went missing");
    eprintln!("jose_decode: {n} regression inputs");
}

#[test]
fn basic_header_regressions() {
    let n = replay("basic_header", basic_checks::check_basic);
    assert!(n > 0, "no basic_header inputs: the seeds went missing");
    eprintln!("basic_header: {n} regression inputs");
}
