//! A tenant assembled from many files, file layouts with several responses, and the
//! independence of the result from the order files are added in.

use std::path::Path;

use rollcall_core::model::{
    AccountStatus, Availability, GrantState, LastSignIn, Member, Membership, MfaSummary, Strength,
};

use super::{account, entitlement, import, payload};
use crate::diagnostic::Location;
use crate::entra::{EntraImport, ResponseKind, ResponseSummary};

const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const PRIVILEGED_AUTH_ADMIN: &str = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";

/// A small clinic: two staff, one guest, a group with a nested group, a role with members,
/// a PIM eligibility, methods, the registration report and the methods policy.
fn tenant() -> Vec<(String, Vec<u8>)> {
    let files = [
        (
            "users.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled,userType,signInActivity,manager())",
              "value": [
                {"id": "u-admin", "userPrincipalName": "it@clinic.example", "accountEnabled": true, "userType": "Member",
                 "signInActivity": {"lastSignInDateTime": "2026-04-01T09:00:00Z", "lastNonInteractiveSignInDateTime": null}},
                {"id": "u-nurse", "userPrincipalName": "nurse@clinic.example", "accountEnabled": false, "userType": "Member",
                 "signInActivity": null,
                 "manager": {"@odata.type": "#microsoft.graph.user", "id": "u-admin"}}
              ],
              "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=abc"}"##,
        ),
        (
            "users.page2.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled,userType,signInActivity)",
              "value": [{"id": "u-guest", "userPrincipalName": "vendor_example.org#EXT#@clinic.example",
                         "accountEnabled": true, "userType": "Guest"}]}"##,
        ),
        (
            "groups.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
              "value": [{"id": "g-clinical", "displayName": "Clinical staff", "securityEnabled": true},
                        {"id": "g-nurses", "displayName": "Nurses", "securityEnabled": true}]}"##,
        ),
        (
            "groups/g-clinical/members.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
              "value": [{"@odata.type": "#microsoft.graph.group", "id": "g-nurses"}]}"##,
        ),
        (
            "groups/g-nurses/members.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
              "value": [{"@odata.type": "#microsoft.graph.user", "id": "u-nurse"}]}"##,
        ),
        (
            "directoryRoles.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryRoles",
              "value": [{"id": "dr-1", "displayName": "Global Administrator", "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10"}]}"##,
        ),
        (
            "directoryRoles/dr-1/members.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
              "value": [{"@odata.type": "#microsoft.graph.user", "id": "u-admin"}]}"##,
        ),
        (
            "roleManagement/directory/roleEligibilitySchedules.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleEligibilitySchedules",
              "value": [{"id": "e1", "principalId": "u-guest", "roleDefinitionId": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
                         "directoryScopeId": "/"}]}"##,
        ),
        (
            "roleManagement/directory/roleDefinitions.json",
            r##"{"@odata.context": "https://graph.microsoft.com/beta/$metadata#roleManagement/directory/roleDefinitions",
              "value": [{"id": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "templateId": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
                         "displayName": "Privileged Authentication Administrator", "isPrivileged": true}]}"##,
        ),
        (
            "users/u-admin/authentication/methods.json",
            r##"{"value": [{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "k1"},
                          {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "3179e48a-750b-4051-897c-87b9720928f7",
                           "phoneType": "mobile", "smsSignInState": "notEnabled"}]}"##,
        ),
        (
            "reports/authenticationMethods/userRegistrationDetails.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
              "value": [{"id": "u-admin", "isAdmin": true, "methodsRegistered": ["password"]},
                        {"id": "u-nurse", "isAdmin": false, "methodsRegistered": ["mobilePhone"]}]}"##,
        ),
        (
            "policies/authenticationMethodsPolicy.json",
            r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy",
              "authenticationMethodConfigurations": [{"id": "Sms", "state": "enabled"}, {"id": "Voice", "state": "enabled"}]}"##,
        ),
    ];
    files.into_iter().map(|(path, body)| (path.to_owned(), body.as_bytes().to_vec())).collect()
}

fn read_in_order(
    files: &[(String, Vec<u8>)],
) -> (rollcall_core::model::SourceSnapshot, Vec<crate::Diagnostic>) {
    let mut import = EntraImport::new();
    for (path, bytes) in files {
        import.add_file(Path::new(path), bytes).unwrap();
    }
    import.finish()
}

