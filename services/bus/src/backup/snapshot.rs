//! The backup side: a snapshot from the server, written into a stream's backup folder.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use async_nats::jetstream;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::{
    API_PREFIX, BackupError, BackupMetadata, BackupSummary, DATA_FILE, FORMAT_VERSION,
    METADATA_FILE, SNAPSHOT_REQUEST, StreamCounts, TransferOptions, api_request, io_error,
    sync_folder, validate_stream_name,
};

/// The body of a `$JS.API.STREAM.SNAPSHOT` request.
#[derive(Serialize)]
struct SnapshotRequest<'a> {
    deliver_subject: &'a str,
    /// `false` includes each consumer's configuration and ack state.
    no_consumers: bool,
    chunk_size: usize,
}

/// The successful reply to a snapshot request.
#[derive(Deserialize)]
struct SnapshotResponse {
    config: serde_json::Value,
    state: serde_json::Value,
}

/// Status code of the end-of-snapshot message of a complete snapshot, sent by NATS Server
/// 2.10.12 and later. Earlier versions send that message without a status.
const SNAPSHOT_COMPLETE: u16 = 204;

/// Backs up `stream` into the new folder `dir/<stream>`, creating `dir` when it is missing.
///
/// The snapshot includes the stream's consumers. The server keeps accepting messages
/// while it takes the snapshot, so the data can contain messages newer than the state that
/// `stream.json` records.
///
/// # Errors
///
/// A [`BackupError`] naming the stream, among them [`BackupError::StreamNotFound`],
/// [`BackupError::BackupExists`] and [`BackupError::TimedOut`]. On an error nothing is
/// left in `dir` except the folders that were there before.
pub async fn backup_stream(
    client: &async_nats::Client,
    stream: &str,
    dir: &Path,
    options: &TransferOptions,
) -> Result<BackupSummary, BackupError> {
    validate_stream_name(stream)?;
    let folder = dir.join(stream);
    if fs::symlink_metadata(&folder).is_ok() {
        return Err(BackupError::BackupExists { stream: stream.to_owned(), path: folder });
    }
    fs::create_dir_all(dir).map_err(io_error(stream, "creating the folder", dir))?;

    // The process id keeps two backups into one folder apart. A folder left by a backup
    // that crashed keeps its `.partial` name and is never read as a backup.
    let partial = dir.join(format!(".{stream}.partial-{}", std::process::id()));
    match fs::remove_dir_all(&partial) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(stream, "removing the old folder", &partial)(error)),
    }
    fs::create_dir(&partial).map_err(io_error(stream, "creating the folder", &partial))?;

    tracing::info!(stream, folder = %folder.display(), "stream backup started");
    let written = match receive_snapshot(client, stream, &partial, options).await {
        Ok(written) => written,
        Err(error) => {
            remove_partial(stream, &partial);
            return Err(error);
        }
    };
    if let Err(error) = fs::rename(&partial, &folder) {
        remove_partial(stream, &partial);
        return Err(io_error(stream, "renaming the finished backup to", &folder)(error));
    }
    sync_folder(stream, dir)?;

    tracing::info!(
        stream,
        folder = %folder.display(),
        data_bytes = written.data_bytes,
        chunks = written.chunks,
        messages = written.counts.messages,
        last_sequence = written.counts.last_sequence,
        consumers = written.counts.consumers,
        "stream backup finished"
    );
    Ok(BackupSummary {
        stream: stream.to_owned(),
        folder,
        data_bytes: written.data_bytes,
        chunks: written.chunks,
        counts: written.counts,
    })
}

/// Size and chunk count of the data that [`receive_snapshot`] wrote, and the recorded state.
struct Written {
    data_bytes: u64,
    chunks: u64,
    counts: StreamCounts,
}

/// Removes the folder of a failed backup, logging instead of failing because the
/// backup's own error is the one to report.
fn remove_partial(stream: &str, partial: &Path) {
    if let Err(error) = fs::remove_dir_all(partial) {
        tracing::warn!(
            stream,
            folder = %partial.display(),
            error = %error,
            "removing the folder of a failed backup failed; delete it by hand"
        );
    }
}

