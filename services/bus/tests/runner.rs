//! The consumer runner on the local NATS server: progress acks for slow handlers, naks
//! with a delay, dead letters and stopping mid-handler.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rollcall_bus::dead_letter::{
    CAUSE_HEADER, CONSUMER_HEADER, DELIVERED_HEADER, ORIGINAL_SEQUENCE_HEADER,
    ORIGINAL_SUBJECT_HEADER, REASON_HEADER,
};
use rollcall_bus::{
    ConsumerSpec, Delivery, Disposition, Handler, MessageKind, Outcome, StreamFamily,
};
use support::{Log, Scripted, Seen, TestBus, hire, wait_until, within};
use tokio::sync::Notify;

const TENANT: &str = "oakridge-family-medicine";
const LIMIT: Duration = Duration::from_secs(30);

fn hr_consumer(ack_wait_seconds: u64, max_deliver: i64) -> ConsumerSpec {
    ConsumerSpec::new("engine-hr-events", MessageKind::HrEvent)
        .with_ack_wait(Duration::from_secs(ack_wait_seconds))
        .with_max_deliver(max_deliver)
}

fn consumed(bus: &TestBus, disposition: Disposition) -> u64 {
    bus.metrics
        .consumed
        .get_or_create(&rollcall_bus::ConsumedLabels {
            consumer: "engine-hr-events".to_owned(),
            disposition,
        })
        .get()
}

/// A handler that works 3.5 s on a consumer whose ack wait is 1 s gets the message once,
/// because the runner sends a progress ack every third of a second. A second runner on
/// the same consumer, the other replica, pulls all along and would receive the message if
/// its ack wait ran out.
#[tokio::test]
async fn slow_handler_gets_message_once() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let slow =
        || Scripted { log: log.clone(), work: Duration::from_millis(3500), outcome: Outcome::Ack };
    let runner = bus.spawn_runner(hr_consumer(1, 5), slow(), LIMIT).await;
    let replica = bus.spawn_runner(hr_consumer(1, 5), slow(), LIMIT).await;

    let event = hire(TENANT, "E-2001");
    bus.publisher().publish(&event).await.unwrap();
    wait_until("the slow handler's ack", LIMIT, || consumed(&bus, Disposition::Ack) == 1).await;
    // Longer than two ack waits, so an unacked message would have come back.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let report = runner.stop().await;
    let replica_report = replica.stop().await;

    let expected = Seen { stream_sequence: 1, delivered: 1, message_id: Some(event.event_id) };
    assert_eq!(log.seen(), [expected]);
    assert_eq!(report.handled + replica_report.handled, 1);
    let labels = rollcall_bus::ConsumerLabels { consumer: "engine-hr-events".to_owned() };
    assert_eq!(bus.metrics.redelivered.get_or_create(&labels).get(), 0);
    let mut consumer = bus
        .jetstream
        .get_stream(bus.namespace().stream_name(StreamFamily::Hr))
        .await
        .unwrap()
        .get_consumer::<rollcall_bus::async_nats::jetstream::consumer::pull::Config>(
            "engine-hr-events",
        )
        .await
        .unwrap();
    let info = consumer.info().await.unwrap();
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(info.num_redelivered, 0);
    let mut registry = prometheus_client::registry::Registry::default();
    bus.metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("bus_consumed_total{consumer=\"engine-hr-events\",disposition=\"ack\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("bus_handler_duration_seconds_count{consumer=\"engine-hr-events\"} 1"),
        "{text}"
    );
    bus.delete().await;
}

