//! Invariant checks for `turnpike_policy::credentials::parse_basic_authorization`, the
//! `Authorization: Basic` decoder (RFC 7617 §2).
//!
//! Where it sits: shared by the cargo-fuzz target `fuzz/fuzz_targets/basic_header.rs` (through
//! the `turnpike_fuzz` library) and by the stable-Rust test `policy/tests/fuzz_regressions.rs`,
//! which includes this file with `#[path]`. It depends on nothing but `turnpike_policy` and
//! `std`.
//!
//! [`check_basic`] parses one header value and, besides "no panic", checks:
//!
//! * **Round trip**: for accepted credentials, `Basic ` + standard padded base64 of
//!   `username ":" password` parses back to the same credentials; and since the decoder is
//!   strict (one spelling per byte string), that base64 is exactly the token of the input
//!   (the input minus optional whitespace, the scheme and the spaces after it).
//! * **Content**: the user-id is non-empty and has no colon (the split is at the first colon),
//!   neither part has a control character, the token is at most `MAX_BASIC_TOKEN_LEN` bytes.
//! * **Scheme**: the scheme is matched case-insensitively (`basic`, `BASIC` give the same
//!   result), and surrounding optional whitespace does not change the result.
//!
//! What it does not do: it does not check password hashing (`BasicAuthStore::verify`, slow on
//! purpose), nor the exact refusal of a rejected value.

use turnpike_policy::base64::encode_standard;
use turnpike_policy::credentials::{parse_basic_authorization, MAX_BASIC_TOKEN_LEN};

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `value` with leading and trailing spaces and tabs removed.
fn trim_ows(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| !is_ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|&b| !is_ows(b)).map_or(start, |i| i + 1);
    &value[start..end]
}

/// Parse one `Authorization` value and check the rules in the module docs.
pub fn check_basic(value: &[u8]) {
    let result = parse_basic_authorization(value);

    // Case of the scheme and surrounding whitespace never matter.
    let trimmed = trim_ows(value);
    let scheme_end = trimmed.iter().position(|&b| b == b' ').unwrap_or(trimmed.len());
    for case in [u8::to_ascii_uppercase, u8::to_ascii_lowercase] {
        let mut other: Vec<u8> = trimmed.iter().take(scheme_end).map(case).collect();
        other.extend_from_slice(&trimmed[scheme_end..]);
        assert_eq!(
            parse_basic_authorization(&other),
            result,
            "the scheme's letter case changed the result for {:?}",
            show(value)
        );
    }
    let mut padded = b" \t".to_vec();
    padded.extend_from_slice(value);
    padded.extend_from_slice(b"\t ");
    assert_eq!(
        parse_basic_authorization(&padded),
        result,
        "surrounding whitespace changed the result for {:?}",
        show(value)
    );

    let Ok(creds) = result else {
        return;
    };
    assert!(!creds.username.is_empty(), "empty user-id accepted from {:?}", show(value));
    assert!(!creds.username.contains(':'), "user-id with a colon from {:?}", show(value));
    assert!(
        !creds.username.chars().chain(creds.password.chars()).any(char::is_control),
        "control character accepted from {:?}",
        show(value)
    );

    let token = encode_standard(format!("{}:{}", creds.username, creds.password).as_bytes());
    assert!(token.len() <= MAX_BASIC_TOKEN_LEN, "token over MAX_BASIC_TOKEN_LEN accepted");
    let original = trim_ows(trimmed.get(scheme_end..).unwrap_or_default());
    assert_eq!(
        token.as_bytes(),
        original,
        "the accepted token is not the canonical base64 of its credentials"
    );
    let again = parse_basic_authorization(format!("Basic {token}").as_bytes());
    assert_eq!(again.as_ref(), Ok(&creds), "re-encoded credentials parse differently");
}
