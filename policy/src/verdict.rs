//! What a policy phase decides: continue, answer locally, or ask `core` to call out and resume.
//!
//! Denials are typed here and rendered into status + JSON body by core's `local_reply`; policies
//! never build responses themselves.

use crate::credentials::AuthFailure;

/// The outcome of one policy phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on to the next policy / phase.
    Continue,
    /// Stop and answer the client with this denial.
    Respond(Denial),
    /// Perform this call (core does the I/O), then resume the same policy with
    /// [`crate::Policy::on_callout_result`].
    Callout(Callout),
}

/// Why a request was refused by a policy. Each variant maps to one status and error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The client is not allowed to use this resource (403).
    Forbidden { reason: String },
    /// Credentials are missing or invalid (401).
    Unauthenticated { reason: String },
    /// The request is well-formed HTTP but breaks a rule of the API (400).
    InvalidRequest { reason: String },
    /// Authentication or authorization failed (WSO2 900902 / 900901 / 900908 / 900910).
    Auth(AuthDenial),
    /// The gateway could not do what the route requires (500), e.g. sign the backend JWT.
    Internal { reason: &'static str },
}

/// An authentication or authorization refusal: what to answer, and why (for logs only; the
/// client gets WSO2's fixed wording so that failures do not leak which check failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDenial {
    pub failure: AuthFailure,
    /// `WWW-Authenticate` value to send (RFC 6750 §3, RFC 7617 §2), if any.
    pub www_authenticate: Option<String>,
    /// What failed, for the gateway's logs.
    pub detail: &'static str,
}

/// A network call a policy needs before it can decide (e.g. OAuth2 token introspection).
///
/// Core sends `request` to an endpoint of `cluster`, reads the whole response (bounded), and
/// resumes the policy with [`crate::Policy::on_callout_result`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callout {
    /// Index of the upstream cluster in the snapshot that serves the call.
    pub cluster: u32,
    /// A complete HTTP/1.1 request to send, head and body (with `Host`, and a Content-Length
    /// when it has a body).
    pub request: Vec<u8>,
    /// Most callouts this core may have in flight at once (this one included); over it, core
    /// fails the callout without sending it.
    pub max_in_flight: u32,
}

/// What came back from a callout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalloutOutcome<'a> {
    /// The service answered (any status).
    Response(CalloutResponse<'a>),
    /// No usable answer: connection refused or reset, timeout, invalid or oversized response.
    Failed,
}

/// A callout's response, body decoded from its framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalloutResponse<'a> {
    pub status: u16,
    /// Header (name, value) pairs in received order.
    pub headers: &'a [(&'a [u8], &'a [u8])],
    pub body: &'a [u8],
}
