//! Sans-IO HTTP codecs for Turnpike.
//!
//! Where it sits: connection bytes → **`http::h1` parse** → `core` exchange → **`http::h1` encode**.
//! `core` owns the sockets and read buffers; this crate only looks at byte slices the caller
//! hands it and answers "complete", "need more bytes" ([`h1::Parsed::Partial`]) or a typed
//! [`H1Error`] that carries the status code to answer with. Encoders append to a caller's
//! `Vec<u8>`.
//!
//! What it does not do: no I/O, no runtime, no allocation per message once the caller's
//! vectors are warm, no routing or header rewriting (that is `core` / `policy`), no HTTP/2 yet.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

pub mod error;
pub mod h1;
pub mod limits;
pub mod span;

pub use error::H1Error;
pub use limits::Limits;
pub use span::Span;
