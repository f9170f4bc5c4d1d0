//! The client-side commands of the `turnpike` binary: `init`, `validate <path>...`, `deploy`,
//! `apis list`, `undeploy`, `diff`, `hash-password`, `token`, and ([`security`]) `revoke`,
//! `revocations list`, `applications list`, `subscriptions list`.
//!
//! Where it sits: beside `turnpike run` in `main.rs`. `deploy`, `apis list`, `undeploy` and `diff`
//! talk to a running gateway's admin API (`/api/mgw/adapter/0.1/...`) through [`client`];
//! `init` and the packing of folders are in [`project`]; `token` (test credentials) in [`token`]
//! and [`claims`]. Nothing here starts a gateway.
//!
//! Exit codes, decided here and in `main`: 0 done, 1 rejected (invalid project, conflict, not
//! found), 2 usage error (clap), 3 gateway unreachable or authentication failed. Every failure is
//! one line on stderr; credentials are never printed.

pub mod claims;
pub mod client;
pub mod project;
pub mod security;
pub mod token;

use std::io::Read as _;
use std::path::PathBuf;

use clap::Args;

use client::{basic_auth, encode_query, ClientError, Reply, Target};

/// Path prefix of the admin API (compatible with Choreo Connect's adapter REST API).
pub const ADMIN_PREFIX: &str = "/api/mgw/adapter/0.1";

/// A failed command: its exit code and one line to print.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Rejected (exit 1).
    pub fn rejected(message: impl Into<String>) -> Failure {
        Failure { code: 1, message: message.into() }
    }

    /// Unreachable or not authenticated (exit 3).
    pub fn unreachable(message: impl Into<String>) -> Failure {
        Failure { code: 3, message: message.into() }
    }

    /// Bad arguments (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: 2, message: message.into() }
    }
}

impl From<ClientError> for Failure {
    fn from(err: ClientError) -> Failure {
        match err {
            ClientError::Usage(_) => Failure::usage(err.to_string()),
            ClientError::Protocol(_) => Failure::rejected(err.to_string()),
            ClientError::Unreachable(_) | ClientError::Tls(_) => {
                Failure::unreachable(err.to_string())
            }
        }
    }
}

/// How to reach and authenticate to the admin API.
#[derive(Args, Debug, Clone)]
pub struct AdminArgs {
    /// Admin API base URL.
    #[arg(long, value_name = "URL", default_value = "https://127.0.0.1:9843")]
    pub admin: String,
    /// User name [default: env TURNPIKE_ADMIN_USER].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Password [default: env TURNPIKE_ADMIN_PASSWORD; prefer the environment variable].
    #[arg(long, value_name = "PASSWORD", hide_default_value = true)]
    pub password: Option<String>,
    /// Accept any certificate from the admin API (e.g. the self-signed default one).
    #[arg(long)]
    pub insecure: bool,
    /// Trust this PEM CA bundle for the admin API instead of the system roots.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
}

impl AdminArgs {
    fn target(&self) -> Result<Target, Failure> {
        let mut target = Target::parse(&self.admin)?;
        target.insecure = self.insecure;
        target.cacert.clone_from(&self.cacert);
        let user = self.user.clone().or_else(|| std::env::var("TURNPIKE_ADMIN_USER").ok());
        let password =
            self.password.clone().or_else(|| std::env::var("TURNPIKE_ADMIN_PASSWORD").ok());
        target.authorization =
            match (user, password) {
                (Some(u), Some(p)) => Some(basic_auth(&u, &p)),
                (None, None) => None,
                (Some(_), None) => return Err(Failure::usage(
                    "a user was given without a password (--password or TURNPIKE_ADMIN_PASSWORD)",
                )),
                (None, Some(_)) => {
                    return Err(Failure::usage(
                        "a password was given without a user (--user or TURNPIKE_ADMIN_USER)",
                    ))
                }
            };
        Ok(target)
    }
}

/// Turns a non-2xx reply into a failure; returns the JSON body (or `Null`) otherwise.
fn check(reply: Reply) -> Result<serde_json::Value, Failure> {
    let json: serde_json::Value =
        serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null);
    if (200..300).contains(&reply.status) {
        return Ok(json);
    }
    let text = ["error_description", "description", "error_message", "message", "error"]
        .iter()
        .find_map(|k| json.get(*k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()))
        .map_or_else(
            || String::from_utf8_lossy(&reply.body).trim().chars().take(300).collect(),
            str::to_owned,
        );
    let line = format!("{} ({}): {}", reason(reply.status), reply.status, text.replace('\n', " "));
    Err(match reply.status {
        401 | 403 => Failure::unreachable(format!("authentication failed: {line}")),
        _ => Failure::rejected(line),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "rejected",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        409 => "conflict",
        413 => "too large",
        _ if status >= 500 => "gateway error",
        _ => "failed",
    }
}

