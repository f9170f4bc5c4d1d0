//! The per-request context that policies read and write, and the read-only views of the request
//! and response heads they are shown.
//!
//! Built by `core::exchange` after routing; lives for one request. Fields that later issues fill
//! (principal, application, scopes, client certificate) start empty.

use std::net::IpAddr;
use std::rc::Rc;

use crate::auth::Caller;

use crate::rewrite::Rewrites;

/// Which key type the caller presented (selects the production or sandbox cluster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyType {
    #[default]
    Production,
    Sandbox,
}

/// Header changes requested by policies, applied by core when it encodes the heads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HeaderEdits {
    /// Request headers to set (replacing any received with the same name).
    pub request_set: Vec<(String, String)>,
    /// Request header names to remove (lower case).
    pub request_remove: Vec<String>,
    /// Response headers to set.
    pub response_set: Vec<(String, String)>,
    /// Response header names to remove (lower case).
    pub response_remove: Vec<String>,
}

impl HeaderEdits {
    /// Whether any edit is pending.
    pub fn is_empty(&self) -> bool {
        self.request_set.is_empty()
            && self.request_remove.is_empty()
            && self.response_set.is_empty()
            && self.response_remove.is_empty()
    }

    /// Whether the request header `name` must not be forwarded as received.
    pub fn drops_request_header(&self, name: &[u8]) -> bool {
        self.request_remove.iter().any(|r| r.as_bytes().eq_ignore_ascii_case(name))
            || self.request_set.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Whether the response header `name` must not be forwarded as received.
    pub fn drops_response_header(&self, name: &[u8]) -> bool {
        self.response_remove.iter().any(|r| r.as_bytes().eq_ignore_ascii_case(name))
            || self.response_set.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// What policies know about the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Client address after trusted-proxy resolution of `X-Forwarded-For`.
    pub client_ip: IpAddr,
    /// Key type of the caller (production until authentication says otherwise).
    pub key_type: KeyType,
    /// Header edits to apply.
    pub headers: HeaderEdits,
    /// Rewrites of the upstream request (path, method, query).
    pub rewrites: Rewrites,
    /// The authenticated caller, once authentication succeeded (shared with the token cache).
    pub caller: Option<Rc<Caller>>,
    /// A bearer token waiting for its introspection answer (set while the callout runs).
    pub pending_token: Option<Box<[u8]>>,
}

impl RequestContext {
    /// A fresh context for a request from `client_ip`.
    pub fn new(client_ip: IpAddr) -> Self {
        Self {
            client_ip,
            key_type: KeyType::Production,
            headers: HeaderEdits::default(),
            rewrites: Rewrites::default(),
            caller: None,
            pending_token: None,
        }
    }
}

/// Read-only view of a request head (borrowed from the connection's buffer).
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: &'a [u8],
    pub path: &'a [u8],
    pub query: Option<&'a [u8]>,
    /// Header (name, value) pairs in received order.
    pub headers: &'a [(&'a [u8], &'a [u8])],
}

/// Read-only view of a response head.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    /// Header (name, value) pairs in received order.
    pub headers: &'a [(&'a [u8], &'a [u8])],
}
