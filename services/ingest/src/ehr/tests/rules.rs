//! Profile rules on small inline exports: one rule per test.

use std::path::Path;

use chrono_tz::America::Chicago;
use rollcall_core::model::{AccountStatus, EntitlementKind, LastSignIn};

use super::*;
use crate::diagnostic::{Level, Location};
use crate::ehr::{
    EhrError, GrantSpec, LastLoginSpec, PRESET_NAMES, ProfileError, StatusWord, ValueMap,
};

fn profile() -> ProfileSpec {
    let mut status = ValueMap { column: "Status".into(), values: Default::default(), other: None };
    status.values.insert("Active".into(), StatusWord::Active);
    status.values.insert("Off".into(), StatusWord::Inactive);
    ProfileSpec {
        status: vec![status],
        npi: Some("NPI".into()),
        last_login: Some(LastLoginSpec { column: "Last".into(), reliable: false }),
        grants: vec![GrantSpec::new("Roles", EntitlementKind::Role)],
        ..ProfileSpec::minimal("test", "Id", "Login")
    }
}

fn read_with(profile: &ProfileSpec, text: &str) -> EhrRead {
    read_ehr_csv(text.as_bytes(), Path::new("users.csv"), profile, &options(Chicago)).unwrap()
}

fn warnings(read: &EhrRead) -> Vec<(Location, &str)> {
    read.diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(|d| (d.location.clone(), d.message.as_str()))
        .collect()
}

const HEADER: &str = "Id,Login,Status,NPI,Last,Roles\n";

#[test]
fn repeated_id_keeps_first_row() {
    let read = read_with(&profile(), &format!("{HEADER}1,a,Active,,,\n1,b,Off,,,\n"));
    assert_eq!(read.snapshot.accounts.len(), 1);
    assert_eq!(account(&read, "1").login.as_deref(), Some("a"));
    let warnings = warnings(&read);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].0, Location::Record { record: 3, line: 3 });
    assert!(warnings[0].1.starts_with("user id `1` repeats the one at record 2 (line 2)"));
}

#[test]
fn unknown_status_is_unknown() {
    let read = read_with(&profile(), &format!("{HEADER}1,a,Suspended?,,,\n"));
    let user = account(&read, "1");
    assert_eq!(user.status, AccountStatus::Unknown);
    assert_eq!(attribute(user, "ehr.status"), Some("unknown"));
    assert_eq!(user.status_raw.as_deref(), Some("Status: Suspended?"));
    assert!(warnings(&read)[0].1.starts_with("unknown status `Suspended?` in column `Status`"));
}

#[test]
fn status_values_match_without_case() {
    let read = read_with(&profile(), &format!("{HEADER}1,a, OFF ,,,\n"));
    assert_eq!(account(&read, "1").status, AccountStatus::Disabled);
}

#[test]
fn no_status_column_is_unknown() {
    let read = read_with(&ProfileSpec::minimal("test", "Id", "Id"), "Id\n1\n");
    assert_eq!(account(&read, "1").status, AccountStatus::Unknown);
    assert_eq!(account(&read, "1").login.as_deref(), Some("1"));
}

#[test]
fn invalid_npi_kept_with_warning() {
    let read = read_with(&profile(), &format!("{HEADER}1,a,Active,1234567890,,\n"));
    assert_eq!(account(&read, "1").npi.as_deref(), Some("1234567890"));
    assert!(warnings(&read)[0].1.starts_with("NPI `1234567890` is not ten digits"));
}

#[test]
fn last_login_empty_unreliable_is_unknown() {
    let read = read_with(&profile(), &format!("{HEADER}1,a,Active,,,\n"));
    assert_eq!(account(&read, "1").last_sign_in, LastSignIn::Unknown);
}

#[test]
fn last_login_empty_reliable_is_never() {
    let mut profile = profile();
    profile.last_login = Some(LastLoginSpec { column: "Last".into(), reliable: true });
    let read = read_with(&profile, &format!("{HEADER}1,a,Active,,,\n"));
    assert_eq!(account(&read, "1").last_sign_in, LastSignIn::Never);
}

#[test]
fn last_login_column_missing_is_unknown() {
    let mut profile = profile();
    profile.last_login = Some(LastLoginSpec { column: "Last".into(), reliable: true });
    let read = read_with(&profile, "Id,Login\n1,a\n");
    assert_eq!(account(&read, "1").last_sign_in, LastSignIn::Unknown);
    let info = read.diagnostics.iter().find(|d| d.level == Level::Info).unwrap();
    assert_eq!(
        info.message,
        "the profile maps columns that the file lacks, so those fields are unknown: `Status`, \
         `Last`, `Roles`, `NPI`"
    );
}

