//! Answers for mocked routes (WSO2 prototyped APIs, `MOCKED_OAS` / `INLINE` implementations):
//! the definition's examples, chosen per request without a backend.
//!
//! Choice, as Choreo Connect's mock implementation does it: `Prefer: code=<status>` picks the
//! example of that status; otherwise the first (default) one. Among examples of that status,
//! the one whose media type the `Accept` header names is preferred. No example → 501.

use turnpike_http::h1::{self, Method, Version};

use crate::local_reply::reason_phrase;
use crate::snapshot::{MockResponse, MockResponses};

/// The example to answer with, given the request's `Prefer` and `Accept` headers.
pub fn choose<'m>(
    mocks: &'m MockResponses,
    prefer: Option<&[u8]>,
    accept: Option<&[u8]>,
) -> Option<&'m MockResponse> {
    let wanted_status = prefer.and_then(preferred_code);
    let status = match wanted_status {
        Some(code) if mocks.responses.iter().any(|m| m.status == code) => code,
        _ => mocks.responses.first()?.status,
    };
    let mut candidates = mocks.responses.iter().filter(|m| m.status == status);
    let first = candidates.clone().next();
    let accepted = accept.and_then(|accept| {
        candidates
            .find(|m| !m.content_type.is_empty() && accepts(accept, m.content_type.as_bytes()))
    });
    accepted.or(first)
}

/// `code=NNN` in a `Prefer` header value (RFC 7240 preference list).
fn preferred_code(prefer: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(prefer).ok()?;
    text.split([',', ';']).find_map(|item| {
        let (name, value) = item.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("code") {
            value.trim().trim_matches('"').parse().ok()
        } else {
            None
        }
    })
}

/// Whether an `Accept` value names `media_type` (exactly, by `type/*`, or by `*/*`).
fn accepts(accept: &[u8], media_type: &[u8]) -> bool {
    let Ok(accept) = std::str::from_utf8(accept) else { return false };
    let Ok(media_type) = std::str::from_utf8(media_type) else { return false };
    let main_type = media_type.split('/').next().unwrap_or_default();
    accept.split(',').any(|range| {
        let range = range.split(';').next().unwrap_or_default().trim();
        range.eq_ignore_ascii_case(media_type)
            || range == "*/*"
            || range.strip_suffix("/*").is_some_and(|t| t.eq_ignore_ascii_case(main_type))
    })
}

/// Writes the whole mock response into `out`.
pub fn write(
    out: &mut Vec<u8>,
    mock: &MockResponse,
    method: Method,
    version: Version,
    keep_alive: bool,
    request_id: &[u8],
) {
    h1::write_status_line(out, mock.status, reason_phrase(mock.status).as_bytes(), version);
    if !mock.content_type.is_empty() {
        h1::write_header(out, b"content-type", mock.content_type.as_bytes());
    }
    for (name, value) in &mock.headers {
        h1::write_header(out, name.as_bytes(), value.as_bytes());
    }
    let bodyless = matches!(mock.status, 100..=199 | 204 | 304);
    if !bodyless {
        h1::write_content_length(out, mock.body.len() as u64);
    }
    h1::write_header(out, b"x-request-id", request_id);
    if !keep_alive {
        h1::write_header(out, b"connection", b"close");
    } else if version == Version::Http10 {
        h1::write_header(out, b"connection", b"keep-alive");
    }
    h1::end_head(out);
    if method != Method::Head && !bodyless {
        out.extend_from_slice(&mock.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock(status: u16, ctype: &str, body: &str) -> MockResponse {
        MockResponse { status, content_type: ctype.into(), body: body.into(), headers: vec![] }
    }

    fn set() -> MockResponses {
        MockResponses {
            responses: vec![
                mock(200, "application/json", "{\"id\":1}"),
                mock(200, "application/xml", "<id>1</id>"),
                mock(404, "application/json", "{\"error\":\"none\"}"),
            ],
        }
    }

    #[test]
    fn default_is_the_first_example() {
        let s = set();
        assert_eq!(choose(&s, None, None).unwrap().body, b"{\"id\":1}");
    }

    #[test]
    fn prefer_code_and_accept_select_an_example() {
        let s = set();
        assert_eq!(choose(&s, Some(b"code=404"), None).unwrap().status, 404);
        assert_eq!(choose(&s, Some(b"return=minimal; code=\"404\""), None).unwrap().status, 404);
        assert_eq!(choose(&s, None, Some(b"application/xml")).unwrap().body, b"<id>1</id>");
        assert_eq!(choose(&s, None, Some(b"text/html, application/*;q=0.8")).unwrap().status, 200);
        // Unknown preferred code falls back to the default.
        assert_eq!(choose(&s, Some(b"code=418"), None).unwrap().status, 200);
        assert!(choose(&MockResponses::default(), None, None).is_none());
    }

    #[test]
    fn head_requests_get_the_head_only() {
        let mut out = Vec::new();
        write(
            &mut out,
            &mock(200, "application/json", "{}"),
            Method::Head,
            Version::Http11,
            true,
            b"id",
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.to_ascii_lowercase().contains("content-length: 2\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
    }
}
