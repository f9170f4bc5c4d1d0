//! Request bodies of the admin API's security endpoints, parsed and validated before anything is
//! changed: an application, a subscription, one revocation or a list of them. Errors are
//! sentences starting with the JSON pointer of the field at fault (`/consumer_keys/0/key: must
//! not be empty`), or serde's own description, which names the field (``missing field `jti` ``).
//!
//! Where it sits: called by [`super::security_routes`] on the admin connection threads; the
//! formats are the subscriptions file's (see `turnpike_policy::auth::subscriptions`), with
//! WSO2's `uuid` accepted for `id`. No I/O, no knowledge of the current table (unknown
//! applications and conflicts are found by the deploy manager).

use serde::de::DeserializeOwned;
use serde_json::Value;
use turnpike_policy::auth::{Application, Subscription};

use crate::security::Revocation;

/// Longest id, name, key or tier accepted, in bytes.
pub const MAX_FIELD_LEN: usize = 256;

/// Most revocations in one request.
pub const MAX_REVOCATIONS: usize = 10_000;

/// Why a body was refused (rendered as a 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError(pub String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, BodyError> {
    if body.is_empty() {
        return Err(BodyError(format!("empty body: expected {what} as JSON")));
    }
    serde_json::from_slice(body).map_err(|e| BodyError(format!("{what}: {e}")))
}

/// A required text field: non-empty, bounded, no control characters.
fn text(pointer: &str, value: &str) -> Result<(), BodyError> {
    let why = if value.trim().is_empty() {
        "must not be empty".to_owned()
    } else if value.len() > MAX_FIELD_LEN {
        format!("longer than {MAX_FIELD_LEN} bytes")
    } else if value.chars().any(char::is_control) {
        "must not contain control characters".to_owned()
    } else {
        return Ok(());
    };
    Err(BodyError(format!("{pointer}: {why}")))
}

/// `POST /applications`: an application with its consumer keys.
///
/// # Errors
/// Bad JSON, a missing or unknown field, an empty or oversized value, a key listed twice.
pub fn application(body: &[u8]) -> Result<Application, BodyError> {
    let app: Application = json(body, "an application")?;
    text("/id", &app.id)?;
    text("/name", &app.name)?;
    text("/tier", &app.tier)?;
    if !app.owner.is_empty() {
        text("/owner", &app.owner)?;
    }
    for (i, key) in app.consumer_keys.iter().enumerate() {
        text(&format!("/consumer_keys/{i}/key"), &key.key)?;
        if app.consumer_keys.iter().take(i).any(|k| k.key == key.key) {
            return Err(BodyError(format!("/consumer_keys/{i}/key: listed twice")));
        }
    }
    Ok(app)
}

/// `POST /subscriptions`: a subscription (its `id` may be left out).
///
/// # Errors
/// Bad JSON, a missing or unknown field, an unknown state, an empty or oversized value.
pub fn subscription(body: &[u8]) -> Result<Subscription, BodyError> {
    let sub: Subscription = json(body, "a subscription")?;
    if !sub.id.is_empty() {
        text("/id", &sub.id)?;
    }
    text("/application", &sub.application)?;
    text("/api_name", &sub.api_name)?;
    text("/api_version", &sub.api_version)?;
    text("/tier", &sub.tier)?;
    Ok(sub)
}

