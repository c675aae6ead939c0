//! athenahealth's Users page and User Access by Location exports joined with the providers
//! API on the username.

use chrono_tz::America::New_York;
use rollcall_core::model::{AccountStatus, EntitlementKind, EpcsStatus, LastSignIn};
use rollcall_core::privilege::{EPCS_CONTROL_ATTRIBUTE, PrivilegeReason, source_reasons};

use super::*;
use crate::diagnostic::{Level, Location};
use crate::ehr::{EhrError, ExportFile, read_athenahealth};

const DIR: &str = "field-cases/ehr-exports/athenahealth";

fn files(names: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    names
        .iter()
        .map(|name| {
            let relative = format!("{DIR}/{name}");
            (PathBuf::from(&relative), testdata(&relative))
        })
        .collect()
}

fn read_set(set: &[(PathBuf, Vec<u8>)]) -> Result<EhrRead, EhrError> {
    let files: Vec<ExportFile<'_>> =
        set.iter().map(|(path, bytes)| ExportFile { path, bytes }).collect();
    read_athenahealth(&files, &ProfileSpec::athenahealth(), &options(New_York))
}

fn joined() -> EhrRead {
    read_set(&files(&["users.csv", "user-access-by-location.csv", "providers.json"])).unwrap()
}

#[test]
fn one_account_per_user() {
    let read = joined();
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
            "sfrontdesk",
            "obrennan"
        ]
    );
}

#[test]
fn roles_from_several_rows_scoped() {
    let read = joined();
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
    assert_eq!(grants(&read, "mkowalczyk1").len(), 4);
}

#[test]
fn profile_fields_from_users_page() {
    let read = joined();
    let user = account(&read, "gadeyemi2");
    assert_eq!(user.family_name.as_deref(), Some("Adeyemi"));
    assert_eq!(user.employee_id.as_deref(), Some("E-10388"));
    assert_eq!(user.job_title.as_deref(), Some("Provider"));
    assert_eq!(user.epcs, Some(EpcsStatus::Enabled));
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-11-29T23:02:55Z")));
    assert_eq!(attribute(user, "Practice ID"), Some("80231 | 80245"));
    assert_eq!(
        attribute(user, "Department name"),
        Some("Cedar Run Family Medicine | Cedar Run Urgent Care")
    );
}

#[test]
fn npi_joined_from_providers_api() {
    let read = joined();
    let user = account(&read, "cduarte");
    assert!(user.is_provider);
    assert_eq!(user.npi.as_deref(), Some("9999900555"));
    assert_eq!(attribute(user, "Provider ID"), Some("34"));
    assert_eq!(attribute(user, "Provider type"), Some("NP"));
    assert_eq!(user.epcs, Some(EpcsStatus::Pending));
    let staff = account(&read, "jthibodeaux");
    assert!(!staff.is_provider);
    assert_eq!(staff.npi, None);
}

#[test]
fn without_providers_file_no_npi() {
    let read = read_set(&files(&["users.csv", "user-access-by-location.csv"])).unwrap();
    let user = account(&read, "cduarte");
    assert!(!user.is_provider);
    assert_eq!(user.npi, None);
}

#[test]
fn unmatched_provider_noted() {
    let read = joined();
    let infos: Vec<(&Location, &str)> = read
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Info)
        .map(|d| (&d.location, d.message.as_str()))
        .collect();
    assert_eq!(
        infos,
        [(
            &Location::JsonPath("$.providers[3]".into()),
            "provider username `tpham` matches no user in the exports, so its NPI was not used"
        )]
    );
    assert!(read.diagnostics.iter().all(|d| d.level == Level::Info), "{:?}", read.diagnostics);
}

#[test]
fn blocked_without_roles_has_no_grants() {
    let read = joined();
    let user = account(&read, "obrennan");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert!(grants(&read, "obrennan").is_empty());
    let blocked_with_roles = account(&read, "pwhitfield");
    assert_eq!(blocked_with_roles.status, AccountStatus::Disabled);
    assert_eq!(grants(&read, "pwhitfield").len(), 2);
}

