//! Human-readable tables of a compiled [`Snapshot`]: the APIs it serves and every route.
//!
//! Where it sits: after [`crate::compile`]; `turnpike run` logs these lines at startup and
//! `turnpike validate` prints them. Output only: nothing here changes or checks the snapshot.

use std::fmt::Write as _;

use turnpike_core::{ClusterIndex, RouteAction, Snapshot};

/// One line per API: `API "name" version at /base on host -> production endpoints`.
pub fn api_lines(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .apis
        .iter()
        .enumerate()
        .map(|(i, api)| {
            let host = api.vhost.as_deref().unwrap_or("any host");
            let mut clusters: Vec<ClusterIndex> = Vec::new();
            for route in snapshot.routes.iter().filter(|r| r.api.0 as usize == i) {
                if !clusters.contains(&route.production) {
                    clusters.push(route.production);
                }
            }
            let endpoints: Vec<String> = clusters.iter().map(|c| endpoints(snapshot, *c)).collect();
            format!(
                "API {:?} {} at {} on {host} -> {}",
                api.name,
                api.version,
                api.base_path,
                if endpoints.is_empty() { "(no routes)".to_owned() } else { endpoints.join(" | ") }
            )
        })
        .collect()
}

/// One line per route: `METHODS [host] /base/template -> production (sandbox ...)`, then what
/// is not a plain proxy: `[blocked]`, `[mock: N examples]`, `[N policies]`.
pub fn route_lines(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .routes
        .iter()
        .enumerate()
        .map(|(i, route)| {
            let mut line = String::new();
            if let Some(api) = snapshot.api(route.api) {
                let host = api.vhost.as_deref().map_or(String::new(), |h| format!("[{h}] "));
                // Routes of a default-version API's second base path are shorter.
                let index = turnpike_core::RouteIndex(u32::try_from(i).unwrap_or(u32::MAX));
                let unversioned = snapshot.router.base_path_len(index) != api.base_path.len();
                let base = if unversioned {
                    api.base_path.replacen(&format!("/{}", api.version), "", 1)
                } else {
                    api.base_path.clone()
                };
                let base = if base == "/" { "" } else { base.as_str() };
                let _ = write!(
                    line,
                    "{:<24} {host}{base}{} -> {}",
                    route.methods.join(","),
                    route.template,
                    endpoints(snapshot, route.production)
                );
            }
            match &route.action {
                RouteAction::Proxy => {
                    if let Some(sandbox) = route.sandbox {
                        let _ = write!(line, " (sandbox {})", endpoints(snapshot, sandbox));
                    }
                }
                RouteAction::Blocked => line.push_str(" [blocked]"),
                RouteAction::Mock(mocks) => {
                    let _ = write!(line, " [mock: {} examples]", mocks.responses.len());
                }
            }
            if !route.policies.is_empty() {
                let _ = write!(line, " [{} policies]", route.policies.len());
            }
            line
        })
        .collect()
}

/// `http://a:1/x, http://b:2/x` for a cluster.
fn endpoints(snapshot: &Snapshot, cluster: ClusterIndex) -> String {
    snapshot.cluster(cluster).map_or_else(
        || "?".to_owned(),
        |c| {
            if c.endpoints.is_empty() {
                return "(no backend)".to_owned();
            }
            let urls: Vec<String> = c
                .endpoints
                .iter()
                .map(|e| {
                    let scheme = if e.tls.is_some() { "https" } else { "http" };
                    format!("{scheme}://{}{} ({})", e.authority, e.base_path, e.addr)
                })
                .collect();
            urls.join(", ")
        },
    )
}
