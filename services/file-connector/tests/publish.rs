//! The connector against the shared NATS server: the example practice published source
//! by source, and nothing published again while nothing changed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::time::Duration;

use rollcall_file_connector::{FolderStatus, SourceOutcome};
use rollcall_proto::SyncOutcome;
use support::{
    TestBus, add_example_tenant, connector, expected_content, expected_contents, outcomes,
    published, status,
};

#[tokio::test]
async fn example_tenant_matches_ingest() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);

    let reports = connector.poll().await;

    let outcomes = outcomes(&reports, "harborview");
    assert_eq!(published(&outcomes), ["ehr:athenahealth", "entra", "hr", "ldap"]);
    let expected = expected_contents(&dir);
    let snapshots = bus.snapshots().await;
    assert_eq!(snapshots.len(), expected.len());
    for (source, content) in &expected {
        let subject = bus.namespace().snapshot_subject("harborview", source).unwrap();
        let found: Vec<_> = snapshots.iter().filter(|(s, _)| *s == subject).collect();
        assert_eq!(found.len(), 1, "one snapshot on `{subject}`");
        assert_eq!(found[0].1.tenant.as_str(), "harborview");
        assert_eq!(found[0].1.content, *content, "content of `{source}`");
    }
    let reports = bus.sync_reports().await;
    let mut reported: Vec<String> = reports.iter().map(|r| r.source.to_string()).collect();
    reported.sort();
    assert_eq!(reported, ["ehr:athenahealth", "entra", "hr", "ldap"]);
    for report in &reports {
        let snapshot = snapshots
            .iter()
            .find(|(_, s)| Some(s.snapshot_id) == report.snapshot_id)
            .unwrap_or_else(|| panic!("no snapshot for the report of `{}`", report.source));
        assert_eq!(report.outcome, SyncOutcome::Ok);
        assert_eq!(report.content_hash, Some(snapshot.1.content_hash));
        assert_eq!(report.connector, "file-connector");
    }
    let entra_chunks = outcomes.iter().find_map(|(source, outcome)| match outcome {
        SourceOutcome::Published { chunks, .. } if source == "entra" => Some(*chunks),
        _ => None,
    });
    assert!(entra_chunks.unwrap() > 1, "the Entra snapshot spans several chunks");
    bus.delete().await;
}

#[tokio::test]
async fn unchanged_files_not_republished() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    add_example_tenant(drop_root.path(), "harborview");
    let mut first = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    first.poll().await;
    let stored = bus.snapshot_chunks().await;

    let again = first.poll().await;
    drop(first);
    let mut restarted = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    let after_restart = restarted.poll().await;

    assert_eq!(status(&again, "harborview"), FolderStatus::Unchanged);
    let outcomes = outcomes(&after_restart, "harborview");
    assert!(published(&outcomes).is_empty(), "{outcomes:#?}");
    let unchanged: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, SourceOutcome::Unchanged { .. }))
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(unchanged, ["entra", "ldap", "ehr:athenahealth", "hr"]);
    assert_eq!(bus.snapshot_chunks().await, stored);
    bus.delete().await;
}

#[tokio::test]
async fn changed_file_republishes_its_source() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    connector.poll().await;
    let before = bus.snapshots().await.len();

    // Drop the export's last user: a real change of the EHR source's content.
    let export = dir.join("ehr/athena-users.csv");
    let text = std::fs::read_to_string(&export).unwrap();
    let kept: Vec<&str> = text.lines().collect();
    std::fs::write(&export, kept[..kept.len() - 1].join("\n") + "\n").unwrap();
    let noticed = connector.poll().await;
    let reread = connector.poll().await;

    assert_eq!(status(&noticed, "harborview"), FolderStatus::Settling);
    assert_eq!(published(&outcomes(&reread, "harborview")), ["ehr:athenahealth"]);
    let snapshots = bus.snapshots().await;
    assert_eq!(snapshots.len(), before + 1);
    let ehr = expected_content(&dir, "ehr:athenahealth");
    assert_eq!(snapshots.last().map(|(_, s)| &s.content), Some(&ehr));
    bus.delete().await;
}

#[tokio::test]
async fn lost_state_republishes_same_content() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    add_example_tenant(drop_root.path(), "harborview");
    let mut first = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    first.poll().await;
    drop(first);

    std::fs::remove_file(state_dir.path().join(rollcall_file_connector::state::STATE_FILE))
        .unwrap();
    let mut restarted = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    let reports = restarted.poll().await;

    assert_eq!(published(&outcomes(&reports, "harborview")).len(), 4);
    // Same content hash and collection instant, so the engine's store skips each second
    // copy as a duplicate.
    let snapshots = bus.snapshots().await;
    assert_eq!(snapshots.len(), 8);
    for (subject, snapshot) in &snapshots[4..] {
        let earlier = snapshots[..4].iter().find(|(s, _)| s == subject).unwrap();
        assert_eq!(earlier.1.content_hash, snapshot.content_hash, "{subject}");
        assert_eq!(earlier.1.content.collected_at(), snapshot.content.collected_at(), "{subject}");
        assert_ne!(earlier.1.snapshot_id, snapshot.snapshot_id, "{subject}");
    }
    bus.delete().await;
}

#[tokio::test]
async fn new_tenant_folder_picked_up() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    add_example_tenant(drop_root.path(), "harborview");
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    let before = connector.poll().await;

    add_example_tenant(drop_root.path(), "bayside");
    let after = connector.poll().await;

    assert_eq!(before.len(), 1);
    assert_eq!(
        published(&outcomes(&after, "bayside")),
        ["ehr:athenahealth", "entra", "hr", "ldap"]
    );
    assert_eq!(status(&after, "harborview"), FolderStatus::Unchanged);
    bus.delete().await;
}
