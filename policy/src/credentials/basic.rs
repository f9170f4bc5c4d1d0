//! HTTP Basic authentication (RFC 7617): parsing the `Authorization: Basic` value and checking
//! a user's password against a configured password hash.
//!
//! Configuration holds only password hashes: argon2id PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) or bcrypt strings (`$2b$12$...`, also
//! `$2a$`/`$2y$`). Anything else, a plain-text password above all, is a configuration error that
//! never echoes the offending value. Hash parameters are capped ([`MAX_ARGON2_M_COST_KIB`],
//! [`MAX_BCRYPT_COST`], ...) so a configuration cannot make one request cost seconds of CPU.
//!
//! Verification is deliberately slow (that is what the hash is for), so callers consult the
//! per-client [`super::AttemptThrottle`] before calling [`BasicAuthStore::verify`] and keep
//! successes in the [`super::VerificationCache`]. An unknown user is checked against a decoy hash
//! (the first configured user's) so that a response's timing does not tell which user names
//! exist.
//!
//! Not here: reading headers from the request, caching, throttling (see the sibling modules).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use argon2::{Argon2, PasswordVerifier};

use super::failure::AuthFailure;
use crate::base64::{decode_standard, InvalidBase64};

/// Longest base64 credential accepted after `Basic ` (bytes); longer is
/// [`InvalidBasicHeader::TooLong`].
pub const MAX_BASIC_TOKEN_LEN: usize = 4096;
/// Longest password verified (bytes); longer is [`BasicAuthError::PasswordTooLong`] without
/// hashing.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Largest argon2 memory cost accepted in configuration (KiB): 256 MiB.
pub const MAX_ARGON2_M_COST_KIB: u32 = 256 * 1024;
/// Largest argon2 time cost (passes) accepted in configuration.
pub const MAX_ARGON2_T_COST: u32 = 16;
/// Largest argon2 parallelism (lanes) accepted in configuration.
pub const MAX_ARGON2_P_COST: u32 = 16;
/// Largest bcrypt cost accepted in configuration (2^16 rounds, about 4 s on one core at most).
pub const MAX_BCRYPT_COST: u32 = 16;
/// bcrypt's smallest cost (the crate refuses lower ones when verifying).
const BCRYPT_MIN_COST: u32 = 4;
/// bcrypt only reads the first 72 bytes of a password.
const BCRYPT_MAX_PASSWORD_LEN: usize = 72;
/// Crypt and PHC scheme ids recognised (to give a precise error) but not verified.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "1",
    "2",
    "2x",
    "3",
    "5",
    "6",
    "7",
    "apr1",
    "y",
    "gy",
    "md5",
    "sha1",
    "argon2i",
    "argon2d",
    "scrypt",
    "pbkdf2",
    "pbkdf2-sha256",
    "pbkdf2-sha512",
    "bcrypt-sha256",
    "balloon",
    "yescrypt",
];
/// Argon2 version 1.3 (0x13), the only one accepted.
const ARGON2_VERSION_13: u32 = 0x13;

/// User name and password decoded from an `Authorization: Basic` value.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The user-id: everything before the first colon.
    pub username: String,
    /// The password: everything after the first colon (may be empty, may contain colons).
    pub password: String,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why an `Authorization` value is not usable Basic credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidBasicHeader {
    /// Another scheme (`Bearer ...`): not an error for Basic, another policy may take it.
    NotBasic,
    /// `Basic` with nothing after it.
    MissingToken,
    /// The credential is longer than [`MAX_BASIC_TOKEN_LEN`].
    TooLong,
    /// The credential is not strict padded base64 (RFC 4648 §4).
    Base64(InvalidBase64),
    /// The decoded credential is not UTF-8 (RFC 7617 §2.1: we take `charset="UTF-8"`).
    NotUtf8,
    /// The decoded credential has no colon between user-id and password (RFC 7617 §2).
    NoColon,
    /// The user-id is empty.
    EmptyUsername,
    /// A control character in user-id or password (RFC 7617 §2: they MUST NOT contain any).
    ControlCharacter,
}

