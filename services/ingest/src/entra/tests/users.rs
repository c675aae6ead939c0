//! Users: status, kind, sign-in activity, manager, delta and evidence attributes.

use chrono::{DateTime, Utc};
use rollcall_core::model::{AccountKind, AccountStatus, Availability, LastSignIn, ManagerRef};

use super::{account, import, payload, warnings};
use crate::diagnostic::{Level, Location};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#users";

/// Builds a users response with `items` as its `value`.
fn users(context: &str, items: &str) -> Vec<u8> {
    format!(r#"{{"@odata.context": "{context}", "value": [{items}]}}"#).into_bytes()
}

#[test]
fn default_properties_still_load() {
    let name = "graph-v1-list-users.default-properties.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.accounts.len(), 2);
    let admin = account(&snapshot, "4562bcc8-c436-4f95-b7c0-4f8ce89dca5e");
    assert_eq!(admin.upn.as_deref(), Some("admin@contoso.com"));
    assert_eq!(admin.login.as_deref(), Some("admin@contoso.com"));
    assert_eq!(admin.display_name.as_deref(), Some("MOD Administrator"));
    assert_eq!(admin.family_name.as_deref(), Some("Administrator"));
    assert_eq!(admin.email, None);
    // Without `accountEnabled` in the response the status is not known.
    assert_eq!(admin.status, AccountStatus::Unknown);
    assert_eq!(admin.status_raw, None);
    assert_eq!(admin.last_sign_in, LastSignIn::Unknown);
    assert_eq!(admin.auth_methods, None);
    let room = account(&snapshot, "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0");
    assert_eq!(room.email.as_deref(), Some("Adams@contoso.com"));
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Unknown);
}

#[test]
fn sentinel_sign_in_means_no_value() {
    let name = "graph-v1-list-users.signinactivity.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Available);
    let adele = account(&snapshot, "1aecaf40-dc3a-461f-88a8-d06994e12898");
    assert_eq!(adele.last_sign_in, LastSignIn::At(at("2021-06-17T16:41:33Z")));
    assert_eq!(
        adele.attributes.get("signInActivity.lastNonInteractiveSignInDateTime").map(String::as_str),
        Some("0001-01-01T00:00:00Z")
    );
}

#[test]
fn later_of_interactive_and_non_interactive() {
    let name = "graph-v1-list-users.signinactivity.json";
    let (snapshot, _) = import(&[(name, &payload(name))]);
    let alex = account(&snapshot, "f0662ee5-84b1-43d6-8338-769cce1bc141");
    assert_eq!(alex.last_sign_in, LastSignIn::At(at("2021-07-29T17:53:42Z")));
}

#[test]
fn successful_sign_in_preferred() {
    let items = r#"{"id": "u1", "signInActivity": {
        "lastSignInDateTime": "2026-03-02T10:00:00Z",
        "lastNonInteractiveSignInDateTime": "2026-03-03T10:00:00Z",
        "lastSuccessfulSignInDateTime": "2026-02-01T08:30:00.1234567Z"}}"#;
    let (snapshot, _) = import(&[("users.json", &users(CONTEXT, items))]);
    let expected = at("2026-02-01T08:30:00.1234567Z");
    assert_eq!(account(&snapshot, "u1").last_sign_in, LastSignIn::At(expected));
    assert_eq!(expected.timestamp_subsec_nanos(), 123_456_700);
}

#[test]
fn empty_or_null_activity_is_never() {
    let items = r#"
        {"id": "empty", "signInActivity": {"lastSignInDateTime": null,
            "lastNonInteractiveSignInDateTime": "0001-01-01T00:00:00Z",
            "lastSuccessfulSignInDateTime": ""}},
        {"id": "null", "signInActivity": null},
        {"id": "left-out"}"#;
    let context = "https://graph.microsoft.com/v1.0/$metadata#users(id,signInActivity)";
    let (snapshot, _) = import(&[("users.json", &users(context, items))]);
    assert_eq!(account(&snapshot, "empty").last_sign_in, LastSignIn::Never);
    assert_eq!(account(&snapshot, "null").last_sign_in, LastSignIn::Never);
    // The select list asked for it, so a user without it has none.
    assert_eq!(account(&snapshot, "left-out").last_sign_in, LastSignIn::Never);
}