/// Requests the snapshot, writes its chunks to `partial/snapshot.s2` and then
/// `partial/stream.json`, both synced.
async fn receive_snapshot(
    client: &async_nats::Client,
    stream: &str,
    partial: &Path,
    options: &TransferOptions,
) -> Result<Written, BackupError> {
    let connection_error =
        |reason: String| BackupError::Connection { stream: stream.to_owned(), reason };
    // Subscribe before the request: the server waits at most 2 seconds for interest on
    // the deliver subject and then sends the chunks whether or not anyone listens.
    let deliver_subject = client.new_inbox();
    let mut chunks = client
        .subscribe(deliver_subject.clone())
        .await
        .map_err(|error| connection_error(error.to_string()))?;
    let connects_before = client.statistics().connects.load(Ordering::Relaxed);

    let body = serde_json::to_vec(&SnapshotRequest {
        deliver_subject: &deliver_subject,
        no_consumers: false,
        chunk_size: options.chunk_bytes_for(client.server_info().max_payload),
    })
    .map_err(|error| connection_error(error.to_string()))?;
    let response: SnapshotResponse = api_request(
        client,
        stream,
        SNAPSHOT_REQUEST,
        format!("{API_PREFIX}.STREAM.SNAPSHOT.{stream}"),
        Bytes::from(body),
        options.reply_timeout,
    )
    .await?
    .map_err(|error| {
        if error.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND {
            BackupError::StreamNotFound { stream: stream.to_owned() }
        } else {
            BackupError::Api {
                stream: stream.to_owned(),
                operation: SNAPSHOT_REQUEST,
                source: error,
            }
        }
    })?;

    let data_path = partial.join(DATA_FILE);
    let file = fs::File::create(&data_path).map_err(io_error(
        stream,
        "creating the data file",
        &data_path,
    ))?;
    let mut data = ChunkWriter::new(stream, io::BufWriter::new(file), &data_path);
    loop {
        let message = tokio::time::timeout(options.reply_timeout, chunks.next())
            .await
            .map_err(|_| BackupError::TimedOut {
                stream: stream.to_owned(),
                waiting_for: "the next snapshot chunk",
                after: options.reply_timeout,
            })?
            .ok_or_else(|| connection_error("the client closed the subscription".to_owned()))?;
        if message.payload.is_empty() {
            match message.status.map(|status| status.as_u16()) {
                None | Some(SNAPSHOT_COMPLETE) => break,
                Some(status) => {
                    return Err(BackupError::SnapshotAborted {
                        stream: stream.to_owned(),
                        status,
                        description: message.description.unwrap_or_default(),
                    });
                }
            }
        }
        data.write_chunk(&message.payload, message.reply.as_deref())?;
        // The empty reply acknowledges the chunk once it is written, so the server sends
        // no faster than the disk writes.
        if let Some(reply) = message.reply {
            client
                .publish(reply, Bytes::new())
                .await
                .map_err(|error| connection_error(error.to_string()))?;
        }
    }
    drop(chunks);
    if client.statistics().connects.load(Ordering::Relaxed) != connects_before {
        return Err(BackupError::Reconnected { stream: stream.to_owned() });
    }
    let (data_bytes, chunks) = data.finish()?;
    if data_bytes == 0 {
        return Err(BackupError::BrokenChunkSequence {
            stream: stream.to_owned(),
            reason: "the server ended the snapshot without sending any data".to_owned(),
        });
    }

    let counts =
        serde_json::from_value::<StreamCounts>(response.state.clone()).map_err(|error| {
            BackupError::InvalidResponse {
                stream: stream.to_owned(),
                operation: SNAPSHOT_REQUEST,
                reason: format!("the stream state is invalid: {error}"),
            }
        })?;
    let metadata = BackupMetadata {
        format: FORMAT_VERSION,
        stream: stream.to_owned(),
        created: chrono::Utc::now(),
        server_version: client.server_info().version,
        data_bytes,
        chunks,
        config: response.config,
        state: response.state,
    };
    write_metadata(stream, &partial.join(METADATA_FILE), &metadata)?;
    sync_folder(stream, partial)?;
    Ok(Written { data_bytes, chunks, counts })
}

