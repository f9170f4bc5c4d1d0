//! The authentication policy, first in every secured route's chain: finds the credential the
//! route accepts, establishes the [`Caller`] (from the per-core cache when it can), then
//! authorizes: revocation, subscription, scopes. Leaves the caller and its key type in the request
//! context and, unless configured otherwise, removes the credential before forwarding.
//!
//! Credential order (as WSO2's enforcer): OAuth2 bearer token, then API key, then Basic. The first
//! credential present decides: a present but invalid credential is refused even when another
//! scheme is allowed, and a request with none is refused (900902) unless application security is
//! optional for the route.
//!
//! Mutual TLS comes first (WSO2's `mutualssl` / `mutualssl_mandatory`), from the client
//! certificate the handshake verified ([`super::mutual_tls`]):
//! - mandatory: no certificate (plain HTTP included) → 401 900902, a certificate this API does
//!   not trust → 401 900901, whatever token comes with it. With an accepted certificate, the
//!   application credentials are then checked as usual: required when application security is
//!   mandatory too (WSO2 `oauth_basic_auth_api_key_mandatory`), else checked only when present.
//! - optional: an accepted certificate authenticates the caller (application credentials then
//!   checked only when present, unless application security is mandatory); without one (or with
//!   one this API does not trust) the application credentials decide and are required.
//!
//! A certificate-only caller is an [`AuthMethod::MutualTls`] [`Caller`] (subject: the
//! certificate's subject DN, tier: the certificate's `tierName`); a token checked next to the
//! certificate gives the caller instead. Scopes are not checked for certificate-only callers
//! (a certificate grants none; WSO2's mutual SSL authenticator checks none either).

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use crate::credentials::{client_key, parse_basic_authorization, AuthFailure, Challenge};
use crate::verdict::AuthDenial;
use crate::{CoreState, Denial, Policy, RequestContext, RequestView, Verdict};

use super::bearer::{verify_jwt, JwtRefusal};
use super::caller::{AuthMethod, Caller};
use super::mutual_tls::{CertificateRefusal, MutualTlsMode};
use super::requirement::{ApiKeyLocation, SecurityRequirement};
use super::security::Security;

/// The API a route belongs to, as subscriptions and API keys name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRef {
    pub name: String,
    pub version: String,
    /// Base path (WSO2 context, with the version).
    pub context: String,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Authenticate {
    pub requirement: SecurityRequirement,
    pub api: ApiRef,
    /// The snapshot's security tables (one `Arc` per snapshot, cloned at compile time only).
    pub security: Arc<Security>,
    /// The requirement's scopes joined with spaces, for `insufficient_scope` challenges.
    scope_text: String,
}

impl PartialEq for Authenticate {
    fn eq(&self, other: &Self) -> bool {
        self.requirement == other.requirement
            && self.api == other.api
            && Arc::ptr_eq(&self.security, &other.security)
    }
}

impl Eq for Authenticate {}

