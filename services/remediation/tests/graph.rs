//! Entra ID remediation against the Graph double: enforce, dry run, off, retries and a
//! missing user.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
#[path = "../../entra-connector/tests/common/mod.rs"]
mod graph_support;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use common::{TENANT, at, remediation_actions, switch, target};
use graph_support::{CLIENT_ID, DIRECTORY, credential, fast_limits, start, sync};
use rollcall_core::model::{AccountStatus, SourceId};
use rollcall_entra_connector::{GraphClient, HttpTransport};
use rollcall_graph_double::{Fault, GraphDouble, Tenant};
use rollcall_remediation::{EntraAccess, Executor, Mode, OutcomeKind, TaskKind, TaskState, plan};
use support::TestDb;
use support::fixtures::add_tenant;

/// User 1 of a generated tenant: enabled, a member.
const LEAVER: &str = "5e1d0000-0000-4000-8000-000000000001";
/// A well-formed object id that no user of the tenant has.
const UNKNOWN: &str = "5e1d0000-0000-4000-8000-000000099999";

fn account_enabled(double: &GraphDouble, id: &str) -> Option<bool> {
    double
        .with_tenant(DIRECTORY, |tenant| {
            tenant.users.iter().find(|u| u["id"] == id).and_then(|u| u["accountEnabled"].as_bool())
        })
        .flatten()
}

fn revocations(double: &GraphDouble, id: &str) -> u32 {
    double
        .with_tenant(DIRECTORY, |tenant| tenant.revocations.get(id).copied().unwrap_or(0))
        .unwrap_or(0)
}

/// Requests that change the directory, as `METHOD path`.
fn writes(double: &GraphDouble) -> Vec<String> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" || (r.method == "POST" && r.path.starts_with("/users/")))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

#[tokio::test]
async fn enforce_disables_user_and_revokes() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let (double, base) = start(Tenant::generate(10)).await;
    assert_eq!(account_enabled(&double, LEAVER), Some(true));

    let settings = switch(&scope, Mode::Enforce, &["entra"]).await;
    let actions = plan(&[target("entra", LEAVER, "user00001@practice.example")], &settings);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].kind, TaskKind::DisableEntraUser);

    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
    let client =
        GraphClient::new(&transport, &base, DIRECTORY, CLIENT_ID, &credential, fast_limits());
    let mut executor = Executor::new(scope.clone())
        .with_entra(SourceId::entra(), EntraAccess { client, graph_url: base.clone() });

    let outcomes = executor.run(&actions, settings.mode, at(1)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Done);
    assert_eq!(account_enabled(&double, LEAVER), Some(false));
    assert_eq!(revocations(&double, LEAVER), 1);
    assert_eq!(
        writes(&double),
        [
            format!("PATCH /users/{LEAVER} 204"),
            format!("POST /users/{LEAVER}/revokeSignInSessions 200"),
        ]
    );

    // A later sync reads the account as disabled.
    let result = sync(&base, fast_limits()).await.unwrap();
    let account = result.snapshot.accounts.iter().find(|a| a.id == LEAVER).unwrap();
    assert_eq!(account.status, AccountStatus::Disabled);

    // The same leaver planned and run again: no second task, no second request.
    double.clear_requests();
    let again = plan(&[target("entra", LEAVER, "user00001@practice.example")], &settings);
    let outcomes = executor.run(&again, settings.mode, at(2)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::AlreadyCarriedOut(TaskState::Done));
    assert!(writes(&double).is_empty());
    assert_eq!(revocations(&double, LEAVER), 1);

    let tasks = scope.remediation_tasks().await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].state, TaskState::Done);
    assert_eq!(tasks[0].attempts, 1);
    assert_eq!(remediation_actions(&scope).await, ["remediation.planned", "remediation.done"]);
    let done = common::audit(&scope).await.into_iter().last().unwrap();
    assert_eq!(done.actor, rollcall_remediation::ACTOR);
    let detail: serde_json::Value = serde_json::from_str(&done.detail).unwrap();
    assert_eq!(detail["account_id"], LEAVER);
    assert_eq!(detail["sessions_revoked"], true);
    assert_eq!(detail["mode"], "enforce");
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let (double, base) = start(Tenant::generate(10)).await;

    let settings = switch(&scope, Mode::DryRun, &["entra"]).await;
    let actions = plan(&[target("entra", LEAVER, "user00001@practice.example")], &settings);
    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
    let client =
        GraphClient::new(&transport, &base, DIRECTORY, CLIENT_ID, &credential, fast_limits());
    let mut executor = Executor::new(scope.clone())
        .with_entra(SourceId::entra(), EntraAccess { client, graph_url: base.clone() });

    let outcomes = executor.run(&actions, settings.mode, at(1)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::DryRun);
    assert!(double.requests().is_empty(), "{:?}", double.requests());
    assert_eq!(account_enabled(&double, LEAVER), Some(true));
    assert_eq!(revocations(&double, LEAVER), 0);

    let tasks = scope.remediation_tasks().await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].state, TaskState::DryRun);
    assert_eq!(tasks[0].attempts, 0);
    assert_eq!(remediation_actions(&scope).await, ["remediation.planned", "remediation.dry_run"]);
    let entry = common::audit(&scope).await.into_iter().last().unwrap();
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["mode"], "dry_run");
    assert!(detail["would"].as_str().unwrap().contains(LEAVER), "{detail}");

    // A second dry run records nothing new.
    executor.run(&actions, settings.mode, at(2)).await.unwrap();
    assert_eq!(remediation_actions(&scope).await, ["remediation.planned", "remediation.dry_run"]);

    // Switched to enforce, the dry-run task is carried out.
    let outcomes = executor.run(&actions, Mode::Enforce, at(3)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Done);
    assert_eq!(account_enabled(&double, LEAVER), Some(false));
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn off_does_nothing() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let (double, base) = start(Tenant::generate(10)).await;

    // A tenant that never stored settings is off.
    let settings = scope.remediation_settings().await.unwrap();
    assert_eq!(settings.mode, Mode::Off);
    let targets = [target("entra", LEAVER, "user00001@practice.example")];
    assert!(plan(&targets, &settings).is_empty());

    // Actions given to the executor in mode off are skipped.
    let enforce = common::settings(Mode::Enforce, &["entra"]);
    let actions = plan(&targets, &enforce);
    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
    let client =
        GraphClient::new(&transport, &base, DIRECTORY, CLIENT_ID, &credential, fast_limits());
    let mut executor = Executor::new(scope.clone())
        .with_entra(SourceId::entra(), EntraAccess { client, graph_url: base.clone() });
    let outcomes = executor.run(&actions, Mode::Off, at(1)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Skipped);

    assert!(double.requests().is_empty());
    assert_eq!(account_enabled(&double, LEAVER), Some(true));
    assert!(scope.remediation_tasks().await.unwrap().is_empty());
    assert!(common::audit(&scope).await.is_empty());
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let (double, base) = start(Tenant::generate(10)).await;
    double.push_fault(
        Some("/users/"),
        Fault::Throttle { status: 429, retry_after: Some("0".into()) },
    );
    double.push_fault(Some("/revokeSignInSessions"), Fault::ServerError(503));
    double.push_fault(Some("/revokeSignInSessions"), Fault::ServerError(500));

    let settings = switch(&scope, Mode::Enforce, &["entra"]).await;
    let actions = plan(&[target("entra", LEAVER, "user00001@practice.example")], &settings);
    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
    let client =
        GraphClient::new(&transport, &base, DIRECTORY, CLIENT_ID, &credential, fast_limits());
    let mut executor = Executor::new(scope.clone())
        .with_entra(SourceId::entra(), EntraAccess { client, graph_url: base.clone() });

    let outcomes = executor.run(&actions, settings.mode, at(1)).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Done);
    assert_eq!(
        writes(&double),
        [
            format!("PATCH /users/{LEAVER} 429"),
            format!("PATCH /users/{LEAVER} 204"),
            format!("POST /users/{LEAVER}/revokeSignInSessions 503"),
            format!("POST /users/{LEAVER}/revokeSignInSessions 500"),
            format!("POST /users/{LEAVER}/revokeSignInSessions 200"),
        ]
    );
    assert_eq!(account_enabled(&double, LEAVER), Some(false));
    assert_eq!(revocations(&double, LEAVER), 1);
    let stats = executor.entra_access(&SourceId::entra()).unwrap().client.stats();
    assert_eq!(stats.requests.get(&("users/accountEnabled".to_owned(), 429)), Some(&1));
    assert_eq!(stats.requests.get(&("users/revokeSignInSessions".to_owned(), 200)), Some(&1));
}