/// A handler that fails on every delivery receives the message max_deliver times. The
/// message then sits in the dead-letter stream with the handler's reason.
#[tokio::test]
async fn failing_handler_dead_letters_after_max_deliver() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let handler = Scripted {
        log: log.clone(),
        work: Duration::ZERO,
        outcome: Outcome::nak(
            Duration::from_millis(100),
            "database unavailable: connection refused",
        ),
    };
    let runner = bus.spawn_runner(hr_consumer(5, 3), handler, LIMIT).await;
    let event = hire(TENANT, "E-2002");

    let published = bus.publisher().publish(&event).await.unwrap();
    wait_until("the dead letter", LIMIT, || consumed(&bus, Disposition::DeadLetter) == 1).await;
    runner.stop().await;

    let delivered: Vec<u64> = log.seen().iter().map(|s| s.delivered).collect();
    assert_eq!(delivered, [1, 2, 3]);
    assert_eq!(consumed(&bus, Disposition::Nak), 2);
    let dead_letters = bus
        .jetstream
        .get_stream(bus.namespace().stream_name(StreamFamily::DeadLetter))
        .await
        .unwrap();
    let subject = bus.namespace().dead_letter_subject(TENANT, MessageKind::HrEvent).unwrap();
    let stored = dead_letters.get_last_raw_message_by_subject(&subject).await.unwrap();
    let header = |name: &str| stored.headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(header(REASON_HEADER).as_deref(), Some("database unavailable: connection refused"));
    assert_eq!(header(CAUSE_HEADER).as_deref(), Some("max_deliver"));
    assert_eq!(header(DELIVERED_HEADER).as_deref(), Some("3"));
    assert_eq!(header(CONSUMER_HEADER).as_deref(), Some("engine-hr-events"));
    assert_eq!(header(ORIGINAL_SEQUENCE_HEADER), Some(published.sequence.to_string()));
    let original_subject = bus.namespace().hr_event_subject(TENANT).unwrap();
    assert_eq!(header(ORIGINAL_SUBJECT_HEADER), Some(original_subject));
    let payload: rollcall_proto::v1::HrEvent = prost::Message::decode(stored.payload).unwrap();
    assert_eq!(payload, event);
    bus.delete().await;
}

/// A handler that returns Term sends the message to the dead-letter stream on its first
/// delivery, and it is never delivered again.
#[tokio::test]
async fn rejected_message_dead_lettered_at_once() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let handler = Scripted {
        log: log.clone(),
        work: Duration::ZERO,
        outcome: Outcome::term("the employee id `E-2003` is not in the roster"),
    };
    let runner = bus.spawn_runner(hr_consumer(1, 5), handler, LIMIT).await;

    bus.publisher().publish(&hire(TENANT, "E-2003")).await.unwrap();
    wait_until("the dead letter", LIMIT, || consumed(&bus, Disposition::DeadLetter) == 1).await;
    // Longer than the ack wait, so a message that was not terminated would come back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    runner.stop().await;

    assert_eq!(log.len(), 1);
    let dead_letters = bus
        .jetstream
        .get_stream(bus.namespace().stream_name(StreamFamily::DeadLetter))
        .await
        .unwrap();
    let stored = dead_letters.get_raw_message(1).await.unwrap();
    assert_eq!(stored.headers.get(CAUSE_HEADER).map(|v| v.as_str()), Some("rejected"));
    assert_eq!(
        stored.headers.get(REASON_HEADER).map(|v| v.as_str()),
        Some("the employee id `E-2003` is not in the roster")
    );
    bus.delete().await;
}

/// Fails the first delivery with a delay, acks the second.
struct FailOnce {
    log: Log,
    delay: Duration,
}

impl Handler for FailOnce {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        self.log.record(delivery);
        if delivery.delivered == 1 {
            Outcome::nak(self.delay, "lock timeout")
        } else {
            Outcome::Ack
        }
    }
}

#[tokio::test]
async fn nak_with_delay_redelivers() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let handler = FailOnce { log: log.clone(), delay: Duration::from_secs(1) };
    let runner = bus.spawn_runner(hr_consumer(30, 5), handler, LIMIT).await;

    bus.publisher().publish(&hire(TENANT, "E-2004")).await.unwrap();
    wait_until("the second delivery's ack", LIMIT, || consumed(&bus, Disposition::Ack) == 1).await;
    let report = runner.stop().await;

    let seen: Vec<(u64, u64)> =
        log.seen().iter().map(|s| (s.stream_sequence, s.delivered)).collect();
    assert_eq!(seen, [(1, 1), (1, 2)]);
    assert_eq!(report.handled, 2);
    assert_eq!(consumed(&bus, Disposition::Nak), 1);
    bus.delete().await;
}

/// Records its delivery, notifies the test that it started, then never finishes.
struct Hangs {
    log: Log,
    started: Arc<Notify>,
}

