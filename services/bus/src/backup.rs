//! Backup and restore of a JetStream stream through the server's own snapshot API, so
//! that an operator needs no `nats` CLI.
//!
//! [`backup_stream`] writes stream `S` into the folder `DIR/S`:
//!
//! | file | content |
//! | --- | --- |
//! | `stream.json` | the backup's metadata: format version, stream name, time of the backup, server version, size of `snapshot.s2` and chunk count, and the stream's configuration and state exactly as the server returned them |
//! | `snapshot.s2` | the snapshot bytes as the server sent them: an S2-compressed archive of the stream's message blocks and of each consumer's configuration and ack state |
//!
//! The folder is first written as `DIR/.S.partial-<pid>` and renamed to `DIR/S` once both
//! files are complete and synced to disk, so a folder named after a stream is always a
//! whole backup. [`restore_stream`] reads `DIR/S` back into a server on which stream `S`
//! does not exist, or deletes it first when [`RestoreOptions::delete_existing`] is set.
//!
//! The protocol is the one of NATS Server 2.9.10 and later (`server/jetstream_api.go`):
//!
//! - Backup: a request to `$JS.API.STREAM.SNAPSHOT.<stream>` names a deliver subject that
//!   the client already subscribes to. The response carries the stream's configuration
//!   and state. The server then sends the snapshot in chunks to the deliver subject. A
//!   chunk with a reply subject expects an empty message back, which is the server's
//!   flow control. An empty message ends the snapshot. From 2.10.12 on it has a status
//!   header: 204 when the snapshot is complete, 408 or 500 when the server gave up.
//! - Restore: a request to `$JS.API.STREAM.RESTORE.<stream>` with the saved configuration
//!   and state returns a deliver subject. Each chunk goes there as a request and the
//!   server replies with an empty message. A last, empty request makes the server unpack
//!   the stream, and its reply is the new stream's info or an error. The server cancels
//!   the restore when no chunk arrives for 5 seconds.

mod restore;
mod snapshot;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use restore::restore_stream;
pub use snapshot::backup_stream;

/// Name of the metadata file in a stream's backup folder.
pub const METADATA_FILE: &str = "stream.json";

/// Name of the snapshot data file in a stream's backup folder.
pub const DATA_FILE: &str = "snapshot.s2";

/// Version of the `stream.json` layout, raised when a field changes meaning.
const FORMAT_VERSION: u32 = 1;

/// Subject prefix of the JetStream API of an account without a JetStream domain.
const API_PREFIX: &str = "$JS.API";

