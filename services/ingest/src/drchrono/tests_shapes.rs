//! Synthetic dumps: the value shapes DrChrono may send, sign-in edge cases and files that
//! cannot be read.

use std::path::Path;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{
    Account, AccountStatus, Availability, LastSignIn, Member, SourceSnapshot,
};
use serde_json::{Value, json};

use super::{DrChronoError, read};
use crate::diagnostic::{Diagnostic, Level};

fn page(data: Value) -> Value {
    json!([{"previous": null, "next": null, "data": data}])
}

fn read_value(dump: &Value, zone: Tz) -> (SourceSnapshot, Vec<Diagnostic>) {
    let bytes = serde_json::to_vec(dump).unwrap();
    read(Path::new("drchrono.json"), &bytes, zone).unwrap()
}

fn read_error(bytes: &[u8]) -> DrChronoError {
    read(Path::new("drchrono.json"), bytes, Tz::UTC).unwrap_err()
}

fn account<'a>(snapshot: &'a SourceSnapshot, id: &str) -> &'a Account {
    snapshot.accounts.iter().find(|a| a.id == id).unwrap()
}

/// Builds a dump with one doctor (zone `America/Chicago`) and the given users and audit log.
fn dump(users: Value, audit_log: Option<Value>) -> Value {
    let mut responses = json!({
        "/api/users": page(users),
        "/api/doctors": page(json!([
            {"id": 501, "first_name": "Ana", "last_name": "Doe", "npi_number": "1234567893",
             "is_account_suspended": "false", "timezone": "America/Chicago"}
        ])),
    });
    if let (Some(log), Some(map)) = (audit_log, responses.as_object_mut()) {
        map.insert("/api/audit_log".into(), log);
    }
    json!({"source": "drchrono", "responses": responses})
}

#[test]
fn flags_as_strings_accepted() {
    let users = json!([{"id": 9, "username": "ana", "doctor": "501", "is_doctor": "true", "is_staff": "False"}]);
    let (snapshot, diagnostics) = read_value(&dump(users, None), Tz::UTC);
    let user = account(&snapshot, "9");
    assert!(user.is_provider);
    assert_eq!(user.npi.as_deref(), Some("1234567893"));
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.attributes.get("is_staff").unwrap(), "false");
    assert!(diagnostics.iter().all(|d| d.level == Level::Info), "{diagnostics:?}");
}

#[test]
fn doctor_as_url_joined() {
    let users = json!([{"id": "9", "doctor": "https://app.drchrono.com/api/doctors/501/", "is_doctor": true}]);
    let (snapshot, _) = read_value(&dump(users, None), Tz::UTC);
    let user = account(&snapshot, "9");
    assert_eq!(user.attributes.get("doctor").unwrap(), "501");
    assert_eq!(user.family_name.as_deref(), Some("Doe"));
}

#[test]
fn invalid_flag_warns_and_reads_absent() {
    let users = json!([{"id": "9", "doctor": 501, "is_doctor": "yes"}]);
    let (snapshot, diagnostics) = read_value(&dump(users, None), Tz::UTC);
    let user = account(&snapshot, "9");
    assert!(!user.is_provider);
    assert_eq!(user.status, AccountStatus::Unknown);
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.location.to_string().ends_with(".data[0].is_doctor"), "{}", warning.location);
}

#[test]
fn user_without_record_status_unknown() {
    let users = json!([{"id": "9", "username": "orphan"}]);
    let (snapshot, _) = read_value(&dump(users, None), Tz::UTC);
    assert_eq!(account(&snapshot, "9").status, AccountStatus::Unknown);
}

#[test]
fn permissions_as_list_accepted() {
    let users = json!([{"id": "9", "permissions": ["billing", "clinical", "billing"]}]);
    let (snapshot, _) = read_value(&dump(users, None), Tz::UTC);
    let grants: Vec<_> = snapshot.memberships.iter().map(|m| m.entitlement.as_str()).collect();
    assert_eq!(grants, vec!["permission:billing", "permission:clinical"]);
}

#[test]
fn permission_string_values_accepted() {
    let users = json!([{"id": "9", "permissions": {"billing": "true", "clinical": "false"}}]);
    let (snapshot, _) = read_value(&dump(users, None), Tz::UTC);
    let grants: Vec<_> = snapshot.memberships.iter().map(|m| m.entitlement.as_str()).collect();
    assert_eq!(grants, vec!["permission:billing"]);
}

