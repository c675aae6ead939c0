//! Reassembling snapshots from `rollcall.v1.SnapshotChunk` messages that arrive in any
//! order, with duplicates, for several snapshots at once.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use prost::Message;
use rollcall_core::TenantId;
use uuid::Uuid;

use crate::chunk_content::{ChunkContent, ChunkHeader, SnapshotContent, chunk_from_proto};
use crate::error::ConvertError;
use crate::hash::ContentHash;
use crate::v1;

/// Number of completed snapshots whose late duplicate chunks are still recognised and
/// dropped. JetStream redelivers a chunk whose acknowledgement was lost, possibly after
/// its snapshot completed. Such a chunk would otherwise start a new snapshot that never
/// completes.
const REMEMBERED_COMPLETED: usize = 1024;

/// A chunk that the assembler rejects, or a snapshot that failed its final check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    /// The bytes are not a protobuf encoding of a `SnapshotChunk`.
    #[error(
        "a snapshot chunk is not a valid protobuf message ({0}): the publisher must send an encoded rollcall.v1.SnapshotChunk"
    )]
    Decode(prost::DecodeError),
    /// A header or content field of the chunk is invalid.
    #[error("chunk `{chunk_index}` of snapshot `{snapshot_id}` is invalid: {source}")]
    InvalidChunk {
        /// Snapshot id as the chunk carries it.
        snapshot_id: String,
        /// Chunk index as the chunk carries it.
        chunk_index: u32,
        /// The invalid field, boxed to keep the error small on the success path.
        source: Box<ConvertError>,
    },
    /// The chunk index is not below the chunk count.
    #[error(
        "chunk `{chunk_index}` of snapshot `{snapshot_id}` is out of range, because the snapshot has `{chunk_count}` chunks numbered from 0: the publisher must number chunks from 0 to the count minus one"
    )]
    IndexOutOfRange {
        /// Snapshot id.
        snapshot_id: Uuid,
        /// Chunk index.
        chunk_index: u32,
        /// Chunk count the same chunk carries.
        chunk_count: u32,
    },
    /// A header field differs from the first chunk received for the same snapshot. The
    /// chunk is dropped and the snapshot stays pending with the first chunk's values.
    #[error(
        "chunk `{chunk_index}` of snapshot `{snapshot_id}` has `{field}` = `{found}`, but earlier chunks have `{expected}`: every chunk of a snapshot must carry the same header, so discard the snapshot and publish it again"
    )]
    Inconsistent {
        /// Snapshot id.
        snapshot_id: Uuid,
        /// Index of the rejected chunk.
        chunk_index: u32,
        /// Header field that differs, such as `chunk_count`.
        field: &'static str,
        /// Value of the earlier chunks.
        expected: String,
        /// Value of the rejected chunk.
        found: String,
    },
    /// A chunk index arrived twice with different content.
    #[error(
        "chunk `{chunk_index}` of snapshot `{snapshot_id}` arrived twice with different content: discard the snapshot and publish it again"
    )]
    ConflictingDuplicate {
        /// Snapshot id.
        snapshot_id: Uuid,
        /// Chunk index.
        chunk_index: u32,
    },
    /// Every chunk arrived, but the content does not have the hash the chunks announce.
    /// The snapshot is dropped.
    #[error(
        "snapshot `{snapshot_id}` of tenant `{tenant}` has content hash `{actual}`, not the announced `{expected}`: a chunk was altered or belongs to another snapshot, so publish it again with a new id"
    )]
    HashMismatch {
        /// Tenant id.
        tenant: TenantId,
        /// Snapshot id.
        snapshot_id: Uuid,
        /// Hash the chunks announce.
        expected: ContentHash,
        /// Hash of the reassembled content.
        actual: ContentHash,
    },
}

/// A snapshot whose chunks all arrived and whose content hash matches.
#[derive(Debug, Clone, PartialEq)]
pub struct AssembledSnapshot {
    /// Tenant the snapshot belongs to.
    pub tenant: TenantId,
    /// Snapshot id.
    pub snapshot_id: Uuid,
    /// Content hash, checked against the content.
    pub content_hash: ContentHash,
    /// The snapshot, or the HR roster for source `hr`, with every list in the
    /// publisher's order.
    pub content: SnapshotContent,
}

