//! JSON pointers (RFC 6901) that say where in a file a value came from.
//!
//! Where it sits: every walker in the adapter (`config`, `openapi`) carries a [`Pointer`] down
//! the tree as it descends, so that each `Invalid*` error and each [`crate::Warning`] can name the
//! exact key, e.g. `/paths/~1pets~1{id}/get/x-wso2-production-endpoints/urls/0`.
//!
//! This module only builds and escapes pointer strings; it never resolves a pointer against a
//! document (the endpoint-reference resolver in `openapi::endpoints` does its own lookup).

use std::borrow::Cow;
use std::fmt;

/// A JSON pointer to a value inside a document; the empty pointer is the whole document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer to the whole document (`""`).
    pub fn root() -> Self {
        Self(String::new())
    }

    /// The pointer to member `key` of the object this pointer designates.
    pub fn key(&self, key: &str) -> Self {
        let escaped = escape(key);
        let mut out = String::with_capacity(self.0.len() + 1 + escaped.len());
        out.push_str(&self.0);
        out.push('/');
        out.push_str(&escaped);
        Self(out)
    }

    /// The pointer to element `index` of the array this pointer designates.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}/{index}", self.0))
    }

    /// The pointer as text (`""` for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Pointer> for String {
    fn from(pointer: Pointer) -> Self {
        pointer.0
    }
}

/// Escapes one reference token: `~` becomes `~0` and `/` becomes `~1` (RFC 6901 §3).
pub fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Reverses [`escape`]: `~1` becomes `/` and `~0` becomes `~` (in that order, per RFC 6901 §4).
pub fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Name of a JSON value's type, for error messages ("expected a string, found a list").
pub fn value_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_escaped_pointers() {
        let p = Pointer::root().key("paths").key("/pets/{id}").key("get").index(0);
        assert_eq!(p.as_str(), "/paths/~1pets~1{id}/get/0");
        assert_eq!(Pointer::root().key("a~b").as_str(), "/a~0b");
        assert_eq!(Pointer::root().as_str(), "");
        assert_eq!(Pointer::root().key("").as_str(), "/");
    }

    #[test]
    fn unescape_reverses_escape() {
        for token in ["plain", "/a/b", "~", "~1", "a~/b"] {
            assert_eq!(unescape(&escape(token)), token);
        }
    }
}
