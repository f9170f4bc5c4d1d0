//! Builds the snapshot's [`Security`] from `[security]` and the run-time inputs (fetched JWKS,
//! applications and subscriptions, revocations), each route's authentication policy from what its
//! definition declares, and the backend JWT policy that follows it.
//!
//! Called by `compile` on the control thread for every snapshot; the result is shared by all of the
//! snapshot's routes through one `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use turnpike_policy::auth::{
    ApiRef, Application, Authenticate, ClientCertificates, IntrospectionTarget, Issuer,
    MutualTlsMode, Revocations, Security, SecurityOptions, SecurityRequirement, Subscription,
    Subscriptions,
};
use turnpike_policy::backend_jwt::{AddBackendJwt, BackendJwt};
use turnpike_policy::credentials::{ApiKeyStore, BasicAuthStore};
use turnpike_policy::jose::{IssuerPolicy, KeySet};
use turnpike_policy::BuiltinPolicy;

use super::config::{DefaultSecurity, SecurityConfig};
use crate::openapi::DeclaredSecurity;

/// Everything security is built from.
#[derive(Debug, Clone, Default)]
pub struct SecurityInputs {
    pub config: SecurityConfig,
    /// Key sets fetched from the issuers' JWKS URLs, by issuer name.
    pub fetched: BTreeMap<String, Arc<KeySet>>,
    /// Applications and subscriptions (file and admin API together).
    pub applications: Vec<Application>,
    pub subscriptions: Vec<Subscription>,
    pub revocations: Arc<Revocations>,
    /// Bumped whenever keys, stores or issuer settings change (cores then drop their caches).
    pub epoch: u64,
}

/// The snapshot's security table; `introspection_cluster` is the cluster index `compile` gave the
/// introspection endpoint.
pub fn security_table(
    inputs: &SecurityInputs,
    introspection_cluster: Option<u32>,
) -> Result<Security, String> {
    let config = &inputs.config;
    let issuers = config
        .issuers
        .iter()
        .map(|i| Issuer {
            name: i.name.clone(),
            policy: IssuerPolicy {
                issuer: Some(i.issuer.clone()),
                audiences: i.audiences.clone(),
                allowed_algs: i.algorithms.clone(),
                skew_secs: i.clock_skew_s,
                require_exp: true,
            },
            keys: match (&i.static_keys, inputs.fetched.get(&i.name)) {
                (Some(keys), _) => Arc::new(keys.clone()),
                (None, Some(fetched)) => Arc::clone(fetched),
                (None, None) => Arc::new(KeySet::default()),
            },
            remote_keys: i.jwks_url.is_some(),
            consumer_key_claim: i.consumer_key_claim.clone(),
            scopes_claim: i.scopes_claim.clone(),
            validate_subscriptions: i.validate_subscriptions,
            claim_mappings: i.claim_mappings.clone(),
        })
        .collect();
    let api_keys = if config.api_keys.is_empty() {
        None
    } else {
        Some(
            ApiKeyStore::new(config.api_keys.clone())
                .map_err(|e| format!("[security] api_keys: {e}"))?,
        )
    };
    let basic_users = if config.basic_users.is_empty() {
        None
    } else {
        Some(
            BasicAuthStore::new(config.basic_users.clone())
                .map_err(|e| format!("[security] basic_users: {e}"))?,
        )
    };
    let subscriptions =
        Subscriptions::new(inputs.applications.clone(), inputs.subscriptions.clone())
            .map_err(|e| format!("subscriptions: {e}"))?;
    let defaults = SecurityOptions::default();
    let introspection = match (&config.introspection, introspection_cluster) {
        (Some(i), Some(cluster)) => Some(IntrospectionTarget {
            name: "introspection".to_owned(),
            cluster,
            path: if i.endpoint.base_path.is_empty() {
                "/".to_owned()
            } else {
                i.endpoint.base_path.clone()
            },
            host: i.endpoint.authority.clone(),
            authorization: i.authorization.clone(),
            introspect_failed_jwts: i.introspect_failed_jwts,
            cache_ttl_secs: i.cache_ttl_s,
            validate_subscriptions: i.validate_subscriptions,
            max_in_flight: i.max_in_flight,
        }),
        _ => None,
    };
    Ok(Security {
        issuers,
        api_keys,
        basic_users,
        subscriptions,
        revocations: Arc::clone(&inputs.revocations),
        backend_jwt: config
            .backend_jwt
            .as_ref()
            .map(|b| BackendJwt::new(Arc::clone(&b.key), b.settings.clone())),
        options: SecurityOptions {
            realm: config.realm.clone().unwrap_or(defaults.realm),
            strip_credentials: config.strip_credentials.unwrap_or(defaults.strip_credentials),
            max_token_len: defaults.max_token_len,
            basic_cache_ttl_secs: config.basic_cache_ttl_s.unwrap_or(defaults.basic_cache_ttl_secs),
            introspection,
        },
        epoch: inputs.epoch,
    })
}

/// The authentication policy of a route, or `None` when the route is open.
pub fn route_policy(
    declared: &DeclaredSecurity,
    default: DefaultSecurity,
    api: ApiRef,
    security: &Arc<Security>,
    client_certificates: &Arc<ClientCertificates>,
) -> Option<BuiltinPolicy> {
    let mut requirement = match declared {
        DeclaredSecurity::Open => return None,
        DeclaredSecurity::Unspecified => match default {
            DefaultSecurity::None => return None,
            DefaultSecurity::OAuth2 => SecurityRequirement::default(),
        },
        DeclaredSecurity::Required(req) => req.clone(),
    };
    if requirement.mutual_tls != MutualTlsMode::Off {
        requirement.client_certificates = Arc::clone(client_certificates);
    }
    Some(BuiltinPolicy::Authenticate(Authenticate::new(requirement, api, Arc::clone(security))))
}

/// The backend JWT policy of a secured route (placed right after its authentication policy), or
/// `None` when the backend JWT is disabled.
pub fn backend_jwt_policy(api: ApiRef, security: &Arc<Security>) -> Option<BuiltinPolicy> {
    security.backend_jwt.as_ref()?;
    Some(BuiltinPolicy::BackendJwt(AddBackendJwt::new(api, Arc::clone(security))))
}
