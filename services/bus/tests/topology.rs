//! Streams and consumers created idempotently on the local NATS server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::time::Duration;

use rollcall_bus::async_nats::jetstream::consumer::PullConsumer;
use rollcall_bus::{
    ConsumerError, ConsumerSpec, MAX_MESSAGE_BYTES, MessageKind, StreamChange, StreamFamily,
};
use support::TestBus;

#[tokio::test]
async fn ensure_twice_changes_nothing() {
    let bus = TestBus::new().await;
    let names: Vec<String> = bus.topology.streams().iter().map(|s| s.name.clone()).collect();

    let changes = bus.topology.ensure(&bus.jetstream).await.unwrap();

    assert_eq!(changes, names.iter().cloned().map(StreamChange::Unchanged).collect::<Vec<_>>());
    bus.delete().await;
}

#[tokio::test]
async fn streams_have_their_definition() {
    let bus = TestBus::new().await;
    let name = bus.namespace().stream_name(StreamFamily::Source);

    let mut stream = bus.jetstream.get_stream(&name).await.unwrap();
    let config = stream.info().await.unwrap().config.clone();

    assert_eq!(config.subjects, [bus.namespace().stream_subjects(StreamFamily::Source)]);
    assert_eq!(config.storage, rollcall_bus::async_nats::jetstream::stream::StorageType::File);
    assert_eq!(config.max_message_size, MAX_MESSAGE_BYTES);
    assert_eq!(config.duplicate_window, Duration::from_secs(600));
    assert_eq!(config.max_age, Duration::from_secs(7 * 24 * 3600));
    bus.delete().await;
}

#[tokio::test]
async fn drifted_stream_is_updated() {
    let bus = TestBus::new().await;
    let spec = bus.topology.stream(StreamFamily::Hr).unwrap().clone();
    let mut drifted = spec.config();
    drifted.max_age = Duration::from_secs(3600);
    bus.jetstream.update_stream(drifted).await.unwrap();

    let changes = bus.topology.ensure(&bus.jetstream).await.unwrap();

    assert!(changes.contains(&StreamChange::Updated(spec.name.clone())), "{changes:?}");
    let mut stream = bus.jetstream.get_stream(&spec.name).await.unwrap();
    assert_eq!(stream.info().await.unwrap().config.max_age, spec.max_age);
    bus.delete().await;
}

#[tokio::test]
async fn consumer_ensure_updates_ack_wait() {
    let bus = TestBus::new().await;
    let spec = ConsumerSpec::engine_hr_events().with_ack_wait(Duration::from_secs(10));
    spec.ensure(&bus.jetstream, bus.namespace()).await.unwrap();

    let mut consumer: PullConsumer = spec
        .clone()
        .with_ack_wait(Duration::from_secs(20))
        .with_max_deliver(7)
        .ensure(&bus.jetstream, bus.namespace())
        .await
        .unwrap();

    let info = consumer.info().await.unwrap();
    assert_eq!(info.config.ack_wait, Duration::from_secs(20));
    assert_eq!(info.config.max_deliver, 7);
    assert_eq!(info.config.filter_subject, bus.namespace().kind_filter(MessageKind::HrEvent));
    assert_eq!(info.config.durable_name.as_deref(), Some("engine-hr-events"));
    bus.delete().await;
}

#[tokio::test]
async fn consumer_without_stream_names_it() {
    let bus = TestBus::new().await;
    let stream = bus.namespace().stream_name(StreamFamily::Finding);
    bus.jetstream.delete_stream(&stream).await.unwrap();

    let error = ConsumerSpec::new("notifier", MessageKind::Finding)
        .ensure(&bus.jetstream, bus.namespace())
        .await
        .unwrap_err();

    assert!(matches!(error, ConsumerError::Stream { .. }), "{error:?}");
    assert!(error.to_string().contains(&format!("`{stream}`")), "{error}");
    // Dropping the bus deletes the streams that are left.
    drop(bus);
}

#[test]
fn invalid_consumer_specs_rejected() {
    let short = ConsumerSpec::engine_snapshots().with_ack_wait(Duration::from_millis(900));
    let no_delivery = ConsumerSpec::engine_snapshots().with_max_deliver(0);
    let dotted = ConsumerSpec::new("engine.snapshots", MessageKind::Snapshot);

    assert!(matches!(short.validate(), Err(ConsumerError::AckWaitTooShort(..))));
    assert!(matches!(no_delivery.validate(), Err(ConsumerError::InvalidMaxDeliver(0, _))));
    assert!(matches!(dotted.validate(), Err(ConsumerError::InvalidName(_))));
    assert!(ConsumerSpec::engine_snapshots().validate().is_ok());
}
