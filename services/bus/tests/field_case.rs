//! The field case `jetstream-ackwait-redelivery`: a snapshot import is delivered again
//! after the next snapshot was applied. The runner hands the handler the stream sequence
//! and the delivery count, and a handler-side cursor per tenant and source skips the
//! stale copy, so the practice's state stays at the newer snapshot.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rollcall_bus::{ConsumerSpec, Delivery, Disposition, Handler, MessageKind, Outcome};
use rollcall_proto::v1;
use serde_json::Value;
use support::{TestBus, wait_until};

fn case_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/field-cases/jetstream-ackwait-redelivery")
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(case_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Builds the one-chunk snapshot of a `messages.json` entry. The case's `graph` source is
/// Entra ID read through Microsoft Graph, Rollcall's `entra`.
fn chunk_of(message: &Value) -> v1::SnapshotChunk {
    let payload = &message["payload"];
    let taken_at: DateTime<Utc> = payload["taken_at"].as_str().unwrap().parse().unwrap();
    let memberships = payload["group_members"]["EHR-Prescribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| v1::Membership {
            member: Some(v1::membership::Member::MemberAccount(
                member.as_str().unwrap().to_owned(),
            )),
            entitlement_id: "EHR-Prescribers".to_owned(),
            state: v1::GrantState::Active as i32,
            scope: None,
        })
        .collect();
    v1::SnapshotChunk {
        tenant: payload["tenant"].as_str().unwrap().to_owned(),
        source: "entra".to_owned(),
        snapshot_id: payload["snapshot_id"].as_str().unwrap().to_owned(),
        chunk_index: 0,
        chunk_count: 1,
        collected_at: Some(prost_types::Timestamp { seconds: taken_at.timestamp(), nanos: 0 }),
        memberships,
        ..v1::SnapshotChunk::default()
    }
}

/// The engine's state for one practice, and what happened to each delivery.
#[derive(Debug, Default)]
struct Practice {
    /// Per (tenant, source): the last applied (taken_at seconds, stream sequence).
    cursor: BTreeMap<(String, String), (i64, u64)>,
    last_applied_snapshot_id: String,
    prescribers: Vec<String>,
    applies: BTreeMap<u64, u32>,
    outcomes: Vec<(u64, u64, &'static str)>,
}

/// Applies a snapshot only when its (taken_at, stream sequence) is newer than the cursor,
/// updating both together as one transaction would. The first delivery of stream
/// sequence 1 returns Nak after applying. The Nak stands for the ack that never reached
/// the server while the other replica was already importing.
struct Importer {
    state: Arc<Mutex<Practice>>,
}

impl Handler for Importer {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        let Ok(chunk) = delivery.decode::<v1::SnapshotChunk>() else {
            return Outcome::term("the payload is not a snapshot chunk");
        };
        let taken_at = chunk.collected_at.map(|t| t.seconds).unwrap_or_default();
        let version = (taken_at, delivery.stream_sequence);
        let key = (chunk.tenant.clone(), chunk.source.clone());

        let mut state = self.state.lock().unwrap();
        if state.cursor.get(&key).is_some_and(|last| *last >= version) {
            let outcome = if state.last_applied_snapshot_id == chunk.snapshot_id {
                "duplicate_skipped"
            } else {
                "stale_skipped"
            };
            state.outcomes.push((delivery.stream_sequence, delivery.delivered, outcome));
            return Outcome::Ack;
        }

        state.cursor.insert(key, version);
        state.last_applied_snapshot_id = chunk.snapshot_id.clone();
        state.prescribers = chunk
            .memberships
            .iter()
            .filter_map(|m| match &m.member {
                Some(v1::membership::Member::MemberAccount(account)) => Some(account.clone()),
                _ => None,
            })
            .collect();
        *state.applies.entry(delivery.stream_sequence).or_default() += 1;
        state.outcomes.push((delivery.stream_sequence, delivery.delivered, "applied"));

        if delivery.stream_sequence == 1 && delivery.delivered == 1 {
            return Outcome::nak(Duration::from_secs(3), "ack lost after commit");
        }
        Outcome::Ack
    }
}

#[tokio::test]
async fn stale_redelivery_skipped_by_cursor() {
    let bus = TestBus::new().await;
    let messages = read_json("messages.json");
    let expected = read_json("expected.json");
    let chunks: Vec<v1::SnapshotChunk> =
        messages.as_array().unwrap().iter().map(chunk_of).collect();
    bus.publisher().publish_chunks(&chunks).await.unwrap();
    let state = Arc::new(Mutex::new(Practice::default()));
    let importer = Importer { state: state.clone() };
    let spec = ConsumerSpec::new("engine-import", MessageKind::Snapshot)
        .with_ack_wait(Duration::from_secs(30))
        .with_max_deliver(5);
    let labels = rollcall_bus::ConsumedLabels {
        consumer: "engine-import".to_owned(),
        disposition: Disposition::Ack,
    };

    let runner = bus.spawn_runner(spec, importer, Duration::from_secs(30)).await;
    wait_until("both snapshots and the redelivery acked", Duration::from_secs(30), || {
        bus.metrics.consumed.get_or_create(&labels).get() == 2
    })
    .await;
    let report = runner.stop().await;

    assert_eq!(report.handled, 3);
    let final_state = &expected["final_state_after_t75"];
    let expected_prescribers: Vec<String> = final_state["EHR-Prescribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let counts = &expected["counts"];
    {
        let state = state.lock().unwrap();
        assert_eq!(state.prescribers, expected_prescribers);
        assert_eq!(
            state.last_applied_snapshot_id,
            final_state["last_applied_snapshot_id"].as_str().unwrap()
        );
        assert_eq!(state.outcomes, [(1, 1, "applied"), (2, 1, "applied"), (1, 2, "stale_skipped")]);
        assert_eq!(u64::from(state.applies[&1]), counts["applies_of_seq_101"].as_u64().unwrap());
        assert_eq!(u64::from(state.applies[&2]), counts["applies_of_seq_102"].as_u64().unwrap());
    }
    bus.delete().await;
}