/// A credential found in the request.
enum Presented<'r> {
    Bearer(&'r [u8]),
    Basic(&'r [u8]),
    ApiKey(&'r [u8]),
}

impl Authenticate {
    /// The policy for one route.
    pub fn new(requirement: SecurityRequirement, api: ApiRef, security: Arc<Security>) -> Self {
        let scope_text = requirement.scopes.join(" ");
        Self { requirement, api, security, scope_text }
    }

    fn deny(&self, failure: AuthFailure, scheme: Scheme, detail: &'static str) -> Verdict {
        let realm = self.security.options.realm.as_str();
        let challenge = match scheme {
            Scheme::Bearer => Challenge::Bearer {
                realm,
                scope: (failure == AuthFailure::ScopeMismatch && !self.scope_text.is_empty())
                    .then_some(self.scope_text.as_str()),
            },
            Scheme::Basic => Challenge::Basic { realm },
            // No HTTP authentication scheme stands for a client certificate: no challenge.
            Scheme::ApiKey | Scheme::MutualTls => Challenge::ApiKey,
        };
        Verdict::Respond(Denial::Auth(AuthDenial {
            failure,
            www_authenticate: failure.www_authenticate(challenge),
            detail,
        }))
    }

    /// The caller a client certificate stands for, if the route uses mutual TLS; a refusal when
    /// the route requires it and the certificate does not pass.
    fn mutual_tls(&self, request: &RequestView<'_>) -> Result<Option<Rc<Caller>>, Verdict> {
        let mode = self.requirement.mutual_tls;
        if mode == MutualTlsMode::Off {
            return Ok(None);
        }
        match self.requirement.client_certificates.accept(request.peer_certificate) {
            Ok(accepted) => Ok(Some(Rc::new(Caller {
                method: AuthMethod::MutualTls,
                issuer: None,
                subject: accepted.subject,
                consumer_key: None,
                application: None,
                scopes: Vec::new(),
                key_type: crate::KeyType::Production,
                jti: None,
                expires_at: u64::MAX,
                api_key: None,
                validate_subscriptions: false,
                tier: accepted.trusted.tier.clone(),
            }))),
            Err(_) if mode == MutualTlsMode::Optional => Ok(None),
            Err(CertificateRefusal::Missing) => Err(self.deny(
                AuthFailure::MissingCredentials,
                Scheme::MutualTls,
                "no client certificate",
            )),
            Err(CertificateRefusal::NotTrusted | CertificateRefusal::Unparsable) => Err(self.deny(
                AuthFailure::InvalidCredentials,
                Scheme::MutualTls,
                "client certificate not accepted for this API",
            )),
        }
    }

    /// The scheme to challenge with when no credential was presented.
    fn default_scheme(&self) -> Scheme {
        if self.requirement.oauth2 {
            Scheme::Bearer
        } else if self.requirement.basic {
            Scheme::Basic
        } else {
            Scheme::ApiKey
        }
    }

    /// The first credential the route accepts that the request carries.
    fn find<'r>(&self, request: &RequestView<'r>) -> Option<(Presented<'r>, Strip)> {
        let req = &self.requirement;
        if req.oauth2 || req.basic {
            if let Some(value) = header(request, req.authorization_header.as_bytes()) {
                let value = trim(value);
                if req.oauth2 {
                    if let Some(token) = strip_scheme(value, b"bearer") {
                        return Some((Presented::Bearer(token), Strip::Authorization));
                    }
                }
                if req.basic && strip_scheme(value, b"basic").is_some() {
                    return Some((Presented::Basic(value), Strip::Authorization));
                }
            }
        }
        for (i, location) in req.api_keys.iter().enumerate() {
            let found = match location {
                ApiKeyLocation::Header(name) => header(request, name.as_bytes()).map(trim),
                ApiKeyLocation::Query(name) => query_param(request.query, name.as_bytes()),
            };
            if let Some(key) = found.filter(|k| !k.is_empty()) {
                return Some((Presented::ApiKey(key), Strip::ApiKey(i)));
            }
        }
        None
    }

    /// Authorization of an established caller: revocation, subscription, scopes (not for API
    /// keys, see below).
    fn authorize(
        &self,
        ctx: &mut RequestContext,
        caller: Rc<Caller>,
        scheme: Scheme,
        strip: Strip,
        referer: Option<&[u8]>,
        state: &CoreState,
    ) -> Verdict {
        let security = &self.security;
        if let Some(jti) = caller.jti.as_deref() {
            if !security.revocations.is_empty()
                && security.revocations.is_revoked(jti, state.now_unix)
            {
                return self.deny(AuthFailure::InvalidCredentials, scheme, "revoked token");
            }
        }
        let mut key_type = caller.key_type;
        if let Some(key) = &caller.api_key {
            let api = &self.api;
            if !key.subscribed_to(&api.name, &api.version, &api.context) {
                return self.deny(AuthFailure::Forbidden, scheme, "API key not subscribed to API");
            }
            if !key.ip_permitted(ctx.client_ip) {
                return self.deny(AuthFailure::Forbidden, scheme, "client IP not permitted");
            }
            if !key.referer_permitted(referer) {
                return self.deny(AuthFailure::Forbidden, scheme, "referer not permitted");
            }
        }
        if caller.validate_subscriptions {
            let Some(consumer_key) = caller.consumer_key.as_deref() else {
                return self.deny(AuthFailure::Forbidden, scheme, "token has no consumer key");
            };
            match security.subscriptions.check(consumer_key, &self.api.name, &self.api.version) {
                Ok((_, subscribed_key_type)) => key_type = subscribed_key_type,
                Err(_) => {
                    return self.deny(AuthFailure::Forbidden, scheme, "no active subscription")
                }
            }
        }
        // Scopes are OAuth2's: an API key carries none and is not checked against them, as in
        // WSO2. Its gateway's `ApiKeyAuthenticator` (carbon-apimgt) checks the key's signature,
        // expiry, `permittedIP` / `permittedReferer` and subscription, and marks the resource
        // "no resource level authentication"; Choreo Connect's enforcer `APIKeyAuthenticator`
        // does the same with no scope step, while its `JWTAuthenticator` validates scopes. So a
        // route taking an API key or a scoped token lets the key in without the scope.
        if !matches!(caller.method, AuthMethod::ApiKey | AuthMethod::MutualTls)
            && !caller.has_any_scope(&self.requirement.scopes)
        {
            return self.deny(AuthFailure::ScopeMismatch, scheme, "missing scope");
        }
        ctx.key_type = key_type;
        ctx.caller = Some(caller);
        if security.options.strip_credentials {
            match strip {
                Strip::Authorization => ctx
                    .headers
                    .request_remove
                    .push(header_name(&self.requirement.authorization_header)),
                Strip::ApiKey(i) => match self.requirement.api_keys.get(i) {
                    Some(ApiKeyLocation::Header(name)) => {
                        ctx.headers.request_remove.push(header_name(name))
                    }
                    Some(ApiKeyLocation::Query(name)) => {
                        ctx.rewrites.remove_query.push(name.clone())
                    }
                    None => {}
                },
            }
        }
        Verdict::Continue
    }

    /// The caller a JWT credential stands for: from the core's cache, else verified and cached
    /// until the token expires.
    fn jwt_caller(
        &self,
        token: &[u8],
        method: AuthMethod,
        state: &mut CoreState,
    ) -> Result<Rc<Caller>, JwtRefusal> {
        if let Some(caller) = state.auth.tokens.get(token, state.now_unix) {
            // Bearer tokens and API keys share the cache: a token verified as one kind is not
            // the other (an access token in an API-key header skips no API-key check).
            if (caller.method == AuthMethod::ApiKey) != (method == AuthMethod::ApiKey) {
                return Err(JwtRefusal::Invalid("credential presented as another kind"));
            }
            return Ok(caller);
        }
        let text =
            std::str::from_utf8(token).map_err(|_| JwtRefusal::Invalid("token not UTF-8"))?;
        let caller = Rc::new(verify_jwt(&self.security, text, method, state)?);
        state.auth.tokens.insert(token, Rc::clone(&caller), caller.expires_at, state.now_unix);
        Ok(caller)
    }

    fn bearer(
        &self,
        ctx: &mut RequestContext,
        token: &[u8],
        strip: Strip,
        state: &mut CoreState,
    ) -> Verdict {
        let security = &self.security;
        if token.len() > security.options.max_token_len {
            return self.deny(AuthFailure::InvalidCredentials, Scheme::Bearer, "token too large");
        }
        match self.jwt_caller(token, AuthMethod::Jwt, state) {
            Ok(caller) => self.authorize(ctx, caller, Scheme::Bearer, strip, None, state),
            Err(refusal) => {
                let introspect = security.options.introspection.as_ref().is_some_and(|i| {
                    refusal == JwtRefusal::NotAJwt
                        || (i.introspect_failed_jwts && refusal == JwtRefusal::UnknownIssuer)
                });
                if introspect {
                    return super::introspect::start(self, ctx, token, state);
                }
                let detail = match refusal {
                    JwtRefusal::NotAJwt => "not a JWT and no introspection configured",
                    JwtRefusal::UnknownIssuer => "unknown issuer",
                    JwtRefusal::Invalid(why) => why,
                };
                self.deny(AuthFailure::InvalidCredentials, Scheme::Bearer, detail)
            }
        }
    }

    fn api_key(
        &self,
        ctx: &mut RequestContext,
        key: &[u8],
        strip: Strip,
        referer: Option<&[u8]>,
        state: &mut CoreState,
    ) -> Verdict {
        let security = &self.security;
        // WSO2 self-contained API keys are JWTs signed by an API-key issuer.
        if key.iter().filter(|&&b| b == b'.').count() == 2 {
            return match self.jwt_caller(key, AuthMethod::ApiKey, state) {
                Ok(caller) => self.authorize(ctx, caller, Scheme::ApiKey, strip, referer, state),
                Err(_) => {
                    self.deny(AuthFailure::InvalidCredentials, Scheme::ApiKey, "invalid API key")
                }
            };
        }
        let Some(granted) = security.api_keys.as_ref().and_then(|store| store.lookup(key)) else {
            return self.deny(AuthFailure::InvalidCredentials, Scheme::ApiKey, "unknown API key");
        };
        if !granted.allows_api(&self.api.name) {
            return self.deny(AuthFailure::Forbidden, Scheme::ApiKey, "API key not valid for API");
        }
        let caller = Rc::new(Caller {
            method: AuthMethod::ApiKey,
            issuer: None,
            subject: granted.application().to_owned(),
            consumer_key: None,
            application: Some(granted.application().to_owned()),
            scopes: Vec::new(),
            key_type: granted.key_type(),
            jti: None,
            expires_at: u64::MAX,
            api_key: None,
            validate_subscriptions: false,
            tier: None,
        });
        self.authorize(ctx, caller, Scheme::ApiKey, strip, referer, state)
    }

    fn basic(
        &self,
        ctx: &mut RequestContext,
        value: &[u8],
        strip: Strip,
        state: &mut CoreState,
    ) -> Verdict {
        let Some(store) = self.security.basic_users.as_ref() else {
            return self.deny(AuthFailure::InvalidCredentials, Scheme::Basic, "no Basic users");
        };
        let credentials = match parse_basic_authorization(value) {
            Ok(c) => c,
            Err(_) => {
                return self.deny(
                    AuthFailure::InvalidCredentials,
                    Scheme::Basic,
                    "bad Basic header",
                )
            }
        };
        let cache_key = state.auth.basic_key(value);
        if let Some(caller) = state.auth.basic.get(&cache_key, state.now_unix) {
            let caller = Rc::clone(caller);
            return self.authorize(ctx, caller, Scheme::Basic, strip, None, state);
        }
        let client = client_key(ctx.client_ip);
        if !state.auth.failures.allow(&client, state.now) {
            return self.deny(AuthFailure::InvalidCredentials, Scheme::Basic, "too many failures");
        }
        match store.verify(&credentials.username, &credentials.password) {
            Ok(principal) => {
                let expires_at =
                    state.now_unix.saturating_add(self.security.options.basic_cache_ttl_secs);
                let caller = Rc::new(Caller {
                    method: AuthMethod::Basic,
                    issuer: None,
                    subject: principal.username,
                    consumer_key: None,
                    application: None,
                    scopes: Vec::new(),
                    key_type: crate::KeyType::Production,
                    jti: None,
                    expires_at,
                    api_key: None,
                    validate_subscriptions: false,
                    tier: None,
                });
                state.auth.basic.insert(cache_key, Rc::clone(&caller), expires_at, state.now_unix);
                self.authorize(ctx, caller, Scheme::Basic, strip, None, state)
            }
            Err(_) => {
                state.auth.failures.record_failure(&client, state.now);
                self.deny(AuthFailure::InvalidCredentials, Scheme::Basic, "wrong user or password")
            }
        }
    }
}

impl Policy for Authenticate {
    fn on_request_head(
        &self,
        ctx: &mut RequestContext,
        request: &RequestView<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        let certificate = match self.mutual_tls(request) {
            Ok(caller) => caller,
            Err(denial) => return denial,
        };
        // Application credentials are required when application security is mandatory, and
        // when an optional client certificate did not authenticate the caller.
        let required = self.requirement.mandatory
            || (self.requirement.mutual_tls == MutualTlsMode::Optional && certificate.is_none());
        match self.find(request) {
            Some((Presented::Bearer(token), strip)) => self.bearer(ctx, token, strip, state),
            Some((Presented::ApiKey(key), strip)) => {
                self.api_key(ctx, key, strip, header(request, b"referer"), state)
            }
            Some((Presented::Basic(value), strip)) => self.basic(ctx, value, strip, state),
            None if !required => {
                ctx.caller = certificate;
                Verdict::Continue
            }
            None => self.deny(AuthFailure::MissingCredentials, self.default_scheme(), "none"),
        }
    }

    fn on_callout_result(
        &self,
        ctx: &mut RequestContext,
        outcome: &crate::CalloutOutcome<'_>,
        state: &mut CoreState,
    ) -> Verdict {
        super::introspect::finish(self, ctx, outcome, state)
    }
}

/// Which scheme a failure is reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    Basic,
    ApiKey,
    MutualTls,
}

