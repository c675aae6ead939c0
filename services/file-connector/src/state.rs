//! The state file: the content hash last published per tenant and source, so that a
//! restarted connector publishes only what changed while it was stopped.
//!
//! The file is `<state_dir>/published.json`. It is replaced by writing a temporary file in
//! the same folder, flushing it to disk and renaming it over the old one, so a crash
//! leaves either the old or the new file, never a torn one. A lost or unreadable file
//! costs one republication of every source, which the engine drops as duplicates because
//! their content hashes are those it already holds.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rollcall_proto::ContentHash;
use serde::{Deserialize, Serialize};

/// Name of the state file inside the state folder.
pub const STATE_FILE: &str = "published.json";

/// Version written in the file; a file of another version is not read.
const VERSION: u32 = 1;

/// The state file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state folder cannot be created.
    #[error(
        "cannot create the state folder `{}`: {source}; set `state_dir` to a writable folder",
        .path.display()
    )]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists but cannot be read.
    #[error("cannot read the state file `{}`: {source}; check its permissions", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing or renaming the new file failed.
    #[error(
        "cannot write the state file `{}`: {source}; check that the state folder is writable and has free space",
        .path.display()
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The last publication of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedRecord {
    /// Content hash, 64 lowercase hex digits.
    pub content_sha256: String,
    /// The snapshot id the chunks carried.
    pub snapshot_id: String,
    /// When JetStream acknowledged the last chunk.
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    /// Tenant id, then source id, then the record.
    tenants: BTreeMap<String, BTreeMap<String, PublishedRecord>>,
}

/// The published hashes, in memory and in the state file.
#[derive(Debug)]
pub struct State {
    path: PathBuf,
    file: StateFile,
}

/// The result of [`State::open`]: the state, and a warning when an unusable file was
/// replaced by an empty state.
#[derive(Debug)]
pub struct Opened {
    /// The state.
    pub state: State,
    /// The reason the file on disk was not used, if it was not.
    pub warning: Option<String>,
}

impl State {
    /// Opens the state in `dir`, creating the folder when it is missing. A missing file
    /// is an empty state. A file that is not valid JSON of this version is also an empty
    /// state, with a warning, because the cost is one republication of every source.
    ///
    /// # Errors
    ///
    /// [`StateError::CreateDir`] and [`StateError::Read`].
    pub fn open(dir: &Path) -> Result<Opened, StateError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StateError::CreateDir { path: dir.to_path_buf(), source })?;
        let path = dir.join(STATE_FILE);
        let empty = StateFile { version: VERSION, tenants: BTreeMap::new() };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Opened { state: State { path, file: empty }, warning: None });
            }
            Err(source) => return Err(StateError::Read { path, source }),
        };
        let (file, warning) = match serde_json::from_slice::<StateFile>(&bytes) {
            Ok(file) if file.version == VERSION => (file, None),
            Ok(file) => (
                empty,
                Some(format!(
                    "the state file `{}` has version {}, not {VERSION}; every source is published once again",
                    path.display(),
                    file.version
                )),
            ),
            Err(error) => (
                empty,
                Some(format!(
                    "the state file `{}` is not valid ({error}); every source is published once again, and the file is replaced",
                    path.display()
                )),
            ),
        };
        Ok(Opened { state: State { path, file }, warning })
    }

    /// Returns the path of the state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the record of the last publication of `source` for `tenant`.
    pub fn last(&self, tenant: &str, source: &str) -> Option<&PublishedRecord> {
        self.file.tenants.get(tenant)?.get(source)
    }

    /// Returns the content hash last published for `source` of `tenant`, if it parses.
    pub fn last_hash(&self, tenant: &str, source: &str) -> Option<ContentHash> {
        ContentHash::from_hex(&self.last(tenant, source)?.content_sha256)
    }

    /// Returns the sources published for `tenant`.
    pub fn sources(&self, tenant: &str) -> Vec<String> {
        self.file
            .tenants
            .get(tenant)
            .map(|sources| sources.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Records a publication acknowledged by JetStream and writes the file.
    ///
    /// # Errors
    ///
    /// [`StateError::Write`]. The record stays in memory, so this process does not
    /// publish the source again; after a restart it would, once.
    pub fn record(
        &mut self,
        tenant: &str,
        source: &str,
        record: PublishedRecord,
    ) -> Result<(), StateError> {
        self.file.tenants.entry(tenant.to_owned()).or_default().insert(source.to_owned(), record);
        self.write()
    }

    /// Writes the whole state: a temporary file, flushed, then renamed over the old one.
    fn write(&self) -> Result<(), StateError> {
        let error = |source| StateError::Write { path: self.path.clone(), source };
        let bytes =
            serde_json::to_vec_pretty(&self.file).map_err(std::io::Error::other).map_err(error)?;
        let temporary = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&temporary).map_err(error)?;
        file.write_all(&bytes).map_err(error)?;
        file.sync_all().map_err(error)?;
        drop(file);
        std::fs::rename(&temporary, &self.path).map_err(error)?;
        // The rename is durable only once the folder itself is flushed. Not every file
        // system can open a folder for that, so a failure here is not an error.
        if let Some(dir) = self.path.parent()
            && let Ok(folder) = std::fs::File::open(dir)
        {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: &str) -> PublishedRecord {
        PublishedRecord {
            content_sha256: hash.to_owned(),
            snapshot_id: "00000000-0000-4000-8000-000000000001".to_owned(),
            published_at: DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn record_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let hash = "ab".repeat(32);
        let mut state = State::open(dir.path()).unwrap().state;

        state.record("harborview", "entra", record(&hash)).unwrap();
        let reopened = State::open(dir.path()).unwrap();

        assert!(reopened.warning.is_none());
        assert_eq!(reopened.state.last("harborview", "entra"), Some(&record(&hash)));
        assert_eq!(
            reopened.state.last_hash("harborview", "entra").map(|h| h.to_string()),
            Some(hash)
        );
        assert!(!dir.path().join("published.json.tmp").exists());
    }

    #[test]
    fn invalid_file_gives_empty_state_and_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), "{not json").unwrap();

        let opened = State::open(dir.path()).unwrap();

        assert!(opened.state.last("harborview", "entra").is_none());
        let warning = opened.warning.unwrap();
        assert!(warning.contains("published once again"), "{warning}");
    }
}
