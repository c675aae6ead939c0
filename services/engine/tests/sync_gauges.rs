//! The last-sync gauge across an engine restart. It lives in memory, so the engine seeds
//! it from the stored sources at start: a source whose connector is down when the engine
//! restarts still has a series, and the stale-source alert can fire for it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_engine::metrics::SyncLabels;
use support::{RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_seeds_last_sync_from_store() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = support::example();
    let tenant = add_tenant(&store, &loaded).await;
    let first = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    support::publish_example(&bus, &loaded, 64 * 1024).await;
    let states = eventually("the example's sources stored", || async {
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == 4).then_some(states)
    })
    .await;
    first.stop().await;

    // No connector reports after the restart: the values come from the store.
    let second = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    for state in &states {
        let labels = SyncLabels {
            tenant: tenant.to_string(),
            source: state.source.to_string(),
            outcome: "ok".to_owned(),
        };
        let expected = state.collected_at.timestamp_millis() as f64 / 1000.0;
        let seeded = eventually("the last-sync gauge seeded", || async {
            let value = second.engine.metrics().last_sync.get_or_create(&labels).get();
            (value > 0.0).then_some(value)
        })
        .await;
        assert_eq!(seeded, expected, "source {}", state.source);
    }
    second.stop().await;
    bus.delete().await;
}
