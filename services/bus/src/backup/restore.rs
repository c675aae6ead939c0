//! The restore side: a stream's backup folder sent back to the server.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use async_nats::jetstream;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    API_PREFIX, BackupError, BackupMetadata, DATA_FILE, FORMAT_VERSION, METADATA_FILE,
    RESTORE_CHUNK, RESTORE_FINISH, RESTORE_REQUEST, RestoreOptions, RestoreSummary,
    STREAM_DELETE_REQUEST, STREAM_INFO_REQUEST, StreamCounts, TransferOptions, api_request,
    io_error, parse_api_reply, request_error, validate_stream_name,
};

/// Error code of "stream name already in use, cannot restore" (`server/errors.json` of
/// NATS Server 2.9.10), which async-nats 0.52 has no constant for.
const STREAM_NAME_EXIST_RESTORE_FAILED: jetstream::ErrorCode = jetstream::ErrorCode(10130);

/// The body of a `$JS.API.STREAM.RESTORE` request.
#[derive(Serialize)]
struct RestoreRequest<'a> {
    config: &'a serde_json::Value,
    state: &'a serde_json::Value,
}

/// The successful reply to a restore request.
#[derive(Deserialize)]
struct RestoreResponse {
    deliver_subject: String,
}

/// The part of a stream info reply that a restore checks.
#[derive(Deserialize)]
struct StreamInfo {
    #[serde(default)]
    state: StreamCounts,
}

/// The successful reply to a stream delete request.
#[derive(Deserialize)]
struct DeleteResponse {
    #[serde(default)]
    success: bool,
}

/// Restores stream `stream` from the folder `dir/<stream>` that [`super::backup_stream`]
/// wrote, with its messages, sequence numbers and consumers.
///
/// The folder is checked first: `stream.json` must name the stream and `snapshot.s2` must
/// have the recorded size. Only then is an existing stream deleted, when
/// [`RestoreOptions::delete_existing`] allows it. After the server loaded the stream, its
/// last sequence and consumer count must be at least those the backup recorded.
///
/// # Errors
///
/// A [`BackupError`] naming the stream, among them [`BackupError::StreamExists`],
/// [`BackupError::MissingBackup`], [`BackupError::DataSize`] and
/// [`BackupError::RestoreFailed`] for data the server cannot unpack. An error after the
/// existing stream was deleted is wrapped in [`BackupError::DeletedNotRestored`].
pub async fn restore_stream(
    client: &async_nats::Client,
    stream: &str,
    dir: &Path,
    options: &RestoreOptions,
) -> Result<RestoreSummary, BackupError> {
    validate_stream_name(stream)?;
    let folder = dir.join(stream);
    let metadata = read_metadata(stream, &folder)?;
    let data_path = folder.join(DATA_FILE);
    let data_bytes = data_size(stream, &data_path)?;
    if data_bytes != metadata.data_bytes {
        return Err(BackupError::DataSize {
            stream: stream.to_owned(),
            path: data_path,
            expected: metadata.data_bytes,
            actual: data_bytes,
        });
    }
    let backed_up = counts_of(stream, &folder.join(METADATA_FILE), &metadata)?;
    let data = fs::File::open(&data_path).map_err(io_error(stream, "opening", &data_path))?;

    let transfer = &options.transfer;
    let mut deleted_existing = false;
    if stream_exists(client, stream, transfer.reply_timeout).await? {
        if !options.delete_existing {
            return Err(BackupError::StreamExists { stream: stream.to_owned() });
        }
        delete_stream(client, stream, transfer.reply_timeout).await?;
        deleted_existing = true;
        tracing::warn!(stream, "existing stream deleted before the restore");
    }

    tracing::info!(stream, folder = %folder.display(), data_bytes, "stream restore started");
    let transferred = transfer_backup(client, stream, &metadata, data, &data_path, transfer).await;
    let (sent, restored) = match transferred {
        Ok(result) => result,
        Err(error) if deleted_existing => {
            tracing::error!(stream, error = %error, "stream deleted but not restored");
            return Err(BackupError::DeletedNotRestored {
                stream: stream.to_owned(),
                source: Box::new(error),
            });
        }
        Err(error) => return Err(error),
    };

    if restored.last_sequence < backed_up.last_sequence || restored.consumers < backed_up.consumers
    {
        return Err(BackupError::RestoredIncomplete {
            stream: stream.to_owned(),
            expected_last_sequence: backed_up.last_sequence,
            restored_last_sequence: restored.last_sequence,
            expected_consumers: backed_up.consumers,
            restored_consumers: restored.consumers,
        });
    }
    tracing::info!(
        stream,
        data_bytes = sent,
        messages = restored.messages,
        backed_up_messages = backed_up.messages,
        last_sequence = restored.last_sequence,
        consumers = restored.consumers,
        "stream restore finished"
    );
    Ok(RestoreSummary {
        stream: stream.to_owned(),
        deleted_existing,
        data_bytes: sent,
        backed_up,
        restored,
    })
}

