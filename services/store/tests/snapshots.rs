//! Applying snapshots and rosters, and loading them back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::model::{SourceId, SourceSnapshot};
use rollcall_proto::ContentHash;
use rollcall_store::{ApplyOutcome, StoreError};
use support::TestDb;
use support::fixtures::{add_tenant, entra_snapshot, harborview, meta, tenant_id};

#[tokio::test]
async fn harborview_round_trips() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (tenant, data) = harborview();
    let tenant = add_tenant(&store, tenant.id.as_str()).await;
    let scope = store.tenant(&tenant);

    for (index, snapshot) in data.sources.iter().enumerate() {
        let seq = index as u64 + 1;
        let snapshot_meta = meta(seq.into(), "2026-12-01T06:00:00Z", seq);
        let outcome = scope.apply_source_snapshot(snapshot, &snapshot_meta).await.unwrap();
        assert_eq!(outcome, ApplyOutcome::Applied, "{}", snapshot.source);
    }
    let roster = data.hr.clone().unwrap();
    let outcome = scope.apply_hr_roster(&roster, &meta(99, "2026-12-01T06:00:00Z", 99)).await;
    assert_eq!(outcome.unwrap(), ApplyOutcome::Applied);
    let loaded = scope.load_tenant_data().await.unwrap();

    let mut expected: Vec<SourceSnapshot> = data.sources.clone();
    expected.sort_by_key(|snapshot| snapshot.source.to_string());
    assert_eq!(loaded.sources.len(), 3);
    for (got, want) in loaded.sources.iter().zip(&expected) {
        assert_eq!(got, want, "{}", want.source);
    }
    assert_eq!(loaded.hr, data.hr);
}

#[tokio::test]
async fn source_state_holds_wire_hash() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let snapshot = entra_snapshot(&["u-1001", "u-1002"]);

    scope.apply_source_snapshot(&snapshot, &meta(1, "2026-12-01T06:00:00Z", 7)).await.unwrap();
    let states = scope.source_states().await.unwrap();

    assert_eq!(states.len(), 1);
    let state = &states[0];
    assert_eq!(state.source, SourceId::entra());
    assert_eq!(state.content_sha256, *ContentHash::of(&snapshot).as_bytes());
    assert_eq!(state.stream_sequence, 7);
    assert_eq!(state.collected_at, support::fixtures::at("2026-12-01T06:00:00Z"));
}

#[tokio::test]
async fn duplicate_snapshots_skipped() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let first = entra_snapshot(&["u-1001"]);
    scope.apply_source_snapshot(&first, &meta(1, "2026-12-01T06:00:00Z", 10)).await.unwrap();

    // A redelivery with the same snapshot id, even at a later sequence.
    let redelivered =
        scope.apply_source_snapshot(&first, &meta(1, "2026-12-01T06:00:00Z", 11)).await.unwrap();
    // The same content collected at the same instant, published again under a new id.
    let republished =
        scope.apply_source_snapshot(&first, &meta(2, "2026-12-01T06:00:00Z", 12)).await.unwrap();

    assert_eq!(redelivered, ApplyOutcome::Duplicate);
    assert_eq!(republished, ApplyOutcome::Duplicate);
    let states = scope.source_states().await.unwrap();
    assert_eq!(states[0].snapshot_id, uuid::Uuid::from_u128(1));
    assert_eq!(states[0].stream_sequence, 10);
}

#[tokio::test]
async fn stale_snapshots_skipped() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let current = entra_snapshot(&["u-1001"]);
    scope.apply_source_snapshot(&current, &meta(1, "2026-12-01T07:00:00Z", 10)).await.unwrap();

    // Collected earlier but published later, as after a connector's outage.
    let older = entra_snapshot(&["u-1001", "u-1099"]);
    let earlier =
        scope.apply_source_snapshot(&older, &meta(2, "2026-12-01T06:00:00Z", 50)).await.unwrap();
    // Collected at the same instant with other content, at a lower sequence.
    let lower =
        scope.apply_source_snapshot(&older, &meta(3, "2026-12-01T07:00:00Z", 9)).await.unwrap();

    for outcome in [earlier, lower] {
        match outcome {
            ApplyOutcome::Stale { current } => {
                assert_eq!(current.snapshot_id, uuid::Uuid::from_u128(1));
            }
            other => panic!("expected a stale outcome, got {other:?}"),
        }
    }
    let loaded = scope.load_tenant_data().await.unwrap();
    assert_eq!(loaded.sources, vec![current]);
}

