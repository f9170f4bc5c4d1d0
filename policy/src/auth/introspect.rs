//! Opaque bearer tokens: RFC 7662 introspection through a callout that core performs on the same
//! core, with the answer cached per core (until the token's `exp`, at most the configured TTL).
//!
//! Bounded per core: a token-bucket limit on introspection calls (so random tokens cannot become
//! a flood against the key manager; over the limit the request is refused as invalid), and core
//! bounds the callout's time and response size.

use std::rc::Rc;

use crate::credentials::AuthFailure;
use crate::wso2::introspection::{parse_response, request};
use crate::{CalloutOutcome, CoreState, RequestContext, Verdict};

use super::authenticate::Authenticate;
use super::bearer::key_type;
use super::caller::{AuthMethod, Caller};

/// Asks core to introspect `token` (the caller looked it up in the token cache first).
pub(crate) fn start(
    policy: &Authenticate,
    ctx: &mut RequestContext,
    token: &[u8],
    state: &mut CoreState,
) -> Verdict {
    let Some(target) = policy.security.options.introspection.as_ref() else {
        return policy.deny_bearer(AuthFailure::InvalidCredentials, "no introspection");
    };
    let Ok(text) = std::str::from_utf8(token) else {
        return policy.deny_bearer(AuthFailure::InvalidCredentials, "token not UTF-8");
    };
    if !state.auth.introspection.try_acquire(&0, state.now) {
        return policy.deny_bearer(AuthFailure::InvalidCredentials, "introspection rate limited");
    }
    ctx.pending_token = Some(token.into());
    Verdict::Callout(crate::Callout {
        cluster: target.cluster,
        request: request(&target.path, &target.host, text, target.authorization.as_deref()),
        max_in_flight: target.max_in_flight,
    })
}

/// Decides once the introspection answer (or failure) is in.
pub(crate) fn finish(
    policy: &Authenticate,
    ctx: &mut RequestContext,
    outcome: &CalloutOutcome<'_>,
    state: &mut CoreState,
) -> Verdict {
    let (Some(target), Some(token)) =
        (policy.security.options.introspection.as_ref(), ctx.pending_token.take())
    else {
        return policy.deny_bearer(AuthFailure::InvalidCredentials, "unexpected callout");
    };
    let CalloutOutcome::Response(response) = outcome else {
        return policy.deny_bearer(AuthFailure::InvalidCredentials, "introspection failed");
    };
    let answer = match parse_response(response.status, response.body) {
        Ok(answer) if answer.active => answer,
        Ok(_) => return policy.deny_bearer(AuthFailure::InvalidCredentials, "inactive token"),
        Err(_) => {
            return policy.deny_bearer(AuthFailure::InvalidCredentials, "bad introspection answer")
        }
    };
    let now = state.now_unix;
    if answer.exp.is_some_and(|exp| exp <= now) || answer.nbf.is_some_and(|nbf| nbf > now + 60) {
        return policy.deny_bearer(AuthFailure::InvalidCredentials, "expired token");
    }
    let cap = now.saturating_add(target.cache_ttl_secs);
    let expires_at = answer.exp.map_or(cap, |exp| exp.min(cap));
    let key_type = key_type(answer.claims.get("keytype"));
    let caller = Rc::new(Caller {
        method: AuthMethod::OpaqueToken,
        issuer: Some(target.name.clone()),
        subject: answer.username.clone().or_else(|| answer.sub.clone()).unwrap_or_default(),
        consumer_key: answer.client_id.clone(),
        application: None,
        scopes: answer.scope.clone(),
        key_type,
        jti: answer.jti.clone(),
        expires_at,
        api_key: None,
        validate_subscriptions: target.validate_subscriptions,
        tier: None,
    });
    state.auth.tokens.insert(&token, Rc::clone(&caller), expires_at, now);
    policy.authorize_bearer(ctx, caller, state)
}