/// A stream backup or restore that failed. Every message names the stream and what to
/// do next.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The name cannot be a JetStream stream name or a folder name.
    #[error(
        "invalid stream name `{stream}`: use 1 to 255 ASCII letters, digits, `-` and `_`, as in ROLLCALL_HR"
    )]
    InvalidStreamName {
        /// The rejected name.
        stream: String,
    },
    /// The stream to back up does not exist on the server.
    #[error(
        "stream `{stream}` does not exist on the NATS server; check nats.stream_prefix, or start the engine once so that it creates its streams"
    )]
    StreamNotFound {
        /// The stream name.
        stream: String,
    },
    /// No JetStream API responded to a request.
    #[error(
        "no JetStream API responded to the {operation} of stream `{stream}`; check that the NATS server runs with JetStream enabled and that the account may use it"
    )]
    JetStreamUnavailable {
        /// The stream name.
        stream: String,
        /// The request, such as `snapshot request`.
        operation: &'static str,
    },
    /// The server returned a JetStream API error.
    #[error("the NATS server rejected the {operation} of stream `{stream}`: {source}")]
    Api {
        /// The stream name.
        stream: String,
        /// The request, such as `snapshot request`.
        operation: &'static str,
        /// The server's error, with its code.
        source: jetstream::Error,
    },
    /// A request could not be sent or its reply was lost.
    #[error(
        "the {operation} of stream `{stream}` failed: {source}; check the connection to the NATS server and run the command again"
    )]
    Request {
        /// The stream name.
        stream: String,
        /// The request, such as `snapshot request`.
        operation: &'static str,
        /// The client's error.
        source: async_nats::RequestError,
    },
    /// The reply to a request is not the JSON document the API returns.
    #[error(
        "the reply to the {operation} of stream `{stream}` is not a JetStream API response ({reason}); check that nats.url names a NATS server with JetStream"
    )]
    InvalidResponse {
        /// The stream name.
        stream: String,
        /// The request, such as `snapshot request`.
        operation: &'static str,
        /// The parse error of the reply.
        reason: String,
    },
    /// The server sent nothing within the time limit.
    #[error(
        "timed out after {after:?} waiting for {waiting_for} of stream `{stream}`; check that the NATS server is reachable and not overloaded, then run the command again"
    )]
    TimedOut {
        /// The stream name.
        stream: String,
        /// The awaited message, such as `the next snapshot chunk`.
        waiting_for: &'static str,
        /// The time limit that ran out.
        after: Duration,
    },
    /// The client could not subscribe to the snapshot's deliver subject or send a flow
    /// control reply.
    #[error(
        "sending to the NATS server failed during the backup of stream `{stream}`: {reason}; check the connection and run the command again"
    )]
    Connection {
        /// The stream name.
        stream: String,
        /// The client's error.
        reason: String,
    },
    /// The client reconnected during the transfer, so chunks sent while it was
    /// disconnected may be missing.
    #[error(
        "the connection to the NATS server was lost during the backup of stream `{stream}`, so chunks may be missing; run the command again"
    )]
    Reconnected {
        /// The stream name.
        stream: String,
    },
    /// The server ended the snapshot with an error status.
    #[error(
        "the NATS server stopped the snapshot of stream `{stream}` with status {status} `{description}`; run the command again, and check the server log when it happens again"
    )]
    SnapshotAborted {
        /// The stream name.
        stream: String,
        /// The status code of the server's last message, such as 408.
        status: u16,
        /// The status description, such as `No Flow Response`.
        description: String,
    },
    /// The chunks did not arrive as one unbroken sequence.
    #[error(
        "the snapshot of stream `{stream}` arrived incomplete: {reason}; run the command again"
    )]
    BrokenChunkSequence {
        /// The stream name.
        stream: String,
        /// The gap or mismatch that was found.
        reason: String,
    },
    /// The folder for the backup already exists.
    #[error(
        "a backup of stream `{stream}` already exists at {}; choose another folder, or move the old backup away first", path.display()
    )]
    BackupExists {
        /// The stream name.
        stream: String,
        /// The existing folder.
        path: PathBuf,
    },
    /// Reading or writing a backup file failed.
    #[error("{action} {} for stream `{stream}` failed: {source}", path.display())]
    Io {
        /// The stream name.
        stream: String,
        /// The action, such as `writing`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The backup folder or one of its files does not exist.
    #[error(
        "no backup of stream `{stream}`: {} does not exist; give the folder that `streams backup --out` wrote, which contains one folder per stream", path.display()
    )]
    MissingBackup {
        /// The stream name.
        stream: String,
        /// The missing folder or file.
        path: PathBuf,
    },
    /// `stream.json` cannot be used.
    #[error(
        "the backup metadata {} of stream `{stream}` is invalid: {reason}; the backup is damaged, restore another one", path.display()
    )]
    InvalidMetadata {
        /// The stream name.
        stream: String,
        /// The metadata file.
        path: PathBuf,
        /// The problem found in the file.
        reason: String,
    },
    /// The data file does not have the size that `stream.json` records.
    #[error(
        "the backup data {} of stream `{stream}` is {actual} bytes but the backup recorded {expected}; the file is truncated or damaged, restore another backup", path.display()
    )]
    DataSize {
        /// The stream name.
        stream: String,
        /// The data file.
        path: PathBuf,
        /// The size recorded at backup, in bytes.
        expected: u64,
        /// The size on disk, in bytes.
        actual: u64,
    },
    /// The stream to restore already exists.
    #[error(
        "stream `{stream}` already exists on the NATS server, and JetStream restores only into a missing stream; stop the engine, then run the restore again with --delete-existing to replace the stream"
    )]
    StreamExists {
        /// The stream name.
        stream: String,
    },
    /// The server could not unpack or store the restored stream.
    #[error(
        "the NATS server rejected the restored data of stream `{stream}`: {reason}; the backup is damaged or does not fit the server's limits, restore another backup"
    )]
    RestoreFailed {
        /// The stream name.
        stream: String,
        /// The server's error.
        reason: String,
    },
    /// The server cancelled the restore before the last chunk.
    #[error(
        "the NATS server cancelled the restore of stream `{stream}`, which it does when no chunk arrives for 5 seconds; check the connection to the server and run the restore again"
    )]
    RestoreCancelled {
        /// The stream name.
        stream: String,
    },
    /// The restore failed after [`RestoreOptions::delete_existing`] deleted the stream, so
    /// the stream is now missing.
    #[error(
        "stream `{stream}` was deleted by --delete-existing but not restored, so it is missing until a restore succeeds (the engine and the connectors create it empty when they start): {source}"
    )]
    DeletedNotRestored {
        /// The stream name.
        stream: String,
        /// The error that stopped the restore.
        source: Box<BackupError>,
    },
    /// The restored stream has a lower last sequence or fewer consumers than the backup
    /// recorded.
    #[error(
        "stream `{stream}` was restored with last sequence {restored_last_sequence} and {restored_consumers} consumers, but the backup recorded last sequence {expected_last_sequence} and {expected_consumers} consumers; the backup is damaged, so restore another one with --delete-existing"
    )]
    RestoredIncomplete {
        /// The stream name.
        stream: String,
        /// The last sequence the backup recorded.
        expected_last_sequence: u64,
        /// The last sequence of the restored stream.
        restored_last_sequence: u64,
        /// The consumer count the backup recorded.
        expected_consumers: u64,
        /// The consumer count of the restored stream.
        restored_consumers: u64,
    },
}

