//! JWT claims (RFC 7519 §4.1) and their validation against one issuer's [`IssuerPolicy`], with
//! the current time injected (`now`, seconds since the Unix epoch) so tests use a fixed clock.
//!
//! Runs only after the signature has verified. Checks: `exp` (required unless the policy says
//! otherwise), `nbf`, `iat` not in the future, `iss` exact match, `aud` (string or array; one must
//! be configured when audiences are set), all time checks with the policy's skew.

use serde_json::{Map, Value};

use super::alg::Alg;
use super::error::JoseError;
use super::json::parse_object;

/// What one issuer's tokens must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerPolicy {
    /// Exact `iss` required; `None` skips the check (only for tests and signature-only uses).
    pub issuer: Option<String>,
    /// When non-empty, one of the token's `aud` values must be in this list. When empty, `aud`
    /// is not checked.
    pub audiences: Vec<String>,
    /// Algorithms accepted from this issuer; anything else is [`JoseError::AlgNotAllowed`].
    pub allowed_algs: Vec<Alg>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub skew_secs: u64,
    /// Whether a token without `exp` is refused.
    pub require_exp: bool,
}

impl IssuerPolicy {
    /// Default clock skew, in seconds.
    pub const DEFAULT_SKEW_SECS: u64 = 60;

    /// A policy for `issuer` accepting `allowed_algs`, any audience, default skew, `exp` required.
    pub fn new(issuer: impl Into<String>, allowed_algs: Vec<Alg>) -> Self {
        Self {
            issuer: Some(issuer.into()),
            audiences: Vec::new(),
            allowed_algs,
            skew_secs: Self::DEFAULT_SKEW_SECS,
            require_exp: true,
        }
    }
}

/// The claims of a verified token: the registered ones typed, and every claim as parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    /// `iss`.
    pub iss: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `aud`, a single string becoming a one-element list.
    pub aud: Vec<String>,
    /// `exp`, seconds (fractions truncated).
    pub exp: Option<u64>,
    /// `nbf`, seconds (fractions truncated).
    pub nbf: Option<u64>,
    /// `iat`, seconds (fractions truncated).
    pub iat: Option<u64>,
    /// `jti`.
    pub jti: Option<String>,
    /// `azp` (OpenID Connect authorized party; WSO2 puts the consumer key here).
    pub azp: Option<String>,
    /// `scope`: a space-separated string (RFC 8693 §4.2); an array of strings is joined with
    /// spaces.
    pub scope: Option<String>,
    /// Every claim, registered ones included.
    pub all: Map<String, Value>,
}

fn string_claim(all: &Map<String, Value>, name: &'static str) -> Result<Option<String>, JoseError> {
    match all.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JoseError::InvalidClaims(name)),
    }
}

