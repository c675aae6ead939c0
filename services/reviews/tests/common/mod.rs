//! The example practice stored with a campaign definition, and a campaign taken to its
//! close, for the evidence tests of this crate, the engine and the CLI.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_core::context::Context;
use rollcall_core::model::Member;
use rollcall_core::{Tenant, TenantId};
use rollcall_reviews::{
    CampaignStatus, ReviewAction, ReviewActionKind, ReviewLaunch, all_grant_keys, launch_due,
};
use rollcall_store::{
    AuditEntry, SnapshotMeta, Store, TenantConfigText, TenantProfile, TenantScope,
};
use serde_json::json;
use uuid::Uuid;

/// A definition with a second stage and no default action at the deadline.
pub const SIGNED_OFF: &str = "
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E1003
      second_stage: E1001
    deadline_days: 14
    max_source_age: 72h
";

/// A definition that revokes undecided items at the deadline.
pub const REVOKE_AT_EXPIRY: &str = "
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E1003
    deadline_days: 14
    at_expiry: revoke
    max_source_age: 72h
";

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview")
}

/// Returns the launch instant: the example's as-of instant, 09:00 in Chicago.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T15:00:00Z").unwrap().with_timezone(&Utc)
}

/// Stores the example practice with `campaigns` appended to its tenant.yaml, every source
/// collected an hour before [`now`].
pub async fn example_tenant(store: &Store, campaigns: &str) -> TenantId {
    let dir = example_dir();
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap() + campaigns;
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let tenant = config.tenant;
    let id = tenant.id.clone();
    let scope = store.tenant(&id);
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml, policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "test").await.unwrap();

    let loaded = rollcall_ingest::layout::load_tenant(&dir, now()).unwrap();
    let collected = now() - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await.unwrap();
    }
    let roster = loaded.data.hr.clone().unwrap();
    let meta =
        SnapshotMeta { snapshot_id: Uuid::new_v4(), collected_at: collected, stream_sequence: 100 };
    scope.apply_hr_roster(&roster, &meta).await.unwrap();
    id
}

/// Launches the tenant's one definition at [`now`] and returns the campaign id.
pub async fn launched(scope: &TenantScope<'_>) -> Uuid {
    let launches = launch_due(scope, now()).await.unwrap();
    assert_eq!(launches.len(), 1, "{launches:?}");
    match launches[0].outcome {
        Ok(ReviewLaunch::Launched { campaign_id, .. }) => campaign_id,
        ref other => panic!("the campaign did not launch: {other:?}"),
    }
}

fn action(actor: &str, items: &[i32], kind: ReviewActionKind, why: Option<&str>) -> ReviewAction {
    ReviewAction {
        actor: actor.into(),
        at: now() + TimeDelta::hours(2),
        item_ids: items.to_vec(),
        kind,
        justification: why.map(str::to_owned),
    }
}

/// Takes a [`SIGNED_OFF`] campaign to its close: one item is delegated, every reviewer
/// revokes the items recommended for revocation and approves the others with a
/// justification, an unrelated audit entry is appended in between, and both stages sign
/// off. Returns the campaign id and the ids of the revoked items.
pub async fn closed_campaign(scope: &TenantScope<'_>) -> (Uuid, BTreeSet<i32>) {
    let campaign = launched(scope).await;
    let items = scope.review_items(campaign).await.unwrap();

    let delegated =
        items.iter().find(|i| i.reviewer == "hr:E1002" && i.reviewee != "hr:E1003").unwrap();
    let delegate = ReviewActionKind::Delegate { to: "hr:E1003".into() };
    scope
        .decide_review_items(campaign, &action("hr:E1002", &[delegated.item_id], delegate, None))
        .await
        .unwrap();

    // An entry about something else, which the pack withholds.
    let other = AuditEntry {
        at: now() + TimeDelta::hours(2),
        actor: "test".into(),
        action: "test.unrelated".into(),
        detail: json!({ "note": "not about the campaign" }),
    };
    scope.append_audit(&other).await.unwrap();

    let items = scope.review_items(campaign).await.unwrap();
    let reviewers: BTreeSet<String> = items.iter().map(|i| i.reviewer.clone()).collect();
    let mut revoked = BTreeSet::new();
    for reviewer in &reviewers {
        let (revoke, approve): (Vec<_>, Vec<_>) =
            items.iter().filter(|i| &i.reviewer == reviewer).partition(|i| i.recommend_revoke);
        let revoke: Vec<i32> = revoke.iter().map(|i| i.item_id).collect();
        let approve: Vec<i32> = approve.iter().map(|i| i.item_id).collect();
        if !revoke.is_empty() {
            scope
                .decide_review_items(
                    campaign,
                    &action(reviewer, &revoke, ReviewActionKind::Revoke, None),
                )
                .await
                .unwrap();
            revoked.extend(revoke);
        }
        if !approve.is_empty() {
            let why = Some("needed for the front desk, <b>confirmed</b> \"by phone\", a,b");
            scope
                .decide_review_items(
                    campaign,
                    &action(reviewer, &approve, ReviewActionKind::Approve, why),
                )
                .await
                .unwrap();
        }
        scope.sign_off_review(campaign, reviewer, now() + TimeDelta::hours(3)).await.unwrap();
    }
    let status =
        scope.sign_off_review(campaign, "hr:E1001", now() + TimeDelta::hours(4)).await.unwrap();
    assert_eq!(status, CampaignStatus::Closed);
    (campaign, revoked)
}

/// Stores the example's snapshot of `source` again as a sync collected at `at`, without
/// the grant of `account` to `entitlement` when `drop` is set.
pub async fn resync(
    scope: &TenantScope<'_>,
    source: &str,
    at: DateTime<Utc>,
    drop: Option<(&str, &str)>,
) {
    let loaded = rollcall_ingest::layout::load_tenant(&example_dir(), now()).unwrap();
    let mut snapshot =
        loaded.data.sources.into_iter().find(|s| s.source.to_string() == source).unwrap();
    if let Some((account, entitlement)) = drop {
        let before = snapshot.memberships.len();
        snapshot.memberships.retain(|m| {
            let member = matches!(&m.member, Member::Account(id) if id == account);
            !(member && m.entitlement == entitlement)
        });
        assert_eq!(snapshot.memberships.len(), before - 1, "{account} {entitlement}");
    }
    let meta = SnapshotMeta {
        snapshot_id: Uuid::new_v4(),
        collected_at: at,
        stream_sequence: u64::try_from(at.timestamp()).unwrap(),
    };
    scope.apply_source_snapshot(&snapshot, &meta).await.unwrap();
}

/// Returns the keys of every grant in the tenant's stored data, as the engine computes them.
pub async fn present_keys(scope: &TenantScope<'_>, tenant: &Tenant) -> BTreeSet<String> {
    let data = scope.load_tenant_data().await.unwrap();
    let ctx = Context::new(tenant, &data, now());
    all_grant_keys(&ctx)
}

/// Returns the example's tenant settings as parsed from its tenant.yaml.
pub fn example_config() -> Tenant {
    let dir = example_dir();
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap();
    rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap().tenant
}
