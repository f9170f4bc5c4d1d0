//! cargo-fuzz target: `turnpike_http::h1::ChunkedDecoder` on arbitrary bytes.
//!
//! The first input byte chooses how the rest is split into arriving pieces (one cut at a
//! proportional position, plus a regular stride); `h1_checks::check_chunked` feeds the body
//! whole, in those pieces and byte by byte, and checks the decoder's contract on every call
//! (`consumed <= input.len()`, data ranges non-empty and within `consumed`, progress on
//! non-empty input, `done` is final) and that every split gives the same data, end and error.
//! A finished body must be re-framed identically by a naive reference decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turnpike_fuzz::h1_checks::check_chunked;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    check_chunked(body, seed);
});
