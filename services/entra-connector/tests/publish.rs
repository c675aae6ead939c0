//! A sync attempt publishes the `entra` snapshot in chunks and a sync report on NATS, and
//! saves the delta state only after the publish. A failed attempt publishes a FAILED
//! report and no snapshot, and leaves the delta state where it was.

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
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::time::Instant;

use bus::TestBus;
use rollcall_core::model::{LastSignIn, SourceSnapshot};
use rollcall_entra_connector::{
    CONNECTOR_NAME, ConnectorMetrics, DeltaMode, NO_PREMIUM_CODE, load_state,
};
use rollcall_graph_double::{Fault, GraphDouble, Tenant};
use rollcall_proto::{Assembler, SnapshotContent, SyncOutcome, v1};
use serde_json::json;
use support::TestDb;
use support::fixtures::add_tenant;

const ADAEZE: &str = "6e7a1000-0000-4000-8000-0000000003e9";

/// Assembles the chunks of one snapshot id from `chunks`.
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

fn disable_adaeze(double: &GraphDouble) {
    double
        .with_tenant(common::DIRECTORY, |tenant| {
            let mut adaeze = tenant.users.iter().find(|u| u["id"] == ADAEZE).cloned().unwrap();
            adaeze["accountEnabled"] = json!(false);
            tenant.upsert_user(adaeze);
        })
        .unwrap();
}

#[tokio::test]
async fn full_delta_and_unchanged_rounds() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "harborview").await;
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let metrics = ConnectorMetrics::new();
    let (double, base) =
        common::start(Tenant::load_dir(&common::harborview_entra()).unwrap()).await;

    // First round: no state, so a full read, published whole.
    let first = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(first.report.outcome, SyncOutcome::Ok, "{:?}", first.report.problems);
    assert_eq!(first.mode, Some(DeltaMode::Initial));
    assert!(first.report_published);
    assert!(first.state_saved);
    assert_eq!(first.report.connector, CONNECTOR_NAME);
    let first_id = first.report.snapshot_id.expect("the first round publishes a snapshot");
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 1);
    assert_eq!(published.reports[0].outcome, v1::SyncOutcome::Ok as i32);
    let snapshot = assemble(&published.chunks, first_id);
    let full = common::sync(&base, common::fast_limits()).await.unwrap();
    assert_eq!(snapshot, full.snapshot);
    let first_hash = first.report.content_hash.unwrap().to_string();
    assert_eq!(published.reports[0].content_sha256.as_deref(), Some(first_hash.as_str()));
    let state = load_state(&store.tenant(&tenant)).await.unwrap().unwrap();
    assert_eq!(state.published_hash.as_deref(), Some(first_hash.as_str()));

    // Second round: a delta round, and the whole merged snapshot is published.
    disable_adaeze(&double);
    let second = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(second.report.outcome, SyncOutcome::Ok, "{:?}", second.report.problems);
    assert_eq!(second.mode, Some(DeltaMode::Delta));
    let second_id = second.report.snapshot_id.expect("a changed directory is published");
    assert_ne!(second_id, first_id);
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 2);
    let merged = assemble(&published.chunks, second_id);
    let full = common::sync(&base, common::fast_limits()).await.unwrap();
    assert_eq!(merged, full.snapshot);
    let adaeze = merged.accounts.iter().find(|a| a.id == ADAEZE).unwrap();
    assert_eq!(adaeze.status, rollcall_core::model::AccountStatus::Disabled);

    // Third round: nothing changed, so the report goes out without a snapshot.
    let chunks_before = published.chunks.len();
    let third = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(third.report.outcome, SyncOutcome::Ok, "{:?}", third.report.problems);
    assert_eq!(third.report.snapshot_id, None);
    assert_eq!(third.report.content_hash, second.report.content_hash);
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 3);
    assert_eq!(published.chunks.len(), chunks_before, "an unchanged snapshot was published");
    bus.delete().await;
}

