//! The example dump `testdata/field-cases/ehr-exports/drchrono/example.json` and each trap
//! it contains.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{
    Account, AccountStatus, Availability, EntitlementKind, LastSignIn, Member, SourceSnapshot,
};

use super::read;
use crate::diagnostic::{Diagnostic, Level};

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/field-cases/ehr-exports/drchrono/example.json")
}

fn read_example() -> (SourceSnapshot, Vec<Diagnostic>) {
    let path = example_path();
    let bytes = std::fs::read(&path).unwrap();
    read(&path, &bytes, Tz::UTC).unwrap()
}

fn account<'a>(snapshot: &'a SourceSnapshot, id: &str) -> &'a Account {
    snapshot.accounts.iter().find(|a| a.id == id).unwrap()
}

/// Returns the entitlement ids an account holds, sorted, because permission order
/// follows JSON object order.
fn grants_of(snapshot: &SourceSnapshot, id: &str) -> Vec<String> {
    let mut grants: Vec<String> = snapshot
        .memberships
        .iter()
        .filter(|m| m.member == Member::Account(id.into()))
        .map(|m| m.entitlement.clone())
        .collect();
    grants.sort();
    grants
}

fn with_message<'a>(diagnostics: &'a [Diagnostic], text: &str) -> &'a Diagnostic {
    diagnostics.iter().find(|d| d.message.contains(text)).unwrap_or_else(|| {
        panic!("no diagnostic contains {text:?}: {diagnostics:#?}");
    })
}

#[test]
fn example_reads_both_user_pages() {
    let (snapshot, _) = read_example();
    let ids: Vec<_> = snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec!["70112", "70140", "70153", "70161", "70178", "70199"]);
    assert_eq!(snapshot.source.to_string(), "ehr:drchrono");
    assert_eq!(snapshot.collected_at, Some(Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 4).unwrap()));
}

#[test]
fn example_doctor_joined() {
    let (snapshot, _) = read_example();
    let doctor = account(&snapshot, "70112");
    assert_eq!(doctor.login.as_deref(), Some("dr_ifeoma_nwosu"));
    assert!(doctor.is_provider);
    assert_eq!(doctor.given_name.as_deref(), Some("Ifeoma"));
    assert_eq!(doctor.family_name.as_deref(), Some("Nwosu"));
    assert_eq!(doctor.email.as_deref(), Some("inwosu@harborlight.example"));
    assert_eq!(doctor.npi.as_deref(), Some("9999900886"));
    assert_eq!(doctor.job_title.as_deref(), Some("Provider/Staff (Private Practice)"));
    assert_eq!(doctor.status, AccountStatus::Enabled);
    assert_eq!(doctor.status_raw.as_deref(), Some("is_account_suspended: false"));
    assert_eq!(doctor.attributes.get("doctor").unwrap(), "88301");
    assert_eq!(doctor.attributes.get("practice_group").unwrap(), "5521");
    assert_eq!(doctor.attributes.get("specialty").unwrap(), "Family Medicine");
    assert_eq!(doctor.attributes.get("suffix").unwrap(), "MD");
    assert!(!doctor.attributes.contains_key("group_npi_number"));
}

#[test]
fn example_staff_joined() {
    let (snapshot, _) = read_example();
    let staff = account(&snapshot, "70140");
    assert!(!staff.is_provider);
    assert_eq!(staff.given_name.as_deref(), Some("Wilhelmina"));
    assert_eq!(staff.family_name.as_deref(), Some("Brandt"));
    assert_eq!(staff.email.as_deref(), Some("wbrandt@harborlight.example"));
    assert_eq!(staff.status, AccountStatus::Enabled);
    assert_eq!(staff.status_raw.as_deref(), Some("active: true"));
    assert_eq!(staff.attributes.get("staff_id").unwrap(), "4410");
    // 10:21:44 Pacific Standard Time (UTC-8), read in doctor 88301's zone.
    assert_eq!(staff.created_at, Some(Utc.with_ymd_and_hms(2022, 3, 7, 18, 21, 44).unwrap()));
    assert_eq!(staff.npi, None);
}

#[test]
fn example_empty_staff_email_is_none() {
    let (snapshot, _) = read_example();
    assert_eq!(account(&snapshot, "70178").email, None);
}

#[test]
fn example_suspended_doctor_disabled() {
    let (snapshot, _) = read_example();
    let doctor = account(&snapshot, "70161");
    assert!(doctor.is_provider);
    assert_eq!(doctor.status, AccountStatus::Disabled);
    assert_eq!(doctor.status_raw.as_deref(), Some("is_account_suspended: true"));
}

