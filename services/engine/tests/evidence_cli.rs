//! `rollcall-engine evidence export` as a security officer runs it: the pack of a closed
//! campaign is written and verifies, and a used folder or an unknown campaign is reported
//! with exit status 1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

#[path = "../../reviews/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use rollcall_reviews::evidence::verify_pack;
use support::TestDb;

fn export(config: &Path, tenant: &str, campaign: &str, out: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall-engine"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROLLCALL_") {
            command.env_remove(name);
        }
    }
    command
        .arg("--config")
        .arg(config)
        .args(["evidence", "export", "--tenant", tenant, "--campaign", campaign, "--out"])
        .arg(out)
        .args(["--actor", "officer@harborview.example"])
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_export_writes_a_verifiable_pack() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = common::example_tenant(&store, common::SIGNED_OFF).await;
    let (campaign, _) = common::closed_campaign(&store.tenant(&tenant)).await;
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("engine.yaml");
    std::fs::write(
        &config,
        format!("nats: {{url: \"127.0.0.1:4222\"}}\npostgres: {{url: \"{}\"}}\n", db.app_url()),
    )
    .unwrap();
    let out = root.path().join("pack");

    let output = export(&config, tenant.as_str(), &campaign.to_string(), &out);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("campaign `{campaign}` of tenant `harborview` exported")));
    let verification = verify_pack(&out).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);

    // The same folder again: the export does not mix two packs.
    let output = export(&config, tenant.as_str(), &campaign.to_string(), &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");

    let unknown = uuid::Uuid::new_v4().to_string();
    let output = export(&config, tenant.as_str(), &unknown, &root.path().join("other"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("has no campaign `{unknown}`")), "{stderr}");
    assert!(!root.path().join("other").exists());

    // A campaign id that is not a UUID is a usage error.
    let output = export(&config, tenant.as_str(), "q4-review", &root.path().join("third"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("q4-review"), "{stderr}");
}
