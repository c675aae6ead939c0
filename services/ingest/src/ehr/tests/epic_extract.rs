//! The Epic extract as `docs/connectors/epic-extract.md` specifies it: a security class
//! column per application, the block comment, and one class name used by two applications.

use chrono_tz::America::Chicago;
use rollcall_core::model::{AccountStatus, EntitlementKind, EpcsStatus, LastSignIn};

use super::*;
use crate::diagnostic::Level;

fn extract() -> EhrRead {
    let relative = "field-cases/ehr-exports/epic/extract.csv";
    read_ehr_csv(&testdata(relative), Path::new(relative), &ProfileSpec::epic(), &options(Chicago))
        .unwrap()
}

#[test]
fn extract_reads_without_warnings() {
    let read = extract();
    let ids: Vec<&str> = read.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["88120431", "88120477", "88120490", "88120502", "88120541"]);
    let messages: Vec<&str> = read.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["dropped 2 records of type `template`, which are not user accounts"]);
    assert!(read.diagnostics.iter().all(|d| d.level == Level::Info));
}

#[test]
fn classes_scoped_by_application() {
    let read = extract();
    assert_eq!(
        grants(&read, "88120431"),
        [
            grant(
                EntitlementKind::Template,
                "T41020",
                "AMB PHYSICIAN - CC AFFILIATE TEMPLATE",
                None
            ),
            grant(EntitlementKind::Subtemplate, "S5002", "IN BASKET PROXY MGMT", None),
            grant(
                EntitlementKind::Subtemplate,
                "S5007",
                "CC AFFILIATE DEPT ACCESS - BRIARWOOD",
                None
            ),
            grant(
                EntitlementKind::SecurityClass,
                "EPICCARE AMB PHYSICIAN",
                "EPICCARE AMB PHYSICIAN",
                Some("EpicCare")
            ),
            grant(
                EntitlementKind::SecurityClass,
                "IB PHYSICIAN",
                "IB PHYSICIAN",
                Some("In Basket")
            ),
            grant(
                EntitlementKind::SecurityClass,
                "HAIKU PROVIDER",
                "HAIKU PROVIDER",
                Some("Haiku")
            ),
        ]
    );
}

#[test]
fn security_admin_class_read() {
    let read = extract();
    let granted = grants(&read, "88120477");
    assert!(granted.contains(&grant(
        EntitlementKind::SecurityClass,
        "CC AFFILIATE USER SECURITY",
        "CC AFFILIATE USER SECURITY",
        Some("User Security")
    )));
    assert!(granted.contains(&grant(
        EntitlementKind::SecurityClass,
        "RW PRACTICE MANAGER",
        "RW PRACTICE MANAGER",
        Some("Reporting Workbench")
    )));
    assert!(granted.contains(&grant(
        EntitlementKind::SecurityClass,
        "PB FRONT END",
        "PB FRONT END",
        Some("Resolute Billing")
    )));
    let user = account(&read, "88120477");
    assert_eq!(attribute(user, "ehr.priority.subtemplate.S5030"), Some("3"));
}

#[test]
fn same_class_in_two_applications() {
    let read = extract();
    assert_eq!(
        grants(&read, "88120541"),
        [
            grant(EntitlementKind::SecurityClass, "STANDARD", "STANDARD", Some("EpicCare")),
            grant(EntitlementKind::SecurityClass, "STANDARD", "STANDARD", Some("In Basket")),
            grant(
                EntitlementKind::SecurityClass,
                "CLARITY ANALYST",
                "CLARITY ANALYST",
                Some("Clarity")
            ),
        ]
    );
    let standard: Vec<_> =
        read.snapshot.entitlements.iter().filter(|e| e.id == "STANDARD").collect();
    assert_eq!(standard.len(), 1);
}

#[test]
fn blocked_user_keeps_comment_and_time() {
    let read = extract();
    let user = account(&read, "88120490");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_since, Some(utc("2026-11-21T23:02:44Z")));
    assert_eq!(attribute(user, "LOGIN_BLOCKED_CMT"), Some("LEFT PRACTICE 11/21, TICKET 4471"));
    assert_eq!(user.epcs, Some(EpcsStatus::Enabled));
    assert_eq!(grants(&read, "88120490").len(), 5);
}

#[test]
fn inactive_user_dated_by_end_date() {
    let read = extract();
    let user = account(&read, "88120502");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(attribute(user, "ehr.status"), Some("inactive"));
    assert_eq!(user.status_since, Some(utc("2026-06-30T05:00:00Z")));
}

#[test]
fn host_zone_applied_to_access_time() {
    let relative = "field-cases/ehr-exports/epic/extract.csv";
    let eastern = read_ehr_csv(
        &testdata(relative),
        Path::new(relative),
        &ProfileSpec::epic(),
        &options(chrono_tz::America::New_York),
    )
    .unwrap();
    // The same wall-clock time is an hour earlier in UTC when the host is on Eastern time.
    assert_eq!(
        account(&eastern, "88120431").last_sign_in,
        LastSignIn::At(utc("2026-11-30T12:41:12Z"))
    );
    assert_eq!(
        account(&extract(), "88120431").last_sign_in,
        LastSignIn::At(utc("2026-11-30T13:41:12Z"))
    );
}

#[test]
fn source_words_kept_on_entitlements() {
    let read = extract();
    let subtemplate = read.snapshot.entitlements.iter().find(|e| e.id == "S5030").unwrap();
    assert_eq!(
        subtemplate.attributes.get("ehr.source_name").map(String::as_str),
        Some("CC AFFILIATE USER SECURITY REQUESTOR")
    );
    assert_eq!(subtemplate.attributes.get("ehr.source_id").map(String::as_str), Some("S5030"));
}

/// Returns the rows of the column table in `docs/connectors/epic-extract.md`: each
/// column's name and what Rollcall reads it as.
fn specified_columns() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/connectors/epic-extract.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let table = text.split("## Columns").nth(1).unwrap();
    table
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let column = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((column.to_owned(), (*cells.get(3)?).to_owned()))
        })
        .collect()
}

/// The page the host's reporting team works from, the test extract and the `epic` profile
/// name the same columns, so a column added to one is added to all three.
#[test]
fn specification_matches_profile_and_extract() {
    let specified = specified_columns();
    let names: Vec<&str> = specified.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.len(), 29, "the column table was not found whole: {names:?}");

    let extract = String::from_utf8(testdata("field-cases/ehr-exports/epic/extract.csv")).unwrap();
    let header: Vec<&str> = extract.lines().next().unwrap().split(',').collect();
    assert_eq!(header, names, "the test extract's header differs from the specification");

    let mut profile = ProfileSpec::epic();
    let read: Vec<String> = profile.column_names_mut().map(|name| name.clone()).collect();
    for column in &read {
        assert!(names.contains(&column.as_str()), "the profile reads `{column}`, not specified");
    }
    // Every unread column is kept as evidence, so a specified column the profile does not
    // read must be described that way on the page.
    for (column, reading) in &specified {
        if !read.contains(column) {
            assert!(reading.starts_with("kept as evidence"), "`{column}` is read by nothing");
        }
    }
    // Each security class column names the application the profile scopes it to.
    for (column, application) in super::super::presets::EPIC_SECURITY_CLASS_COLUMNS {
        let (_, reading) = specified.iter().find(|(name, _)| name == column).unwrap();
        assert_eq!(reading, &format!("security class grant, application `{application}`"));
    }
}
