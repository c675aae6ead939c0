//! Remediation in the running engine, against the Graph double and a slapd the test
//! starts: leavers past their deadline are disabled in enforce, recorded in dry run and
//! left alone when remediation is off; a missing write credential fails the task with
//! the key to set; and a grant revoked in a signed-off review is removed in enforce and
//! handed to the administrators otherwise. The next sync verifies both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

#[path = "../../entra-connector/tests/common/mod.rs"]
mod graph_support;
#[path = "../../ldap-connector/tests/support/mod.rs"]
mod ldap_support;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use graph_support::{CLIENT_ID, DIRECTORY, fast_limits};
use ldap_support::seed::{self, CLINIC};
use ldap_support::slapd::{ADMIN_DN, ADMIN_PASSWORD, Slapd, SlapdOptions};
use rollcall_core::TenantId;
use rollcall_core::model::{
    Account, AccountStatus, EpcsStatus, HrSnapshot, Member, SourceSnapshot, Worker, WorkerStatus,
};
use rollcall_engine::config::{
    DisableMethod, EntraWriteConfig, LdapWriteConfig, TenantRemediationConfig,
};
use rollcall_graph_double::{GraphDouble, Tenant};
use rollcall_ldap_connector::TlsMode;
use rollcall_remediation::{Mode, Settings, TaskKind, TaskState};
use rollcall_runtime::Secret;
use rollcall_store::{
    FindingStatus, LeaverState, ReviewAction, ReviewActionKind, RevocationState, Store,
    TenantProfile,
};
use support::{RedisMode, RunningEngine, TestBus, TestDb, as_of, config, eventually};
use uuid::Uuid;

const TENANT: &str = "harborview";
/// User 1 of the generated Graph tenant: enabled, employee id E00001, in group Team 0000.
const ENTRA_USER: &str = "5e1d0000-0000-4000-8000-000000000001";
const ENTRA_WORKER: &str = "E00001";
/// The seeded directory's locum, employee number E1901, in Clinical Staff.
const LDAP_WORKER: &str = "E1901";
/// The reviewer every review item falls back to.
const REVIEWER: &str = "E9990";
const ADMIN: &str = "msp-admin@msp.example";
const LOCK_ATTRIBUTE: &str = "pwdAccountLockedTime";
const LOCK_VALUE: &str = "000001010000Z";

fn reyes_dn() -> String {
    format!("cn=Reyes\\, Ana (Locum),ou=Staff,{CLINIC}")
}

fn clinical_staff_dn() -> String {
    format!("cn=Clinical Staff,ou=Groups,{CLINIC}")
}

/// The tenant with a 24-hour deprovisioning SLA and a one-hour revocation window.
const TENANT_YAML: &str = "tenant:\n  id: harborview\n  name: Harborview Family Health\n  time_zone: America/Chicago\nslas:\n  deprovision: 24h\n  revocation: 1h\n";
/// A campaign whose items all fall to one reviewer.
const CAMPAIGN_YAML: &str = "campaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      fallback: E9990\n    max_source_age: 30d\n";

/// Creates the tenant row, so snapshots can be stored.
async fn add_tenant(store: &Store) -> TenantId {
    let tenant = TenantId::new(TENANT).unwrap();
    let profile = TenantProfile {
        name: "Harborview Family Health".into(),
        time_zone: chrono_tz::America::Chicago,
    };
    store.tenant(&tenant).upsert_tenant(&profile).await.unwrap();
    tenant
}

/// Applies a tenant folder with only `tenant.yaml`, as `rollcall-engine tenant apply`
/// does, with the review campaign when `campaign`.
async fn apply_config(store: &Store, campaign: bool) {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join(TENANT);
    std::fs::create_dir_all(&dir).unwrap();
    let text = if campaign { format!("{TENANT_YAML}{CAMPAIGN_YAML}") } else { TENANT_YAML.into() };
    std::fs::write(dir.join("tenant.yaml"), text).unwrap();
    rollcall_engine::tenant_apply::apply(store, &dir).await.unwrap();
}

fn worker(employee_id: &str, terminated_at: Option<DateTime<Utc>>) -> Worker {
    let mut worker = Worker::new(employee_id);
    worker.job_title = Some("Medical Assistant".into());
    if let Some(at) = terminated_at {
        worker.status = WorkerStatus::Terminated;
        worker.status_raw = "terminated".into();
        worker.terminated_at = Some(at);
    }
    worker
}