/// What to remove before forwarding once the caller is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strip {
    Authorization,
    /// The API key location at this index of the requirement.
    ApiKey(usize),
}

/// Crate-internal access for the introspection module.
impl Authenticate {
    pub(crate) fn deny_bearer(&self, failure: AuthFailure, detail: &'static str) -> Verdict {
        self.deny(failure, Scheme::Bearer, detail)
    }

    pub(crate) fn authorize_bearer(
        &self,
        ctx: &mut RequestContext,
        caller: Rc<Caller>,
        state: &CoreState,
    ) -> Verdict {
        self.authorize(ctx, caller, Scheme::Bearer, Strip::Authorization, None, state)
    }
}

fn header<'r>(request: &RequestView<'r>, name: &[u8]) -> Option<&'r [u8]> {
    request.headers.get(name)
}

/// A credential header's name as a removal entry: the usual names borrowed, others copied.
fn header_name(name: &str) -> Cow<'static, str> {
    match name {
        "authorization" => Cow::Borrowed("authorization"),
        "apikey" => Cow::Borrowed("apikey"),
        other => Cow::Owned(other.to_owned()),
    }
}

fn trim(value: &[u8]) -> &[u8] {
    value.trim_ascii()
}

/// `value` after `scheme` (case-insensitive, RFC 9110 §11.1) and at least one space.
fn strip_scheme<'v>(value: &'v [u8], scheme: &[u8]) -> Option<&'v [u8]> {
    let head = value.get(..scheme.len())?;
    if !head.eq_ignore_ascii_case(scheme) {
        return None;
    }
    let rest = value.get(scheme.len()..)?;
    if rest.first() != Some(&b' ') {
        return None;
    }
    Some(rest.trim_ascii_start())
}

/// The raw value of query parameter `name` (not percent-decoded: keys are URL-safe).
fn query_param<'q>(query: Option<&'q [u8]>, name: &[u8]) -> Option<&'q [u8]> {
    query?.split(|&b| b == b'&').find_map(|pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (k, v) = pair.split_at(eq);
        (k == name).then(|| v.get(1..).unwrap_or_default())
    })
}
