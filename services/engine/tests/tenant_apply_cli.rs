//! `rollcall-engine tenant apply` as an operator runs it: a valid folder is stored, a
//! folder without `tenant.yaml` or with an invalid one is reported with the message
//! `rollcall scan` prints for it, and the exit status is 3.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::process::Command;

use support::{TestDb, example_dir};

fn apply(config: &std::path::Path, dirs: &[&std::path::Path]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall-engine"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROLLCALL_") {
            command.env_remove(name);
        }
    }
    command.arg("--config").arg(config).args(["tenant", "apply"]).args(dirs).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_apply_stores_and_reports_like_scan() {
    let db = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("engine.yaml");
    std::fs::write(
        &config,
        format!("nats: {{url: \"127.0.0.1:4222\"}}\npostgres: {{url: \"{}\"}}\n", db.app_url()),
    )
    .unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let invalid = root.path().join("invalid");
    std::fs::create_dir_all(&invalid).unwrap();
    std::fs::write(
        invalid.join("tenant.yaml"),
        "tenant:\n  id: Not Valid\n  name: x\n  time_zone: America/Chicago\n",
    )
    .unwrap();

    let output = apply(&config, &[&example_dir(), &empty, &invalid]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("tenant `harborview` applied"), "{stdout}");

    let missing = rollcall_ingest::layout::load_tenant(&empty, support::as_of()).unwrap_err();
    assert!(stderr.contains(&missing.to_string()), "{stderr}");
    let wrong = rollcall_ingest::layout::load_tenant(&invalid, support::as_of()).unwrap_err();
    assert!(stderr.contains(&wrong.to_string()), "{stderr}");

    let store = db.store().await;
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let stored = store.tenant(&tenant).tenant_config().await.unwrap().unwrap();
    let text = std::fs::read_to_string(example_dir().join("tenant.yaml")).unwrap();
    assert_eq!(stored.text.tenant_yaml, text);

    // Applying the same folder again changes nothing.
    let output = apply(&config, &[&example_dir()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("tenant `harborview` unchanged"));
}
