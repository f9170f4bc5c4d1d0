//! OAuth 2.0 token introspection (RFC 7662), without I/O: [`request`] builds the HTTP/1.1 POST
//! a policy hands to `core` as a callout, [`parse_response`] reads what came back.
//!
//! Where it sits: the opaque-token policy returns `Verdict::Callout` with the bytes of
//! [`request`]; `core` sends them to the key manager (WSO2's `/oauth2/introspect`) and resumes
//! the policy with the status and body, which [`parse_response`] turns into an [`Introspected`]
//! or an error. This module does not open connections, cache results, check `exp` against a
//! clock, or decide what an inactive token means for the request.

use std::fmt;

use serde_json::{Map, Value};

use crate::jose::json::parse_object;
use crate::jose::{Claims, JoseError};

/// Largest response body [`parse_response`] reads.
pub const MAX_BODY: usize = 64 * 1024;

/// Why an introspection response could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntrospectionError {
    /// The endpoint answered with a status other than 200.
    Status(u16),
    /// The body is larger than [`MAX_BODY`].
    TooLarge {
        /// Body length in bytes.
        len: usize,
    },
    /// The body is not one JSON object (or repeats a member); the text says why.
    NotJson(String),
    /// `active` is missing or not a boolean (RFC 7662 §2.2: REQUIRED).
    MissingActive,
    /// A member has the wrong type.
    InvalidMember(&'static str),
}

impl fmt::Display for IntrospectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "introspection endpoint answered {status}"),
            Self::TooLarge { len } => {
                write!(f, "introspection response of {len} bytes, limit is {MAX_BODY}")
            }
            Self::NotJson(why) => write!(f, "introspection response is not a JSON object: {why}"),
            Self::MissingActive => f.write_str("introspection response has no boolean \"active\""),
            Self::InvalidMember(name) => write!(f, "introspection member {name:?} has a bad type"),
        }
    }
}

impl std::error::Error for IntrospectionError {}

/// What the authorization server said about a token (RFC 7662 §2.2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Introspected {
    /// Whether the token is currently active. When false, only `claims` is filled.
    pub active: bool,
    /// `scope`, split on spaces (an array of strings is accepted too).
    pub scope: Vec<String>,
    /// `client_id` (WSO2: the consumer key).
    pub client_id: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `exp`, seconds since the epoch.
    pub exp: Option<u64>,
    /// `iat`.
    pub iat: Option<u64>,
    /// `nbf`.
    pub nbf: Option<u64>,
    /// `token_type`.
    pub token_type: Option<String>,
    /// `aud`, a single string becoming a one-element list.
    pub aud: Vec<String>,
    /// `iss`.
    pub iss: Option<String>,
    /// `jti`.
    pub jti: Option<String>,
    /// Every member as received.
    pub claims: Map<String, Value>,
}

/// Percent-encodes everything but the unreserved characters of RFC 3986 §2.3
/// (`A-Z a-z 0-9 - . _ ~`), which a form decoder (WHATWG `application/x-www-form-urlencoded`)
/// reads back exactly.
pub fn percent_encode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let hex = |nibble: u8| HEX.get(usize::from(nibble & 0xf)).map_or('0', |&c| char::from(c));
    let mut out = String::with_capacity(input.len() * 3);
    for &byte in input {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex(byte >> 4));
            out.push(hex(byte));
        }
    }
    out
}

/// `text` without control characters (and without spaces where `space` is false): these come
/// from configuration, which is validated when compiled, but a CR or LF here would split the
/// request, so they are dropped rather than trusted.
fn clean(text: &str, space: bool) -> impl Iterator<Item = char> + '_ {
    text.chars().filter(move |&c| !c.is_control() && (space || c != ' '))
}

