//! The reader for saved Microsoft Graph responses from Entra ID.
//!
//! An MSP engineer saves raw Graph v1.0 (or beta) JSON responses into a tenant's `entra/`
//! folder, any number of pages per file. [`EntraImport`] reads each file, recognises each
//! response by its `@odata.context`, its items' `@odata.type` or, failing both, the file
//! name, and builds one [`SourceSnapshot`] for the source `entra`:
//!
//! ```
//! use std::path::Path;
//! use rollcall_ingest::entra::{EntraImport, ResponseKind};
//!
//! let mut import = EntraImport::new();
//! let users = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
//!                  "value": [{"id": "u1", "userPrincipalName": "ana@example.org",
//!                             "accountEnabled": true}]}"#;
//! let summary = import.add_file(Path::new("users.json"), users)?;
//! assert_eq!(summary.kinds(), vec![ResponseKind::Users]);
//! let (snapshot, diagnostics) = import.finish();
//! assert_eq!(snapshot.accounts[0].upn.as_deref(), Some("ana@example.org"));
//! assert!(diagnostics.is_empty());
//! # Ok::<(), rollcall_ingest::entra::EntraError>(())
//! ```
//!
//! `docs/inputs/entra.md` lists the requests to save, the file-name convention and what is
//! read from each response.

mod assemble;
mod context;
mod document;
mod error;
mod fields;
mod filename;
mod groups;
mod kind;
mod methods;
mod policy;
mod read;
mod records;
mod registration;
mod roles;
mod users;

#[cfg(test)]
mod tests;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use rollcall_core::model::SourceSnapshot;

use crate::diagnostic::Diagnostic;

pub use error::EntraError;
pub use kind::ResponseKind;
pub use read::{FileSummary, ResponseSummary};

use records::Collected;

/// A set of saved Graph response files being read into one snapshot.
#[derive(Debug, Default)]
pub struct EntraImport {
    files: Vec<ReadFile>,
}

/// The records and diagnostics of one file, kept until [`EntraImport::finish`].
#[derive(Debug)]
struct ReadFile {
    path: PathBuf,
    /// Orders two files added under the same path by content, not by call order.
    digest: u64,
    collected: Collected,
    diagnostics: Vec<Diagnostic>,
}

impl EntraImport {
    /// Creates an import with no files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one file. `path` is relative to the tenant's entra folder: it is used for the
    /// file-name convention and in diagnostics. `bytes` is the whole file.
    ///
    /// Returns an error only when the file cannot be read at all (empty or invalid JSON).
    /// Unsupported responses, Graph error bodies and bad records become diagnostics that
    /// [`finish`](Self::finish) returns.
    pub fn add_file(&mut self, path: &Path, bytes: &[u8]) -> Result<FileSummary, EntraError> {
        let (summary, collected, notes) = read::read_file(path, bytes)?;
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        self.files.push(ReadFile {
            path: path.to_path_buf(),
            digest: hasher.finish(),
            collected,
            diagnostics: notes.list,
        });
        Ok(summary)
    }

    /// Builds the snapshot and returns it with the diagnostics of every file.
    ///
    /// Files are merged in path order, whatever order they were added in. A property that
    /// a later file leaves out keeps the earlier file's value; one it sends as `null`
    /// clears it.
    pub fn finish(mut self) -> (SourceSnapshot, Vec<Diagnostic>) {
        self.files.sort_by(|a, b| (&a.path, a.digest).cmp(&(&b.path, b.digest)));
        let mut diagnostics = Vec::new();
        let mut collected = Collected::default();
        for file in self.files {
            diagnostics.extend(file.diagnostics);
            collected.extend(file.collected);
        }
        let snapshot = assemble::assemble(collected, &mut diagnostics);
        (snapshot, diagnostics)
    }
}
