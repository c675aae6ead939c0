//! The eClinicalWorks extract: providers and staff, a patient row in the same table, and a
//! provider whose doctor record is inactive while the user row still signs in.

use std::path::Path;

use chrono_tz::America::Chicago;
use rollcall_core::model::{AccountStatus, EntitlementKind, EpcsStatus, LastSignIn};

use super::*;
use crate::diagnostic::Level;

fn ecw() -> EhrRead {
    read_example("eclinicalworks", &ProfileSpec::eclinicalworks(), Chicago)
}

#[test]
fn patient_row_dropped() {
    let read = ecw();
    let ids: Vec<&str> = read.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["10231", "10236", "10244", "10251", "10258", "10262", "10270"]);
    assert_eq!(read.diagnostics.len(), 1);
    assert_eq!(read.diagnostics[0].level, Level::Info);
    assert_eq!(
        read.diagnostics[0].message,
        "dropped 1 record of type `non_user`, which are not user accounts"
    );
}

#[test]
fn inactive_doctor_record_stays_enabled() {
    let read = ecw();
    let user = account(&read, "10236");
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.status_raw.as_deref(), Some("status: 0, delFlag: 0"));
    assert_eq!(attribute(user, "doctor_inactive"), Some("1"));
    assert_eq!(attribute(user, "providerStatus"), Some("1"));
    assert!(user.is_provider);
    assert_eq!(user.npi.as_deref(), Some("9999900779"));
    assert_eq!(user.epcs, Some(EpcsStatus::Disabled));
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-05-12T22:20:44Z")));
}

#[test]
fn provider_roles_and_epcs() {
    let read = ecw();
    let user = account(&read, "10231");
    assert_eq!(user.login.as_deref(), Some("hbergstrom"));
    assert_eq!(user.family_name.as_deref(), Some("Bergstrom"));
    assert_eq!(user.given_name.as_deref(), Some("Helga"));
    assert_eq!(attribute(user, "uminitial"), Some("M"));
    assert_eq!(user.department.as_deref(), Some("Maple Grove Pediatrics - Main"));
    assert_eq!(user.epcs, Some(EpcsStatus::Enabled));
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-11-30T13:55:02Z")));
    assert_eq!(
        grants(&read, "10231"),
        [
            grant(EntitlementKind::Role, "Provider Full", "Provider Full", None),
            grant(EntitlementKind::Role, "Rx Prescriber", "Rx Prescriber", None),
        ]
    );
}

#[test]
fn staff_is_not_provider() {
    let read = ecw();
    let user = account(&read, "10244");
    assert!(!user.is_provider);
    assert_eq!(user.npi, None);
    assert_eq!(user.epcs, None);
    assert_eq!(user.status, AccountStatus::Enabled);
}

#[test]
fn nonzero_status_disabled() {
    let read = ecw();
    let user = account(&read, "10262");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_raw.as_deref(), Some("status: 1, delFlag: 0"));
    assert_eq!(attribute(user, "ehr.status"), Some("inactive"));
}

#[test]
fn deleted_flag_disabled() {
    let read = ecw();
    let user = account(&read, "10270");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_raw.as_deref(), Some("status: 0, delFlag: 1"));
    assert_eq!(attribute(user, "ehr.status"), Some("deleted"));
}

#[test]
fn msp_admin_account_granted() {
    let read = ecw();
    let user = account(&read, "10258");
    assert_eq!(user.login.as_deref(), Some("admin_msp"));
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(
        grants(&read, "10258"),
        [grant(EntitlementKind::Role, "Administrator", "Administrator", None)]
    );
}

