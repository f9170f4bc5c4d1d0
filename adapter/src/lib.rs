//! Turnpike's control plane: reads `gateway.toml` and a directory of WSO2 API Microgateway style
//! API definitions (OpenAPI 3.x / Swagger 2.0 with `x-wso2-*` extensions), validates them, and
//! compiles them into the immutable `turnpike_core::Snapshot` the data plane serves.
//!
//! Flow (control thread, off the request path):
//! [`config::load`] → [`load::load_dir`] ([`openapi::parse`] per file) → [`compile::compile`] →
//! `turnpike_core::start` / `publish`. Every rejection is an error enum naming the file and the
//! JSON pointer of the key at fault ([`ConfigError`], [`LoadError`], [`CompileError`]); anything
//! accepted but not enforced yet is returned as a [`Warning`].
//!
//! The `turnpike` binary (`src/main.rs`) is a thin CLI over this library; it is the only place
//! that uses `anyhow` or touches signals and process exit codes.
#![forbid(unsafe_code)]

pub mod admin;
pub mod compile;
pub mod config;
pub mod deploy;
pub mod error;
pub mod https;
pub mod load;
pub mod openapi;
pub mod pointer;
pub mod project;
pub mod security;
pub mod summary;
pub mod upstream_tls;

pub use compile::{compile, compile_secured, compile_with_tls};
pub use config::{GatewayConfig, Overrides};
pub use error::{BuildError, CompileError, ConfigError, LoadError, Warning};
pub use load::{load_dir, Loaded};
pub use openapi::ApiDefinition;

/// Loads every definition of `dir` and compiles it with `settings`: what `turnpike validate`
/// does, and what `turnpike run` does before starting the core.
pub fn build_snapshot(
    dir: &std::path::Path,
    settings: turnpike_core::Settings,
    security: &security::SecurityInputs,
    upstream_tls: &upstream_tls::UpstreamTls,
) -> Result<(turnpike_core::Snapshot, Vec<Warning>), BuildError> {
    let loaded = load_dir(dir).map_err(BuildError::Load)?;
    let snapshot = compile_with_tls(&loaded.definitions, settings, security, upstream_tls)
        .map_err(BuildError::Compile)?;
    Ok((snapshot, loaded.warnings))
}
