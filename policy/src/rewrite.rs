//! Request rewriting for the upstream: WSO2's `ADD_QUERY`, `REWRITE_RESOURCE_PATH` and
//! `REWRITE_RESOURCE_METHOD` operation policies.
//!
//! Like header mediation, the policy only records what to change in the context; core applies it
//! while encoding the upstream request head (one pass, nothing copied twice).

use crate::context::{RequestContext, RequestView};
use crate::verdict::Verdict;
use crate::{CoreState, Policy};

/// One rewrite of the request sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestRewrite {
    /// Append `name=value` to the query string (both already percent-encoded).
    AddQuery { name: String, value: String },
    /// Replace the resource path (the part after the API base path) sent upstream; `keep_query`
    /// keeps the client's query string.
    ResourcePath { path: String, keep_query: bool },
    /// Send the request upstream with another method.
    Method { method: String },
}

/// Why a rewrite policy was rejected at compile time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidRewrite {
    /// The query name or value holds bytes that are not allowed unencoded in a query.
    Query(String),
    /// The path does not start with `/` or holds bytes not allowed in a path.
    Path(String),
    /// The method is not an HTTP token.
    Method(String),
}

impl std::fmt::Display for InvalidRewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Query(q) => {
                write!(f, "query parameter {q:?} holds characters not allowed in a query")
            }
            Self::Path(p) => {
                write!(f, "resource path {p:?} must start with '/' and be a valid path")
            }
            Self::Method(m) => write!(f, "method {m:?} is not a valid HTTP method"),
        }
    }
}

impl std::error::Error for InvalidRewrite {}

/// What core applies to the upstream request, collected from the rewrite policies.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rewrites {
    pub path: Option<String>,
    pub keep_query: bool,
    pub method: Option<String>,
    /// `name=value` pairs appended to the query.
    pub add_query: Vec<(String, String)>,
    /// Query parameters removed (exact names; e.g. an API key presented in the query).
    pub remove_query: Vec<String>,
}

impl Rewrites {
    /// Removes every rewrite, keeping the lists' capacity.
    pub fn clear(&mut self) {
        self.path = None;
        self.keep_query = false;
        self.method = None;
        self.add_query.clear();
        self.remove_query.clear();
    }

    /// Whether nothing is to be rewritten.
    pub fn is_empty(&self) -> bool {
        self.path.is_none()
            && self.method.is_none()
            && self.add_query.is_empty()
            && self.remove_query.is_empty()
    }
}

fn is_unreserved_or_encoded(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$'()*+,;:@".contains(&b)
}

impl RequestRewrite {
    /// Validates a rewrite (called by the adapter, off the hot path).
    pub fn validated(self) -> Result<Self, InvalidRewrite> {
        match &self {
            Self::AddQuery { name, value } => {
                let ok = |s: &str| {
                    s.bytes().all(|b| is_unreserved_or_encoded(b) || b == b'/' || b == b'?')
                };
                if name.is_empty() || !ok(name) || !ok(value) {
                    return Err(InvalidRewrite::Query(format!("{name}={value}")));
                }
            }
            Self::ResourcePath { path, .. } => {
                if !path.starts_with('/')
                    || !path
                        .bytes()
                        .all(|b| is_unreserved_or_encoded(b) || b == b'/' || b == b'=' || b == b'&')
                {
                    return Err(InvalidRewrite::Path(path.clone()));
                }
            }
            Self::Method { method } => {
                if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(InvalidRewrite::Method(method.clone()));
                }
            }
        }
        Ok(self)
    }
}

impl Policy for RequestRewrite {
    fn on_request_head(
        &self,
        ctx: &mut RequestContext,
        _request: &RequestView<'_>,
        _state: &mut CoreState,
    ) -> Verdict {
        let rewrites = &mut ctx.rewrites;
        match self {
            Self::AddQuery { name, value } => {
                rewrites.add_query.push((name.clone(), value.clone()))
            }
            Self::ResourcePath { path, keep_query } => {
                rewrites.path = Some(path.clone());
                rewrites.keep_query = *keep_query;
            }
            Self::Method { method } => rewrites.method = Some(method.clone()),
        }
        Verdict::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CoreState {
        CoreState::new(crate::auth::AuthStateConfig::default()).unwrap()
    }
    use std::net::{IpAddr, Ipv4Addr};

    fn view() -> RequestView<'static> {
        RequestView {
            method: b"GET",
            path: b"/",
            query: None,
            headers: crate::HeaderList::EMPTY,
            peer_certificate: None,
        }
    }

    #[test]
    fn rewrites_are_recorded_in_order() {
        let mut ctx = RequestContext::new(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for p in [
            RequestRewrite::AddQuery { name: "a".into(), value: "1".into() },
            RequestRewrite::ResourcePath { path: "/v2/items".into(), keep_query: true },
            RequestRewrite::Method { method: "POST".into() },
            RequestRewrite::AddQuery { name: "b".into(), value: "x%20y".into() },
        ] {
            assert_eq!(
                p.validated().unwrap().on_request_head(&mut ctx, &view(), &mut state()),
                Verdict::Continue
            );
        }
        assert_eq!(ctx.rewrites.path.as_deref(), Some("/v2/items"));
        assert!(ctx.rewrites.keep_query);
        assert_eq!(ctx.rewrites.method.as_deref(), Some("POST"));
        assert_eq!(
            ctx.rewrites.add_query,
            vec![("a".into(), "1".into()), ("b".into(), "x%20y".into())]
        );
    }

    #[test]
    fn invalid_rewrites_are_rejected() {
        let bad_query = RequestRewrite::AddQuery { name: "a b".into(), value: "1".into() };
        assert!(matches!(bad_query.validated(), Err(InvalidRewrite::Query(_))));
        let bad_path = RequestRewrite::ResourcePath { path: "items".into(), keep_query: false };
        assert!(matches!(bad_path.validated(), Err(InvalidRewrite::Path(_))));
        let crlf = RequestRewrite::ResourcePath { path: "/a\r\nX: y".into(), keep_query: false };
        assert!(matches!(crlf.validated(), Err(InvalidRewrite::Path(_))));
        let bad_method = RequestRewrite::Method { method: "get me".into() };
        assert!(matches!(bad_method.validated(), Err(InvalidRewrite::Method(_))));
    }
}
