//! The claims of WSO2 API Manager's self-contained API keys: a JWT the Developer Portal signs,
//! whose payload names the key type, the application, the subscribed APIs with their tiers, and
//! optional IP and Referer restrictions.
//!
//! Where it sits: the API key policy verifies the token's signature with [`crate::jose`] (the
//! Developer Portal's key), then reads the payload with [`ApiKeyClaims::from_claims`] and asks
//! [`ApiKeyClaims::subscription`], [`ApiKeyClaims::ip_permitted`] and
//! [`ApiKeyClaims::referer_permitted`]. This module does not verify signatures, check `exp`
//! (the JWT verifier does), look up revocations, or decide which client address to trust.
//!
//! Behaviour follows WSO2's gateway: a token is an API key when `token_type` is `apiKey` (or,
//! without it, when it names an `application` and no `consumerKey`); a subscription matches by
//! context and version; an empty
//! or absent `permittedIP` / `permittedReferer` means no restriction; a Referer list refuses a
//! request without Referer. Two deliberate differences: a malformed IP entry matches nothing (so
//! a list of only malformed entries refuses everyone), and a Referer pattern is a glob whose `*`
//! matches any run of non-space characters while every other character is literal (WSO2 turns
//! the pattern into a regular expression, so its `.` matches any character).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::jose::{Claims, JoseError};
use crate::KeyType;

/// Why a payload is not a WSO2 API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidApiKey {
    /// Not a JSON object, or a registered claim of the wrong type.
    Claims(JoseError),
    /// A WSO2 claim of the wrong shape.
    Member {
        /// The claim.
        name: &'static str,
        /// serde's description.
        reason: String,
    },
    /// No `keytype` claim.
    MissingKeyType,
    /// A `keytype` other than `PRODUCTION` or `SANDBOX`.
    UnknownKeyType(String),
    /// Another kind of WSO2 token signed by the same key: `token_type` is not `apiKey` (an
    /// `InternalKey`, say), or, without `token_type`, there is no `application` or there is a
    /// `consumerKey` (an OAuth token).
    NotAnApiKey(Option<String>),
}

impl fmt::Display for InvalidApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Claims(e) => write!(f, "{e}"),
            Self::Member { name, reason } => write!(f, "claim {name:?}: {reason}"),
            Self::MissingKeyType => f.write_str("missing claim \"keytype\""),
            Self::UnknownKeyType(value) => write!(f, "unknown keytype {value:?}"),
            Self::NotAnApiKey(Some(kind)) => write!(f, "token_type {kind:?} is not an API key"),
            Self::NotAnApiKey(None) => f.write_str("not an API key"),
        }
    }
}

impl std::error::Error for InvalidApiKey {}

/// The `application` claim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Application {
    /// Numeric id in WSO2 (a string is accepted too).
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: Option<String>,
    /// The application's UUID.
    pub uuid: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// The application throttling tier.
    pub tier: Option<String>,
    /// The user who owns it.
    pub owner: Option<String>,
}

/// One member of `subscribedAPIs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedApi {
    /// API name.
    #[serde(default)]
    pub name: String,
    /// API context, normally with the version (`/pizzashack/1.0.0`).
    #[serde(default)]
    pub context: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// API publisher.
    pub publisher: Option<String>,
    /// The subscription throttling tier (a key of `tierInfo`).
    pub subscription_tier: Option<String>,
    /// The subscriber's tenant (`carbon.super` for the super tenant).
    pub subscriber_tenant_domain: Option<String>,
}

/// One value of the `tierInfo` map (subscription tier name → its limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierInfo {
    /// `requestCount`, `bandwidthVolume`, ...
    pub tier_quota_type: Option<String>,
    /// Whether requests are refused once the quota is reached.
    pub stop_on_quota_reach: Option<bool>,
    /// Spike arrest limit (0 = none).
    pub spike_arrest_limit: Option<i64>,
    /// Spike arrest unit (`sec`, `min`).
    pub spike_arrest_unit: Option<String>,
    /// GraphQL maximum query depth.
    #[serde(rename = "graphQLMaxDepth")]
    pub graphql_max_depth: Option<i64>,
    /// GraphQL maximum query complexity.
    #[serde(rename = "graphQLMaxComplexity")]
    pub graphql_max_complexity: Option<i64>,
}