#[test]
fn permissions_string_warns() {
    let users = json!([{"id": "9", "permissions": "billing,clinical"}]);
    let (snapshot, diagnostics) = read_value(&dump(users, None), Tz::UTC);
    assert!(snapshot.memberships.is_empty());
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.starts_with("`permissions` is a JSON string"), "{}", warning.message);
}

#[test]
fn invalid_npi_number_kept_with_warning() {
    let mut dump = dump(json!([{"id": "9", "doctor": 501, "is_doctor": true}]), None);
    dump["responses"]["/api/doctors"][0]["data"][0]["npi_number"] = json!("1234567890");
    let (snapshot, diagnostics) = read_value(&dump, Tz::UTC);
    assert_eq!(account(&snapshot, "9").npi.as_deref(), Some("1234567890"));
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.contains("`1234567890`"), "{}", warning.message);
}

#[test]
fn missing_doctor_record_warns() {
    let users = json!([{"id": "9", "doctor": 777, "is_doctor": true}]);
    let (snapshot, diagnostics) = read_value(&dump(users, None), Tz::UTC);
    assert!(account(&snapshot, "9").is_provider);
    assert!(diagnostics.iter().any(|d| d.message.contains("no doctor `777`")));
}

#[test]
fn group_member_without_user_unresolved() {
    let mut dump = dump(json!([{"id": "9"}]), None);
    dump["responses"]["/api/user_groups"] =
        page(json!([{"id": 40, "name": "Nurses", "archived": "false", "members": ["9", 10]}]));
    let (snapshot, diagnostics) = read_value(&dump, Tz::UTC);
    let members: Vec<_> = snapshot.memberships.iter().map(|m| m.member.clone()).collect();
    assert_eq!(members, vec![Member::Account("9".into()), Member::Unresolved("10".into())]);
    assert!(diagnostics.iter().any(|d| d.level == Level::Warning && d.message.contains("`10`")));
}

#[test]
fn login_naive_time_in_doctor_zone() {
    let users = json!([{"id": "9", "doctor": 501}]);
    let log = page(json!([{"user_id": 9, "type": "Login", "created_at": "2026-07-01T08:00:00"}]));
    let (snapshot, _) = read_value(&dump(users, Some(log)), Tz::UTC);
    // Central Daylight Time is UTC-5 in July.
    let expected = Utc.with_ymd_and_hms(2026, 7, 1, 13, 0, 0).unwrap();
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::At(expected));
}

#[test]
fn login_default_zone_without_doctor() {
    let users = json!([{"id": "9"}]);
    let log = page(json!([{"user_id": "9", "type": "Login", "created_at": "2026-07-01T08:00:00"}]));
    let (snapshot, _) = read_value(&dump(users, Some(log)), Tz::Europe__Berlin);
    let expected = Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap();
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::At(expected));
}

#[test]
fn login_with_offset_keeps_offset() {
    let users = json!([{"id": "9", "doctor": 501}]);
    let log = page(json!([{"user_id": 9, "type": "Login", "created_at": "2026-07-01T08:00:00Z"}]));
    let (snapshot, _) = read_value(&dump(users, Some(log)), Tz::UTC);
    let expected = Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).unwrap();
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::At(expected));
}

#[test]
fn login_repeated_hour_takes_earlier() {
    let users = json!([{"id": "9", "doctor": 501}]);
    // 01:30 happens twice in Chicago on 2026-11-01; the first is CDT (UTC-5).
    let log = page(json!([{"user_id": 9, "type": "Login", "created_at": "2026-11-01 01:30:00"}]));
    let (snapshot, _) = read_value(&dump(users, Some(log)), Tz::UTC);
    let expected = Utc.with_ymd_and_hms(2026, 11, 1, 6, 30, 0).unwrap();
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::At(expected));
}

