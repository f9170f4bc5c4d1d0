//! RFC 7662 token introspection: the request the gateway sends (a form POST with the token) and
//! the answer it reads (`active`, `scope`, `client_id`, `username`, `sub`, `exp`, ...).
//!
//! Built and parsed here; sent by core as a policy callout.

use serde_json::{Map, Value};

/// Largest introspection answer accepted.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A parsed introspection answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Introspected {
    pub active: bool,
    pub scope: Vec<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub sub: Option<String>,
    pub exp: Option<u64>,
    pub iat: Option<u64>,
    pub nbf: Option<u64>,
    pub token_type: Option<String>,
    pub aud: Vec<String>,
    pub iss: Option<String>,
    pub jti: Option<String>,
    /// Every member of the answer.
    pub raw: Map<String, Value>,
}

/// Why an answer could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntrospectionError {
    /// The endpoint answered with a status other than 200.
    Status(u16),
    /// The body is larger than [`MAX_RESPONSE_BYTES`].
    TooLarge,
    /// The body is not a JSON object with a boolean `active`.
    Malformed,
}

/// A complete HTTP/1.1 request introspecting `token` (RFC 7662 §2.1).
pub fn request(path: &str, host: &str, token: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(token.len() + 40);
    body.extend_from_slice(b"token=");
    percent_encode_into(&mut body, token.as_bytes());
    body.extend_from_slice(b"&token_type_hint=access_token");
    let mut out = Vec::with_capacity(body.len() + 256);
    out.extend_from_slice(b"POST ");
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(
        b"\r\ncontent-type: application/x-www-form-urlencoded\r\naccept: application/json\r\n",
    );
    if let Some(auth) = authorization {
        out.extend_from_slice(b"authorization: ");
        out.extend_from_slice(auth.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(&body);
    out
}

/// `application/x-www-form-urlencoded` value encoding: unreserved bytes pass, others `%XX`.
fn percent_encode_into(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.push(b'%');
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

fn string(raw: &Map<String, Value>, name: &str) -> Option<String> {
    raw.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn seconds(raw: &Map<String, Value>, name: &str) -> Option<u64> {
    let n = raw.get(name)?.as_number()?;
    n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
}

/// Reads an introspection answer (RFC 7662 §2.2).
pub fn parse_response(status: u16, body: &[u8]) -> Result<Introspected, IntrospectionError> {
    if status != 200 {
        return Err(IntrospectionError::Status(status));
    }
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(IntrospectionError::TooLarge);
    }
    let Ok(Value::Object(raw)) = serde_json::from_slice::<Value>(body) else {
        return Err(IntrospectionError::Malformed);
    };
    let Some(active) = raw.get("active").and_then(Value::as_bool) else {
        return Err(IntrospectionError::Malformed);
    };
    let scope = match raw.get("scope") {
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let aud = match raw.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    Ok(Introspected {
        active,
        scope,
        client_id: string(&raw, "client_id"),
        username: string(&raw, "username"),
        sub: string(&raw, "sub"),
        exp: seconds(&raw, "exp"),
        iat: seconds(&raw, "iat"),
        nbf: seconds(&raw, "nbf"),
        token_type: string(&raw, "token_type"),
        aud,
        iss: string(&raw, "iss"),
        jti: string(&raw, "jti"),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_a_form_post() {
        let r = String::from_utf8(request("/introspect", "km:8080", "a b+/=", Some("Basic x")))
            .unwrap();
        assert!(r.starts_with("POST /introspect HTTP/1.1\r\nhost: km:8080\r\n"));
        assert!(r.contains("authorization: Basic x\r\n"));
        assert!(r.ends_with("\r\n\r\ntoken=a%20b%2B%2F%3D&token_type_hint=access_token"));
        let len = "token=a%20b%2B%2F%3D&token_type_hint=access_token".len();
        assert!(r.contains(&format!("content-length: {len}\r\n")));
    }

    #[test]
    fn answers_are_read() {
        let a = parse_response(
            200,
            br#"{"active":true,"scope":"read write","client_id":"c","exp":99,"username":"u"}"#,
        )
        .unwrap();
        assert!(a.active);
        assert_eq!(a.scope, ["read", "write"]);
        assert_eq!(a.client_id.as_deref(), Some("c"));
        assert_eq!(a.exp, Some(99));
        assert!(!parse_response(200, br#"{"active":false}"#).unwrap().active);
        assert_eq!(parse_response(500, b"{}"), Err(IntrospectionError::Status(500)));
        assert_eq!(parse_response(200, b"[]"), Err(IntrospectionError::Malformed));
        assert_eq!(parse_response(200, br#"{"active":"yes"}"#), Err(IntrospectionError::Malformed));
    }
}
