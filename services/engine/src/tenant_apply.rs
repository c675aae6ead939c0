//! `rollcall-engine tenant apply DIR...`: check a tenant folder's `tenant.yaml` and
//! policy as `rollcall scan` does and store their texts for the engine.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use rollcall_ingest::layout::{LoadError, TENANT_FILE};
use rollcall_ingest::tenant_file::{self, MAX_TENANT_FILE_BYTES, TenantFileError};
use rollcall_store::{Store, StoreError, TenantApplyError, TenantConfigText};

use crate::engine::ACTOR;

/// An error applying a tenant folder.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The folder's `tenant.yaml` or policy is missing or invalid; the message is the
    /// one `rollcall scan` prints for it.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of applying one tenant folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The tenant id from `tenant.yaml`.
    pub tenant: String,
    /// Whether the stored texts changed.
    pub changed: bool,
}

/// Reads and checks the folder `dir`, then stores its configuration texts.
pub async fn apply(store: &Store, dir: &Path) -> Result<Applied, ApplyError> {
    let path = dir.join(TENANT_FILE);
    if !path.is_file() {
        return Err(LoadError::MissingTenantFile(dir.to_path_buf()).into());
    }
    let tenant_yaml = read_text(&path)?;
    let load_error = |source: TenantFileError| LoadError::TenantFile {
        path: path.clone(),
        source: Box::new(source),
    };
    let config = tenant_file::parse(&tenant_yaml, dir).map_err(load_error)?;
    // The parser read the policy file already; keep the text it checked.
    let policy_yaml = match &config.policy_file {
        Some(relative) => Some(read_text(&dir.join(relative))?),
        None => None,
    };
    let text = TenantConfigText { tenant_yaml, policy_yaml };
    // The store parses the texts again as the engine reads them back. They passed the
    // folder check above, so an error here would be that check's error with the folder's path.
    let applied = store.apply_tenant_texts(&text, ACTOR).await.map_err(|error| match error {
        TenantApplyError::Invalid(source) => {
            ApplyError::Load(LoadError::TenantFile { path: path.clone(), source: Box::new(source) })
        }
        TenantApplyError::Store(source) => ApplyError::Store(source),
    })?;
    Ok(Applied { tenant: applied.tenant, changed: applied.changed })
}

/// Reads a text file with the checks `rollcall scan` applies to `tenant.yaml`: at most
/// [`MAX_TENANT_FILE_BYTES`], UTF-8.
fn read_text(path: &Path) -> Result<String, LoadError> {
    let unreadable = |source| LoadError::Unreadable { path: path.to_path_buf(), source };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_TENANT_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() > MAX_TENANT_FILE_BYTES {
        return Err(LoadError::TenantFile {
            path: path.to_path_buf(),
            source: Box::new(TenantFileError::TooLarge { bytes: bytes.len() }),
        });
    }
    String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}
