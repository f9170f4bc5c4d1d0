//! The route policy that adds the backend JWT: second in a secured route's chain, right after
//! [`crate::auth::Authenticate`]. When authentication left a caller in the context it sets the
//! configured header (`X-JWT-Assertion`) on the upstream request, from the core's
//! [`AssertionCache`] when it can, else freshly signed and cached.
//!
//! A request without a caller (optional security, no credential) gets no assertion; routes
//! without authentication do not carry this policy at all. A client's own copy of the header is
//! never forwarded: setting a header replaces the received one, and core always drops
//! `X-JWT-Assertion`. If signing fails (ring or the system random generator), the request is
//! refused with a 500 rather than sent to a backend that may trust the header's absence.

use std::sync::Arc;

use crate::auth::{ApiRef, Security};
use crate::{CoreState, Denial, Policy, RequestContext, RequestView, Verdict};

use super::cache::{AssertionCache, AssertionKey};
use super::claims::{claims_json, random_jti, ClaimInputs};

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct AddBackendJwt {
    pub api: ApiRef,
    /// The snapshot's security tables: the generator and the subscription table.
    security: Arc<Security>,
    /// The API as one cache-key string: name, version and context, NUL-separated.
    api_key: Box<str>,
}

impl PartialEq for AddBackendJwt {
    fn eq(&self, other: &Self) -> bool {
        self.api == other.api && Arc::ptr_eq(&self.security, &other.security)
    }
}

impl Eq for AddBackendJwt {}

/// How long before its `exp` a cached assertion stops being served: a tenth of the lifetime,
/// between 1 and 30 seconds, so that a backend never receives one about to expire.
pub fn freshness_margin(ttl_secs: u64) -> u64 {
    (ttl_secs / 10).clamp(1, 30)
}

impl AddBackendJwt {
    /// The policy for a route of `api`.
    pub fn new(api: ApiRef, security: Arc<Security>) -> Self {
        let api_key = format!("{}\0{}\0{}", api.name, api.version, api.context).into_boxed_str();
        Self { api, security, api_key }
    }
}

fn signing_failed() -> Verdict {
    Verdict::Respond(Denial::Internal { reason: "the backend JWT could not be signed" })
}