/// Sends the restore request, the chunks of `data` and the last, empty request, and
/// returns the bytes sent and the state of the restored stream.
async fn transfer_backup(
    client: &async_nats::Client,
    stream: &str,
    metadata: &BackupMetadata,
    mut data: fs::File,
    data_path: &Path,
    transfer: &TransferOptions,
) -> Result<(u64, StreamCounts), BackupError> {
    let deliver_subject = start_restore(client, stream, metadata, transfer.reply_timeout).await?;
    let chunk_bytes = transfer.chunk_bytes_for(client.server_info().max_payload);
    let mut buffer = vec![0_u8; chunk_bytes];
    let mut sent: u64 = 0;
    loop {
        let read =
            read_chunk(&mut data, &mut buffer).map_err(io_error(stream, "reading", data_path))?;
        let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else { break };
        send_chunk(
            client,
            stream,
            &deliver_subject,
            Bytes::copy_from_slice(chunk),
            transfer.reply_timeout,
        )
        .await?;
        sent += read as u64;
    }
    if sent != metadata.data_bytes {
        // The file changed after the size check. The server cancels the restore on its
        // own 5 seconds after the last chunk, so the stream is not created.
        return Err(BackupError::DataSize {
            stream: stream.to_owned(),
            path: data_path.to_owned(),
            expected: metadata.data_bytes,
            actual: sent,
        });
    }
    let restored =
        finish_restore(client, stream, &deliver_subject, transfer.finish_timeout).await?;
    Ok((sent, restored))
}

/// Reads and checks `folder/stream.json`.
fn read_metadata(stream: &str, folder: &Path) -> Result<BackupMetadata, BackupError> {
    let path = folder.join(METADATA_FILE);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let missing = if folder.is_dir() { path } else { folder.to_owned() };
            return Err(BackupError::MissingBackup { stream: stream.to_owned(), path: missing });
        }
        Err(error) => return Err(io_error(stream, "reading", &path)(error)),
    };
    let invalid = |reason: String| BackupError::InvalidMetadata {
        stream: stream.to_owned(),
        path: path.clone(),
        reason,
    };
    let metadata: BackupMetadata =
        serde_json::from_slice(&text).map_err(|error| invalid(error.to_string()))?;
    if metadata.format != FORMAT_VERSION {
        return Err(invalid(format!(
            "format {} is not {FORMAT_VERSION}, the only format this version reads",
            metadata.format
        )));
    }
    if metadata.stream != stream {
        return Err(invalid(format!("it is the backup of stream `{}`", metadata.stream)));
    }
    let config_name = metadata.config.get("name").and_then(serde_json::Value::as_str);
    if config_name != Some(stream) {
        return Err(invalid(format!(
            "its stream configuration names stream {config_name:?}, and JetStream restores a stream only under its own name"
        )));
    }
    Ok(metadata)
}

/// Parses the counts that the backup recorded.
fn counts_of(
    stream: &str,
    path: &Path,
    metadata: &BackupMetadata,
) -> Result<StreamCounts, BackupError> {
    serde_json::from_value(metadata.state.clone()).map_err(|error| BackupError::InvalidMetadata {
        stream: stream.to_owned(),
        path: path.to_owned(),
        reason: format!("the stream state is invalid: {error}"),
    })
}

/// Returns the size of the data file.
fn data_size(stream: &str, path: &Path) -> Result<u64, BackupError> {
    match fs::metadata(path) {
        Ok(metadata) => Ok(metadata.len()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Err(BackupError::MissingBackup { stream: stream.to_owned(), path: path.to_owned() })
        }
        Err(error) => Err(io_error(stream, "reading", path)(error)),
    }
}

