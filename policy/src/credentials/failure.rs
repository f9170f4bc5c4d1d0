//! WSO2 API Microgateway error semantics for authentication failures, and the
//! `WWW-Authenticate` challenge each one carries.
//!
//! WSO2 answers authentication problems with a JSON body `{code, error_message,
//! error_description}`; the codes here are the ones its gateways send (900902 missing, 900901
//! invalid, 900908 forbidden, 900910 scope). The challenge follows RFC 6750 §3 for Bearer tokens
//! and RFC 7617 §2 for Basic. Rendering the response stays in core's `local_reply`; this module
//! only says what to render.

/// Why authentication or authorization failed, in WSO2's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFailure {
    /// No credentials in the request (900902, 401).
    MissingCredentials,
    /// Credentials present but not valid: bad signature, expired, unknown key, wrong password
    /// (900901, 401).
    InvalidCredentials,
    /// Authenticated, but not allowed to use this resource (900908, 403).
    Forbidden,
    /// The token lacks a scope the resource requires (900910, 403).
    ScopeMismatch,
}

/// The authentication scheme a failure is reported for, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge<'a> {
    /// OAuth2 bearer tokens (RFC 6750); `scope` lists the scopes the resource requires, sent with
    /// `insufficient_scope`.
    Bearer { realm: &'a str, scope: Option<&'a str> },
    /// HTTP Basic (RFC 7617).
    Basic { realm: &'a str },
    /// API keys in a header or query parameter: no standard scheme, so no challenge.
    ApiKey,
}

/// The realm Turnpike uses when configuration names none.
pub const DEFAULT_REALM: &str = "turnpike";

impl AuthFailure {
    /// WSO2 error code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "900902",
            Self::InvalidCredentials => "900901",
            Self::Forbidden => "900908",
            Self::ScopeMismatch => "900910",
        }
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingCredentials | Self::InvalidCredentials => 401,
            Self::Forbidden | Self::ScopeMismatch => 403,
        }
    }

    /// WSO2 `error_message`.
    pub fn message(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "Missing Credentials",
            Self::InvalidCredentials => "Invalid Credentials",
            Self::Forbidden => "Resource forbidden",
            Self::ScopeMismatch => {
                "The access token does not allow you to access the requested \
                                    resource"
            }
        }
    }

    /// WSO2 `error_description`.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingCredentials => {
                "Invalid Credentials. Make sure your API invocation call has a header: \
                 'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' \
                 or 'apikey: API_KEY'"
            }
            Self::InvalidCredentials => {
                "Invalid Credentials. Make sure you have provided the correct security credentials"
            }
            Self::Forbidden => {
                "User is NOT authorized to access the Resource. API Subscription \
                                validation failed."
            }
            Self::ScopeMismatch => {
                "User is NOT authorized to access the Resource with the \
                                    provided scopes"
            }
        }
    }

    /// The `WWW-Authenticate` value to send with this failure, if any.
    ///
    /// * Bearer, RFC 6750 §3: a request without a token gets only the realm (§3.1: no error code
    ///   when no authentication was attempted); an invalid token gets `error="invalid_token"`; a
    ///   missing scope gets `error="insufficient_scope"` (403) with the required `scope`.
    /// * Basic, RFC 7617 §2: `Basic realm="...", charset="UTF-8"` on 401; nothing on 403, where
    ///   other credentials would not help.
    /// * API keys: never.
    ///
    /// Realm and scope are sent as quoted strings (RFC 9110 §5.6.4, `"` and `\` escaped;
    /// control characters dropped).
    pub fn www_authenticate(&self, challenge: Challenge<'_>) -> Option<String> {
        match challenge {
            Challenge::ApiKey => None,
            Challenge::Basic { realm } => match self {
                Self::MissingCredentials | Self::InvalidCredentials => {
                    Some(format!("Basic realm={}, charset=\"UTF-8\"", quoted(realm)))
                }
                Self::Forbidden | Self::ScopeMismatch => None,
            },
            Challenge::Bearer { realm, scope } => {
                let realm = quoted(realm);
                match self {
                    Self::MissingCredentials => Some(format!("Bearer realm={realm}")),
                    Self::InvalidCredentials => Some(format!(
                        "Bearer realm={realm}, error=\"invalid_token\", \
                         error_description=\"The access token is invalid or expired\""
                    )),
                    Self::ScopeMismatch => Some(match scope {
                        Some(scope) => format!(
                            "Bearer realm={realm}, error=\"insufficient_scope\", scope={}",
                            quoted(scope)
                        ),
                        None => format!("Bearer realm={realm}, error=\"insufficient_scope\""),
                    }),
                    Self::Forbidden => None,
                }
            }
        }
    }
}

/// `s` as an HTTP quoted-string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let all = [
            (AuthFailure::MissingCredentials, "900902", 401),
            (AuthFailure::InvalidCredentials, "900901", 401),
            (AuthFailure::Forbidden, "900908", 403),
            (AuthFailure::ScopeMismatch, "900910", 403),
        ];
        for (f, code, status) in all {
            assert_eq!((f.code(), f.status()), (code, status));
            assert!(!f.message().is_empty() && !f.description().is_empty());
        }
    }

    #[test]
    fn challenges() {
        let bearer = Challenge::Bearer { realm: "turnpike", scope: Some("read write") };
        assert_eq!(
            AuthFailure::MissingCredentials.www_authenticate(bearer).as_deref(),
            Some("Bearer realm=\"turnpike\"")
        );
        assert!(AuthFailure::InvalidCredentials
            .www_authenticate(bearer)
            .is_some_and(|v| v.contains("error=\"invalid_token\"")));
        assert_eq!(
            AuthFailure::ScopeMismatch.www_authenticate(bearer).as_deref(),
            Some("Bearer realm=\"turnpike\", error=\"insufficient_scope\", scope=\"read write\"")
        );
        assert_eq!(AuthFailure::Forbidden.www_authenticate(bearer), None);
        let basic = Challenge::Basic { realm: DEFAULT_REALM };
        assert_eq!(
            AuthFailure::InvalidCredentials.www_authenticate(basic).as_deref(),
            Some("Basic realm=\"turnpike\", charset=\"UTF-8\"")
        );
        assert_eq!(AuthFailure::ScopeMismatch.www_authenticate(basic), None);
        assert_eq!(AuthFailure::MissingCredentials.www_authenticate(Challenge::ApiKey), None);
        let odd = Challenge::Basic { realm: "a\"b\\c\r\n" };
        assert_eq!(
            AuthFailure::MissingCredentials.www_authenticate(odd).as_deref(),
            Some("Basic realm=\"a\\\"b\\\\c\", charset=\"UTF-8\"")
        );
    }
}
