//! Publishing on the local NATS server: message-id dedupe, snapshots in chunks, the
//! errors raised before sending, and the metrics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use prometheus_client::registry::Registry;
use prost::Message;
use rollcall_bus::{MessageKind, PublishError, StreamFamily};
use rollcall_core::model::SourceId;
use rollcall_proto::{
    Assembler, ContentHash, SnapshotContent, SyncOutcome, SyncReport, split, split_roster,
    sync_report_from_proto, sync_report_to_proto, v1,
};
use support::{TestBus, hire, stream_messages};
use uuid::Uuid;

#[tokio::test]
async fn same_message_id_stored_once() {
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let event = hire("oakridge-family-medicine", "E-1001");

    let first = publisher.publish(&event).await.unwrap();
    let second = publisher.publish(&event).await.unwrap();

    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(second.sequence, first.sequence);
    assert_eq!(first.stream, bus.namespace().stream_name(StreamFamily::Hr));
    assert_eq!(stream_messages(&bus.jetstream, &first.stream).await, 1);
    bus.delete().await;
}

#[tokio::test]
async fn metrics_count_published_and_duplicates() {
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let event = hire("oakridge-family-medicine", "E-1002");
    publisher.publish(&event).await.unwrap();
    publisher.publish(&event).await.unwrap();
    publisher.publish(&hire("oakridge-family-medicine", "E-1003")).await.unwrap();

    let mut registry = Registry::with_prefix("rollcall_test");
    bus.metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();

    assert!(text.contains("rollcall_test_bus_published_total{kind=\"hr\"} 2"), "{text}");
    assert!(text.contains("rollcall_test_bus_duplicates_total{kind=\"hr\"} 1"), "{text}");
    bus.delete().await;
}

/// The example practice's Entra snapshot, cut into 4 KiB chunks, goes out chunk by chunk.
/// A second publish of the same snapshot id stores nothing, and the stored chunks
/// reassemble into the snapshot.
#[tokio::test]
async fn snapshot_chunks_reassemble() {
    let bus = TestBus::new().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let as_of: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
    let loaded = rollcall_ingest::layout::load_tenant(&dir, as_of).unwrap();
    let tenant = loaded.config.tenant.id.clone();
    let snapshot = loaded.data.sources.first().unwrap().clone();
    let chunks = split(&snapshot, &tenant, Uuid::from_u128(7), 4096).unwrap();
    assert!(chunks.len() > 2, "the example fits in {} chunks", chunks.len());
    let publisher = bus.publisher();

    let first = publisher.publish_chunks(&chunks).await.unwrap();
    let again = publisher.publish_chunks(&chunks).await.unwrap();

    assert!(first.iter().all(|p| !p.duplicate));
    assert!(again.iter().all(|p| p.duplicate));
    let stream_name = bus.namespace().stream_name(StreamFamily::Source);
    assert_eq!(stream_messages(&bus.jetstream, &stream_name).await, chunks.len() as u64);

    let stream = bus.jetstream.get_stream(&stream_name).await.unwrap();
    let subject = bus.namespace().snapshot_subject(tenant.as_str(), "entra").unwrap();
    let mut assembler = Assembler::new();
    let mut assembled = Vec::new();
    for sequence in 1..=chunks.len() as u64 {
        let stored = stream.get_raw_message(sequence).await.unwrap();
        assert_eq!(stored.subject.as_str(), subject);
        assembled.extend(assembler.accept_bytes(&stored.payload, Instant::now()).unwrap());
    }
    assert_eq!(assembled.len(), 1);
    assert_eq!(assembled[0].content, SnapshotContent::Source(snapshot));
    bus.delete().await;
}

