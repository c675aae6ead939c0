//! A full sync from the Graph double gives the same snapshot and the same findings as
//! `rollcall scan` of the same directory saved as files, both evaluated in the test and
//! published through NATS to an engine that stores and evaluates them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
#[path = "../../engine/tests/support/mod.rs"]
mod engine;

use std::path::Path;

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_core::evaluate;
use rollcall_core::finding::{Finding, FindingKind, Severity};
use rollcall_core::model::{LastSignIn, SourceId, SourceSnapshot};
use rollcall_entra_connector::{DeltaMode, USER_SELECT};
use rollcall_graph_double::{GraphDouble, Tenant};
use rollcall_ingest::layout::{self, LoadedTenant};
use rollcall_proto::SyncOutcome;
use rollcall_store::{FindingStatus, Store};

/// The instant the example data describes: 09:00 in Chicago on 1 December 2026.
const AS_OF: &str = "2026-12-01T15:00:00Z";

/// Copies the example practice and replaces its `entra/` folder with `tenant` saved as
/// files, then loads it the way `rollcall scan` does.
fn scan_copy(tenant: &Tenant, premium: bool, dir: &Path) -> LoadedTenant {
    copy_dir(&common::repo().join("examples/harborview"), dir);
    std::fs::remove_dir_all(dir.join("entra")).unwrap();
    tenant.export_dir(&dir.join("entra"), USER_SELECT, premium).unwrap();
    layout::load_tenant(dir, AS_OF.parse().unwrap()).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn entra_of(loaded: &LoadedTenant) -> SourceSnapshot {
    loaded.data.sources.iter().find(|s| s.source == SourceId::entra()).cloned().unwrap()
}

/// Evaluates the scanned tenant with its `entra` snapshot replaced by `synced`.
fn evaluate_with(loaded: &LoadedTenant, synced: &SourceSnapshot) -> rollcall_core::Evaluation {
    let mut data = loaded.data.clone();
    for source in &mut data.sources {
        if source.source == SourceId::entra() {
            *source = synced.clone();
        }
    }
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    evaluate(&loaded.config.tenant, &data, as_of)
}

async fn assert_parity(premium: bool) {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant.clone()).await;
    double.set_premium(common::DIRECTORY, premium);
    let synced = common::sync(&base, common::fast_limits()).await.unwrap();
    assert_eq!(synced.sign_in_available, premium);

    let dir = tempfile::tempdir().unwrap();
    let loaded = scan_copy(&tenant, premium, dir.path());
    let scanned = entra_of(&loaded);
    assert!(!scanned.accounts.is_empty(), "the scan read no Entra accounts");
    assert_eq!(synced.snapshot.accounts, scanned.accounts);
    assert_eq!(synced.snapshot.entitlements, scanned.entitlements);
    assert_eq!(synced.snapshot.memberships, scanned.memberships);
    assert_eq!(synced.snapshot.settings, scanned.settings);

    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let by_scan = evaluate(&loaded.config.tenant, &loaded.data, as_of);
    let by_sync = evaluate_with(&loaded, &synced.snapshot);
    assert!(!by_scan.findings.is_empty(), "the example practice has planted findings");
    assert_eq!(by_sync.findings, by_scan.findings);
}

#[tokio::test]
async fn full_sync_matches_scan() {
    assert_parity(true).await;
}

#[tokio::test]
async fn full_sync_matches_scan_without_premium() {
    assert_parity(false).await;
}

#[tokio::test]
async fn no_premium_reads_sign_in_as_unknown() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    double.set_premium(common::DIRECTORY, false);
    let synced = common::sync(&base, common::fast_limits()).await.unwrap();

    assert!(!synced.sign_in_available);
    assert!(!synced.snapshot.accounts.is_empty());
    for account in &synced.snapshot.accounts {
        assert_eq!(account.last_sign_in, LastSignIn::Unknown, "account {}", account.id);
    }
    let reasons: Vec<&str> = synced.problems.iter().map(|p| p.input.as_str()).collect();
    assert_eq!(reasons, ["users", "reports/authenticationMethods/userRegistrationDetails"]);
    assert!(synced.problems.iter().all(|p| !p.fatal));
    assert!(synced.problems[0].message.contains("P1 or P2"));

    // The 403 is a licence limit, not throttling: the listing is sent once with the
    // property and once without it, never retried as is.
    let users_requests = double.requests().iter().filter(|r| r.path == "/users").count();
    assert_eq!(users_requests, 2);
}

#[tokio::test]
async fn premium_reads_sign_in_times() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (_double, base) = common::start(tenant).await;
    let synced = common::sync(&base, common::fast_limits()).await.unwrap();
    assert!(synced.problems.is_empty(), "{:?}", synced.problems);
    let known = synced
        .snapshot
        .accounts
        .iter()
        .filter(|a| matches!(a.last_sign_in, LastSignIn::At(_)))
        .count();
    assert!(known > 0, "no account has a sign-in time");
}

