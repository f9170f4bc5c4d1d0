//! WSO2 and OAuth2 wire formats the authentication policy reads: RFC 7662 introspection requests
//! and answers. Pure functions over bytes; no I/O.

pub mod introspection;
