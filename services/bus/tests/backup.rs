//! Stream backup and restore through JetStream's snapshot API, against the local NATS
//! server: a round trip with messages, headers and a consumer's ack position, and the
//! errors for an existing stream, a damaged backup and a missing stream.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use rollcall_bus::async_nats::jetstream::consumer::PullConsumer;
use rollcall_bus::async_nats::{HeaderMap, jetstream};
use rollcall_bus::backup::{
    BackupError, DATA_FILE, METADATA_FILE, RestoreOptions, TransferOptions, backup_stream,
    restore_stream,
};
use rollcall_bus::{ConsumerSpec, StreamFamily};
use support::{TestBus, stream_messages, within};

const LIMIT: Duration = Duration::from_secs(20);
const MESSAGES: u64 = 30;
const ACKED: u64 = 10;

/// Small chunks, so that even a test stream takes many chunks each way.
fn transfer() -> TransferOptions {
    TransferOptions {
        chunk_bytes: 4096,
        reply_timeout: Duration::from_secs(10),
        finish_timeout: Duration::from_secs(30),
    }
}

fn restore_options(delete_existing: bool) -> RestoreOptions {
    RestoreOptions { delete_existing, transfer: transfer() }
}

/// Returns `len` bytes from a xorshift generator seeded with `seed`, so that S2 cannot
/// compress the snapshot to a single chunk.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn hr_subject(bus: &TestBus, index: u64) -> String {
    let tenant = if index.is_multiple_of(2) { "oakridge-family-medicine" } else { "harborview" };
    bus.namespace().hr_event_subject(tenant).unwrap()
}

/// Publishes [`MESSAGES`] messages with headers to the HR stream and waits for each ack.
async fn publish_hr_messages(bus: &TestBus) {
    for index in 1..=MESSAGES {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("backup-test-{index}").as_str());
        headers.insert("X-Test-Index", index.to_string().as_str());
        let payload = noise(index, 3000);
        let ack = bus
            .jetstream
            .publish_with_headers(hr_subject(bus, index), headers, payload.into())
            .await
            .unwrap();
        assert_eq!(ack.await.unwrap().sequence, index);
    }
}

/// Creates the engine's HR consumer, pulls [`ACKED`] messages and acks them, waiting for
/// the server to confirm each ack.
async fn ack_first_messages(bus: &TestBus) -> PullConsumer {
    let consumer =
        ConsumerSpec::engine_hr_events().ensure(&bus.jetstream, bus.namespace()).await.unwrap();
    let mut batch = consumer.fetch().max_messages(ACKED as usize).messages().await.unwrap();
    for expected in 1..=ACKED {
        let message = within("a pulled message", LIMIT, batch.next()).await.unwrap().unwrap();
        assert_eq!(message.info().unwrap().stream_sequence, expected);
        message.double_ack().await.unwrap();
    }
    consumer
}

fn hr_stream(bus: &TestBus) -> String {
    bus.namespace().stream_name(StreamFamily::Hr)
}

async fn stream_is_missing(jetstream: &jetstream::Context, name: &str) -> bool {
    match jetstream.get_stream(name).await {
        Ok(_) => false,
        Err(error) => error.to_string().contains("stream not found"),
    }
}

