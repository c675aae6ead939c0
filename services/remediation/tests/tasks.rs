//! EHR and EPCS tasks, approvals, idempotent planning and the audit chain, against
//! PostgreSQL only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use common::{TENANT, at, remediation_actions, switch, target};
use rollcall_core::model::{Account, AccountStatus, SourceId, SourceSnapshot};
use rollcall_entra_connector::HttpTransport;
use rollcall_remediation::{
    ApprovalOutcome, Executor, Mode, OutcomeKind, RemediationError, Target, TaskKind, TaskState,
    plan, verify_ehr_tasks,
};
use support::TestDb;
use support::fixtures::add_tenant;

fn prescriber() -> Target {
    Target { epcs: true, ..target("ehr:epic", "EPIC-7731", "dr.okafor") }
}

fn executor<'a>(scope: &rollcall_store::TenantScope<'a>) -> Executor<'a, HttpTransport> {
    Executor::new(scope.clone())
}

fn ehr_snapshot(accounts: &[(&str, AccountStatus)]) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    snapshot.collected_at = Some(at(60));
    for (id, status) in accounts {
        let mut account = Account::new(*id);
        account.status = *status;
        snapshot.accounts.push(account);
    }
    snapshot
}

#[tokio::test]
async fn epcs_task_needs_two_approvers() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ehr:epic"]).await;
    let actions = plan(&[prescriber()], &settings);
    assert_eq!(actions[0].kind, TaskKind::EpcsTask);
    let mut executor = executor(&scope);

    let outcomes = executor.run(&actions, settings.mode, at(1)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::AwaitingApproval);
    let task_id = outcomes[0].task_id.clone();

    // One approval is not enough.
    let first = scope.approve_remediation_task(&task_id, "alice@practice.example", at(2)).await;
    assert_eq!(first.unwrap(), ApprovalOutcome::Recorded(1));
    let outcomes = executor.run(&actions, settings.mode, at(3)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::AwaitingApproval);

    // The same person cannot give the second approval.
    let same = scope.approve_remediation_task(&task_id, "alice@practice.example", at(4)).await;
    assert_eq!(same.unwrap(), ApprovalOutcome::SameApprover);
    let outcomes = executor.run(&actions, settings.mode, at(5)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::AwaitingApproval);
    let task = scope.remediation_task(&task_id).await.unwrap().unwrap();
    assert_eq!(task.state, TaskState::AwaitingApproval);
    assert_eq!(task.second_approver, None);

    // A second person approves; the task opens.
    let second = scope.approve_remediation_task(&task_id, "bob@practice.example", at(6)).await;
    assert_eq!(second.unwrap(), ApprovalOutcome::Recorded(2));
    let third = scope.approve_remediation_task(&task_id, "carol@practice.example", at(7)).await;
    assert_eq!(third.unwrap(), ApprovalOutcome::AlreadyApproved);
    let outcomes = executor.run(&actions, settings.mode, at(8)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Opened);
    let outcomes = executor.run(&actions, settings.mode, at(9)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::AlreadyCarriedOut(TaskState::Open));

    let task = scope.remediation_task(&task_id).await.unwrap().unwrap();
    assert_eq!(task.first_approver.as_deref(), Some("alice@practice.example"));
    assert_eq!(task.second_approver.as_deref(), Some("bob@practice.example"));
    assert_eq!(
        remediation_actions(&scope).await,
        [
            "remediation.planned",
            "remediation.awaiting_approval",
            "remediation.approved",
            "remediation.approved",
            "remediation.open",
        ]
    );
    let approvals: Vec<String> = common::audit(&scope)
        .await
        .into_iter()
        .filter(|r| r.action == "remediation.approved")
        .map(|r| r.actor)
        .collect();
    assert_eq!(approvals, ["alice@practice.example", "bob@practice.example"]);
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn epcs_table_rejects_same_second_approver() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ehr:epic"]).await;
    let actions = plan(&[prescriber()], &settings);
    let outcomes = executor(&scope).run(&actions, settings.mode, at(1)).await.unwrap();
    let task_id = &outcomes[0].task_id;
    scope.approve_remediation_task(task_id, "alice@practice.example", at(2)).await.unwrap();

    // A write that bypasses the store's check still cannot record the same person twice.
    let admin = db.admin_pool().await;
    let error = sqlx::query(
        "UPDATE rollcall.remediation_tasks SET second_approver = first_approver \
         WHERE task_id = $1",
    )
    .bind(task_id)
    .execute(&admin)
    .await
    .unwrap_err();
    assert_eq!(error.as_database_error().unwrap().code().as_deref(), Some("23514"));
}

#[tokio::test]
async fn approval_of_other_tasks() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ehr:epic"]).await;
    let actions = plan(&[target("ehr:epic", "EPIC-2001", "mlee")], &settings);
    let outcomes = executor(&scope).run(&actions, settings.mode, at(1)).await.unwrap();

    let plain = scope.approve_remediation_task(&outcomes[0].task_id, "alice", at(2)).await;
    assert_eq!(plain.unwrap(), ApprovalOutcome::NotRequired);
    let unknown = scope.approve_remediation_task(&"0".repeat(64), "alice", at(2)).await;
    assert_eq!(unknown.unwrap(), ApprovalOutcome::NotFound);
}

