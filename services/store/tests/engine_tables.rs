//! The tables the engine added: tenant configuration texts, the finding outbox written
//! with the diff, pipeline problems, the work directory, base-checked applies and
//! advisory locks. Each is also checked against another tenant's rows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use prost::Message as _;
use rollcall_core::Severity;
use rollcall_proto::v1;
use rollcall_store::{
    ApplyOptions, ApplyOutcome, PipelineProblem, ProblemKind, TenantConfigText, TenantProfile,
    finding_event_id,
};
use serde_json::json;
use support::fixtures::{add_tenant, at, entra_snapshot, finding, meta, tenant_id};
use support::{APP, TestDb, count_as_tenant};
use uuid::Uuid;

const A: &str = "oakridge";
const B: &str = "lakeside";

fn profile() -> TenantProfile {
    TenantProfile { name: "Oakridge".into(), time_zone: chrono_tz::America::Chicago }
}

fn config_text(name: &str) -> TenantConfigText {
    TenantConfigText {
        tenant_yaml: format!("tenant:\n  id: {A}\n  name: {name}\n  time_zone: America/Chicago\n"),
        policy_yaml: None,
    }
}

#[tokio::test]
async fn tenant_config_stored_once_per_change() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = tenant_id(A);
    let scope = store.tenant(&a);
    assert!(scope.tenant_config().await.unwrap().is_none());

    assert!(scope.apply_tenant_config(&profile(), &config_text("Oakridge"), "test").await.unwrap());
    assert!(
        !scope.apply_tenant_config(&profile(), &config_text("Oakridge"), "test").await.unwrap()
    );
    let stored = scope.tenant_config().await.unwrap().unwrap();
    assert_eq!(stored.text, config_text("Oakridge"));
    assert_eq!(scope.work().await.unwrap().unwrap().state_version, 1);

    assert!(
        scope.apply_tenant_config(&profile(), &config_text("Oakridge FM"), "test").await.unwrap()
    );
    assert_eq!(scope.work().await.unwrap().unwrap().state_version, 2);
    let entries = scope.audit_entries(0, 10).await.unwrap();
    let applied = entries.iter().filter(|e| e.action == "tenant_config.applied").count();
    assert_eq!(applied, 2);

    // Another tenant's scope sees none of it.
    let b = add_tenant(&store, B).await;
    assert!(store.tenant(&b).tenant_config().await.unwrap().is_none());
    let pool = db.pool_as(APP).await;
    assert_eq!(count_as_tenant(&pool, B, "SELECT count(*) FROM rollcall.tenant_config").await, 0);
    assert_eq!(count_as_tenant(&pool, A, "SELECT count(*) FROM rollcall.tenant_config").await, 1);
}

