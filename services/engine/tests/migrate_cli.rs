//! `rollcall-engine migrate` as an operator runs it before the first start: it creates
//! the schema the runtime role needs, a second run changes nothing, and a failure names
//! the database without the password.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::process::{Command, Output};

use rollcall_store::{Store, StoreError, StoreOptions};
use support::{TestDb, closed_port};

fn migrate(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall-engine"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROLLCALL_") {
            command.env_remove(name);
        }
    }
    command.arg("migrate").args(args).output().unwrap()
}

fn owner_url(db: &TestDb) -> String {
    let options = db.owner_options();
    format!(
        "postgres://rollcall_migrator@{}:{}/{}",
        options.get_host(),
        options.get_port(),
        db.name
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_once() {
    let db = TestDb::create_empty().await;
    let before = Store::connect(&db.app_url(), &StoreOptions::default()).await;
    assert!(matches!(before, Err(StoreError::Role(_))), "{before:?}");

    let first = migrate(&["--owner-url", &owner_url(&db)]);
    let second = migrate(&["--owner-url", &owner_url(&db)]);

    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("is migrated"));
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let store = db.store().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_reads_the_url_from_a_file() {
    let db = TestDb::create_empty().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("owner-url");
    std::fs::write(&file, format!("{}\n", owner_url(&db))).unwrap();

    let output = migrate(&["--owner-url-file", file.to_str().unwrap()]);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let store = db.store().await;
    store.close().await;
}

#[test]
fn failed_migration_hides_the_password() {
    let url =
        format!("postgres://rollcall_migrator:s3cret-pw@127.0.0.1:{}/rollcall", closed_port());

    let output = migrate(&["--owner-url", &url]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("database `rollcall` on 127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}

#[test]
fn migrate_needs_an_owner_url() {
    let output = migrate(&[]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("--owner-url"), "{stderr}");
}

#[test]
fn unreadable_url_file_is_named() {
    let output = migrate(&["--owner-url-file", "/nonexistent/rollcall/owner-url"]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("/nonexistent/rollcall/owner-url"), "{stderr}");
}
