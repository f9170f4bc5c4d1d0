//! Every response the gateway writes itself: protocol errors, routing misses, upstream faults and
//! policy denials, rendered in one place with one catalogue of codes.
//!
//! Shape (WSO2 enforcer / Choreo Connect):
//! `{"code":"<code>","error_message":"...","error_description":"..."}` with
//! `content-type: application/json`. Codes are Choreo Connect's where it has one (`"404"` for no
//! matching API or resource, `1025xx` for upstream faults); otherwise the status itself.
//!
//! A failed TLS handshake with a backend is 503 `102503`, like a refused connection: Choreo
//! Connect's router (Envoy) counts TLS failures as upstream connection failures (`UF`), which it
//! reports as 102503. The description says which TLS check failed (untrusted certificate, wrong
//! host name, ...), never more of the backend than that; the log has the rest.

use turnpike_http::h1::{self, Version};
use turnpike_http::H1Error;
use turnpike_policy::Denial;

use crate::tls::client::TlsFailure;

/// A reply the gateway generates instead of (or after failing to get) an upstream response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalReply<'a> {
    /// The request could not be parsed or broke a framing rule.
    Malformed(H1Error),
    /// No API or resource matches the path.
    NotFound,
    /// The resource exists but not with this method.
    MethodNotAllowed { allow: &'a str },
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// The client did not send a complete request head in time.
    RequestTimeout,
    /// The upstream refused or reset the connection.
    UpstreamUnavailable,
    /// The TLS handshake with the upstream failed.
    UpstreamTls(TlsFailure),
    /// The upstream did not answer in time.
    UpstreamTimeout,
    /// The upstream answered with something that is not valid HTTP/1.1.
    UpstreamInvalidResponse,
    /// A policy refused the request.
    Denied(&'a Denial),
    /// The API is blocked (WSO2 `lifeCycleStatus: BLOCKED`).
    ApiBlocked,
    /// A mocked operation has no example to answer with.
    NoMockExample,
}

/// Status, code, message and description of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered<'a> {
    pub status: u16,
    pub code: &'a str,
    pub message: &'a str,
    pub description: &'a str,
}

impl<'a> LocalReply<'a> {
    /// The catalogue: one line per reply.
    pub fn render(&self) -> Rendered<'a> {
        let r =
            |status, code, message, description| Rendered { status, code, message, description };
        match self {
            Self::Malformed(err) => {
                let status = err.status();
                r(status, status_code_text(status), reason_phrase(status), err.reason())
            }
            Self::NotFound => {
                r(404, "404", "Not Found", "The requested resource is not available.")
            }
            Self::MethodNotAllowed { .. } => r(
                405,
                "405",
                "Method Not Allowed",
                "The requested method is not allowed for this resource.",
            ),
            Self::PayloadTooLarge => {
                r(413, "413", "Payload Too Large", "The request body exceeds the allowed size.")
            }
            Self::RequestTimeout => {
                r(408, "408", "Request Timeout", "The request head was not received in time.")
            }
            Self::UpstreamUnavailable => r(
                503,
                "102503",
                "Service Unavailable",
                "The backend service is unavailable: the connection was refused or reset.",
            ),
            Self::UpstreamTls(failure) => {
                r(503, "102503", "Service Unavailable", failure.description())
            }
            Self::UpstreamTimeout => {
                r(504, "102504", "Gateway Timeout", "The backend service did not respond in time.")
            }
            Self::UpstreamInvalidResponse => {
                r(502, "102502", "Bad Gateway", "The backend service sent an invalid response.")
            }
            Self::ApiBlocked => r(
                503,
                "700700",
                "API blocked",
                "This API has been blocked temporarily. Please try again later or contact the \
                 system administrators.",
            ),
            Self::NoMockExample => r(
                501,
                "501",
                "Not Implemented",
                "This operation of the prototyped API has no example response.",
            ),
            Self::Denied(denial) => match denial {
                Denial::Forbidden { reason } => r(403, "403", "Forbidden", reason.as_str()),
                Denial::Unauthenticated { reason } => {
                    r(401, "900901", "Invalid Credentials", reason.as_str())
                }
                Denial::InvalidRequest { reason } => r(400, "400", "Bad Request", reason.as_str()),
                Denial::Internal { reason } => r(500, "500", "Internal Server Error", reason),
                Denial::Auth(auth) => r(
                    auth.failure.status(),
                    auth.failure.code(),
                    auth.failure.message(),
                    auth.failure.description(),
                ),
            },
        }
    }

    /// Writes the whole response (head and JSON body) into `out`.
    ///
    /// `close` adds `Connection: close`; `request_id` is echoed as `x-request-id` when present.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        version: Version,
        close: bool,
        request_id: Option<&[u8]>,
    ) {
        let rendered = self.render();
        let mut body = Vec::with_capacity(160);
        body.extend_from_slice(b"{\"code\":\"");
        json_escape_into(&mut body, rendered.code);
        body.extend_from_slice(b"\",\"error_message\":\"");
        json_escape_into(&mut body, rendered.message);
        body.extend_from_slice(b"\",\"error_description\":\"");
        json_escape_into(&mut body, rendered.description);
        body.extend_from_slice(b"\"}");

        h1::write_status_line(out, rendered.status, rendered.message.as_bytes(), version);
        h1::write_header(out, b"content-type", b"application/json");
        h1::write_content_length(out, body.len() as u64);
        if let Self::MethodNotAllowed { allow } = self {
            h1::write_header(out, b"allow", allow.as_bytes());
        }
        if let Self::Denied(Denial::Auth(auth)) = self {
            if let Some(challenge) = &auth.www_authenticate {
                h1::write_header(out, b"www-authenticate", challenge.as_bytes());
            }
        }
        if let Some(id) = request_id {
            h1::write_header(out, b"x-request-id", id);
        }
        if close {
            h1::write_header(out, b"connection", b"close");
        } else if version == Version::Http10 {
            h1::write_header(out, b"connection", b"keep-alive");
        }
        h1::end_head(out);
        out.extend_from_slice(&body);
    }
}

