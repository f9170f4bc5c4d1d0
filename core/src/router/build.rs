//! Compiling [`RouteSpec`]s into the [`Router`]'s tables: host tables, base-path maps and one
//! segment trie per API.
//!
//! Where it sits: [`Router::build`], called by the adapter while it compiles a snapshot on the
//! control thread. Everything that can be decided ahead of time is decided here so the lookup only
//! walks arrays: literal children are sorted for binary search, each template's `Allow` value is
//! joined once, and each route's base-path length is stored by route index.
//!
//! Rejected here: invalid base paths and templates (see `template.rs`), two templates of one API
//! that match the same paths ([`RouterError::AmbiguousTemplates`]) and one method claimed twice
//! by the same template ([`RouterError::DuplicateRoute`]). Whether two *APIs* may share a base path
//! is the adapter's decision; routes with the same host and base path simply share one trie.

use std::collections::HashMap;

use super::template::{check_base_path, parse_template, Segment};
use super::{ApiTree, Leaf, LeafId, Node, NodeId, RouteSpec, Router, RouterError};
use crate::snapshot::RouteIndex;

/// Builds a router from specs, in spec order.
pub(super) fn build(specs: Vec<RouteSpec>) -> Result<Router, RouterError> {
    let mut builder = Builder::default();
    for spec in specs {
        builder.add(spec)?;
    }
    Ok(builder.finish())
}

/// The router under construction plus the indexes only needed while building.
#[derive(Default)]
struct Builder {
    router: Router,
    /// (vhost, base path) → index into `router.apis`.
    api_of: HashMap<(Option<String>, String), u32>,
}

impl Builder {
    /// Adds one spec: finds or creates its API, inserts its template and registers its methods.
    fn add(&mut self, spec: RouteSpec) -> Result<(), RouterError> {
        check_base_path(&spec.base_path)?;
        let parsed = parse_template(&spec.template)?;
        let vhost = spec.vhost.as_deref().map(str::to_ascii_lowercase);
        let api = self.api(vhost, &spec.base_path);
        let mut node = api.root;
        for segment in &parsed.segments {
            node = self.child(node, segment);
        }
        let leaf = self.leaf(node, parsed.wildcard, &spec)?;
        let Some(leaf) = self.router.leaves.get_mut(leaf as usize) else {
            return Ok(());
        };
        for method in &spec.methods {
            if leaf.methods.iter().any(|(m, _)| m.as_ref() == method.as_bytes()) {
                return Err(RouterError::DuplicateRoute {
                    base_path: spec.base_path.clone(),
                    template: spec.template.clone(),
                    method: method.clone(),
                });
            }
            leaf.methods.push((method.as_bytes().into(), spec.route));
        }
        self.record_base_len(spec.route, api.base_len);
        Ok(())
    }

    /// The API for (vhost, base path), created on first use.
    fn api(&mut self, vhost: Option<String>, base_path: &str) -> ApiTree {
        let key = (vhost, base_path.to_owned());
        if let Some(api) = self.api_of.get(&key).and_then(|i| self.router.apis.get(*i as usize)) {
            return *api;
        }
        let root = self.new_node();
        let base_len = if base_path == "/" { 0 } else { base_path.len() };
        let tree = ApiTree { base_len: saturating_u32(base_len), root };
        let index = saturating_u32(self.router.apis.len());
        self.router.apis.push(tree);
        let table = match &key.0 {
            Some(host) => self.router.vhosts.entry(host.as_bytes().into()).or_default(),
            None => &mut self.router.any_host,
        };
        if base_len == 0 {
            table.root = Some(index);
        } else {
            table.by_base.insert(base_path.as_bytes().into(), index);
            table.max_base_len = table.max_base_len.max(base_len);
        }
        self.api_of.insert(key, index);
        tree
    }

    /// The child of `node` for `segment`, created on first use.
    fn child(&mut self, node: NodeId, segment: &Segment) -> NodeId {
        let existing = self.router.nodes.get(node as usize).and_then(|n| match segment {
            Segment::Param => n.param,
            Segment::Literal(lit) => n.literals.iter().find(|(l, _)| l == lit).map(|(_, c)| *c),
        });
        if let Some(child) = existing {
            return child;
        }
        let child = self.new_node();
        if let Some(n) = self.router.nodes.get_mut(node as usize) {
            match segment {
                Segment::Param => n.param = Some(child),
                Segment::Literal(lit) => n.literals.push((lit.clone(), child)),
            }
        }
        child
    }

    /// The leaf for a template ending at `node`; a second, differently written template ending
    /// at the same place is ambiguous.
    fn leaf(
        &mut self,
        node: NodeId,
        wildcard: bool,
        spec: &RouteSpec,
    ) -> Result<LeafId, RouterError> {
        let fresh = saturating_u32(self.router.leaves.len());
        let Some(n) = self.router.nodes.get_mut(node as usize) else {
            return Ok(fresh);
        };
        let slot = if wildcard { &mut n.wildcard } else { &mut n.exact };
        if let Some(existing) = *slot {
            let first = self.router.leaves.get(existing as usize).map(|l| &l.template);
            return match first {
                Some(first) if *first != spec.template => Err(RouterError::AmbiguousTemplates {
                    base_path: spec.base_path.clone(),
                    first: first.clone(),
                    second: spec.template.clone(),
                }),
                _ => Ok(existing),
            };
        }
        *slot = Some(fresh);
        self.router.leaves.push(Leaf {
            template: spec.template.clone(),
            methods: Vec::new(),
            allow: String::new(),
        });
        Ok(fresh)
    }

    fn new_node(&mut self) -> NodeId {
        self.router.nodes.push(Node::default());
        saturating_u32(self.router.nodes.len() - 1)
    }

    fn record_base_len(&mut self, route: RouteIndex, base_len: u32) {
        let index = route.0 as usize;
        if self.router.route_base_len.len() <= index {
            self.router.route_base_len.resize(index + 1, 0);
        }
        if let Some(slot) = self.router.route_base_len.get_mut(index) {
            *slot = base_len;
        }
    }

    /// Sorts literal children and joins each template's `Allow` value.
    fn finish(mut self) -> Router {
        for node in &mut self.router.nodes {
            node.literals.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for leaf in &mut self.router.leaves {
            let names: Vec<&str> =
                leaf.methods.iter().filter_map(|(m, _)| std::str::from_utf8(m).ok()).collect();
            leaf.allow = names.join(", ");
        }
        self.router
    }
}

/// Table sizes are far below `u32::MAX`; saturate rather than wrap if that ever changes.
fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