fn print_json(value: &serde_json::Value) {
    if !value.is_null() {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    }
}

/// `turnpike deploy <path> [--override]`.
pub fn deploy(
    path: &std::path::Path,
    override_existing: bool,
    admin: &AdminArgs,
) -> Result<(), Failure> {
    let target = admin.target()?;
    let zip = project::archive(path).map_err(Failure::rejected)?;
    let query = if override_existing { "?override=true" } else { "" };
    let reply = target.request(
        "POST",
        &format!("{ADMIN_PREFIX}/apis{query}"),
        Some("application/zip"),
        &zip,
    )?;
    let json = check(reply)?;
    println!("deployed {}", path.display());
    print_json(&json);
    Ok(())
}

/// `turnpike diff <path>`: a dry-run deploy.
pub fn diff(path: &std::path::Path, admin: &AdminArgs) -> Result<(), Failure> {
    let target = admin.target()?;
    let zip = project::archive(path).map_err(Failure::rejected)?;
    let reply = target.request(
        "POST",
        &format!("{ADMIN_PREFIX}/apis?dryRun=true&override=true"),
        Some("application/zip"),
        &zip,
    )?;
    let json = check(reply)?;
    let sections = [
        ("added_apis", "+ API"),
        ("removed_apis", "- API"),
        ("changed_apis", "~ API"),
        ("added_routes", "+ route"),
        ("removed_routes", "- route"),
    ];
    let change = json.get("change").unwrap_or(&json);
    let mut any = false;
    for (key, label) in sections {
        let camel = camel_case(key);
        let items = change.get(key).or_else(|| change.get(&camel)).and_then(|v| v.as_array());
        for item in items.into_iter().flatten() {
            any = true;
            println!("{label} {}", item.as_str().map_or_else(|| item.to_string(), str::to_owned));
        }
    }
    if !any {
        if change.is_object() {
            println!("no changes");
        } else {
            print_json(&json);
        }
    }
    Ok(())
}

fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `turnpike apis list`.
pub fn list(admin: &AdminArgs) -> Result<(), Failure> {
    let target = admin.target()?;
    let json = check(target.request("GET", &format!("{ADMIN_PREFIX}/apis"), None, &[])?)?;
    let items =
        json.get("list").or_else(|| json.get("apis")).or(Some(&json)).and_then(|v| v.as_array());
    let Some(items) = items else {
        print_json(&json);
        return Ok(());
    };
    let field = |item: &serde_json::Value, keys: &[&str]| {
        keys.iter().find_map(|k| item.get(*k).and_then(|v| v.as_str())).unwrap_or("-").to_owned()
    };
    println!(
        "{:<24} {:<10} {:<24} {:<16} {:<10} LIFECYCLE",
        "NAME", "VERSION", "CONTEXT", "VHOST", "SOURCE"
    );
    for item in items {
        println!(
            "{:<24} {:<10} {:<24} {:<16} {:<10} {}",
            field(item, &["apiName", "name"]),
            field(item, &["version"]),
            field(item, &["context"]),
            field(item, &["vhost"]),
            field(item, &["source"]),
            field(item, &["lifeCycleStatus", "lifecycle"]),
        );
    }
    Ok(())
}

/// `turnpike undeploy --name N --version V [--vhost H]`.
pub fn undeploy(
    name: &str,
    version: &str,
    vhost: Option<&str>,
    admin: &AdminArgs,
) -> Result<(), Failure> {
    let target = admin.target()?;
    let mut query = format!("apiName={}&version={}", encode_query(name), encode_query(version));
    if let Some(h) = vhost {
        query.push_str(&format!("&vhost={}", encode_query(h)));
    }
    let json =
        check(target.request("DELETE", &format!("{ADMIN_PREFIX}/apis?{query}"), None, &[])?)?;
    println!("undeployed {name}:{version}{}", vhost.map_or(String::new(), |h| format!("@{h}")));
    print_json(&json);
    Ok(())
}

/// `turnpike init <dir> [--oas FILE]`.
pub fn init(dir: &std::path::Path, oas: Option<&std::path::Path>) -> Result<(), Failure> {
    let written = project::init(dir, oas).map_err(Failure::rejected)?;
    for f in written {
        println!("created {}", f.display());
    }
    Ok(())
}

/// Reads a password from stdin (first line, without its line ending).
pub fn read_password() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("cannot read the password from stdin: {e}")))?;
    let line = text.lines().next().unwrap_or("").to_owned();
    if line.is_empty() {
        return Err(Failure::usage("no password on stdin"));
    }
    Ok(line)
}
