//! A sync published through NATS reaches an engine that stores and evaluates it, and the
//! engine's findings equal those of `rollcall scan` on the same responses saved as a
//! DrChrono dump.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
mod double;
#[path = "../../engine/tests/support/mod.rs"]
mod engine;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use common::Setup;
use double::DrChronoDouble;
use rollcall_core::evaluate;
use rollcall_core::finding::{Finding, FindingKind};
use rollcall_drchrono_connector::{ConnectorMetrics, TenantSync, sync_and_publish};
use rollcall_proto::SyncOutcome;
use rollcall_store::FindingStatus;

/// Marks the DrChrono permissions that change accounts or prescribe controlled
/// substances as privileged, so the practice has privileged-account findings.
const POLICY: &str = "policy:\n  privileged_entitlements:\n    \"ehr:drchrono\": [\"permission:manage_accounts\", \"permission:epcs\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_findings_match_scan() {
    let db = engine::TestDb::create().await;
    let bus = engine::TestBus::new().await;
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();

    // The tenant's configuration is applied before the first sync, as the operator or
    // `rollcall-engine tenant apply` does; the dump is written once the sync has read it.
    common::write_tenant_folder(dir.path(), None, POLICY);
    std::fs::write(dir.path().join("ehr/drchrono.json"), "{}").unwrap();
    let placeholder = rollcall_ingest::layout::load_tenant(dir.path(), engine::as_of()).unwrap();
    let tenant = engine::add_tenant(&store, &placeholder).await;
    rollcall_engine::tenant_apply::apply(&store, dir.path()).await.unwrap();
    let running =
        engine::RunningEngine::start(engine::config(&db, &bus, &engine::RedisMode::Local, 5)).await;

    let setup = Setup::on(store.clone(), DrChronoDouble::example()).await;
    let publisher = bus.publisher();
    let metrics = ConnectorMetrics::new();
    let job = TenantSync {
        tenant: &tenant,
        scope: store.tenant(&tenant),
        publisher: &publisher,
        metrics: &metrics,
        zone: common::ZONE.parse().unwrap(),
        login_window_days: 90,
        page_size: common::fast_limits().page_size,
    };
    let mut client = setup.client();
    let attempt = sync_and_publish(&mut client, &job).await;
    assert_eq!(attempt.report.outcome, SyncOutcome::Ok, "{:?}", attempt.report.problems);
    let dump = &attempt.result.as_ref().unwrap().dump;

    common::write_tenant_folder(dir.path(), Some(dump), POLICY);
    let loaded = rollcall_ingest::layout::load_tenant(dir.path(), engine::as_of()).unwrap();
    let mut expected = evaluate(&loaded.config.tenant, &loaded.data, engine::as_of()).findings;
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert!(
        expected.iter().any(|f| f.kind == FindingKind::PrivilegedWithoutRole
            && f.subject.account.as_ref().is_some_and(|a| a.account.id == "70153")),
        "the office manager's manage_accounts should be a finding: {expected:?}"
    );
    assert!(expected.iter().all(|f| f.kind != FindingKind::SourceSyncFailed));

    let found = engine::eventually("the engine's findings equal the scan's", || async {
        let mut found: Vec<Finding> = store
            .tenant(&tenant)
            .findings(FindingStatus::Open)
            .await
            .unwrap()
            .into_iter()
            .map(|stored| stored.finding)
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        (found == expected).then_some(found)
    })
    .await;
    assert!(!found.is_empty());

    running.stop().await;
    bus.delete().await;
}