#[tokio::test]
async fn ehr_task_verified_by_next_export() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ehr:epic"]).await;
    let targets =
        [target("ehr:epic", "EPIC-2001", "mlee"), target("ehr:epic", "EPIC-2002", "tnguyen")];
    let actions = plan(&targets, &settings);
    assert!(actions.iter().all(|a| a.kind == TaskKind::EhrTask));

    let outcomes = executor(&scope).run(&actions, settings.mode, at(1)).await.unwrap();
    assert!(outcomes.iter().all(|o| o.kind == OutcomeKind::Opened), "{outcomes:?}");
    let opened =
        common::audit(&scope).await.into_iter().find(|r| r.action == "remediation.open").unwrap();
    assert!(opened.detail.contains("ehr:epic"), "{}", opened.detail);
    assert!(opened.detail.contains("EPIC-2001"), "{}", opened.detail);

    // An export with both accounts still enabled verifies nothing.
    let still_enabled = ehr_snapshot(&[
        ("EPIC-2001", AccountStatus::Enabled),
        ("EPIC-2002", AccountStatus::Enabled),
    ]);
    assert!(verify_ehr_tasks(&scope, &still_enabled, at(60)).await.unwrap().is_empty());

    // One disabled, one removed: both verified.
    let done = ehr_snapshot(&[
        ("EPIC-2001", AccountStatus::Disabled),
        ("EPIC-9999", AccountStatus::Enabled),
    ]);
    let verified = verify_ehr_tasks(&scope, &done, at(61)).await.unwrap();
    assert_eq!(verified.len(), 2);
    assert!(verified.iter().all(|t| t.state == TaskState::Verified));

    // An export of another EHR does not touch them, and verifying again adds nothing.
    let mut other = ehr_snapshot(&[]);
    other.source = SourceId::ehr("athenahealth").unwrap();
    assert!(verify_ehr_tasks(&scope, &other, at(62)).await.unwrap().is_empty());
    assert!(verify_ehr_tasks(&scope, &done, at(63)).await.unwrap().is_empty());

    let verified_entries: Vec<String> = common::audit(&scope)
        .await
        .into_iter()
        .filter(|r| r.action == "remediation.verified")
        .map(|r| r.detail)
        .collect();
    assert_eq!(verified_entries.len(), 2);
    assert!(verified_entries.iter().any(|d| d.contains("\"export_status\":\"disabled\"")));
    assert!(verified_entries.iter().any(|d| d.contains("\"export_status\":\"absent\"")));
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn planning_twice_keeps_one_task() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::DryRun, &["ehr:epic", "ldap"]).await;
    let targets = [
        target("ehr:epic", "EPIC-2001", "mlee"),
        target("ldap", "cn=Lee\\, Morgan,ou=Staff,dc=harborview,dc=example", "mlee"),
    ];
    let actions = plan(&targets, &settings);

    let first = executor(&scope).run(&actions, settings.mode, at(1)).await.unwrap();
    let second = executor(&scope).run(&actions, settings.mode, at(2)).await.unwrap();
    assert_eq!(
        first.iter().map(|o| &o.task_id).collect::<Vec<_>>(),
        second.iter().map(|o| &o.task_id).collect::<Vec<_>>()
    );
    assert_eq!(scope.remediation_tasks().await.unwrap().len(), 2);
    assert_eq!(
        remediation_actions(&scope).await,
        [
            "remediation.planned",
            "remediation.planned",
            "remediation.dry_run",
            "remediation.dry_run"
        ]
    );

    // The same account of another leaver (a reused login) is another task.
    let reused = Target { employee_id: "E2077".into(), ..targets[0].clone() };
    let outcomes =
        executor(&scope).run(&plan(&[reused], &settings), settings.mode, at(3)).await.unwrap();
    assert!(!first.iter().any(|o| o.task_id == outcomes[0].task_id));
    assert_eq!(scope.remediation_tasks().await.unwrap().len(), 3);
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn settings_are_kept_per_tenant() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let other = add_tenant(&store, "lakeside").await;
    let scope = common::scope(&store);

    let settings = common::settings(Mode::DryRun, &["entra", "ehr:epic"]);
    assert!(scope.set_remediation_settings(&settings, common::ADMIN, at(0)).await.unwrap());
    assert!(!scope.set_remediation_settings(&settings, common::ADMIN, at(1)).await.unwrap());
    assert_eq!(scope.remediation_settings().await.unwrap(), settings);
    assert_eq!(store.tenant(&other).remediation_settings().await.unwrap().mode, Mode::Off);

    let changes: Vec<_> = common::audit(&scope)
        .await
        .into_iter()
        .filter(|r| r.action == "remediation.settings_changed")
        .collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].actor, common::ADMIN);
    assert!(changes[0].detail.contains("dry_run"), "{}", changes[0].detail);
}

#[tokio::test]
async fn tasks_of_other_tenant_invisible() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let lakeside = add_tenant(&store, "lakeside").await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ehr:epic"]).await;
    let actions = plan(&[prescriber()], &settings);
    let outcomes = executor(&scope).run(&actions, settings.mode, at(1)).await.unwrap();

    let other = store.tenant(&lakeside);
    assert!(other.remediation_tasks().await.unwrap().is_empty());
    assert_eq!(other.remediation_task(&outcomes[0].task_id).await.unwrap(), None);
    let approval = other.approve_remediation_task(&outcomes[0].task_id, "mallory", at(2)).await;
    assert_eq!(approval.unwrap(), ApprovalOutcome::NotFound);

    // Actions of one tenant are rejected by another tenant's executor before anything
    // is recorded.
    let error = executor(&other).run(&actions, Mode::Enforce, at(3)).await.unwrap_err();
    assert!(matches!(error, RemediationError::TenantMismatch { .. }), "{error}");
    assert!(other.audit_entries(0, 100).await.unwrap().is_empty());
}