impl Policy for AddBackendJwt {
    fn on_request_head(
        &self,
        ctx: &mut RequestContext,
        _request: &RequestView<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        let Some(jwt) = self.security.backend_jwt.as_ref() else { return Verdict::Continue };
        let RequestContext { caller, headers, key_type, .. } = ctx;
        let Some(caller) = caller.as_ref() else { return Verdict::Continue };
        let key = AssertionKey {
            generation: jwt.generation(),
            api: &self.api_key,
            key_type: *key_type,
            caller,
        };
        let now = state.now_unix;
        let cache: &mut AssertionCache = &mut state.assertions;
        if let Some(assertion) = cache.get(&key, now) {
            headers.request_set.push((jwt.header().to_owned(), assertion.to_owned()));
            return Verdict::Continue;
        }
        let Some(jti) = random_jti() else { return signing_failed() };
        let inputs = ClaimInputs {
            caller,
            api: &self.api,
            key_type: *key_type,
            subscriptions: &self.security.subscriptions,
        };
        let (claims, exp) = claims_json(jwt.settings(), &inputs, now, &jti);
        let Ok(assertion) = jwt.key().sign(claims.as_bytes()) else { return signing_failed() };
        let fresh_until = exp.saturating_sub(freshness_margin(jwt.settings().ttl_secs));
        cache.insert(&key, &assertion, fresh_until, now);
        headers.request_set.push((jwt.header().to_owned(), assertion));
        Verdict::Continue
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::rc::Rc;
    use std::time::Instant;

    use super::*;
    use crate::auth::{AuthMethod, AuthStateConfig, Caller};
    use crate::backend_jwt::claims::tests::caller;
    use crate::backend_jwt::{BackendJwt, BackendJwtSettings};
    use crate::jose::{decode_and_verify, Alg, IssuerPolicy, KeySet, SigningKey};
    use crate::KeyType;

    fn policy(ttl_secs: u64) -> AddBackendJwt {
        let (key, _) = SigningKey::generate(Alg::ES256, Some("k".into())).unwrap();
        let settings = BackendJwtSettings { ttl_secs, ..Default::default() };
        let security = Security {
            backend_jwt: Some(BackendJwt::new(Arc::new(key), settings)),
            ..Default::default()
        };
        let api = ApiRef { name: "Shop".into(), version: "v1".into(), context: "/shop/v1".into() };
        AddBackendJwt::new(api, Arc::new(security))
    }

    fn run(p: &AddBackendJwt, caller: Option<Rc<Caller>>, state: &mut CoreState) -> Option<String> {
        let mut ctx = RequestContext::new(IpAddr::V4(Ipv4Addr::LOCALHOST));
        ctx.caller = caller;
        let view = RequestView {
            method: b"GET",
            path: b"/",
            query: None,
            headers: crate::HeaderList::EMPTY,
            peer_certificate: None,
        };
        assert_eq!(p.on_request_head(&mut ctx, &view, state), Verdict::Continue);
        assert!(ctx.headers.request_set.len() <= 1);
        ctx.headers.request_set.pop().map(|(name, value)| {
            assert_eq!(name, "x-jwt-assertion");
            value
        })
    }

    fn state_at(now: u64) -> CoreState {
        let mut state = CoreState::new(AuthStateConfig::default()).unwrap();
        state.set_time(now, Instant::now());
        state
    }

    #[test]
    fn signs_once_then_serves_from_the_cache_until_near_expiry() {
        let p = policy(900);
        let mut state = state_at(1_000);
        let alice = Rc::new(caller(AuthMethod::Jwt)); // token exp 10_000
        let first = run(&p, Some(Rc::clone(&alice)), &mut state).unwrap();
        assert_eq!(state.assertions.len(), 1);

        // Verifies with the published key, and says what the claims module builds.
        let jwt = p.security.backend_jwt.as_ref().unwrap();
        let keys = KeySet::from_jwks(jwt.jwks()).unwrap();
        let issuer = IssuerPolicy::new("wso2.org/products/am", vec![Alg::ES256]);
        let claims = decode_and_verify(&first, &keys, &issuer, 1_000).unwrap();
        assert_eq!(claims.exp, Some(1_900));
        assert_eq!(claims.all["http://wso2.org/claims/apicontext"], "/shop/v1");

        // A hit: the same bytes (a new signature would differ: ECDSA is randomised, jti too).
        state.set_time(1_500, Instant::now());
        assert_eq!(run(&p, Some(Rc::clone(&alice)), &mut state).unwrap(), first);
        // 30 s before exp (margin of a 900 s lifetime), a new one.
        state.set_time(1_870, Instant::now());
        let renewed = run(&p, Some(Rc::clone(&alice)), &mut state).unwrap();
        assert_ne!(renewed, first);
        assert_eq!(state.assertions.len(), 1, "replaced in place");

        // Another key type is another assertion.
        let mut ctx = RequestContext::new(IpAddr::V4(Ipv4Addr::LOCALHOST));
        ctx.caller = Some(Rc::clone(&alice));
        ctx.key_type = KeyType::Sandbox;
        let view = RequestView {
            method: b"GET",
            path: b"/",
            query: None,
            headers: crate::HeaderList::EMPTY,
            peer_certificate: None,
        };
        let _ = p.on_request_head(&mut ctx, &view, &mut state);
        assert_ne!(ctx.headers.request_set[0].1, renewed);
    }

    #[test]
    fn no_caller_no_assertion_and_short_lived_tokens_are_not_cached() {
        let p = policy(900);
        let mut state = state_at(1_000);
        assert_eq!(run(&p, None, &mut state), None);
        let mut short = caller(AuthMethod::Jwt);
        short.expires_at = 1_010; // within the margin
        let a = run(&p, Some(Rc::new(short)), &mut state).unwrap();
        assert!(!a.is_empty());
        assert_eq!(state.assertions.len(), 0);
    }

    #[test]
    fn disabled_generator_adds_nothing() {
        let api = ApiRef { name: "a".into(), version: "1".into(), context: "/a/1".into() };
        let p = AddBackendJwt::new(api, Arc::new(Security::default()));
        let mut state = state_at(1);
        assert_eq!(run(&p, Some(Rc::new(caller(AuthMethod::Jwt))), &mut state), None);
        assert_eq!(freshness_margin(900), 30);
        assert_eq!(freshness_margin(5), 1);
        assert_eq!(freshness_margin(100), 10);
    }
}
