//! A sync attempt publishes the `ehr:drchrono` snapshot in chunks and a sync report on the
//! local NATS server, and records the published hash. A failed attempt publishes only a
//! FAILED report and keeps the last good state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../ldap-connector/tests/support/bus.rs"]
mod bus;
mod common;
mod double;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::time::Instant;

use bus::TestBus;
use common::Setup;
use double::{DrChronoDouble, Fault};
use rollcall_core::model::{AccountStatus, SourceSnapshot};
use rollcall_drchrono_connector::{
    Attempt, CONNECTOR_NAME, ConnectorMetrics, TenantSync, sync_and_publish,
};
use rollcall_proto::{Assembler, SnapshotContent, SyncOutcome, v1};
use serde_json::json;

/// Assembles the chunks of one snapshot id.
fn assemble(chunks: &[v1::SnapshotChunk], snapshot_id: uuid::Uuid) -> SourceSnapshot {
    let mut assembler = Assembler::new();
    let expected_id = snapshot_id.hyphenated().to_string();
    for chunk in chunks.iter().filter(|c| c.snapshot_id == expected_id) {
        if let Some(done) = assembler.accept(chunk.clone(), Instant::now()).unwrap() {
            let SnapshotContent::Source(snapshot) = done.content else { panic!("not a source") };
            return snapshot;
        }
    }
    panic!("snapshot {snapshot_id} is incomplete");
}

/// Runs one published attempt, as the service's loop does.
async fn attempt(setup: &Setup, bus: &TestBus, metrics: &ConnectorMetrics) -> Attempt {
    let publisher = bus.publisher();
    let mut client = setup.client();
    let job = TenantSync {
        tenant: &setup.tenant,
        scope: setup.store.tenant(&setup.tenant),
        publisher: &publisher,
        metrics,
        zone: common::ZONE.parse().unwrap(),
        login_window_days: 90,
        page_size: common::fast_limits().page_size,
    };
    sync_and_publish(&mut client, &job).await
}

async fn published_hash(setup: &Setup) -> Option<String> {
    let state = setup.store.tenant(&setup.tenant).drchrono_state().await.unwrap();
    state.and_then(|state| state.published_hash)
}

/// Makes staff member 70140 inactive in the double.
fn deactivate_wilhelmina(double: &DrChronoDouble) {
    double.edit_records("/api/staff", |staff| {
        let record = staff.iter_mut().find(|s| s["user_id"] == "70140").unwrap();
        record["active"] = json!(false);
    });
}

#[tokio::test]
async fn snapshot_published_then_unchanged() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let bus = TestBus::new().await;
    let metrics = ConnectorMetrics::new();

    let first = attempt(&setup, &bus, &metrics).await;
    assert_eq!(first.report.outcome, SyncOutcome::Ok, "{:?}", first.report.problems);
    assert!(first.report_published);
    assert_eq!(first.report.connector, CONNECTOR_NAME);
    assert_eq!(first.report.source.to_string(), "ehr:drchrono");
    let snapshot_id = first.report.snapshot_id.expect("the first attempt publishes");
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 1);
    let snapshot = assemble(&published.chunks, snapshot_id);
    assert_eq!(&snapshot, &first.result.as_ref().unwrap().snapshot);
    let hash = first.report.content_hash.unwrap().to_string();
    assert_eq!(published.reports[0].content_sha256.as_deref(), Some(hash.as_str()));
    let fingerprint = rollcall_drchrono_connector::fingerprint(&snapshot);
    assert_eq!(published_hash(&setup).await.as_deref(), Some(fingerprint.as_str()));
    // The reader's warnings about records travel in the report: the doctor with only a
    // group NPI is one.
    assert!(
        first.report.problems.iter().any(|p| p.message.contains("group NPI") && !p.fatal),
        "{:?}",
        first.report.problems
    );

    // Nothing changed but the collection time: the report goes out without a snapshot.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let chunks_before = published.chunks.len();
    let second = attempt(&setup, &bus, &metrics).await;
    assert_eq!(second.report.outcome, SyncOutcome::Ok);
    let collected = |attempt: &Attempt| attempt.result.as_ref().unwrap().snapshot.collected_at;
    assert_ne!(collected(&second), collected(&first));
    assert_eq!(second.report.snapshot_id, None);
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 2);
    assert_eq!(published.chunks.len(), chunks_before);
    bus.delete().await;
}

/// Runs a good attempt, changes the practice, fails the next attempt with `fault` on
/// every try at the second page of users, and checks that only a FAILED report went out
/// and that the following attempt publishes the change.
async fn assert_failed_attempt(fault: Fault) {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let bus = TestBus::new().await;
    let metrics = ConnectorMetrics::new();
    let first = attempt(&setup, &bus, &metrics).await;
    assert_eq!(first.report.outcome, SyncOutcome::Ok, "{:?}", first.report.problems);
    let hash_before = published_hash(&setup).await;
    let chunks_before = bus.published().await.chunks.len();

    deactivate_wilhelmina(&setup.double);
    for _ in 0..common::fast_limits().max_attempts {
        setup.double.push_fault("/api/users", Some(1), fault.clone());
    }
    let failed = attempt(&setup, &bus, &metrics).await;
    assert_eq!(failed.report.outcome, SyncOutcome::Failed);
    assert_eq!(failed.report.snapshot_id, None);
    assert_eq!(failed.report.content_hash, None);
    assert_eq!(failed.report.problems.len(), 1);
    assert!(failed.report.problems[0].fatal);
    assert_eq!(failed.report.problems[0].input, "/api/users");
    let published = bus.published().await;
    assert_eq!(published.chunks.len(), chunks_before, "a failed attempt published chunks");
    assert_eq!(published.reports.len(), 2);
    assert_eq!(published.reports[1].outcome, v1::SyncOutcome::Failed as i32);
    assert_eq!(published_hash(&setup).await, hash_before, "the last good state changed");

    let recovered = attempt(&setup, &bus, &metrics).await;
    assert_eq!(recovered.report.outcome, SyncOutcome::Ok, "{:?}", recovered.report.problems);
    let snapshot_id = recovered.report.snapshot_id.expect("the change is published");
    let snapshot = assemble(&bus.published().await.chunks, snapshot_id);
    let wilhelmina = snapshot.accounts.iter().find(|a| a.id == "70140").unwrap();
    assert_eq!(wilhelmina.status, AccountStatus::Disabled);
    bus.delete().await;
}

#[tokio::test]
async fn dropped_connection_keeps_last_state() {
    assert_failed_attempt(Fault::DropConnection).await;
}

#[tokio::test]
async fn malformed_json_keeps_last_state() {
    assert_failed_attempt(Fault::MalformedJson).await;
}

#[tokio::test]
async fn revoked_refresh_token_reports_the_fix() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let bus = TestBus::new().await;
    setup.double.revoke_refresh_token();
    let failed = attempt(&setup, &bus, &ConnectorMetrics::new()).await;
    assert_eq!(failed.report.outcome, SyncOutcome::Failed);
    let problem = &failed.report.problems[0];
    assert_eq!(problem.input, "token");
    assert!(problem.message.contains("authorize Rollcall again"), "{}", problem.message);
    assert!(bus.published().await.chunks.is_empty());
    bus.delete().await;
}
