//! `rollcall-engine audit verify` as an auditor or MSP engineer runs it: an intact chain
//! exits with 0 and says how many entries it checked; a chain with an entry changed
//! behind the store's back exits with 3 and names the entry.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "support/cli.rs"]
mod cli;
mod support;

use cli::{apply_example, cli_config, engine_cli, remediation_set, text};
use sqlx::ConnectOptions as _;
use support::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_intact_and_altered() {
    let db = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = cli_config(&db, root.path());
    apply_example(&config);
    let changed = engine_cli(&config, &remediation_set("dry_run", &["entra"]));
    assert!(changed.status.success(), "{}", text(&changed.stderr));

    let verify = ["audit", "verify", "--tenant", "harborview"];
    let intact = engine_cli(&config, &verify);
    assert!(intact.status.success(), "{}", text(&intact.stderr));
    let stdout = text(&intact.stdout);
    assert!(stdout.contains("audit chain of tenant `harborview` is intact:"), "{stdout}");
    let store = db.store().await;
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let entries = store.tenant(&tenant).audit_entries(0, 1_000).await.unwrap();
    assert!(!entries.is_empty());
    assert!(stdout.contains(&format!("{} entries checked", entries.len())), "{stdout}");

    // An administrator changes the first entry's actor directly in the database.
    let mut admin = db.admin_options().connect().await.unwrap();
    let changed = sqlx::query(
        "UPDATE rollcall.audit_log SET actor = 'someone else' \
         WHERE tenant_id = 'harborview' AND seq = $1",
    )
    .bind(i64::try_from(entries[0].seq).unwrap())
    .execute(&mut admin)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);

    let broken = engine_cli(&config, &verify);
    assert_eq!(broken.status.code(), Some(3), "{}", text(&broken.stderr));
    let stderr = text(&broken.stderr);
    assert!(
        stderr.contains(&format!(
            "the audit chain of tenant `harborview` is broken: audit entry `{}` was altered after it was written",
            entries[0].seq
        )),
        "{stderr}"
    );
    assert!(text(&broken.stdout).is_empty());

    // A tenant id the store cannot hold is refused before anything is read.
    let bad = engine_cli(&config, &["audit", "verify", "--tenant", "Not A Tenant"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(!text(&bad.stderr).is_empty());
}
