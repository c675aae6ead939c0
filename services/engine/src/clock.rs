//! The instant evaluations use: the system clock, a fixed instant, or a test clock that
//! a file sets and a test moves forward.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A test clock file that cannot be used at start.
#[derive(Debug, thiserror::Error)]
#[error(
    "engine.clock_file `{path}`: {reason}; write one RFC 3339 instant such as 2026-12-01T15:00:00Z"
)]
pub struct ClockFileError {
    /// The file.
    pub path: PathBuf,
    /// What failed.
    pub reason: String,
}

/// The instant evaluations use.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system clock.
    System,
    /// A fixed instant, for tests and reproduced reports.
    Fixed(DateTime<Utc>),
    /// The instant written in a file, read again at each use, so that an end-to-end
    /// run can let a deadline pass without waiting for it. Tests only.
    File(Arc<FileClock>),
}

impl Clock {
    /// Returns the instant now.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
            Clock::File(file) => file.now(),
        }
    }
}

/// A clock whose time is the RFC 3339 instant in a file.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    /// The instant read last, which stays in use while the file cannot be read.
    last: Mutex<DateTime<Utc>>,
}

impl FileClock {
    /// Opens the clock and reads its first instant.
    ///
    /// # Errors
    ///
    /// [`ClockFileError`] when the file cannot be read or contains no RFC 3339 instant.
    pub fn open(path: &Path) -> Result<Self, ClockFileError> {
        let first = read_instant(path)
            .map_err(|reason| ClockFileError { path: path.to_owned(), reason })?;
        Ok(Self { path: path.to_owned(), last: Mutex::new(first) })
    }

    /// Returns the file's instant. A file being rewritten or made invalid keeps the last
    /// good instant, with a warning, because a clock has no error to return.
    pub fn now(&self) -> DateTime<Utc> {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match read_instant(&self.path) {
            Ok(at) => *last = at,
            Err(reason) => tracing::warn!(
                path = %self.path.display(),
                reason,
                instant_in_use = %*last,
                "the test clock file cannot be read; the last instant stays in use"
            ),
        }
        *last
    }
}

fn read_instant(path: &Path) -> Result<DateTime<Utc>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| format!("`{}` is not an RFC 3339 instant ({error})", text.trim()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

    use super::*;

    #[test]
    fn file_clock_moves_with_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        std::fs::write(&path, "2026-12-01T15:00:00Z\n").unwrap();
        let clock = Clock::File(Arc::new(FileClock::open(&path).unwrap()));
        let start: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
        assert_eq!(clock.now(), start);

        std::fs::write(&path, "2026-12-02T16:00:00+00:00").unwrap();
        assert_eq!(clock.now(), start + chrono::TimeDelta::hours(25));

        // An unreadable or invalid file keeps the last instant.
        std::fs::write(&path, "tomorrow").unwrap();
        assert_eq!(clock.now(), start + chrono::TimeDelta::hours(25));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(clock.now(), start + chrono::TimeDelta::hours(25));
    }

    #[test]
    fn bad_clock_file_names_file_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        let missing = FileClock::open(&path).unwrap_err().to_string();
        assert!(missing.contains("engine.clock_file"), "{missing}");
        assert!(missing.contains("RFC 3339"), "{missing}");
        std::fs::write(&path, "12/01/2026").unwrap();
        let invalid = FileClock::open(&path).unwrap_err().to_string();
        assert!(invalid.contains("`12/01/2026`"), "{invalid}");
    }
}
