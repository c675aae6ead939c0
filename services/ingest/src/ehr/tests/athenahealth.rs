//! The athenahealth export: one row per user and practice, folded into one account.

use chrono_tz::America::New_York;
use rollcall_core::model::{AccountStatus, EntitlementKind, EpcsStatus, LastSignIn};

use super::*;

fn athena() -> EhrRead {
    read_example("athenahealth", &ProfileSpec::athenahealth(), New_York)
}

#[test]
fn practice_rows_fold_into_one_account() {
    let read = athena();
    let ids: Vec<&str> = read.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "mkowalczyk1",
            "gadeyemi2",
            "cduarte",
            "jthibodeaux",
            "pwhitfield",
            "rlindqvist",
            "sfrontdesk"
        ]
    );
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
}

#[test]
fn folded_roles_scoped_by_practice() {
    let read = athena();
    assert_eq!(
        grants(&read, "gadeyemi2"),
        [
            grant(
                EntitlementKind::Role,
                "Clinicals: Provider",
                "Clinicals: Provider",
                Some("80231")
            ),
            grant(
                EntitlementKind::Role,
                "Clinicals: EPCS Enrollment Approval",
                "Clinicals: EPCS Enrollment Approval",
                Some("80231")
            ),
            grant(
                EntitlementKind::Role,
                "Clinicals: Provider",
                "Clinicals: Provider",
                Some("80245")
            ),
        ]
    );
}

#[test]
fn folded_provider_fields() {
    let read = athena();
    let user = account(&read, "gadeyemi2");
    assert_eq!(user.login.as_deref(), Some("gadeyemi2"));
    assert_eq!(user.family_name.as_deref(), Some("Adeyemi"));
    assert_eq!(user.given_name.as_deref(), Some("Gbenga"));
    assert_eq!(user.employee_id.as_deref(), Some("E-10388"));
    assert_eq!(user.email.as_deref(), Some("gadeyemi@cedarrun.example"));
    assert_eq!(user.job_title.as_deref(), Some("Provider"));
    assert_eq!(user.department.as_deref(), Some("Cedar Run Family Medicine"));
    assert!(user.is_provider);
    assert_eq!(user.npi.as_deref(), Some("9999900449"));
    assert_eq!(user.epcs, Some(EpcsStatus::Enabled));
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-11-29T23:02:55Z")));
    assert_eq!(attribute(user, "Practice ID"), Some("80231 | 80245"));
    assert_eq!(attribute(user, "Provider ID"), Some("31 | 7"));
    assert_eq!(
        attribute(user, "Department name"),
        Some("Cedar Run Family Medicine | Cedar Run Urgent Care")
    );
    assert_eq!(user.status, AccountStatus::Enabled);
}

#[test]
fn blocked_user_disabled_with_roles() {
    let read = athena();
    let user = account(&read, "pwhitfield");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_raw.as_deref(), Some("Blocked: Y"));
    assert_eq!(attribute(user, "ehr.status"), Some("blocked"));
    assert_eq!(user.status_since, None);
    assert_eq!(
        grants(&read, "pwhitfield"),
        [
            grant(EntitlementKind::Role, "Front Desk", "Front Desk", Some("80231")),
            grant(EntitlementKind::Role, "Scheduling", "Scheduling", Some("80231")),
        ]
    );
}

#[test]
fn pending_epcs_read() {
    let read = athena();
    let user = account(&read, "cduarte");
    assert_eq!(user.epcs, Some(EpcsStatus::Pending));
    assert_eq!(user.npi.as_deref(), Some("9999900555"));
    assert!(user.is_provider);
}

#[test]
fn empty_last_login_is_never() {
    let read = athena();
    let user = account(&read, "rlindqvist");
    assert_eq!(user.last_sign_in, LastSignIn::Never);
    assert_eq!(user.employee_id, None);
    assert!(!user.is_provider);
    assert_eq!(user.epcs, None);
}

#[test]
fn admin_roles_read() {
    let read = athena();
    let names: Vec<String> =
        grants(&read, "mkowalczyk1").into_iter().map(|(_, _, name, _)| name).collect();
    assert_eq!(
        names,
        ["User Admin", "User Admin: Identity Verification", "Practice Admin", "Reports: Financial"]
    );
    let user = account(&read, "mkowalczyk1");
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-11-30T12:24:10Z")));
}

#[test]
fn shared_account_kept() {
    let read = athena();
    let user = account(&read, "sfrontdesk");
    assert_eq!(user.family_name.as_deref(), Some("Front Desk"));
    assert_eq!(user.given_name.as_deref(), Some("Shared"));
    assert_eq!(user.job_title.as_deref(), Some("Other (Please Specify)"));
    assert_eq!(user.status, AccountStatus::Enabled);
}