#[test]
fn sign_in_not_selected_is_unknown() {
    let (snapshot, _) = import(&[("users.json", &users(CONTEXT, r#"{"id": "u1"}"#))]);
    assert_eq!(account(&snapshot, "u1").last_sign_in, LastSignIn::Unknown);
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Unknown);
}

#[test]
fn unlicensed_tenant_marks_sign_in_missing() {
    let error = br#"{"error": {"code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "message": "Neither tenant is B2C or tenant doesn't have premium license"}}"#;
    let (snapshot, diagnostics) =
        import(&[("users.signin.json", error), ("users.json", &users(CONTEXT, r#"{"id": "u1"}"#))]);
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Missing);
    let found = warnings(&diagnostics, "no Entra ID P1 or P2");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].file, std::path::Path::new("users.signin.json"));
}

#[test]
fn account_enabled_sets_status() {
    let items = r#"{"id": "on", "accountEnabled": true},
        {"id": "off", "accountEnabled": false},
        {"id": "null", "accountEnabled": null}"#;
    let (snapshot, _) = import(&[("users.json", &users(CONTEXT, items))]);
    let off = account(&snapshot, "off");
    assert_eq!(off.status, AccountStatus::Disabled);
    assert_eq!(off.status_raw.as_deref(), Some("accountEnabled: false"));
    assert_eq!(off.attributes.get("accountEnabled").map(String::as_str), Some("false"));
    assert_eq!(account(&snapshot, "on").status, AccountStatus::Enabled);
    assert_eq!(account(&snapshot, "null").status, AccountStatus::Unknown);
}

#[test]
fn guest_user_type_gives_guest() {
    let items = r#"{"id": "g", "userType": "Guest", "userPrincipalName": "x_example.org#EXT#@t.example"},
        {"id": "m", "userType": "Member"}"#;
    let (snapshot, _) = import(&[("users.json", &users(CONTEXT, items))]);
    let guest = account(&snapshot, "g");
    assert_eq!(guest.kind, AccountKind::Guest);
    assert_eq!(guest.attributes.get("userType").map(String::as_str), Some("Guest"));
    assert_eq!(account(&snapshot, "m").kind, AccountKind::Member);
}

#[test]
fn selected_properties_mapped() {
    let items = r#"{"id": "u1", "employeeId": "E-1001", "jobTitle": "Front desk",
        "department": "Reception", "mail": "u1@clinic.example",
        "createdDateTime": "2024-05-06T07:08:09Z", "onPremisesSyncEnabled": true,
        "givenName": "Rowan", "surname": "Example"}"#;
    let (snapshot, diagnostics) = import(&[("users.json", &users(CONTEXT, items))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let user = account(&snapshot, "u1");
    assert_eq!(user.employee_id.as_deref(), Some("E-1001"));
    assert_eq!(user.job_title.as_deref(), Some("Front desk"));
    assert_eq!(user.department.as_deref(), Some("Reception"));
    assert_eq!(user.email.as_deref(), Some("u1@clinic.example"));
    assert_eq!(user.given_name.as_deref(), Some("Rowan"));
    assert_eq!(user.created_at, Some(at("2024-05-06T07:08:09Z")));
    assert_eq!(user.attributes.get("onPremisesSyncEnabled").map(String::as_str), Some("true"));
}

#[test]
fn bad_timestamp_warns_keeps_user() {
    let items = r#"{"id": "u1", "accountEnabled": true, "createdDateTime": "last Tuesday"}"#;
    let (snapshot, diagnostics) = import(&[("users.json", &users(CONTEXT, items))]);
    let user = account(&snapshot, "u1");
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.created_at, None);
    let found = warnings(&diagnostics, "`last Tuesday`");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].location, Location::JsonPath("$.value[0].createdDateTime".into()));
}

#[test]
fn bad_sign_in_time_is_unknown() {
    let items = r#"{"id": "u1", "signInActivity": {"lastSignInDateTime": "yesterday"}}"#;
    let (snapshot, diagnostics) = import(&[("users.json", &users(CONTEXT, items))]);
    assert_eq!(account(&snapshot, "u1").last_sign_in, LastSignIn::Unknown);
    assert_eq!(warnings(&diagnostics, "`yesterday`").len(), 1);
}

#[test]
fn manager_chain_takes_direct_manager() {
    let name = "graph-v1-user-manager-chain.levels-max.json";
    let path = "users/a97733ce-92a4-4e7e-8d45-8e1f3e6a69d8.json";
    let (snapshot, diagnostics) = import(&[(path, &payload(name))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let contributor = account(&snapshot, "a97733ce-92a4-4e7e-8d45-8e1f3e6a69d8");
    let direct = ManagerRef::Account("7d54cb02-aaa3-4016-9f9c-a4b49422dd9b".into());
    assert_eq!(contributor.manager, Some(direct));
    // Each nested manager names its own manager.
    let middle = account(&snapshot, "7d54cb02-aaa3-4016-9f9c-a4b49422dd9b");
    let next = ManagerRef::Account("343a3f95-377c-47a9-b697-480487bfcdf7".into());
    assert_eq!(middle.manager, Some(next));
    assert_eq!(middle.status, AccountStatus::Unknown);
}

#[test]
fn contact_manager_kept_with_type() {
    let items = r##"{"id": "u1", "manager": {"@odata.type": "#microsoft.graph.orgContact",
        "id": "c1", "displayName": "Outside Partner"}}"##;
    let (snapshot, _) = import(&[("users.json", &users(CONTEXT, items))]);
    let user = account(&snapshot, "u1");
    assert_eq!(user.manager, Some(ManagerRef::Account("c1".into())));
    assert_eq!(user.attributes.get("manager@odata.type").map(String::as_str), Some("orgContact"));
    assert_eq!(snapshot.accounts.len(), 1);
}

#[test]
fn delta_removed_left_out() {
    let name = "graph-v1-users-delta.1-initial-with-removed-deleted.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert_eq!(snapshot.accounts.len(), 3);
    assert!(snapshot.accounts.iter().all(|a| a.id != "86462606-fde0-4fc4-9e0c-a20eb73e54c6"));
    let notes: Vec<_> = diagnostics.iter().filter(|d| d.level == Level::Info).collect();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].message.contains("reason `deleted`"), "{}", notes[0].message);
    assert_eq!(notes[0].location, Location::JsonPath("$.value[2]".into()));
}

