//! Reading deployment sources for the deploy manager and `turnpike validate <path>`: apictl
//! projects (a folder, a `.zip`, or a bare OpenAPI file) and uploaded archives.
//!
//! Where it sits: between the deploy manager and [`crate::project`]. It only adapts: every
//! archive and project rule lives in the project loader; this module maps its results onto the
//! deploy contract ([`DeployError`]).

use std::path::Path;

use crate::deploy::api::DeployError;
use crate::error::LoadError;
use crate::openapi::ApiDefinition;
use crate::project::{self, LoadedProject};

/// The lifecycle state of a definition (`PUBLISHED`, `BLOCKED`, `PROTOTYPED`, ...).
pub fn lifecycle_of(def: &ApiDefinition) -> String {
    def.lifecycle.clone()
}

/// Loads a project folder, a project `.zip`, or a bare OpenAPI file.
pub fn load_path(path: &Path) -> Result<LoadedProject, LoadError> {
    project::load_path(path)
}

/// Loads an uploaded (or persisted) project archive; `name` labels it in errors.
pub fn load_archive(name: &str, bytes: &[u8]) -> Result<LoadedProject, DeployError> {
    let loaded = project::load_archive(name, bytes).map_err(|e| invalid(&e))?;
    if loaded.definitions.is_empty() {
        return Err(DeployError::Invalid {
            file: name.to_owned(),
            pointer: String::new(),
            reason: "the project deploys no API (a RETIRED API is not deployed)".to_owned(),
        });
    }
    Ok(loaded)
}

/// A load error as the deploy contract reports it.
pub fn invalid(err: &LoadError) -> DeployError {
    match err {
        LoadError::Archive(why) => DeployError::BadArchive(why.clone()),
        LoadError::InvalidDefinition { file, pointer, reason } => DeployError::Invalid {
            file: file.display().to_string(),
            pointer: pointer.clone(),
            reason: reason.clone(),
        },
        LoadError::Syntax { file, line, column, message } => DeployError::Invalid {
            file: file.display().to_string(),
            pointer: format!("line {line}, column {column}"),
            reason: message.clone(),
        },
        LoadError::Read { file, source } => DeployError::Invalid {
            file: file.display().to_string(),
            pointer: String::new(),
            reason: format!("cannot read: {source}"),
        },
        LoadError::ReadDir { dir, source } => DeployError::Invalid {
            file: dir.display().to_string(),
            pointer: String::new(),
            reason: format!("cannot list: {source}"),
        },
    }
}
