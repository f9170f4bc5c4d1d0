//! Header mediation: set or remove request and response headers (WSO2 `SET_HEADER` and
//! `REMOVE_HEADER` operation policies).
//!
//! The policy only records edits in the context; core applies them while encoding the heads, so no
//! header is copied twice.

use std::borrow::Cow;

use crate::context::{RequestContext, RequestView, ResponseView};
use crate::verdict::Verdict;
use crate::{CoreState, Policy};

/// Which message a header edit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// One header edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    Set { name: String, value: String },
    Remove { name: String },
}

/// A list of header edits applied in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMediation {
    direction: Direction,
    edits: Vec<HeaderEdit>,
}

/// Why a header policy was rejected at compile time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidHeaderPolicy {
    /// The name is not an HTTP token.
    Name(String),
    /// The value holds CR, LF or NUL.
    Value(String),
    /// The header is managed by the gateway (framing or hop-by-hop) and cannot be mediated.
    Reserved(String),
}

impl std::fmt::Display for InvalidHeaderPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Name(n) => write!(f, "header name {n:?} is not a valid HTTP token"),
            Self::Value(v) => write!(f, "header value {v:?} contains CR, LF or NUL"),
            Self::Reserved(n) => write!(f, "header {n:?} is managed by the gateway"),
        }
    }
}

impl std::error::Error for InvalidHeaderPolicy {}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl HeaderMediation {
    /// Validates and builds a mediation policy (called by the adapter, off the hot path).
    pub fn new(direction: Direction, edits: Vec<HeaderEdit>) -> Result<Self, InvalidHeaderPolicy> {
        let mut normalized = Vec::with_capacity(edits.len());
        for edit in edits {
            let (name, value) = match &edit {
                HeaderEdit::Set { name, value } => (name, Some(value)),
                HeaderEdit::Remove { name } => (name, None),
            };
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(InvalidHeaderPolicy::Name(name.clone()));
            }
            if turnpike_http::h1::is_hop_by_hop(name.as_bytes())
                || name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("host")
            {
                return Err(InvalidHeaderPolicy::Reserved(name.clone()));
            }
            if let Some(v) = value {
                if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    return Err(InvalidHeaderPolicy::Value(v.clone()));
                }
            }
            normalized.push(match edit {
                HeaderEdit::Set { name, value } => {
                    HeaderEdit::Set { name: name.to_ascii_lowercase(), value }
                }
                HeaderEdit::Remove { name } => {
                    HeaderEdit::Remove { name: name.to_ascii_lowercase() }
                }
            });
        }
        Ok(Self { direction, edits: normalized })
    }

    fn record(&self, ctx: &mut RequestContext) {
        let (set, remove) = match self.direction {
            Direction::Request => (&mut ctx.headers.request_set, &mut ctx.headers.request_remove),
            Direction::Response => {
                (&mut ctx.headers.response_set, &mut ctx.headers.response_remove)
            }
        };
        for edit in &self.edits {
            match edit {
                HeaderEdit::Set { name, value } => {
                    set.retain(|(n, _)| n != name);
                    set.push((name.clone(), value.clone()));
                }
                HeaderEdit::Remove { name } => {
                    set.retain(|(n, _)| n != name);
                    remove.push(Cow::Owned(name.clone()));
                }
            }
        }
    }
}

impl Policy for HeaderMediation {
    fn on_request_head(
        &self,
        ctx: &mut RequestContext,
        _request: &RequestView<'_>,
        _state: &mut CoreState,
    ) -> Verdict {
        self.record(ctx);
        Verdict::Continue
    }

    fn on_response_head(&self, _ctx: &mut RequestContext, _response: &ResponseView<'_>) -> Verdict {
        // Response edits were recorded with the request edits; core applies both.
        Verdict::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CoreState {
        CoreState::new(crate::auth::AuthStateConfig::default()).unwrap()
    }
    use std::net::{IpAddr, Ipv4Addr};

    fn ctx() -> RequestContext {
        RequestContext::new(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    fn view() -> RequestView<'static> {
        RequestView {
            method: b"GET",
            path: b"/",
            query: None,
            headers: crate::HeaderList::EMPTY,
            peer_certificate: None,
        }
    }

    #[test]
    fn set_then_remove_records_both_and_last_wins() {
        let p = HeaderMediation::new(
            Direction::Request,
            vec![
                HeaderEdit::Set { name: "X-Env".into(), value: "prod".into() },
                HeaderEdit::Remove { name: "X-Debug".into() },
                HeaderEdit::Set { name: "x-env".into(), value: "stage".into() },
            ],
        )
        .unwrap();
        let mut c = ctx();
        assert_eq!(p.on_request_head(&mut c, &view(), &mut state()), Verdict::Continue);
        assert_eq!(c.headers.request_set, vec![("x-env".to_string(), "stage".to_string())]);
        assert!(c.headers.drops_request_header(b"X-DEBUG"));
        assert!(c.headers.drops_request_header(b"x-env"));
        assert!(!c.headers.drops_request_header(b"accept"));
    }

    #[test]
    fn response_direction_records_response_edits() {
        let p = HeaderMediation::new(
            Direction::Response,
            vec![HeaderEdit::Remove { name: "Server".into() }],
        )
        .unwrap();
        let mut c = ctx();
        p.on_request_head(&mut c, &view(), &mut state());
        assert!(c.headers.drops_response_header(b"server"));
        assert!(c.headers.request_remove.is_empty());
    }

    #[test]
    fn rejects_bad_names_values_and_reserved_headers() {
        let set = |n: &str, v: &str| {
            HeaderMediation::new(
                Direction::Request,
                vec![HeaderEdit::Set { name: n.into(), value: v.into() }],
            )
        };
        assert_eq!(set("bad name", "v"), Err(InvalidHeaderPolicy::Name("bad name".into())));
        assert_eq!(set("x", "a\r\nb: c"), Err(InvalidHeaderPolicy::Value("a\r\nb: c".into())));
        assert_eq!(
            set("Transfer-Encoding", "chunked"),
            Err(InvalidHeaderPolicy::Reserved("Transfer-Encoding".into()))
        );
        assert_eq!(
            set("Content-Length", "1"),
            Err(InvalidHeaderPolicy::Reserved("Content-Length".into()))
        );
    }
}