/// Fills `buffer` from `data` and returns the bytes read, fewer than the buffer's length
/// only at the end of the file.
fn read_chunk(data: &mut fs::File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buffer.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match data.read(rest) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Reports whether `stream` exists on the server.
async fn stream_exists(
    client: &async_nats::Client,
    stream: &str,
    timeout: std::time::Duration,
) -> Result<bool, BackupError> {
    let reply: Result<serde_json::Value, jetstream::Error> = api_request(
        client,
        stream,
        STREAM_INFO_REQUEST,
        format!("{API_PREFIX}.STREAM.INFO.{stream}"),
        Bytes::new(),
        timeout,
    )
    .await?;
    match reply {
        Ok(_) => Ok(true),
        Err(error) if error.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND => Ok(false),
        Err(error) => Err(BackupError::Api {
            stream: stream.to_owned(),
            operation: STREAM_INFO_REQUEST,
            source: error,
        }),
    }
}

/// Deletes `stream` with its messages and consumers.
async fn delete_stream(
    client: &async_nats::Client,
    stream: &str,
    timeout: std::time::Duration,
) -> Result<(), BackupError> {
    let reply: Result<DeleteResponse, jetstream::Error> = api_request(
        client,
        stream,
        STREAM_DELETE_REQUEST,
        format!("{API_PREFIX}.STREAM.DELETE.{stream}"),
        Bytes::new(),
        timeout,
    )
    .await?;
    match reply {
        Ok(DeleteResponse { success: true }) => Ok(()),
        Ok(DeleteResponse { success: false }) => Err(BackupError::InvalidResponse {
            stream: stream.to_owned(),
            operation: STREAM_DELETE_REQUEST,
            reason: "the server did not confirm the deletion".to_owned(),
        }),
        Err(error) => Err(BackupError::Api {
            stream: stream.to_owned(),
            operation: STREAM_DELETE_REQUEST,
            source: error,
        }),
    }
}

/// Sends the restore request and returns the subject to send the chunks to.
async fn start_restore(
    client: &async_nats::Client,
    stream: &str,
    metadata: &BackupMetadata,
    timeout: std::time::Duration,
) -> Result<String, BackupError> {
    let body =
        serde_json::to_vec(&RestoreRequest { config: &metadata.config, state: &metadata.state })
            .map_err(|error| BackupError::InvalidResponse {
                stream: stream.to_owned(),
                operation: RESTORE_REQUEST,
                reason: format!("the saved configuration cannot be encoded: {error}"),
            })?;
    let reply: Result<RestoreResponse, jetstream::Error> = api_request(
        client,
        stream,
        RESTORE_REQUEST,
        format!("{API_PREFIX}.STREAM.RESTORE.{stream}"),
        Bytes::from(body),
        timeout,
    )
    .await?;
    match reply {
        Ok(response) => Ok(response.deliver_subject),
        // Another client created the stream after the existence check.
        Err(error)
            if error.error_code() == STREAM_NAME_EXIST_RESTORE_FAILED
                || error.error_code() == jetstream::ErrorCode::STREAM_NAME_EXIST =>
        {
            Err(BackupError::StreamExists { stream: stream.to_owned() })
        }
        Err(error) => Err(BackupError::Api {
            stream: stream.to_owned(),
            operation: RESTORE_REQUEST,
            source: error,
        }),
    }
}

/// Sends one chunk and waits for the server to store it. The server replies with an
/// empty message, or with an error as JSON (NATS Server 2.12.6 and later) or as `-ERR`
/// text (2.9.10).
async fn send_chunk(
    client: &async_nats::Client,
    stream: &str,
    deliver_subject: &str,
    chunk: Bytes,
    timeout: std::time::Duration,
) -> Result<(), BackupError> {
    let request = async_nats::Request::new().payload(chunk).timeout(Some(timeout));
    let reply = client
        .send_request(deliver_subject.to_owned(), request)
        .await
        .map_err(|source| restore_request_error(stream, RESTORE_CHUNK, source, timeout))?;
    if reply.payload.is_empty() {
        return Ok(());
    }
    let reason = match parse_api_reply::<serde_json::Value>(stream, RESTORE_CHUNK, &reply.payload) {
        Ok(Err(error)) => error.to_string(),
        _ => String::from_utf8_lossy(&reply.payload).into_owned(),
    };
    Err(BackupError::RestoreFailed { stream: stream.to_owned(), reason })
}

/// Sends the empty last request and returns the state of the restored stream.
async fn finish_restore(
    client: &async_nats::Client,
    stream: &str,
    deliver_subject: &str,
    timeout: std::time::Duration,
) -> Result<StreamCounts, BackupError> {
    let request = async_nats::Request::new().payload(Bytes::new()).timeout(Some(timeout));
    let reply = client
        .send_request(deliver_subject.to_owned(), request)
        .await
        .map_err(|source| restore_request_error(stream, RESTORE_FINISH, source, timeout))?;
    match parse_api_reply::<StreamInfo>(stream, RESTORE_FINISH, &reply.payload)? {
        Ok(info) => Ok(info.state),
        Err(error) => {
            Err(BackupError::RestoreFailed { stream: stream.to_owned(), reason: error.to_string() })
        }
    }
}

/// Maps the request error of a chunk. No responders there means that the server
/// cancelled the restore and removed the deliver subject.
fn restore_request_error(
    stream: &str,
    operation: &'static str,
    source: async_nats::RequestError,
    timeout: std::time::Duration,
) -> BackupError {
    if source.kind() == async_nats::RequestErrorKind::NoResponders {
        return BackupError::RestoreCancelled { stream: stream.to_owned() };
    }
    request_error(stream, operation, source, timeout)
}