#[tokio::test]
async fn newer_snapshot_replaces() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let first = entra_snapshot(&["u-1001", "u-1002"]);
    let second = entra_snapshot(&["u-1002"]);
    scope.apply_source_snapshot(&first, &meta(1, "2026-12-01T06:00:00Z", 10)).await.unwrap();

    // A later collection wins even at a lower sequence: the stream may have been recreated.
    let outcome =
        scope.apply_source_snapshot(&second, &meta(2, "2026-12-01T08:00:00Z", 3)).await.unwrap();

    assert_eq!(outcome, ApplyOutcome::Applied);
    let loaded = scope.load_tenant_data().await.unwrap();
    assert_eq!(loaded.sources, vec![second]);
    assert_eq!(scope.source_states().await.unwrap()[0].stream_sequence, 3);
}

#[tokio::test]
async fn hr_directory_snapshot_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;

    let snapshot = SourceSnapshot::new(SourceId::hr());
    let result = store
        .tenant(&tenant)
        .apply_source_snapshot(&snapshot, &meta(1, "2026-12-01T06:00:00Z", 1))
        .await;

    assert!(matches!(result, Err(StoreError::HrAsDirectory { .. })), "{result:?}");
}

#[tokio::test]
async fn unknown_tenant_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = tenant_id("never-added");

    let result = store
        .tenant(&tenant)
        .apply_source_snapshot(&entra_snapshot(&["u-1"]), &meta(1, "2026-12-01T06:00:00Z", 1))
        .await;

    match result {
        Err(StoreError::UnknownTenant { tenant }) => assert_eq!(tenant.as_str(), "never-added"),
        other => panic!("expected an unknown tenant, got {other:?}"),
    }
}

#[tokio::test]
async fn nul_character_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let mut snapshot = entra_snapshot(&["u-1001", "u-1002"]);
    snapshot.accounts[1].job_title = Some("Nurse\0".into());

    let result = store
        .tenant(&tenant)
        .apply_source_snapshot(&snapshot, &meta(1, "2026-12-01T06:00:00Z", 1))
        .await;

    match result {
        Err(StoreError::NulCharacter { path }) => assert_eq!(path, "accounts[1].job_title"),
        other => panic!("expected a NUL character error, got {other:?}"),
    }
    assert!(store.tenant(&tenant).source_states().await.unwrap().is_empty());
}

#[tokio::test]
async fn sequence_above_bigint_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;

    let result = store
        .tenant(&tenant)
        .apply_source_snapshot(
            &entra_snapshot(&["u-1"]),
            &meta(1, "2026-12-01T06:00:00Z", u64::MAX),
        )
        .await;

    assert!(matches!(result, Err(StoreError::SequenceOutOfRange(u64::MAX))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_applies_keep_newest() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let older = entra_snapshot(&["u-1001"]);
    let newer = entra_snapshot(&["u-1002"]);

    // Both race for the first cursor row of the source, in either order.
    let apply = |snapshot: SourceSnapshot, id: u128, collected_at: &'static str| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let snapshot_meta = meta(id, collected_at, 1);
            store.tenant(&tenant).apply_source_snapshot(&snapshot, &snapshot_meta).await.unwrap()
        })
    };
    let first = apply(older, 1, "2026-12-01T06:00:00Z");
    let second = apply(newer.clone(), 2, "2026-12-01T07:00:00Z");
    first.await.unwrap();
    let newer_outcome = second.await.unwrap();

    assert_eq!(newer_outcome, ApplyOutcome::Applied);
    let loaded = store.tenant(&tenant).load_tenant_data().await.unwrap();
    assert_eq!(loaded.sources, vec![newer]);
}

/// A snapshot whose stored JSON was changed by hand into another shape, and one whose
/// column was emptied, load as an error that names the table and the row, not a panic.
#[tokio::test]
async fn changed_snapshot_content_is_a_corrupt_row() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let snapshot = entra_snapshot(&["u-1", "u-2"]);
    scope.apply_source_snapshot(&snapshot, &meta(1, "2026-12-01T06:00:00Z", 1)).await.unwrap();
    let admin = db.admin_pool().await;

    for (change, expected) in [
        ("UPDATE rollcall.source_snapshots SET accounts = '[{\"id\": 5}]'", "invalid type"),
        ("UPDATE rollcall.source_snapshots SET accounts = '{}'", "expected a sequence"),
    ] {
        sqlx::query(change).execute(&admin).await.unwrap();
        let error = scope.load_tenant_data().await.unwrap_err();
        let StoreError::CorruptRow { table, key, reason } = &error else {
            panic!("not a corrupt row: {error}");
        };
        assert_eq!(*table, "source_snapshots");
        assert_eq!(key, &format!("oakridge/{}", snapshot.source));
        assert!(reason.contains(expected), "{change}: {reason}");
    }
}
