//! Event-triggered reviews in a real PostgreSQL. The first check records what it finds,
//! and a new privileged grant opens a review of that grant. A redelivered snapshot opens
//! no second one, and a job-role change in HR opens a review of the person's access.

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

use std::collections::BTreeSet;

use chrono::TimeDelta;
use rollcall_core::model::{GrantState, Member, Membership};
use rollcall_ingest::tenant_file::Campaign;
use rollcall_reviews::{EVENT_PERIOD, EventReview, ReviewLaunch, Trigger, open_event_reviews};
use rollcall_store::{SnapshotMeta, TenantScope};
use support::TestDb;
use uuid::Uuid;

use common::{SIGNED_OFF, example_config, example_dir, example_tenant, now};

fn definition() -> Campaign {
    let yaml = std::fs::read_to_string(example_dir().join("tenant.yaml")).unwrap() + SIGNED_OFF;
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    config.campaigns.into_iter().next().unwrap()
}

async fn check(scope: &TenantScope<'_>, at: chrono::DateTime<chrono::Utc>) -> Vec<EventReview> {
    let data = scope.load_tenant_data().await.unwrap();
    open_event_reviews(scope, &example_config(), &definition(), &data, at).await.unwrap()
}

async fn event_campaigns(scope: &TenantScope<'_>) -> usize {
    let campaigns = scope.review_campaigns().await.unwrap();
    campaigns.iter().filter(|c| c.period_label == EVENT_PERIOD).count()
}

#[tokio::test]
async fn first_check_records_and_opens_nothing() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);

    assert!(scope.review_trigger_baseline().await.unwrap().is_none());
    assert!(check(&scope, now()).await.is_empty());
    let baseline = scope.review_trigger_baseline().await.unwrap().unwrap();
    assert!(!baseline.privileged_grants.is_empty(), "the example has privileged access");
    assert!(!baseline.job_roles.is_empty());
    assert!(check(&scope, now() + TimeDelta::minutes(5)).await.is_empty());

    // A source that had not synced at the previous check: its grants are not new.
    let first_key = baseline.privileged_grants.iter().next().unwrap();
    let source = first_key.split('/').next().unwrap().to_owned();
    let mut partial = baseline.clone();
    partial.sources.remove(&source);
    partial.privileged_grants.retain(|key| !key.starts_with(&format!("{source}/")));
    // Nor is a grant of another source that the new source's accounts made privileged.
    let other = partial.privileged_grants.iter().next().cloned();
    if let Some(other) = &other {
        partial.privileged_grants.remove(other);
    }
    scope.store_review_trigger_baseline(&partial, now()).await.unwrap();
    assert!(check(&scope, now() + TimeDelta::minutes(10)).await.is_empty());
    assert_eq!(event_campaigns(&scope).await, 0);
}

