//! `rollcall-engine remediation` as an MSP engineer runs it. `show` prints a tenant's
//! mode. `set` stores a new one with the actor in the audit chain, warns when the
//! configuration has no write credentials for a source, and goes to enforce only after a
//! dry run. `tasks` lists the tasks and `approve` records EPCS approvals. Invalid
//! arguments are rejected with the fix before anything is stored.

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
use rollcall_store::{NewRemediationTask, RemediationMode, RemediationSettings, TaskKind};
use support::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_mode_set_and_shown() {
    let db = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = cli_config(&db, root.path());
    apply_example(&config);

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

    // After the dry run, enforce is accepted.
    let enforce =
        engine_cli(&config, &[&set[..], &["--mode", "enforce", "--source", "entra"]].concat());
    assert!(enforce.status.success(), "{}", text(&enforce.stderr));
    assert_eq!(scope.remediation_settings().await.unwrap().mode, RemediationMode::Enforce);
}

/// A tenant whose remediation is off cannot go to enforce without a dry run first, and
/// nothing is stored when it tries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_needs_dry_run_first() {
    let db = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = cli_config(&db, root.path());
    apply_example(&config);
    let enforce = remediation_set("enforce", &["entra"]);
    let refused = engine_cli(&config, &enforce);
    assert_eq!(refused.status.code(), Some(1));
    let message = text(&refused.stderr);
    assert!(message.contains("set --mode dry_run first"), "{message}");
    assert!(message.contains("remediation tasks --tenant harborview"), "{message}");
    let store = db.store().await;
    let scope = store.tenant(&rollcall_core::TenantId::new("harborview").unwrap());
    assert_eq!(scope.remediation_settings().await.unwrap(), RemediationSettings::default());
    let entries = scope.audit_entries(0, 1000).await.unwrap();
    assert!(entries.iter().all(|e| e.action != "remediation.settings_changed"));
}

/// `tasks` lists the tenant's tasks, and `approve` records two different people's
/// approvals of an EPCS task, refusing the same person twice and any other task kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epcs_task_approved_by_two_people() {
    let db = TestDb::create().await;
    let root = tempfile::tempdir().unwrap();
    let config = cli_config(&db, root.path());
    apply_example(&config);
    let store = db.store().await;
    let scope = store.tenant(&rollcall_core::TenantId::new("harborview").unwrap());

    let none = engine_cli(&config, &["remediation", "tasks", "--tenant", "harborview"]);
    assert!(text(&none.stdout).contains("no remediation tasks"), "{}", text(&none.stdout));

    let task = |kind: TaskKind, account: &str, epcs: bool| NewRemediationTask {
        kind,
        employee_id: "E1004".to_owned(),
        source: "ehr:athena".parse().unwrap(),
        account_id: account.to_owned(),
        login: Some(format!("{account}-login")),
        privileged: false,
        epcs,
        grant: None,
    };
    let planned = scope
        .plan_remediation(
            &[task(TaskKind::EpcsTask, "u-77", true), task(TaskKind::EhrTask, "u-78", false)],
            "rollcall-engine",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let (epcs_id, ehr_id) = (planned[0].0.task_id.clone(), planned[1].0.task_id.clone());

    let listed = engine_cli(&config, &["remediation", "tasks", "--tenant", "harborview"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let lines = text(&listed.stdout);
    let epcs_line = lines.lines().find(|l| l.starts_with(&epcs_id)).unwrap();
    assert!(
        epcs_line.contains("epcs_task planned ehr:athena/u-77-login employee E1004"),
        "{epcs_line}"
    );
    assert!(epcs_line.contains("approvals 0/2 []"), "{epcs_line}");
    assert!(lines.lines().any(|l| l.starts_with(&ehr_id) && !l.contains("approvals")), "{lines}");

    let approve = |task: &str, actor: &str| {
        engine_cli(
            &config,
            &["remediation", "approve", "--tenant", "harborview", "--task", task, "--actor", actor],
        )
    };
    let first = approve(&epcs_id, "security.officer@harborview.example");
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("a second person must approve it too"));
    let again = approve(&epcs_id, "security.officer@harborview.example");
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("must come from another person"),
        "{}",
        text(&again.stderr)
    );
    let second = approve(&epcs_id, "medical.director@harborview.example");
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).contains("the second approver"), "{}", text(&second.stdout));
    let other = approve(&ehr_id, "medical.director@harborview.example");
    assert_eq!(other.status.code(), Some(1));
    assert!(text(&other.stderr).contains("is not an EPCS task"), "{}", text(&other.stderr));
    let unknown = approve("no-such-task", "medical.director@harborview.example");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("has no task `no-such-task`"));

    let stored = scope.remediation_task(&epcs_id).await.unwrap().unwrap();
    assert!(stored.is_approved());
    let approvals = scope.audit_entries(0, 1000).await.unwrap();
    let approvals: Vec<_> =
        approvals.iter().filter(|e| e.action == "remediation.approved").collect();
    assert_eq!(approvals.len(), 2);
    let listed = engine_cli(&config, &["remediation", "tasks", "--tenant", "harborview"]);
    assert!(text(&listed.stdout).contains(
        "approvals 2/2 [security.officer@harborview.example, medical.director@harborview.example]"
    ));
}
