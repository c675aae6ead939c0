//! Custom profiles written in YAML, on the Excel-saved roster.

use std::path::Path;

use chrono_tz::America::Chicago;
use rollcall_core::model::{AccountStatus, Availability, EntitlementKind, LastSignIn};

use super::*;
use crate::delimited::{DelimitedError, Delimiter};
use crate::diagnostic::Level;
use crate::ehr::{EhrError, StatusWord};
use crate::text::TextEncoding;

const ROSTER_PROFILE: &str = "
vendor: excel-roster
user_id: Login
login: Login
family_name: Last Name
given_name: First Name
npi: NPI
status:
  - column: Status
    values: { Active: active, Inactive: inactive }
grants:
  - column: Role
    kind: role
";

fn roster_profile() -> ProfileSpec {
    serde_yaml_ng::from_str(ROSTER_PROFILE).unwrap()
}

fn read_roster(name: &str) -> EhrRead {
    let relative = format!("field-cases/csv-excel-roster/{name}");
    read_ehr_csv(&testdata(&relative), Path::new(name), &roster_profile(), &options(Chicago))
        .unwrap()
}

#[test]
fn roster_profile_parses() {
    let profile = roster_profile();
    assert_eq!(profile.vendor, "excel-roster");
    assert_eq!(profile.status[0].values.get("Inactive"), Some(&StatusWord::Inactive));
    assert_eq!(profile.grants[0].kind, EntitlementKind::Role);
    assert_eq!(profile.grants[0].separator.as_deref(), Some("; "));
    assert!(!profile.fold_rows);
}

#[test]
fn both_roster_files_give_same_accounts() {
    for name in ["roster-excel-utf8-bom-semicolon.csv", "roster-excel-ansi-comma.csv"] {
        let read = read_roster(name);
        assert_eq!(read.snapshot.source.to_string(), "ehr:excel-roster");
        let ids: Vec<&str> = read.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["jnunez", "zokafor", "rdubois"], "{name}");

        let jose = account(&read, "jnunez");
        assert_eq!(jose.family_name.as_deref(), Some("Núñez"), "{name}");
        assert_eq!(jose.given_name.as_deref(), Some("José"), "{name}");
        assert_eq!(jose.npi.as_deref(), Some("1999000015"), "{name}");
        assert_eq!(jose.status, AccountStatus::Enabled, "{name}");
        assert_eq!(jose.last_sign_in, LastSignIn::Unknown, "{name}");
        assert_eq!(attribute(jose, "Notes"), Some("Locum; covers Tue/Thu"), "{name}");
        assert_eq!(
            grants(&read, "jnunez"),
            [grant(EntitlementKind::Role, "Physician", "Physician", None)]
        );

        let zoe = account(&read, "zokafor");
        assert_eq!(zoe.given_name.as_deref(), Some("Zoë"), "{name}");
        assert_eq!(
            grants(&read, "zokafor"),
            [
                grant(EntitlementKind::Role, "Nurse", "Nurse", None),
                grant(EntitlementKind::Role, "Triage", "Triage", None),
            ],
            "{name}"
        );

        let renee = account(&read, "rdubois");
        assert_eq!(renee.given_name.as_deref(), Some("Renée"), "{name}");
        assert_eq!(renee.status, AccountStatus::Disabled, "{name}");
        assert_eq!(renee.status_raw.as_deref(), Some("Status: Inactive"), "{name}");
        assert_eq!(renee.npi, None, "{name}");
        assert_eq!(
            attribute(renee, "Notes"),
            Some("Left 2026-11-14\nAccess removal ticket pending"),
            "{name}"
        );
        assert_eq!(read.snapshot.settings.sign_in_activity, Availability::Missing);
    }
}