impl InvalidBasicHeader {
    /// The WSO2 failure to answer with when Basic authentication is required.
    pub fn failure(&self) -> AuthFailure {
        match self {
            Self::NotBasic | Self::MissingToken => AuthFailure::MissingCredentials,
            _ => AuthFailure::InvalidCredentials,
        }
    }
}

impl fmt::Display for InvalidBasicHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotBasic => f.write_str("the authorization scheme is not Basic"),
            Self::MissingToken => f.write_str("Basic credentials are missing"),
            Self::TooLong => write!(f, "Basic credentials exceed {MAX_BASIC_TOKEN_LEN} bytes"),
            Self::Base64(e) => write!(f, "Basic credentials are not valid base64: {e}"),
            Self::NotUtf8 => f.write_str("Basic credentials are not UTF-8"),
            Self::NoColon => f.write_str("Basic credentials have no colon after the user-id"),
            Self::EmptyUsername => f.write_str("the Basic user-id is empty"),
            Self::ControlCharacter => f.write_str("Basic credentials contain a control character"),
        }
    }
}

impl std::error::Error for InvalidBasicHeader {}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if !is_ows(*first) {
            break;
        }
        v = rest;
    }
    while let [rest @ .., last] = v {
        if !is_ows(*last) {
            break;
        }
        v = rest;
    }
    v
}

/// Parses an `Authorization` header value as Basic credentials (RFC 7617 §2).
///
/// `credentials = auth-scheme 1*SP token68` (RFC 7235 §2.1), the scheme compared
/// case-insensitively; the token68 is strict padded base64 of `user-id ":" password`, split at
/// the first colon, decoded as UTF-8. Control characters are refused; an empty password is
/// accepted here (it fails verification).
///
/// # Errors
/// See [`InvalidBasicHeader`].
pub fn parse_basic_authorization(value: &[u8]) -> Result<BasicCredentials, InvalidBasicHeader> {
    let value = trim_ows(value);
    let scheme_end = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Err(InvalidBasicHeader::NotBasic);
    }
    let token = trim_ows(rest);
    if token.is_empty() {
        return Err(InvalidBasicHeader::MissingToken);
    }
    if token.len() > MAX_BASIC_TOKEN_LEN {
        return Err(InvalidBasicHeader::TooLong);
    }
    let decoded = decode_standard(token).map_err(InvalidBasicHeader::Base64)?;
    let decoded = String::from_utf8(decoded).map_err(|_| InvalidBasicHeader::NotUtf8)?;
    let Some((username, password)) = decoded.split_once(':') else {
        return Err(InvalidBasicHeader::NoColon);
    };
    if username.is_empty() {
        return Err(InvalidBasicHeader::EmptyUsername);
    }
    if decoded.chars().any(char::is_control) {
        // RFC 5234 CTL is %x00-1F / %x7F; `is_control` adds the C1 range U+0080-U+009F, which
        // has no business in a credential either.
        return Err(InvalidBasicHeader::ControlCharacter);
    }
    Ok(BasicCredentials { username: username.to_owned(), password: password.to_owned() })
}

/// One configured user.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicUserEntry {
    pub username: String,
    /// argon2id PHC string or bcrypt string; never the password.
    pub password_hash: String,
}

impl fmt::Debug for BasicUserEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The "hash" may be a plain-text password pasted by mistake: never print it.
        f.debug_struct("BasicUserEntry").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Why the Basic users configuration was refused. No variant carries the configured hash or
/// password text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidBasicAuthConfig {
    /// The user name at `index` is empty.
    EmptyUsername { index: usize },
    /// The user name contains a colon or a control character (RFC 7617 §2).
    InvalidUsername { index: usize },
    /// The user is listed twice.
    DuplicateUser { index: usize, username: String },
    /// The value is not a password hash at all: plain text is never accepted.
    NotAHash { username: String },
    /// A well-known hash format this build does not verify (`$1$`, `$6$`, `$argon2i$`, `$2x$`,
    /// ...); unknown `$...$` prefixes are [`Self::NotAHash`].
    UnsupportedHash { username: String, scheme: &'static str },
    /// Looks like a supported hash but does not parse.
    MalformedHash { username: String, reason: String },
    /// Parameters above the caps (`MAX_ARGON2_*`, [`MAX_BCRYPT_COST`]).
    TooExpensive { username: String, reason: String },
}