const ADAEZE: &str = "6e7a1000-0000-4000-8000-0000000003e9";
const MARGUERITE: &str = "6e7a1000-0000-4000-8000-0000000003ea";
const NEW_USER: &str = "6e7a1000-0000-4000-8000-000000000fff";
const ALL_STAFF: &str = "6e7a0001-0000-4000-8000-000000000000";

/// Disables one user, soft-deletes one and adds one to All Staff.
fn change_directory(double: &GraphDouble) {
    double
        .with_tenant(common::DIRECTORY, |tenant| {
            let mut adaeze = tenant.users.iter().find(|u| u["id"] == ADAEZE).cloned().unwrap();
            adaeze["accountEnabled"] = serde_json::json!(false);
            tenant.upsert_user(adaeze);
            tenant.remove_user(MARGUERITE, "changed");
            tenant.upsert_user(serde_json::json!({
                "id": NEW_USER,
                "userPrincipalName": "rowan.quill@harborview.example",
                "displayName": "Rowan Quill",
                "accountEnabled": true,
                "userType": "Member",
                "signInActivity": { "lastSuccessfulSignInDateTime": "2026-11-30T15:00:00Z" },
                "manager": { "id": ADAEZE },
            }));
            let mut members = tenant.members[ALL_STAFF].clone();
            members.push(serde_json::json!({ "@odata.type": "#microsoft.graph.user", "id": NEW_USER, "displayName": "Rowan Quill" }));
            tenant.set_members(ALL_STAFF, members);
        })
        .unwrap();
}

/// Returns the findings `evaluate` gives on a scanned tenant, sorted by id.
fn scan_findings(loaded: &LoadedTenant) -> Vec<Finding> {
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let mut findings = evaluate(&loaded.config.tenant, &loaded.data, as_of).findings;
    findings.sort_by(|a, b| a.id.cmp(&b.id));
    findings
}

/// Waits until the engine's open findings of `tenant` equal `expected`.
async fn assert_engine_findings(
    store: &Store,
    tenant: &TenantId,
    expected: &[Finding],
    description: &str,
) {
    let found = engine::eventually(description, || async {
        let found: Vec<Finding> = store
            .tenant(tenant)
            .findings(FindingStatus::Open)
            .await
            .unwrap()
            .into_iter()
            .map(|stored| stored.finding)
            .collect();
        (found == expected).then_some(found)
    })
    .await;
    assert!(!found.is_empty());
}

/// A tenant of the example practice with its non-Entra sources in an engine's store,
/// and the double serving its Entra directory.
struct Pipeline {
    db: engine::TestDb,
    bus: engine::TestBus,
    store: Store,
    tenant: TenantId,
    running: engine::RunningEngine,
    double: GraphDouble,
    base: String,
}

impl Pipeline {
    async fn start(premium: bool) -> (Self, tempfile::TempDir, LoadedTenant) {
        let directory = Tenant::load_dir(&common::harborview_entra()).unwrap();
        let (double, base) = common::start(directory.clone()).await;
        double.set_premium(common::DIRECTORY, premium);
        let db = engine::TestDb::create().await;
        let bus = engine::TestBus::new().await;
        let store = db.store().await;
        let dir = tempfile::tempdir().unwrap();
        let loaded = scan_copy(&directory, premium, dir.path());
        let tenant = engine::add_tenant(&store, &loaded).await;
        let running =
            engine::RunningEngine::start(engine::config(&db, &bus, &engine::RedisMode::Local, 5))
                .await;

        // The other sources come as the file connector would send them.
        let publisher = bus.publisher();
        for snapshot in loaded.data.sources.iter().filter(|s| s.source != SourceId::entra()) {
            publisher.publish_snapshot(snapshot, &tenant, uuid::Uuid::new_v4()).await.unwrap();
        }
        let roster = loaded.data.hr.as_ref().unwrap();
        let chunks =
            rollcall_proto::split_roster(roster, &tenant, uuid::Uuid::new_v4(), 900 * 1024)
                .unwrap();
        publisher.publish_chunks(&chunks).await.unwrap();
        rollcall_engine::tenant_apply::apply(&store, dir.path()).await.unwrap();
        (Self { db, bus, store, tenant, running, double, base }, dir, loaded)
    }

    async fn sync(&self) -> rollcall_entra_connector::Attempt {
        let attempt = common::attempt(
            &self.base,
            &self.store,
            &self.bus.publisher(),
            &rollcall_entra_connector::ConnectorMetrics::new(),
        )
        .await;
        assert_eq!(attempt.report.outcome, SyncOutcome::Ok, "{:?}", attempt.report.problems);
        attempt
    }