/// A snapshot still waiting for chunks, as listed by [`Assembler::pending`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSnapshot {
    /// Tenant the snapshot belongs to.
    pub tenant: TenantId,
    /// Snapshot id.
    pub snapshot_id: Uuid,
    /// Source id the chunks carry.
    pub source: String,
    /// Number of distinct chunks received.
    pub chunks_received: u32,
    /// Number of chunks the snapshot has.
    pub chunk_count: u32,
    /// Time since the first chunk arrived.
    pub age: Duration,
}

/// Identity of one snapshot. The tenant is part of it so that a snapshot id reused by
/// another tenant's publisher never mixes the two tenants' records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SnapshotKey {
    tenant: TenantId,
    snapshot_id: Uuid,
}

/// The chunks received so far of one snapshot.
#[derive(Debug)]
struct Pending {
    header: ChunkHeader,
    first_received: Instant,
    chunks: BTreeMap<u32, ChunkContent>,
}

/// Collects snapshot chunks and returns each snapshot once all its chunks arrived.
///
/// The assembler reads no clock: every call that needs the time takes it as `now`, so the
/// caller decides which clock ages pending snapshots.
#[derive(Debug, Default)]
pub struct Assembler {
    pending: HashMap<SnapshotKey, Pending>,
    completed: HashSet<SnapshotKey>,
    /// `completed` in completion order, to forget the oldest first.
    completed_order: VecDeque<SnapshotKey>,
}

impl Assembler {
    /// Creates an assembler with no pending snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one encoded chunk and takes it as [`Assembler::accept`] does.
    ///
    /// # Errors
    ///
    /// [`AssembleError::Decode`] for bytes that are not a chunk, and every error of
    /// [`Assembler::accept`].
    pub fn accept_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
    ) -> Result<Option<AssembledSnapshot>, AssembleError> {
        let chunk = v1::SnapshotChunk::decode(bytes).map_err(AssembleError::Decode)?;
        self.accept(chunk, now)
    }

    /// Takes one chunk received at `now`, and returns the snapshot when this chunk was the
    /// last one missing and the content hash matches.
    ///
    /// A chunk that arrived before with the same content, or that belongs to one of the
    /// last 1024 completed snapshots, is dropped and gives `Ok(None)`.
    ///
    /// # Errors
    ///
    /// An invalid chunk ([`AssembleError::InvalidChunk`], [`AssembleError::IndexOutOfRange`])
    /// or one that contradicts earlier chunks ([`AssembleError::Inconsistent`],
    /// [`AssembleError::ConflictingDuplicate`]) is dropped, and its snapshot stays pending.
    /// [`AssembleError::HashMismatch`] drops the whole snapshot.
    pub fn accept(
        &mut self,
        chunk: v1::SnapshotChunk,
        now: Instant,
    ) -> Result<Option<AssembledSnapshot>, AssembleError> {
        let snapshot_id = chunk.snapshot_id.clone();
        let chunk_index = chunk.chunk_index;
        let (header, content) = chunk_from_proto(chunk).map_err(|source| {
            AssembleError::InvalidChunk { snapshot_id, chunk_index, source: Box::new(source) }
        })?;
        if header.chunk_index >= header.chunk_count {
            return Err(AssembleError::IndexOutOfRange {
                snapshot_id: header.snapshot_id,
                chunk_index: header.chunk_index,
                chunk_count: header.chunk_count,
            });
        }
        let key = SnapshotKey { tenant: header.tenant.clone(), snapshot_id: header.snapshot_id };
        if self.completed.contains(&key) {
            return Ok(None);
        }

        let pending = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            header: header.clone(),
            first_received: now,
            chunks: BTreeMap::new(),
        });
        check_consistent(&pending.header, &header)?;
        if let Some(earlier) = pending.chunks.get(&header.chunk_index) {
            if *earlier == content {
                return Ok(None);
            }
            return Err(AssembleError::ConflictingDuplicate {
                snapshot_id: header.snapshot_id,
                chunk_index: header.chunk_index,
            });
        }
        pending.chunks.insert(header.chunk_index, content);
        if (pending.chunks.len() as u64) < u64::from(pending.header.chunk_count) {
            return Ok(None);
        }

        let Some(complete) = self.pending.remove(&key) else { return Ok(None) };
        let expected = complete.header.content_hash;
        let content = complete.header.into_content(complete.chunks.into_values());
        let actual = content.content_hash();
        if actual != expected {
            return Err(AssembleError::HashMismatch {
                tenant: key.tenant,
                snapshot_id: key.snapshot_id,
                expected,
                actual,
            });
        }
        self.remember_completed(key.clone());
        Ok(Some(AssembledSnapshot {
            tenant: key.tenant,
            snapshot_id: key.snapshot_id,
            content_hash: actual,
            content,
        }))
    }

    /// Lists the snapshots still waiting for chunks, oldest first, with their age at
    /// `now`, so the caller can expire those that waited too long.
    pub fn pending(&self, now: Instant) -> Vec<PendingSnapshot> {
        let mut list: Vec<(Instant, PendingSnapshot)> = self
            .pending
            .iter()
            .map(|(key, pending)| (pending.first_received, describe(key, pending, now)))
            .collect();
        list.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.tenant.cmp(&b.1.tenant))
                .then_with(|| a.1.snapshot_id.cmp(&b.1.snapshot_id))
        });
        list.into_iter().map(|(_, pending)| pending).collect()
    }

    /// Drops the pending snapshot `snapshot_id` of `tenant` and its chunks. Returns whether
    /// it was pending.
    pub fn discard(&mut self, tenant: &TenantId, snapshot_id: Uuid) -> bool {
        let key = SnapshotKey { tenant: tenant.clone(), snapshot_id };
        self.pending.remove(&key).is_some()
    }

    /// Drops every pending snapshot whose first chunk arrived more than `max_age` before
    /// `now`, and returns them as they were, oldest first.
    pub fn expire(&mut self, now: Instant, max_age: Duration) -> Vec<PendingSnapshot> {
        let expired: Vec<PendingSnapshot> =
            self.pending(now).into_iter().filter(|pending| pending.age > max_age).collect();
        for pending in &expired {
            self.discard(&pending.tenant, pending.snapshot_id);
        }
        expired
    }

    /// Forgets that snapshot `snapshot_id` of `tenant` was completed, so that its chunks
    /// delivered again are assembled again. A consumer calls it when storing the
    /// assembled snapshot failed and it will take the chunks again. Returns whether the
    /// snapshot was remembered.
    pub fn forget_completed(&mut self, tenant: &TenantId, snapshot_id: Uuid) -> bool {
        let key = SnapshotKey { tenant: tenant.clone(), snapshot_id };
        self.completed_order.retain(|remembered| *remembered != key);
        self.completed.remove(&key)
    }

    fn remember_completed(&mut self, key: SnapshotKey) {
        if self.completed_order.len() >= REMEMBERED_COMPLETED
            && let Some(oldest) = self.completed_order.pop_front()
        {
            self.completed.remove(&oldest);
        }
        self.completed.insert(key.clone());
        self.completed_order.push_back(key);
    }
}