/// Chunk size and time limits of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOptions {
    /// Size of each snapshot chunk that the server sends, and of each restore chunk sent to
    /// it, in bytes. Kept within 1 KiB and the smaller of 1 MiB and the server's
    /// `max_payload`, the range to which NATS Server 2.12.5 and later clamp snapshot chunks.
    pub chunk_bytes: usize,
    /// Maximum wait for one API response, one snapshot chunk or the reply to one restore
    /// chunk.
    pub reply_timeout: Duration,
    /// Maximum wait for the reply to the last restore request, during which the server
    /// unpacks and loads the whole stream.
    pub finish_timeout: Duration,
}

impl Default for TransferOptions {
    /// Uses 128 KiB chunks, the server's default, and waits at most 30 seconds per reply
    /// and 10 minutes for a restore to finish.
    fn default() -> Self {
        Self {
            chunk_bytes: 128 * 1024,
            reply_timeout: Duration::from_secs(30),
            finish_timeout: Duration::from_secs(10 * 60),
        }
    }
}

impl TransferOptions {
    /// Returns [`TransferOptions::chunk_bytes`] within the range that the server accepts.
    fn chunk_bytes_for(&self, max_payload: usize) -> usize {
        const MIN: usize = 1024;
        const MAX: usize = 1024 * 1024;
        // The server's max_payload bounds a restore chunk with its protocol headers, so
        // 1 KiB of it is left for them.
        let upper = MAX.min(max_payload.saturating_sub(MIN)).max(MIN);
        self.chunk_bytes.clamp(MIN, upper)
    }
}

/// Options of [`restore_stream`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Deletes the stream, with its messages and consumers, when it exists, before the
    /// restore. Without it a restore into an existing stream fails with
    /// [`BackupError::StreamExists`]. The backup's files are checked before anything is
    /// deleted, but the server checks the data itself only after the deletion.
    pub delete_existing: bool,
    /// Chunk size and time limits.
    pub transfer: TransferOptions,
}