/// Runs a good first round, makes a change, then fails the delta round with `fault` on
/// every attempt at `users/delta`, and checks that nothing but a FAILED report went out
/// and that the next round still publishes the change.
async fn assert_failed_round(fault: Fault) {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "harborview").await;
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let metrics = ConnectorMetrics::new();
    let (double, base) =
        common::start(Tenant::load_dir(&common::harborview_entra()).unwrap()).await;
    let first = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(first.report.outcome, SyncOutcome::Ok, "{:?}", first.report.problems);
    let state_before = load_state(&store.tenant(&tenant)).await.unwrap().unwrap();
    let chunks_before = bus.published().await.chunks.len();

    disable_adaeze(&double);
    // `fast_limits` makes four attempts per request.
    for _ in 0..4 {
        double.push_fault(Some("users/delta"), fault.clone());
    }
    let failed = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(failed.report.outcome, SyncOutcome::Failed);
    assert_eq!(failed.report.snapshot_id, None);
    assert_eq!(failed.report.content_hash, None);
    assert!(!failed.state_saved);
    assert!(failed.report_published);
    let problem = &failed.report.problems[0];
    assert!(problem.fatal);
    assert_eq!(problem.input, "users/delta");
    assert_eq!(problem.location.as_deref(), Some("stage graph"));
    assert!(problem.message.contains("gave up after 4 attempts"), "{}", problem.message);

    let published = bus.published().await;
    assert_eq!(published.chunks.len(), chunks_before, "a failed round published chunks");
    assert_eq!(published.reports.len(), 2);
    assert_eq!(published.reports[1].outcome, v1::SyncOutcome::Failed as i32);
    let state_after = load_state(&store.tenant(&tenant)).await.unwrap().unwrap();
    assert_eq!(state_after, state_before, "a failed round moved the delta state");

    // The change is read again by the next round, from the same delta links.
    let next = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(next.report.outcome, SyncOutcome::Ok, "{:?}", next.report.problems);
    let published = bus.published().await;
    let merged = assemble(&published.chunks, next.report.snapshot_id.unwrap());
    let adaeze = merged.accounts.iter().find(|a| a.id == ADAEZE).unwrap();
    assert_eq!(adaeze.status, rollcall_core::model::AccountStatus::Disabled);
    bus.delete().await;
}

#[tokio::test]
async fn server_error_storm_fails_round() {
    assert_failed_round(Fault::Throttle { status: 503, retry_after: Some("0.01".into()) }).await;
}

#[tokio::test]
async fn dropped_connections_fail_round() {
    assert_failed_round(Fault::DropConnection).await;
}

#[tokio::test]
async fn no_premium_report_names_the_code() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, "harborview").await;
    let bus = TestBus::new().await;
    let publisher = bus.publisher();
    let metrics = ConnectorMetrics::new();
    let (double, base) =
        common::start(Tenant::load_dir(&common::harborview_entra()).unwrap()).await;
    double.set_premium(common::DIRECTORY, false);

    let attempt = common::attempt(&base, &store, &publisher, &metrics).await;
    assert_eq!(attempt.report.outcome, SyncOutcome::Ok, "{:?}", attempt.report.problems);
    let sign_in: Vec<_> = attempt
        .report
        .problems
        .iter()
        .filter(|p| p.location.as_deref() == Some("signInActivity"))
        .collect();
    assert_eq!(sign_in.len(), 1, "{:?}", attempt.report.problems);
    assert!(!sign_in[0].fatal);
    assert_eq!(sign_in[0].input, "users");
    assert!(sign_in[0].message.contains(NO_PREMIUM_CODE), "{}", sign_in[0].message);

    let published = bus.published().await;
    let wire = &published.reports[0];
    assert!(wire.problems.iter().any(|p| p.message.contains(NO_PREMIUM_CODE)));
    let snapshot = assemble(&published.chunks, attempt.report.snapshot_id.unwrap());
    assert!(!snapshot.accounts.is_empty());
    for account in &snapshot.accounts {
        assert_eq!(account.last_sign_in, LastSignIn::Unknown, "account {}", account.id);
    }
    bus.delete().await;
}

#[tokio::test]
async fn failed_publish_saves_no_state() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "harborview").await;
    let bus = TestBus::new().await;
    let metrics = ConnectorMetrics::new();
    let (_double, base) =
        common::start(Tenant::load_dir(&common::harborview_entra()).unwrap()).await;

    // A namespace whose streams were never created: JetStream stores nothing for it, and
    // the publisher gives up after its retries.
    let short = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let missing =
        rollcall_bus::Namespace::new(&format!("t{short}"), &format!("T{}", short.to_uppercase()))
            .unwrap();
    let nowhere = rollcall_bus::Publisher::new(
        bus.jetstream.clone(),
        missing,
        rollcall_bus::BusMetrics::new(),
    );
    let lost = common::attempt(&base, &store, &nowhere, &metrics).await;
    assert_eq!(lost.report.outcome, SyncOutcome::Failed);
    assert!(!lost.state_saved);
    assert!(!lost.report_published);
    let problem = &lost.report.problems[0];
    assert_eq!(problem.location.as_deref(), Some("stage publish"));
    assert!(problem.message.contains("not saved"), "{}", problem.message);
    assert!(load_state(&store.tenant(&tenant)).await.unwrap().is_none());

    // The next round starts from no state again and publishes the full read.
    let next = common::attempt(&base, &store, &bus.publisher(), &metrics).await;
    assert_eq!(next.report.outcome, SyncOutcome::Ok, "{:?}", next.report.problems);
    assert_eq!(next.mode, Some(DeltaMode::Initial));
    assert!(next.report.snapshot_id.is_some());
    bus.delete().await;
}
