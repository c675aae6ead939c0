//! The engine end to end on the local NATS, PostgreSQL and Redis: the example practice's
//! sources published in chunks give the findings of `rollcall scan` in PostgreSQL and as
//! finding events on NATS; repeats add nothing; Redis down changes nothing.

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

use async_nats::HeaderMap;
use rollcall_proto::v1;
use rollcall_store::ChainVerification;
use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, event_keys, eventually, example,
    example_dir, golden_findings, publish_example, stored_findings,
};

/// Runs the example through an engine: the tenant row first, then every source in
/// 4 KiB chunks, then (once all are stored) the configuration, so that exactly one
/// evaluation sees the whole practice. Returns the running engine and the chunks.
async fn example_through_engine(
    db: &TestDb,
    bus: &TestBus,
    redis: RedisMode,
) -> (RunningEngine, Vec<Vec<v1::SnapshotChunk>>) {
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let engine = RunningEngine::start(config(db, bus, &redis, 5)).await;
    let chunks = publish_example(bus, &loaded, 4096).await;
    assert!(chunks.iter().any(|source| source.len() > 2), "no source needs several chunks");
    eventually("every source stored", || async {
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == chunks.len()).then_some(())
    })
    .await;
    let applied = rollcall_engine::tenant_apply::apply(&store, &example_dir()).await.unwrap();
    assert!(applied.changed);
    (engine, chunks)
}

