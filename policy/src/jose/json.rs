//! A JSON parser that refuses duplicate member names in every object.
//!
//! `serde_json` keeps the last of duplicate members silently; RFC 7515 §5.2 lets a JWS parser
//! either refuse or take the last, and two parsers that disagree are an attack surface, so the
//! header, the claims and JWK sets are parsed with [`parse_object`] and duplicates are refused at
//! any depth. Nesting is bounded by `serde_json`'s recursion limit (128).

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

struct StrictValue(Value);

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<StrictValue, E> {
        Number::from_f64(v)
            .map(|n| StrictValue(Value::Number(n)))
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_none<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = access.next_element()? {
            items.push(item);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictValue, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(A::Error::custom(format_args!("duplicate member {key:?}")));
            }
            let StrictValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(StrictValue(Value::Object(map)))
    }
}

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

/// Why [`parse_object`] refused its input.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// Not JSON, or a duplicate member somewhere.
    Syntax(serde_json::Error),
    /// Valid JSON, but not an object.
    NotAnObject,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(e) => write!(f, "{e}"),
            Self::NotAnObject => f.write_str("not a JSON object"),
        }
    }
}

/// Parses `bytes` as one JSON object, refusing duplicate members at any depth.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(map))) => Ok(map),
        Ok(_) => Err(JsonError::NotAnObject),
        Err(e) => Err(JsonError::Syntax(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"alg":"HS256","alg":"none"}"#).is_err());
        assert!(parse_object(br#"{"keys":[{"kty":"RSA","kty":"oct"}]}"#).is_err());
        let map = parse_object(br#"{"a":1, "b":{"c":[2, 2.5, null, true, "x"]}}"#).unwrap();
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn refuses_non_objects() {
        assert!(matches!(parse_object(b"[]"), Err(JsonError::NotAnObject)));
        assert!(parse_object(b"\"x\"").is_err());
        assert!(parse_object(b"{} x").is_err());
        assert!(parse_object(b"").is_err());
        assert!(parse_object(b"{\"a\":\"\\ud800\"}").is_err());
    }
}
