//! Recording evaluations as diffs of opened, updated and resolved findings.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::Severity;
use rollcall_store::{FindingDiff, FindingStatus, StoreError};
use support::TestDb;
use support::fixtures::{EXAMPLE_AS_OF, add_tenant, at, finding, harborview};

fn ids(findings: &[&rollcall_core::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.id.clone()).collect()
}

#[tokio::test]
async fn diff_reports_each_change_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let a = finding("oakridge", "a", Severity::High);
    let b = finding("oakridge", "b", Severity::Low);
    let c = finding("oakridge", "c", Severity::Medium);
    let all = vec![a.clone(), b.clone(), c.clone()];

    let first = scope.record_findings(at("2026-12-01T15:00:00Z"), &all).await.unwrap();
    let repeat = scope.record_findings(at("2026-12-01T15:00:00Z"), &all).await.unwrap();
    let next_day = scope.record_findings(at("2026-12-02T15:00:00Z"), &all).await.unwrap();

    assert_eq!(first.opened, ids(&[&a, &b, &c]));
    assert!(first.updated.is_empty());
    assert!(first.resolved.is_empty());
    assert_eq!(repeat, FindingDiff::default());
    assert_eq!(next_day, FindingDiff::default());

    let without_c = vec![a.clone(), b.clone()];
    let resolved = scope.record_findings(at("2026-12-03T15:00:00Z"), &without_c).await.unwrap();
    let resolved_again =
        scope.record_findings(at("2026-12-03T15:00:00Z"), &without_c).await.unwrap();
    let later = scope.record_findings(at("2026-12-04T15:00:00Z"), &without_c).await.unwrap();

    assert_eq!(resolved.resolved, ids(&[&c]));
    assert!(resolved.opened.is_empty());
    assert!(resolved.updated.is_empty());
    assert_eq!(resolved_again, FindingDiff::default());
    assert_eq!(later, FindingDiff::default());
}

#[tokio::test]
async fn resolved_finding_reopens_with_first_seen() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let a = finding("oakridge", "a", Severity::High);
    scope.record_findings(at("2026-12-01T15:00:00Z"), std::slice::from_ref(&a)).await.unwrap();
    scope.record_findings(at("2026-12-02T15:00:00Z"), &[]).await.unwrap();

    let back =
        scope.record_findings(at("2026-12-03T15:00:00Z"), std::slice::from_ref(&a)).await.unwrap();

    assert_eq!(back.opened, ids(&[&a]));
    let stored = scope.findings(FindingStatus::Open).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].first_seen, at("2026-12-01T15:00:00Z"));
    assert_eq!(stored[0].last_seen, at("2026-12-03T15:00:00Z"));
    assert_eq!(stored[0].resolved_at, None);
}

#[tokio::test]
async fn changed_severity_is_updated_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let low = finding("oakridge", "a", Severity::Low);
    let high = finding("oakridge", "a", Severity::High);
    scope.record_findings(at("2026-12-01T15:00:00Z"), std::slice::from_ref(&low)).await.unwrap();

    let changed = scope.record_findings(at("2026-12-02T15:00:00Z"), std::slice::from_ref(&high));
    let changed = changed.await.unwrap();
    let unchanged = scope.record_findings(at("2026-12-03T15:00:00Z"), std::slice::from_ref(&high));
    let unchanged = unchanged.await.unwrap();

    assert_eq!(changed.updated, ids(&[&high]));
    assert!(changed.opened.is_empty());
    assert!(changed.resolved.is_empty());
    assert_eq!(unchanged, FindingDiff::default());
    let stored = scope.findings(FindingStatus::All).await.unwrap();
    assert_eq!(stored[0].finding, high);
}

