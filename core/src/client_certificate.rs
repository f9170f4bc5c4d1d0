//! Forwarding the client certificate of a mutual-TLS connection to the backend in a header
//! (`gateway.toml [tls] forward_client_certificate_header`, WSO2's `X-WSO2-CLIENT-CERTIFICATE`).
//!
//! Where it sits: `exchange` calls [`forward`] once per request, right after the request context
//! is reset and before the policy phases, when the header is configured. It only records header
//! edits in the context; `proxy` applies them when it encodes the upstream request head (so a
//! request answered locally forwards nothing).
//!
//! The value is the leaf certificate's DER in standard base64 with padding, on one line: the
//! body of its PEM form without the armour and line breaks, which is what WSO2's gateways decode
//! from this header (`clientCertificateEncode = false`, no URL encoding). A header of that name
//! sent by the client is always dropped, on plain HTTP too, so a backend can trust it came from
//! the gateway's handshake. The certificate is the one the handshake verified; whether the API
//! accepted it is the authentication policy's business (a denied request never reaches the
//! backend).

use std::borrow::Cow;

use turnpike_policy::base64::encode_standard;
use turnpike_policy::RequestContext;

/// Sets header `name` (lower case) to `certificate` in base64, or removes it when there is none.
pub fn forward(ctx: &mut RequestContext, name: &str, certificate: Option<&[u8]>) {
    match certificate {
        // `request_set` replaces a received header of the same name.
        Some(der) => ctx.headers.request_set.push((name.to_owned(), encode_standard(der))),
        None => ctx.headers.request_remove.push(Cow::Owned(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_base64_der_or_removes() {
        let mut ctx = RequestContext::default();
        forward(&mut ctx, "x-wso2-client-certificate", Some(&[0x30, 0x82, 0xff]));
        assert_eq!(
            ctx.headers.request_set,
            vec![("x-wso2-client-certificate".to_owned(), "MIL/".to_owned())]
        );
        assert!(ctx.headers.drops_request_header(b"X-WSO2-Client-Certificate"));
        let mut ctx = RequestContext::default();
        forward(&mut ctx, "x-wso2-client-certificate", None);
        assert!(ctx.headers.request_set.is_empty());
        assert!(ctx.headers.drops_request_header(b"x-wso2-CLIENT-certificate"));
    }
}