/// An address or CIDR block of `permittedIP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `192.0.2.7`, `10.0.0.0/8`, `2001:db8::1` or `2001:db8::/32`. Bits beyond the
    /// prefix are ignored; an IPv4-mapped IPv6 block is read as the IPv4 block.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            None => (text.trim().parse::<IpAddr>().ok()?, None),
            Some((addr, len)) => (addr.parse().ok()?, Some(len.parse::<u8>().ok()?)),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(match addr.to_canonical() {
            v4 @ IpAddr::V4(_) if addr.is_ipv6() => {
                Self { network: v4, prefix: prefix.checked_sub(96)? }
            }
            network => Self { network, prefix },
        })
    }

    /// Whether `ip` (IPv4-mapped IPv6 read as IPv4) is in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The claims of a WSO2 API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyClaims {
    /// `keytype`.
    pub key_type: KeyType,
    /// `application`.
    pub application: Application,
    /// `subscribedAPIs`.
    pub subscribed_apis: Vec<SubscribedApi>,
    /// `tierInfo`: subscription tier name → limits.
    pub tier_info: BTreeMap<String, TierInfo>,
    /// `permittedIP`, parsed; `None` when absent or empty (no restriction).
    pub permitted_ip: Option<Vec<IpRange>>,
    /// `permittedReferer` patterns, trimmed; `None` when absent or empty (no restriction).
    pub permitted_referer: Option<Vec<String>>,
    /// `jti`.
    pub jti: Option<String>,
    /// `exp`; WSO2 leaves it out for keys that never expire.
    pub exp: Option<u64>,
    /// `iat`.
    pub iat: Option<u64>,
    /// `iss`.
    pub iss: Option<String>,
    /// `sub`: the subscriber (`admin@carbon.super`).
    pub sub: Option<String>,
    /// `token_type` (`apiKey`).
    pub token_type: Option<String>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::Text(s) => s,
        Id::Unsigned(n) => n.to_string(),
        Id::Signed(n) => n.to_string(),
    }))
}

fn member<T: DeserializeOwned + Default>(
    all: &Map<String, Value>,
    name: &'static str,
) -> Result<T, InvalidApiKey> {
    match all.get(name) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(value) => {
            T::deserialize(value).map_err(|e| InvalidApiKey::Member { name, reason: e.to_string() })
        }
    }
}

/// A comma-separated restriction: `None` when empty, else its trimmed non-empty entries.
fn list(
    all: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Vec<String>>, InvalidApiKey> {
    let text: String = member(all, name)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let entries = text.split(',').map(str::trim).filter(|entry| !entry.is_empty());
    Ok(Some(entries.map(str::to_owned).collect()))
}

/// `*` matches any run of bytes; everything else is literal.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                retry = Some((p, t));
                p += 1;
            }
            Some(c) if text.get(t) == Some(c) => {
                p += 1;
                t += 1;
            }
            _ => match retry {
                // Let the last `*` take one more byte and try again.
                Some((star, taken)) => {
                    retry = Some((star, taken + 1));
                    p = star + 1;
                    t = taken + 1;
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).unwrap_or_default().iter().all(|&c| c == b'*')
}

/// A `*` never matches a space, so spaces in the Referer must meet literal spaces of the pattern
/// one for one; the pieces between them then match as plain globs.
fn referer_matches(pattern: &[u8], referer: &[u8]) -> bool {
    let (mut patterns, mut pieces) = (pattern.split(|&b| b == b' '), referer.split(|&b| b == b' '));
    loop {
        match (patterns.next(), pieces.next()) {
            (None, None) => return true,
            (Some(p), Some(t)) if glob(p, t) => {}
            _ => return false,
        }
    }
}

impl ApiKeyClaims {
    /// Parses a verified JWT payload.
    pub fn parse(payload: &[u8]) -> Result<Self, InvalidApiKey> {
        Self::from_claims(&Claims::parse(payload).map_err(InvalidApiKey::Claims)?)
    }

