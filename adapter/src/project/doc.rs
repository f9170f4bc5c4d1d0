//! A small walker over one project file (`api.yaml`, `deployment_environments.yaml`): typed reads
//! that fail with [`LoadError::InvalidDefinition`] naming the file and JSON pointer, and warnings.
//!
//! Where it sits: used by `api_yaml`, `policies` and `environments`; the OpenAPI document has its
//! own walker in [`crate::openapi`].

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::error::{LoadError, Warning};
use crate::pointer::Pointer;

/// One project file being read, and what was noticed in it.
pub(super) struct Doc<'w> {
    pub(super) file: PathBuf,
    pub(super) warnings: &'w mut Vec<Warning>,
}

impl Doc<'_> {
    pub(super) fn invalid(&self, pointer: &Pointer, reason: impl Into<String>) -> LoadError {
        LoadError::InvalidDefinition {
            file: self.file.clone(),
            pointer: pointer.to_string(),
            reason: reason.into(),
        }
    }

    pub(super) fn warn(&mut self, pointer: &Pointer, message: impl Into<String>) {
        self.warnings.push(Warning {
            file: self.file.clone(),
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    pub(super) fn object<'v>(
        &self,
        value: &'v Value,
        p: &Pointer,
    ) -> Result<&'v Map<String, Value>, LoadError> {
        value
            .as_object()
            .ok_or_else(|| self.invalid(p, format!("expected an object, found {}", kind(value))))
    }

    /// A string; numbers and booleans are taken as written (YAML reads `1.0` as a number).
    pub(super) fn text(&self, value: &Value, p: &Pointer) -> Result<String, LoadError> {
        match value {
            Value::String(s) => Ok(s.trim().to_owned()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(self.invalid(p, format!("expected a string, found {}", kind(other)))),
        }
    }

    /// A required, non-empty string member of `map`.
    pub(super) fn required(
        &self,
        map: &Map<String, Value>,
        key: &str,
        p: &Pointer,
        what: &str,
    ) -> Result<String, LoadError> {
        let at = p.key(key);
        match map.get(key) {
            None | Some(Value::Null) => Err(self.invalid(&at, format!("missing: {what}"))),
            Some(v) => {
                let text = self.text(v, &at)?;
                if text.is_empty() {
                    Err(self.invalid(&at, format!("empty: {what}")))
                } else {
                    Ok(text)
                }
            }
        }
    }

    /// An optional string member (`None` when absent or null).
    pub(super) fn optional(
        &self,
        map: &Map<String, Value>,
        key: &str,
        p: &Pointer,
    ) -> Result<Option<String>, LoadError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.text(v, &p.key(key)).map(Some),
        }
    }

    /// A boolean member, also written as `"true"` / `"false"`; `default` when absent.
    pub(super) fn flag(
        &self,
        map: &Map<String, Value>,
        key: &str,
        p: &Pointer,
        default: bool,
    ) -> Result<bool, LoadError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => {
                Err(self
                    .invalid(&p.key(key), format!("expected true or false, found {}", kind(other))))
            }
        }
    }

    /// A list member (`[]` when absent or null).
    pub(super) fn list<'v>(
        &self,
        map: &'v Map<String, Value>,
        key: &str,
        p: &Pointer,
    ) -> Result<&'v [Value], LoadError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(self.invalid(&p.key(key), format!("expected a list, found {}", kind(other))))
            }
        }
    }
}

/// Whether a value says something (not null, not an empty list, map or string, not `false`).
pub(super) fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

pub(super) use crate::pointer::value_kind as kind;
