//! Retention: what is removed after six years, what stays, and how it is logged.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::Severity;
use rollcall_store::{AuditEntry, ChainVerification, FindingStatus};
use serde_json::json;
use support::TestDb;
use support::fixtures::{add_tenant, at, finding};

/// The retention run's instant; six years earlier is 2020-12-01T15:00:00Z.
const AS_OF: &str = "2026-12-01T15:00:00Z";
const CUTOFF: &str = "2020-12-01T15:00:00Z";

#[tokio::test]
async fn removes_only_what_is_older_than_six_years() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let [f1, f2, f3, f4] = ["f1", "f2", "f3", "f4"].map(|d| finding("oakridge", d, Severity::Low));

    // Each evaluation with a change appends one audit entry, at the evaluation's instant.
    let evaluations = [
        ("2019-01-01T00:00:00Z", vec![f1.clone(), f2.clone(), f3.clone(), f4.clone()]),
        // f1 resolved before the cutoff: removed.
        ("2020-06-01T00:00:00Z", vec![f2.clone(), f3.clone(), f4.clone()]),
        // f2 resolved exactly at the cutoff: not older than six years, kept.
        (CUTOFF, vec![f3.clone(), f4.clone()]),
        // f3 resolved after the cutoff: kept. f4 stays open: kept whatever its age.
        ("2021-01-01T00:00:00Z", vec![f4.clone()]),
    ];
    for (instant, findings) in &evaluations {
        scope.record_findings(at(instant), findings).await.unwrap();
    }
    // An entry dated before the cutoff but appended after newer ones: the chain is trimmed
    // from its oldest end only, so it stays.
    let late = AuditEntry {
        at: at("2018-05-05T00:00:00Z"),
        actor: "msp-admin".into(),
        action: "policy.backdated".into(),
        detail: json!({}),
    };
    scope.append_audit(&late).await.unwrap();

    let report = scope.apply_retention(at(AS_OF)).await.unwrap();

    assert_eq!(report.cutoff, at(CUTOFF));
    assert_eq!(report.findings_removed, vec![f1.id.clone()]);
    assert_eq!(report.audit_removed, Some((1, 2)));
    let mut remaining: Vec<String> = scope
        .findings(FindingStatus::All)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.finding.id)
        .collect();
    remaining.sort();
    let mut expected = vec![f2.id.clone(), f3.id.clone(), f4.id.clone()];
    expected.sort();
    assert_eq!(remaining, expected);
    let entries = scope.audit_entries(0, 100).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert_eq!(
        scope.verify_audit_chain().await.unwrap(),
        ChainVerification::Intact { anchor_seq: 2, head_seq: 6 }
    );
}

#[tokio::test]
async fn removal_is_logged_in_the_chain() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let old = finding("oakridge", "old", Severity::Low);
    scope.record_findings(at("2019-01-01T00:00:00Z"), std::slice::from_ref(&old)).await.unwrap();
    scope.record_findings(at("2019-02-01T00:00:00Z"), &[]).await.unwrap();

    let report = scope.apply_retention(at(AS_OF)).await.unwrap();

    let record = report.recorded_as.unwrap();
    assert_eq!(record.seq, 3);
    assert_eq!(record.action, "retention.applied");
    assert_eq!(record.actor, rollcall_store::STORE_ACTOR);
    assert_eq!(record.recorded_at, at(AS_OF));
    let detail: serde_json::Value = serde_json::from_str(&record.detail).unwrap();
    assert_eq!(
        detail,
        json!({
            "cutoff": CUTOFF,
            "findings_removed": [old.id],
            "campaigns_removed": [],
            "remediation_tasks_removed": [],
            "audit_removed": {"first_seq": 1, "last_seq": 2},
        })
    );
    let entries = scope.audit_entries(0, 100).await.unwrap();
    assert_eq!(entries, vec![record]);
}

#[tokio::test]
async fn second_run_removes_and_logs_nothing() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let old = finding("oakridge", "old", Severity::Low);
    scope.record_findings(at("2019-01-01T00:00:00Z"), std::slice::from_ref(&old)).await.unwrap();
    scope.record_findings(at("2019-02-01T00:00:00Z"), &[]).await.unwrap();
    scope.apply_retention(at(AS_OF)).await.unwrap();

    let again = scope.apply_retention(at(AS_OF)).await.unwrap();

    assert!(again.findings_removed.is_empty());
    assert_eq!(again.audit_removed, None);
    assert_eq!(again.recorded_as, None);
    assert_eq!(
        scope.verify_audit_chain().await.unwrap(),
        ChainVerification::Intact { anchor_seq: 2, head_seq: 3 }
    );
}

#[tokio::test]
async fn nothing_recent_is_removed() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let recent = finding("oakridge", "recent", Severity::Low);
    scope.record_findings(at("2025-01-01T00:00:00Z"), std::slice::from_ref(&recent)).await.unwrap();
    scope.record_findings(at("2025-02-01T00:00:00Z"), &[]).await.unwrap();

    let report = scope.apply_retention(at(AS_OF)).await.unwrap();

    assert!(report.findings_removed.is_empty());
    assert_eq!(report.audit_removed, None);
    assert_eq!(scope.findings(FindingStatus::All).await.unwrap().len(), 1);
    assert_eq!(scope.audit_entries(0, 100).await.unwrap().len(), 2);
}