/// Writes `stream.json` and syncs it.
fn write_metadata(stream: &str, path: &Path, metadata: &BackupMetadata) -> Result<(), BackupError> {
    let mut text = serde_json::to_vec_pretty(metadata)
        .map_err(|error| io_error(stream, "encoding", path)(io::Error::other(error)))?;
    text.push(b'\n');
    let mut file = fs::File::create(path).map_err(io_error(stream, "creating", path))?;
    file.write_all(&text).map_err(io_error(stream, "writing", path))?;
    file.sync_all().map_err(io_error(stream, "syncing", path))
}

/// The snapshot data file, written chunk by chunk, with the checks that the chunks form
/// one unbroken sequence.
///
/// The file is written with `std::fs` on the async task: each write is one chunk of at
/// most 1 MiB into a buffer, and the crate's tokio has no `fs` feature.
struct ChunkWriter<'a> {
    stream: &'a str,
    file: io::BufWriter<fs::File>,
    path: &'a Path,
    bytes: u64,
    chunks: u64,
    /// Set after a chunk without a reply subject, which the server sends only as the
    /// last one.
    last_chunk_seen: bool,
}

impl<'a> ChunkWriter<'a> {
    fn new(stream: &'a str, file: io::BufWriter<fs::File>, path: &'a Path) -> Self {
        Self { stream, file, path, bytes: 0, chunks: 0, last_chunk_seen: false }
    }

    fn write_chunk(&mut self, payload: &[u8], reply: Option<&str>) -> Result<(), BackupError> {
        if self.last_chunk_seen {
            return Err(self.broken("a chunk arrived after the last one".to_owned()));
        }
        self.chunks += 1;
        match reply {
            Some(reply) => self.check_reply(reply, payload.len())?,
            None => self.last_chunk_seen = true,
        }
        self.file.write_all(payload).map_err(io_error(self.stream, "writing", self.path))?;
        self.bytes += payload.len() as u64;
        Ok(())
    }

    /// Checks the chunk's index and size that the server puts in the reply subject,
    /// `$JS.SNAPSHOT.ACK.<stream>.<id>.<size>.<index>` in NATS Server 2.9.10 and in the
    /// 2.15 development source, so that a chunk dropped by a slow subscription is noticed.
    ///
    /// NOTE: a reply subject of another shape is not checked. A future server that changes
    /// the shape still completes the backup, but without this check. The restore then
    /// relies on the byte count and the server's own checksums.
    fn check_reply(&self, reply: &str, size: usize) -> Result<(), BackupError> {
        let mut tokens = reply.rsplit('.');
        let index = tokens.next().and_then(|token| token.parse::<u64>().ok());
        let declared_size = tokens.next().and_then(|token| token.parse::<usize>().ok());
        let (Some(index), Some(declared_size)) = (index, declared_size) else { return Ok(()) };
        if index != self.chunks {
            return Err(self.broken(format!(
                "chunk {index} arrived where chunk {} was expected",
                self.chunks
            )));
        }
        if declared_size != size {
            return Err(self.broken(format!(
                "chunk {index} has {size} bytes but the server sent {declared_size}"
            )));
        }
        Ok(())
    }

    fn broken(&self, reason: String) -> BackupError {
        BackupError::BrokenChunkSequence { stream: self.stream.to_owned(), reason }
    }

    /// Flushes and syncs the file and returns its size and the chunk count.
    fn finish(self) -> Result<(u64, u64), BackupError> {
        let file = self
            .file
            .into_inner()
            .map_err(|error| io_error(self.stream, "writing", self.path)(error.into_error()))?;
        file.sync_all().map_err(io_error(self.stream, "syncing", self.path))?;
        Ok((self.bytes, self.chunks))
    }
}
