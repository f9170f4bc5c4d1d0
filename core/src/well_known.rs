//! `GET /.wellknown/jwks` on the data-plane listener: the public keys of the backend JWT
//! (`X-JWT-Assertion`), served from the bytes precomputed into the snapshot
//! ([`turnpike_policy::backend_jwt::BackendJwt::jwks`]), as Choreo Connect serves them on its
//! router port so that backends can verify the assertions they receive.
//!
//! Where it sits: `exchange::run` checks the path before routing, and only when the snapshot has
//! a backend JWT generator: then the well-known path wins over an API that would own it;
//! otherwise the request is routed as any other (an API there is served, else 404). `GET` and
//! `HEAD` are answered here; other methods get 405 with `Allow: GET, HEAD` from `local_reply`.
//!
//! What it does not do: build JSON per request, or answer anything else.

use turnpike_http::h1::{self, Method, Version};

/// The path of the key set (Choreo Connect's spelling, without a hyphen).
pub const JWKS_PATH: &[u8] = b"/.wellknown/jwks";

/// What `Allow` lists for the key set.
pub const ALLOW: &str = "GET, HEAD";

/// Whether `method` may read the key set.
#[inline]
pub fn allowed(method: Method) -> bool {
    matches!(method, Method::Get | Method::Head)
}

/// Writes the whole response (head, and the body unless `HEAD`) into `out`.
pub fn write(
    out: &mut Vec<u8>,
    jwks: &[u8],
    method: Method,
    version: Version,
    keep_alive: bool,
    request_id: &[u8],
) {
    h1::write_status_line(out, 200, b"OK", version);
    h1::write_header(out, b"content-type", b"application/json");
    h1::write_content_length(out, jwks.len() as u64);
    h1::write_header(out, b"x-request-id", request_id);
    if !keep_alive {
        h1::write_header(out, b"connection", b"close");
    } else if version == Version::Http10 {
        h1::write_header(out, b"connection", b"keep-alive");
    }
    h1::end_head(out);
    if method != Method::Head {
        out.extend_from_slice(jwks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_has_the_body_and_head_only_the_head() {
        let jwks = br#"{"keys":[]}"#;
        let mut out = Vec::new();
        write(&mut out, jwks, Method::Get, Version::Http11, true, b"rid");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("content-type: application/json\r\n"), "{text}");
        assert!(text.to_ascii_lowercase().contains("content-length: 11\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n{\"keys\":[]}"), "{text}");

        let mut out = Vec::new();
        write(&mut out, jwks, Method::Head, Version::Http10, false, b"rid");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
        assert!(text.contains("connection: close\r\n"), "{text}");
        assert!(text.to_ascii_lowercase().contains("content-length: 11\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
        assert!(allowed(Method::Get) && allowed(Method::Head) && !allowed(Method::Post));
    }
}
