//! Basic authentication: `Authorization: Basic` parsing (RFC 7617) and password verification
//! against argon2id and bcrypt hashes generated here with the same crates, with small costs so
//! that debug builds stay fast.

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Params, Version};
use turnpike_policy::credentials::{
    parse_basic_authorization, AuthFailure, BasicAuthError, BasicAuthStore, BasicUserEntry,
    InvalidBase64, InvalidBasicAuthConfig, InvalidBasicHeader, MAX_PASSWORD_LEN,
};

/// argon2id v=19 with the smallest sensible parameters (256 KiB, one pass, one lane).
fn argon2id(password: &str, salt: &[u8]) -> String {
    let params = Params::new(256, 1, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), salt)
        .unwrap()
        .to_string()
}

/// bcrypt at the minimum cost (2^4 rounds).
fn bcrypt_2b(password: &str, salt: [u8; 16]) -> String {
    bcrypt::hash_with_salt(password, 4, salt).unwrap().format_for_version(bcrypt::Version::TwoB)
}

fn user(name: &str, hash: String) -> BasicUserEntry {
    BasicUserEntry { username: name.into(), password_hash: hash }
}

fn store() -> BasicAuthStore {
    BasicAuthStore::new([
        user("alice", argon2id("correct horse battery staple", b"alice-salt-0001")),
        user("bob", bcrypt_2b("Tr0ub4dor&3", *b"bob-salt-16bytes")),
        user("carol", argon2id("pässwörd:with:colons", b"carol-salt-0002")),
    ])
    .unwrap()
}