/// The roster: the reviewer, and the two workers with accounts, terminated two days
/// before the engine's clock (so their 24-hour deadline has passed) when `leavers`.
fn roster(leavers: bool) -> HrSnapshot {
    let left = leavers.then(|| as_of() - TimeDelta::hours(48));
    HrSnapshot {
        collected_at: Some(as_of() - TimeDelta::hours(10)),
        workers: vec![
            worker(REVIEWER, None),
            worker(ENTRA_WORKER, left),
            worker(LDAP_WORKER, left),
        ],
    }
}

/// The Graph double with a generated tenant of ten users.
async fn graph() -> (GraphDouble, String) {
    graph_support::start(Tenant::generate(10)).await
}

/// A full sync of the double, dated `collected_at`.
async fn entra_snapshot(base: &str, collected_at: DateTime<Utc>) -> SourceSnapshot {
    let mut snapshot = graph_support::sync(base, fast_limits()).await.unwrap().snapshot;
    snapshot.collected_at = Some(collected_at);
    snapshot
}

/// The connector's read of the test directory, dated `collected_at`.
async fn ldap_snapshot(slapd: &Slapd, collected_at: DateTime<Utc>) -> SourceSnapshot {
    let directory = ldap_support::check(ldap_support::directory(
        &slapd.ldaps_url,
        TlsMode::Ldaps,
        Some(&slapd.ca_file),
    ));
    ldap_support::within(60, rollcall_ldap_connector::read_directory(&directory, collected_at))
        .await
        .unwrap()
        .snapshot
}

async fn publish(bus: &TestBus, tenant: &TenantId, snapshot: &SourceSnapshot) {
    let chunks = rollcall_proto::split(snapshot, tenant, Uuid::new_v4(), 64 * 1024).unwrap();
    bus.publisher().publish_chunks(&chunks).await.unwrap();
}

async fn publish_roster(bus: &TestBus, tenant: &TenantId, roster: &HrSnapshot) {
    let chunks = rollcall_proto::split_roster(roster, tenant, Uuid::new_v4(), 64 * 1024).unwrap();
    bus.publisher().publish_chunks(&chunks).await.unwrap();
}

fn secret_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("graph-write-secret");
    std::fs::write(&path, format!("{}\n", graph_support::SECRET)).unwrap();
    path
}

/// Write access to the double and, with `slapd`, to the directory as its administrator.
fn write_access(dir: &Path, base: &str, slapd: Option<&Slapd>) -> TenantRemediationConfig {
    TenantRemediationConfig {
        entra: Some(EntraWriteConfig {
            source: "entra".into(),
            directory_id: DIRECTORY.into(),
            client_id: CLIENT_ID.into(),
            client_secret_file: Some(secret_file(dir)),
            certificate_file: None,
            authority_url: base.to_owned(),
            graph_url: base.to_owned(),
        }),
        ldap: slapd.map(|slapd| LdapWriteConfig {
            source: "ldap".into(),
            url: slapd.ldaps_url.clone(),
            tls: None,
            ca_file: Some(slapd.ca_file.clone()),
            bind_dn: ADMIN_DN.into(),
            password: Secret::new(ADMIN_PASSWORD),
            disable: DisableMethod::Attribute,
            disable_attribute: Some(LOCK_ATTRIBUTE.into()),
            disable_value: Some(LOCK_VALUE.into()),
            // Generous, because a failed action is tried again only at the next
            // evaluation, which in these tests is the next published snapshot.
            connect_timeout_seconds: 30,
            operation_timeout_seconds: 30,
        }),
    }
}

async fn switch(store: &Store, tenant: &TenantId, mode: Mode, sources: &[&str]) {
    let settings = Settings { mode, sources: sources.iter().map(|s| s.parse().unwrap()).collect() };
    store.tenant(tenant).set_remediation_settings(&settings, ADMIN, as_of()).await.unwrap();
}

fn account_enabled(double: &GraphDouble, id: &str) -> Option<bool> {
    double
        .with_tenant(DIRECTORY, |tenant| {
            tenant.users.iter().find(|u| u["id"] == id).and_then(|u| u["accountEnabled"].as_bool())
        })
        .flatten()
}