#[test]
fn tenant_assembles_from_files() {
    let (snapshot, diagnostics) = read_in_order(&tenant());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.source.to_string(), "entra");
    assert_eq!(snapshot.accounts.len(), 3);
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Available);
    assert_eq!(
        snapshot.settings.weak_methods_enabled,
        Some(vec!["sms".to_owned(), "voice".to_owned()])
    );

    let admin = account(&snapshot, "u-admin");
    assert_eq!(admin.status, AccountStatus::Enabled);
    assert!(matches!(admin.last_sign_in, LastSignIn::At(_)));
    let summary = MfaSummary::of(admin.auth_methods.as_deref().unwrap(), false);
    // The method file wins over the report's `password` only.
    assert_eq!(summary.strongest, Strength::PhishingResistant);
    assert_eq!(summary.weakest, Some(Strength::Weak));
    assert_eq!(admin.markers.len(), 1);

    let nurse = account(&snapshot, "u-nurse");
    assert_eq!(nurse.status, AccountStatus::Disabled);
    assert_eq!(nurse.last_sign_in, LastSignIn::Never);
    let nurse_summary = MfaSummary::of(nurse.auth_methods.as_deref().unwrap(), false);
    assert_eq!(nurse_summary.strongest, Strength::Weak);

    let role = entitlement(&snapshot, PRIVILEGED_AUTH_ADMIN);
    assert_eq!(role.source_privileged, Some(true));
    let expected = vec![
        Membership::nested("g-nurses", "g-clinical"),
        Membership::account("u-admin", GLOBAL_ADMIN),
        Membership::account("u-nurse", "g-nurses"),
        Membership {
            member: Member::Account("u-guest".into()),
            entitlement: PRIVILEGED_AUTH_ADMIN.into(),
            state: GrantState::Eligible,
            scope: None,
        },
    ];
    let mut expected = expected;
    expected.sort();
    assert_eq!(snapshot.memberships, expected);
}

#[test]
fn add_order_does_not_matter() {
    let files = tenant();
    let reference = read_in_order(&files);
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(read_in_order(&reversed), reference);
    for shift in 1..files.len() {
        let mut rotated = files.clone();
        rotated.rotate_left(shift);
        assert_eq!(read_in_order(&rotated), reference, "rotated by {shift}");
    }
}

#[test]
fn add_order_with_diagnostics() {
    let files: Vec<(String, Vec<u8>)> = [
        "graph-v1-list-userregistrationdetails.json",
        "graph-v1-roleassignments.filter-principalid.json",
        "graph-v1-users-delta.1-initial-with-removed-deleted.json",
        "graph-throttling-429.body.json",
    ]
    .iter()
    .map(|name| (name.to_string(), payload(name)))
    .collect();
    let reference = read_in_order(&files);
    assert!(reference.1.len() >= 4);
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(read_in_order(&reversed), reference);
}

#[test]
fn array_of_responses_read() {
    let pages = format!(
        "[{}, {}]",
        String::from_utf8(payload("graph-v1-users-delta.2-nextlink-page.json")).unwrap(),
        String::from_utf8(payload("graph-v1-users-delta.3-final-page-deltalink.json")).unwrap()
    );
    let mut import = EntraImport::new();
    let summary = import.add_file(Path::new("users.delta.json"), pages.as_bytes()).unwrap();
    assert_eq!(summary.kinds(), vec![ResponseKind::Users]);
    assert_eq!(summary.items(), 4);
    assert_eq!(import.finish().0.accounts.len(), 4);
}

#[test]
fn one_response_per_line_read() {
    let lines = concat!(
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"u1"}]}"#,
        "\n",
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"u2"},{"displayName":"no id"}]}"#,
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#groups","value":[{"id":"g1"}]}"#,
        "\n"
    );
    let mut import = EntraImport::new();
    let summary = import.add_file(Path::new("export.jsonl"), lines.as_bytes()).unwrap();
    assert_eq!(
        summary.responses,
        vec![
            ResponseSummary::Read { kind: ResponseKind::Users, items: 1 },
            ResponseSummary::Read { kind: ResponseKind::Users, items: 2 },
            ResponseSummary::Read { kind: ResponseKind::Groups, items: 1 },
        ]
    );
    let (snapshot, diagnostics) = import.finish();
    assert_eq!(snapshot.accounts.len(), 2);
    assert_eq!(snapshot.entitlements.len(), 1);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].location, Location::JsonPath("$[1].value[1]".into()));
}

#[test]
fn non_object_response_warns() {
    let mut import = EntraImport::new();
    let summary = import.add_file(Path::new("users.json"), b"[1, \"x\"]").unwrap();
    assert_eq!(summary.responses, vec![ResponseSummary::NotAnObject, ResponseSummary::NotAnObject]);
    let (snapshot, diagnostics) = import.finish();
    assert!(snapshot.accounts.is_empty());
    assert_eq!(diagnostics.len(), 2);
}

#[test]
fn same_file_twice_merges() {
    let name = "graph-v1-list-users.signinactivity.json";
    let bytes = payload(name);
    let (once, _) = import(&[(name, &bytes)]);
    let (twice, _) = import(&[(name, &bytes), (name, &bytes)]);
    assert_eq!(once, twice);
}