#[tokio::test]
async fn new_privileged_grant_opens_one_review() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    check(&scope, now()).await;
    let before = scope.review_trigger_baseline().await.unwrap().unwrap();

    // A privileged account of a directory source gets a group it did not hold.
    let loaded = rollcall_ingest::layout::load_tenant(&example_dir(), now()).unwrap();
    let (source, account, entitlement) = before
        .privileged_grants
        .iter()
        .find_map(|key| {
            let mut parts = key.splitn(3, '/');
            let (source, account) = (parts.next()?, parts.next()?);
            let snapshot = loaded.data.sources.iter().find(|s| s.source.to_string() == source)?;
            let held: BTreeSet<&str> = snapshot
                .memberships
                .iter()
                .filter(|m| matches!(&m.member, Member::Account(a) if a == account))
                .map(|m| m.entitlement.as_str())
                .collect();
            let other = snapshot.entitlements.iter().find(|e| !held.contains(e.id.as_str()))?;
            Some((source.to_owned(), account.to_owned(), other.id.clone()))
        })
        .expect("a privileged account and a group it lacks");
    let mut snapshot =
        loaded.data.sources.into_iter().find(|s| s.source.to_string() == source).unwrap();
    snapshot.memberships.push(Membership {
        member: Member::Account(account.clone()),
        entitlement: entitlement.clone(),
        state: GrantState::Active,
        scope: None,
    });
    let meta = SnapshotMeta {
        snapshot_id: Uuid::new_v4(),
        collected_at: now() + TimeDelta::minutes(30),
        stream_sequence: 500,
    };
    scope.apply_source_snapshot(&snapshot, &meta).await.unwrap();

    let reviews = check(&scope, now() + TimeDelta::hours(1)).await;
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    let key = format!("{source}/{account}/{entitlement}");
    let Trigger::PrivilegedGrant { item_key, snapshot_id, .. } = &reviews[0].trigger else {
        panic!("{:?}", reviews[0].trigger);
    };
    assert_eq!(item_key, &key);
    assert_eq!(snapshot_id, &meta.snapshot_id.to_string());
    let ReviewLaunch::Launched { campaign_id, items } = reviews[0].outcome else {
        panic!("{:?}", reviews[0].outcome);
    };
    assert_eq!(items, 1);
    let campaign = scope.review_campaign(campaign_id).await.unwrap().unwrap();
    assert!(campaign.name.starts_with("New privileged access of "), "{}", campaign.name);
    assert_eq!(campaign.deadline, now() + TimeDelta::hours(1) + TimeDelta::days(14));
    let stored = scope.review_items(campaign_id).await.unwrap();
    assert_eq!(stored[0].item_key, key);
    assert!(stored[0].privileged);

    // The next check finds nothing new.
    assert!(check(&scope, now() + TimeDelta::hours(2)).await.is_empty());

    // The same snapshot checked again from the earlier state, as after a redelivery
    // before the state was saved: the same trigger, and no second campaign.
    scope.store_review_trigger_baseline(&before, now()).await.unwrap();
    let again = check(&scope, now() + TimeDelta::hours(3)).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].trigger, reviews[0].trigger);
    assert_eq!(again[0].outcome, ReviewLaunch::AlreadyLaunched);
    assert_eq!(event_campaigns(&scope).await, 1);
}

#[tokio::test]
async fn job_role_change_reviews_the_person() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    check(&scope, now()).await;
    let before = scope.review_trigger_baseline().await.unwrap().unwrap();

    // A worker takes the job title and department of a worker with other roles.
    let loaded = rollcall_ingest::layout::load_tenant(&example_dir(), now()).unwrap();
    let mut roster = loaded.data.hr.clone().unwrap();
    let roles_of = |employee: &str| before.job_roles.get(employee).cloned().unwrap_or_default();
    let (mover, model) = roster
        .workers
        .iter()
        .filter(|w| !roles_of(&w.employee_id).is_empty())
        .find_map(|a| {
            let b = roster.workers.iter().find(|b| {
                !roles_of(&b.employee_id).is_empty()
                    && roles_of(&b.employee_id) != roles_of(&a.employee_id)
                    && b.job_title.is_some()
            })?;
            Some((a.employee_id.clone(), b.employee_id.clone()))
        })
        .expect("two workers with different roles");
    let template = roster.workers.iter().find(|w| w.employee_id == model).unwrap().clone();
    let worker = roster.workers.iter_mut().find(|w| w.employee_id == mover).unwrap();
    worker.job_title = template.job_title.clone();
    worker.department = template.department.clone();
    let meta = SnapshotMeta {
        snapshot_id: Uuid::new_v4(),
        collected_at: now() + TimeDelta::minutes(30),
        stream_sequence: 600,
    };
    scope.apply_hr_roster(&roster, &meta).await.unwrap();

    let reviews = check(&scope, now() + TimeDelta::hours(1)).await;
    let change = reviews
        .iter()
        .find(|r| matches!(&r.trigger, Trigger::JobRoleChange { employee_id, .. } if employee_id == &mover))
        .unwrap_or_else(|| panic!("no review for {mover}: {reviews:?}"));
    let Trigger::JobRoleChange { reviewee, before: old, after, .. } = &change.trigger else {
        panic!("{:?}", change.trigger);
    };
    assert_eq!(old, &roles_of(&mover));
    assert_eq!(after, &roles_of(&model));
    let ReviewLaunch::Launched { campaign_id, .. } = change.outcome else {
        panic!("{:?}", change.outcome);
    };
    let items = scope.review_items(campaign_id).await.unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| &i.reviewee == reviewee));
    let campaign = scope.review_campaign(campaign_id).await.unwrap().unwrap();
    assert!(campaign.name.starts_with("Job role change of "), "{}", campaign.name);
}
