//! Splitting a snapshot into `rollcall.v1.SnapshotChunk` messages that each fit in one NATS
//! message.

use prost::Message;
use prost::encoding::message::encoded_len;
use rollcall_core::TenantId;
use rollcall_core::model::{HrSnapshot, SourceId, SourceKind, SourceSettings, SourceSnapshot};
use uuid::Uuid;

use crate::account::account_to_proto;
use crate::entitlement::{entitlement_to_proto, membership_to_proto};
use crate::hash::ContentHash;
use crate::hr::worker_to_proto;
use crate::snapshot::source_settings_to_proto;
use crate::v1;
use crate::wire::optional_timestamp_to_proto;

/// Default maximum encoded size of one chunk, in bytes: 960 KiB.
///
/// NATS servers accept payloads up to `max_payload`, 1 MiB unless configured otherwise,
/// and the message headers count towards it. The 64 KiB left over is room for the
/// `Nats-Msg-Id` and any tracing headers.
pub const DEFAULT_MAX_CHUNK_BYTES: usize = 960 * 1024;

/// Field numbers of the content fields in `rollcall.v1.SnapshotChunk`.
const SETTINGS_FIELD: u32 = 8;
const ACCOUNTS_FIELD: u32 = 9;
const ENTITLEMENTS_FIELD: u32 = 10;
const MEMBERSHIPS_FIELD: u32 = 11;
const WORKERS_FIELD: u32 = 12;

/// A snapshot that cannot be split under the requested chunk size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// The limit is below what the first chunk needs before any record: the header
    /// fields and the settings.
    #[error(
        "the chunk size limit of `{max}` bytes is below the `{needed}` bytes that the chunk header and settings need: raise the limit"
    )]
    LimitTooSmall {
        /// Requested limit, in bytes.
        max: usize,
        /// Bytes the first chunk needs without records.
        needed: usize,
    },
    /// One record does not fit in a chunk of its own.
    #[error(
        "{record} encodes to `{bytes}` bytes, too large for a chunk of at most `{max}` bytes with its header: raise the limit or remove large attribute values from the record"
    )]
    RecordTooLarge {
        /// Record kind and id, such as ``account `U-2231` ``.
        record: String,
        /// Encoded size of the record inside a chunk, in bytes.
        bytes: usize,
        /// Requested limit, in bytes.
        max: usize,
    },
    /// The snapshot is of source `hr`, whose chunks carry the HR roster.
    #[error(
        "a directory snapshot of source `{source_id}` cannot be split: the `hr` source carries the HR roster, so publish the roster with split_roster"
    )]
    HrSource {
        /// The source id.
        source_id: String,
    },
    /// The snapshot needs more chunks than `chunk_count` (32 bits) can count.
    #[error("the snapshot needs `{chunks}` chunks, more than 4294967295: raise the limit")]
    TooManyChunks {
        /// Number of chunks needed.
        chunks: usize,
    },
}

/// Splits `snapshot` into chunks whose protobuf encoding is at most `max_chunk_bytes`
/// each, for publishing on `rollcall.<tenant>.source.<source>.snapshot`.
///
/// The chunks contain the accounts, then the entitlements, then the memberships, in the
/// snapshot's order, and chunk 0 also contains the settings. An empty snapshot gives one chunk.
/// `snapshot_id` must be new for each snapshot, because it is part of every chunk's NATS
/// message id.
///
/// # Errors
///
/// [`SplitError::LimitTooSmall`] when the header and settings alone exceed the limit,
/// [`SplitError::RecordTooLarge`] when one account, entitlement or membership does not fit
/// in a chunk of its own, [`SplitError::TooManyChunks`] past `u32::MAX` chunks, and
/// [`SplitError::HrSource`] for source `hr`, whose chunks carry the roster.
pub fn split(
    snapshot: &SourceSnapshot,
    tenant: &TenantId,
    snapshot_id: Uuid,
    max_chunk_bytes: usize,
) -> Result<Vec<v1::SnapshotChunk>, SplitError> {
    if snapshot.source.kind() == SourceKind::Hr {
        return Err(SplitError::HrSource { source_id: snapshot.source.to_string() });
    }
    let header = chunk_header(
        tenant,
        &snapshot.source,
        snapshot_id,
        ContentHash::of(snapshot),
        snapshot.collected_at,
    );
    let mut packer = Packer::start(header, &snapshot.settings, max_chunk_bytes)?;
    for account in &snapshot.accounts {
        let message = account_to_proto(account);
        let len = encoded_len(ACCOUNTS_FIELD, &message);
        packer.make_room(len, || format!("account `{}`", account.id))?;
        packer.current.accounts.push(message);
    }
    for entitlement in &snapshot.entitlements {
        let message = entitlement_to_proto(entitlement);
        let len = encoded_len(ENTITLEMENTS_FIELD, &message);
        packer.make_room(len, || format!("entitlement `{}`", entitlement.id))?;
        packer.current.entitlements.push(message);
    }
    for membership in &snapshot.memberships {
        let message = membership_to_proto(membership);
        let len = encoded_len(MEMBERSHIPS_FIELD, &message);
        packer.make_room(len, || format!("membership in `{}`", membership.entitlement))?;
        packer.current.memberships.push(message);
    }
    packer.finish()
}