#[tokio::test]
async fn missing_user_fails_clearly() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let (double, base) = start(Tenant::generate(10)).await;

    let settings = switch(&scope, Mode::Enforce, &["entra"]).await;
    let targets = [
        target("entra", UNKNOWN, "gone@practice.example"),
        target("entra", "not-an-object-id/../groups", "odd@practice.example"),
        target("entra", LEAVER, "user00001@practice.example"),
    ];
    let actions = plan(&targets, &settings);
    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(Duration::from_secs(10)).unwrap();
    let client =
        GraphClient::new(&transport, &base, DIRECTORY, CLIENT_ID, &credential, fast_limits());
    let mut executor = Executor::new(scope.clone())
        .with_entra(SourceId::entra(), EntraAccess { client, graph_url: base.clone() });

    let outcomes = executor.run(&actions, settings.mode, at(1)).await.unwrap();
    let OutcomeKind::Failed(reason) = &outcomes[0].kind else {
        panic!("expected a failure, got {:?}", outcomes[0].kind);
    };
    assert!(reason.contains("404"), "{reason}");
    assert!(reason.contains("does not exist"), "{reason}");
    assert!(reason.contains(UNKNOWN), "{reason}");
    let OutcomeKind::Failed(reason) = &outcomes[1].kind else {
        panic!("expected a failure, got {:?}", outcomes[1].kind);
    };
    assert!(reason.contains("not an Entra object id"), "{reason}");
    // The other leaver is still handled.
    assert_eq!(outcomes[2].kind, OutcomeKind::Done);
    // No request was sent for the malformed id.
    assert!(double.requests().iter().all(|r| !r.path.contains("groups")));

    let failed = scope.remediation_task(&outcomes[0].task_id).await.unwrap().unwrap();
    assert_eq!(failed.state, TaskState::Failed);
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.as_deref().unwrap().contains("404"));
    let failed_entries: Vec<_> = common::audit(&scope)
        .await
        .into_iter()
        .filter(|r| r.action == "remediation.failed")
        .collect();
    assert_eq!(failed_entries.len(), 2);
    assert!(failed_entries[0].detail.contains("404"), "{}", failed_entries[0].detail);

    // A failed task is tried again by the next run.
    let outcomes = executor.run(&actions[..1], settings.mode, at(2)).await.unwrap();
    assert!(matches!(outcomes[0].kind, OutcomeKind::Failed(_)));
    let failed = scope.remediation_task(&outcomes[0].task_id).await.unwrap().unwrap();
    assert_eq!(failed.attempts, 2);
    common::assert_chain_intact(&scope).await;
}
