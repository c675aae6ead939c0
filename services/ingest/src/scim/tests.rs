//! Reading synthetic SCIM exports from `scim/testdata/` and inline responses.

use std::path::Path;

use chrono::{TimeZone, Utc};
use rollcall_core::model::{
    Account, AccountStatus, Availability, EntitlementKind, LastSignIn, ManagerRef, Member,
    SourceId, SourceSnapshot,
};

use super::{ScimError, read};
use crate::diagnostic::{Diagnostic, Level};

const LIST_RESPONSE: &str = include_str!("testdata/list-response.json");
const PAGES: &str = include_str!("testdata/pages.json");

fn source() -> SourceId {
    SourceId::ehr("scimapp").unwrap()
}

fn read_text(text: &str) -> (SourceSnapshot, Vec<Diagnostic>) {
    read(Path::new("users.json"), text.as_bytes(), source()).unwrap()
}

fn account<'a>(snapshot: &'a SourceSnapshot, id: &str) -> &'a Account {
    snapshot.accounts.iter().find(|a| a.id == id).unwrap()
}

fn members_of(snapshot: &SourceSnapshot, group: &str) -> Vec<Member> {
    snapshot
        .memberships
        .iter()
        .filter(|m| m.entitlement == group)
        .map(|m| m.member.clone())
        .collect()
}

#[test]
fn scim_sample_reads_users_in_order() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let ids: Vec<_> = snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec!["u-1001", "u-1002", "u-1003", "u-1004"]);
    assert_eq!(snapshot.source, source());
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Missing);
    assert!(snapshot.accounts.iter().all(|a| a.last_sign_in == LastSignIn::Unknown));
}

#[test]
fn scim_user_core_and_enterprise_fields() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let user = account(&snapshot, "u-1001");
    assert_eq!(user.login.as_deref(), Some("avery.sample@clinic.example"));
    assert_eq!(user.given_name.as_deref(), Some("Avery"));
    assert_eq!(user.family_name.as_deref(), Some("Sample"));
    assert_eq!(user.display_name.as_deref(), Some("Avery Sample"));
    assert_eq!(user.email.as_deref(), Some("avery.sample@clinic.example"));
    assert_eq!(user.job_title.as_deref(), Some("Practice Manager"));
    assert_eq!(user.employee_id.as_deref(), Some("E-0042"));
    assert_eq!(user.department.as_deref(), Some("Administration"));
    assert_eq!(user.manager, Some(ManagerRef::Account("u-1003".into())));
    assert_eq!(user.created_at, Some(Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap()));
    assert_eq!(user.attributes.get("externalId").unwrap(), "ext-1001");
    assert_eq!(user.attributes.get("userType").unwrap(), "Employee");
    assert_eq!(user.attributes.get("enterprise.costCenter").unwrap(), "CC-10");
    assert_eq!(user.attributes.get("meta.lastModified").unwrap(), "2026-10-02T14:30:00-07:00");
}

#[test]
fn scim_active_true_is_enabled() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let user = account(&snapshot, "u-1001");
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.status_raw.as_deref(), Some("active: true"));
}

#[test]
fn scim_active_absent_is_unknown() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let user = account(&snapshot, "u-1002");
    assert_eq!(user.status, AccountStatus::Unknown);
    assert_eq!(user.status_raw, None);
}

#[test]
fn scim_active_false_is_disabled() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let user = account(&snapshot, "u-1004");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_raw.as_deref(), Some("active: false"));
}

#[test]
fn scim_active_string_false_is_disabled() {
    let (snapshot, diagnostics) = read_text(LIST_RESPONSE);
    let user = account(&snapshot, "u-1003");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_raw.as_deref(), Some("active: \"False\""));
    assert!(diagnostics.iter().all(|d| !d.message.contains("`active`")), "{diagnostics:?}");
}

#[test]
fn scim_active_string_true_is_enabled() {
    let (snapshot, _) = read_text(PAGES);
    assert_eq!(account(&snapshot, "u-1").status, AccountStatus::Enabled);
}

#[test]
fn scim_active_other_string_warns_unknown() {
    let (snapshot, diagnostics) =
        read_text(r#"{"Resources":[{"id":"u-9","userName":"x","active":"yes"}],"totalResults":1}"#);
    assert_eq!(account(&snapshot, "u-9").status, AccountStatus::Unknown);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].level, Level::Warning);
    assert_eq!(diagnostics[0].location.to_string(), "$.Resources[0].active");
    assert!(diagnostics[0].message.contains("`\"yes\"`"), "{}", diagnostics[0].message);
}

#[test]
fn scim_email_falls_back_to_work() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let user = account(&snapshot, "u-1002");
    assert_eq!(user.email.as_deref(), Some("jordan.example@clinic.example"));
}

#[test]
fn scim_groups_become_entitlements() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    let groups: Vec<_> =
        snapshot.entitlements.iter().map(|e| (e.id.as_str(), e.kind, e.name.as_str())).collect();
    assert_eq!(
        groups,
        vec![
            ("g-admins", EntitlementKind::Group, "EHR Admins"),
            ("g-all", EntitlementKind::Group, "All Staff"),
        ]
    );
    assert_eq!(snapshot.entitlements[1].attributes.get("externalId").unwrap(), "all-staff");
}

