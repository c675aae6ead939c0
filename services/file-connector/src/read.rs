//! Reading one tenant folder with `rollcall-ingest`, as `rollcall scan` does, and sorting
//! the result and its problems by source.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::{SourceId, SourceKind};
use rollcall_ingest::layout::{self, LoadError, SourceInputs};
use rollcall_ingest::{Diagnostic, Level};
use rollcall_proto::SnapshotContent;

use crate::names::is_temporary;
use crate::watch::{Listing, list};

/// One source of a tenant, read.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRead {
    /// The source.
    pub source: SourceId,
    /// The content, or `None` when a file of the source could not be read: publishing
    /// the rest would replace the last good snapshot with a partial one.
    pub content: Option<SnapshotContent>,
    /// Errors and warnings in the source's files, with paths relative to the folder.
    pub problems: Vec<Diagnostic>,
    /// The folders and files the source is read from, relative to the tenant folder.
    pub paths: Vec<PathBuf>,
}

impl SourceRead {
    /// Checks whether a file of the source could not be read.
    pub fn failed(&self) -> bool {
        self.content.is_none()
    }
}

/// One tenant folder, read.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRead {
    /// The tenant id from `tenant.yaml`.
    pub tenant: TenantId,
    /// Every source that `tenant.yaml` names or that has files at its conventional place.
    pub sources: Vec<SourceRead>,
    /// Errors and warnings about files that belong to no source, such as an export that
    /// no entry of `tenant.yaml` names.
    pub unassigned: Vec<Diagnostic>,
}

/// Reads the tenant folder `dir`. `as_of` is the instant that time-dependent readers use,
/// as in `rollcall scan --as-of`.
///
/// # Errors
///
/// The [`LoadError`] of a missing or invalid `tenant.yaml`, which stops the whole tenant.
pub fn read_tenant(dir: &Path, as_of: DateTime<Utc>) -> Result<TenantRead, LoadError> {
    let loaded = layout::load_tenant(dir, as_of)?;
    let inputs = layout::source_inputs(dir, &loaded.config);
    // Info notes list what was not checked, which matters to a report but not to a sync.
    // Temporary uploads are not exports, so the warnings the readers give about them are
    // dropped.
    let mut diagnostics: Vec<Diagnostic> = loaded
        .diagnostics
        .into_iter()
        .filter(|d| d.level >= Level::Warning && !is_temporary(&d.file))
        .collect();
    let listing = list(dir);
    let mut snapshots = loaded.data.sources;
    let mut roster = loaded.data.hr;

    let mut sources = Vec::with_capacity(inputs.len());
    for input in inputs {
        let (problems, rest): (Vec<Diagnostic>, Vec<Diagnostic>) =
            diagnostics.into_iter().partition(|d| input.contains(&d.file));
        diagnostics = rest;
        let failed = problems.iter().any(|d| d.level == Level::Error);
        let content = if input.source.kind() == SourceKind::Hr {
            roster.take().map(SnapshotContent::Roster)
        } else {
            snapshots
                .iter()
                .position(|s| s.source == input.source)
                .map(|index| SnapshotContent::Source(snapshots.swap_remove(index)))
        };
        let content = if failed { None } else { content };
        let content = content.map(|content| stamp_collected_at(content, &input, &listing));
        sources.push(SourceRead { source: input.source, content, problems, paths: input.paths });
    }
    Ok(TenantRead { tenant: loaded.config.tenant.id, sources, unassigned: diagnostics })
}

/// Sets the collection instant of content whose export carries none to the newest
/// modification time of the source's files: when the export was written.
///
/// The engine's store orders snapshots of one source by this instant, and treats a
/// snapshot with the instant and content hash it already applied as a duplicate. So a
/// republication after a lost state file changes nothing, and an export older than the
/// one in effect does not replace it. The rules do not read the instant, so findings are
/// those of `rollcall scan` on the same files.
fn stamp_collected_at(
    content: SnapshotContent,
    input: &SourceInputs,
    listing: &Listing,
) -> SnapshotContent {
    let newest = listing
        .files
        .iter()
        .filter(|(file, _)| input.contains(file))
        .filter_map(|(_, fingerprint)| fingerprint.modified)
        .max()
        .map(DateTime::<Utc>::from);
    match content {
        SnapshotContent::Source(mut snapshot) => {
            snapshot.collected_at = snapshot.collected_at.or(newest);
            SnapshotContent::Source(snapshot)
        }
        SnapshotContent::Roster(mut roster) => {
            roster.collected_at = roster.collected_at.or(newest);
            SnapshotContent::Roster(roster)
        }
    }
}