#[test]
fn example_group_npi_not_personal() {
    let (snapshot, diagnostics) = read_example();
    let doctor = account(&snapshot, "70161");
    assert_eq!(doctor.npi, None);
    assert_eq!(doctor.attributes.get("group_npi_number").unwrap(), "9999900118");
    let warning = with_message(&diagnostics, "only a group NPI");
    assert_eq!(warning.level, Level::Warning);
    assert!(warning.message.contains("`9999900118`"), "{}", warning.message);
    assert_eq!(warning.location.to_string(), r#"$.responses["/api/doctors"][0].data[1]"#);
}

#[test]
fn example_inactive_staff_disabled() {
    let (snapshot, diagnostics) = read_example();
    let staff = account(&snapshot, "70199");
    assert_eq!(staff.login.as_deref(), Some("ngarcia_temp"));
    assert_eq!(staff.given_name.as_deref(), Some("Nayeli"));
    assert_eq!(staff.status, AccountStatus::Disabled);
    assert_eq!(staff.status_raw.as_deref(), Some("active: false"));
    assert_eq!(staff.attributes.get("listed_in").unwrap(), "/api/staff");
    assert_eq!(with_message(&diagnostics, "`70199`").level, Level::Info);
}

#[test]
fn example_permissions_granted_when_true() {
    let (snapshot, _) = read_example();
    assert_eq!(
        grants_of(&snapshot, "70112"),
        vec![
            "permission:billing",
            "permission:clinical",
            "permission:epcs",
            "permission:manage_accounts"
        ]
    );
    assert_eq!(grants_of(&snapshot, "70140"), vec!["permission:clinical", "user_group:311"]);
    assert_eq!(
        grants_of(&snapshot, "70153"),
        vec!["permission:billing", "permission:manage_accounts", "user_group:312"]
    );
}

#[test]
fn example_entitlements_listed_once() {
    let (snapshot, _) = read_example();
    let mut entitlements: Vec<_> =
        snapshot.entitlements.iter().map(|e| (e.id.as_str(), e.kind, e.name.as_str())).collect();
    entitlements.sort();
    assert_eq!(
        entitlements,
        vec![
            ("permission:billing", EntitlementKind::Permission, "billing"),
            ("permission:clinical", EntitlementKind::Permission, "clinical"),
            ("permission:epcs", EntitlementKind::Permission, "epcs"),
            ("permission:manage_accounts", EntitlementKind::Permission, "manage_accounts"),
            ("user_group:311", EntitlementKind::UserGroup, "Clinical Staff"),
            ("user_group:312", EntitlementKind::UserGroup, "Billing Team"),
        ]
    );
}

#[test]
fn example_entitlements_keep_drchrono_words() {
    let (snapshot, _) = read_example();
    let words = |id: &str| {
        let entitlement = snapshot.entitlements.iter().find(|e| e.id == id).unwrap();
        let attribute = |name: &str| entitlement.attributes.get(name).map(String::as_str);
        (attribute("ehr.source_id"), attribute("ehr.source_name"))
    };
    assert_eq!(words("user_group:311"), (Some("311"), Some("Clinical Staff")));
    assert_eq!(words("permission:epcs"), (Some("epcs"), Some("epcs")));
}

#[test]
fn example_archived_group_skipped() {
    let (snapshot, diagnostics) = read_example();
    assert!(snapshot.memberships.iter().all(|m| m.entitlement != "user_group:298"));
    assert_eq!(grants_of(&snapshot, "70178"), vec!["permission:billing", "user_group:312"]);
    let note = with_message(&diagnostics, "archived user group");
    assert_eq!(note.level, Level::Info);
    assert!(note.message.contains("`Front Office (old)` (`298`)"), "{}", note.message);
    assert!(note.message.contains("still lists 1 member;"), "{}", note.message);
}

#[test]
fn example_last_sign_in_in_doctor_zone() {
    let (snapshot, _) = read_example();
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Available);
    // 07:58:12 Pacific Standard Time is 15:58:12 UTC.
    let at = |h, m, s| LastSignIn::At(Utc.with_ymd_and_hms(2026, 11, 30, h, m, s).unwrap());
    assert_eq!(account(&snapshot, "70112").last_sign_in, at(15, 58, 12));
    assert_eq!(account(&snapshot, "70140").last_sign_in, at(0, 20, 41));
}

#[test]
fn example_last_sign_in_is_latest_login() {
    let (snapshot, _) = read_example();
    let latest = Utc.with_ymd_and_hms(2026, 11, 30, 15, 3, 40).unwrap();
    assert_eq!(account(&snapshot, "70178").last_sign_in, LastSignIn::At(latest));
}

#[test]
fn example_no_login_since_window_unknown() {
    let (snapshot, diagnostics) = read_example();
    for id in ["70153", "70161", "70199"] {
        let user = account(&snapshot, id);
        assert_eq!(user.last_sign_in, LastSignIn::Unknown, "{id}");
        assert_eq!(user.attributes.get("no_login_since").unwrap(), "2026-09-01", "{id}");
    }
    assert!(
        with_message(&diagnostics, "the audit log starts at `2026-09-01`")
            .message
            .contains("since then (3)")
    );
}

#[test]
fn example_has_no_unexpected_warning() {
    let (_, diagnostics) = read_example();
    let warnings: Vec<_> = diagnostics.iter().filter(|d| d.level == Level::Warning).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
}
