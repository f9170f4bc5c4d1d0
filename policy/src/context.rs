//! The per-request context that policies read and write, and the read-only views of the request
//! and response heads they are shown.
//!
//! Built by `core::exchange` after routing; lives for one request. Fields that later issues fill
//! (principal, application, scopes, client certificate) start empty.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

use turnpike_http::h1::HeaderSpan;

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
    /// Request headers to set, names in lower case (replacing any received with the same name).
    pub request_set: Vec<(String, String)>,
    /// Request header names to remove (lower case; borrowed when the name is a constant, such
    /// as `authorization`, so the common case allocates nothing).
    pub request_remove: Vec<Cow<'static, str>>,
    /// Response headers to set, names in lower case.
    pub response_set: Vec<(String, String)>,
    /// Response header names to remove (lower case).
    pub response_remove: Vec<Cow<'static, str>>,
}

impl HeaderEdits {
    /// Whether any edit is pending.
    pub fn is_empty(&self) -> bool {
        self.request_set.is_empty()
            && self.request_remove.is_empty()
            && self.response_set.is_empty()
            && self.response_remove.is_empty()
    }

    /// Removes every edit, keeping the lists' capacity.
    pub fn clear(&mut self) {
        self.request_set.clear();
        self.request_remove.clear();
        self.response_set.clear();
        self.response_remove.clear();
    }

    /// Whether the request header `name` must not be forwarded as received.
    pub fn drops_request_header(&self, name: &[u8]) -> bool {
        self.request_remove.iter().any(|r| eq_lower(name, r.as_bytes()))
            || self.request_set.iter().any(|(n, _)| eq_lower(name, n.as_bytes()))
    }

    /// Whether the response header `name` must not be forwarded as received.
    pub fn drops_response_header(&self, name: &[u8]) -> bool {
        self.response_remove.iter().any(|r| eq_lower(name, r.as_bytes()))
            || self.response_set.iter().any(|(n, _)| eq_lower(name, n.as_bytes()))
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

    /// Makes this context a fresh one for the next request from `client_ip`, keeping the
    /// capacity of its lists (a connection reuses one context for all its requests).
    pub fn reset(&mut self, client_ip: IpAddr) {
        self.client_ip = client_ip;
        self.key_type = KeyType::Production;
        self.headers.clear();
        self.rewrites.clear();
        self.caller = None;
        self.pending_token = None;
    }
}

impl Default for RequestContext {
    fn default() -> Self {
        Self::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// Read-only view of a request head (borrowed from the connection's buffer).
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: &'a [u8],
    pub path: &'a [u8],
    pub query: Option<&'a [u8]>,
    /// Header fields in received order.
    pub headers: HeaderList<'a>,
    /// DER of the client's leaf certificate, verified by the TLS handshake (mutual TLS); `None`
    /// on plain HTTP and when the client sent none.
    pub peer_certificate: Option<&'a [u8]>,
}

/// The request's header fields as the parser left them: spans over the connection's read
/// buffer, shown to policies without building a list per request.
#[derive(Debug, Clone, Copy)]
pub struct HeaderList<'a> {
    buf: &'a [u8],
    fields: &'a [HeaderSpan],
}

impl<'a> HeaderList<'a> {
    /// No headers.
    pub const EMPTY: HeaderList<'static> = HeaderList { buf: &[], fields: &[] };

    /// The fields `fields`, whose spans point into `buf`.
    pub fn new(buf: &'a [u8], fields: &'a [HeaderSpan]) -> Self {
        Self { buf, fields }
    }

    /// The first value of header `lower_name` (given in lower case, as every name a policy is
    /// compiled with; the received name may be in any case).
    pub fn get(&self, lower_name: &[u8]) -> Option<&'a [u8]> {
        debug_assert!(!lower_name.iter().any(u8::is_ascii_uppercase));
        let buf = self.buf;
        let len = lower_name.len();
        self.fields
            .iter()
            .find(|f| {
                // Length first: it turns down almost every other field with one comparison.
                f.name.len as usize == len && eq_lower(f.name.get(buf), lower_name)
            })
            .map(|f| f.value.get(buf))
    }

    /// (name, value) pairs in received order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let buf = self.buf;
        self.fields.iter().map(move |f| (f.name.get(buf), f.value.get(buf)))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Whether `received`, in any case, equals `lower` (lower case): one case fold per byte
/// instead of `eq_ignore_ascii_case`'s two.
fn eq_lower(received: &[u8], lower: &[u8]) -> bool {
    received.len() == lower.len()
        && received.iter().zip(lower).all(|(r, l)| r.to_ascii_lowercase() == *l)
}

/// Read-only view of a response head.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    /// Header fields in received order.
    pub headers: HeaderList<'a>,
}