impl fmt::Display for InvalidBasicAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyUsername { index } => write!(f, "basic user #{index}: the name is empty"),
            Self::InvalidUsername { index } => {
                write!(f, "basic user #{index}: the name contains a colon or a control character")
            }
            Self::DuplicateUser { index, username } => {
                write!(f, "basic user #{index}: {username:?} is already configured")
            }
            Self::NotAHash { username } => write!(
                f,
                "basic user {username:?}: the password must be an argon2id ($argon2id$...) or \
                 bcrypt ($2b$...) hash, never plain text"
            ),
            Self::UnsupportedHash { username, scheme } => write!(
                f,
                "basic user {username:?}: hash scheme ${scheme}$ is not supported; use argon2id \
                 or bcrypt"
            ),
            Self::MalformedHash { username, reason } => {
                write!(f, "basic user {username:?}: malformed password hash: {reason}")
            }
            Self::TooExpensive { username, reason } => {
                write!(f, "basic user {username:?}: password hash too expensive: {reason}")
            }
        }
    }
}

impl std::error::Error for InvalidBasicAuthConfig {}

/// An authenticated Basic user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: String,
}

/// Why [`BasicAuthStore::verify`] refused. All variants answer the client the same way
/// ([`AuthFailure::InvalidCredentials`]); the distinction is for logs and the throttle only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicAuthError {
    /// No such user (a decoy hash was still computed).
    UnknownUser,
    /// The password does not match the user's hash.
    WrongPassword,
    /// Empty password: refused without hashing.
    EmptyPassword,
    /// Longer than [`MAX_PASSWORD_LEN`]: refused without hashing.
    PasswordTooLong,
}

impl BasicAuthError {
    /// The WSO2 failure to answer with.
    pub fn failure(&self) -> AuthFailure {
        AuthFailure::InvalidCredentials
    }
}

impl fmt::Display for BasicAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownUser => "unknown user",
            Self::WrongPassword => "wrong password",
            Self::EmptyPassword => "empty password",
            Self::PasswordTooLong => "password too long",
        })
    }
}

impl std::error::Error for BasicAuthError {}

/// A parsed, validated password hash.
#[derive(Clone)]
enum StoredHash {
    Argon2id(Box<argon2::PasswordHash>),
    /// bcrypt string, already checked to parse.
    Bcrypt(String),
}

impl StoredHash {
    fn parse(username: &str, text: &str) -> Result<Self, InvalidBasicAuthConfig> {
        let text = text.trim();
        let malformed = |reason: String| InvalidBasicAuthConfig::MalformedHash {
            username: username.to_owned(),
            reason,
        };
        let too_expensive = |reason: String| InvalidBasicAuthConfig::TooExpensive {
            username: username.to_owned(),
            reason,
        };
        let Some(after_dollar) = text.strip_prefix('$') else {
            return Err(InvalidBasicAuthConfig::NotAHash { username: username.to_owned() });
        };
        let scheme = after_dollar.split('$').next().unwrap_or_default();
        match scheme {
            "argon2id" => {
                let hash = argon2::PasswordHash::new(text).map_err(|e| malformed(e.to_string()))?;
                if hash.version != Some(ARGON2_VERSION_13) {
                    return Err(malformed("argon2 version must be v=19".into()));
                }
                if hash.salt.is_none() || hash.hash.is_none() {
                    return Err(malformed("salt or hash missing".into()));
                }
                let params =
                    argon2::Params::try_from(&hash).map_err(|e| malformed(e.to_string()))?;
                if params.m_cost() > MAX_ARGON2_M_COST_KIB {
                    return Err(too_expensive(format!(
                        "m={} KiB is above {MAX_ARGON2_M_COST_KIB}",
                        params.m_cost()
                    )));
                }
                if params.t_cost() > MAX_ARGON2_T_COST {
                    return Err(too_expensive(format!(
                        "t={} is above {MAX_ARGON2_T_COST}",
                        params.t_cost()
                    )));
                }
                if params.p_cost() > MAX_ARGON2_P_COST {
                    return Err(too_expensive(format!(
                        "p={} is above {MAX_ARGON2_P_COST}",
                        params.p_cost()
                    )));
                }
                Ok(Self::Argon2id(Box::new(hash)))
            }
            "2a" | "2b" | "2y" => {
                let parts =
                    bcrypt::HashParts::from_str(text).map_err(|e| malformed(e.to_string()))?;
                let cost = parts.get_cost();
                if cost < BCRYPT_MIN_COST {
                    return Err(malformed(format!(
                        "bcrypt cost {cost} is below {BCRYPT_MIN_COST}"
                    )));
                }
                if cost > MAX_BCRYPT_COST {
                    return Err(too_expensive(format!(
                        "bcrypt cost {cost} is above {MAX_BCRYPT_COST}"
                    )));
                }
                Ok(Self::Bcrypt(text.to_owned()))
            }
            // Only well-known scheme names are named back: a plain-text password that happens to
            // start with `$` must not end up in a log.
            s => match KNOWN_UNSUPPORTED.iter().find(|k| **k == s) {
                Some(scheme) => Err(InvalidBasicAuthConfig::UnsupportedHash {
                    username: username.to_owned(),
                    scheme,
                }),
                None => Err(InvalidBasicAuthConfig::NotAHash { username: username.to_owned() }),
            },
        }
    }

