//! Retention of review evidence in a real PostgreSQL: a campaign is kept six years from
//! when the last access it covers ended, its audit entries with it, and a finished
//! remediation task six years from when it finished.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

mod common;

use chrono::{DateTime, Months, TimeDelta, Utc};
use rollcall_core::model::SourceId;
use rollcall_store::{
    ChainVerification, NewRemediationTask, SnapshotMeta, TaskKind, TaskState, TaskTransition,
    TenantScope,
};
use serde_json::json;
use support::TestDb;
use uuid::Uuid;

use common::{SIGNED_OFF, closed_campaign, example_config, example_tenant, now, present_keys};

const ENGINE: &str = "rollcall-engine";

/// Stores every directory source of the example again, collected at `at`, with no
/// memberships, so that no grant is left.
async fn remove_every_grant(scope: &TenantScope<'_>, at: DateTime<Utc>) {
    let loaded = rollcall_ingest::layout::load_tenant(&common::example_dir(), now()).unwrap();
    for (index, mut snapshot) in loaded.data.sources.into_iter().enumerate() {
        snapshot.memberships.clear();
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: at,
            stream_sequence: 1_000 + index as u64,
        };
        scope.apply_source_snapshot(&snapshot, &meta).await.unwrap();
    }
}

fn six_years_after(at: DateTime<Utc>) -> DateTime<Utc> {
    at.checked_add_months(Months::new(72)).unwrap()
}

async fn launch_seq(scope: &TenantScope<'_>, campaign: Uuid) -> u64 {
    let entries = scope.audit_entries(0, 100_000).await.unwrap();
    entries
        .iter()
        .find(|e| e.action == "review.launched" && e.detail.contains(&campaign.to_string()))
        .map(|e| e.seq)
        .expect("the launch entry")
}

#[tokio::test]
async fn campaign_kept_six_years_after_access_ended() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, _) = closed_campaign(&scope).await;

    // Every grant gone in syncs a day after the close.
    let ended = now() + TimeDelta::days(1);
    remove_every_grant(&scope, ended).await;
    let present = present_keys(&scope, &example_config()).await;
    assert!(present.is_empty(), "{present:?}");
    scope.reconcile_revocations(&present, ended, TimeDelta::days(7), ENGINE).await.unwrap();
    let revocations = scope.review_revocations(Some(campaign)).await.unwrap();
    assert!(revocations.iter().all(|r| r.verified_at == Some(ended)), "{revocations:?}");

    // A day short of six years: kept, with its launch entry.
    let early = six_years_after(ended) - TimeDelta::days(1);
    let report = scope.apply_retention(early).await.unwrap();
    assert!(report.campaigns_removed.is_empty(), "{report:?}");
    assert!(scope.review_campaign(campaign).await.unwrap().is_some());
    let first = scope.audit_entries(0, 1).await.unwrap();
    assert!(first[0].seq <= launch_seq(&scope, campaign).await);

    // A day past six years: the campaign, its items, sign-offs and removals are gone.
    let late = six_years_after(ended) + TimeDelta::days(1);
    let report = scope.apply_retention(late).await.unwrap();
    assert_eq!(report.campaigns_removed, vec![campaign]);
    assert!(scope.review_campaign(campaign).await.unwrap().is_none());
    assert!(scope.review_items(campaign).await.unwrap().is_empty());
    assert!(scope.review_revocations(Some(campaign)).await.unwrap().is_empty());
    let recorded = report.recorded_as.unwrap();
    assert_eq!(recorded.action, "retention.applied");
    assert!(recorded.detail.contains(&campaign.to_string()));
    assert!(matches!(scope.verify_audit_chain().await.unwrap(), ChainVerification::Intact { .. }));
}

#[tokio::test]
async fn campaign_with_access_held_is_kept() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, _) = closed_campaign(&scope).await;
    let launched = launch_seq(&scope, campaign).await;

    // Approved grants are still held, so the access the campaign covers has not ended.
    let present = present_keys(&scope, &example_config()).await;
    scope.reconcile_revocations(&present, now(), TimeDelta::days(7), ENGINE).await.unwrap();
    let much_later = six_years_after(now()) + TimeDelta::days(400);
    let report = scope.apply_retention(much_later).await.unwrap();
    assert!(report.campaigns_removed.is_empty(), "{report:?}");
    assert!(scope.review_campaign(campaign).await.unwrap().is_some());

    // The older entries before the launch go, and the removal stops at the launch.
    let (_, last_removed) = report.audit_removed.expect("older entries removed");
    assert_eq!(last_removed, launched - 1);
    let entries = scope.audit_entries(0, 100_000).await.unwrap();
    assert!(entries.iter().any(|e| e.seq == launched));
    assert!(matches!(scope.verify_audit_chain().await.unwrap(), ChainVerification::Intact { .. }));
}

#[tokio::test]
async fn finished_remediation_tasks_expire() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let task = |account: &str| NewRemediationTask {
        kind: TaskKind::DisableLdapAccount,
        employee_id: "E1009".into(),
        source: SourceId::ldap(),
        account_id: format!("uid={account},ou=people,dc=harborview,dc=example"),
        login: Some(account.into()),
        privileged: false,
        epcs: false,
        grant: None,
    };
    let planned =
        scope.plan_remediation(&[task("done"), task("open")], ENGINE, now()).await.unwrap();
    let done_id = planned[0].0.task_id.clone();
    let open_id = planned[1].0.task_id.clone();
    let finished = now() + TimeDelta::hours(1);
    let transition = TaskTransition {
        state: TaskState::Done,
        attempt: true,
        error: None,
        detail: json!({ "mode": "enforce" }),
    };
    scope.transition_remediation_task(&done_id, &transition, ENGINE, finished).await.unwrap();

    let report =
        scope.apply_retention(six_years_after(finished) - TimeDelta::days(1)).await.unwrap();
    assert!(report.remediation_tasks_removed.is_empty(), "{report:?}");

    let report =
        scope.apply_retention(six_years_after(finished) + TimeDelta::days(1)).await.unwrap();
    assert_eq!(report.remediation_tasks_removed, vec![done_id.clone()]);
    assert!(scope.remediation_task(&done_id).await.unwrap().is_none());
    // A task never finished is in effect whatever its age.
    assert!(scope.remediation_task(&open_id).await.unwrap().is_some());
}