/// A complete HTTP/1.1 introspection request for `token` (RFC 7662 §2.1): `POST endpoint_path`,
/// `Host`, a form body `token=...&token_type_hint=access_token`, `Accept: application/json`,
/// `authorization` as the `Authorization` header when given (the gateway's own credentials, e.g.
/// `Basic ...`), and `Connection: keep-alive`.
pub fn request(
    endpoint_path: &str,
    host: &str,
    token: &str,
    authorization: Option<&str>,
) -> Vec<u8> {
    let body = format!("token={}&token_type_hint=access_token", percent_encode(token.as_bytes()));
    let mut head = String::with_capacity(256 + endpoint_path.len() + body.len());
    head.push_str("POST ");
    if endpoint_path.is_empty() {
        head.push('/');
    } else {
        head.extend(clean(endpoint_path, false));
    }
    head.push_str(" HTTP/1.1\r\nHost: ");
    head.extend(clean(host, false));
    head.push_str("\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    head.push_str("Accept: application/json\r\n");
    if let Some(authorization) = authorization {
        head.push_str("Authorization: ");
        head.extend(clean(authorization, true));
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    head.push_str("Connection: keep-alive\r\n\r\n");
    head.push_str(&body);
    head.into_bytes()
}

fn string_member(
    all: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, IntrospectionError> {
    match all.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(IntrospectionError::InvalidMember(name)),
    }
}

/// Reads the endpoint's answer: status 200 and a JSON object with a boolean `active`.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Introspected, IntrospectionError> {
    if status != 200 {
        return Err(IntrospectionError::Status(status));
    }
    if body.len() > MAX_BODY {
        return Err(IntrospectionError::TooLarge { len: body.len() });
    }
    let all = parse_object(body).map_err(|e| IntrospectionError::NotJson(e.to_string()))?;
    match all.get("active") {
        Some(Value::Bool(true)) => {}
        // RFC 7662 §2.2: for an inactive token nothing else is meaningful.
        Some(Value::Bool(false)) => return Ok(Introspected { claims: all, ..Default::default() }),
        _ => return Err(IntrospectionError::MissingActive),
    }
    let (client_id, username) =
        (string_member(&all, "client_id")?, string_member(&all, "username")?);
    let token_type = string_member(&all, "token_type")?;
    let claims = Claims::from_map(all).map_err(|e| match e {
        JoseError::InvalidClaims(name) => IntrospectionError::InvalidMember(name),
        _ => IntrospectionError::InvalidMember("claims"),
    })?;
    Ok(Introspected {
        active: true,
        scope: claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        client_id,
        username,
        sub: claims.sub,
        exp: claims.exp,
        iat: claims.iat,
        nbf: claims.nbf,
        token_type,
        aud: claims.aud,
        iss: claims.iss,
        jti: claims.jti,
        claims: claims.all,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode(b"AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent_encode(b"a b+c/d=e&f%"), "a%20b%2Bc%2Fd%3De%26f%25");
        assert_eq!(percent_encode("é\r\n\0\x7f".as_bytes()), "%C3%A9%0D%0A%00%7F");
        assert_eq!(percent_encode(b""), "");
    }

    #[test]
    fn builds_a_complete_request() {
        let req = request("/oauth2/introspect", "km.example:9443", "a+b/c=", Some("Basic YTpi"));
        let text = String::from_utf8(req).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, "token=a%2Bb%2Fc%3D&token_type_hint=access_token");
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "POST /oauth2/introspect HTTP/1.1",
                "Host: km.example:9443",
                "Content-Type: application/x-www-form-urlencoded",
                "Accept: application/json",
                "Authorization: Basic YTpi",
                &format!("Content-Length: {}", body.len()),
                "Connection: keep-alive",
            ]
        );
        let bare = String::from_utf8(request("", "h", "t", None)).unwrap();
        assert!(bare.starts_with("POST / HTTP/1.1\r\nHost: h\r\n"));
        assert!(!bare.contains("Authorization"));
    }

    #[test]
    fn configuration_cannot_split_the_request() {
        let req = request("/x\r\nEvil: 1", "h\r\nEvil: 2", "t", Some("Basic a\r\nEvil: 3"));
        let text = String::from_utf8(req).unwrap();
        assert!(!text.contains("\r\nEvil"));
        assert_eq!(text.matches("\r\n").count(), 8);
        assert!(text.starts_with("POST /xEvil:1 HTTP/1.1\r\n"));
    }

    #[test]
    fn active_token() {
        let body = br#"{"active":true,"scope":"read write  admin","client_id":"ck","username":"alice@carbon.super",
            "sub":"alice","exp":1700000600,"iat":1700000000,"nbf":1699999999.5,"token_type":"Bearer",
            "aud":"ck","iss":"https://km.example/oauth2/token","jti":"j1","x":{"y":[1]}}"#;
        let t = parse_response(200, body).unwrap();
        assert!(t.active);
        assert_eq!(t.scope, ["read", "write", "admin"]);
        assert_eq!(
            (t.client_id.as_deref(), t.username.as_deref()),
            (Some("ck"), Some("alice@carbon.super"))
        );
        assert_eq!((t.exp, t.iat, t.nbf), (Some(1700000600), Some(1700000000), Some(1699999999)));
        assert_eq!(
            (t.token_type.as_deref(), t.aud.as_slice()),
            (Some("Bearer"), &["ck".to_owned()][..])
        );
        assert_eq!(
            (t.iss.as_deref(), t.jti.as_deref(), t.sub.as_deref()),
            (Some("https://km.example/oauth2/token"), Some("j1"), Some("alice"))
        );
        assert_eq!(t.claims.len(), 13);
        let minimal =
            parse_response(200, br#"{"active":true,"aud":["a","b"],"scope":["x","y"]}"#).unwrap();
        assert_eq!(
            (minimal.aud, minimal.scope),
            (vec!["a".to_owned(), "b".to_owned()], vec!["x".to_owned(), "y".to_owned()])
        );
    }

    #[test]
    fn inactive_token() {
        let t = parse_response(200, br#"{"active":false,"exp":"garbage"}"#).unwrap();
        assert!(!t.active);
        assert_eq!(t.claims.len(), 2);
        assert_eq!(t.exp, None);
    }

    #[test]
    fn errors_say_which() {
        assert_eq!(parse_response(401, b"{}"), Err(IntrospectionError::Status(401)));
        assert_eq!(parse_response(500, b"{\"active\":true}"), Err(IntrospectionError::Status(500)));
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(
            parse_response(200, &big),
            Err(IntrospectionError::TooLarge { len: MAX_BODY + 1 })
        );
        for bad in [&b"<html>"[..], b"[]", b"", br#"{"active":true,"active":false}"#] {
            assert!(matches!(parse_response(200, bad), Err(IntrospectionError::NotJson(_))));
        }
        for bad in [&br#"{}"#[..], br#"{"active":"true"}"#, br#"{"active":1}"#] {
            assert_eq!(parse_response(200, bad), Err(IntrospectionError::MissingActive));
        }
        for (bad, name) in [
            (&br#"{"active":true,"exp":"x"}"#[..], "exp"),
            (br#"{"active":true,"client_id":1}"#, "client_id"),
            (br#"{"active":true,"aud":[1]}"#, "aud"),
            (br#"{"active":true,"scope":{}}"#, "scope"),
            (br#"{"active":true,"username":[]}"#, "username"),
        ] {
            assert_eq!(parse_response(200, bad), Err(IntrospectionError::InvalidMember(name)));
        }
    }
}
