//! The engine binary killed with SIGKILL at random points while snapshots of many
//! tenants flow: after the last restart the store holds the findings of the last
//! snapshots, and the finding stream holds every change once.
//!
//! The default run is small: 4 tenants, 9 snapshots each. The acceptance size, 1,000
//! snapshots across 50 tenants, is
//! `ROLLCALL_TEST_KILL_TENANTS=50 ROLLCALL_TEST_KILL_VERSIONS=17 cargo test -p rollcall-engine --test kill -- --nocapture`
//! (each tenant gets the given number of Entra snapshots plus its LDAP, EHR and HR ones).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use rollcall_core::model::{SourceKind, SourceSnapshot};
use rollcall_core::{TenantData, TenantId};
use rollcall_proto::v1;
use rollcall_store::{FindingStatus, Store};
use support::process::{Random, ServiceProcess, engine_config_file, env_number, tenant_dir};
use support::{TestBus, TestDb, as_of, eventually, example};

/// The example's Entra snapshot, version `v`: one account fewer per version, dated one
/// minute apart, so each version changes some findings.
fn entra_version(base: &SourceSnapshot, v: usize, versions: usize) -> SourceSnapshot {
    let mut snapshot = base.clone();
    if !snapshot.accounts.is_empty() {
        let drop = (v * 7) % snapshot.accounts.len();
        snapshot.accounts.remove(drop);
    }
    let minutes = i64::try_from(versions - v).unwrap();
    snapshot.collected_at = Some(as_of() - TimeDelta::minutes(minutes));
    snapshot
}

/// Checks that each finding's events alternate opened, updated..., resolved, and
/// returns the findings open after the last event.
fn replay(events: &[&v1::FindingEvent]) -> BTreeSet<String> {
    let opened = v1::FindingEventType::Opened as i32;
    let updated = v1::FindingEventType::Updated as i32;
    let resolved = v1::FindingEventType::Resolved as i32;
    let mut open = BTreeSet::new();
    for event in events {
        let id = event.finding.as_ref().unwrap().id.clone();
        let was_open = open.contains(&id);
        match event.r#type {
            t if t == opened => {
                assert!(!was_open && open.insert(id.clone()), "`{id}` opened twice")
            }
            t if t == updated => assert!(was_open, "`{id}` updated while not open"),
            t if t == resolved => {
                assert!(was_open && open.remove(&id), "`{id}` resolved while not open")
            }
            other => panic!("event type {other}"),
        }
    }
    open
}

