//! cargo-fuzz target: `turnpike_http::h1::parse_request` on arbitrary bytes.
//!
//! The whole input is the read buffer. Besides "no panic", `h1_checks::check_request` checks
//! the parsed head against the RFC rules listed in `fuzz/src/h1_checks.rs` (spans inside the
//! head, strict CRLF, never both Content-Length and Transfer-Encoding, one Host on 1.1, ...),
//! re-parses prefixes (a prefix of a complete head is `Partial`; once complete or refused,
//! more bytes never change that) and compares tight with default limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turnpike_fuzz::h1_checks::check_request;

fuzz_target!(|data: &[u8]| {
    // Every prefix for short inputs; a stride for long ones (keeps execs/s high).
    let stride = (data.len() / 64).max(1);
    let cuts: Vec<usize> = (0..=data.len()).step_by(stride).collect();
    check_request(data, &cuts);
});