    /// Reads the WSO2 claims from claims the JWT verifier has already parsed.
    pub fn from_claims(claims: &Claims) -> Result<Self, InvalidApiKey> {
        let all = &claims.all;
        // As WSO2's gateway tells API keys from its other self-signed tokens.
        let token_type: Option<String> = member(all, "token_type")?;
        let is_api_key = match token_type.as_deref() {
            Some(kind) => kind == "apiKey",
            None => all.contains_key("application") && !all.contains_key("consumerKey"),
        };
        if !is_api_key {
            return Err(InvalidApiKey::NotAnApiKey(token_type));
        }
        let key_type = match all.get("keytype") {
            None | Some(Value::Null) => return Err(InvalidApiKey::MissingKeyType),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("PRODUCTION") => KeyType::Production,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("SANDBOX") => KeyType::Sandbox,
            Some(other) => {
                let text = other.as_str().map_or_else(|| other.to_string(), str::to_owned);
                return Err(InvalidApiKey::UnknownKeyType(text));
            }
        };
        let permitted_ip = list(all, "permittedIP")?
            .map(|entries| entries.iter().filter_map(|entry| IpRange::parse(entry)).collect());
        Ok(Self {
            key_type,
            application: member(all, "application")?,
            subscribed_apis: member(all, "subscribedAPIs")?,
            tier_info: member(all, "tierInfo")?,
            permitted_ip,
            permitted_referer: list(all, "permittedReferer")?,
            jti: claims.jti.clone(),
            exp: claims.exp,
            iat: claims.iat,
            iss: claims.iss.clone(),
            sub: claims.sub.clone(),
            token_type,
        })
    }

    /// The subscription that lets this key call the API `name`/`version` at `context`, as
    /// WSO2's gateway decides: the version must be equal and the contexts equal once trailing
    /// slashes, a `{version}` template and a trailing `/{version}` are set aside (so a route
    /// context with or without the version works). With an empty `context`, the name decides.
    pub fn subscription(&self, name: &str, version: &str, context: &str) -> Option<&SubscribedApi> {
        let base = |context: &str| -> String {
            let context = context.replace("{version}", version);
            let context = context.trim_end_matches('/');
            let suffix = format!("/{version}");
            context.strip_suffix(suffix.as_str()).unwrap_or(context).to_owned()
        };
        let wanted = (!context.is_empty()).then(|| base(context));
        self.subscribed_apis.iter().find(|api| {
            api.version == version
                && match &wanted {
                    Some(wanted) => base(&api.context) == *wanted,
                    None => api.name == name,
                }
        })
    }

    /// Whether a subscription covers this API (see [`ApiKeyClaims::subscription`]).
    pub fn subscribed_to(&self, name: &str, version: &str, context: &str) -> bool {
        self.subscription(name, version, context).is_some()
    }

    /// Whether a client at `ip` may use the key: no `permittedIP` allows all.
    pub fn ip_permitted(&self, ip: IpAddr) -> bool {
        self.permitted_ip.as_ref().is_none_or(|ranges| ranges.iter().any(|r| r.contains(ip)))
    }

    /// Whether a request with this `Referer` header may use the key: no `permittedReferer`
    /// allows all; with one, a missing or empty Referer is refused.
    pub fn referer_permitted(&self, referer: Option<&[u8]>) -> bool {
        let Some(patterns) = &self.permitted_referer else {
            return true;
        };
        match referer.map(<[u8]>::trim_ascii) {
            None | Some([]) => false,
            Some(referer) => patterns.iter().any(|p| referer_matches(p.as_bytes(), referer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(b"*a*b*", b"xxaxxbxx") && glob(b"**", b"") && glob(b"a*", b"a"));
        assert!(!glob(b"a*c", b"abcd") && !glob(b"abc", b"ab") && !glob(b"", b"x"));
        assert!(glob(b"*.example.com", b"a.b.example.com"));
        assert!(referer_matches(b"a * b", b"a xyz b") && !referer_matches(b"a * b", b"a x z b"));
        assert!(!referer_matches(b"a*", b"a b") && referer_matches(b"a* *", b"ax y"));
    }
}