fn describe(key: &SnapshotKey, pending: &Pending, now: Instant) -> PendingSnapshot {
    PendingSnapshot {
        tenant: key.tenant.clone(),
        snapshot_id: key.snapshot_id,
        source: pending.header.source.to_string(),
        chunks_received: u32::try_from(pending.chunks.len()).unwrap_or(u32::MAX),
        chunk_count: pending.header.chunk_count,
        age: now.saturating_duration_since(pending.first_received),
    }
}

/// Checks that `header` repeats the header of the snapshot's earlier chunks.
fn check_consistent(first: &ChunkHeader, header: &ChunkHeader) -> Result<(), AssembleError> {
    let inconsistent = |field, expected: String, found: String| {
        Err(AssembleError::Inconsistent {
            snapshot_id: header.snapshot_id,
            chunk_index: header.chunk_index,
            field,
            expected,
            found,
        })
    };
    if header.chunk_count != first.chunk_count {
        return inconsistent(
            "chunk_count",
            first.chunk_count.to_string(),
            header.chunk_count.to_string(),
        );
    }
    if header.source != first.source {
        return inconsistent("source", first.source.to_string(), header.source.to_string());
    }
    if header.content_hash != first.content_hash {
        return inconsistent(
            "content_sha256",
            first.content_hash.to_string(),
            header.content_hash.to_string(),
        );
    }
    if header.collected_at != first.collected_at {
        let text = |at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map_or_else(|| "unset".to_owned(), |at| at.to_rfc3339())
        };
        return inconsistent("collected_at", text(first.collected_at), text(header.collected_at));
    }
    Ok(())
}
