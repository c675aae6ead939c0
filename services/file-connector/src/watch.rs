//! Listing a tenant folder's files with their size and modification time, and deciding
//! when the folder has settled: unchanged for the settle time, so no upload is in progress.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::names::is_temporary;

/// The size and modification time of a file when it was listed. Two listings with the same fingerprint for
/// every file mean that nothing was written in between, as far as the file system shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, when the file system reports one.
    pub modified: Option<SystemTime>,
}

/// The files of one tenant folder at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Every file that is not a temporary upload, relative to the folder.
    pub files: BTreeMap<PathBuf, Fingerprint>,
    /// Temporary uploads skipped (see [`crate::names`]).
    pub temporary: usize,
    /// Folders or files that could not be listed, with the error.
    pub problems: Vec<String>,
}

/// Lists the files under `dir`. Symbolic links are not followed, as the `rollcall scan`
/// readers do not follow them, and hidden folders are not entered.
pub fn list(dir: &Path) -> Listing {
    let mut listing = Listing::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) => {
                listing.problems.push(format!("cannot list `{}`: {error}", folder.display()));
                continue;
            }
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let relative = path.strip_prefix(dir).map_or_else(|_| path.clone(), Path::to_path_buf);
            let Ok(kind) = entry.file_type() else { continue };
            if is_temporary(&relative) {
                if kind.is_file() {
                    listing.temporary += 1;
                }
                continue;
            }
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                match entry.metadata() {
                    Ok(metadata) => {
                        let fingerprint =
                            Fingerprint { len: metadata.len(), modified: metadata.modified().ok() };
                        listing.files.insert(relative, fingerprint);
                    }
                    // The file was removed between listing and reading its metadata, so
                    // the next poll lists the folder without it.
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => listing
                        .problems
                        .push(format!("cannot read the metadata of `{}`: {error}", path.display())),
                }
            }
        }
    }
    listing
}

/// Tracks one folder's listings across polls. The folder is settled when its listing has
/// stayed the same, file for file, for at least the settle time.
#[derive(Debug)]
pub struct Settling {
    files: BTreeMap<PathBuf, Fingerprint>,
    unchanged_since: Instant,
}

impl Settling {
    /// Starts tracking with a first listing, which counts as a change at `now`.
    pub fn new(files: BTreeMap<PathBuf, Fingerprint>, now: Instant) -> Self {
        Self { files, unchanged_since: now }
    }

    /// Takes a new listing and returns whether the folder has settled: the listing equals
    /// the previous one and nothing changed for `settle` or longer.
    pub fn observe(
        &mut self,
        files: &BTreeMap<PathBuf, Fingerprint>,
        now: Instant,
        settle: Duration,
    ) -> bool {
        if *files != self.files {
            self.files = files.clone();
            self.unchanged_since = now;
            return false;
        }
        now.saturating_duration_since(self.unchanged_since) >= settle
    }

    /// Records a listing taken after a read that differs from the one before it, so the
    /// settle time starts again.
    pub fn restart(&mut self, files: BTreeMap<PathBuf, Fingerprint>, now: Instant) {
        self.files = files;
        self.unchanged_since = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(len: u64) -> BTreeMap<PathBuf, Fingerprint> {
        BTreeMap::from([(PathBuf::from("hr/roster.csv"), Fingerprint { len, modified: None })])
    }

    #[test]
    fn settles_after_unchanged_settle_time() {
        let start = Instant::now();
        let settle = Duration::from_secs(10);
        let mut settling = Settling::new(files(1), start);

        assert!(!settling.observe(&files(1), start + Duration::from_secs(5), settle));
        assert!(settling.observe(&files(1), start + Duration::from_secs(10), settle));
    }

    #[test]
    fn change_restarts_the_settle_time() {
        let start = Instant::now();
        let settle = Duration::from_secs(10);
        let mut settling = Settling::new(files(1), start);

        assert!(!settling.observe(&files(2), start + Duration::from_secs(9), settle));
        assert!(!settling.observe(&files(2), start + Duration::from_secs(15), settle));
        assert!(settling.observe(&files(2), start + Duration::from_secs(19), settle));
    }

    #[test]
    fn listing_skips_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("hr")).unwrap();
        std::fs::write(dir.path().join("hr/roster.csv"), "a").unwrap();
        std::fs::write(dir.path().join("hr/roster.csv.part"), "a").unwrap();
        std::fs::create_dir_all(dir.path().join(".sync")).unwrap();
        std::fs::write(dir.path().join(".sync/state"), "a").unwrap();

        let listing = list(dir.path());

        assert_eq!(listing.files.keys().collect::<Vec<_>>(), [Path::new("hr/roster.csv")]);
        assert_eq!(listing.temporary, 1);
        assert!(listing.problems.is_empty());
    }
}
