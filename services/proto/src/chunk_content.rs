//! Conversion of one `rollcall.v1.SnapshotChunk` into its checked header and its domain
//! records, for the assembler.

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::{
    Account, Entitlement, HrSnapshot, Membership, SourceId, SourceKind, SourceSettings,
    SourceSnapshot, Worker,
};
use uuid::Uuid;

use crate::account::account_from_proto;
use crate::entitlement::{entitlement_from_proto, membership_from_proto};
use crate::error::ConvertError;
use crate::hash::{ContentHash, hash_from_proto};
use crate::hr::worker_from_proto;
use crate::snapshot::{
    convert_list, reject_directory_records, reject_workers, source_settings_from_proto,
};
use crate::v1;
use crate::wire::{
    optional_timestamp_from_proto, source_from_proto, tenant_from_proto, uuid_from_proto,
};

/// The header fields of a chunk, checked.
#[derive(Debug, Clone)]
pub(crate) struct ChunkHeader {
    pub(crate) tenant: TenantId,
    pub(crate) source: SourceId,
    pub(crate) snapshot_id: Uuid,
    pub(crate) chunk_index: u32,
    /// At least 1.
    pub(crate) chunk_count: u32,
    pub(crate) content_hash: ContentHash,
    pub(crate) collected_at: Option<DateTime<Utc>>,
}

/// The records of one chunk, converted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChunkContent {
    /// Set in chunk 0 only.
    pub(crate) settings: Option<SourceSettings>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) entitlements: Vec<Entitlement>,
    pub(crate) memberships: Vec<Membership>,
    /// Set for source `hr` only.
    pub(crate) workers: Vec<Worker>,
}

/// What a complete snapshot holds: a source's directory records, or the HR roster for
/// source `hr`.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotContent {
    /// The snapshot of a directory or EHR source.
    Source(SourceSnapshot),
    /// The snapshot of source `hr`: the HR roster.
    Roster(HrSnapshot),
}

impl SnapshotContent {
    /// Returns the content hash of the content.
    pub fn content_hash(&self) -> ContentHash {
        match self {
            SnapshotContent::Source(snapshot) => ContentHash::of(snapshot),
            SnapshotContent::Roster(roster) => ContentHash::of_roster(roster),
        }
    }

    /// Returns the time the data was read from the source, when known.
    pub fn collected_at(&self) -> Option<DateTime<Utc>> {
        match self {
            SnapshotContent::Source(snapshot) => snapshot.collected_at,
            SnapshotContent::Roster(roster) => roster.collected_at,
        }
    }
}

/// Checks and converts a chunk. The index is not compared with the count here, because
/// that failure has an error of its own.
pub(crate) fn chunk_from_proto(
    message: v1::SnapshotChunk,
) -> Result<(ChunkHeader, ChunkContent), ConvertError> {
    if message.chunk_count == 0 {
        return Err(ConvertError::missing("chunk_count"));
    }
    let settings = match (message.chunk_index, message.settings) {
        (0, Some(settings)) => {
            Some(source_settings_from_proto(settings).map_err(|e| e.within("settings"))?)
        }
        (0, None) => return Err(ConvertError::missing("settings")),
        (_, None) => None,
        (_, Some(_)) => {
            return Err(ConvertError::Unexpected {
                field: "settings".to_owned(),
                reason: "only chunk 0 carries the settings",
            });
        }
    };
    let header = ChunkHeader {
        tenant: tenant_from_proto(message.tenant, "tenant")?,
        source: source_from_proto(message.source, "source")?,
        snapshot_id: uuid_from_proto(message.snapshot_id, "snapshot_id")?,
        chunk_index: message.chunk_index,
        chunk_count: message.chunk_count,
        content_hash: hash_from_proto(&message.content_sha256, "content_sha256")?,
        collected_at: optional_timestamp_from_proto(message.collected_at, "collected_at")?,
    };
    if header.source.kind() == SourceKind::Hr {
        reject_directory_records(
            !message.accounts.is_empty(),
            !message.entitlements.is_empty(),
            !message.memberships.is_empty(),
        )?;
    } else {
        reject_workers(!message.workers.is_empty())?;
    }
    let content = ChunkContent {
        settings,
        workers: convert_list(message.workers, "workers", worker_from_proto)?,
        accounts: convert_list(message.accounts, "accounts", account_from_proto)?,
        entitlements: convert_list(message.entitlements, "entitlements", entitlement_from_proto)?,
        memberships: convert_list(message.memberships, "memberships", membership_from_proto)?,
    };
    Ok((header, content))
}

impl ChunkHeader {
    /// Joins the contents of every chunk, given in index order, into the snapshot: the
    /// HR roster for source `hr`, the source snapshot otherwise.
    pub(crate) fn into_content(
        self,
        chunks: impl IntoIterator<Item = ChunkContent>,
    ) -> SnapshotContent {
        if self.source.kind() == SourceKind::Hr {
            let mut roster = HrSnapshot { collected_at: self.collected_at, workers: Vec::new() };
            for chunk in chunks {
                roster.workers.extend(chunk.workers);
            }
            return SnapshotContent::Roster(roster);
        }
        let mut snapshot = SourceSnapshot::new(self.source);
        snapshot.collected_at = self.collected_at;
        for chunk in chunks {
            if let Some(settings) = chunk.settings {
                snapshot.settings = settings;
            }
            snapshot.accounts.extend(chunk.accounts);
            snapshot.entitlements.extend(chunk.entitlements);
            snapshot.memberships.extend(chunk.memberships);
        }
        SnapshotContent::Source(snapshot)
    }
}
