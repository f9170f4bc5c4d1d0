//! cargo-fuzz target: `turnpike_policy::credentials::parse_basic_authorization` on arbitrary
//! bytes.
//!
//! The whole input is the `Authorization` header value. Besides "no panic",
//! `basic_checks::check_basic` checks that accepted credentials round-trip (`Basic ` + the
//! standard base64 of `username:password` parses back to them, and is the input's own token),
//! that the user-id is non-empty and colon-free, that no control character gets through, and
//! that the scheme's letter case and surrounding whitespace do not matter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use turnpike_fuzz::basic_checks::check_basic;

fuzz_target!(|data: &[u8]| {
    check_basic(data);
});
