//! Tenant isolation. Tenant A's scope never reads or changes tenant B's rows through any
//! public store function, and the database itself rejects cross-tenant SQL that the API
//! cannot express.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::model::{HrSnapshot, Worker};
use rollcall_core::{Severity, TenantId};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{
    ApplyOutcome, AuditEntry, ChainVerification, FindingStatus, Store, StoreError, TenantProfile,
};
use serde_json::json;
use support::fixtures::{add_tenant, at, entra_snapshot, finding, meta};
use support::{APP, TestDb, count_as_tenant};
use uuid::Uuid;

const A: &str = "oakridge";
const B: &str = "lakeside";

fn hr_event(tenant: &TenantId, event_id: u128) -> HrEvent {
    HrEvent {
        event_id: Uuid::from_u128(event_id),
        tenant: tenant.clone(),
        event_type: HrEventType::Termination,
        employee_id: "E2001".into(),
        effective_at: at("2026-11-30T23:00:00Z"),
        time_zone: chrono_tz::America::Chicago,
        reason: Some("voluntary resignation".into()),
        manager_employee_id: None,
        received_at: at("2026-12-01T14:00:00Z"),
        sender: HrEventSender::Webhook,
        worker: Some(Worker::new("E2001")),
        corrected_event_id: None,
    }
}

fn roster() -> HrSnapshot {
    HrSnapshot { collected_at: None, workers: vec![Worker::new("E2001"), Worker::new("E2002")] }
}

/// Gives tenant B one of everything, old enough for retention to apply to.
async fn seed_b(store: &Store) -> TenantId {
    let b = add_tenant(store, B).await;
    let scope = store.tenant(&b);
    let snapshot = entra_snapshot(&["u-2001", "u-2002"]);
    scope.apply_source_snapshot(&snapshot, &meta(1, "2026-12-01T06:00:00Z", 1)).await.unwrap();
    scope.apply_hr_roster(&roster(), &meta(2, "2026-12-01T06:00:00Z", 2)).await.unwrap();
    let findings = [finding(B, "b1", Severity::High), finding(B, "b2", Severity::Low)];
    scope.record_findings(at("2018-01-01T00:00:00Z"), &findings).await.unwrap();
    scope.record_findings(at("2019-01-01T00:00:00Z"), &findings[..1]).await.unwrap();
    scope
        .append_audit(&AuditEntry {
            at: at("2019-01-02T00:00:00Z"),
            actor: "msp-admin".into(),
            action: "tenant.onboarded".into(),
            detail: json!({}),
        })
        .await
        .unwrap();
    assert!(scope.record_processed_message("engine", "m-1").await.unwrap());
    assert!(scope.record_hr_event(&hr_event(&b, 7)).await.unwrap());
    b
}

/// Everything tenant B holds, read through B's own scope.
#[derive(Debug, PartialEq)]
struct Holdings {
    profile: Option<TenantProfile>,
    states: Vec<rollcall_store::SourceState>,
    sources: Vec<rollcall_core::model::SourceSnapshot>,
    hr: Option<HrSnapshot>,
    findings: Vec<rollcall_store::StoredFinding>,
    audit: Vec<rollcall_store::AuditRecord>,
    chain: ChainVerification,
    hr_events: Vec<HrEvent>,
}

async fn holdings(store: &Store, tenant: &TenantId) -> Holdings {
    let scope = store.tenant(tenant);
    let data = scope.load_tenant_data().await.unwrap();
    Holdings {
        profile: scope.tenant_profile().await.unwrap(),
        states: scope.source_states().await.unwrap(),
        sources: data.sources,
        hr: data.hr,
        findings: scope.findings(FindingStatus::All).await.unwrap(),
        audit: scope.audit_entries(0, 1000).await.unwrap(),
        chain: scope.verify_audit_chain().await.unwrap(),
        hr_events: scope.hr_events_since(at("2000-01-01T00:00:00Z")).await.unwrap(),
    }
}

