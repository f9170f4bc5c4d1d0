//! The routing table: maps (Host, method, path) of a request to the [`RouteIndex`] that serves it.
//!
//! Where it sits: the adapter builds one [`Router`] per [`crate::snapshot::Snapshot`] from
//! [`RouteSpec`]s ([`Router::build`], control thread, off the hot path); `exchange` calls
//! [`Router::lookup`] once per request, before any policy runs. A lookup does no I/O and no
//! allocation (the caller reuses the `params` vector).
//!
//! Matching, in order:
//! 1. **Virtual host**: APIs bound to the request's host (case-insensitive, port stripped) are
//!    tried first; only when none of their base paths matches are host-less APIs tried.
//! 2. **Base path**: among the chosen APIs, the longest base path that prefixes the path at a
//!    segment boundary wins (`/petstore/v1` matches `/petstore/v1`, `/petstore/v1/` and
//!    `/petstore/v1/pets`, never `/petstore/v10`). A base path of `/` matches every path.
//! 3. **Template**: the rest of the path (`""` counts as `/`) is matched against the API's
//!    templates segment by segment in a trie. At each position a literal segment is tried before
//!    a `{param}` (one non-empty segment), which is tried before a trailing `/*` (zero or more
//!    segments); one trailing slash on the request is tolerated. The first template reached in
//!    that order that also serves the request method wins, so a more specific template that
//!    lacks the method lets a less specific one serve it.
//! 4. **Method**: compared as exact bytes. If templates match the path but none serves the
//!    method, the result is [`Lookup::MethodNotAllowed`] carrying the precomputed `Allow` value of
//!    the most specific matching template; if nothing matches, [`Lookup::NotFound`].
//!
//! The router compares raw bytes: it does not percent-decode, normalise dot segments or look at
//! the query string (the caller passes the path without it). It knows nothing about upstreams or
//! policies; a [`RouteIndex`] is all it returns.

mod build;
mod host;
mod template;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::snapshot::RouteIndex;

/// One route as the router sees it: where it lives (host, base path, template) and which methods
/// it serves.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// Lower-case host without port; `None` matches any host.
    pub vhost: Option<String>,
    /// API base path, e.g. `/petstore/v1` (no trailing slash), or `/` for the root.
    pub base_path: String,
    /// Resource template, e.g. `/pets/{petId}`, `/pets/*` or `/`.
    pub template: String,
    /// Upper-case methods, e.g. `["GET", "POST"]`.
    pub methods: Vec<String>,
    /// The route these methods map to.
    pub route: RouteIndex,
}

