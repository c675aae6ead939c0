//! Held messages: a handler that returns `Outcome::Hold` keeps messages unsettled, alive
//! past their ack wait, until it acks the group; a stop naks what is still held.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::time::Duration;

use rollcall_bus::async_nats::jetstream::consumer::pull;
use rollcall_bus::{
    ConsumerSpec, Delivery, Disposition, Handler, HeldMessages, MessageKind, Outcome, StreamFamily,
};
use support::{Log, TestBus, hire, wait_until};

const TENANT: &str = "oakridge-family-medicine";
const CONSUMER: &str = "engine-hr-held";
const LIMIT: Duration = Duration::from_secs(30);

/// Holds every message in group `g`.
struct Holding {
    log: Log,
}

impl Handler for Holding {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        self.log.record(delivery);
        Outcome::Hold { group: "g".to_owned() }
    }
}

fn spec() -> ConsumerSpec {
    ConsumerSpec::new(CONSUMER, MessageKind::HrEvent)
        .with_ack_wait(Duration::from_secs(2))
        .with_max_deliver(20)
}

async fn ack_pending(bus: &TestBus) -> u64 {
    let stream = bus.jetstream.get_stream(bus.namespace().stream_name(StreamFamily::Hr)).await;
    let mut consumer = stream.unwrap().get_consumer::<pull::Config>(CONSUMER).await.unwrap();
    let info = consumer.info().await.unwrap();
    u64::try_from(info.num_ack_pending).unwrap()
}

#[tokio::test]
async fn held_messages_stay_unacked_and_alive_until_their_group_is_acked() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let held = HeldMessages::new();
    let runner = bus
        .spawn_runner_holding(spec(), Holding { log: log.clone() }, LIMIT, Some(held.clone()))
        .await;
    for employee in ["E-1", "E-2"] {
        bus.publisher().publish(&hire(TENANT, employee)).await.unwrap();
    }
    wait_until("two held messages", LIMIT, || held.group_len("g") == 2).await;
    // Three ack waits: without the runner's progress acks both would come back.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(log.len(), 2, "{:?}", log.seen());
    assert_eq!(ack_pending(&bus).await, 2);

    assert_eq!(held.ack_group("g").await, 2);
    assert!(held.is_empty());
    assert_eq!(ack_pending(&bus).await, 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(log.len(), 2);
    runner.stop().await;
    let labels = rollcall_bus::ConsumedLabels {
        consumer: CONSUMER.to_owned(),
        disposition: Disposition::Held,
    };
    assert_eq!(bus.metrics.consumed.get_or_create(&labels).get(), 2);
    bus.delete().await;
}

#[tokio::test]
async fn a_stop_naks_held_messages_for_the_next_runner() {
    let bus = TestBus::new().await;
    let log = Log::default();
    let held = HeldMessages::new();
    let runner = bus
        .spawn_runner_holding(spec(), Holding { log: log.clone() }, LIMIT, Some(held.clone()))
        .await;
    bus.publisher().publish(&hire(TENANT, "E-3")).await.unwrap();
    wait_until("one held message", LIMIT, || held.len() == 1).await;
    runner.stop().await;
    assert!(held.is_empty());

    let next_log = Log::default();
    let next_held = HeldMessages::new();
    let next = bus
        .spawn_runner_holding(
            spec(),
            Holding { log: next_log.clone() },
            LIMIT,
            Some(next_held.clone()),
        )
        .await;
    wait_until("the message held again", LIMIT, || !next_held.is_empty()).await;
    // The stop nakked it, so the next runner receives a redelivery.
    assert!(next_log.seen()[0].delivered >= 2, "{:?}", next_log.seen());
    assert!(next_held.ack_group("g").await >= 1);
    assert_eq!(ack_pending(&bus).await, 0);
    next.stop().await;
    bus.delete().await;
}