    /// Runs the full hash computation; `true` when `password` matches.
    fn matches(&self, password: &str) -> bool {
        match self {
            Self::Argon2id(hash) => {
                // Parameters (m, t, p, output length) come from the hash, not from `default()`.
                Argon2::default().verify_password(password.as_bytes(), hash.as_ref()).is_ok()
            }
            Self::Bcrypt(hash) => {
                // bcrypt ignores bytes after the 72nd; refuse longer passwords rather than accept
                // any string sharing their prefix, but hash anyway so the time does not say so.
                let long = password.len() > BCRYPT_MAX_PASSWORD_LEN;
                let ok = bcrypt::verify(password.as_bytes(), hash).unwrap_or(false);
                ok && !long
            }
        }
    }
}

/// The configured Basic users. Immutable once built; part of a snapshot.
#[derive(Clone, Default)]
pub struct BasicAuthStore {
    users: HashMap<String, StoredHash>,
    /// Hash computed for unknown users so they take as long as known ones.
    decoy: Option<StoredHash>,
}

impl fmt::Debug for BasicAuthStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthStore").field("users", &self.users.len()).finish_non_exhaustive()
    }
}

impl BasicAuthStore {
    /// Validates `entries` and parses every hash.
    ///
    /// The decoy for unknown users is the first user's hash, so unknown users cost what that
    /// user costs; with mixed algorithms or parameters the match is only approximate.
    ///
    /// # Errors
    /// The first invalid entry, see [`InvalidBasicAuthConfig`].
    pub fn new(
        entries: impl IntoIterator<Item = BasicUserEntry>,
    ) -> Result<Self, InvalidBasicAuthConfig> {
        let mut users = HashMap::new();
        let mut decoy = None;
        for (index, BasicUserEntry { username, password_hash }) in entries.into_iter().enumerate() {
            if username.is_empty() {
                return Err(InvalidBasicAuthConfig::EmptyUsername { index });
            }
            if username.contains(':') || username.chars().any(char::is_control) {
                return Err(InvalidBasicAuthConfig::InvalidUsername { index });
            }
            if users.contains_key(&username) {
                return Err(InvalidBasicAuthConfig::DuplicateUser { index, username });
            }
            let hash = StoredHash::parse(&username, &password_hash)?;
            if decoy.is_none() {
                decoy = Some(hash.clone());
            }
            users.insert(username, hash);
        }
        Ok(Self { users, decoy })
    }

