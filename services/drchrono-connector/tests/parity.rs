//! The connector and `rollcall scan` build the same snapshot: a sync's responses, saved in
//! the dump form a practice would export, read by `load_tenant` give the snapshot the sync
//! published, and so does the practice's own export of the same records. The field types
//! of DrChrono's older API documentation give it too.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
mod double;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use chrono::Utc;
use common::Setup;
use double::DrChronoDouble;
use rollcall_core::model::SourceSnapshot;
use serde_json::{Value, json};

/// Writes `dump` as a tenant folder in the `rollcall scan` layout and returns the
/// `ehr:drchrono` snapshot that `load_tenant` reads from it.
fn scan(dump: &Value) -> SourceSnapshot {
    let dir = tempfile::tempdir().unwrap();
    common::write_tenant_folder(dir.path(), Some(dump), "");
    let loaded = rollcall_ingest::layout::load_tenant(dir.path(), Utc::now()).unwrap();
    let mut sources = loaded.data.sources;
    assert_eq!(sources.len(), 1, "only the DrChrono source: {:?}", loaded.diagnostics);
    sources.remove(0)
}

#[tokio::test]
async fn sync_equals_scan_of_export() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let result = setup.sync().await.unwrap();
    let scanned = scan(&result.dump);

    assert_eq!(scanned, result.snapshot);
    // The comparison covers the traps of the example: both user pages, the suspended
    // doctor, the inactive staff member and the archived group.
    assert_eq!(result.snapshot.accounts.len(), 6);
    let suspended = result.snapshot.accounts.iter().find(|a| a.id == "70161").unwrap();
    assert_eq!(suspended.status, rollcall_core::model::AccountStatus::Disabled);
    let inactive = result.snapshot.accounts.iter().find(|a| a.id == "70199").unwrap();
    assert_eq!(inactive.status, rollcall_core::model::AccountStatus::Disabled);
}

/// Removes each account's `no_login_since` attribute and returns the ids that had one.
fn without_login_window(snapshot: &mut SourceSnapshot) -> Vec<String> {
    let mut ids = Vec::new();
    for account in &mut snapshot.accounts {
        if account.attributes.remove("no_login_since").is_some() {
            ids.push(account.id.clone());
        }
    }
    ids
}

/// The practice's own export (the example dump the double serves) scanned with
/// `rollcall scan` gives the snapshot a sync of the same records publishes. Two values
/// differ by when each was taken: the collection instant, and the start of the audit-log
/// window that `no_login_since` gives for accounts without a login in it.
#[tokio::test]
async fn sync_equals_scan_of_practice_export() {
    let export: Value =
        serde_json::from_slice(&std::fs::read(double::example_dump()).unwrap()).unwrap();
    let mut scanned = scan(&export);
    let setup = Setup::new(DrChronoDouble::example()).await;
    let mut synced = setup.sync().await.unwrap().snapshot;

    assert_ne!(scanned.collected_at, synced.collected_at);
    scanned.collected_at = synced.collected_at;
    let quiet = without_login_window(&mut scanned);
    assert_eq!(quiet, ["70153", "70161", "70199"]);
    assert_eq!(without_login_window(&mut synced), quiet);
    assert_eq!(scanned, synced);
}

/// Rewrites the example's records in the types of DrChrono's older API documentation:
/// numeric user ids, `is_doctor` and `is_staff` as strings, and `doctor` as the doctor's
/// API URL.
fn older_types(double: &DrChronoDouble) {
    double.edit_records("/api/users", |users| {
        for user in users.iter_mut() {
            let id: u64 = user["id"].as_str().unwrap().parse().unwrap();
            user["id"] = json!(id);
            for flag in ["is_doctor", "is_staff"] {
                user[flag] = json!(user[flag].as_bool().unwrap().to_string());
            }
            let doctor = user["doctor"].as_u64().unwrap();
            user["doctor"] = json!(format!("https://app.drchrono.com/api/doctors/{doctor}"));
        }
    });
    double.edit_records("/api/staff", |staff| {
        for record in staff.iter_mut() {
            let id: u64 = record["user_id"].as_str().unwrap().parse().unwrap();
            record["user_id"] = json!(id);
            record["active"] = json!(record["active"].as_bool().unwrap().to_string());
        }
    });
    double.edit_records("/api/doctors", |doctors| {
        for doctor in doctors.iter_mut() {
            doctor["id"] = json!(doctor["id"].as_u64().unwrap().to_string());
        }
    });
}

#[tokio::test]
async fn older_field_types_same_snapshot() {
    let current = Setup::new(DrChronoDouble::example()).await;
    let expected = current.sync().await.unwrap().snapshot;

    let older = DrChronoDouble::example();
    older_types(&older);
    let setup = Setup::new(older).await;
    let result = setup.sync().await.unwrap();
    let served = setup.double.requests();
    assert!(!served.is_empty());

    let mut snapshot = result.snapshot;
    snapshot.collected_at = expected.collected_at;
    assert_eq!(snapshot, expected);
}