/// The example practice's HR roster goes out as the snapshot of source `hr`, and its sync
/// report on the source's `sync` subject; both come back intact.
#[tokio::test]
async fn roster_and_sync_report_go_out_on_source_subjects() {
    let bus = TestBus::new().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let as_of: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
    let loaded = rollcall_ingest::layout::load_tenant(&dir, as_of).unwrap();
    let tenant = loaded.config.tenant.id.clone();
    let roster = loaded.data.hr.clone().unwrap();
    let chunks = split_roster(&roster, &tenant, Uuid::from_u128(8), 2048).unwrap();
    assert!(chunks.len() > 1, "the roster fits in {} chunk", chunks.len());
    let report = SyncReport {
        report_id: Uuid::from_u128(9),
        tenant: tenant.clone(),
        source: SourceId::hr(),
        started_at: as_of,
        finished_at: as_of,
        outcome: SyncOutcome::Ok,
        snapshot_id: Some(Uuid::from_u128(8)),
        content_hash: Some(ContentHash::of_roster(&roster)),
        problems: Vec::new(),
        connector: "file-connector".to_owned(),
    };
    let publisher = bus.publisher();

    publisher.publish_chunks(&chunks).await.unwrap();
    publisher.publish(&sync_report_to_proto(&report)).await.unwrap();

    let stream_name = bus.namespace().stream_name(StreamFamily::Source);
    let stream = bus.jetstream.get_stream(&stream_name).await.unwrap();
    let snapshot_subject = bus.namespace().snapshot_subject(tenant.as_str(), "hr").unwrap();
    let mut assembler = Assembler::new();
    let mut assembled = Vec::new();
    for sequence in 1..=chunks.len() as u64 {
        let stored = stream.get_raw_message(sequence).await.unwrap();
        assert_eq!(stored.subject.as_str(), snapshot_subject);
        assembled.extend(assembler.accept_bytes(&stored.payload, Instant::now()).unwrap());
    }
    assert_eq!(assembled.len(), 1);
    assert_eq!(assembled[0].content, SnapshotContent::Roster(roster));
    let stored = stream.get_raw_message(chunks.len() as u64 + 1).await.unwrap();
    let sync_subject = bus.namespace().sync_report_subject(tenant.as_str(), "hr").unwrap();
    assert_eq!(stored.subject.as_str(), sync_subject);
    let decoded = sync_report_from_proto(v1::SyncReport::decode(stored.payload).unwrap());
    assert_eq!(decoded.unwrap(), report);
    bus.delete().await;
}

#[tokio::test]
async fn publish_snapshot_uses_default_chunks() {
    let bus = TestBus::new().await;
    let tenant = rollcall_core::TenantId::new("oakridge-family-medicine").unwrap();
    let snapshot =
        rollcall_core::model::SourceSnapshot::new(rollcall_core::model::SourceId::entra());

    let published =
        bus.publisher().publish_snapshot(&snapshot, &tenant, Uuid::from_u128(8)).await.unwrap();

    assert_eq!(published.len(), 1);
    let mut stream =
        bus.jetstream.get_stream(bus.namespace().stream_name(StreamFamily::Source)).await.unwrap();
    let stored = stream.get_raw_message(published[0].sequence).await.unwrap();
    let headers = stored.headers;
    assert_eq!(
        headers.get("Nats-Msg-Id").map(|v| v.as_str()),
        Some("00000000-0000-0000-0000-000000000008:0")
    );
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    bus.delete().await;
}

#[tokio::test]
async fn invalid_messages_rejected_before_sending() {
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let mut no_id = hire("acme", "E-1");
    no_id.event_id.clear();
    let injected = hire("acme.*", "E-2");
    let unspecified = v1::FindingEvent {
        event_id: Uuid::new_v4().to_string(),
        tenant: "acme".to_owned(),
        ..v1::FindingEvent::default()
    };
    let huge = v1::SnapshotDelta {
        delta_id: Uuid::new_v4().to_string(),
        tenant: "acme".to_owned(),
        source: "entra".to_owned(),
        removed_account_ids: vec!["x".repeat(1024); 1024],
        ..v1::SnapshotDelta::default()
    };

    let no_id = publisher.publish(&no_id).await.unwrap_err();
    let injected = publisher.publish(&injected).await.unwrap_err();
    let unspecified = publisher.publish(&unspecified).await.unwrap_err();
    let huge = publisher.publish(&huge).await.unwrap_err();

    assert!(matches!(no_id, PublishError::MissingMessageId { kind: "hr", .. }), "{no_id:?}");
    assert!(matches!(injected, PublishError::Subject(_)), "{injected:?}");
    assert!(matches!(unspecified, PublishError::Subject(_)), "{unspecified:?}");
    assert!(matches!(huge, PublishError::TooLarge { max: 1_015_808, .. }), "{huge:?}");
    for family in StreamFamily::ALL {
        let name = bus.namespace().stream_name(family);
        assert_eq!(stream_messages(&bus.jetstream, &name).await, 0, "{name}");
    }
    bus.delete().await;
}

/// A finding event lands on its type's subject and is read back by a plain JetStream
/// consumer as the same message.
#[tokio::test]
async fn finding_event_on_type_subject() {
    let bus = TestBus::new().await;
    let event = v1::FindingEvent {
        event_id: Uuid::new_v4().to_string(),
        tenant: "harborview".to_owned(),
        r#type: v1::FindingEventType::Opened as i32,
        ..v1::FindingEvent::default()
    };

    bus.publisher().publish(&event).await.unwrap();

    let stream = bus
        .jetstream
        .get_stream(bus.namespace().stream_name(MessageKind::Finding.stream()))
        .await
        .unwrap();
    let stored = stream.get_raw_message(1).await.unwrap();
    assert_eq!(
        stored.subject.as_str(),
        format!("{}.harborview.finding.opened", bus.namespace().subject_prefix())
    );
    let decoded: v1::FindingEvent = prost::Message::decode(stored.payload.clone()).unwrap();
    assert_eq!(decoded, event);
    bus.delete().await;
}