#[test]
fn invalid_timestamp_warned() {
    let read = read_with(&profile(), &format!("{HEADER}1,a,Active,,last week,\n"));
    assert_eq!(account(&read, "1").last_sign_in, LastSignIn::Unknown);
    assert!(warnings(&read)[0].1.starts_with("invalid timestamp `last week` in column `Last`"));
}

#[test]
fn offset_timestamp_ignores_zone() {
    let read = read_with(&profile(), &format!("{HEADER}1,a,Active,,2026-11-30T07:00:00Z,\n"));
    assert_eq!(account(&read, "1").last_sign_in, LastSignIn::At(utc("2026-11-30T07:00:00Z")));
}

#[test]
fn empty_user_id_skipped() {
    let read = read_with(&profile(), &format!("{HEADER} ,a,Active,,,\n2,b,Active,,,\n"));
    assert_eq!(read.snapshot.accounts.len(), 1);
    assert!(warnings(&read)[0].1.starts_with("empty user id in column `Id`"));
}

#[test]
fn shared_id_across_kinds_qualified() {
    let mut profile = profile();
    profile.grants.push(GrantSpec::new("Class", EntitlementKind::SecurityClass));
    let read = read_with(&profile, "Id,Login,Roles,Class\n1,a,Billing,Billing\n2,b,Billing,\n");
    let ids: Vec<(EntitlementKind, &str)> =
        read.snapshot.entitlements.iter().map(|e| (e.kind, e.id.as_str())).collect();
    assert_eq!(
        ids,
        [
            (EntitlementKind::Role, "Billing"),
            (EntitlementKind::SecurityClass, "security_class:Billing")
        ]
    );
    assert_eq!(grants(&read, "2"), [grant(EntitlementKind::Role, "Billing", "Billing", None)]);
}

#[test]
fn pair_without_equals_warned() {
    let mut profile = profile();
    profile.grants =
        vec![GrantSpec { pairs: true, ..GrantSpec::new("Roles", EntitlementKind::Role) }];
    let read = read_with(&profile, "Id,Login,Roles\n1,a,R1=Reader; Writer\n");
    assert_eq!(
        grants(&read, "1"),
        [
            grant(EntitlementKind::Role, "R1", "Reader", None),
            grant(EntitlementKind::Role, "Writer", "Writer", None),
        ]
    );
    assert!(
        warnings(&read)[0].1.starts_with("value `Writer` in column `Roles` is not an `ID=NAME`")
    );
}

#[test]
fn name_column_zipped_with_ids() {
    let mut profile = profile();
    profile.grants = vec![GrantSpec {
        name_column: Some("Role names".into()),
        ..GrantSpec::new("Roles", EntitlementKind::Role)
    }];
    let read = read_with(&profile, "Id,Login,Roles,Role names\n1,a,R1; R2,Reader; Writer\n");
    assert_eq!(
        grants(&read, "1"),
        [
            grant(EntitlementKind::Role, "R1", "Reader", None),
            grant(EntitlementKind::Role, "R2", "Writer", None),
        ]
    );
}

#[test]
fn name_count_mismatch_uses_ids() {
    let mut profile = profile();
    profile.grants = vec![GrantSpec {
        name_column: Some("Role names".into()),
        ..GrantSpec::new("Roles", EntitlementKind::Role)
    }];
    let read = read_with(&profile, "Id,Login,Roles,Role names\n1,a,R1; R2,Reader\n");
    assert_eq!(grants(&read, "1")[1], grant(EntitlementKind::Role, "R2", "R2", None));
    assert!(
        warnings(&read)[0].1.starts_with("column `Roles` has 2 values but its name column has 1")
    );
}

#[test]
fn unknown_record_type_read_as_user() {
    let read = read_with(
        &ProfileSpec::epic(),
        "USER_ID,SYSTEM_LOGIN,EMP_RECORD_TYPE\n1,a,Interface\n2,b,Template\n",
    );
    assert_eq!(read.snapshot.accounts.len(), 1);
    assert!(warnings(&read)[0].1.starts_with("unknown record type `Interface`"));
}

#[test]
fn folded_rows_disagreeing_on_status_stay_enabled() {
    let read = read_with(
        &ProfileSpec::athenahealth(),
        "Username,Practice ID,Blocked,Roles\nu1,1,Y,A\nu1,2,N,B\n",
    );
    let user = account(&read, "u1");
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.status_raw.as_deref(), Some("Blocked: Y, Blocked: N"));
    assert!(warnings(&read)[0].1.starts_with("user `u1` is `active` here but `blocked`"));
}

#[test]
fn end_date_at_as_of_disables() {
    let read = read_with(
        &ProfileSpec::epic(),
        "USER_ID,SYSTEM_LOGIN,USER_STATUS,EFF_TO_DATE\n1,a,Active,2026-12-01 06:00:00.000\n",
    );
    let user = account(&read, "1");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_since, Some(utc("2026-12-01T12:00:00Z")));
}