#[test]
fn generated_hashes_have_the_expected_formats() {
    let a = argon2id("pw", b"saltsalt");
    assert!(a.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{a}");
    let b = bcrypt_2b("pw", [1; 16]);
    assert!(b.starts_with("$2b$04$") && b.len() == 60, "{b}");
}

#[test]
fn argon2id_right_and_wrong_passwords() {
    let store = store();
    assert_eq!(store.verify("alice", "correct horse battery staple").unwrap().username, "alice");
    assert_eq!(
        store.verify("alice", "correct horse battery stapler"),
        Err(BasicAuthError::WrongPassword)
    );
    assert_eq!(store.verify("alice", "Tr0ub4dor&3"), Err(BasicAuthError::WrongPassword));
    assert_eq!(store.verify("carol", "pässwörd:with:colons").unwrap().username, "carol");
}

#[test]
fn bcrypt_right_and_wrong_passwords() {
    let store = store();
    assert_eq!(store.verify("bob", "Tr0ub4dor&3").unwrap().username, "bob");
    assert_eq!(store.verify("bob", "tr0ub4dor&3"), Err(BasicAuthError::WrongPassword));
    assert_eq!(store.verify("Bob", "Tr0ub4dor&3"), Err(BasicAuthError::UnknownUser));
}

#[test]
fn bcrypt_variants_2a_and_2y_are_accepted() {
    let parts = bcrypt::hash_with_salt("pw", 4, [9; 16]).unwrap();
    for version in [bcrypt::Version::TwoA, bcrypt::Version::TwoY] {
        let store = BasicAuthStore::new([user("u", parts.format_for_version(version))]).unwrap();
        assert!(store.verify("u", "pw").is_ok());
        assert_eq!(store.verify("u", "px"), Err(BasicAuthError::WrongPassword));
    }
}

#[test]
fn bcrypt_does_not_accept_a_shared_72_byte_prefix() {
    let p72 = "p".repeat(72);
    let store = BasicAuthStore::new([user("u", bcrypt_2b(&p72, [3; 16]))]).unwrap();
    assert!(store.verify("u", &p72).is_ok());
    // bcrypt alone would accept this (it reads only 72 bytes).
    assert_eq!(store.verify("u", &format!("{p72}extra")), Err(BasicAuthError::WrongPassword));
}

#[test]
fn unknown_users_and_cheap_refusals() {
    let store = store();
    assert_eq!(store.verify("mallory", "whatever"), Err(BasicAuthError::UnknownUser));
    assert_eq!(store.verify("alice", ""), Err(BasicAuthError::EmptyPassword));
    let long = "x".repeat(MAX_PASSWORD_LEN + 1);
    assert_eq!(store.verify("alice", &long), Err(BasicAuthError::PasswordTooLong));
    for e in [BasicAuthError::UnknownUser, BasicAuthError::WrongPassword] {
        assert_eq!(e.failure(), AuthFailure::InvalidCredentials);
    }
    assert!(store.contains_user("bob") && !store.contains_user("mallory"));
    assert_eq!(store.len(), 3);
}

#[test]
fn plain_text_passwords_in_config_are_refused() {
    for plain in ["hunter2", "correct horse battery staple", "", "  ", "argon2id$v=19"] {
        let err = BasicAuthStore::new([user("dave", plain.into())]).unwrap_err();
        assert_eq!(err, InvalidBasicAuthConfig::NotAHash { username: "dave".into() }, "{plain:?}");
        if !plain.trim().is_empty() {
            assert!(!err.to_string().contains(plain));
        }
    }
}

#[test]
fn unsupported_and_malformed_hashes_are_refused() {
    let unsupported = |h: &str| match BasicAuthStore::new([user("u", h.into())]) {
        Err(InvalidBasicAuthConfig::UnsupportedHash { scheme, .. }) => scheme,
        other => panic!("{h}: {other:?}"),
    };
    assert_eq!(unsupported("$1$saltsalt$abcdefghijklmnopqrstuv"), "1");
    assert_eq!(unsupported("$6$rounds=5000$salt$hash"), "6");
    assert_eq!(unsupported("$apr1$salt$hash"), "apr1");
    let argon2i = argon2id("pw", b"saltsalt").replacen("$argon2id$", "$argon2i$", 1);
    assert_eq!(unsupported(&argon2i), "argon2i");
    let two_x = bcrypt_2b("pw", [1; 16]).replacen("$2b$", "$2x$", 1);
    assert_eq!(unsupported(&two_x), "2x");

    let malformed = |h: String| {
        assert!(
            matches!(
                BasicAuthStore::new([user("u", h.clone())]),
                Err(InvalidBasicAuthConfig::MalformedHash { .. })
            ),
            "{h}"
        );
    };
    let good = argon2id("pw", b"saltsalt");
    malformed(good.replacen("v=19", "v=16", 1));
    malformed(good.replacen("$v=19", "", 1));
    malformed(good.rsplit_once('$').unwrap().0.to_owned()); // no hash
    malformed("$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into()); // m < 8p
    let b = bcrypt_2b("pw", [1; 16]);
    malformed(b[..59].to_owned());
    malformed(b.replacen("$04$", "$03$", 1));
    malformed(b.replacen("$04$", "$xx$", 1));
}

#[test]
fn expensive_parameters_are_refused() {
    let good = argon2id("pw", b"saltsalt");
    for (from, to) in [("m=256", "m=1048576"), ("t=1", "t=100"), ("p=1", "p=17")] {
        let h = good.replacen(from, to, 1);
        assert!(
            matches!(
                BasicAuthStore::new([user("u", h.clone())]),
                Err(InvalidBasicAuthConfig::TooExpensive { .. })
            ),
            "{h}"
        );
    }
    let b = bcrypt_2b("pw", [1; 16]).replacen("$04$", "$20$", 1);
    assert!(matches!(
        BasicAuthStore::new([user("u", b)]),
        Err(InvalidBasicAuthConfig::TooExpensive { .. })
    ));
}

#[test]
fn user_name_rules() {
    let h = || bcrypt_2b("pw", [1; 16]);
    assert_eq!(
        BasicAuthStore::new([user("", h())]).unwrap_err(),
        InvalidBasicAuthConfig::EmptyUsername { index: 0 }
    );
    assert_eq!(
        BasicAuthStore::new([user("a:b", h())]).unwrap_err(),
        InvalidBasicAuthConfig::InvalidUsername { index: 0 }
    );
    assert_eq!(
        BasicAuthStore::new([user("a", h()), user("a\n", h())]).unwrap_err(),
        InvalidBasicAuthConfig::InvalidUsername { index: 1 }
    );
    assert_eq!(
        BasicAuthStore::new([user("a", h()), user("a", h())]).unwrap_err(),
        InvalidBasicAuthConfig::DuplicateUser { index: 1, username: "a".into() }
    );
}

fn parse(v: &str) -> Result<(String, String), InvalidBasicHeader> {
    parse_basic_authorization(v.as_bytes()).map(|c| (c.username, c.password))
}

fn basic(raw: &[u8]) -> String {
    // Standard padded base64, written out here so the test does not share the decoder's code.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("Basic ");
    for chunk in raw.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[test]
fn header_parsing() {
    assert_eq!(parse(&basic(b"alice:secret")), Ok(("alice".into(), "secret".into())));
    // Split at the first colon only: passwords may contain colons.
    assert_eq!(parse(&basic(b"alice:a:b:c")), Ok(("alice".into(), "a:b:c".into())));
    // Empty password parses (and then fails verification without hashing).
    assert_eq!(parse(&basic(b"alice:")), Ok(("alice".into(), String::new())));
    // UTF-8 user-id and password.
    assert_eq!(
        parse(&basic("test:123£".as_bytes())),
        Ok(("test".into(), "123£".into())),
        "RFC 7617 §2.1 example"
    );
    assert_eq!(parse("Basic dGVzdDoxMjPCow=="), Ok(("test".into(), "123£".into())));
    // Scheme is case-insensitive; several spaces and surrounding whitespace are fine.
    assert_eq!(parse("BASIC  YTpi "), Ok(("a".into(), "b".into())));
    assert_eq!(parse("\tbasic YTpi"), Ok(("a".into(), "b".into())));
}

#[test]
fn header_parsing_errors() {
    assert_eq!(parse("Bearer eyJhbGciOi.x.y"), Err(InvalidBasicHeader::NotBasic));
    assert_eq!(parse(""), Err(InvalidBasicHeader::NotBasic));
    assert_eq!(parse("Basic"), Err(InvalidBasicHeader::MissingToken));
    assert_eq!(parse(&basic(b"no-colon-here")), Err(InvalidBasicHeader::NoColon));
    assert_eq!(parse(&basic(b":password")), Err(InvalidBasicHeader::EmptyUsername));
    assert_eq!(parse(&basic(b"\xff\xfe:pw")), Err(InvalidBasicHeader::NotUtf8));
    assert_eq!(parse(&basic(b"user:\xc3")), Err(InvalidBasicHeader::NotUtf8));
    assert_eq!(parse(&basic(b"us\0er:pw")), Err(InvalidBasicHeader::ControlCharacter));
    assert_eq!(parse(&basic(b"user:p\x7fw")), Err(InvalidBasicHeader::ControlCharacter));
    assert_eq!(parse(&basic(b"user:pw\r\n")), Err(InvalidBasicHeader::ControlCharacter));
    // Bad base64: missing padding, URL-safe alphabet, stray characters, non-canonical bits.
    assert_eq!(parse("Basic YTpiYw"), Err(InvalidBasicHeader::Base64(InvalidBase64::Length)));
    assert!(matches!(parse("Basic YT-i"), Err(InvalidBasicHeader::Base64(_))));
    assert!(matches!(parse("Basic YTpi!"), Err(InvalidBasicHeader::Base64(_))));
    assert!(matches!(parse("Basic YTp i"), Err(InvalidBasicHeader::Base64(_))));
    assert_eq!(
        parse("Basic YTpiYx=="),
        Err(InvalidBasicHeader::Base64(InvalidBase64::NonZeroPadBits))
    );
    assert_eq!(InvalidBasicHeader::MissingToken.failure(), AuthFailure::MissingCredentials);
    assert_eq!(InvalidBasicHeader::NoColon.failure(), AuthFailure::InvalidCredentials);
}

#[test]
fn header_to_principal() {
    let store = store();
    let creds = parse_basic_authorization(basic(b"bob:Tr0ub4dor&3").as_bytes()).unwrap();
    assert_eq!(store.verify(&creds.username, &creds.password).unwrap().username, "bob");
    let creds = parse_basic_authorization(basic(b"bob:").as_bytes()).unwrap();
    assert_eq!(store.verify(&creds.username, &creds.password), Err(BasicAuthError::EmptyPassword));
}

#[test]
fn unknown_users_are_not_cheaper_than_known_ones() {
    use std::time::{Duration, Instant};
    // One-sided on purpose: without the decoy an unknown user costs microseconds against
    // milliseconds for a hash (~1000x); noise on a busy machine can only make the unknown user
    // slower, and the minimum of several runs filters preemption of the known one. So the check
    // fails when the decoy is missing and does not flake otherwise.
    let params = Params::new(4096, 4, 1, None).unwrap();
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(b"right", b"timing-salt")
        .unwrap()
        .to_string();
    let store = BasicAuthStore::new([user("known", hash)]).unwrap();
    let min_time = |name: &str| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                let _ = store.verify(name, "wrong");
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::ZERO)
    };
    let known = min_time("known");
    let unknown = min_time("nobody");
    assert!(unknown * 10 >= known, "unknown {unknown:?} vs known {known:?}: decoy not hashed?");
}
