//! The adapter's error and warning types: one enum per stage (gateway config, API definition
//! loading, compilation), each naming the file and, where it applies, the JSON pointer inside it.
//!
//! Where it sits: returned by [`crate::config`], [`crate::load`] / [`crate::openapi`] and
//! [`crate::compile`]; `main` prints them and exits with status 1. [`Warning`]s are collected
//! alongside successful results and logged by the caller: anything recognised in a definition but
//! not enforced yet is reported, never silently dropped.
//!
//! Nothing here formats for a particular sink: `Display` gives one line per error, ready for a
//! terminal or a log, and already includes the underlying cause (so `source()` is `None`, and an
//! error chain printer shows it once).

use std::fmt;
use std::io;
use std::path::PathBuf;

use turnpike_core::router::RouterError;

/// Something in a definition that was accepted but is not acted on (yet), or was guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    /// JSON pointer of the value concerned.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file.display(), display_pointer(&self.pointer), self.message)
    }
}

/// Why `gateway.toml` (or a command-line override) was rejected.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read { file: PathBuf, source: io::Error },
    /// The file is not valid TOML.
    Syntax { file: PathBuf, line: usize, column: usize, message: String },
    /// A key is unknown, has the wrong type or an invalid value.
    InvalidConfig { file: PathBuf, pointer: String, reason: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { file, source } => write!(f, "{}: cannot read: {source}", file.display()),
            Self::Syntax { file, line, column, message } => {
                write!(f, "{}: line {line}, column {column}: {message}", file.display())
            }
            Self::InvalidConfig { file, pointer, reason } => {
                write!(f, "{}: {}: {reason}", file.display(), display_pointer(pointer))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why an API definition (or the directory holding them) could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The definitions directory could not be listed.
    ReadDir { dir: PathBuf, source: io::Error },
    /// A definition file could not be read.
    Read { file: PathBuf, source: io::Error },
    /// A definition file is not valid YAML or JSON.
    Syntax { file: PathBuf, line: usize, column: usize, message: String },
    /// A definition is well-formed but invalid: a missing or bad value at `pointer`.
    InvalidDefinition { file: PathBuf, pointer: String, reason: String },
    /// A project archive (zip) is not a zip, or breaks a limit (size, entry count, compression
    /// ratio, entry names escaping the project); the reason says which.
    Archive(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadDir { dir, source } => {
                write!(f, "{}: cannot list API definitions: {source}", dir.display())
            }
            Self::Read { file, source } => write!(f, "{}: cannot read: {source}", file.display()),
            Self::Syntax { file, line, column, message } => {
                write!(f, "{}: line {line}, column {column}: {message}", file.display())
            }
            Self::InvalidDefinition { file, pointer, reason } => {
                write!(f, "{}: {}: {reason}", file.display(), display_pointer(pointer))
            }
            Self::Archive(reason) => write!(f, "unusable project archive: {reason}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Why a set of valid definitions could not be compiled into one snapshot.
#[derive(Debug)]
pub enum CompileError {
    /// Two APIs claim the same base path on the same virtual host.
    Conflict { base_path: String, vhost: Option<String>, first: PathBuf, second: PathBuf },
    /// The routing table rejected a definition's routes.
    Route { file: PathBuf, source: RouterError },
    /// The security configuration cannot be built (stores, subscriptions).
    Security(String),
    /// An `https://` endpoint cannot get a TLS client configuration (no trust anchors, a bad
    /// endpoint certificate).
    UpstreamTls { file: PathBuf, endpoint: String, reason: String },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Conflict { base_path, vhost, first, second } => {
                let host = vhost.as_deref().unwrap_or("any host");
                write!(
                    f,
                    "{} and {} both serve base path {base_path:?} on {host}",
                    first.display(),
                    second.display()
                )
            }
            Self::Route { file, source } => write!(f, "{}: {source}", file.display()),
            Self::Security(reason) => f.write_str(reason),
            Self::UpstreamTls { file, endpoint, reason } => {
                write!(f, "{}: endpoint {endpoint}: {reason}", file.display())
            }
        }
    }
}

impl std::error::Error for CompileError {}

/// Either stage of [`crate::build_snapshot`] failing.
#[derive(Debug)]
pub enum BuildError {
    Load(LoadError),
    Compile(CompileError),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Load(err) => err.fmt(f),
            Self::Compile(err) => err.fmt(f),
        }
    }
}

/// Transparent: the Display is the inner error's, which carries its own cause.
impl std::error::Error for BuildError {}

/// The root pointer is the empty string, which reads badly in a message.
fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(document root)"
    } else {
        pointer
    }
}
