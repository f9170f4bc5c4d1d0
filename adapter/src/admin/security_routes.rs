//! Handlers of the admin API's security endpoints, under `/api/turnpike/v1`:
//!
//! - `GET /applications` → `{"total","count","list":[application + "source"]}`;
//!   `POST /applications` (an application, replaced by `id`/`uuid`) → 201 created / 200 replaced
//!   `{"action","snapshotVersion","application"}`; `DELETE /applications?uuid=` (or `id=`) also
//!   deletes the application's subscriptions (as WSO2 does) and names them in
//!   `removedSubscriptions`.
//! - `GET /subscriptions[?application=&apiName=&apiVersion=&state=]`, `POST /subscriptions`
//!   (replaced by `id`/`uuid`, or by `<application>:<api_name>:<api_version>` without one),
//!   `DELETE /subscriptions?uuid=`.
//! - `GET /revocations` → the revocations not yet expired, `{"list":[{"jti","expires_at"}]}`;
//!   `POST /revocations` (`{"jti","expires_at"}` or an array) → 200 once every core serves them.
//!
//! Errors are the admin API's error object: 400 for a body or parameter at fault (the
//! description starts with the field's JSON pointer) and for a subscription naming an unknown
//! application, 404 for an unknown id, 409 for a conflicting consumer key or a second
//! subscription of one application to one API, 503 when not every core acknowledged the change
//! in time (it is made nonetheless), 501 when the gateway does not manage security.
//!
//! Where it sits: [`super::routes::handle`] authenticates and dispatches here; bodies are parsed by
//! [`super::security_body`]; changes go through [`SecurityAdmin`] (the deploy manager).

use serde_json::{json, Value};
use turnpike_http::h1::Method;

use super::routes::{error, Response};
use super::security_body::{self, BodyError};
use super::server::{Request, Shared};
use crate::deploy::{Listed, SecurityAdmin, SecurityChange, SecurityError};

/// The three collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Applications,
    Subscriptions,
    Revocations,
}

impl Collection {
    /// The collection at `rest` (the path after the Turnpike base).
    pub fn find(rest: &str) -> Option<Self> {
        match rest {
            "/applications" => Some(Self::Applications),
            "/subscriptions" => Some(Self::Subscriptions),
            "/revocations" => Some(Self::Revocations),
            _ => None,
        }
    }

    /// Methods each answers.
    pub fn methods(self) -> &'static [Method] {
        match self {
            Self::Applications | Self::Subscriptions => {
                &[Method::Get, Method::Post, Method::Delete]
            }
            Self::Revocations => &[Method::Get, Method::Post],
        }
    }
}

/// Answers an authenticated request to `collection`.
pub fn handle(collection: Collection, request: &Request, shared: &Shared, user: &str) -> Response {
    let Some(admin) = shared.deployments.security() else {
        return error(
            501,
            "Not Implemented",
            "this gateway does not manage applications, subscriptions or revocations",
        );
    };
    match (collection, request.method) {
        (Collection::Applications, Method::Get) => list(admin.applications(), |_| true),
        (Collection::Applications, Method::Post) => put_application(request, admin, user),
        (Collection::Applications, _) => {
            delete(request, user, "application", |id| admin.delete_application(id))
        }
        (Collection::Subscriptions, Method::Get) => subscriptions(request, admin),
        (Collection::Subscriptions, Method::Post) => put_subscription(request, admin, user),
        (Collection::Subscriptions, _) => {
            delete(request, user, "subscription", |id| admin.delete_subscription(id))
        }
        (Collection::Revocations, Method::Get) => {
            let list: Vec<Value> = admin
                .revocations()
                .iter()
                .map(|r| json!({ "jti": r.jti, "expires_at": r.expires_at }))
                .collect();
            Response::json(200, &json!({ "total": list.len(), "count": list.len(), "list": list }))
        }
        (Collection::Revocations, _) => revoke(request, admin, user),
    }
}

fn bad_body(e: &BodyError) -> Response {
    error(400, "Bad Request", &e.0)
}

fn refused(e: &SecurityError) -> Response {
    let message = match e {
        SecurityError::Invalid { .. } | SecurityError::UnknownApplication(_) => "Bad Request",
        SecurityError::NotFound { .. } => "Not Found",
        SecurityError::Conflict(_) => "Conflict",
        SecurityError::NotAcknowledged { .. } => "Service Unavailable",
        SecurityError::Internal(_) => "Internal Server Error",
    };
    error(e.status(), message, &e.to_string())
}

