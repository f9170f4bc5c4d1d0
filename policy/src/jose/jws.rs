//! JWS compact serialization (RFC 7515 §7.1): `BASE64URL(header) "." BASE64URL(payload) "."
//! BASE64URL(signature)`, parsed without verifying anything.
//!
//! [`decode`] checks structure, strict base64url, the header JSON (an object, no duplicate
//! members), `alg` (never `none`), `crit` and the size limit. It does not look at keys or claims;
//! [`super::verify`] does. The JWS JSON serialization and JWE (five parts) are refused.

use serde_json::{Map, Value};

use super::alg::{Alg, AlgRefusal};
use super::b64;
use super::error::JoseError;
use super::json::parse_object;

/// Default limit on a whole token, in bytes (an `Authorization` header rarely carries more).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Header parameters registered by RFC 7515 §4.1 / RFC 7516 §4.1, which `crit` must not list
/// (RFC 7515 §4.1.11: "Producers MUST NOT include Header Parameter names defined by this
/// specification or [JWA] for use with JWS").
const REGISTERED: &[&str] = &[
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip",
];

/// The JOSE header of a JWS, with the parameters Turnpike acts on pulled out.
///
/// `jwk`, `jku`, `x5u` and `x5c` are never used to find a key: keys come only from the
/// configured [`super::KeySet`] (an attacker-embedded key must not verify its own token).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `alg`.
    pub alg: Alg,
    /// `kid`, if present.
    pub kid: Option<String>,
    /// `typ`, if present (not checked here).
    pub typ: Option<String>,
    /// `cty`, if present.
    pub cty: Option<String>,
    /// Every header parameter as parsed.
    pub params: Map<String, Value>,
}

/// A parsed, unverified compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    header: Header,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The decoded payload (unverified).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes the signature covers.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// Parses a compact JWS of at most [`MAX_TOKEN_LEN`] bytes.
pub fn decode(token: &str) -> Result<Jws<'_>, JoseError> {
    decode_with_limit(token, MAX_TOKEN_LEN)
}

/// Parses a compact JWS of at most `max_len` bytes.
pub fn decode_with_limit(token: &str, max_len: usize) -> Result<Jws<'_>, JoseError> {
    if token.len() > max_len {
        return Err(JoseError::TooLarge { len: token.len(), max: max_len });
    }
    if token.starts_with('{') {
        return Err(JoseError::UnsupportedSerialization("JWS JSON serialization"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(JoseError::Malformed("a compact JWS has three parts"));
    };
    match parts.count() {
        0 => {}
        2 => return Err(JoseError::UnsupportedSerialization("JWE (five parts) is not accepted")),
        _ => return Err(JoseError::Malformed("a compact JWS has three parts")),
    }
    if h64.is_empty() {
        return Err(JoseError::Malformed("empty header"));
    }
    let header_json =
        b64::decode(h64.as_bytes()).map_err(|_| JoseError::Malformed("header is not base64url"))?;
    let payload = b64::decode(p64.as_bytes())
        .map_err(|_| JoseError::Malformed("payload is not base64url"))?;
    let signature = b64::decode(s64.as_bytes())
        .map_err(|_| JoseError::Malformed("signature is not base64url"))?;
    // The header first, so `alg: none` is reported as such rather than as a missing signature.
    let header = parse_header(&header_json)?;
    if signature.is_empty() {
        return Err(JoseError::Malformed("empty signature"));
    }
    let signing_input = token
        .get(..h64.len() + 1 + p64.len())
        .ok_or(JoseError::Malformed("a compact JWS has three parts"))?;
    Ok(Jws { header, signing_input, payload, signature })
}

fn optional_string(params: &Map<String, Value>, name: &str) -> Result<Option<String>, JoseError> {
    match params.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JoseError::Malformed("a header parameter has the wrong type")),
    }
}

fn parse_header(json: &[u8]) -> Result<Header, JoseError> {
    let params =
        parse_object(json).map_err(|_| JoseError::Malformed("header is not a JSON object"))?;
    let alg = match params.get("alg") {
        Some(Value::String(name)) => match Alg::parse(name) {
            Ok(alg) => alg,
            Err(AlgRefusal::None) => return Err(JoseError::AlgNone),
            Err(AlgRefusal::Unsupported(reason)) => {
                return Err(JoseError::UnsupportedAlg { alg: name.clone(), reason })
            }
            Err(AlgRefusal::Unknown) => {
                let reason = "not a JWS signature algorithm Turnpike knows";
                return Err(JoseError::UnsupportedAlg { alg: name.clone(), reason });
            }
        },
        Some(_) => return Err(JoseError::Malformed("alg is not a string")),
        None => return Err(JoseError::Malformed("header has no alg")),
    };
    if params.contains_key("enc") {
        return Err(JoseError::UnsupportedSerialization("JWE header (enc) is not accepted"));
    }
    check_crit(&params)?;
    // RFC 7797: an unencoded payload changes the signing input; Turnpike does not support it.
    match params.get("b64") {
        None | Some(Value::Bool(true)) => {}
        Some(_) => return Err(JoseError::Malformed("b64 other than true is not supported")),
    }
    Ok(Header {
        alg,
        kid: optional_string(&params, "kid")?,
        typ: optional_string(&params, "typ")?,
        cty: optional_string(&params, "cty")?,
        params,
    })
}

