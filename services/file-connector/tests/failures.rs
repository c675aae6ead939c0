//! Bad input: a malformed export fails its own source only, and a broken `tenant.yaml`
//! fails its own tenant only. The connector keeps polling.

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

use rollcall_file_connector::metrics::{ErrorLabels, SourceLabels};
use rollcall_file_connector::{ConnectorMetrics, FolderStatus, SourceOutcome};
use rollcall_ingest::Level;
use rollcall_proto::SyncOutcome;
use support::{
    TestBus, add_example_tenant, connector, connector_with_metrics, outcomes, published, status,
};

#[tokio::test]
async fn malformed_export_fails_its_source() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let harborview = add_example_tenant(drop_root.path(), "harborview");
    add_example_tenant(drop_root.path(), "bayside");
    std::fs::write(harborview.join("entra/users.json"), "{\"value\": [").unwrap();
    let metrics = ConnectorMetrics::new();
    let mut connector = connector_with_metrics(
        &bus,
        drop_root.path(),
        state_dir.path(),
        Duration::ZERO,
        metrics.clone(),
    );

    let reports = connector.poll().await;
    let next = connector.poll().await;

    let harborview_outcomes = outcomes(&reports, "harborview");
    assert_eq!(published(&harborview_outcomes), ["ehr:athenahealth", "hr", "ldap"]);
    let entra = harborview_outcomes.iter().find(|(s, _)| s == "entra").unwrap();
    let SourceOutcome::Failed { problems } = &entra.1 else {
        panic!("entra should fail: {:?}", entra.1);
    };
    let error = problems.first().unwrap();
    assert_eq!(error.level, Level::Error);
    assert_eq!(error.file, Path::new("entra/users.json"));
    assert!(error.message.contains("JSON"), "{}", error.message);
    assert_eq!(
        published(&outcomes(&reports, "bayside")),
        ["ehr:athenahealth", "entra", "hr", "ldap"]
    );
    let entra_subject = bus.namespace().snapshot_subject("harborview", "entra").unwrap();
    let snapshots = bus.snapshots().await;
    assert!(snapshots.iter().all(|(subject, _)| *subject != entra_subject));
    assert_eq!(snapshots.len(), 7);
    assert_eq!(status(&next, "harborview"), FolderStatus::Unchanged);
    assert!(connector.state().last("harborview", "entra").is_none());
    let read_errors = ErrorLabels {
        tenant: "harborview".to_owned(),
        source: "entra".to_owned(),
        stage: "read".to_owned(),
    };
    assert_eq!(metrics.errors.get_or_create(&read_errors).get(), 1);
    let ldap = SourceLabels { tenant: "harborview".to_owned(), source: "ldap".to_owned() };
    assert_eq!(metrics.snapshots_published.get_or_create(&ldap).get(), 1);
    assert!(metrics.published_bytes.get_or_create(&ldap).get() > 0);
    assert!(metrics.last_publish_seconds.get_or_create(&ldap).get() > 0);

    let reports = bus.sync_reports().await;
    let failed: Vec<_> = reports.iter().filter(|r| r.outcome == SyncOutcome::Failed).collect();
    assert_eq!(failed.len(), 1, "{reports:#?}");
    assert_eq!(failed[0].tenant.as_str(), "harborview");
    assert_eq!(failed[0].source.to_string(), "entra");
    assert!(failed[0].snapshot_id.is_none());
    let problem = failed[0].problems.first().unwrap();
    assert_eq!(problem.input, "entra/users.json");
    assert!(problem.fatal);
    assert_eq!(problem.message, error.message);
    let ok = reports.iter().filter(|r| r.outcome == SyncOutcome::Ok).count();
    assert_eq!(ok, 7, "three other sources of harborview and four of bayside");
    bus.delete().await;
}

#[tokio::test]
async fn broken_tenant_file_fails_its_tenant() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let broken = add_example_tenant(drop_root.path(), "harborview");
    add_example_tenant(drop_root.path(), "bayside");
    let yaml = std::fs::read_to_string(broken.join("tenant.yaml")).unwrap();
    std::fs::write(broken.join("tenant.yaml"), yaml.replacen("slas:", "slaz:", 1)).unwrap();
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);

    let reports = connector.poll().await;

    let FolderStatus::TenantFailed { message } = status(&reports, "harborview") else {
        panic!("harborview should fail: {reports:#?}");
    };
    assert!(message.contains("slaz"), "{message}");
    assert!(message.contains("tenant.yaml"), "{message}");
    assert_eq!(
        published(&outcomes(&reports, "bayside")),
        ["ehr:athenahealth", "entra", "hr", "ldap"]
    );
    assert_eq!(bus.snapshots().await.len(), 4);
    bus.delete().await;
}

#[tokio::test]
async fn tenant_file_broken_later_fails_sources() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    connector.poll().await;
    let snapshots = bus.snapshots().await.len();

    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap();
    std::fs::write(
        dir.join("tenant.yaml"),
        yaml.replacen("time_zone: America/Chicago", "time_zone: Mars/Olympus", 1),
    )
    .unwrap();
    connector.poll().await;
    let reports = connector.poll().await;

    let FolderStatus::TenantFailed { message } = status(&reports, "harborview") else {
        panic!("harborview should fail: {reports:#?}");
    };
    assert!(message.contains("Mars/Olympus"), "{message}");
    assert_eq!(bus.snapshots().await.len(), snapshots, "nothing published");
    let failed: Vec<_> =
        bus.sync_reports().await.into_iter().filter(|r| r.outcome == SyncOutcome::Failed).collect();
    let mut sources: Vec<String> = failed.iter().map(|r| r.source.to_string()).collect();
    sources.sort();
    assert_eq!(sources, ["ehr:athenahealth", "entra", "hr", "ldap"]);
    for report in &failed {
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].input, "tenant.yaml");
        assert_eq!(report.problems[0].message, message);
    }
    bus.delete().await;
}

#[tokio::test]
async fn utf16_tenant_file_fails_its_tenant() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap();
    // UTF-16LE with a byte order mark, as Windows Notepad could save it.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(yaml.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(dir.join("tenant.yaml"), utf16).unwrap();
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);

    let reports = connector.poll().await;
    let again = connector.poll().await;

    let FolderStatus::TenantFailed { message } = status(&reports, "harborview") else {
        panic!("harborview should fail: {reports:#?}");
    };
    assert!(message.contains("UTF-8"), "{message}");
    assert_eq!(status(&again, "harborview"), FolderStatus::Unchanged);
    assert!(bus.snapshots().await.is_empty());
    bus.delete().await;
}

#[tokio::test]
async fn duplicate_tenant_id_is_rejected() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    add_example_tenant(drop_root.path(), "harborview");
    let copy = add_example_tenant(drop_root.path(), "harborview-copy");
    let yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    std::fs::write(
        copy.join("tenant.yaml"),
        yaml.replacen("id: harborview-copy", "id: harborview", 1),
    )
    .unwrap();
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);

    let reports = connector.poll().await;

    assert_eq!(published(&outcomes(&reports, "harborview")).len(), 4);
    let FolderStatus::TenantFailed { message } = status(&reports, "harborview-copy") else {
        panic!("the copy should fail: {reports:#?}");
    };
    assert!(message.contains("already uses"), "{message}");
    bus.delete().await;
}