fn status_code_text(status: u16) -> &'static str {
    match status {
        400 => "400",
        404 => "404",
        405 => "405",
        408 => "408",
        411 => "411",
        413 => "413",
        414 => "414",
        417 => "417",
        431 => "431",
        501 => "501",
        505 => "505",
        _ => "500",
    }
}

/// Reason phrases for the statuses the gateway generates.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        505 => "HTTP Version Not Supported",
        200..=299 => "OK",
        _ => "Unknown",
    }
}

fn json_escape_into(out: &mut Vec<u8>, text: &str) {
    for ch in text.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(reply: LocalReply<'_>, close: bool) -> String {
        let mut out = Vec::new();
        reply.write(&mut out, Version::Http11, close, Some(b"rid-1"));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn not_found_has_wso2_shape() {
        let t = text(LocalReply::NotFound, false);
        assert!(t.starts_with("HTTP/1.1 404 Not Found\r\n"), "{t}");
        assert!(t.contains("content-type: application/json\r\n"));
        assert!(t.contains("x-request-id: rid-1\r\n"));
        let body = t.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json_free::Json = serde_json_free::parse(body);
        assert_eq!(v.code, "404");
    }

    #[test]
    fn upstream_codes_are_choreo_connects() {
        assert_eq!(LocalReply::UpstreamUnavailable.render().code, "102503");
        assert_eq!(LocalReply::UpstreamUnavailable.render().status, 503);
        let tls = LocalReply::UpstreamTls(TlsFailure::WrongHostName).render();
        assert_eq!((tls.status, tls.code), (503, "102503"));
        assert!(tls.description.contains("host name"), "{}", tls.description);
        assert_eq!(LocalReply::UpstreamTimeout.render().code, "102504");
        assert_eq!(LocalReply::UpstreamTimeout.render().status, 504);
        assert_eq!(LocalReply::ApiBlocked.render().code, "700700");
        assert_eq!(LocalReply::ApiBlocked.render().status, 503);
    }

    #[test]
    fn method_not_allowed_lists_allow_and_closes_when_asked() {
        let t = text(LocalReply::MethodNotAllowed { allow: "GET, POST" }, true);
        assert!(t.starts_with("HTTP/1.1 405 "), "{t}");
        assert!(t.contains("allow: GET, POST\r\n"));
        assert!(t.contains("connection: close\r\n"));
    }

    #[test]
    fn denial_reason_is_json_escaped() {
        let d = Denial::Forbidden { reason: "no \"quotes\"\n here".into() };
        let t = text(LocalReply::Denied(&d), false);
        assert!(t.ends_with(r#""error_description":"no \"quotes\"\n here"}"#), "{t}");
    }

    /// A tiny extractor so the test does not need a JSON dependency in core.
    mod serde_json_free {
        pub struct Json {
            pub code: String,
        }
        pub fn parse(body: &str) -> Json {
            assert!(body.starts_with('{') && body.ends_with('}'), "{body}");
            let code = body.split("\"code\":\"").nth(1).unwrap().split('"').next().unwrap();
            Json { code: code.to_string() }
        }
    }
}
