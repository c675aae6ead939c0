//! The file connector in front of the engine: a drop folder read by the real connector
//! gives in PostgreSQL the findings `evaluate` gives on the same folder, and a file the
//! connector cannot read becomes a `source_sync_failed` finding until it is fixed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::Path;
use std::time::Duration;

use rollcall_core::FindingKind;
use rollcall_file_connector::connector::Settings;
use rollcall_file_connector::{ConnectorMetrics, FileConnector, FolderStatus, State};
use rollcall_store::FindingStatus;
use support::{RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Polls until the connector reads the folder: a change is read once a later poll sees
/// the same sizes and modification times.
async fn poll_until_read(connector: &mut FileConnector) {
    for _ in 0..50 {
        let reports = connector.poll().await;
        if reports.iter().all(|r| matches!(r.status, FolderStatus::Read { .. })) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the connector did not read the folder within 50 polls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_folder_through_connector_and_engine() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = drop_root.path().join("harborview");
    copy_dir(&support::example_dir(), &dir);

    let store = db.store().await;
    let loaded = support::example();
    let tenant = add_tenant(&store, &loaded).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    let settings = Settings {
        drop_root: drop_root.path().to_path_buf(),
        settle: Duration::ZERO,
        max_chunk_bytes: 4096,
    };
    let opened = State::open(state_dir.path()).unwrap();
    let mut connector =
        FileConnector::new(settings, bus.publisher(), opened.state, ConnectorMetrics::new());
    poll_until_read(&mut connector).await;

    eventually("every source stored", || async {
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == 4).then_some(())
    })
    .await;
    rollcall_engine::tenant_apply::apply(&store, &dir).await.unwrap();

    // The connector reads at the time of the poll; the engine evaluates at its fixed
    // instant, so compare with the rules on the folder read now, at that instant.
    let now = rollcall_ingest::layout::load_tenant(&dir, chrono::Utc::now()).unwrap();
    let mut expected =
        rollcall_core::evaluate(&now.config.tenant, &now.data, support::as_of()).findings;
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    let found = eventually("the findings of the folder", || async {
        let found: Vec<_> = store
            .tenant(&tenant)
            .findings(FindingStatus::Open)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.finding)
            .collect();
        (found == expected).then_some(found)
    })
    .await;
    assert!(found.len() > 20);

    // A broken Entra export: the connector publishes a FAILED report, not the snapshot.
    std::fs::write(dir.join("entra/users.json"), "{\"value\": [").unwrap();
    poll_until_read(&mut connector).await;
    let failed = eventually("the sync finding", || async {
        let open = store.tenant(&tenant).findings(FindingStatus::Open).await.unwrap();
        open.into_iter().find(|s| s.finding.kind == FindingKind::SourceSyncFailed)
    })
    .await;
    assert_eq!(
        failed.finding.subject.source.as_ref().map(ToString::to_string).as_deref(),
        Some("entra")
    );
    let input = failed.finding.evidence.iter().find(|e| e.field == "input").unwrap();
    assert!(input.value.contains("users.json"), "{input:?}");
    // The rules' findings stay those of the last good snapshot.
    let rules: Vec<_> = store
        .tenant(&tenant)
        .findings(FindingStatus::Open)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.finding)
        .filter(|f| !f.kind.is_pipeline())
        .collect();
    assert_eq!(rules, expected);

    // Fixed again: the next OK report resolves it.
    std::fs::copy(support::example_dir().join("entra/users.json"), dir.join("entra/users.json"))
        .unwrap();
    poll_until_read(&mut connector).await;
    eventually("the sync finding resolved", || async {
        let open = store.tenant(&tenant).findings(FindingStatus::Open).await.unwrap();
        open.iter().all(|s| s.finding.kind != FindingKind::SourceSyncFailed).then_some(())
    })
    .await;
    engine.stop().await;
    bus.delete().await;
}
