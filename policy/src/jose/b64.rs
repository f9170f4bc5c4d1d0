//! Base64url as JOSE requires it (RFC 7515 §2: URL-safe alphabet, no padding, no whitespace):
//! the project's strict codec in [`crate::base64`], under the names the JOSE code uses.

pub use crate::base64::{decode_url as decode, encode_url as encode, InvalidBase64 as B64Error};