/// The documented query run unchanged: the columns it selects as `NULL` come out as the
/// text `NULL` (MySQL and SQL Server clients), and the staff member has no `doctors` row.
#[test]
fn unedited_query_nulls_unknown() {
    let csv = "uid,uname,ulname,ufname,uminitial,usertype,status,delFlag,primaryservicelocation,\
facility_name,NPI,doctor_inactive,providerStatus,security_roles,last_login,epcs_registered\r\n\
20001,qfarrow,Farrow,Quinn,NULL,2,0,0,3,NULL,NULL,NULL,NULL,NULL,NULL,NULL\r\n\
20002,rmbeki,Mbeki,Rosa,,1,0,0,3,NULL,9999900662,0,0,NULL,NULL,NULL\r\n";
    let read = read_ehr_csv(
        csv.as_bytes(),
        Path::new("ecw-users.csv"),
        &ProfileSpec::eclinicalworks(),
        &options(Chicago),
    )
    .unwrap();
    let staff = account(&read, "20001");
    assert_eq!(staff.status, AccountStatus::Enabled);
    assert_eq!(staff.last_sign_in, LastSignIn::Unknown);
    assert_eq!(staff.department, None);
    assert_eq!(staff.npi, None);
    assert_eq!(staff.epcs, None);
    assert_eq!(attribute(staff, "uminitial"), None);
    assert!(grants(&read, "20001").is_empty());
    let provider = account(&read, "20002");
    assert_eq!(provider.last_sign_in, LastSignIn::Unknown);
    assert_eq!(provider.npi.as_deref(), Some("9999900662"));
    assert!(grants(&read, "20002").is_empty());
    assert!(
        read.diagnostics.iter().all(|d| d.level == Level::Info),
        "a NULL cell is no unknown value: {:?}",
        read.diagnostics
    );
}

/// Reads the vendor report, with its own headers mapped onto the report preset's columns.
fn vendor_report() -> EhrRead {
    let renames = [
        ("Username".to_owned(), "Login Name".to_owned()),
        ("Security Roles".to_owned(), "Roles".to_owned()),
    ]
    .into_iter()
    .collect();
    let profile = ProfileSpec::eclinicalworks_report().with_renamed_columns(&renames).unwrap();
    read_example_file("eclinicalworks/vendor-report.csv", &profile, Chicago)
}

#[test]
fn vendor_report_drops_patient() {
    let read = vendor_report();
    let ids: Vec<&str> = read.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["10231", "10244", "10258", "10262", "10270"]);
    let messages: Vec<&str> = read.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["dropped 1 record of type `patient`, which are not user accounts"]);
}

#[test]
fn vendor_report_fields_mapped() {
    let read = vendor_report();
    let user = account(&read, "10231");
    assert_eq!(user.login.as_deref(), Some("hbergstrom"));
    assert!(user.is_provider);
    assert_eq!(user.npi.as_deref(), Some("9999900662"));
    assert_eq!(user.epcs, Some(EpcsStatus::Enabled));
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-11-30T13:55:02Z")));
    assert_eq!(
        grants(&read, "10231"),
        [
            grant(EntitlementKind::Role, "Provider Full", "Provider Full", None),
            grant(EntitlementKind::Role, "Rx Prescriber", "Rx Prescriber", None),
        ]
    );
}

#[test]
fn vendor_report_statuses() {
    let read = vendor_report();
    assert_eq!(account(&read, "10244").status, AccountStatus::Enabled);
    assert_eq!(account(&read, "10262").status, AccountStatus::Disabled);
    let deleted = account(&read, "10270");
    assert_eq!(deleted.status, AccountStatus::Disabled);
    assert_eq!(attribute(deleted, "ehr.status"), Some("deleted"));
    assert_eq!(deleted.status_raw.as_deref(), Some("Status: Active, Deleted: Yes"));
}

/// Returns the output columns of the query on `docs/connectors/eclinicalworks.md`: each
/// selected expression's alias, or its column name without the table prefix.
fn query_columns() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/connectors/eclinicalworks.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let query = text.split("```sql").nth(1).unwrap().split("```").next().unwrap();
    let select = query.split("SELECT").nth(1).unwrap().split("FROM").next().unwrap();
    select
        .lines()
        .map(|line| line.split("--").next().unwrap().trim().trim_end_matches(','))
        .filter(|expression| !expression.is_empty())
        .map(|expression| match expression.rsplit_once(" AS ") {
            Some((_, alias)) => alias.trim().to_owned(),
            None => expression.rsplit('.').next().unwrap().trim().to_owned(),
        })
        .collect()
}

/// The documented query, the test export and the `eclinicalworks` profile name the same
/// columns, so the query a site runs gives what the profile reads.
#[test]
fn query_matches_profile_and_export() {
    let columns = query_columns();
    assert_eq!(columns.len(), 16, "the query's column list was not found whole: {columns:?}");
    let export =
        String::from_utf8(testdata("field-cases/ehr-exports/eclinicalworks/example.csv")).unwrap();
    let header: Vec<&str> = export.lines().next().unwrap().split(',').collect();
    assert_eq!(header, columns, "the test export's header differs from the query's output");
    let mut profile = ProfileSpec::eclinicalworks();
    for column in profile.column_names_mut() {
        assert!(columns.contains(column), "the profile reads `{column}`, which the query lacks");
    }
}