/// `POST /revocations`: `{"jti", "expires_at"}` or a non-empty array of them.
///
/// # Errors
/// Bad JSON, a missing or unknown field, a negative or fractional `expires_at`, an invalid
/// `jti`, an empty or oversized list.
pub fn revocations(body: &[u8]) -> Result<Vec<Revocation>, BodyError> {
    let what = "a revocation {\"jti\", \"expires_at\"} or an array of them";
    let value: Value = json(body, what)?;
    let (list, array) = match value {
        Value::Array(items) => (items, true),
        one @ Value::Object(_) => (vec![one], false),
        _ => return Err(BodyError(format!("expected {what}"))),
    };
    if list.is_empty() {
        return Err(BodyError("empty array: nothing to revoke".to_owned()));
    }
    if list.len() > MAX_REVOCATIONS {
        return Err(BodyError(format!("more than {MAX_REVOCATIONS} revocations in one request")));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.into_iter().enumerate() {
        let at = if array { format!("/{i}") } else { String::new() };
        let revocation: Revocation =
            serde_json::from_value(item).map_err(|e| BodyError(format!("{at}: {e}")))?;
        revocation.validate().map_err(|why| BodyError(format!("{at}/jti: {why}")))?;
        out.push(revocation);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use turnpike_policy::auth::SubscriptionState;
    use turnpike_policy::KeyType;

    fn err<T: std::fmt::Debug>(r: Result<T, BodyError>) -> String {
        r.unwrap_err().0
    }

    #[test]
    fn applications() {
        let app = application(
            br#"{"uuid":"a1","name":"shop","consumer_keys":[{"key":"ck","key_type":"sandbox"}]}"#,
        )
        .unwrap();
        assert_eq!(app.id, "a1");
        assert_eq!(app.tier, "Unlimited");
        assert_eq!(app.consumer_keys[0].key_type, KeyType::Sandbox);

        assert!(err(application(b"")).starts_with("empty body"));
        assert!(err(application(b"{")).starts_with("an application: EOF"));
        assert!(err(application(br#"{"id":"a"}"#)).contains("missing field `name`"));
        assert!(err(application(br#"{"id":"a","name":"n","x":1}"#)).contains("unknown field `x`"));
        assert_eq!(err(application(br#"{"id":" ","name":"n"}"#)), "/id: must not be empty");
        let long = format!(r#"{{"id":"{}","name":"n"}}"#, "i".repeat(MAX_FIELD_LEN + 1));
        assert!(err(application(long.as_bytes())).starts_with("/id: longer than"));
        assert_eq!(
            err(application(br#"{"id":"a","name":"n","consumer_keys":[{"key":""}]}"#)),
            "/consumer_keys/0/key: must not be empty"
        );
        assert_eq!(
            err(application(br#"{"id":"a","name":"n","consumer_keys":[{"key":"k"},{"key":"k"}]}"#)),
            "/consumer_keys/1/key: listed twice"
        );
        assert!(err(application(
            br#"{"id":"a","name":"n","consumer_keys":[{"key":"k","key_type":"TEST"}]}"#
        ))
        .contains("PRODUCTION or SANDBOX"));
    }

    #[test]
    fn subscriptions() {
        let sub = subscription(
            br#"{"application":"a1","api_name":"Pets","api_version":"1.0","state":"UNBLOCKED"}"#,
        )
        .unwrap();
        assert_eq!((sub.id.as_str(), sub.state), ("", SubscriptionState::Active));
        let sub = subscription(
            br#"{"uuid":"s","application":"a","api_name":"P","api_version":"1","state":"ON_HOLD"}"#,
        )
        .unwrap();
        assert_eq!((sub.id.as_str(), sub.state), ("s", SubscriptionState::OnHold));
        assert!(err(subscription(br#"{"application":"a","api_name":"P"}"#))
            .contains("missing field `api_version`"));
        assert!(err(subscription(
            br#"{"application":"a","api_name":"P","api_version":"1","state":"PAUSED"}"#
        ))
        .contains("unknown variant `PAUSED`"));
        assert_eq!(
            err(subscription(br#"{"application":"","api_name":"P","api_version":"1"}"#)),
            "/application: must not be empty"
        );
    }

    #[test]
    fn revocation_lists() {
        let one = revocations(br#"{"jti":"j1","expires_at":10}"#).unwrap();
        assert_eq!(one, [Revocation { jti: "j1".into(), expires_at: 10 }]);
        let many = revocations(br#"[{"jti":"a","expires_at":1},{"jti":"b","expiresAt":2}]"#);
        assert_eq!(many.unwrap().len(), 2);

        assert!(err(revocations(br#"{"expires_at":1}"#)).contains("missing field `jti`"));
        assert!(err(revocations(br#"[{"jti":"a","expires_at":1},{"jti":"b"}]"#))
            .starts_with("/1: missing field `expires_at`"));
        assert!(err(revocations(br#"{"jti":"a","expires_at":-5}"#)).contains("invalid value"));
        assert!(err(revocations(br#"{"jti":"a","expires_at":1.5}"#)).contains("invalid type"));
        assert_eq!(
            err(revocations(br#"[{"jti":"","expires_at":1}]"#)),
            "/0/jti: must not be empty"
        );
        assert_eq!(err(revocations(b"[]")), "empty array: nothing to revoke");
        assert!(err(revocations(b"\"j\"")).starts_with("expected a revocation"));
        assert!(err(revocations(b"garbage")).contains("expected value"));
    }
}