#[test]
fn roster_reports_encoding_and_delimiter() {
    let bom = read_roster("roster-excel-utf8-bom-semicolon.csv");
    assert_eq!(bom.decoding.describe(), "utf-8 (BOM stripped)");
    assert_eq!(bom.delimiter, Delimiter::Semicolon);
    let ansi = read_roster("roster-excel-ansi-comma.csv");
    assert_eq!(ansi.decoding.describe(), "windows-1252");
    assert_eq!(ansi.delimiter, Delimiter::Comma);
    assert!(
        ansi.diagnostics
            .iter()
            .any(|d| d.level == Level::Info && d.message.starts_with("decoded as `windows-1252`"))
    );
}

#[test]
fn garbled_bom_login_fails_loudly() {
    // The UTF-8 roster opened as Windows-1252 and saved again as UTF-8: `ï»¿` is text now.
    let original = testdata("field-cases/csv-excel-roster/roster-excel-utf8-bom-semicolon.csv");
    let garbled: String = original.iter().map(|&b| char::from(b)).collect();
    let error = read_ehr_csv(
        garbled.as_bytes(),
        Path::new("roster.csv"),
        &roster_profile(),
        &options(Chicago),
    )
    .unwrap_err();
    let EhrError::Table(DelimitedError::MissingColumns { missing, found, line }) = &error else {
        panic!("expected missing columns, got {error:?}");
    };
    assert_eq!(missing, &["Login"]);
    assert_eq!(found.first().map(String::as_str), Some("ï»¿Login"));
    assert_eq!(*line, 1);
    let message = error.to_string();
    assert!(message.starts_with("missing required column `Login`"), "{message}");
}

#[test]
fn missing_login_column_named() {
    let error = read_ehr_csv(
        b"Username;Last Name\nab;B\n",
        Path::new("users.csv"),
        &roster_profile(),
        &options(Chicago),
    )
    .unwrap_err();
    assert_eq!(
        error,
        EhrError::Table(DelimitedError::MissingColumns {
            line: 1,
            missing: vec!["Login".into()],
            found: vec!["Username".into(), "Last Name".into()],
        })
    );
}

#[test]
fn unknown_profile_key_rejected() {
    let yaml = format!("{ROSTER_PROFILE}last_logon: Last Login\n");
    let error = serde_yaml_ng::from_str::<ProfileSpec>(&yaml).unwrap_err();
    assert!(error.to_string().contains("unknown field `last_logon`"), "{error}");
}

#[test]
fn unknown_grant_kind_rejected() {
    let yaml = "vendor: x\nuser_id: a\nlogin: a\ngrants:\n  - column: R\n    kind: roles\n";
    let error = serde_yaml_ng::from_str::<ProfileSpec>(yaml).unwrap_err();
    assert!(error.to_string().contains("unknown entitlement kind `roles`"), "{error}");
}

#[test]
fn full_profile_options_parse() {
    let yaml = "
vendor: nextgen
encoding: latin1
delimiter: tab
user_id: user_id
login: login_name
display_name: name
name_format: last_comma_first
record_type: { column: type, values: { U: user, S: service }, other: non_user }
status:
  - { column: deact, values: { Y: inactive, N: active } }
status_since: deact_date
valid_from: start
valid_to: end
last_login: { column: last_seen, reliable: true }
grants:
  - { column: groups, kind: user_group, separator: ', ', pairs: true, ordered: true }
  - { column: class, kind: security_class, separator: null, name_column: class_name }
  - { column: sites, kind: role, scope_column: site }
departments: [dept, site]
job_title: title
provider_id: prov
npi: npi
epcs: { column: epcs, values: { yes: enabled, pending: pending, no: disabled } }
manager: { column: mgr, refers_to: employee_id }
email: mail
employee_id: emp
sid: sid
fold_rows: true
";
    let profile: ProfileSpec = serde_yaml_ng::from_str(yaml).unwrap();
    assert_eq!(profile.encoding, Some(TextEncoding::Windows1252));
    assert_eq!(profile.delimiter, Some(Delimiter::Tab));
    assert_eq!(profile.grants[1].separator, None);
    assert_eq!(profile.grants[0].separator.as_deref(), Some(", "));
    assert_eq!(profile.departments, ["dept", "site"]);
    assert!(profile.fold_rows);
    assert_eq!(profile.validate().unwrap().to_string(), "ehr:nextgen");
}