#[test]
fn login_skipped_hour_warns_unknown() {
    let users = json!([{"id": "9", "doctor": 501}, {"id": "10", "doctor": 501}]);
    // 02:30 does not exist in Chicago on 2026-03-08.
    let log = page(json!([
        {"user_id": 9, "type": "Login", "created_at": "2026-03-08T02:30:00"},
        {"user_id": 10, "type": "Login", "created_at": "2026-03-08T04:30:00"}
    ]));
    let (snapshot, diagnostics) = read_value(&dump(users, Some(log)), Tz::UTC);
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::Unknown);
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.contains("`America/Chicago`"), "{}", warning.message);
}

#[test]
fn no_login_without_window_is_never() {
    let users = json!([{"id": "9"}, {"id": "10"}]);
    let log = page(json!([{"user_id": 9, "type": "Login", "created_at": "2026-07-01T08:00:00"}]));
    let (snapshot, _) = read_value(&dump(users, Some(log)), Tz::UTC);
    assert_eq!(account(&snapshot, "10").last_sign_in, LastSignIn::Never);
    assert!(!account(&snapshot, "10").attributes.contains_key("no_login_since"));
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Available);
}

#[test]
fn audit_log_without_login_is_unknown() {
    let users = json!([{"id": "9"}]);
    let log = page(json!([{"user_id": 9, "type": "Logout", "created_at": "2026-07-01T08:00:00"}]));
    let (snapshot, diagnostics) = read_value(&dump(users, Some(log)), Tz::UTC);
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::Unknown);
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Unknown);
    assert!(diagnostics.iter().any(|d| d.message.starts_with("the audit log has no `Login`")));
}

#[test]
fn missing_audit_log_is_missing() {
    let (snapshot, _) = read_value(&dump(json!([{"id": "9"}]), None), Tz::UTC);
    assert_eq!(account(&snapshot, "9").last_sign_in, LastSignIn::Unknown);
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Missing);
}

#[test]
fn next_link_on_last_page_warns() {
    let mut dump = dump(json!([{"id": "9"}]), None);
    dump["responses"]["/api/users"][0]["next"] =
        json!("https://app.drchrono.com/api/users?cursor=x");
    let (_, diagnostics) = read_value(&dump, Tz::UTC);
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert_eq!(warning.location.to_string(), r#"$.responses["/api/users"][0].next"#);
}

#[test]
fn full_url_key_and_bare_records_read() {
    let dump = json!({"responses": {
        "https://app.drchrono.com/api/users?page_size=250": [{"id": "9", "username": "bare"}]
    }});
    let (snapshot, _) = read_value(&dump, Tz::UTC);
    assert_eq!(account(&snapshot, "9").login.as_deref(), Some("bare"));
}

#[test]
fn duplicate_user_keeps_first() {
    let users = json!([{"id": "9", "username": "first"}, {"id": 9, "username": "second"}]);
    let (snapshot, diagnostics) = read_value(&dump(users, None), Tz::UTC);
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(snapshot.accounts[0].login.as_deref(), Some("first"));
    assert!(diagnostics.iter().any(|d| d.message.starts_with("skipped a second user with id `9`")));
}

#[test]
fn byte_order_mark_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(br#"{"responses": {"/api/users": []}}"#);
    let (snapshot, _) = read(Path::new("d.json"), &bytes, Tz::UTC).unwrap();
    assert!(snapshot.accounts.is_empty());
}

#[test]
fn top_level_array_rejected() {
    assert!(matches!(read_error(b"[]"), DrChronoError::NotADump { found: "array", .. }));
}

#[test]
fn other_source_rejected() {
    let error = read_error(br#"{"source": "athenahealth", "responses": {}}"#);
    assert!(matches!(&error, DrChronoError::WrongSource { found, .. } if found == "athenahealth"));
    assert!(error.to_string().contains("`athenahealth`"), "{error}");
}

#[test]
fn missing_responses_rejected() {
    assert!(matches!(
        read_error(br#"{"source": "drchrono"}"#),
        DrChronoError::MissingResponses { .. }
    ));
}

#[test]
fn missing_users_rejected() {
    let error = read_error(br#"{"responses": {"/api/doctors": []}}"#);
    assert!(matches!(error, DrChronoError::MissingUsers { .. }));
}

#[test]
fn invalid_json_names_position() {
    let DrChronoError::InvalidJson { line, column, .. } = read_error(b"{\n\"responses\" 1}") else {
        panic!("expected invalid JSON");
    };
    assert_eq!((line, column), (2, 13));
}
