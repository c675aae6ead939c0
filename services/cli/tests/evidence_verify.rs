//! `rollcall evidence verify` on a pack exported from a real PostgreSQL: an intact pack
//! exits 0, a changed decision exits 1 naming the file and item, and a missing folder
//! exits 3.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

#[path = "../../reviews/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use chrono::TimeDelta;
use rollcall_reviews::evidence::{CAMPAIGN_FILE, export_campaign};
use support::TestDb;

fn verify(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["evidence", "verify"])
        .arg(dir)
        .output()
        .unwrap()
}

#[tokio::test]
async fn evidence_verify_reports_by_exit_status() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = common::example_tenant(&store, common::SIGNED_OFF).await;
    let scope = store.tenant(&tenant);
    let (campaign, revoked) = common::closed_campaign(&scope).await;
    let root = tempfile::tempdir().unwrap();
    let pack = root.path().join("pack");
    let at = common::now() + TimeDelta::days(1);
    let summary = export_campaign(&scope, campaign, &pack, at, "officer").await.unwrap();

    let output = verify(&pack);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(&format!("intact: campaign {campaign} of tenant harborview")));
    assert!(stdout.contains(&format!("{} items", summary.items)), "{stdout}");

    // One revocation turned into an approval.
    let item = revoked.first().unwrap();
    let path = pack.join(CAMPAIGN_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let marker = format!("{{\"item_id\":{item},");
    let edited: Vec<String> = text
        .split('\n')
        .map(|line| match line.starts_with(&marker) {
            true => line.replacen("\"decision\":\"revoke\"", "\"decision\":\"approve\"", 1),
            false => line.to_owned(),
        })
        .collect();
    std::fs::write(&path, edited.join("\n")).unwrap();
    let output = verify(&pack);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("campaign.json: item {item}: `decision`")), "{stdout}");
    assert!(stderr.contains("failed verification"), "{stderr}");

    let output = verify(&root.path().join("missing"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot verify the evidence pack"), "{stderr}");
}