/// `{"total","count","list"}` of the items `keep` accepts, each with its `source`.
fn list<T: serde::Serialize>(items: Vec<Listed<T>>, keep: impl Fn(&T) -> bool) -> Response {
    let list: Vec<Value> = items
        .into_iter()
        .filter(|l| keep(&l.item))
        .map(|l| {
            let mut v = serde_json::to_value(&l.item).unwrap_or(Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("source".into(), Value::String(l.source.as_str().to_owned()));
            }
            v
        })
        .collect();
    Response::json(200, &json!({ "total": list.len(), "count": list.len(), "list": list }))
}

fn subscriptions(request: &Request, admin: &dyn SecurityAdmin) -> Response {
    let filter = |name: &str| request.param(name).filter(|v| !v.is_empty());
    let state = match filter("state") {
        None => None,
        Some(text) => match serde_json::from_value(Value::String(text.to_ascii_uppercase())) {
            Ok(state) => Some(state),
            Err(e) => return error(400, "Bad Request", &format!("state: {e}")),
        },
    };
    let (application, name, version) =
        (filter("application"), filter("apiName"), filter("apiVersion"));
    list(admin.subscriptions(), |s| {
        application.is_none_or(|a| s.application == a)
            && name.is_none_or(|n| s.api_name == n)
            && version.is_none_or(|v| s.api_version == v)
            && state.is_none_or(|st| s.state == st)
    })
}

fn changed(change: &SecurityChange, item_name: &str, item: Value) -> Response {
    let (status, action) = if change.created { (201, "CREATED") } else { (200, "UPDATED") };
    Response::json(
        status,
        &json!({ "action": action, "snapshotVersion": change.snapshot_version, item_name: item }),
    )
}

fn put_application(request: &Request, admin: &dyn SecurityAdmin, user: &str) -> Response {
    let app = match security_body::application(&request.body) {
        Ok(app) => app,
        Err(e) => return bad_body(&e),
    };
    let item = serde_json::to_value(&app).unwrap_or(Value::Null);
    let id = app.id.clone();
    match admin.put_application(app) {
        Ok(change) => {
            tracing::info!(user, application = %id, snapshot = change.snapshot_version,
                "admin API: application saved");
            changed(&change, "application", item)
        }
        Err(e) => refused(&e),
    }
}

fn put_subscription(request: &Request, admin: &dyn SecurityAdmin, user: &str) -> Response {
    let sub = match security_body::subscription(&request.body) {
        Ok(sub) => crate::security::overlay::with_id(sub),
        Err(e) => return bad_body(&e),
    };
    let item = serde_json::to_value(&sub).unwrap_or(Value::Null);
    let id = sub.id.clone();
    match admin.put_subscription(sub) {
        Ok(change) => {
            tracing::info!(user, subscription = %id, snapshot = change.snapshot_version,
                "admin API: subscription saved");
            changed(&change, "subscription", item)
        }
        Err(e) => refused(&e),
    }
}

fn delete(
    request: &Request,
    user: &str,
    kind: &str,
    remove: impl FnOnce(&str) -> Result<SecurityChange, SecurityError>,
) -> Response {
    let Some(id) = request.param("uuid").or_else(|| request.param("id")).filter(|v| !v.is_empty())
    else {
        return error(400, "Bad Request", "the uuid query parameter is required");
    };
    match remove(id) {
        Ok(change) => {
            tracing::info!(
                user,
                kind,
                id,
                snapshot = change.snapshot_version,
                "admin API: deleted"
            );
            Response::json(
                200,
                &json!({
                    "action": "DELETED",
                    "snapshotVersion": change.snapshot_version,
                    "id": id,
                    "removedSubscriptions": change.removed_subscriptions,
                }),
            )
        }
        Err(e) => refused(&e),
    }
}

fn revoke(request: &Request, admin: &dyn SecurityAdmin, user: &str) -> Response {
    let revocations = match security_body::revocations(&request.body) {
        Ok(list) => list,
        Err(e) => return bad_body(&e),
    };
    let count = revocations.len();
    match admin.revoke(revocations) {
        Ok(change) => {
            tracing::info!(
                user,
                count,
                snapshot = change.snapshot_version,
                "admin API: tokens revoked"
            );
            Response::json(
                200,
                &json!({
                    "action": "REVOKED",
                    "snapshotVersion": change.snapshot_version,
                    "revoked": count,
                }),
            )
        }
        Err(e) => refused(&e),
    }
}