/// The counts of a stream's state that a backup records and a restore checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct StreamCounts {
    /// Messages stored.
    #[serde(default)]
    pub messages: u64,
    /// Sequence of the oldest stored message.
    #[serde(default, rename = "first_seq")]
    pub first_sequence: u64,
    /// Sequence of the newest message ever stored, which stays when messages expire.
    #[serde(default, rename = "last_seq")]
    pub last_sequence: u64,
    /// Consumers of the stream.
    #[serde(default, rename = "consumer_count")]
    pub consumers: u64,
}

/// A completed backup of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The stream name.
    pub stream: String,
    /// The folder that contains `stream.json` and `snapshot.s2`.
    pub folder: PathBuf,
    /// Size of `snapshot.s2`, in bytes.
    pub data_bytes: u64,
    /// Number of chunks the server sent.
    pub chunks: u64,
    /// The stream's state when the server took the snapshot.
    pub counts: StreamCounts,
}

/// A completed restore of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    /// The stream name.
    pub stream: String,
    /// Whether an existing stream was deleted first.
    pub deleted_existing: bool,
    /// Bytes sent to the server.
    pub data_bytes: u64,
    /// The state that the backup recorded.
    pub backed_up: StreamCounts,
    /// The state of the restored stream. It can contain fewer messages than the backup,
    /// because the server removes the messages older than the stream's max age when it
    /// loads the stream.
    pub restored: StreamCounts,
}

/// The content of `stream.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupMetadata {
    /// [`FORMAT_VERSION`] of the writer.
    format: u32,
    /// The stream name, equal to the folder name and to `config.name`.
    stream: String,
    /// When the backup finished.
    created: chrono::DateTime<chrono::Utc>,
    /// Version of the server that took the snapshot, such as `2.9.10`.
    server_version: String,
    /// Size of `snapshot.s2`, in bytes.
    data_bytes: u64,
    /// Number of chunks the server sent.
    chunks: u64,
    /// The stream configuration from the snapshot response, kept as the server wrote it
    /// so that fields this client does not know survive the round trip.
    config: serde_json::Value,
    /// The stream state from the snapshot response.
    state: serde_json::Value,
}

/// Checks that `stream` is a stream name that is also safe as a folder name. The bus's
/// names are ASCII (see `Namespace::new`), so other characters are rejected here even
/// where JetStream would allow them.
fn validate_stream_name(stream: &str) -> Result<(), BackupError> {
    let valid = !stream.is_empty()
        && stream.len() <= 255
        && stream.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if valid { Ok(()) } else { Err(BackupError::InvalidStreamName { stream: stream.to_owned() }) }
}

/// Parses a JetStream API reply into its value or the server's error.
fn parse_api_reply<T: DeserializeOwned>(
    stream: &str,
    operation: &'static str,
    payload: &[u8],
) -> Result<Result<T, jetstream::Error>, BackupError> {
    match serde_json::from_slice::<jetstream::response::Response<T>>(payload) {
        Ok(jetstream::response::Response::Ok(value)) => Ok(Ok(value)),
        Ok(jetstream::response::Response::Err { error }) => Ok(Err(error)),
        Err(error) => Err(BackupError::InvalidResponse {
            stream: stream.to_owned(),
            operation,
            reason: error.to_string(),
        }),
    }
}

/// Sends a request to the JetStream API and waits at most `timeout` for its reply.
async fn api_request<T: DeserializeOwned>(
    client: &async_nats::Client,
    stream: &str,
    operation: &'static str,
    subject: String,
    body: Bytes,
    timeout: Duration,
) -> Result<Result<T, jetstream::Error>, BackupError> {
    let request = async_nats::Request::new().payload(body).timeout(Some(timeout));
    let reply = client
        .send_request(subject, request)
        .await
        .map_err(|source| request_error(stream, operation, source, timeout))?;
    parse_api_reply(stream, operation, &reply.payload)
}