/// Lists the names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn round_trip_keeps_messages_and_acks() {
    let bus = TestBus::new().await;
    let stream = hr_stream(&bus);
    publish_hr_messages(&bus).await;
    ack_first_messages(&bus).await;
    let dir = tempfile::tempdir().unwrap();

    let backup = backup_stream(&bus.client, &stream, dir.path(), &transfer()).await.unwrap();

    assert_eq!(backup.folder, dir.path().join(&stream));
    assert_eq!(entries(dir.path()), vec![stream.clone()], "no partial folder is left");
    assert_eq!(entries(&backup.folder), [DATA_FILE, METADATA_FILE]);
    let data_len = std::fs::metadata(backup.folder.join(DATA_FILE)).unwrap().len();
    assert_eq!(backup.data_bytes, data_len);
    assert!(backup.chunks > 1, "the snapshot came in {} chunk(s)", backup.chunks);
    assert_eq!(backup.counts.messages, MESSAGES);
    assert_eq!(backup.counts.last_sequence, MESSAGES);
    assert_eq!(backup.counts.consumers, 1);
    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.folder.join(METADATA_FILE)).unwrap()).unwrap();
    assert_eq!(metadata["stream"], stream.as_str());
    assert_eq!(metadata["config"]["name"], stream.as_str());
    assert_eq!(metadata["data_bytes"], data_len);
    assert_eq!(metadata["state"]["messages"], MESSAGES);

    bus.jetstream.delete_stream(&stream).await.unwrap();
    assert!(stream_is_missing(&bus.jetstream, &stream).await);

    let restored =
        restore_stream(&bus.client, &stream, dir.path(), &restore_options(false)).await.unwrap();

    assert!(!restored.deleted_existing);
    assert_eq!(restored.data_bytes, data_len);
    assert_eq!(restored.restored.messages, MESSAGES);
    assert_eq!(restored.restored.first_sequence, 1);
    assert_eq!(restored.restored.last_sequence, MESSAGES);
    assert_eq!(restored.restored.consumers, 1);
    let restored_stream = bus.jetstream.get_stream(&stream).await.unwrap();
    for sequence in 1..=MESSAGES {
        let stored = restored_stream.get_raw_message(sequence).await.unwrap();
        assert_eq!(stored.sequence, sequence);
        assert_eq!(stored.subject.as_str(), hr_subject(&bus, sequence), "subject of {sequence}");
        assert_eq!(
            stored.payload.as_ref(),
            noise(sequence, 3000).as_slice(),
            "payload of {sequence}"
        );
        let index = stored.headers.get("X-Test-Index").map(|value| value.as_str().to_owned());
        assert_eq!(index, Some(sequence.to_string()), "X-Test-Index of {sequence}");
        let id = stored.headers.get("Nats-Msg-Id").map(|value| value.as_str().to_owned());
        assert_eq!(id, Some(format!("backup-test-{sequence}")), "Nats-Msg-Id of {sequence}");
    }

    let consumer_name = ConsumerSpec::engine_hr_events().durable_name;
    let mut consumer: PullConsumer = restored_stream.get_consumer(&consumer_name).await.unwrap();
    let info = consumer.info().await.unwrap();
    assert_eq!(info.ack_floor.stream_sequence, ACKED);
    assert_eq!(info.num_pending, MESSAGES - ACKED);
    assert_eq!(info.num_ack_pending, 0);
    let mut next = consumer.fetch().max_messages(1).messages().await.unwrap();
    let message = within("the first unacked message", LIMIT, next.next()).await.unwrap().unwrap();
    assert_eq!(message.info().unwrap().stream_sequence, ACKED + 1);
    bus.delete().await;
}

#[tokio::test]
async fn restore_into_existing_stream_fails() {
    let bus = TestBus::new().await;
    let stream = hr_stream(&bus);
    publish_hr_messages(&bus).await;
    let dir = tempfile::tempdir().unwrap();
    backup_stream(&bus.client, &stream, dir.path(), &transfer()).await.unwrap();
    let extra =
        bus.jetstream.publish(hr_subject(&bus, 0), "after the backup".into()).await.unwrap();
    extra.await.unwrap();

    let error = restore_stream(&bus.client, &stream, dir.path(), &restore_options(false))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, BackupError::StreamExists { stream: named } if *named == stream),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&stream), "{message}");
    assert!(message.contains("--delete-existing"), "{message}");
    assert_eq!(
        stream_messages(&bus.jetstream, &stream).await,
        MESSAGES + 1,
        "the stream is untouched"
    );

    let replaced =
        restore_stream(&bus.client, &stream, dir.path(), &restore_options(true)).await.unwrap();

    assert!(replaced.deleted_existing);
    assert_eq!(stream_messages(&bus.jetstream, &stream).await, MESSAGES);
    bus.delete().await;
}