/// Splits an HR roster into chunks of source `hr`, for publishing on
/// `rollcall.<tenant>.source.hr.snapshot`, as [`split`] does for a directory snapshot.
///
/// The chunks carry the workers in the roster's order and default settings in chunk 0,
/// and their `content_sha256` is [`ContentHash::of_roster`].
///
/// # Errors
///
/// As [`split`], with [`SplitError::RecordTooLarge`] naming the worker.
pub fn split_roster(
    roster: &HrSnapshot,
    tenant: &TenantId,
    snapshot_id: Uuid,
    max_chunk_bytes: usize,
) -> Result<Vec<v1::SnapshotChunk>, SplitError> {
    let header = chunk_header(
        tenant,
        &SourceId::hr(),
        snapshot_id,
        ContentHash::of_roster(roster),
        roster.collected_at,
    );
    let mut packer = Packer::start(header, &SourceSettings::default(), max_chunk_bytes)?;
    for worker in &roster.workers {
        let message = worker_to_proto(worker);
        let len = encoded_len(WORKERS_FIELD, &message);
        packer.make_room(len, || format!("worker `{}`", worker.employee_id))?;
        packer.current.workers.push(message);
    }
    packer.finish()
}

/// The header fields every chunk of a snapshot repeats.
fn chunk_header(
    tenant: &TenantId,
    source: &SourceId,
    snapshot_id: Uuid,
    hash: ContentHash,
    collected_at: Option<chrono::DateTime<chrono::Utc>>,
) -> v1::SnapshotChunk {
    v1::SnapshotChunk {
        tenant: tenant.as_str().to_owned(),
        source: source.to_string(),
        snapshot_id: snapshot_id.hyphenated().to_string(),
        // The largest index and count, so that the header size is an upper bound for
        // every chunk whatever its index.
        chunk_index: u32::MAX,
        chunk_count: u32::MAX,
        content_sha256: hash.to_string(),
        collected_at: optional_timestamp_to_proto(collected_at),
        ..v1::SnapshotChunk::default()
    }
}

/// Fills chunks one after another, starting a new chunk when the next record would take
/// the current one past the limit.
struct Packer {
    header: v1::SnapshotChunk,
    /// Encoded size of the header fields, with the largest index and count.
    header_len: usize,
    max: usize,
    done: Vec<v1::SnapshotChunk>,
    current: v1::SnapshotChunk,
    /// Encoded size of `current`, an upper bound because of `header_len`.
    used: usize,
}

impl Packer {
    /// Starts the first chunk with the header and the settings, which only chunk 0 carries.
    fn start(
        header: v1::SnapshotChunk,
        settings: &SourceSettings,
        max: usize,
    ) -> Result<Self, SplitError> {
        let header_len = header.encoded_len();
        let mut packer = Self {
            current: header.clone(),
            header,
            header_len,
            max,
            done: Vec::new(),
            used: header_len,
        };
        let settings = source_settings_to_proto(settings);
        let settings_len = encoded_len(SETTINGS_FIELD, &settings);
        if header_len + settings_len > max {
            return Err(SplitError::LimitTooSmall { max, needed: header_len + settings_len });
        }
        packer.current.settings = Some(settings);
        packer.used += settings_len;
        Ok(packer)
    }

    /// Starts a new chunk when a record of `len` encoded bytes does not fit in the current
    /// one. `record` names the record for the error when it fits in no chunk at all.
    fn make_room(&mut self, len: usize, record: impl FnOnce() -> String) -> Result<(), SplitError> {
        if self.header_len + len > self.max {
            return Err(SplitError::RecordTooLarge { record: record(), bytes: len, max: self.max });
        }
        if self.used + len > self.max {
            let full = std::mem::replace(&mut self.current, self.header.clone());
            self.done.push(full);
            self.used = self.header_len;
        }
        self.used += len;
        Ok(())
    }

    /// Returns the chunks with their final index and count.
    fn finish(mut self) -> Result<Vec<v1::SnapshotChunk>, SplitError> {
        self.done.push(self.current);
        let chunks = self.done.len();
        let count = u32::try_from(chunks).map_err(|_| SplitError::TooManyChunks { chunks })?;
        for (index, chunk) in (0u32..).zip(self.done.iter_mut()) {
            chunk.chunk_index = index;
            chunk.chunk_count = count;
        }
        Ok(self.done)
    }
}