#[test]
fn epcs_roles_marked_privileged() {
    let read = joined();
    for name in ["User Admin: Identity Verification", "Clinicals: EPCS Enrollment Approval"] {
        let role = read.snapshot.entitlements.iter().find(|e| e.name == name).unwrap();
        assert_eq!(role.attributes.get(EPCS_CONTROL_ATTRIBUTE).map(String::as_str), Some("true"));
        assert_eq!(source_reasons(role), vec![PrivilegeReason::EpcsControl]);
    }
    let plain = read.snapshot.entitlements.iter().find(|e| e.name == "User Admin").unwrap();
    assert!(source_reasons(plain).is_empty());
}

#[test]
fn access_row_without_users_page_row_kept() {
    let mut set = files(&["users.csv", "providers.json"]);
    set.push((
        PathBuf::from("access.csv"),
        b"Username,Practice ID,Roles\ngadeyemi2,80231,Clinicals: Provider\nnewhire,80231,Front Desk\n"
            .to_vec(),
    ));
    let read = read_set(&set).unwrap();
    assert_eq!(
        grants(&read, "newhire"),
        [grant(EntitlementKind::Role, "Front Desk", "Front Desk", Some("80231"))]
    );
    let warnings: Vec<&str> = read
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("username `newhire` has roles but is not on the Users page"));
}

#[test]
fn export_npi_differing_from_api_warned() {
    let mut set = files(&["users.csv", "providers.json"]);
    set.push((
        PathBuf::from("access.csv"),
        b"Username,Practice ID,Roles,NPI\ngadeyemi2,80231,Clinicals: Provider,9999900118\n"
            .to_vec(),
    ));
    let read = read_set(&set).unwrap();
    assert_eq!(account(&read, "gadeyemi2").npi.as_deref(), Some("9999900449"));
    assert!(read.diagnostics.iter().any(|d| d.level == Level::Warning
        && d.message.starts_with("user `gadeyemi2` has `NPI` `9999900118` in the export")));
}

#[test]
fn combined_export_alone_still_read() {
    let read = read_set(&files(&["example.csv"])).unwrap();
    assert_eq!(read.snapshot.accounts.len(), 7);
    assert_eq!(account(&read, "gadeyemi2").npi.as_deref(), Some("9999900449"));
}

#[test]
fn invalid_providers_json_rejected() {
    let mut set = files(&["users.csv", "user-access-by-location.csv"]);
    set.push((PathBuf::from("providers.json"), b"{\"providers\": {}}".to_vec()));
    let error = read_set(&set).unwrap_err();
    assert!(matches!(error, EhrError::Providers { ref file, .. } if file == "providers.json"));
    assert!(error.to_string().contains("`providers` is object, not an array"));
    set.pop();
    set.push((PathBuf::from("providers.json"), b"[{\"providerusername\": ".to_vec()));
    assert!(matches!(read_set(&set).unwrap_err(), EhrError::Providers { .. }));
}

#[test]
fn users_page_alone_warns() {
    let read = read_set(&files(&["users.csv"])).unwrap();
    assert_eq!(read.snapshot.accounts.len(), 8);
    assert!(read.snapshot.memberships.is_empty());
    let warnings: Vec<&str> = read
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("no file has the `Roles` column, so no roles were read"));
}

#[test]
fn rows_without_username_each_warned() {
    let mut set = files(&["user-access-by-location.csv"]);
    set.push((
        PathBuf::from("users.csv"),
        b"Username,Last name,Blocked\n,Nobody,N\n ,Nobody Else,N\ncduarte,Duarte,N\n".to_vec(),
    ));
    let read = read_set(&set).unwrap();
    let empty: Vec<&Location> = read
        .diagnostics
        .iter()
        .filter(|d| d.message.starts_with("empty user id"))
        .map(|d| &d.location)
        .collect();
    assert_eq!(
        empty,
        [&Location::Record { record: 2, line: 2 }, &Location::Record { record: 3, line: 3 }]
    );
    assert_eq!(account(&read, "cduarte").family_name.as_deref(), Some("Duarte"));
}

#[test]
fn no_csv_file_rejected() {
    let set = files(&["providers.json"]);
    assert_eq!(read_set(&set).unwrap_err(), EhrError::NoCsvFile);
}

#[test]
fn csv_without_username_names_file() {
    let mut set = files(&["users.csv"]);
    set.push((PathBuf::from("access.csv"), b"Login,Roles\na,Front Desk\n".to_vec()));
    let error = read_set(&set).unwrap_err();
    assert!(matches!(error, EhrError::File { ref file, .. } if file == "access.csv"));
}
