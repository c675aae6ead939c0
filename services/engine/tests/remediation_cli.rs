//! `rollcall-engine remediation` as an MSP engineer runs it. `show` prints a tenant's
//! mode. `set` stores a new one with the actor in the audit chain, and warns when the
//! configuration has no write credentials for a source. Invalid arguments are rejected
//! with the fix before anything is stored.

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

use cli::{cli_config, engine_cli, text};
use rollcall_store::{RemediationMode, RemediationSettings};
use support::{TestDb, example_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_mode_set_and_shown() {
    let db = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = cli_config(&db, root.path());
    let example = example_dir();
    let applied = engine_cli(&config, &["tenant", "apply", example.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));

    let shown = engine_cli(&config, &["remediation", "show", "--tenant", "harborview"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(
        text(&shown.stdout).contains("tenant `harborview`: remediation off for sources []"),
        "{}",
        text(&shown.stdout)
    );

    let set =
        ["remediation", "set", "--tenant", "harborview", "--actor", "msp.engineer@msp.example"];
    let no_source = engine_cli(&config, &[&set[..], &["--mode", "enforce"]].concat());
    assert_eq!(no_source.status.code(), Some(1));
    assert!(text(&no_source.stderr).contains("--mode enforce needs at least one --source"));
    let bad_mode =
        engine_cli(&config, &[&set[..], &["--mode", "on", "--source", "entra"]].concat());
    assert_eq!(bad_mode.status.code(), Some(1));
    assert!(text(&bad_mode.stderr).contains("use off, dry_run or enforce"));
    let bad_source =
        engine_cli(&config, &[&set[..], &["--mode", "dry_run", "--source", "okta"]].concat());
    assert_eq!(bad_source.status.code(), Some(1));
    assert!(text(&bad_source.stderr).contains("--source `okta` is not a source id"));

    let store = db.store().await;
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let scope = store.tenant(&tenant);
    assert_eq!(scope.remediation_settings().await.unwrap(), RemediationSettings::default());

    let dry_run = engine_cli(
        &config,
        &[&set[..], &["--mode", "dry_run", "--source", "entra", "--source", "ehr:athena"]].concat(),
    );
    assert!(dry_run.status.success(), "{}", text(&dry_run.stderr));
    assert!(
        text(&dry_run.stdout).contains("remediation dry_run for sources ["),
        "{}",
        text(&dry_run.stdout)
    );
    // The configuration has no `remediation` section, so both sources lack credentials.
    let warnings = text(&dry_run.stderr);
    assert!(warnings.contains("no write credentials for source `entra`"), "{warnings}");
    assert!(warnings.contains("set remediation.tenants.harborview"), "{warnings}");

    let stored = scope.remediation_settings().await.unwrap();
    assert_eq!(stored.mode, RemediationMode::DryRun);
    let sources: Vec<String> = stored.sources.iter().map(ToString::to_string).collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert!(sources.contains(&"entra".to_owned()), "{sources:?}");
    assert!(sources.contains(&"ehr:athena".to_owned()), "{sources:?}");
    let entries = scope.audit_entries(0, 1000).await.unwrap();
    let changed: Vec<_> =
        entries.iter().filter(|entry| entry.action == "remediation.settings_changed").collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].actor, "msp.engineer@msp.example");

    let shown = engine_cli(&config, &["remediation", "show", "--tenant", "harborview"]);
    assert!(text(&shown.stdout).contains("remediation dry_run"), "{}", text(&shown.stdout));
}
