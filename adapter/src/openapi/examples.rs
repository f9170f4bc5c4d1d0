//! Mock responses of an operation, built from the examples its OpenAPI document gives (WSO2
//! prototyped APIs and `MOCKED_OAS` / `INLINE` implementations, served without a backend).
//!
//! Where it sits: `document` calls [`mock_responses`] for each operation of a mocked API; the
//! result becomes the route's `RouteAction::Mock` in [`crate::compile`], and core's `mock` module
//! picks one per request (`Prefer: code=NNN`, `Accept`).
//!
//! Where examples are read from, as Choreo Connect's mock implementation reads them:
//! - OpenAPI 3: `responses.<code>.content.<media>.example`, else the first of
//!   `examples.<name>.value`, else `schema.example`; header examples from
//!   `headers.<name>.example` or `headers.<name>.schema.example`.
//! - Swagger 2: `responses.<code>.examples.<media>`, else `schema.example` (served as the first
//!   `produces` type, or `application/json`).
//!
//! Local `$ref`s (`#/components/...`, `#/responses/...`) are followed. JSON values are serialised
//! with `serde_json`; strings are served as written. The default response (first in the list) is
//! the lowest 2xx status; the others follow in status order. A response without content (e.g. 204)
//! is a bodiless example. An operation without any example is warned about (core answers 501).

use serde_json::{Map, Value};
use turnpike_core::{MockResponse, MockResponses};

use super::document::{Dialect, Walker};
use crate::pointer::Pointer;

/// Most `$ref` hops followed before giving up (guards against cycles).
const MAX_REF_HOPS: usize = 8;

/// The example responses of one operation (`op`, at `p`), default first.
pub(super) fn mock_responses(
    w: &mut Walker<'_>,
    op: &Map<String, Value>,
    p: &Pointer,
) -> MockResponses {
    let mut found: Vec<MockResponse> = Vec::new();
    let responses = op.get("responses").and_then(|r| resolve(w.root, r)).and_then(Value::as_object);
    for (code, response) in responses.into_iter().flatten() {
        let Some(status) = code.parse::<u16>().ok().filter(|s| (100..=599).contains(s)) else {
            continue; // `default` and `2XX` ranges name no concrete status.
        };
        let Some(response) = resolve(w.root, response).and_then(Value::as_object) else {
            continue;
        };
        let headers = header_examples(w.root, response);
        let before = found.len();
        match w.dialect {
            Dialect::OpenApi3 => openapi3(w.root, status, response, &headers, &mut found),
            Dialect::Swagger2 => {
                swagger2(w.root, op, status, response, &headers, &mut found);
            }
        }
        let has_content = match w.dialect {
            Dialect::OpenApi3 => {
                response.get("content").and_then(Value::as_object).is_some_and(|c| !c.is_empty())
            }
            Dialect::Swagger2 => {
                response.contains_key("schema") || response.contains_key("examples")
            }
        };
        if found.len() == before && !has_content {
            found.push(MockResponse {
                status,
                content_type: String::new(),
                body: Vec::new(),
                headers: headers.clone(),
            });
        }
    }
    // Lowest 2xx first (the default), then every other status in order; stable within a status.
    found.sort_by_key(|m| (!(200..300).contains(&m.status), m.status));
    if found.is_empty() {
        w.warn(
            &p.key("responses"),
            "mocked API: no response example for this operation; it answers 501",
        );
    }
    MockResponses { responses: found }
}

fn openapi3(
    root: &Value,
    status: u16,
    response: &Map<String, Value>,
    headers: &[(String, String)],
    out: &mut Vec<MockResponse>,
) {
    let content = response.get("content").and_then(Value::as_object);
    for (media, entry) in content.into_iter().flatten() {
        let Some(entry) = resolve(root, entry).and_then(Value::as_object) else { continue };
        let example = entry
            .get("example")
            .or_else(|| {
                let examples = entry.get("examples").and_then(Value::as_object)?;
                examples.values().find_map(|e| resolve(root, e)?.get("value"))
            })
            .or_else(|| resolve(root, entry.get("schema")?)?.get("example"));
        if let Some(example) = example {
            out.push(mock(status, media, example, headers));
        }
    }
}

fn swagger2(
    root: &Value,
    op: &Map<String, Value>,
    status: u16,
    response: &Map<String, Value>,
    headers: &[(String, String)],
    out: &mut Vec<MockResponse>,
) {
    let before = out.len();
    let examples = response.get("examples").and_then(Value::as_object);
    for (media, example) in examples.into_iter().flatten() {
        out.push(mock(status, media, example, headers));
    }
    if out.len() > before {
        return;
    }
    let schema_example =
        response.get("schema").and_then(|s| resolve(root, s)).and_then(|s| s.get("example"));
    if let Some(example) = schema_example {
        let produces = op.get("produces").or_else(|| root.get("produces"));
        let media =
            produces.and_then(|p| p.get(0)).and_then(Value::as_str).unwrap_or("application/json");
        out.push(mock(status, media, example, headers));
    }
}

/// Header examples of a response (names in lower case; `content-type` is the media type's).
fn header_examples(root: &Value, response: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let headers = response.get("headers").and_then(Value::as_object);
    for (name, header) in headers.into_iter().flatten() {
        if name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let Some(header) = resolve(root, header) else { continue };
        let example = header
            .get("example")
            .or_else(|| header.get("x-example"))
            .or_else(|| resolve(root, header.get("schema")?)?.get("example"));
        if let Some(example) = example {
            out.push((name.to_ascii_lowercase(), text(example)));
        }
    }
    out
}

fn mock(status: u16, media: &str, example: &Value, headers: &[(String, String)]) -> MockResponse {
    MockResponse {
        status,
        content_type: media.to_owned(),
        body: text(example).into_bytes(),
        headers: headers.to_vec(),
    }
}

/// A string as written; anything else as compact JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Follows local `$ref`s (`{ $ref: "#/components/..." }`); `None` for a dangling one.
fn resolve<'v>(root: &'v Value, mut value: &'v Value) -> Option<&'v Value> {
    for _ in 0..MAX_REF_HOPS {
        match value.get("$ref").and_then(Value::as_str) {
            Some(target) => value = root.pointer(target.strip_prefix('#')?)?,
            None => return Some(value),
        }
    }
    None
}