/// Why a set of [`RouteSpec`]s could not be compiled into a [`Router`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterError {
    /// Two routes of the same API and template claim the same method.
    DuplicateRoute { base_path: String, template: String, method: String },
    /// Two different templates of one API match exactly the same paths (e.g. `/pets/{id}` and
    /// `/pets/{petId}`, or `/pets` and `/pets/`).
    AmbiguousTemplates { base_path: String, first: String, second: String },
    /// A template is not a valid path template.
    InvalidTemplate { template: String, reason: String },
    /// A base path is not a valid API base path.
    InvalidBasePath { base_path: String, reason: String },
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateRoute { base_path, template, method } => write!(
                f,
                "method {method} of resource {template:?} is defined twice in API {base_path:?}"
            ),
            Self::AmbiguousTemplates { base_path, first, second } => write!(
                f,
                "resources {first:?} and {second:?} of API {base_path:?} match the same paths"
            ),
            Self::InvalidTemplate { template, reason } => {
                write!(f, "invalid resource path {template:?}: {reason}")
            }
            Self::InvalidBasePath { base_path, reason } => {
                write!(f, "invalid base path {base_path:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for RouterError {}

/// Outcome of [`Router::lookup`].
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'r> {
    /// The route serving this request.
    Matched(RouteIndex),
    /// The path exists but not for this method; `allow` is the `Allow` header value, e.g.
    /// `"GET, POST"`.
    MethodNotAllowed { allow: &'r str },
    /// No API or resource matches the path.
    NotFound,
}

/// Index of a trie node in [`Router::nodes`].
type NodeId = u32;
/// Index of a template's leaf in [`Router::leaves`].
type LeafId = u32;

/// One position in an API's segment trie.
#[derive(Debug, Default)]
struct Node {
    /// Literal children, sorted by segment bytes (binary-searched).
    literals: Vec<(Box<[u8]>, NodeId)>,
    /// The `{param}` child, if any template has a parameter here.
    param: Option<NodeId>,
    /// Template ending exactly here.
    exact: Option<LeafId>,
    /// Template ending here with `/*`.
    wildcard: Option<LeafId>,
}

/// The routes of one template: which route serves each method.
#[derive(Debug)]
struct Leaf {
    /// The template as first written (used in error messages).
    template: String,
    /// Method bytes → route, in definition order.
    methods: Vec<(Box<[u8]>, RouteIndex)>,
    /// Precomputed `Allow` value, e.g. `"GET, POST"`.
    allow: String,
}

/// One API (a base path on one host, or on any host): where its trie starts.
#[derive(Debug, Clone, Copy)]
struct ApiTree {
    /// Bytes of the request path covered by the base path (0 for the root base path `/`).
    base_len: u32,
    root: NodeId,
}

/// The APIs of one virtual host (or of no host), indexed by base path.
#[derive(Debug, Default)]
struct HostTable {
    /// Base path bytes → index into [`Router::apis`]; the root base path `/` is kept apart.
    by_base: foldhash::HashMap<Box<[u8]>, u32>,
    /// API mounted at `/`, if any.
    root: Option<u32>,
    /// Length of the longest base path in `by_base` (bounds the prefix search).
    max_base_len: usize,
}

impl HostTable {
    /// The API whose base path is the longest segment-boundary prefix of `path`.
    fn find(&self, path: &[u8]) -> Option<u32> {
        if !self.by_base.is_empty() {
            let mut end = path.len().min(self.max_base_len);
            while end > 0 {
                let at_boundary = end == path.len() || path.get(end) == Some(&b'/');
                if at_boundary {
                    if let Some(api) = path.get(..end).and_then(|p| self.by_base.get(p)) {
                        return Some(*api);
                    }
                }
                end -= 1;
            }
        }
        self.root
    }
}

/// The compiled routing table. Immutable once built; see the module docs for the rules.
#[derive(Debug, Default)]
pub struct Router {
    /// APIs bound to no virtual host.
    any_host: HostTable,
    /// Lower-case virtual host → its APIs.
    vhosts: foldhash::HashMap<Box<[u8]>, HostTable>,
    apis: Vec<ApiTree>,
    nodes: Vec<Node>,
    leaves: Vec<Leaf>,
    /// `RouteIndex.0` → base path length of its API (see [`Router::base_path_len`]).
    route_base_len: Vec<u32>,
}

/// Where a trie walk stands: the request and what has been learnt so far.
struct Walk<'a> {
    path: &'a [u8],
    method: &'a [u8],
    /// Most specific template that matched the path (for `405`), if any.
    path_match: Option<LeafId>,
}

impl Router {
    /// Compiles route specs into a router; see [`RouterError`] for what is rejected.
    pub fn build(specs: Vec<RouteSpec>) -> Result<Router, RouterError> {
        build::build(specs)
    }

    /// A router with no routes: every lookup is [`Lookup::NotFound`].
    pub fn empty() -> Router {
        Router::default()
    }

    /// Whether the router has no routes at all.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Finds the route for a request.
    ///
    /// `host` is the raw `Host` header value (any case, may carry a port) or `None`; `method` the
    /// request method bytes; `path` the raw path without the query string. `params` is cleared,
    /// then filled with the `(start, end)` byte offsets into `path` of each `{param}` capture, in
    /// template order (it is left empty unless the result is [`Lookup::Matched`]).
    pub fn lookup<'r>(
        &'r self,
        host: Option<&[u8]>,
        method: &[u8],
        path: &[u8],
        params: &mut Vec<(u32, u32)>,
    ) -> Lookup<'r> {
        params.clear();
        if path.first() != Some(&b'/') || u32::try_from(path.len()).is_err() {
            return Lookup::NotFound;
        }
        let Some(api) = self.find_api(host, path) else {
            return Lookup::NotFound;
        };
        let mut walk = Walk { path, method, path_match: None };
        if let Some(route) = self.walk(&mut walk, api.root, api.base_len as usize, params) {
            return Lookup::Matched(route);
        }
        params.clear();
        match walk.path_match.and_then(|leaf| self.leaves.get(leaf as usize)) {
            Some(leaf) => Lookup::MethodNotAllowed { allow: &leaf.allow },
            None => Lookup::NotFound,
        }
    }

    /// Byte length of the matched API's base path at the start of the request path, so the caller
    /// can strip it: 12 for `/petstore/v1`, 0 for the root base path `/` (the whole path is kept).
    /// 0 for an unknown route.
    pub fn base_path_len(&self, route: RouteIndex) -> usize {
        self.route_base_len.get(route.0 as usize).map_or(0, |len| *len as usize)
    }

    /// Picks the API: the request host's table first, then the host-less one.
    fn find_api(&self, host: Option<&[u8]>, path: &[u8]) -> Option<ApiTree> {
        let mut buf = [0u8; host::MAX_HOST_LEN];
        let vhost_api = match host {
            Some(raw) if !self.vhosts.is_empty() => host::normalize(raw, &mut buf)
                .and_then(|name| self.vhosts.get(name))
                .and_then(|table| table.find(path)),
            _ => None,
        };
        let api = vhost_api.or_else(|| self.any_host.find(path))?;
        self.apis.get(api as usize).copied()
    }

    /// Depth-first walk of the trie from `node`, with `pos` the offset of the unmatched rest of
    /// the path (empty or starting with `/`). Returns the first route serving the method.
    fn walk(
        &self,
        walk: &mut Walk<'_>,
        node: NodeId,
        pos: usize,
        params: &mut Vec<(u32, u32)>,
    ) -> Option<RouteIndex> {
        let node = self.nodes.get(node as usize)?;
        let rest = walk.path.get(pos..)?;
        if rest.is_empty() || rest == b"/" {
            return self.serve(walk, node.exact).or_else(|| self.serve(walk, node.wildcard));
        }
        let seg_start = pos + 1;
        let seg_len = rest.get(1..)?.iter().position(|b| *b == b'/').unwrap_or(rest.len() - 1);
        let seg_end = seg_start + seg_len;
        let segment = walk.path.get(seg_start..seg_end)?;
        if !segment.is_empty() {
            if let Ok(i) = node.literals.binary_search_by(|(lit, _)| lit.as_ref().cmp(segment)) {
                let child = node.literals.get(i)?.1;
                if let Some(route) = self.walk(walk, child, seg_end, params) {
                    return Some(route);
                }
            }
            if let Some(child) = node.param {
                let depth = params.len();
                // Both offsets fit: `lookup` checked that the path length fits in u32.
                params.push((seg_start as u32, seg_end as u32));
                if let Some(route) = self.walk(walk, child, seg_end, params) {
                    return Some(route);
                }
                params.truncate(depth);
            }
        }
        self.serve(walk, node.wildcard)
    }

    /// The route of `leaf` for the request method, remembering the leaf for a `405` otherwise.
    fn serve(&self, walk: &mut Walk<'_>, leaf: Option<LeafId>) -> Option<RouteIndex> {
        let id = leaf?;
        let leaf = self.leaves.get(id as usize)?;
        if let Some((_, route)) = leaf.methods.iter().find(|(m, _)| m.as_ref() == walk.method) {
            return Some(*route);
        }
        walk.path_match.get_or_insert(id);
        None
    }
}
