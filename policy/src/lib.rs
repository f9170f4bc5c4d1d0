//! Turnpike's policies: each policy is a type with named phases that reads and writes the
//! per-request [`RequestContext`] and returns a [`Verdict`].
//!
//! Data flow: `core::exchange` builds the context after routing, then calls the route's policies in
//! order: `on_request_head` for every policy, then the upstream exchange, then `on_response_head`.
//! Policies never do I/O: a policy that needs the network (token introspection, interceptors) returns
//! [`Verdict::Callout`] and `core` performs the call and resumes the policy. Every denial is a
//! [`Denial`] variant, turned into a response by core's `local_reply` in one place.
//!
//! Built-in policies are dispatched through the [`BuiltinPolicy`] enum, not `dyn`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

pub mod auth;
pub mod backend_jwt;
pub mod base64;
mod clock_map;
mod context;
pub mod credentials;
mod header;
pub mod jose;
mod rewrite;
mod state;
mod verdict;
pub mod wso2;

pub use context::{HeaderEdits, HeaderList, KeyType, RequestContext, RequestView, ResponseView};
pub use header::{Direction, HeaderEdit, HeaderMediation, InvalidHeaderPolicy};
pub use rewrite::{InvalidRewrite, RequestRewrite, Rewrites};
pub use state::CoreState;
pub use verdict::{AuthDenial, Callout, CalloutOutcome, CalloutResponse, Denial, Verdict};

/// The phases a policy can act in; each has a default that lets the request continue.
pub trait Policy {
    /// After routing, before anything is sent upstream.
    fn on_request_head(
        &self,
        ctx: &mut RequestContext,
        request: &RequestView<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        let _ = (ctx, request, state);
        Verdict::Continue
    }

    /// After a callout this policy asked for has completed. A policy that asks for a callout
    /// must decide here; the default refuses, so a forgotten override never lets a request through.
    fn on_callout_result(
        &self,
        ctx: &mut RequestContext,
        outcome: &CalloutOutcome<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        let _ = (ctx, outcome, state);
        Verdict::Respond(Denial::Forbidden {
            reason: "policy callout result was not handled".into(),
        })
    }

    /// After the upstream response head has been read, before it is sent to the client.
    fn on_response_head(&self, ctx: &mut RequestContext, response: &ResponseView<'_>) -> Verdict {
        let _ = (ctx, response);
        Verdict::Continue
    }
}

/// Every built-in policy; the route's policy chain is a list of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuiltinPolicy {
    /// Authenticate and authorize the caller (first in a secured route's chain).
    Authenticate(auth::Authenticate),
    /// Add the signed backend JWT (`X-JWT-Assertion`) for the authenticated caller (right after
    /// `Authenticate`).
    BackendJwt(backend_jwt::AddBackendJwt),
    /// Set or remove request/response headers (WSO2 `SET_HEADER` / `REMOVE_HEADER`).
    Headers(HeaderMediation),
    /// Rewrite the upstream request (WSO2 `ADD_QUERY`, `REWRITE_RESOURCE_PATH`,
    /// `REWRITE_RESOURCE_METHOD`).
    Rewrite(RequestRewrite),
}

impl Policy for BuiltinPolicy {
    fn on_request_head(
        &self,
        ctx: &mut RequestContext,
        request: &RequestView<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        match self {
            Self::Authenticate(p) => p.on_request_head(ctx, request, state),
            Self::BackendJwt(p) => p.on_request_head(ctx, request, state),
            Self::Headers(p) => p.on_request_head(ctx, request, state),
            Self::Rewrite(p) => p.on_request_head(ctx, request, state),
        }
    }

    fn on_callout_result(
        &self,
        ctx: &mut RequestContext,
        outcome: &CalloutOutcome<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        match self {
            Self::Authenticate(p) => p.on_callout_result(ctx, outcome, state),
            Self::BackendJwt(p) => p.on_callout_result(ctx, outcome, state),
            Self::Headers(p) => p.on_callout_result(ctx, outcome, state),
            Self::Rewrite(p) => p.on_callout_result(ctx, outcome, state),
        }
    }

    fn on_response_head(&self, ctx: &mut RequestContext, response: &ResponseView<'_>) -> Verdict {
        match self {
            Self::Authenticate(p) => p.on_response_head(ctx, response),
            Self::BackendJwt(p) => p.on_response_head(ctx, response),
            Self::Headers(p) => p.on_response_head(ctx, response),
            Self::Rewrite(p) => p.on_response_head(ctx, response),
        }
    }
}