#[tokio::test]
async fn scope_never_reaches_other_tenant() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let b = seed_b(&store).await;
    let before = holdings(&store, &b).await;
    let a = add_tenant(&store, A).await;
    let scope = store.tenant(&a);

    // Reads through A's scope see none of B's rows.
    let empty = scope.load_tenant_data().await.unwrap();
    assert!(empty.sources.is_empty());
    assert!(empty.hr.is_none());
    assert!(scope.source_states().await.unwrap().is_empty());
    assert!(scope.findings(FindingStatus::All).await.unwrap().is_empty());
    assert!(scope.audit_entries(0, 1000).await.unwrap().is_empty());
    assert_eq!(
        scope.verify_audit_chain().await.unwrap(),
        ChainVerification::Intact { anchor_seq: 0, head_seq: 0 }
    );
    assert!(scope.hr_events_since(at("2000-01-01T00:00:00Z")).await.unwrap().is_empty());
    assert_eq!(scope.tenant_profile().await.unwrap().unwrap().name, "oakridge practice");

    // Writes through A's scope land in A's rows: B's snapshot id and cursor do not count
    // for A, and the same ids are new for A.
    let renamed = TenantProfile { name: "Renamed".into(), time_zone: chrono_tz::UTC };
    scope.upsert_tenant(&renamed).await.unwrap();
    let snapshot = entra_snapshot(&["u-1001"]);
    let snapshot_meta = meta(1, "2026-12-01T05:00:00Z", 1);
    let applied = scope.apply_source_snapshot(&snapshot, &snapshot_meta).await.unwrap();
    assert_eq!(applied, ApplyOutcome::Applied);
    let (workers, roster_meta) = (roster(), meta(2, "2026-12-01T05:00:00Z", 2));
    let roster_applied = scope.apply_hr_roster(&workers, &roster_meta).await.unwrap();
    assert_eq!(roster_applied, ApplyOutcome::Applied);
    let diff = scope.record_findings(at("2018-06-01T00:00:00Z"), &[]).await.unwrap();
    assert!(diff.resolved.is_empty(), "A's empty evaluation resolved {:?}", diff.resolved);
    let own = [finding(A, "a1", Severity::High)];
    scope.record_findings(at("2018-07-01T00:00:00Z"), &own).await.unwrap();
    scope.record_findings(at("2018-08-01T00:00:00Z"), &[]).await.unwrap();
    let appended = scope
        .append_audit(&AuditEntry {
            at: at("2019-01-03T00:00:00Z"),
            actor: "msp-admin".into(),
            action: "tenant.onboarded".into(),
            detail: json!({}),
        })
        .await
        .unwrap();
    assert_eq!(appended.seq, 3, "A's chain continues A's own entries only");
    assert!(scope.record_processed_message("engine", "m-1").await.unwrap());
    assert!(scope.record_hr_event(&hr_event(&a, 7)).await.unwrap());
    let report = scope.apply_retention(at("2040-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(report.findings_removed, vec![own[0].id.clone()]);

    // Records that name B are rejected before any SQL runs.
    let foreign_findings = [finding(B, "b1", Severity::Critical)];
    let result = scope.record_findings(at("2019-02-01T00:00:00Z"), &foreign_findings).await;
    assert!(matches!(result, Err(StoreError::TenantMismatch { .. })), "{result:?}");
    let result = scope.record_hr_event(&hr_event(&b, 8)).await;
    assert!(matches!(result, Err(StoreError::TenantMismatch { .. })), "{result:?}");

    // B's processed message is still recorded for B alone.
    assert!(!store.tenant(&b).record_processed_message("engine", "m-1").await.unwrap());
    assert_eq!(holdings(&store, &b).await, before);
}

#[tokio::test]
async fn database_rejects_cross_tenant_sql() {
    let db = TestDb::create().await;
    let store = db.store().await;
    seed_b(&store).await;
    add_tenant(&store, A).await;
    let app = db.pool_as(APP).await;

    // The runtime role with A's setting, writing SQL that names B directly.
    for statement in [
        "UPDATE rollcall.findings SET summary = 'changed' WHERE tenant_id = 'lakeside'",
        "DELETE FROM rollcall.findings WHERE tenant_id = 'lakeside'",
        "DELETE FROM rollcall.audit_log WHERE tenant_id = 'lakeside'",
        "UPDATE rollcall.source_snapshots SET accounts = '[]' WHERE tenant_id = 'lakeside'",
        "UPDATE rollcall.tenants SET name = 'changed' WHERE tenant_id = 'lakeside'",
    ] {
        let mut tx = app.begin().await.unwrap();
        sqlx::query("SELECT set_config('rollcall.tenant_id', 'oakridge', true)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let affected = sqlx::query(statement).execute(&mut *tx).await.unwrap().rows_affected();
        tx.commit().await.unwrap();
        assert_eq!(affected, 0, "{statement}");
    }

    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', 'oakridge', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let insert = sqlx::query(
        "INSERT INTO rollcall.processed_messages (tenant_id, consumer, message_id) \
         VALUES ('lakeside', 'engine', 'planted')",
    )
    .execute(&mut *tx)
    .await;
    let error = insert.unwrap_err();
    assert!(
        error.to_string().contains("violates row-level security policy"),
        "unexpected error: {error}"
    );
    drop(tx);

    // With no tenant set, the runtime role reads no rows at all.
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rollcall.findings").fetch_one(&app).await.unwrap();
    assert_eq!(count, 0);
    assert_eq!(count_as_tenant(&app, B, "SELECT count(*) FROM rollcall.findings").await, 2);
}