    /// Checks `password` for `username`.
    ///
    /// Costs one full password hash whether or not the user exists (unknown users are checked
    /// against the decoy), except for empty or over-long passwords, which are refused at once:
    /// that shortcut depends only on the password's length, never on the user.
    ///
    /// # Errors
    /// See [`BasicAuthError`]; all of them mean "401, invalid credentials" to the client.
    pub fn verify(&self, username: &str, password: &str) -> Result<Principal, BasicAuthError> {
        if password.is_empty() {
            return Err(BasicAuthError::EmptyPassword);
        }
        if password.len() > MAX_PASSWORD_LEN {
            return Err(BasicAuthError::PasswordTooLong);
        }
        match self.users.get(username) {
            Some(hash) => {
                if hash.matches(password) {
                    Ok(Principal { username: username.to_owned() })
                } else {
                    Err(BasicAuthError::WrongPassword)
                }
            }
            None => {
                if let Some(decoy) = &self.decoy {
                    std::hint::black_box(decoy.matches(password));
                }
                Err(BasicAuthError::UnknownUser)
            }
        }
    }

    /// Whether `username` is configured.
    pub fn contains_user(&self, username: &str) -> bool {
        self.users.contains_key(username)
    }

    /// Number of configured users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user is configured.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Result<BasicCredentials, InvalidBasicHeader> {
        parse_basic_authorization(s.as_bytes())
    }

    #[test]
    fn parses_rfc7617_example() {
        // RFC 7617 §2: Aladdin / open sesame.
        let c = header("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert_eq!(c.username, "Aladdin");
        assert_eq!(c.password, "open sesame");
        assert_eq!(header("bAsIc   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ").unwrap(), c);
        assert!(!format!("{c:?}").contains("sesame"));
    }

    #[test]
    fn header_errors() {
        assert_eq!(header("Bearer abc"), Err(InvalidBasicHeader::NotBasic));
        assert_eq!(header("Basicx QQ=="), Err(InvalidBasicHeader::NotBasic));
        assert_eq!(header("Basic"), Err(InvalidBasicHeader::MissingToken));
        assert_eq!(header("Basic   "), Err(InvalidBasicHeader::MissingToken));
        // "Aladdin" without colon.
        assert_eq!(header("Basic QWxhZGRpbg=="), Err(InvalidBasicHeader::NoColon));
        // ":pw"
        assert_eq!(header("Basic OnB3"), Err(InvalidBasicHeader::EmptyUsername));
        assert!(matches!(header("Basic QWxh ZGRp"), Err(InvalidBasicHeader::Base64(_))));
        let long = format!("Basic {}", "A".repeat(MAX_BASIC_TOKEN_LEN + 4));
        assert_eq!(header(&long), Err(InvalidBasicHeader::TooLong));
    }

    #[test]
    fn refuses_plain_text_and_unknown_schemes() {
        let entry = |h: &str| BasicUserEntry { username: "u".into(), password_hash: h.into() };
        assert_eq!(
            BasicAuthStore::new([entry("hunter2")]).unwrap_err(),
            InvalidBasicAuthConfig::NotAHash { username: "u".into() }
        );
        assert!(matches!(
            BasicAuthStore::new([entry("$6$rounds=5000$salt$abc")]),
            Err(InvalidBasicAuthConfig::UnsupportedHash { scheme, .. }) if scheme == "6"
        ));
        assert!(matches!(
            BasicAuthStore::new([entry("$2b$04$short")]),
            Err(InvalidBasicAuthConfig::MalformedHash { .. })
        ));
        assert!(matches!(
            BasicAuthStore::new([entry("$argon2id$v=19$m=8,t=1,p=1$bad")]),
            Err(InvalidBasicAuthConfig::MalformedHash { .. })
        ));
        for plain in ["$secret password$", "$ecret$pass", "$Passw0rd"] {
            let err = BasicAuthStore::new([entry(plain)]).unwrap_err();
            assert_eq!(err, InvalidBasicAuthConfig::NotAHash { username: "u".into() });
            assert!(!err.to_string().contains("ecret") && !err.to_string().contains("Passw0rd"));
        }
    }

    #[test]
    fn empty_store_refuses_everyone() {
        let store = BasicAuthStore::new([]).unwrap();
        assert_eq!(store.verify("a", "b"), Err(BasicAuthError::UnknownUser));
        assert_eq!(store.verify("a", ""), Err(BasicAuthError::EmptyPassword));
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(store.verify("a", &long), Err(BasicAuthError::PasswordTooLong));
    }
}
