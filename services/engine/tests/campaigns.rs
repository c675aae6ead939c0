//! The engine launches a tenant's due access-review campaign on its own: a tenant whose
//! stored `tenant.yaml` defines a quarterly campaign gets one campaign for the quarter of
//! the engine's clock, with items, and later passes launch no second one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::time::Duration;

use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually, example,
    example_dir, publish_example,
};

/// A quarterly campaign over everyone, with the practice manager as fallback reviewer.
const CAMPAIGN: &str = "\ncampaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      fallback: E1003\n    max_source_age: 30d\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_campaign_launches_once() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    let chunks = publish_example(&bus, &loaded, 64 * 1024).await;
    eventually("every source stored", || async {
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == chunks.len()).then_some(())
    })
    .await;

    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("harborview");
    copy_dir(&example_dir(), &copy);
    let mut tenant_yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    tenant_yaml.push_str(CAMPAIGN);
    std::fs::write(copy.join("tenant.yaml"), tenant_yaml).unwrap();
    rollcall_engine::tenant_apply::apply(&store, &copy).await.unwrap();

    let scope = store.tenant(&tenant);
    let campaigns = eventually("the campaign launched by the engine", || async {
        let campaigns = scope.review_campaigns().await.unwrap();
        (!campaigns.is_empty()).then_some(campaigns)
    })
    .await;
    assert_eq!(campaigns.len(), 1);
    assert_eq!(campaigns[0].definition_id, "quarterly-all");
    // The engine's clock is 2026-12-01, in the fourth quarter.
    assert_eq!(campaigns[0].period_label, "2026-Q4");
    let items = scope.review_items(campaigns[0].campaign_id).await.unwrap();
    assert!(!items.is_empty(), "the campaign has items");

    // The pass runs every second in this configuration; three more launch nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(scope.review_campaigns().await.unwrap().len(), 1);
    engine.stop().await;
}

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