impl Handler for Hangs {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        self.log.record(delivery);
        self.started.notify_one();
        std::future::pending().await
    }
}

/// A stop while the handler runs, with a grace period that runs out, naks the message:
/// the next runner gets it again as its second delivery.
#[tokio::test]
async fn stop_mid_handler_leaves_message_unacked() {
    let bus = TestBus::new().await;
    let started = Arc::new(Notify::new());
    let first = Log::default();
    let handler = Hangs { log: first.clone(), started: started.clone() };
    let runner = bus.spawn_runner(hr_consumer(30, 5), handler, Duration::from_millis(200)).await;
    bus.publisher().publish(&hire(TENANT, "E-2005")).await.unwrap();
    within("the handler to start", LIMIT, started.notified()).await;

    let report = runner.stop().await;

    assert_eq!(report.handled, 0);
    assert_eq!(report.interrupted, 1);
    assert_eq!(consumed(&bus, Disposition::Ack), 0);
    let second = Log::default();
    let handler = Scripted { log: second.clone(), work: Duration::ZERO, outcome: Outcome::Ack };
    // The ack wait is 30 s, so only the runner's nak explains a delivery within the limit.
    let runner = bus.spawn_runner(hr_consumer(30, 5), handler, LIMIT).await;
    wait_until("the message to come back", Duration::from_secs(15), || second.len() == 1).await;
    runner.stop().await;
    assert_eq!(first.seen().len(), 1);
    let again = &second.seen()[0];
    assert_eq!((again.stream_sequence, again.delivered), (1, 2));
    bus.delete().await;
}

/// A stop while the handler runs, within the grace period, lets it finish and acks.
#[tokio::test]
async fn stop_waits_for_handler_within_grace() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let handler =
        Scripted { log: log.clone(), work: Duration::from_millis(1500), outcome: Outcome::Ack };
    let runner = bus.spawn_runner(hr_consumer(30, 5), handler, LIMIT).await;
    bus.publisher().publish(&hire(TENANT, "E-2006")).await.unwrap();
    wait_until("the handler to start", LIMIT, || log.len() == 1).await;

    let report = runner.stop().await;

    assert_eq!(report.handled, 1);
    assert_eq!(report.interrupted, 0);
    assert_eq!(consumed(&bus, Disposition::Ack), 1);
    bus.delete().await;
}

/// A replica that dies during the message's last attempt settles nothing. The server's
/// max-deliveries advisory still brings the message to the dead-letter stream.
#[tokio::test]
async fn unsettled_last_delivery_dead_lettered() {
    let bus = TestBus::new().await;
    let spec = hr_consumer(1, 1);
    let consumer = spec.ensure(&bus.jetstream, bus.namespace()).await.unwrap();
    bus.publisher().publish(&hire(TENANT, "E-2007")).await.unwrap();
    // The replica that dies: it pulls the message and never settles it.
    let mut pulled = consumer.fetch().max_messages(1).messages().await.unwrap();
    let held = within("the dying replica's pull", LIMIT, pulled.next()).await.unwrap().unwrap();
    let log = Log::default();
    let handler = Scripted { log: log.clone(), work: Duration::ZERO, outcome: Outcome::Ack };

    let runner = bus.spawn_runner(spec, handler, LIMIT).await;
    let labels = rollcall_bus::ConsumerLabels { consumer: "engine-hr-events".to_owned() };
    wait_until("the dead letter", LIMIT, || {
        bus.metrics.dead_lettered.get_or_create(&labels).get() == 1
    })
    .await;
    runner.stop().await;

    assert_eq!(log.len(), 0);
    let dead_letters = bus
        .jetstream
        .get_stream(bus.namespace().stream_name(StreamFamily::DeadLetter))
        .await
        .unwrap();
    let stored = dead_letters.get_raw_message(1).await.unwrap();
    assert_eq!(stored.headers.get(CAUSE_HEADER).map(|v| v.as_str()), Some("max_deliver_unsettled"));
    assert_eq!(stored.headers.get(DELIVERED_HEADER).map(|v| v.as_str()), Some("1"));
    assert_eq!(stored.payload, held.payload);
    bus.delete().await;
}
