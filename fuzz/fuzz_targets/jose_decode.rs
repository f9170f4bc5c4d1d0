//! cargo-fuzz target: the JOSE decoders of `turnpike_policy::jose` on arbitrary bytes.
//!
//! The whole input is used three ways: as a compact JWS for `jose::decode` when it is UTF-8
//! (then `Claims::parse` / `Claims::validate` on the payload of a decoded token, and signature
//! verification with a fixed HMAC key set), as a JWK set for `KeySet::from_jwks` (then `select`
//! for every algorithm and `kid`), and as one JWK for `VerifyingKey::from_jwk`.
//! `jose_checks::check_jose` checks, besides "no panic", that a decoded token's
//! `signing_input` is the input up to the second dot, that its parts re-encode to themselves,
//! that the typed header fields and claims agree with the parsed JSON, the time rules of
//! `validate`, and the key-selection rules (see `fuzz/src/jose_checks.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use turnpike_fuzz::jose_checks::check_jose;

fuzz_target!(|data: &[u8]| {
    check_jose(data);
});