async fn settled(store: &Store, bus: &TestBus, finals: &BTreeMap<(String, String), uuid::Uuid>) {
    let polls = std::sync::atomic::AtomicU64::new(0);
    eventually("the engine to apply the last snapshots and publish", || async {
        let report = polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 50 == 49;
        for ((tenant, source), id) in finals {
            let tenant = TenantId::new(tenant).unwrap();
            let states = store.tenant(&tenant).source_states().await.unwrap();
            let current =
                states.iter().find(|s| s.source.to_string() == *source).map(|s| s.snapshot_id);
            if current != Some(*id) {
                if report {
                    eprintln!("waiting: {tenant}/{source} is at {current:?}, not {id}");
                }
                return None;
            }
        }
        let pending = store.pending_work().await.unwrap();
        if !pending.is_empty() {
            if report {
                eprintln!("waiting: pending work {pending:?}");
            }
            return None;
        }
        let stream = bus
            .jetstream
            .get_stream(bus.namespace.stream_name(rollcall_bus::StreamFamily::Source))
            .await
            .unwrap();
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>("engine-snapshots")
            .await
            .ok()?;
        let info = consumer.info().await.unwrap();
        if report {
            eprintln!(
                "waiting: consumer pending {} ack pending {}",
                info.num_pending, info.num_ack_pending
            );
        }
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_killed_at_random_points_reaches_the_same_state_without_duplicate_events() {
    let tenants = env_number("ROLLCALL_TEST_KILL_TENANTS", 4);
    let versions = env_number("ROLLCALL_TEST_KILL_VERSIONS", 6).max(1);
    let mut random = Random::new();
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    // Kept when the test fails, for the engine's log; removed at the end otherwise.
    let root_dir = tempfile::tempdir().unwrap().keep();
    eprintln!("engine log: {}", root_dir.join("engine.log").display());
    let root = Root(root_dir);
    let loaded = example();
    let entra =
        loaded.data.sources.iter().find(|s| s.source.kind() == SourceKind::Entra).unwrap().clone();
    let others: Vec<SourceSnapshot> = loaded
        .data
        .sources
        .iter()
        .filter(|s| s.source.kind() != SourceKind::Entra)
        .cloned()
        .collect();
    let roster = loaded.data.hr.clone().unwrap();

    // Configure every tenant, and list the chunks of every snapshot in publication order.
    let mut messages: Vec<Vec<v1::SnapshotChunk>> = Vec::new();
    let mut finals = BTreeMap::new();
    let mut expected_data = BTreeMap::new();
    for t in 0..tenants {
        let name = format!("kill-{t:02}");
        let dir = tenant_dir(root.path(), &name);
        rollcall_engine::tenant_apply::apply(&store, &dir).await.unwrap();
        let tenant = TenantId::new(&name).unwrap();
        let mut data = TenantData::default();
        for v in 0..versions {
            let snapshot = entra_version(&entra, v, versions);
            let id = uuid::Uuid::new_v4();
            messages.push(rollcall_proto::split(&snapshot, &tenant, id, 8192).unwrap());
            if v + 1 == versions {
                finals.insert((name.clone(), snapshot.source.to_string()), id);
                data.sources.push(snapshot);
            }
        }
        for snapshot in &others {
            let id = uuid::Uuid::new_v4();
            messages.push(rollcall_proto::split(snapshot, &tenant, id, 8192).unwrap());
            finals.insert((name.clone(), snapshot.source.to_string()), id);
            data.sources.push(snapshot.clone());
        }
        let id = uuid::Uuid::new_v4();
        messages.push(rollcall_proto::split_roster(&roster, &tenant, id, 8192).unwrap());
        finals.insert((name.clone(), "hr".to_owned()), id);
        data.hr = Some(roster.clone());
        expected_data.insert(name, data);
    }
    let snapshots = messages.len();
    eprintln!("{snapshots} snapshots across {tenants} tenants");

    let config = engine_config_file(root.path(), &db, &bus);
    let log = root.path().join("engine.log");
    let mut child = Some(ServiceProcess::engine(&config, &log));
    let publisher = bus.publisher();
    let mut kills = 0;
    let mut next_kill =
        tokio::time::Instant::now() + Duration::from_millis(500 + random.below(2000));
    for chunks in &messages {
        publisher.publish_chunks(chunks).await.unwrap();
        // Spread the flow so that kills land while the engine works on it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        if tokio::time::Instant::now() >= next_kill {
            child.take().unwrap().kill();
            kills += 1;
            child = Some(ServiceProcess::engine(&config, &log));
            next_kill =
                tokio::time::Instant::now() + Duration::from_millis(300 + random.below(2000));
        }
    }
    // A few more kills while the backlog drains.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300 + random.below(1500))).await;
        child.take().unwrap().kill();
        kills += 1;
        child = Some(ServiceProcess::engine(&config, &log));
    }
    eprintln!("{kills} kills");
    tokio::time::sleep(Duration::from_secs(1)).await;
    child.as_mut().unwrap().assert_running();
    settled(&store, &bus, &finals).await;
    let mut last = child.take().unwrap();
    last.terminate();

    let events = bus.finding_events().await;
    let ids: BTreeSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "an event id is stored twice");
    for (name, data) in &expected_data {
        let tenant = TenantId::new(name).unwrap();
        let mut config = rollcall_ingest::tenant_file::parse(
            &std::fs::read_to_string(root.path().join(name).join("tenant.yaml")).unwrap(),
            &root.path().join(name),
        )
        .unwrap();
        config.tenant.id = tenant.clone();
        let mut expected = rollcall_core::evaluate(&config.tenant, data, as_of()).findings;
        expected.sort_by(|a, b| a.id.cmp(&b.id));
        let stored: Vec<_> = store
            .tenant(&tenant)
            .findings(FindingStatus::Open)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.finding)
            .collect();
        assert_eq!(stored, expected, "tenant {name}");

        let tenant_events: Vec<&v1::FindingEvent> =
            events.iter().filter(|e| e.tenant == *name).collect();
        let open = replay(&tenant_events);
        let expected_ids: BTreeSet<String> = expected.iter().map(|f| f.id.clone()).collect();
        assert_eq!(
            open, expected_ids,
            "tenant {name}: the events do not add up to the stored findings"
        );
    }
    bus.delete().await;
    std::fs::remove_dir_all(&root.0).unwrap();
}

struct Root(PathBuf);

impl Root {
    fn path(&self) -> &Path {
        &self.0
    }
}