#[test]
fn non_sid_value_noted_once() {
    let read = read_with(
        &ProfileSpec::epic(),
        "USER_ID,SYSTEM_LOGIN,WEB_EXT_IDENTIFIER\n1,a,a@example.org\n2,b,b@example.org\n",
    );
    assert_eq!(account(&read, "1").sid, None);
    assert_eq!(attribute(account(&read, "1"), "WEB_EXT_IDENTIFIER"), Some("a@example.org"));
    let notes: Vec<&str> = read
        .diagnostics
        .iter()
        .filter(|d| d.message.starts_with("column `WEB_EXT_IDENTIFIER`"))
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("holds 2 values"));
}

#[test]
fn presets_found_by_name() {
    for name in PRESET_NAMES {
        let profile = ProfileSpec::preset(name).unwrap();
        // The eClinicalWorks report preset reads into the same source as the SQL preset.
        assert!(name.starts_with(&profile.vendor), "{name}");
        assert_eq!(profile.validate().unwrap().to_string(), format!("ehr:{}", profile.vendor));
    }
    assert_eq!(ProfileSpec::preset("Epic").map(|p| p.vendor), Some("epic".to_owned()));
    assert_eq!(ProfileSpec::preset("cerner"), None);
}

#[test]
fn invalid_vendor_rejected() {
    let profile = ProfileSpec::minimal("Epic Systems", "Id", "Id");
    let error = read_ehr_csv(b"Id\n1\n", Path::new("x.csv"), &profile, &options(Chicago));
    assert_eq!(
        error.unwrap_err(),
        EhrError::Profile(ProfileError::InvalidVendor("Epic Systems".into()))
    );
}

#[test]
fn empty_separator_rejected() {
    let mut profile = profile();
    profile.grants[0].separator = Some(String::new());
    assert_eq!(profile.validate(), Err(ProfileError::EmptySeparator("Roles".into())));
}

#[test]
fn empty_column_name_rejected() {
    let mut profile = profile();
    profile.npi = Some(" ".into());
    assert_eq!(profile.validate(), Err(ProfileError::EmptyColumn("npi")));
}

#[test]
fn fixed_scope_applies_to_grants() {
    let mut profile = profile();
    profile.grants[0].scope = Some(" Clinic A ".into());
    let read = read_with(&profile, &format!("{HEADER}1,a,Active,,,Nurse\n"));
    assert_eq!(
        grants(&read, "1"),
        [grant(EntitlementKind::Role, "Nurse", "Nurse", Some("Clinic A"))]
    );
}

#[test]
fn empty_fixed_scope_rejected() {
    let mut profile = profile();
    profile.grants[0].scope = Some(" ".into());
    assert_eq!(profile.validate(), Err(ProfileError::EmptyScope("Roles".into())));
}

#[test]
fn empty_epcs_role_rejected() {
    let mut profile = profile();
    profile.epcs_roles = vec!["EPCS Approver".into(), String::new()];
    assert_eq!(profile.validate(), Err(ProfileError::EmptyEpcsRole));
}

#[test]
fn renamed_columns_read() {
    let renames = [("Security Roles".to_owned(), "Role(s)".to_owned())].into_iter().collect();
    let profile = ProfileSpec::eclinicalworks_report().with_renamed_columns(&renames).unwrap();
    assert_eq!(profile.grants[0].column, "Role(s)");
    let read = read_with(&profile, "User ID,Username,Role(s)\n7,amy,Nursing; Billing\n");
    assert_eq!(grants(&read, "7").len(), 2);
}

#[test]
fn rename_of_unused_column_rejected() {
    let renames = [("Roles Held".to_owned(), "Roles".to_owned())].into_iter().collect();
    let error = ProfileSpec::eclinicalworks_report().with_renamed_columns(&renames).unwrap_err();
    assert!(
        matches!(error, ProfileError::UnknownRename { ref column, .. } if column == "Roles Held")
    );
    assert!(error.to_string().contains("`Security Roles`"), "{error}");
}

#[test]
fn rename_to_empty_rejected() {
    let renames = [("NPI".to_owned(), " ".to_owned())].into_iter().collect();
    let error = ProfileSpec::eclinicalworks_report().with_renamed_columns(&renames).unwrap_err();
    assert_eq!(error, ProfileError::EmptyColumn("columns"));
}

#[test]
fn values_differing_in_case_rejected() {
    let mut profile = profile();
    profile.status[0].values.insert("ACTIVE".into(), StatusWord::Blocked);
    let error = profile.validate().unwrap_err();
    assert!(matches!(error, ProfileError::DuplicateValue { ref column, .. } if column == "Status"));
}
