//! The `rollcall scan` input tree: finding tenant folders and reading one tenant's
//! `tenant.yaml` and exports into the model. `docs/scan-input.md` documents the tree.
//!
//! A file that cannot be read becomes an error diagnostic, and the other files are still
//! read. Only a missing or invalid `tenant.yaml` stops a tenant.

mod coverage;
mod files;
mod sources;

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rollcall_core::TenantData;

pub use sources::{SourceInputs, source_inputs};

use crate::diagnostic::Diagnostic;
use crate::tenant_file::{self, MAX_TENANT_FILE_BYTES, TenantConfig, TenantFileError};

/// The name of the file that makes a folder a tenant folder.
pub const TENANT_FILE: &str = "tenant.yaml";

/// A tenant folder that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder has no `tenant.yaml`.
    #[error(
        "`{}` has no tenant.yaml, so it was not scanned; create one (see docs/scan-input.md) or move the folder out",
        .0.display()
    )]
    MissingTenantFile(PathBuf),
    /// `tenant.yaml` cannot be read.
    #[error("cannot read `{}`: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `tenant.yaml` is not UTF-8.
    #[error("`{}` is not UTF-8 (invalid byte at offset {offset}); save it as UTF-8", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// `tenant.yaml` is invalid.
    #[error("`{}`: {source}", .path.display())]
    TenantFile {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: Box<TenantFileError>,
    },
}

/// Paths given on the command line that are not folders.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    /// A path does not exist or is not a folder.
    #[error("`{}` is not a folder: {reason}", .path.display())]
    NotAFolder {
        /// The path given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// One tenant's folder, read.
#[derive(Debug)]
pub struct LoadedTenant {
    /// The folder.
    pub dir: PathBuf,
    /// The checked `tenant.yaml`.
    pub config: TenantConfig,
    /// Every source's snapshot and the HR roster.
    pub data: TenantData,
    /// Problems in the exports, with paths relative to the folder.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lists the tenant folders among `paths`: each path that contains a `tenant.yaml`, or
/// else its direct subfolders (the folder an MSP keeps all its practices in). A subfolder
/// without `tenant.yaml` beside ones that have it is listed too, so that loading it fails
/// loudly instead of a practice being left out unnoticed; hidden folders (`.git`) are
/// skipped. A path none of whose subfolders has a `tenant.yaml` contributes nothing.
/// Sorted, without duplicates.
pub fn find_tenants(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FindError> {
    let mut found = Vec::new();
    for path in paths {
        let not_a_folder = |reason: String| FindError::NotAFolder { path: path.clone(), reason };
        let metadata = std::fs::metadata(path).map_err(|e| not_a_folder(e.to_string()))?;
        if !metadata.is_dir() {
            return Err(not_a_folder(
                "it is a file; give the folder that holds tenant.yaml".into(),
            ));
        }
        if path.join(TENANT_FILE).is_file() {
            found.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| not_a_folder(e.to_string()))?;
        let mut children: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
            .map(|entry| entry.path())
            .filter(|child| child.is_dir())
            .collect();
        if children.iter().any(|child| child.join(TENANT_FILE).is_file()) {
            children.sort();
            found.extend(children);
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// A sort key for a location: whole-file notes first, then by line.
fn position(location: &crate::diagnostic::Location) -> u64 {
    use crate::diagnostic::Location;
    match location {
        Location::File | Location::JsonPath(_) => 0,
        Location::Line(line) | Location::Record { line, .. } => *line,
    }
}

/// Reads the tenant in `dir`. `as_of` is the instant time-dependent readers use (an EHR
/// end date in the past disables the account).
pub fn load_tenant(dir: &Path, as_of: DateTime<Utc>) -> Result<LoadedTenant, LoadError> {
    let path = dir.join(TENANT_FILE);
    if !path.is_file() {
        return Err(LoadError::MissingTenantFile(dir.to_path_buf()));
    }
    let bytes = read_tenant_file(&path)?;
    let text = String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let config = tenant_file::parse(&text, dir)
        .map_err(|source| LoadError::TenantFile { path: path.clone(), source: Box::new(source) })?;
    let mut diagnostics = Vec::new();
    let data = sources::read_all(dir, &config, as_of, &mut diagnostics);
    diagnostics.extend(coverage::notes(&config, &data));
    // File by file, in the order of their lines, so a long list reads like the files.
    diagnostics.sort_by(|a, b| {
        a.file.cmp(&b.file).then_with(|| position(&a.location).cmp(&position(&b.location)))
    });
    Ok(LoadedTenant { dir: dir.to_path_buf(), config, data, diagnostics })
}

/// Reads `tenant.yaml`, but never more than [`MAX_TENANT_FILE_BYTES`] and one byte, so a
/// wrong multi-gigabyte file is rejected without being loaded.
fn read_tenant_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let unreadable = |source| LoadError::Unreadable { path: path.to_path_buf(), source };
    let too_large = |bytes| LoadError::TenantFile {
        path: path.to_path_buf(),
        source: Box::new(TenantFileError::TooLarge { bytes }),
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_TENANT_FILE_BYTES as u64 {
        return Err(too_large(usize::try_from(size).unwrap_or(usize::MAX)));
    }

    let mut bytes = Vec::new();
    let limit = MAX_TENANT_FILE_BYTES as u64 + 1;
    File::open(path)
        .and_then(|file| file.take(limit).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() > MAX_TENANT_FILE_BYTES {
        // The file grew after its size was read.
        return Err(too_large(bytes.len()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;