fn session_revocations(double: &GraphDouble, id: &str) -> u32 {
    double
        .with_tenant(DIRECTORY, |tenant| tenant.revocations.get(id).copied().unwrap_or(0))
        .unwrap_or(0)
}

fn group_members(double: &GraphDouble, group: &str) -> Vec<String> {
    double
        .with_tenant(DIRECTORY, |tenant| {
            tenant.members.get(group).map(|members| {
                members.iter().filter_map(|m| m["id"].as_str().map(str::to_owned)).collect()
            })
        })
        .flatten()
        .unwrap_or_default()
}

/// The group of the generated tenant that `user` is a member of.
fn team_of(double: &GraphDouble, user: &str) -> String {
    double
        .with_tenant(DIRECTORY, |t| {
            t.members
                .iter()
                .find(|(_, m)| m.iter().any(|u| u["id"] == user))
                .map(|(g, _)| g.clone())
        })
        .flatten()
        .unwrap()
}

/// Requests that change the directory, as `METHOD path status`.
fn graph_writes(double: &GraphDouble) -> Vec<String> {
    double
        .requests()
        .into_iter()
        .filter(|r| {
            matches!(r.method.as_str(), "PATCH" | "DELETE")
                || (r.method == "POST" && r.path.starts_with("/users/"))
        })
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

async fn ldap_value(slapd: &Slapd, dn: &str, attribute: &str) -> Vec<String> {
    let mut config =
        ldap_support::directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.bind_dn = ADMIN_DN.to_owned();
    config.password = Secret::new(ADMIN_PASSWORD);
    let directory = ldap_support::check(config);
    let mut session = rollcall_ldap_connector::client::Session::open(&directory).await.unwrap();
    let entry = session.read_base(dn, &[attribute.to_owned()]).await.unwrap().unwrap();
    session.close().await;
    entry.values(attribute).iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}

async fn open_findings(store: &Store, tenant: &TenantId, kind: &str) -> usize {
    store
        .tenant(tenant)
        .findings(FindingStatus::Open)
        .await
        .unwrap()
        .iter()
        .filter(|s| s.finding.kind.as_str() == kind)
        .count()
}

async fn audit_actions(store: &Store, tenant: &TenantId) -> Vec<String> {
    let entries = store.tenant(tenant).audit_entries(0, 100_000).await.unwrap();
    entries.into_iter().map(|e| e.action).collect()
}

/// Stores the tenant and the roster with the two leavers, and starts an engine with
/// `remediation` write access.
async fn start_with_leavers(
    db: &TestDb,
    bus: &TestBus,
    mode: Mode,
    sources: &[&str],
    remediation: Option<TenantRemediationConfig>,
) -> (Store, TenantId, RunningEngine) {
    let store = db.store().await;
    let tenant = add_tenant(&store).await;
    apply_config(&store, false).await;
    switch(&store, &tenant, mode, sources).await;
    let mut config = config(db, bus, &RedisMode::Local, 5);
    if let Some(access) = remediation {
        config.remediation.tenants.insert(TENANT.into(), access);
    }
    let engine = RunningEngine::start(config).await;
    publish_roster(bus, &tenant, &roster(true)).await;
    (store, tenant, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_disables_overdue_leavers_and_the_next_sync_resolves() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let (double, base) = graph().await;
    let secrets = tempfile::tempdir().unwrap();
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let access = write_access(secrets.path(), &base, Some(&slapd));
    let (store, tenant, engine) =
        start_with_leavers(&db, &bus, Mode::Enforce, &["entra", "ldap"], Some(access)).await;
    let scope = store.tenant(&tenant);
    assert_eq!(account_enabled(&double, ENTRA_USER), Some(true));
    assert!(ldap_value(&slapd, &reyes_dn(), LOCK_ATTRIBUTE).await.is_empty());

    // The directory is first synced after an evaluation with Entra alone, as when a
    // tenant is onboarded: the locum's leaver, with no account seen yet, closes, and the
    // directory's first sync opens it again. A failed action is tried again at the
    // tenant's next evaluation, which follows the next sync. On a loaded runner an
    // attempt can time out, so a round that ends short of its goal publishes the next
    // sync, as the connectors do on their schedule.
    let done_of = |tasks: &[rollcall_remediation::RemediationTask], kind: TaskKind| {
        tasks.iter().any(|t| t.kind == kind && t.state == TaskState::Done)
    };
    let mut tasks = Vec::new();
    let mut directory_synced = false;
    for round in 0..8 {
        let collected = as_of() - TimeDelta::hours(9) + TimeDelta::minutes(round);
        publish(&bus, &tenant, &entra_snapshot(&base, collected).await).await;
        if directory_synced {
            publish(&bus, &tenant, &ldap_snapshot(&slapd, collected).await).await;
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            tasks = scope.remediation_tasks().await.unwrap();
            if done_of(&tasks, TaskKind::DisableEntraUser)
                && (!directory_synced || done_of(&tasks, TaskKind::DisableLdapAccount))
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        if !directory_synced && done_of(&tasks, TaskKind::DisableEntraUser) {
            let closed = scope.leavers(Some(LeaverState::Closed)).await.unwrap();
            assert!(closed.iter().any(|l| l.employee_id == LDAP_WORKER), "{closed:?}");
            directory_synced = true;
        } else if done_of(&tasks, TaskKind::DisableLdapAccount) {
            break;
        }
    }
    let done = tasks.iter().filter(|t| t.state == TaskState::Done).count();
    assert_eq!(done, 2, "both leavers' accounts disabled after eight syncs: {tasks:?}");
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let entra = tasks.iter().find(|t| t.kind == TaskKind::DisableEntraUser).unwrap();
    assert_eq!(entra.account_id, ENTRA_USER);
    assert_eq!(entra.employee_id, ENTRA_WORKER);
    let ldap = tasks.iter().find(|t| t.kind == TaskKind::DisableLdapAccount).unwrap();
    // slapd returns the DN with the comma escaped in hex.
    assert_eq!(ldap.account_id.replace("\\2C", "\\,"), reyes_dn());
    assert_eq!(ldap.employee_id, LDAP_WORKER);

    assert_eq!(account_enabled(&double, ENTRA_USER), Some(false));
    assert_eq!(session_revocations(&double, ENTRA_USER), 1);
    assert_eq!(ldap_value(&slapd, &reyes_dn(), LOCK_ATTRIBUTE).await, [LOCK_VALUE]);
    let actions = audit_actions(&store, &tenant).await;
    assert_eq!(actions.iter().filter(|a| *a == "remediation.planned").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "remediation.done").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "leaver.reopened").count(), 1);
    // The Entra sync of the round after its account was disabled resolved its finding;
    // the directory's stays open until a sync reads the lock.
    assert_eq!(open_findings(&store, &tenant, "deprovision_overdue").await, 1);
    let metrics = engine.engine.metrics();
    let done = |source: &str, kind: &str| {
        metrics
            .remediation_actions
            .get_or_create(&rollcall_engine::metrics::RemediationLabels {
                tenant: TENANT.into(),
                source: source.into(),
                kind: kind.into(),
                outcome: "done".into(),
            })
            .get()
    };
    assert_eq!(done("entra", "disable_entra_user"), 1);
    assert_eq!(done("ldap", "disable_ldap_account"), 1);

    // The next syncs read both accounts disabled: the leavers close and the findings
    // resolve, and nothing is sent again.
    double.clear_requests();
    publish(&bus, &tenant, &entra_snapshot(&base, as_of() - TimeDelta::hours(1)).await).await;
    publish(&bus, &tenant, &ldap_snapshot(&slapd, as_of() - TimeDelta::hours(1)).await).await;
    // The leavers are recorded after the evaluation's findings, so wait for both.
    let leavers = eventually("the overdue findings resolved and the leavers closed", || async {
        let leavers = scope.leavers(None).await.unwrap();
        (open_findings(&store, &tenant, "deprovision_overdue").await == 0
            && leavers.iter().all(|l| l.state == LeaverState::Closed))
        .then_some(leavers)
    })
    .await;
    assert_eq!(leavers.len(), 2);
    assert!(graph_writes(&double).is_empty(), "{:?}", graph_writes(&double));
    assert_eq!(session_revocations(&double, ENTRA_USER), 1);
    let verification = scope.verify_audit_chain().await.unwrap();
    assert!(
        matches!(verification, rollcall_store::ChainVerification::Intact { .. }),
        "{verification:?}"
    );
    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_records_and_off_does_nothing() {
    let (double, base) = graph().await;
    let secrets = tempfile::tempdir().unwrap();

    // Dry run: a task that says what enforce would do, and no write to Graph.
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let access = write_access(secrets.path(), &base, None);
    let (store, tenant, engine) =
        start_with_leavers(&db, &bus, Mode::DryRun, &["entra"], Some(access)).await;
    publish(&bus, &tenant, &entra_snapshot(&base, as_of() - TimeDelta::hours(9)).await).await;
    let scope = store.tenant(&tenant);
    let task = eventually("the dry-run task", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        tasks.into_iter().find(|t| t.state == TaskState::DryRun)
    })
    .await;
    assert_eq!(task.kind, TaskKind::DisableEntraUser);
    assert_eq!(task.account_id, ENTRA_USER);
    eventually("the overdue finding", || async {
        (open_findings(&store, &tenant, "deprovision_overdue").await == 1).then_some(())
    })
    .await;
    assert!(graph_writes(&double).is_empty(), "{:?}", graph_writes(&double));
    assert_eq!(account_enabled(&double, ENTRA_USER), Some(true));
    let actions = audit_actions(&store, &tenant).await;
    assert_eq!(actions.iter().filter(|a| *a == "remediation.dry_run").count(), 1);
    engine.stop().await;
    bus.delete().await;

    // Off: the same leaver gets its finding and no task.
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let access = write_access(secrets.path(), &base, None);
    let (store, tenant, engine) =
        start_with_leavers(&db, &bus, Mode::Off, &["entra"], Some(access)).await;
    publish(&bus, &tenant, &entra_snapshot(&base, as_of() - TimeDelta::hours(9)).await).await;
    eventually("the overdue finding", || async {
        (open_findings(&store, &tenant, "deprovision_overdue").await == 1).then_some(())
    })
    .await;
    // Evaluations after the one that opened the finding run the pass again.
    engine.engine.request_evaluation(&tenant);
    engine.engine.evaluate_tenant(&tenant).await.unwrap();
    assert!(store.tenant(&tenant).remediation_tasks().await.unwrap().is_empty());
    assert!(graph_writes(&double).is_empty(), "{:?}", graph_writes(&double));
    assert_eq!(account_enabled(&double, ENTRA_USER), Some(true));
    let actions = audit_actions(&store, &tenant).await;
    assert!(
        !actions
            .iter()
            .any(|a| a.starts_with("remediation.") && a != "remediation.settings_changed")
    );
    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_without_credentials_fails_with_the_key_to_set() {
    let (double, base) = graph().await;
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (store, tenant, engine) =
        start_with_leavers(&db, &bus, Mode::Enforce, &["entra"], None).await;
    publish(&bus, &tenant, &entra_snapshot(&base, as_of() - TimeDelta::hours(9)).await).await;
    let scope = store.tenant(&tenant);
    let task = eventually("the failed task", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        tasks.into_iter().find(|t| t.state == TaskState::Failed)
    })
    .await;
    let error = task.last_error.unwrap();
    assert!(error.contains("remediation.tenants.harborview.entra"), "{error}");
    assert!(error.contains("no write credentials"), "{error}");
    assert!(graph_writes(&double).is_empty());
    assert_eq!(account_enabled(&double, ENTRA_USER), Some(true));
    engine.stop().await;
    bus.delete().await;
}

/// Waits for the campaign the engine launches, revokes the Entra user's membership of
/// `entra_group` and the locum's membership of Clinical Staff, approves everything else
/// and signs off two hours before the engine's clock. Returns the campaign id and the
/// two revoked items.
async fn sign_off_two_revokes(
    store: &Store,
    tenant: &TenantId,
    entra_group: &str,
) -> (Uuid, Vec<i32>) {
    let scope = store.tenant(tenant);
    let campaign = eventually("the campaign launched by the engine", || async {
        scope.review_campaigns().await.unwrap().first().map(|c| c.campaign_id)
    })
    .await;
    let items = scope.review_items(campaign).await.unwrap();
    let revoked: Vec<i32> = items
        .iter()
        .filter(|item| {
            let facts = &item.facts;
            let account = facts["account"]["id"].as_str().unwrap_or_default();
            let name = facts["entitlement"]["name"].as_str().unwrap_or_default();
            let entitlement = facts["entitlement"]["id"].as_str().unwrap_or_default();
            (facts["source"] == "entra" && account == ENTRA_USER && entitlement == entra_group)
                || (facts["source"] == "ldap"
                    && facts["account"]["login"] == "areyes"
                    && name == "Clinical Staff")
        })
        .map(|item| item.item_id)
        .collect();
    assert_eq!(revoked.len(), 2, "{:#?}", items.iter().map(|i| &i.facts).collect::<Vec<_>>());
    let reviewers: BTreeSet<String> = items.iter().map(|i| i.reviewer.clone()).collect();
    for reviewer in &reviewers {
        let mine: Vec<i32> =
            items.iter().filter(|i| &i.reviewer == reviewer).map(|i| i.item_id).collect();
        let (to_revoke, to_approve): (Vec<i32>, Vec<i32>) =
            mine.into_iter().partition(|id| revoked.contains(id));
        for (kind, ids) in
            [(ReviewActionKind::Revoke, to_revoke), (ReviewActionKind::Approve, to_approve)]
        {
            if ids.is_empty() {
                continue;
            }
            let action = ReviewAction {
                actor: reviewer.clone(),
                at: as_of() - TimeDelta::hours(3),
                item_ids: ids,
                kind,
                justification: Some("synthetic review".into()),
            };
            scope.decide_review_items(campaign, &action).await.unwrap();
        }
        scope.sign_off_review(campaign, reviewer, as_of() - TimeDelta::hours(2)).await.unwrap();
    }
    (campaign, revoked)
}

/// Starts an engine on the tenant with no leavers, both directories synced, and the
/// review signed off with two revokes.
async fn start_with_revokes(
    db: &TestDb,
    bus: &TestBus,
    mode: Mode,
    remediation: TenantRemediationConfig,
    (double_base, entra_group): (&str, &str),
    slapd: &Slapd,
) -> (Store, TenantId, RunningEngine, Uuid, Vec<i32>) {
    let store = db.store().await;
    let tenant = add_tenant(&store).await;
    switch(&store, &tenant, mode, &["entra", "ldap"]).await;
    let mut config = config(db, bus, &RedisMode::Local, 5);
    config.remediation.tenants.insert(TENANT.into(), remediation);
    let engine = RunningEngine::start(config).await;
    publish_roster(bus, &tenant, &roster(false)).await;
    let synced = as_of() - TimeDelta::hours(9);
    publish(bus, &tenant, &entra_snapshot(double_base, synced).await).await;
    publish(bus, &tenant, &ldap_snapshot(slapd, synced).await).await;
    let scope = store.tenant(&tenant);
    eventually("every source stored", || async {
        (scope.source_states().await.unwrap().len() == 3).then_some(())
    })
    .await;
    // After the syncs, so the campaign launches on both directories.
    apply_config(&store, true).await;
    let (campaign, revoked) = sign_off_two_revokes(&store, &tenant, entra_group).await;
    engine.engine.request_evaluation(&tenant);
    (store, tenant, engine, campaign, revoked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_off_revokes_are_removed_in_enforce_and_verified() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let (double, base) = graph().await;
    let team = team_of(&double, ENTRA_USER);
    assert!(group_members(&double, &team).contains(&ENTRA_USER.to_owned()));
    let reyes = reyes_dn();
    let members = ldap_value(&slapd, &clinical_staff_dn(), "member").await;
    assert!(members.iter().any(|m| m.eq_ignore_ascii_case(&reyes)), "{members:?}");

    let secrets = tempfile::tempdir().unwrap();
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let access = write_access(secrets.path(), &base, Some(&slapd));
    let (store, tenant, engine, campaign, revoked) =
        start_with_revokes(&db, &bus, Mode::Enforce, access, (&base, &team), &slapd).await;
    let scope = store.tenant(&tenant);

    // A removal that fails on a loaded runner is tried again at the next evaluation, so
    // each round without both removals requests one, as the next sync would.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline && tasks.len() < 2 {
            tasks = scope
                .remediation_tasks()
                .await
                .unwrap()
                .into_iter()
                .filter(|t| t.kind == TaskKind::RemoveGroupMember && t.state == TaskState::Done)
                .collect();
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        if tasks.len() == 2 {
            break;
        }
        engine.engine.request_evaluation(&tenant);
    }
    assert_eq!(tasks.len(), 2, "both memberships removed: {:?}", scope.remediation_tasks().await);
    for task in &tasks {
        let grant = task.grant.as_ref().unwrap();
        assert_eq!(grant.campaign_id, campaign);
        assert!(revoked.contains(&grant.item_id));
    }
    assert!(!group_members(&double, &team).contains(&ENTRA_USER.to_owned()));
    assert_eq!(
        graph_writes(&double).into_iter().filter(|w| w.starts_with("DELETE")).collect::<Vec<_>>(),
        [format!("DELETE /groups/{team}/members/{ENTRA_USER}/$ref 204")]
    );
    let members = ldap_value(&slapd, &clinical_staff_dn(), "member").await;
    assert!(!members.iter().any(|m| m.eq_ignore_ascii_case(&reyes)), "{members:?}");
    assert!(!members.is_empty());

    // The next syncs lack both grants: the removals and the tasks are verified.
    let synced = as_of() - TimeDelta::hours(1);
    publish(&bus, &tenant, &entra_snapshot(&base, synced).await).await;
    publish(&bus, &tenant, &ldap_snapshot(&slapd, synced).await).await;
    eventually("both tasks verified", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        let verified = tasks
            .iter()
            .filter(|t| t.kind == TaskKind::RemoveGroupMember && t.state == TaskState::Verified)
            .count();
        (verified == 2).then_some(())
    })
    .await;
    let rows = scope.review_revocations(Some(campaign)).await.unwrap();
    assert!(rows.iter().all(|r| r.state == RevocationState::Verified), "{rows:?}");
    let actions = audit_actions(&store, &tenant).await;
    assert_eq!(actions.iter().filter(|a| *a == "remediation.done").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "remediation.verified").count(), 2);
    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_off_revokes_open_tasks_in_dry_run_and_are_verified() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let (double, base) = graph().await;
    let team = team_of(&double, ENTRA_USER);
    let secrets = tempfile::tempdir().unwrap();
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let access = write_access(secrets.path(), &base, Some(&slapd));
    let (store, tenant, engine, campaign, _) =
        start_with_revokes(&db, &bus, Mode::DryRun, access, (&base, &team), &slapd).await;
    let scope = store.tenant(&tenant);

    let tasks = eventually("two tasks for the administrators", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        let open: Vec<_> = tasks
            .into_iter()
            .filter(|t| t.kind == TaskKind::RevokeTask && t.state == TaskState::Open)
            .collect();
        (open.len() == 2).then_some(open)
    })
    .await;
    assert!(tasks.iter().all(|t| t.grant.as_ref().is_some_and(|g| g.campaign_id == campaign)));
    assert!(graph_writes(&double).is_empty(), "{:?}", graph_writes(&double));
    let reyes = reyes_dn();
    let members = ldap_value(&slapd, &clinical_staff_dn(), "member").await;
    assert!(members.iter().any(|m| m.eq_ignore_ascii_case(&reyes)));

    // The administrators remove both grants; the next syncs verify the tasks.
    let entra = tasks.iter().find(|t| t.source.to_string() == "entra").unwrap();
    let group = entra.grant.as_ref().unwrap().entitlement_id.clone();
    double.with_tenant(DIRECTORY, |t| {
        let kept: Vec<_> =
            t.members[&group].iter().filter(|m| m["id"] != ENTRA_USER).cloned().collect();
        t.set_members(&group, kept);
    });
    let synced = as_of() - TimeDelta::hours(1);
    let mut ldap = ldap_snapshot(&slapd, synced).await;
    let account =
        ldap.accounts.iter().find(|a| a.login.as_deref() == Some("areyes")).unwrap().id.clone();
    let staff = ldap.entitlements.iter().find(|e| e.name == "Clinical Staff").unwrap().id.clone();
    ldap.memberships
        .retain(|m| !(m.member == Member::Account(account.clone()) && m.entitlement == staff));
    publish(&bus, &tenant, &entra_snapshot(&base, synced).await).await;
    publish(&bus, &tenant, &ldap).await;
    eventually("both tasks verified", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        let verified = tasks
            .iter()
            .filter(|t| t.kind == TaskKind::RevokeTask && t.state == TaskState::Verified)
            .count();
        (verified == 2).then_some(())
    })
    .await;
    assert!(graph_writes(&double).is_empty());
    engine.stop().await;
    bus.delete().await;
}

