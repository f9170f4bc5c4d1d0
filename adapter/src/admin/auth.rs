//! Who may call the admin API: configured users (basic auth) and the bearer tokens they obtain
//! from `POST /api/mgw/adapter/0.1/oauth2/token`.
//!
//! Where it sits: the admin server calls [`Authenticator::check`] with the `Authorization` header
//! of every request to a protected path, and [`Authenticator::issue`] from the token endpoint.
//! Tokens are 32 random bytes from `ring::rand`, handed out as 64 hex digits and kept in memory
//! only as their SHA-256 digest, with an expiry; a restart forgets them.
//!
//! Compatibility: `apictl mg` (some versions) sends its token as `Authorization: Basic <token>`,
//! so a `Basic` credential that is not `base64(user:password)` is also tried as a token.
//!
//! What it does not do: no scopes or roles (every user may do everything), no token revocation
//! endpoint, no persistence.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use super::decode_base64;
use super::password::PasswordHash;

/// Most live tokens kept; issuing one more drops the one closest to expiry.
const MAX_TOKENS: usize = 4096;

/// One configured admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    pub username: String,
    pub password_hash: PasswordHash,
}

/// Why a request was not authenticated; rendered as 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// Unknown user or wrong password.
    BadCredentials,
    /// Bearer token unknown or expired.
    BadToken,
    /// An `Authorization` scheme other than Basic or Bearer, or an unreadable value.
    Malformed,
}

impl AuthFailure {
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "authentication required: use basic auth or a bearer token",
            Self::BadCredentials => "invalid username or password",
            Self::BadToken => "the access token is invalid or expired",
            Self::Malformed => "unsupported Authorization header: expected Basic or Bearer",
        }
    }
}

/// An issued token.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_in: Duration,
}

/// Users, live tokens, and the checks over them. Shared by every connection thread.
pub struct Authenticator {
    users: Vec<AdminUser>,
    /// Verified against when the user is unknown, so that unknown and known users take the same
    /// time to refuse.
    decoy: PasswordHash,
    token_ttl: Duration,
    tokens: Mutex<HashMap<[u8; 32], Token>>,
    rng: SystemRandom,
}

struct Token {
    username: String,
    expires: Instant,
}

impl Authenticator {
    pub fn new(users: Vec<AdminUser>, token_ttl: Duration) -> Self {
        let iterations = users.first().map_or(1000, |u| u.password_hash.iterations());
        let decoy = PasswordHash::new("", iterations);
        Self {
            users,
            decoy,
            token_ttl,
            tokens: Mutex::new(HashMap::new()),
            rng: SystemRandom::new(),
        }
    }

    /// Whether any login is possible.
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// Checks a username and password; the time taken does not depend on whether the user exists.
    pub fn verify_password(&self, username: &str, password: &str) -> bool {
        match self.users.iter().find(|u| u.username == username) {
            Some(user) => user.password_hash.verify(password),
            None => {
                let _ = self.decoy.verify(password);
                false
            }
        }
    }

    /// Checks an `Authorization` header value; returns the user name.
    pub fn check(&self, authorization: Option<&[u8]>, now: Instant) -> Result<String, AuthFailure> {
        let value = authorization.ok_or(AuthFailure::Missing)?;
        let value = std::str::from_utf8(value).map_err(|_| AuthFailure::Malformed)?.trim();
        let (scheme, credentials) =
            value.split_once(' ').map(|(s, c)| (s, c.trim())).ok_or(AuthFailure::Malformed)?;
        if scheme.eq_ignore_ascii_case("bearer") {
            return self.check_token(credentials, now).ok_or(AuthFailure::BadToken);
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(AuthFailure::Malformed);
        }
        let decoded = decode_base64(credentials).and_then(|b| String::from_utf8(b).ok());
        if let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            if self.verify_password(user, password) {
                return Ok(user.to_owned());
            }
        }
        // `apictl mg` sends `Basic <token>` in some versions.
        self.check_token(credentials, now).ok_or(AuthFailure::BadCredentials)
    }

    /// Issues a token for `username` (already authenticated).
    pub fn issue(&self, username: &str, now: Instant) -> Result<Issued, ring::error::Unspecified> {
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw)?;
        let token = hex(&raw);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, t| t.expires > now);
        if tokens.len() >= MAX_TOKENS {
            if let Some(oldest) = tokens.iter().min_by_key(|(_, t)| t.expires).map(|(k, _)| *k) {
                tokens.remove(&oldest);
            }
        }
        let entry = Token { username: username.to_owned(), expires: now + self.token_ttl };
        tokens.insert(token_key(&token), entry);
        Ok(Issued { token, expires_in: self.token_ttl })
    }

    fn check_token(&self, token: &str, now: Instant) -> Option<String> {
        let key = token_key(token);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get(&key) {
            Some(t) if t.expires > now => Some(t.username.clone()),
            Some(_) => {
                tokens.remove(&key);
                None
            }
            None => None,
        }
    }
}

/// Tokens are looked up by digest: the map never holds a usable token, and lookups compare
/// digests, not secrets.
fn token_key(token: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    key
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::password::hash_password_with_iterations;
    use turnpike_policy::base64::encode_standard;

    fn auth(ttl: Duration) -> Authenticator {
        let hash = PasswordHash::parse(&hash_password_with_iterations("pw", 10)).unwrap();
        Authenticator::new(vec![AdminUser { username: "ops".into(), password_hash: hash }], ttl)
    }

    fn basic(user: &str, pw: &str) -> String {
        format!("Basic {}", encode_standard(format!("{user}:{pw}").as_bytes()))
    }

    #[test]
    fn basic_auth() {
        let a = auth(Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(a.check(Some(basic("ops", "pw").as_bytes()), now), Ok("ops".into()));
        assert_eq!(
            a.check(Some(basic("ops", "x").as_bytes()), now),
            Err(AuthFailure::BadCredentials)
        );
        assert_eq!(
            a.check(Some(basic("x", "pw").as_bytes()), now),
            Err(AuthFailure::BadCredentials)
        );
        assert_eq!(a.check(None, now), Err(AuthFailure::Missing));
        assert_eq!(a.check(Some(b"Digest abc"), now), Err(AuthFailure::Malformed));
        assert_eq!(a.check(Some(b"Basic"), now), Err(AuthFailure::Malformed));
    }

    #[test]
    fn tokens_expire() {
        let a = auth(Duration::from_secs(60));
        let now = Instant::now();
        let issued = a.issue("ops", now).unwrap();
        assert_eq!(issued.token.len(), 64);
        let bearer = format!("Bearer {}", issued.token);
        assert_eq!(a.check(Some(bearer.as_bytes()), now), Ok("ops".into()));
        // apictl's `Basic <token>`.
        let basic_token = format!("Basic {}", issued.token);
        assert_eq!(a.check(Some(basic_token.as_bytes()), now), Ok("ops".into()));
        let later = now + Duration::from_secs(61);
        assert_eq!(a.check(Some(bearer.as_bytes()), later), Err(AuthFailure::BadToken));
        assert_eq!(a.check(Some(b"Bearer nope"), now), Err(AuthFailure::BadToken));
    }
}
