//! A full sync from the Graph double gives the same snapshot and the same findings as
//! `rollcall scan` of the same directory saved as files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use rollcall_core::evaluate;
use rollcall_core::model::{LastSignIn, SourceId, SourceSnapshot};
use rollcall_entra_connector::USER_SELECT;
use rollcall_graph_double::Tenant;
use rollcall_ingest::layout::{self, LoadedTenant};

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
