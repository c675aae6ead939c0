//! A NATS server that goes away: the publish fails cleanly, no hash is recorded for the
//! snapshot that was not acknowledged, and the next poll after the server is back
//! publishes it.
//!
//! The test starts its own `nats-server` on a free loopback port with a temporary store,
//! so that it can stop that server by its pid without touching the shared one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::time::{Duration, Instant};

use rollcall_bus::async_nats;
use rollcall_file_connector::metrics::ErrorLabels;
use rollcall_file_connector::{ConnectorMetrics, SourceOutcome};
use rollcall_proto::SyncOutcome;
use support::{
    OwnServer, TestBus, add_example_tenant, connector_with_metrics, expected_content, free_port,
    outcomes, published, try_connect,
};

#[tokio::test]
async fn outage_retried_on_next_poll() {
    let store = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = OwnServer::start(port, store.path());
    let url = format!("127.0.0.1:{port}");
    let client = try_connect(&url).await.unwrap();
    let bus = TestBus::on(&url, client.clone()).await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    // The EHR export alone, so that its snapshot is the first publish of a poll.
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap();
    let yaml = yaml.replacen("  entra: entra\n  ldap: ldap\n  hr: hr/roster.csv\n", "", 1);
    std::fs::write(dir.join("tenant.yaml"), yaml).unwrap();
    for folder in ["entra", "ldap", "hr"] {
        std::fs::remove_dir_all(dir.join(folder)).unwrap();
    }
    // A second tenant, read after the first, whose Entra file breaks during the outage.
    let zephyr = add_example_tenant(drop_root.path(), "zephyr");
    let metrics = ConnectorMetrics::new();
    let mut connector = connector_with_metrics(
        &bus,
        drop_root.path(),
        state_dir.path(),
        Duration::ZERO,
        metrics.clone(),
    );
    let first = connector.poll().await;
    assert_eq!(published(&outcomes(&first, "harborview")), ["ehr:athenahealth"]);
    assert_eq!(published(&outcomes(&first, "zephyr")).len(), 4);
    let first_hash = connector.state().last_hash("harborview", "ehr:athenahealth").unwrap();

    server.stop();
    let export = dir.join("ehr/athena-users.csv");
    let text = std::fs::read_to_string(&export).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&export, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    std::fs::write(zephyr.join("entra/users.json"), "{\"value\": [").unwrap();
    connector.poll().await;
    let during_outage = connector.poll().await;

    let ehr = outcomes(&during_outage, "harborview")
        .into_iter()
        .find(|(source, _)| source == "ehr:athenahealth")
        .unwrap();
    let SourceOutcome::PublishFailed { error } = &ehr.1 else {
        panic!("the publish should fail: {:?}", ehr.1);
    };
    assert!(error.contains("failed after 2 attempts"), "{error}");
    let publish_errors = ErrorLabels {
        tenant: "harborview".to_owned(),
        source: "ehr:athenahealth".to_owned(),
        stage: "publish".to_owned(),
    };
    assert_eq!(metrics.errors.get_or_create(&publish_errors).get(), 1);
    assert_eq!(
        connector.state().last_hash("harborview", "ehr:athenahealth"),
        Some(first_hash),
        "no hash is recorded for a snapshot that was not acknowledged"
    );

    let _server = OwnServer::start(port, store.path());
    let reconnect = Instant::now();
    while client.connection_state() != async_nats::connection::State::Connected {
        assert!(reconnect.elapsed() < Duration::from_secs(30), "the client did not reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after_outage = connector.poll().await;

    assert_eq!(published(&outcomes(&after_outage, "harborview")), ["ehr:athenahealth"]);
    let new_hash = connector.state().last_hash("harborview", "ehr:athenahealth").unwrap();
    assert_ne!(new_hash, first_hash);
    let ehr_expected = expected_content(&dir, "ehr:athenahealth");
    let snapshots = bus.snapshots().await;
    let subject = bus.namespace().snapshot_subject("harborview", "ehr:athenahealth").unwrap();
    let ehr_snapshots: Vec<_> = snapshots.iter().filter(|(s, _)| *s == subject).collect();
    // The retry reuses the failed attempt's snapshot id, so chunks that the client sent
    // after reconnecting and the retry's copies make one snapshot, not two.
    assert_eq!(ehr_snapshots.len(), 2);
    assert_eq!(ehr_snapshots[1].1.content, ehr_expected);
    assert_eq!(ehr_snapshots[1].1.content_hash, new_hash);
    // The read during the outage sent no report for harborview, because its snapshot was
    // not stored. Zephyr's reports of that read were kept and sent after the restart.
    let reports = bus.sync_reports().await;
    let harborview: Vec<_> = reports.iter().filter(|r| r.tenant.as_str() == "harborview").collect();
    assert_eq!(harborview.len(), 2, "{harborview:#?}");
    assert_eq!(harborview[1].snapshot_id, Some(ehr_snapshots[1].1.snapshot_id));
    let zephyr_failed: Vec<_> = reports
        .iter()
        .filter(|r| r.tenant.as_str() == "zephyr" && r.outcome == SyncOutcome::Failed)
        .collect();
    assert_eq!(zephyr_failed.len(), 1, "{reports:#?}");
    assert_eq!(zephyr_failed[0].problems[0].input, "entra/users.json");
    bus.delete().await;
}
