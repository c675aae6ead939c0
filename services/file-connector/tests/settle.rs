//! Files that are still being written: a slowly appended export is read only once it
//! settles, and a temporary upload is read once, after its rename.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::io::Write as _;
use std::time::Duration;

use rollcall_file_connector::FolderStatus;
use support::{
    TestBus, add_example_tenant, connector, expected_content, outcomes, published, status,
};

/// Returns the example's EHR export without its last user, and the full export.
fn shortened_export(dir: &std::path::Path) -> (String, String) {
    let full = std::fs::read_to_string(dir.join("ehr/athena-users.csv")).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    (lines[..lines.len() - 1].join("\n") + "\n", full)
}

#[tokio::test]
async fn slow_write_read_after_settle() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    let settle = Duration::from_millis(1500);
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), settle);
    assert_eq!(status(&connector.poll().await, "harborview"), FolderStatus::Settling);
    tokio::time::sleep(settle).await;
    assert_eq!(published(&outcomes(&connector.poll().await, "harborview")).len(), 4);
    let before = bus.snapshots().await.len();

    // Rewrite the export in four steps, 300 ms apart, polling between steps.
    let (shortened, _) = shortened_export(&dir);
    let bytes = shortened.as_bytes();
    let mut file = std::fs::File::create(dir.join("ehr/athena-users.csv")).unwrap();
    let step = bytes.len().div_ceil(4);
    let mut during = Vec::new();
    for part in bytes.chunks(step) {
        file.write_all(part).unwrap();
        file.flush().unwrap();
        during.push(status(&connector.poll().await, "harborview"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(file);
    during.push(status(&connector.poll().await, "harborview"));
    tokio::time::sleep(settle).await;
    let settled = connector.poll().await;

    assert!(during.iter().all(|s| *s == FolderStatus::Settling), "{during:#?}");
    assert_eq!(published(&outcomes(&settled, "harborview")), ["ehr:athenahealth"]);
    let snapshots = bus.snapshots().await;
    assert_eq!(snapshots.len(), before + 1, "one snapshot for the whole write");
    let ehr = expected_content(&dir, "ehr:athenahealth");
    assert_eq!(snapshots.last().map(|(_, s)| &s.content), Some(&ehr));
    bus.delete().await;
}

#[tokio::test]
async fn renamed_upload_read_once() {
    let bus = TestBus::new().await;
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let dir = add_example_tenant(drop_root.path(), "harborview");
    let mut connector = connector(&bus, drop_root.path(), state_dir.path(), Duration::ZERO);
    connector.poll().await;
    let before = bus.snapshots().await.len();

    let (shortened, _) = shortened_export(&dir);
    let temporary = dir.join("ehr/athena-users.csv.tmp");
    std::fs::write(&temporary, &shortened[..shortened.len() / 2]).unwrap();
    let while_uploading = connector.poll().await;
    std::fs::write(&temporary, &shortened).unwrap();
    let after_upload = connector.poll().await;
    std::fs::rename(&temporary, dir.join("ehr/athena-users.csv")).unwrap();
    let noticed = connector.poll().await;
    let reread = connector.poll().await;
    let later = connector.poll().await;

    assert_eq!(status(&while_uploading, "harborview"), FolderStatus::Unchanged);
    assert_eq!(status(&after_upload, "harborview"), FolderStatus::Unchanged);
    assert_eq!(status(&noticed, "harborview"), FolderStatus::Settling);
    assert_eq!(published(&outcomes(&reread, "harborview")), ["ehr:athenahealth"]);
    assert_eq!(status(&later, "harborview"), FolderStatus::Unchanged);
    assert_eq!(bus.snapshots().await.len(), before + 1);
    bus.delete().await;
}
