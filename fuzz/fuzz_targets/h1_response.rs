//! cargo-fuzz target: `turnpike_http::h1::parse_response` on arbitrary bytes.
//!
//! The input is the upstream read buffer; it is parsed as the answer to a GET and to a HEAD
//! (which may only change the body framing). `h1_checks::check_response` checks the head
//! (status 100..=599 and not 101, spans, strict CRLF, RFC 9112 §6.3 framing: HEAD / 1xx /
//! 204 / 304 have no body, close-delimited or CL+TE responses are never kept alive) and the
//! same prefix and limit rules as for requests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turnpike_fuzz::h1_checks::check_response;

fuzz_target!(|data: &[u8]| {
    let stride = (data.len() / 64).max(1);
    let cuts: Vec<usize> = (0..=data.len()).step_by(stride).collect();
    check_response(data, &cuts);
});