    async fn stop(self) {
        self.running.stop().await;
        self.bus.delete().await;
        drop(self.db);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_findings_match_scan() {
    let (pipeline, _dir, loaded) = Pipeline::start(true).await;
    let full = pipeline.sync().await;
    assert_eq!(full.mode, Some(DeltaMode::Initial));
    let expected = scan_findings(&loaded);
    assert_engine_findings(
        &pipeline.store,
        &pipeline.tenant,
        &expected,
        "the full sync's findings",
    )
    .await;

    // A delta round: the engine's findings follow a scan of the changed directory.
    change_directory(&pipeline.double);
    let delta = pipeline.sync().await;
    assert_eq!(delta.mode, Some(DeltaMode::Delta));
    assert!(delta.report.snapshot_id.is_some());
    let changed = pipeline.double.with_tenant(common::DIRECTORY, |t| t.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rescanned = scan_copy(&changed, true, dir.path());
    let expected_after = scan_findings(&rescanned);
    assert_ne!(expected_after, expected, "the change should alter the findings");
    assert_engine_findings(
        &pipeline.store,
        &pipeline.tenant,
        &expected_after,
        "the delta sync's findings",
    )
    .await;
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_reports_missing_sign_in_once() {
    let (pipeline, _dir, loaded) = Pipeline::start(false).await;
    let attempt = pipeline.sync().await;
    assert!(
        attempt.report.problems.iter().any(|p| p.location.as_deref() == Some("signInActivity")),
        "{:?}",
        attempt.report.problems
    );
    let expected = scan_findings(&loaded);
    assert_engine_findings(&pipeline.store, &pipeline.tenant, &expected, "the findings").await;

    let open: Vec<Finding> = pipeline
        .store
        .tenant(&pipeline.tenant)
        .findings(FindingStatus::Open)
        .await
        .unwrap()
        .into_iter()
        .map(|stored| stored.finding)
        .collect();
    let entra = Some(SourceId::entra());
    // One tenant-wide finding about Entra sign-in data; the example's LDAP export has
    // its own.
    let about_sign_in: Vec<&Finding> = open
        .iter()
        .filter(|f| f.kind == FindingKind::SigninDataMissing && f.subject.source == entra)
        .collect();
    assert_eq!(about_sign_in.len(), 1, "{about_sign_in:?}");
    assert_eq!(about_sign_in[0].severity, Severity::Info);
    assert_eq!(about_sign_in[0].subject.account, None);
    // Unknown is never read as "never": no dormancy finding about an Entra account.
    let dormancy = open.iter().filter(|f| {
        matches!(f.kind, FindingKind::DormantAccount | FindingKind::NeverSignedIn)
            && f.subject.account.as_ref().is_some_and(|a| a.account.source == SourceId::entra())
    });
    assert_eq!(dormancy.count(), 0);
    assert!(open.iter().all(|f| f.kind != FindingKind::SourceSyncFailed));
    pipeline.stop().await;
}

/// A scan of saved responses that include Graph's `403` for `signInActivity` reports the
/// same single finding as an evaluation of the connector's snapshot.
#[tokio::test]
async fn scan_with_saved_403_matches_sync() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant.clone()).await;
    double.set_premium(common::DIRECTORY, false);
    let synced = common::sync(&base, common::fast_limits()).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    copy_dir(&common::repo().join("examples/harborview"), dir.path());
    std::fs::remove_dir_all(dir.path().join("entra")).unwrap();
    tenant.export_dir(&dir.path().join("entra"), USER_SELECT, false).unwrap();
    let body = serde_json::json!({ "error": {
        "code": rollcall_entra_connector::NO_PREMIUM_CODE,
        "message": "Neither tenant is B2C or tenant doesn't have premium license",
    }});
    std::fs::write(dir.path().join("entra/users-signInActivity-403.json"), body.to_string())
        .unwrap();
    let loaded = layout::load_tenant(dir.path(), AS_OF.parse().unwrap()).unwrap();
    let scanned = entra_of(&loaded);
    assert_eq!(
        scanned.settings.sign_in_activity,
        rollcall_core::model::Availability::Missing,
        "the reader did not recognise the saved 403"
    );

    let entra = Some(SourceId::entra());
    let sign_in = |findings: Vec<Finding>| -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| f.kind == FindingKind::SigninDataMissing && f.subject.source == entra)
            .collect()
    };
    let by_scan = sign_in(scan_findings(&loaded));
    let by_sync = sign_in(evaluate_with(&loaded, &synced.snapshot).findings);
    assert_eq!(by_scan.len(), 1, "{by_scan:?}");
    assert_eq!(by_scan[0].severity, Severity::Info);
    assert_eq!(by_sync, by_scan);
}