#[tokio::test]
async fn evaluation_writes_one_outbox_event_per_change() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let scope = store.tenant(&a);
    let first = [finding(A, "a1", Severity::High), finding(A, "a2", Severity::Low)];
    let recorded = scope.record_evaluation(at("2026-12-01T15:00:00Z"), &first, 3).await.unwrap();
    assert_eq!(recorded.events, 2);
    let work = scope.work().await.unwrap().unwrap();
    assert!(work.outbox_pending);
    assert_eq!(work.evaluated_version, 3);

    // a1 changes severity, a2 goes away, a3 appears.
    let mut changed = finding(A, "a1", Severity::Critical);
    changed.summary = first[0].summary.clone();
    let second = [changed, finding(A, "a3", Severity::Low)];
    let recorded = scope.record_evaluation(at("2026-12-01T16:00:00Z"), &second, 4).await.unwrap();
    assert_eq!(recorded.events, 3);
    // The same evaluation again changes nothing.
    let again = scope.record_evaluation(at("2026-12-01T16:00:00Z"), &second, 4).await.unwrap();
    assert_eq!(again.events, 0);

    let events = scope.unpublished_events(100).await.unwrap();
    let decoded: Vec<v1::FindingEvent> =
        events.iter().map(|e| v1::FindingEvent::decode(e.payload.as_slice()).unwrap()).collect();
    let kinds: Vec<(String, i32)> =
        decoded.iter().map(|e| (e.finding.as_ref().unwrap().id.clone(), e.r#type)).collect();
    let opened = v1::FindingEventType::Opened as i32;
    let updated = v1::FindingEventType::Updated as i32;
    let resolved = v1::FindingEventType::Resolved as i32;
    assert_eq!(
        kinds,
        [
            (first[0].id.clone(), opened),
            (first[1].id.clone(), opened),
            (second[1].id.clone(), opened),
            (first[0].id.clone(), updated),
            (first[1].id.clone(), resolved),
        ]
    );
    // Ids are the documented function of tenant, finding, type, instant and version.
    let expected = finding_event_id(
        A,
        &first[1].id,
        v1::FindingEventType::Resolved,
        at("2026-12-01T16:00:00Z"),
        4,
    );
    assert_eq!(events[4].event_id, expected);
    assert_eq!(decoded[4].event_id, expected.hyphenated().to_string());

    // Another tenant sees no events; marking all published clears the flag.
    let b = add_tenant(&store, B).await;
    assert!(store.tenant(&b).unpublished_events(100).await.unwrap().is_empty());
    for event in &events {
        scope.mark_published(event.event_id).await.unwrap();
    }
    assert!(scope.unpublished_events(100).await.unwrap().is_empty());
    assert!(!scope.work().await.unwrap().unwrap().outbox_pending);
    assert!(store.pending_work().await.unwrap().iter().all(|w| w.tenant != a));
}

#[tokio::test]
async fn pipeline_problems_open_refresh_and_resolve() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let b = add_tenant(&store, B).await;
    let scope = store.tenant(&a);
    let problem = |reason: &str| PipelineProblem {
        kind: ProblemKind::DeadLetter,
        source: "entra".into(),
        detail: json!({ "reason": reason }),
        opened_at: at("2026-12-01T15:00:00Z"),
    };
    scope.open_pipeline_problem(&problem("first")).await.unwrap();
    scope.open_pipeline_problem(&problem("second")).await.unwrap();
    let open = scope.pipeline_problems().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].detail, json!({ "reason": "second" }));
    assert!(store.tenant(&b).pipeline_problems().await.unwrap().is_empty());
    assert!(
        !store.tenant(&b).resolve_pipeline_problem(ProblemKind::DeadLetter, "entra").await.unwrap()
    );
    assert_eq!(scope.pipeline_problems().await.unwrap().len(), 1);

    let version = scope.work().await.unwrap().unwrap().state_version;
    assert!(scope.resolve_pipeline_problem(ProblemKind::DeadLetter, "entra").await.unwrap());
    assert!(scope.pipeline_problems().await.unwrap().is_empty());
    assert_eq!(scope.work().await.unwrap().unwrap().state_version, version + 1);
}

#[tokio::test]
async fn base_checked_apply_and_work_directory() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let scope = store.tenant(&a);
    let audited = ApplyOptions { expected_base: None, audit_actor: Some("test".into()) };
    let first = scope
        .apply_source_snapshot_with(
            &entra_snapshot(&["u-1"]),
            &meta(1, "2026-12-01T06:00:00Z", 1),
            &audited,
        )
        .await
        .unwrap();
    assert_eq!(first, ApplyOutcome::Applied);
    let entries = scope.audit_entries(0, 10).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.action == "snapshot.applied").count(), 1);

    let on_other_base = ApplyOptions { expected_base: Some(Uuid::from_u128(9)), audit_actor: None };
    let outcome = scope
        .apply_source_snapshot_with(
            &entra_snapshot(&["u-2"]),
            &meta(2, "2026-12-01T07:00:00Z", 2),
            &on_other_base,
        )
        .await
        .unwrap();
    assert_eq!(outcome, ApplyOutcome::BaseMismatch { current: Some(Uuid::from_u128(1)) });
    let on_base = ApplyOptions { expected_base: Some(Uuid::from_u128(1)), audit_actor: None };
    let outcome = scope
        .apply_source_snapshot_with(
            &entra_snapshot(&["u-2"]),
            &meta(2, "2026-12-01T07:00:00Z", 2),
            &on_base,
        )
        .await
        .unwrap();
    assert_eq!(outcome, ApplyOutcome::Applied);

    let work = store.pending_work().await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].tenant, a);
    assert_eq!(work[0].state_version, 2);
    assert!(work[0].needs_evaluation());
    assert_eq!(store.tenant_ids().await.unwrap(), [a]);
}

#[tokio::test]
async fn advisory_lock_excludes_a_second_holder() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = tenant_id(A);
    let b = tenant_id(B);
    let held = store.try_advisory_lock("test", &a).await.unwrap().unwrap();
    assert!(store.try_advisory_lock("test", &a).await.unwrap().is_none());
    let other = store.try_advisory_lock("test", &b).await.unwrap().unwrap();
    held.release().await;
    let again = store.try_advisory_lock("test", &a).await.unwrap();
    assert!(again.is_some());
    other.release().await;
    // Dropping a lock ends its transaction, and with it the lock.
    drop(again);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(store.try_advisory_lock("test", &a).await.unwrap().is_some());
}