#[tokio::test]
async fn damaged_backup_fails_restore() {
    let bus = TestBus::new().await;
    let stream = hr_stream(&bus);
    publish_hr_messages(&bus).await;
    ack_first_messages(&bus).await;
    let good = tempfile::tempdir().unwrap();
    backup_stream(&bus.client, &stream, good.path(), &transfer()).await.unwrap();
    bus.jetstream.delete_stream(&stream).await.unwrap();
    let data = std::fs::read(good.path().join(&stream).join(DATA_FILE)).unwrap();
    let metadata = std::fs::read(good.path().join(&stream).join(METADATA_FILE)).unwrap();
    let damaged = |data: &[u8], metadata: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(&stream)).unwrap();
        std::fs::write(dir.path().join(&stream).join(DATA_FILE), data).unwrap();
        std::fs::write(dir.path().join(&stream).join(METADATA_FILE), metadata).unwrap();
        dir
    };

    let truncated = damaged(&data[..data.len() / 2], &metadata);
    let error = restore_stream(&bus.client, &stream, truncated.path(), &restore_options(false))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, BackupError::DataSize { expected, actual, .. }
            if *expected == data.len() as u64 && *actual == (data.len() / 2) as u64),
        "{error:?}"
    );
    assert!(error.to_string().contains(&stream), "{error}");
    assert!(stream_is_missing(&bus.jetstream, &stream).await);

    // Same size, so only the server's checks can find the damage.
    let mut flipped = data.clone();
    let middle = flipped.len() / 2;
    for byte in &mut flipped[middle..middle + 64] {
        *byte = !*byte;
    }
    let corrupt = damaged(&flipped, &metadata);
    let error = restore_stream(&bus.client, &stream, corrupt.path(), &restore_options(false))
        .await
        .unwrap_err();
    assert!(matches!(&error, BackupError::RestoreFailed { .. }), "{error:?}");
    assert!(error.to_string().contains(&stream), "{error}");
    assert!(stream_is_missing(&bus.jetstream, &stream).await);

    let unreadable = damaged(&data, b"{\"format\": 1,");
    let error = restore_stream(&bus.client, &stream, unreadable.path(), &restore_options(false))
        .await
        .unwrap_err();
    assert!(matches!(&error, BackupError::InvalidMetadata { .. }), "{error:?}");

    let empty = tempfile::tempdir().unwrap();
    let error = restore_stream(&bus.client, &stream, empty.path(), &restore_options(false))
        .await
        .unwrap_err();
    assert!(matches!(&error, BackupError::MissingBackup { .. }), "{error:?}");

    // The failed attempts leave nothing behind that blocks restoring the intact backup.
    let restored =
        restore_stream(&bus.client, &stream, good.path(), &restore_options(false)).await.unwrap();
    assert_eq!(restored.restored.messages, MESSAGES);
    assert_eq!(restored.restored.consumers, 1);

    // Damage that only the server finds comes after --delete-existing deleted the stream.
    let error = restore_stream(&bus.client, &stream, corrupt.path(), &restore_options(true))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, BackupError::DeletedNotRestored { source, .. }
            if matches!(**source, BackupError::RestoreFailed { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("deleted"), "{error}");
    assert!(stream_is_missing(&bus.jetstream, &stream).await);
    restore_stream(&bus.client, &stream, good.path(), &restore_options(false)).await.unwrap();
    bus.delete().await;
}

#[tokio::test]
async fn restore_drops_messages_past_max_age() {
    let bus = TestBus::new().await;
    // A stream of its own, because the bus's streams keep messages for days. Its subjects
    // start with another first token so that they overlap none of the bus's streams.
    let stream = format!("{}_EXPIRY", hr_stream(&bus));
    let subject = format!("{}-expiry.event", bus.namespace().subject_prefix());
    let config = jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![format!("{}-expiry.>", bus.namespace().subject_prefix())],
        max_age: Duration::from_secs(2),
        ..jetstream::stream::Config::default()
    };
    bus.jetstream.create_stream(config).await.unwrap();
    for index in 0..3 {
        let ack =
            bus.jetstream.publish(subject.clone(), format!("old {index}").into()).await.unwrap();
        ack.await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    backup_stream(&bus.client, &stream, dir.path(), &transfer()).await.unwrap();
    bus.jetstream.delete_stream(&stream).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let restored = restore_stream(&bus.client, &stream, dir.path(), &restore_options(false)).await;

    bus.jetstream.delete_stream(&stream).await.unwrap();
    let restored = restored.unwrap();
    assert_eq!(restored.backed_up.messages, 3);
    assert_eq!(restored.restored.messages, 0, "messages older than the max age are removed");
    assert_eq!(restored.restored.last_sequence, 3, "the sequence does not start again");
    bus.delete().await;
}

#[tokio::test]
async fn missing_stream_fails_backup() {
    let bus = TestBus::new().await;
    let missing = format!("{}_MISSING", hr_stream(&bus));
    let dir = tempfile::tempdir().unwrap();

    let error = backup_stream(&bus.client, &missing, dir.path(), &transfer()).await.unwrap_err();

    assert!(
        matches!(&error, BackupError::StreamNotFound { stream } if *stream == missing),
        "{error:?}"
    );
    assert!(error.to_string().contains(&missing), "{error}");
    assert!(entries(dir.path()).is_empty(), "left behind: {:?}", entries(dir.path()));
    bus.delete().await;
}

#[tokio::test]
async fn backup_keeps_an_existing_backup() {
    let bus = TestBus::new().await;
    let stream = hr_stream(&bus);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(&stream)).unwrap();
    std::fs::write(dir.path().join(&stream).join(METADATA_FILE), "older backup").unwrap();

    let error = backup_stream(&bus.client, &stream, dir.path(), &transfer()).await.unwrap_err();

    assert!(matches!(&error, BackupError::BackupExists { .. }), "{error:?}");
    let kept = std::fs::read_to_string(dir.path().join(&stream).join(METADATA_FILE)).unwrap();
    assert_eq!(kept, "older backup");
    assert_eq!(entries(dir.path()), [stream]);
    bus.delete().await;
}