#[test]
fn delta_pages_combine() {
    let names = [
        "graph-v1-users-delta.1-initial-with-removed-deleted.json",
        "graph-v1-users-delta.2-nextlink-page.json",
        "graph-v1-users-delta.3-final-page-deltalink.json",
        "graph-v1-users-delta.4-deltalink-no-changes.json",
    ];
    let files: Vec<(&str, Vec<u8>)> = names.iter().map(|name| (*name, payload(name))).collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let (snapshot, _) = import(&files);
    assert_eq!(snapshot.accounts.len(), 7);
}

#[test]
fn user_without_id_warns() {
    let name = "graph-v1-users-delta.select-minimal-null-jobtitle.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert!(snapshot.accounts.is_empty());
    let found = warnings(&diagnostics, "has no `id`");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].location, Location::JsonPath("$.value[0]".into()));
}

#[test]
fn absent_property_keeps_earlier_value() {
    let full = users(CONTEXT, r#"{"id": "u1", "jobTitle": "Nurse", "accountEnabled": true}"#);
    let partial = users(CONTEXT, r#"{"id": "u1", "displayName": "Sam"}"#);
    let cleared = users(CONTEXT, r#"{"id": "u1", "jobTitle": null}"#);
    let (snapshot, _) = import(&[("users.a.json", &full), ("users.b.json", &partial)]);
    let user = account(&snapshot, "u1");
    assert_eq!(user.job_title.as_deref(), Some("Nurse"));
    assert_eq!(user.display_name.as_deref(), Some("Sam"));
    assert_eq!(user.status, AccountStatus::Enabled);
    let (snapshot, _) = import(&[("users.a.json", &full), ("users.c.json", &cleared)]);
    assert_eq!(account(&snapshot, "u1").job_title, None);
}

#[test]
fn deepest_manager_chain_read() {
    // serde_json stops at 128 nested levels; a chain just inside that limit must not
    // exhaust the stack of a test thread.
    let depth = 120;
    let mut chain = String::from(r#"{"id": "m-last"}"#);
    for level in 0..depth {
        chain = format!(r#"{{"id": "m{level}", "manager": {chain}}}"#);
    }
    let body = format!(r#"{{"value": [{chain}]}}"#);
    let (snapshot, diagnostics) = import(&[("users.json", body.as_bytes())]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.accounts.len(), depth);
    let top = account(&snapshot, &format!("m{}", depth - 1));
    assert_eq!(top.manager, Some(ManagerRef::Account(format!("m{}", depth - 2))));
}
