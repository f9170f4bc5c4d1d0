//! Reading a directory of API sources: apictl project folders, project archives and bare
//! OpenAPI files.
//!
//! Where it sits: between `gateway.toml` (which names the directory) and [`crate::compile`]. It
//! takes, directly inside the directory (not recursively), every folder holding an `api.yaml`,
//! every `*.zip`, and every `*.yaml`, `*.yml` and `*.json` file; names starting with `.` and
//! `*.tmp` / `*.part` files (uploads in progress) are skipped, as are other extensions and folders
//! without an `api.yaml`. Sources are read in name order so that every run sees the same
//! sequence, each with [`crate::project::load_path`]. The first broken source stops the load: the
//! gateway never starts with a definition it could not read.
//!
//! It does not watch the directory for changes (the deploy manager does) and does not compare
//! definitions with each other (that is [`crate::compile`]).

use std::path::{Path, PathBuf};

use crate::error::{LoadError, Warning};
use crate::openapi::ApiDefinition;
use crate::project;

/// Every definition of a directory, and the warnings noticed while reading them.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub definitions: Vec<ApiDefinition>,
    pub warnings: Vec<Warning>,
}

/// Extensions of bare definition files (compared case-insensitively).
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];
/// Extension of project archives.
const ARCHIVE: &str = "zip";
/// Suffixes of files still being written (skipped).
const IN_PROGRESS: [&str; 2] = ["tmp", "part"];

/// The sources of `dir` (project folders, archives, definition files), sorted by name.
pub fn definition_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_dir = |source| LoadError::ReadDir { dir: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        if is_source(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `path` is something [`load_dir`] loads.
pub fn is_source(path: &Path) -> bool {
    let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
    if hidden {
        return false;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let is = |list: &[&str]| list.iter().any(|x| x.eq_ignore_ascii_case(ext));
    if path.is_dir() {
        project::is_project_dir(path)
    } else {
        path.is_file() && !is(&IN_PROGRESS) && (is(&EXTENSIONS) || is(&[ARCHIVE]))
    }
}

/// Loads every source of `dir`; stops at the first error.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    for source in definition_files(dir)? {
        let project = project::load_path(&source)?;
        loaded.definitions.extend(project.definitions);
        loaded.warnings.extend(project.warnings);
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
        std::fs::create_dir_all(dir.join("project")).unwrap();
        std::fs::write(dir.join("project/api.yaml"), "").unwrap();
        for name in [
            "b.yaml",
            "a.JSON",
            ".hidden.yaml",
            "c.yml",
            "notes.txt",
            "d.yaml~",
            "e.zip",
            "f.zip.part",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let names: Vec<String> = definition_files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.JSON", "b.yaml", "c.yml", "e.zip", "project"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error() {
        let err = load_dir(Path::new("/nonexistent/turnpike/apis")).unwrap_err();
        assert!(matches!(err, LoadError::ReadDir { .. }));
    }
}
