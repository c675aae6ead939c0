//! The engine opens an event-triggered review as soon as a sync shows a new privileged
//! grant, and a redelivered snapshot opens no second one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use rollcall_core::model::{GrantState, Member, Membership};
use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually, example,
    example_dir, publish_example,
};
use uuid::Uuid;

/// A campaign definition that event-triggered reviews borrow their reviewers from.
const CAMPAIGNS: &str = "\ncampaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      fallback: E1003\n    max_source_age: 30d\nevent_reviews: quarterly-all\n";

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_privileged_grant_opens_a_review() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let scope = store.tenant(&tenant);
    let running = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;

    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("harborview");
    copy_dir(&example_dir(), &copy);
    let yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    std::fs::write(copy.join("tenant.yaml"), yaml + CAMPAIGNS).unwrap();
    rollcall_engine::tenant_apply::apply(&store, &copy).await.unwrap();
    let chunks = publish_example(&bus, &loaded, 64 * 1024).await;
    eventually("every source stored", || async {
        let states = scope.source_states().await.unwrap();
        (states.len() == chunks.len()).then_some(())
    })
    .await;
    running.engine.request_evaluation(&tenant);
    // Evaluations also run while the sources arrive, so wait for a check of every source.
    // A check that finds a source for the first time opens no review, and the new grant
    // below must not fall into such a check.
    let before = eventually("a trigger check of every source", || async {
        let baseline = scope.review_trigger_baseline().await.unwrap()?;
        (baseline.sources.len() == chunks.len()).then_some(baseline)
    })
    .await;
    let events = || async {
        let campaigns = scope.review_campaigns().await.unwrap();
        campaigns.into_iter().filter(|c| c.period_label == "event").collect::<Vec<_>>()
    };
    assert!(events().await.is_empty());

    // A privileged account gets a group it did not hold.
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
        loaded.data.sources.iter().find(|s| s.source.to_string() == source).unwrap().clone();
    snapshot.memberships.push(Membership {
        member: Member::Account(account.clone()),
        entitlement: entitlement.clone(),
        state: GrantState::Active,
        scope: None,
    });
    let granted = rollcall_proto::split(&snapshot, &tenant, Uuid::new_v4(), 64 * 1024).unwrap();
    let publisher = bus.publisher();
    publisher.publish_chunks(&granted).await.unwrap();

    let opened = eventually("the event-triggered review", || async {
        let found = events().await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    let names: Vec<&str> = opened.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(opened.len(), 1, "{names:?}");
    let items = scope.review_items(opened[0].campaign_id).await.unwrap();
    let keys: Vec<(&str, &str)> =
        items.iter().map(|i| (i.item_key.as_str(), i.reviewee.as_str())).collect();
    assert_eq!(items.len(), 1, "{} {keys:?}", opened[0].name);
    assert_eq!(items[0].item_key, format!("{source}/{account}/{entitlement}"));

    // The same snapshot delivered again, and more evaluations: still one review.
    publisher.publish_chunks(&granted).await.unwrap();
    running.engine.request_evaluation(&tenant);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(events().await.len(), 1);
    running.stop().await;
}