#[tokio::test]
async fn findings_read_back_with_lifecycle() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let a = finding("oakridge", "a", Severity::High);
    let b = finding("oakridge", "b", Severity::Low);
    scope.record_findings(at("2026-12-01T15:00:00Z"), &[a.clone(), b.clone()]).await.unwrap();
    scope.record_findings(at("2026-12-02T15:00:00Z"), std::slice::from_ref(&a)).await.unwrap();

    let open = scope.findings(FindingStatus::Open).await.unwrap();
    let all = scope.findings(FindingStatus::All).await.unwrap();

    assert_eq!(open.len(), 1);
    assert_eq!(open[0].finding, a);
    assert_eq!(open[0].last_in_effect, at("2026-12-02T15:00:00Z"));
    let resolved = all.iter().find(|f| f.finding.id == b.id).unwrap();
    assert_eq!(resolved.finding, b);
    assert_eq!(resolved.resolved_at, Some(at("2026-12-02T15:00:00Z")));
    assert_eq!(resolved.last_in_effect, at("2026-12-02T15:00:00Z"));
    assert_eq!(resolved.last_seen, at("2026-12-01T15:00:00Z"));
}

#[tokio::test]
async fn older_evaluation_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let a = finding("oakridge", "a", Severity::High);
    scope.record_findings(at("2026-12-02T15:00:00Z"), std::slice::from_ref(&a)).await.unwrap();

    let result = scope.record_findings(at("2026-12-01T15:00:00Z"), &[]).await;

    match result {
        Err(StoreError::StaleEvaluation { at: rejected, last, .. }) => {
            assert_eq!(rejected, at("2026-12-01T15:00:00Z"));
            assert_eq!(last, at("2026-12-02T15:00:00Z"));
        }
        other => panic!("expected a stale evaluation, got {other:?}"),
    }
    assert_eq!(scope.findings(FindingStatus::Open).await.unwrap().len(), 1);
}

#[tokio::test]
async fn duplicate_finding_id_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let a = finding("oakridge", "a", Severity::High);

    let twice = [a.clone(), a.clone()];
    let result = store.tenant(&tenant).record_findings(at("2026-12-01T15:00:00Z"), &twice).await;

    match result {
        Err(StoreError::DuplicateFinding(id)) => assert_eq!(id, a.id),
        other => panic!("expected a duplicate finding error, got {other:?}"),
    }
}

#[tokio::test]
async fn non_empty_diffs_are_audited() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let a = finding("oakridge", "a", Severity::High);
    scope.record_findings(at("2026-12-01T15:00:00Z"), std::slice::from_ref(&a)).await.unwrap();
    scope.record_findings(at("2026-12-02T15:00:00Z"), std::slice::from_ref(&a)).await.unwrap();
    scope.record_findings(at("2026-12-03T15:00:00Z"), &[]).await.unwrap();

    let entries = scope.audit_entries(0, 100).await.unwrap();

    assert_eq!(entries.len(), 2);
    let opened: serde_json::Value = serde_json::from_str(&entries[0].detail).unwrap();
    let resolved: serde_json::Value = serde_json::from_str(&entries[1].detail).unwrap();
    assert_eq!(entries[0].action, "findings.recorded");
    assert_eq!(opened["opened"], serde_json::json!([a.id]));
    assert_eq!(resolved["resolved"], serde_json::json!([a.id]));
    assert_eq!(entries[1].recorded_at, at("2026-12-03T15:00:00Z"));
}

#[tokio::test]
async fn harborview_evaluation_recorded_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (tenant, data) = harborview();
    let evaluation = rollcall_core::evaluate(&tenant, &data, at(EXAMPLE_AS_OF));
    let tenant_id = add_tenant(&store, tenant.id.as_str()).await;
    let scope = store.tenant(&tenant_id);

    let first = scope.record_findings(at(EXAMPLE_AS_OF), &evaluation.findings).await.unwrap();
    let repeat = scope.record_findings(at(EXAMPLE_AS_OF), &evaluation.findings).await.unwrap();

    assert!(evaluation.findings.len() > 10, "the example plants every finding kind");
    assert_eq!(first.opened.len(), evaluation.findings.len());
    assert_eq!(repeat, FindingDiff::default());
    let mut stored: Vec<_> =
        scope.findings(FindingStatus::Open).await.unwrap().into_iter().map(|f| f.finding).collect();
    let mut expected = evaluation.findings.clone();
    stored.sort_by(|x, y| x.id.cmp(&y.id));
    expected.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(stored, expected);
}