#[test]
fn scim_group_members_resolved_by_type() {
    let (snapshot, _) = read_text(LIST_RESPONSE);
    assert_eq!(
        members_of(&snapshot, "g-admins"),
        vec![Member::Account("u-1001".into()), Member::Account("u-1003".into())]
    );
    assert_eq!(
        members_of(&snapshot, "g-all"),
        vec![
            Member::Entitlement("g-admins".into()),
            Member::Account("u-1002".into()),
            Member::Account("u-1004".into()),
            Member::Unresolved("sp-7f3a".into()),
        ]
    );
}

#[test]
fn scim_unresolved_member_warns() {
    let (_, diagnostics) = read_text(LIST_RESPONSE);
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(
        warning
            .message
            .starts_with("group members that are neither a User nor a Group of this file: 1;"),
        "{}",
        warning.message
    );
}

#[test]
fn scim_indirect_user_groups_skipped() {
    let (snapshot, diagnostics) = read_text(LIST_RESPONSE);
    // u-1001 is in g-all only through g-admins, so no direct membership is recorded.
    let direct = members_of(&snapshot, "g-all");
    assert!(!direct.contains(&Member::Account("u-1001".into())));
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.starts_with("skipped User `groups` entries of type `indirect` (1)"))
    );
}

#[test]
fn scim_user_groups_add_missing_group() {
    let (snapshot, diagnostics) = read_text(
        r#"{"Resources":[{"id":"u-1","userName":"x",
            "groups":[{"value":"g-9","display":"Billing"}]}]}"#,
    );
    let group = &snapshot.entitlements[0];
    assert_eq!((group.id.as_str(), group.name.as_str()), ("g-9", "Billing"));
    assert_eq!(group.attributes.get("listed_in").unwrap(), "User.groups");
    assert_eq!(members_of(&snapshot, "g-9"), vec![Member::Account("u-1".into())]);
    assert_eq!(diagnostics[0].level, Level::Info);
}

#[test]
fn scim_pages_read_in_order() {
    let (snapshot, diagnostics) = read_text(PAGES);
    let ids: Vec<_> = snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec!["u-1", "u-2", "u-3"]);
    assert_eq!(account(&snapshot, "u-3").status, AccountStatus::Disabled);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

#[test]
fn scim_missing_page_warns() {
    let (_, diagnostics) = read_text(
        r#"{"totalResults":5,"Resources":[{"id":"u-1","userName":"a"},{"id":"u-2","userName":"b"}]}"#,
    );
    assert_eq!(diagnostics.len(), 1);
    assert!(diagnostics[0].message.starts_with("`totalResults` is 5 but the file has 2"));
}

#[test]
fn scim_repeated_user_keeps_first() {
    let (snapshot, diagnostics) = read_text(
        r#"[{"Resources":[{"id":"u-1","userName":"first"}]},
            {"Resources":[{"id":"u-1","userName":"second"}]}]"#,
    );
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(snapshot.accounts[0].login.as_deref(), Some("first"));
    assert!(diagnostics[0].message.starts_with("resources that repeat an earlier id: 1;"));
}

#[test]
fn scim_attribute_names_ignore_case() {
    let (snapshot, _) = read_text(
        r#"{"resources":[{"ID":"u-1","USERNAME":"a","Active":false,
            "Name":{"GivenName":"Lee"}}]}"#,
    );
    let user = account(&snapshot, "u-1");
    assert_eq!(user.login.as_deref(), Some("a"));
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.given_name.as_deref(), Some("Lee"));
}

#[test]
fn scim_user_without_id_skipped() {
    let (snapshot, diagnostics) = read_text(r#"{"Resources":[{"userName":"no.id"}]}"#);
    assert!(snapshot.accounts.is_empty());
    assert!(diagnostics[0].message.contains("`no.id`"), "{}", diagnostics[0].message);
}

#[test]
fn scim_page_item_not_list_response_warns() {
    let (snapshot, diagnostics) =
        read_text(r#"[{"Resources":[{"id":"u-1","userName":"a"}]}, {"id":"u-2","userName":"b"}]"#);
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(diagnostics[0].location.to_string(), "$[1]");
}

#[test]
fn scim_error_response_rejected() {
    let text = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
                   "status":"403","detail":"Token lacks scope"}"#;
    let error = read(Path::new("u.json"), text.as_bytes(), source()).unwrap_err();
    assert!(matches!(&error, ScimError::ErrorResponse { status, .. } if status == "403"));
    assert!(error.to_string().contains("`Token lacks scope`"), "{error}");
}

#[test]
fn scim_single_user_rejected() {
    let text = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1"}"#;
    let error = read(Path::new("u.json"), text.as_bytes(), source()).unwrap_err();
    assert!(matches!(error, ScimError::NotListResponse { found: "object", .. }));
}

#[test]
fn scim_top_level_string_rejected() {
    let error = read(Path::new("u.json"), br#""users""#, source()).unwrap_err();
    assert!(matches!(error, ScimError::NotListResponse { found: "string", .. }));
}

#[test]
fn scim_invalid_json_names_position() {
    let error = read(Path::new("u.json"), b"{\"Resources\": [,]}", source()).unwrap_err();
    let ScimError::InvalidJson { line, column, .. } = error else { panic!("{error:?}") };
    assert_eq!((line, column), (1, 16));
}
