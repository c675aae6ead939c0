//! Walking a tenant folder and reading files, with problems as diagnostics.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Level, Location};

/// Largest export file read, in bytes. Exports of the biggest practices are a few hundred
/// megabytes; a larger file is more likely a wrong file than an export.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Lists every file under `root`, relative to `base`, sorted. Unreadable folders become
/// diagnostics. Symbolic links are not followed, so a link cannot lead outside the tenant.
pub fn walk(base: &Path, root: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) => {
                diagnostics.push(Diagnostic::new(
                    Level::Error,
                    relative(base, &folder),
                    Location::File,
                    format!("cannot list this folder: {error}"),
                ));
                continue;
            }
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(relative(base, &entry.path()));
            }
        }
    }
    found.sort();
    found
}

/// `path` relative to `base`, or `path` itself when it is not under `base`.
pub fn relative(base: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(base).map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// Reads `dir/relative`, or records why not and returns `None`.
pub fn read(dir: &Path, relative: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<Vec<u8>> {
    let path = dir.join(relative);
    let problem =
        |message: String| Diagnostic::new(Level::Error, relative, Location::File, message);
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.len() > MAX_FILE_BYTES => {
            diagnostics.push(problem(format!(
                "the file is {} bytes, more than the {MAX_FILE_BYTES} an export can be; check that it is the right file",
                metadata.len()
            )));
            return None;
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            diagnostics.push(problem(
                "the file does not exist; check its path under `sources:` in tenant.yaml".into(),
            ));
            return None;
        }
        Err(error) => {
            diagnostics.push(problem(format!("cannot read the file: {error}")));
            return None;
        }
    }
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            diagnostics.push(problem(format!("cannot read the file: {error}")));
            None
        }
    }
}

/// Checks whether `path` has extension `ext`, in any letter case.
pub fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(ext))
}
