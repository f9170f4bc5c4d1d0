//! Reading a directory of API definitions.
//!
//! Where it sits: between `gateway.toml` (which names the directory) and [`crate::compile`]. It
//! lists `*.yaml`, `*.yml` and `*.json` files directly inside the directory (not recursively;
//! hidden files and other extensions are skipped), in file-name order so that every run sees the
//! same sequence, and parses each with [`crate::openapi::parse_file`]. The first broken file stops
//! the load: the gateway never starts with a definition it could not read.
//!
//! It does not watch the directory for changes (hot reload is a later step driven by the control
//! thread) and does not compare definitions with each other (that is [`crate::compile`]).

use std::path::{Path, PathBuf};

use crate::error::{LoadError, Warning};
use crate::openapi::{self, ApiDefinition};

/// Every definition of a directory, and the warnings noticed while reading them.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub definitions: Vec<ApiDefinition>,
    pub warnings: Vec<Warning>,
}

/// Extensions read as definitions (compared case-insensitively).
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// The definition files of `dir`, sorted by name.
pub fn definition_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_dir = |source| LoadError::ReadDir { dir: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
        if !hidden && wanted && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads every definition of `dir`; stops at the first error.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    for file in definition_files(dir)? {
        let parsed = openapi::parse_file(&file)?;
        loaded.definitions.push(parsed.definition);
        loaded.warnings.extend(parsed.warnings);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_visible_definition_files_in_order() {
        let dir = std::env::temp_dir().join(format!("turnpike-load-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested.yaml")).unwrap();
        for name in ["b.yaml", "a.JSON", ".hidden.yaml", "c.yml", "notes.txt", "d.yaml~"] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let names: Vec<String> = definition_files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.JSON", "b.yaml", "c.yml"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error() {
        let err = load_dir(Path::new("/nonexistent/turnpike/apis")).unwrap_err();
        assert!(matches!(err, LoadError::ReadDir { .. }));
    }
}