/// Builds the EHR export of two leavers' accounts: `athena-u1` of E2001, and `athena-u2` of
/// E2002, who may prescribe controlled substances. `disabled` disables the first and
/// leaves the second out, as the practice's next export after the tasks shows them.
fn ehr_export(collected_at: DateTime<Utc>, disabled: bool) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new("ehr:athenahealth".parse().unwrap());
    snapshot.collected_at = Some(collected_at);
    let mut staff = Account::new("athena-u1");
    staff.login = Some("mlund".into());
    staff.employee_id = Some("E2001".into());
    staff.status = if disabled { AccountStatus::Disabled } else { AccountStatus::Enabled };
    snapshot.accounts.push(staff);
    if !disabled {
        let mut prescriber = Account::new("athena-u2");
        prescriber.login = Some("dr_okafor".into());
        prescriber.employee_id = Some("E2002".into());
        prescriber.status = AccountStatus::Enabled;
        prescriber.epcs = Some(EpcsStatus::Enabled);
        snapshot.accounts.push(prescriber);
    }
    snapshot
}

/// In enforce, an overdue leaver's EHR account becomes a task for the EHR's
/// administrators, and a prescriber's waits for two approvers first. The next export
/// that shows the accounts disabled or gone verifies both and resolves the findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ehr_leavers_become_tasks_verified_by_next_export() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let tenant = add_tenant(&store).await;
    apply_config(&store, false).await;
    switch(&store, &tenant, Mode::Enforce, &["ehr:athenahealth"]).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    let left = Some(as_of() - TimeDelta::hours(48));
    let roster = HrSnapshot {
        collected_at: Some(as_of() - TimeDelta::hours(10)),
        workers: vec![worker(REVIEWER, None), worker("E2001", left), worker("E2002", left)],
    };
    publish_roster(&bus, &tenant, &roster).await;
    publish(&bus, &tenant, &ehr_export(as_of() - TimeDelta::hours(9), false)).await;
    let scope = store.tenant(&tenant);

    // Tasks are recorded as planned and then run, so wait until both have run.
    let tasks = eventually("an EHR task and an EPCS task, both run", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        let run = tasks.iter().all(|task| task.state != TaskState::Planned);
        (tasks.len() == 2 && run).then_some(tasks)
    })
    .await;
    let ehr = tasks.iter().find(|t| t.kind == TaskKind::EhrTask).unwrap();
    assert_eq!((ehr.account_id.as_str(), ehr.state), ("athena-u1", TaskState::Open));
    let epcs = tasks.iter().find(|t| t.kind == TaskKind::EpcsTask).unwrap();
    assert_eq!((epcs.account_id.as_str(), epcs.state), ("athena-u2", TaskState::AwaitingApproval));
    assert_eq!(open_findings(&store, &tenant, "deprovision_overdue").await, 2);

    // Two people approve the prescriber's task; the next pass hands it over.
    for approver in ["security.officer@harborview.example", "medical.director@harborview.example"] {
        scope.approve_remediation_task(&epcs.task_id, approver, as_of()).await.unwrap();
    }
    engine.engine.request_evaluation(&tenant);
    engine.engine.evaluate_tenant(&tenant).await.unwrap();
    let epcs_id = epcs.task_id.clone();
    eventually("the EPCS task handed over", || async {
        let task = scope.remediation_task(&epcs_id).await.unwrap()?;
        (task.state == TaskState::Open).then_some(())
    })
    .await;

    // The practice's next export: the staff account disabled, the prescriber's gone.
    publish(&bus, &tenant, &ehr_export(as_of() - TimeDelta::hours(2), true)).await;
    eventually("both tasks verified and the findings resolved", || async {
        let tasks = scope.remediation_tasks().await.unwrap();
        let verified = tasks.iter().all(|t| t.state == TaskState::Verified);
        let open = open_findings(&store, &tenant, "deprovision_overdue").await;
        (verified && open == 0).then_some(())
    })
    .await;
    let actions = audit_actions(&store, &tenant).await;
    assert_eq!(actions.iter().filter(|a| *a == "remediation.approved").count(), 2);
    assert!(actions.iter().any(|a| a == "remediation.verified"), "{actions:?}");
    engine.stop().await;
    bus.delete().await;
}
