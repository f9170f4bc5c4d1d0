//! Project archives (`apictl export` zips) read in memory, with limits against hostile uploads.
//!
//! Where it sits: [`super::load_archive`] (admin uploads, `*.zip` in the APIs directory) calls
//! [`unpack`] and loads the resulting file map like a project folder. Nothing is written to disk.
//!
//! Limits (each breach is [`LoadError::Archive`]): at most [`MAX_ENTRIES`] entries and
//! [`MAX_TOTAL`] bytes uncompressed in all, no file over [`MAX_FILE`], no entry compressed more
//! than [`MAX_RATIO`]:1 (past [`RATIO_FLOOR`] bytes, so tiny files are not judged), and sizes are
//! enforced on the bytes actually inflated, not only on what the archive declares. Entry names
//! with `..` components, absolute paths, drive letters or backslashes are rejected outright.

use std::collections::BTreeMap;
use std::io::Read;

use crate::error::LoadError;

/// Most entries (files and folders) in an archive.
pub const MAX_ENTRIES: usize = 1000;
/// Most bytes of all files together, uncompressed.
pub const MAX_TOTAL: u64 = 32 * 1024 * 1024;
/// Most bytes of one file, uncompressed.
pub const MAX_FILE: u64 = 8 * 1024 * 1024;
/// Highest uncompressed : compressed ratio of one entry.
pub const MAX_RATIO: u64 = 100;
/// Entries smaller than this are not held to [`MAX_RATIO`].
pub const RATIO_FLOOR: u64 = 64 * 1024;

/// The files of an archive by path (folders dropped), validated against the limits.
pub(super) fn unpack(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, LoadError> {
    let reject = LoadError::Archive;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| reject("not a zip archive".to_owned()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(reject(format!("{} entries; at most {MAX_ENTRIES} are accepted", zip.len())));
    }
    let mut files = BTreeMap::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry =
            zip.by_index(i).map_err(|err| reject(format!("entry {i} is unreadable: {err}")))?;
        let path = entry.name().to_owned();
        check_name(&path).map_err(|why| reject(format!("entry {path:?}: {why}")))?;
        if entry.is_dir() {
            continue;
        }
        let declared = entry.size();
        if declared > MAX_FILE {
            return Err(reject(format!(
                "{path:?} is {declared} bytes; at most {MAX_FILE} per file"
            )));
        }
        let compressed = entry.compressed_size().max(1);
        if declared > RATIO_FLOOR && declared / compressed > MAX_RATIO {
            return Err(reject(format!(
                "{path:?} is compressed {}:1; at most {MAX_RATIO}:1 is accepted (zip bomb?)",
                declared / compressed
            )));
        }
        let mut data = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        (&mut entry)
            .take(MAX_FILE + 1)
            .read_to_end(&mut data)
            .map_err(|err| reject(format!("{path:?} cannot be inflated: {err}")))?;
        let actual = data.len() as u64;
        if actual > MAX_FILE {
            return Err(reject(format!(
                "{path:?} is over {MAX_FILE} bytes; at most that per file"
            )));
        }
        if actual > RATIO_FLOOR && actual / compressed > MAX_RATIO {
            return Err(reject(format!("{path:?} is compressed over {MAX_RATIO}:1 (zip bomb?)")));
        }
        total += actual;
        if total > MAX_TOTAL {
            return Err(reject(format!(
                "over {MAX_TOTAL} bytes uncompressed; at most that per archive"
            )));
        }
        files.insert(path.trim_start_matches("./").to_owned(), data);
    }
    Ok(files)
}

/// Rejects names that could escape the project or mean different things on different systems.
fn check_name(path: &str) -> Result<(), &'static str> {
    if path.contains('\\') {
        return Err("backslashes are not allowed in entry names");
    }
    if path.starts_with('/') {
        return Err("absolute paths are not allowed");
    }
    if path.as_bytes().get(1) == Some(&b':') {
        return Err("drive letters are not allowed");
    }
    if path.split('/').any(|part| part == "..") {
        return Err("`..` components are not allowed");
    }
    if path.contains('\0') {
        return Err("NUL in entry name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_are_rejected() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "a\\b", "C:/x", "a/.."] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for good in ["api.yaml", "Petstore-1.0.0/Definitions/swagger.yaml", "a/..b/c", "./x"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }
}
