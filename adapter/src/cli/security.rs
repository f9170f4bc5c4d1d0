//! The client commands for the security tables a running gateway keeps: `turnpike revoke`,
//! `turnpike revocations list`, `turnpike applications list`, `turnpike subscriptions list`.
//!
//! Where it sits: beside the deploy commands in [`super`]; they call the admin API's
//! `/api/turnpike/v1/{revocations,applications,subscriptions}` through [`super::client`] and
//! print what it answers. Creating applications and subscriptions takes a JSON body: use the
//! admin API directly (curl) for those.

use serde_json::{json, Value};

use super::{check, print_json, AdminArgs, Failure};

/// Path prefix of Turnpike's own admin resources.
pub const TURNPIKE_PREFIX: &str = "/api/turnpike/v1";

/// `turnpike revoke --jti J --expires-at T`.
pub fn revoke(jti: &str, expires_at: u64, admin: &AdminArgs) -> Result<(), Failure> {
    let target = admin.target()?;
    let body = json!({ "jti": jti, "expires_at": expires_at }).to_string();
    let reply = target.request(
        "POST",
        &format!("{TURNPIKE_PREFIX}/revocations"),
        Some("application/json"),
        body.as_bytes(),
    )?;
    let json = check(reply)?;
    println!("revoked {jti} until {expires_at}");
    print_json(&json);
    Ok(())
}

/// `turnpike {revocations,applications,subscriptions} list`: one line per item.
pub fn list(collection: &str, admin: &AdminArgs) -> Result<(), Failure> {
    let target = admin.target()?;
    let json =
        check(target.request("GET", &format!("{TURNPIKE_PREFIX}/{collection}"), None, &[])?)?;
    let Some(items) = json.get("list").and_then(Value::as_array) else {
        print_json(&json);
        return Ok(());
    };
    let columns: &[&str] = match collection {
        "revocations" => &["jti", "expires_at"],
        "applications" => &["id", "name", "owner", "tier", "source"],
        _ => &["id", "application", "api_name", "api_version", "state", "source"],
    };
    println!("{}", columns.join("\t").to_ascii_uppercase());
    for item in items {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match item.get(*c) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "-".to_owned(),
                Some(other) => other.to_string(),
            })
            .collect();
        println!("{}", cells.join("\t"));
    }
    Ok(())
}