/// Publishes each chunk twice, under message ids the stream has not seen, so every copy
/// reaches the engine.
async fn publish_copies(bus: &TestBus, chunks: &[v1::SnapshotChunk]) {
    let client = async_nats::connect(support::nats_url()).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    for (copy, chunk) in chunks.iter().flat_map(|c| [(0, c), (1, c)]) {
        let subject = bus.namespace.snapshot_subject(&chunk.tenant, &chunk.source).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("{}:copy{copy}:{}", chunk.nats_msg_id(), uuid::Uuid::new_v4()).as_str(),
        );
        let payload = prost::Message::encode_to_vec(chunk);
        jetstream
            .publish_with_headers(subject, headers, payload.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

/// Waits until the snapshot consumer has delivered and settled everything.
async fn snapshots_drained(bus: &TestBus) {
    eventually("every chunk consumed", || async {
        let stream = bus
            .jetstream
            .get_stream(bus.namespace.stream_name(rollcall_bus::StreamFamily::Source))
            .await
            .unwrap();
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>("engine-snapshots")
            .await
            .unwrap();
        let info = consumer.info().await.unwrap();
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// Waits until the finding stream holds `count` events, then for a few reconcile
/// intervals more, and returns them.
async fn settled_events(bus: &TestBus, count: usize) -> Vec<v1::FindingEvent> {
    eventually("the finding events", || async {
        (bus.finding_events().await.len() >= count).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    bus.finding_events().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_findings_equal_the_scan_in_postgres_and_on_nats() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (engine, _) = example_through_engine(&db, &bus, RedisMode::Local).await;
    let store = db.store().await;
    let tenant = rollcall_core::TenantId::new(support::HARBORVIEW).unwrap();
    let golden = golden_findings();
    assert_eq!(golden.len(), 27);

    let stored = eventually("the scan's findings in PostgreSQL", || async {
        let stored = stored_findings(&store, &tenant).await;
        (stored.len() == golden.len()).then_some(stored)
    })
    .await;
    assert_eq!(stored, golden);

    // The same as the rules on the folder as scan reads it, evidence included.
    let loaded = example();
    let evaluation = rollcall_core::evaluate(&loaded.config.tenant, &loaded.data, support::as_of());
    let mut expected = evaluation.findings.clone();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    let all = store.tenant(&tenant).findings(rollcall_store::FindingStatus::Open).await.unwrap();
    let found: Vec<_> = all.into_iter().map(|s| s.finding).collect();
    assert_eq!(found, expected);

    let events = settled_events(&bus, golden.len()).await;
    assert_eq!(events.len(), golden.len(), "{:#?}", event_keys(&events));
    let opened = v1::FindingEventType::Opened as i32;
    assert!(events.iter().all(|e| e.r#type == opened && e.tenant == "harborview"));
    let ids: BTreeSet<String> =
        events.iter().map(|e| e.finding.as_ref().unwrap().id.clone()).collect();
    assert_eq!(ids, golden.keys().cloned().collect());
    for event in &events {
        let finding = event.finding.as_ref().unwrap();
        let (_, _, summary) = &golden[&finding.id];
        assert_eq!(&finding.summary, summary);
    }

    // Everything published, the audit chain intact with one entry per applied source.
    let work = store.tenant(&tenant).work().await.unwrap().unwrap();
    assert!(!work.outbox_pending && !work.needs_evaluation(), "{work:?}");
    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();
    assert!(matches!(verification, ChainVerification::Intact { .. }), "{verification:?}");
    let entries = store.tenant(&tenant).audit_entries(0, 100).await.unwrap();
    let applied = entries.iter().filter(|e| e.action == "snapshot.applied").count();
    assert_eq!(applied, example().data.sources.len() + 1);
    assert_eq!(entries.iter().filter(|e| e.action == "findings.recorded").count(), 1);

    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_reordered_and_duplicated_chunks_add_no_events() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (engine, published) = example_through_engine(&db, &bus, RedisMode::Local).await;
    let golden = golden_findings();
    let first = settled_events(&bus, golden.len()).await;
    assert_eq!(first.len(), golden.len());
    let store = db.store().await;
    let loaded = example();
    let tenant = &loaded.config.tenant.id;
    let applied_sources = published.len();
    let applied_entries = || async {
        let entries = store.tenant(tenant).audit_entries(0, 1000).await.unwrap();
        entries.iter().filter(|e| e.action == "snapshot.applied").count()
    };
    assert_eq!(applied_entries().await, applied_sources);

    // The same snapshots (same ids) again, chunks reversed and each sent twice.
    let mut same: Vec<v1::SnapshotChunk> = published.concat();
    same.reverse();
    publish_copies(&bus, &same).await;
    snapshots_drained(&bus).await;
    assert_eq!(applied_entries().await, applied_sources, "a repeated snapshot was applied again");
    assert_eq!(event_keys(&bus.finding_events().await), event_keys(&first));

    // The same content under new snapshot ids: without their own collection time they
    // are dated by the stream, so they are newer and applied, but change no finding.
    let mut renamed: Vec<v1::SnapshotChunk> = support::example_chunks(&loaded, 4096).concat();
    renamed.reverse();
    publish_copies(&bus, &renamed).await;
    snapshots_drained(&bus).await;
    assert_eq!(applied_entries().await, 2 * applied_sources);
    assert_eq!(event_keys(&bus.finding_events().await), event_keys(&first));
    assert_eq!(stored_findings(&store, tenant).await, golden);

    // An evaluation forced now records nothing new.
    let result = engine.engine.evaluate_tenant(tenant).await.unwrap();
    assert_eq!(result, rollcall_engine::EvaluationResult::Recorded { events: 0 });
    assert_eq!(event_keys(&bus.finding_events().await), event_keys(&first));
    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_degrades_to_postgres_locks_and_stays_correct() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (engine, _) = example_through_engine(&db, &bus, RedisMode::Down).await;
    let store = db.store().await;
    let tenant = rollcall_core::TenantId::new(support::HARBORVIEW).unwrap();
    let golden = golden_findings();
    let stored = eventually("the scan's findings in PostgreSQL", || async {
        let stored = stored_findings(&store, &tenant).await;
        (stored.len() == golden.len()).then_some(stored)
    })
    .await;
    assert_eq!(stored, golden);
    let events = settled_events(&bus, golden.len()).await;
    assert_eq!(events.len(), golden.len());

    let metrics = engine.engine.metrics();
    assert_eq!(metrics.redis_degraded.get(), 1);
    assert!(metrics.redis_fallbacks.get() >= 1);
    assert!(engine.engine.lock().redis_answers().await.is_err());
    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_applies_on_its_base_and_waits_otherwise() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (engine, published) = example_through_engine(&db, &bus, RedisMode::Local).await;
    let golden = golden_findings();
    let first = settled_events(&bus, golden.len()).await;
    let store = db.store().await;
    let loaded = example();
    let tenant = loaded.config.tenant.id.clone();
    let entra_id = published
        .iter()
        .find(|chunks| chunks[0].source == "entra")
        .map(|chunks| uuid::Uuid::parse_str(&chunks[0].snapshot_id).unwrap())
        .unwrap();
    let base =
        loaded.data.sources.iter().find(|s| s.source.to_string() == "entra").unwrap().clone();

    // Remove an Entra account that a finding names.
    let open = stored_findings(&store, &tenant).await;
    let all = store.tenant(&tenant).findings(rollcall_store::FindingStatus::Open).await.unwrap();
    let removed = all
        .iter()
        .filter_map(|s| s.finding.subject.account.as_ref())
        .find(|account| account.account.source.to_string() == "entra")
        .map(|account| account.account.id.clone())
        .unwrap();
    let mut after = base.clone();
    after.accounts.retain(|account| account.id != removed);
    after.memberships.retain(|membership| match &membership.member {
        rollcall_core::model::Member::Account(id) => *id != removed,
        _ => true,
    });
    let removed_memberships: Vec<_> =
        base.memberships.iter().filter(|m| !after.memberships.contains(m)).cloned().collect();
    let delta = |base_id: uuid::Uuid| rollcall_proto::SourceDelta {
        delta_id: uuid::Uuid::new_v4(),
        tenant: tenant.clone(),
        source: base.source.clone(),
        base_snapshot_id: base_id,
        content_hash: rollcall_proto::ContentHash::of(&after),
        collected_at: None,
        settings: None,
        changed_accounts: Vec::new(),
        removed_account_ids: vec![removed.clone()],
        changed_entitlements: Vec::new(),
        removed_entitlement_ids: Vec::new(),
        added_memberships: Vec::new(),
        removed_memberships: removed_memberships.clone(),
    };
    let publisher = bus.publisher();

    // On another base it is not applied.
    let stray = delta(uuid::Uuid::new_v4());
    publisher.publish(&rollcall_proto::source_delta_to_proto(&stray)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let states = store.tenant(&tenant).source_states().await.unwrap();
    let entra = states.iter().find(|s| s.source.to_string() == "entra").unwrap();
    assert_eq!(entra.snapshot_id, entra_id);
    assert_eq!(stored_findings(&store, &tenant).await, open);

    // On the applied snapshot it is.
    let good = delta(entra_id);
    publisher.publish(&rollcall_proto::source_delta_to_proto(&good)).await.unwrap();
    let mut data = loaded.data.clone();
    for source in &mut data.sources {
        if source.source == after.source {
            *source = after.clone();
        }
    }
    let mut expected =
        rollcall_core::evaluate(&loaded.config.tenant, &data, support::as_of()).findings;
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    let found = eventually("the findings after the delta", || async {
        let found: Vec<_> = store
            .tenant(&tenant)
            .findings(rollcall_store::FindingStatus::Open)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.finding)
            .collect();
        (found == expected).then_some(found)
    })
    .await;
    assert_ne!(found.len(), 0);
    let states = store.tenant(&tenant).source_states().await.unwrap();
    let entra = states.iter().find(|s| s.source.to_string() == "entra").unwrap();
    assert_eq!(entra.snapshot_id, good.delta_id);

    // Every finding that went away has a resolved event after the first ones.
    let events = bus.finding_events().await;
    let later = &events[first.len()..];
    let expected_ids: BTreeSet<&str> = expected.iter().map(|f| f.id.as_str()).collect();
    let gone: BTreeSet<&str> =
        open.keys().map(String::as_str).filter(|id| !expected_ids.contains(id)).collect();
    assert!(!gone.is_empty(), "removing `{removed}` resolved nothing");
    let resolved: BTreeSet<&str> = later
        .iter()
        .filter(|e| e.r#type == v1::FindingEventType::Resolved as i32)
        .map(|e| e.finding.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(resolved, gone);
    engine.stop().await;
    bus.delete().await;
}