/// RFC 7515 §4.1.11: `crit` is a non-empty array of unique names, none registered, each present
/// in the header; a name the recipient does not understand makes the JWS invalid. Turnpike
/// understands no extension, so any well-formed `crit` is refused with its first name.
fn check_crit(params: &Map<String, Value>) -> Result<(), JoseError> {
    let Some(crit) = params.get("crit") else {
        return Ok(());
    };
    let Value::Array(names) = crit else {
        return Err(JoseError::Malformed("crit is not an array"));
    };
    if names.is_empty() {
        return Err(JoseError::Malformed("crit is empty"));
    }
    let mut seen: Vec<&str> = Vec::with_capacity(names.len());
    for name in names {
        let Value::String(name) = name else {
            return Err(JoseError::Malformed("crit lists a non-string"));
        };
        if REGISTERED.contains(&name.as_str()) {
            return Err(JoseError::Malformed("crit lists a registered header parameter"));
        }
        if seen.contains(&name.as_str()) {
            return Err(JoseError::Malformed("crit lists a name twice"));
        }
        if !params.contains_key(name) {
            return Err(JoseError::Malformed("crit lists a parameter absent from the header"));
        }
        seen.push(name);
    }
    match seen.first() {
        Some(first) => Err(JoseError::UnknownCritical((*first).to_owned())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, payload: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(payload.as_bytes()),
            b64::encode(sig)
        )
    }

    #[test]
    fn parses_compact() {
        let t = token(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, "{}", b"sig");
        let jws = decode(&t).unwrap();
        assert_eq!(jws.header().alg, Alg::RS256);
        assert_eq!(jws.header().kid.as_deref(), Some("k1"));
        assert_eq!(jws.header().typ.as_deref(), Some("JWT"));
        assert_eq!(jws.payload(), b"{}");
        assert_eq!(jws.signature(), b"sig");
        assert_eq!(jws.signing_input(), t.rsplit_once('.').unwrap().0);
    }

    #[test]
    fn structure() {
        let t = token(r#"{"alg":"HS256"}"#, "{}", b"s");
        assert!(matches!(decode(""), Err(JoseError::Malformed(_))));
        assert!(matches!(decode(&format!("{t}.")), Err(JoseError::Malformed(_))));
        assert!(matches!(decode("a.b"), Err(JoseError::Malformed(_))));
        assert!(matches!(decode("a.b.c.d.e"), Err(JoseError::UnsupportedSerialization(_))));
        assert!(matches!(decode("{\"payload\":1}"), Err(JoseError::UnsupportedSerialization(_))));
        let unsigned = token(r#"{"alg":"HS256"}"#, "{}", b"");
        assert_eq!(decode(&unsigned).unwrap_err(), JoseError::Malformed("empty signature"));
    }

    #[test]
    fn size_limit() {
        let t = token(r#"{"alg":"HS256"}"#, &"x".repeat(20_000), b"s");
        assert!(matches!(decode(&t), Err(JoseError::TooLarge { .. })));
        assert!(decode_with_limit(&t, 64 * 1024).is_ok());
    }

    #[test]
    fn alg_none_and_unsupported() {
        let t = token(r#"{"alg":"none"}"#, "{}", b"s");
        assert_eq!(decode(&t).unwrap_err(), JoseError::AlgNone);
        let t = token(r#"{"alg":"nOnE"}"#, "{}", b"s");
        assert_eq!(decode(&t).unwrap_err(), JoseError::AlgNone);
        let t = token(r#"{"alg":"ES512"}"#, "{}", b"s");
        assert!(matches!(decode(&t), Err(JoseError::UnsupportedAlg { .. })));
        let t = token(r#"{"kid":"x"}"#, "{}", b"s");
        assert!(matches!(decode(&t), Err(JoseError::Malformed(_))));
        let t = token(r#"{"alg":256}"#, "{}", b"s");
        assert!(matches!(decode(&t), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn duplicate_header_members_refused() {
        let t = token(r#"{"alg":"HS256","alg":"RS256"}"#, "{}", b"s");
        assert!(matches!(decode(&t), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn crit() {
        let t = token(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#, "{}", b"s");
        assert_eq!(decode(&t).unwrap_err(), JoseError::UnknownCritical("exp".into()));
        for bad in [
            r#"{"alg":"HS256","crit":[]}"#,
            r#"{"alg":"HS256","crit":"exp","exp":1}"#,
            r#"{"alg":"HS256","crit":["kid"],"kid":"a"}"#,
            r#"{"alg":"HS256","crit":["x"]}"#,
            r#"{"alg":"HS256","crit":["x","x"],"x":1}"#,
        ] {
            assert!(
                matches!(decode(&token(bad, "{}", b"s")), Err(JoseError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn b64_false_refused() {
        let t = token(r#"{"alg":"HS256","b64":false}"#, "{}", b"s");
        assert!(matches!(decode(&t), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn wrong_typed_kid_refused() {
        let t = token(r#"{"alg":"HS256","kid":7}"#, "{}", b"s");
        assert!(matches!(decode(&t), Err(JoseError::Malformed(_))));
    }
}