/// Maps a client's request error to a [`BackupError`] that names the next step.
fn request_error(
    stream: &str,
    operation: &'static str,
    source: async_nats::RequestError,
    timeout: Duration,
) -> BackupError {
    let stream = stream.to_owned();
    match source.kind() {
        async_nats::RequestErrorKind::TimedOut => BackupError::TimedOut {
            stream,
            waiting_for: operation_reply(operation),
            after: timeout,
        },
        async_nats::RequestErrorKind::NoResponders => {
            BackupError::JetStreamUnavailable { stream, operation }
        }
        _ => BackupError::Request { stream, operation, source },
    }
}

/// Names the reply to `operation` for [`BackupError::TimedOut`].
fn operation_reply(operation: &'static str) -> &'static str {
    match operation {
        SNAPSHOT_REQUEST => "the reply to the snapshot request",
        RESTORE_REQUEST => "the reply to the restore request",
        RESTORE_CHUNK => "the reply to a restore chunk",
        RESTORE_FINISH => "the server to load the restored stream",
        STREAM_INFO_REQUEST => "the reply to the stream info request",
        STREAM_DELETE_REQUEST => "the reply to the stream delete request",
        _ => "a reply",
    }
}

const SNAPSHOT_REQUEST: &str = "snapshot request";
const RESTORE_REQUEST: &str = "restore request";
const RESTORE_CHUNK: &str = "restore chunk";
const RESTORE_FINISH: &str = "last restore request";
const STREAM_INFO_REQUEST: &str = "stream info request";
const STREAM_DELETE_REQUEST: &str = "stream delete request";

/// Returns a closure that wraps an I/O error with the stream, the action and the path.
fn io_error<'a>(
    stream: &'a str,
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        stream: stream.to_owned(),
        action,
        path: path.to_owned(),
        source,
    }
}

/// Syncs a folder, so that a rename or a new file in it survives a crash.
fn sync_folder(stream: &str, folder: &Path) -> Result<(), BackupError> {
    fs::File::open(folder).and_then(|handle| handle.sync_all()).map_err(io_error(
        stream,
        "syncing the folder",
        folder,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_checked() {
        for valid in ["ROLLCALL_HR", "T1a2b3c4d5e6f_DEADLETTER", "a-b"] {
            assert!(validate_stream_name(valid).is_ok(), "{valid}");
        }
        for invalid in ["", "A.B", "A/B", "..", "A B", "A*", "A>", "HR\n", &"A".repeat(256)] {
            assert!(
                matches!(validate_stream_name(invalid), Err(BackupError::InvalidStreamName { .. })),
                "{invalid:?}"
            );
        }
    }

    #[test]
    fn chunk_size_stays_in_the_servers_range() {
        let options = |chunk_bytes| TransferOptions { chunk_bytes, ..TransferOptions::default() };
        assert_eq!(options(10).chunk_bytes_for(1024 * 1024), 1024);
        assert_eq!(options(128 * 1024).chunk_bytes_for(1024 * 1024), 128 * 1024);
        assert_eq!(options(4 * 1024 * 1024).chunk_bytes_for(1024 * 1024), 1023 * 1024);
        assert_eq!(options(4 * 1024 * 1024).chunk_bytes_for(8 * 1024 * 1024), 1024 * 1024);
        assert_eq!(options(64 * 1024).chunk_bytes_for(0), 1024);
    }

    #[test]
    fn api_errors_are_parsed() {
        let payload = br#"{"type":"io.nats.jetstream.api.v1.stream_snapshot_response","error":{"code":404,"err_code":10059,"description":"stream not found"}}"#;
        let reply = parse_api_reply::<StreamCounts>("S", SNAPSHOT_REQUEST, payload).unwrap();
        let error = reply.unwrap_err();
        assert_eq!(error.error_code(), jetstream::ErrorCode::STREAM_NOT_FOUND);
        assert_eq!(error.code(), 404);
    }

    #[test]
    fn text_replies_are_invalid_responses() {
        let reply = parse_api_reply::<StreamCounts>("S", RESTORE_CHUNK, b"-ERR 'storage failure'");
        assert!(matches!(reply, Err(BackupError::InvalidResponse { .. })), "{reply:?}");
    }
}