/// RFC 7519 §2 NumericDate: a non-negative JSON number of seconds, possibly fractional.
fn date_claim(all: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, JoseError> {
    let Some(value) = all.get(name) else {
        return Ok(None);
    };
    let Value::Number(n) = value else {
        return Err(JoseError::InvalidClaims(name));
    };
    if let Some(secs) = n.as_u64() {
        return Ok(Some(secs));
    }
    match n.as_f64() {
        // 1.8e19 < u64::MAX, so the truncating cast cannot saturate unexpectedly.
        Some(secs) if secs.is_finite() && (0.0..1.8e19).contains(&secs) => Ok(Some(secs as u64)),
        _ => Err(JoseError::InvalidClaims(name)),
    }
}

impl Claims {
    /// Parses a JWT payload: a JSON object without duplicate members whose registered claims
    /// have the types RFC 7519 gives them.
    pub fn parse(payload: &[u8]) -> Result<Self, JoseError> {
        let all =
            parse_object(payload).map_err(|_| JoseError::InvalidClaims("not a JSON object"))?;
        Self::from_map(all)
    }

    /// Types the registered claims of an already parsed object (RFC 7662 introspection
    /// responses carry the same members).
    pub(crate) fn from_map(all: Map<String, Value>) -> Result<Self, JoseError> {
        let aud = match all.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(JoseError::InvalidClaims("aud"))?,
            Some(_) => return Err(JoseError::InvalidClaims("aud")),
        };
        let scope = match all.get("scope") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(Value::as_str)
                    .collect::<Option<Vec<_>>>()
                    .ok_or(JoseError::InvalidClaims("scope"))?
                    .join(" "),
            ),
            Some(_) => return Err(JoseError::InvalidClaims("scope")),
        };
        Ok(Self {
            iss: string_claim(&all, "iss")?,
            sub: string_claim(&all, "sub")?,
            aud,
            exp: date_claim(&all, "exp")?,
            nbf: date_claim(&all, "nbf")?,
            iat: date_claim(&all, "iat")?,
            jti: string_claim(&all, "jti")?,
            azp: string_claim(&all, "azp")?,
            scope,
            all,
        })
    }

    /// Checks the claims against `policy` at time `now` (seconds since the Unix epoch).
    pub fn validate(&self, policy: &IssuerPolicy, now: u64) -> Result<(), JoseError> {
        let skew = policy.skew_secs;
        match self.exp {
            // RFC 7519 §4.1.4: the current time MUST be before `exp`.
            Some(exp) if now >= exp.saturating_add(skew) => return Err(JoseError::Expired),
            Some(_) => {}
            None if policy.require_exp => return Err(JoseError::MissingClaim("exp")),
            None => {}
        }
        // RFC 7519 §4.1.5: the current time MUST be after or equal to `nbf`.
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(skew)) {
            return Err(JoseError::NotYetValid);
        }
        if self.iat.is_some_and(|iat| iat > now.saturating_add(skew)) {
            return Err(JoseError::IssuedInFuture);
        }
        if let Some(issuer) = &policy.issuer {
            match &self.iss {
                None => return Err(JoseError::MissingClaim("iss")),
                Some(iss) if iss != issuer => return Err(JoseError::WrongIssuer),
                Some(_) => {}
            }
        }
        if !policy.audiences.is_empty() {
            if self.aud.is_empty() {
                return Err(JoseError::MissingClaim("aud"));
            }
            if !self.aud.iter().any(|aud| policy.audiences.contains(aud)) {
                return Err(JoseError::WrongAudience);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn policy() -> IssuerPolicy {
        IssuerPolicy::new("https://idp.example", vec![Alg::RS256])
    }

    fn claims(json: &str) -> Claims {
        Claims::parse(json.as_bytes()).unwrap()
    }

    fn check(json: &str, policy: &IssuerPolicy) -> Result<(), JoseError> {
        claims(json).validate(policy, NOW)
    }

    #[test]
    fn parses_registered_claims() {
        let c = claims(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":10,"nbf":1.9,"iat":2,"jti":"j",
                "azp":"z","scope":"read write","x":{"y":1}}"#,
        );
        assert_eq!(c.iss.as_deref(), Some("i"));
        assert_eq!(c.aud, ["a", "b"]);
        assert_eq!((c.exp, c.nbf, c.iat), (Some(10), Some(1), Some(2)));
        assert_eq!(c.scope.as_deref(), Some("read write"));
        assert_eq!(c.all.len(), 10);
        assert_eq!(claims(r#"{"aud":"a","scope":["r","w"]}"#).aud, ["a"]);
        assert_eq!(claims(r#"{"scope":["r","w"]}"#).scope.as_deref(), Some("r w"));
    }

    #[test]
    fn refuses_bad_types() {
        for bad in [
            r#"{"iss":1}"#,
            r#"{"aud":[1]}"#,
            r#"{"aud":{}}"#,
            r#"{"exp":"1"}"#,
            r#"{"exp":-1}"#,
            r#"{"nbf":true}"#,
            r#"{"scope":3}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"[]"#,
            "foo",
        ] {
            assert!(Claims::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn exp() {
        let p = policy();
        let ok = format!(r#"{{"iss":"https://idp.example","exp":{}}}"#, NOW + 1);
        assert_eq!(check(&ok, &p), Ok(()));
        // Within skew.
        let skewed = format!(r#"{{"iss":"https://idp.example","exp":{}}}"#, NOW - 59);
        assert_eq!(check(&skewed, &p), Ok(()));
        let expired = format!(r#"{{"iss":"https://idp.example","exp":{}}}"#, NOW - 60);
        assert_eq!(check(&expired, &p), Err(JoseError::Expired));
        let none = r#"{"iss":"https://idp.example"}"#;
        assert_eq!(check(none, &p), Err(JoseError::MissingClaim("exp")));
        let optional = IssuerPolicy { require_exp: false, ..policy() };
        assert_eq!(check(none, &optional), Ok(()));
        let no_skew = IssuerPolicy { skew_secs: 0, ..policy() };
        let at_exp = format!(r#"{{"iss":"https://idp.example","exp":{NOW}}}"#);
        assert_eq!(check(&at_exp, &no_skew), Err(JoseError::Expired));
        let huge = format!(r#"{{"iss":"https://idp.example","exp":{}}}"#, u64::MAX);
        assert_eq!(check(&huge, &p), Ok(()));
    }

    #[test]
    fn nbf_and_iat() {
        let p = IssuerPolicy { require_exp: false, ..policy() };
        let nbf = |t: u64| format!(r#"{{"iss":"https://idp.example","nbf":{t}}}"#);
        assert_eq!(check(&nbf(NOW + 60), &p), Ok(()));
        assert_eq!(check(&nbf(NOW + 61), &p), Err(JoseError::NotYetValid));
        let iat = |t: u64| format!(r#"{{"iss":"https://idp.example","iat":{t}}}"#);
        assert_eq!(check(&iat(NOW - 1000), &p), Ok(()));
        assert_eq!(check(&iat(NOW + 60), &p), Ok(()));
        assert_eq!(check(&iat(NOW + 61), &p), Err(JoseError::IssuedInFuture));
    }

    #[test]
    fn issuer() {
        let p = IssuerPolicy { require_exp: false, ..policy() };
        assert_eq!(check(r#"{"iss":"https://idp.example/"}"#, &p), Err(JoseError::WrongIssuer));
        assert_eq!(check(r#"{"iss":"https://IDP.example"}"#, &p), Err(JoseError::WrongIssuer));
        assert_eq!(check(r#"{}"#, &p), Err(JoseError::MissingClaim("iss")));
        let any = IssuerPolicy { issuer: None, ..p };
        assert_eq!(check(r#"{"iss":"other"}"#, &any), Ok(()));
    }

    #[test]
    fn audience() {
        let p = IssuerPolicy {
            require_exp: false,
            audiences: vec!["api-1".into(), "api-2".into()],
            ..policy()
        };
        let with = |aud: &str| format!(r#"{{"iss":"https://idp.example","aud":{aud}}}"#);
        assert_eq!(check(&with(r#""api-2""#), &p), Ok(()));
        assert_eq!(check(&with(r#"["x","api-1"]"#), &p), Ok(()));
        assert_eq!(check(&with(r#""api-3""#), &p), Err(JoseError::WrongAudience));
        assert_eq!(check(&with("[]"), &p), Err(JoseError::MissingClaim("aud")));
        assert_eq!(
            check(r#"{"iss":"https://idp.example"}"#, &p),
            Err(JoseError::MissingClaim("aud"))
        );
        let unchecked = IssuerPolicy { audiences: Vec::new(), ..p };
        assert_eq!(check(&with(r#""api-3""#), &unchecked), Ok(()));
    }
}
