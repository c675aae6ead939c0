//! A PostgreSQL backup and restore as the operations guide (`docs/operations/backup.md`)
//! describes it. `pg_dump` runs as a backup role with `BYPASSRLS` and `pg_read_all_data`.
//! `pg_restore` runs as the server administrator, into a new database owned by the
//! schema owner. Then `rollcall-engine audit verify` checks the restored database: the
//! chain must be the same, entry for entry, and still verify.

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

use std::path::Path;
use std::process::Command;

use cli::{apply_example, cli_config, engine_cli, remediation_set, text};
use rollcall_core::TenantId;
use sqlx::{AssertSqlSafe, ConnectOptions as _};
use support::TestDb;

/// Runs a PostgreSQL client program against the local server and fails with its output.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(["--host", "127.0.0.1", "--port", "5432"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot start ({e}); install postgresql-client"));
    assert!(output.status.success(), "{program} {args:?} failed: {}", text(&output.stderr));
}

async fn chain(db: &TestDb) -> Vec<(u64, String, [u8; 32])> {
    let store = db.store().await;
    let tenant = TenantId::new("harborview").unwrap();
    let entries = store.tenant(&tenant).audit_entries(0, 100_000).await.unwrap();
    entries.into_iter().map(|e| (e.seq, e.action, e.sha256)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_and_restore_keep_audit_chain() {
    let source = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = cli_config(&source, root.path());
    apply_example(&config);
    let changed = engine_cli(&config, &remediation_set("dry_run", &["entra"]));
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    let before = chain(&source).await;
    assert!(before.len() >= 2, "{before:?}");

    // The backup role of the guide. Row-level security is forced, so only a role that
    // bypasses it dumps every tenant's rows.
    let mut admin = source.admin_options().connect().await.unwrap();
    sqlx::query(AssertSqlSafe(
        "DO $$ BEGIN CREATE ROLE rollcall_backup LOGIN BYPASSRLS IN ROLE pg_read_all_data; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let dump = root.path().join("rollcall.pgc");
    let dump_arg = dump.to_str().unwrap();
    run(
        "pg_dump",
        &[
            "--username",
            "rollcall_backup",
            "--dbname",
            &source.name,
            "--format",
            "custom",
            "--file",
            dump_arg,
        ],
    );
    assert!(Path::new(&dump).metadata().unwrap().len() > 0);

    // The new database, owned by the schema owner, restored by the administrator.
    let target = TestDb::create_empty().await;
    run(
        "pg_restore",
        &["--username", "postgres", "--dbname", &target.name, "--exit-on-error", dump_arg],
    );

    // The same chain, and the engine's own check passes on it.
    assert_eq!(chain(&target).await, before, "the restored audit chain");
    let restored = root.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    let restored_config = cli_config(&target, &restored);
    let verify = engine_cli(&restored_config, &["audit", "verify", "--tenant", "harborview"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    let stdout = text(&verify.stdout);
    assert!(stdout.contains(&format!("{} entries checked", before.len())), "{stdout}");

    // The restored database takes new entries on the same chain.
    let again = engine_cli(&restored_config, &remediation_set("off", &[]));
    assert!(again.status.success(), "{}", text(&again.stderr));
    let after = chain(&target).await;
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(after[..before.len()], before[..]);
    let verify = engine_cli(&restored_config, &["audit", "verify", "--tenant", "harborview"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}
