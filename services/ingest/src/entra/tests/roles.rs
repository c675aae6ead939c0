//! Directory roles, role assignments, PIM eligibility and role definitions.

use rollcall_core::model::{
    AccountKind, AccountStatus, EntitlementKind, GrantState, Member, Membership,
};

use super::{account, entitlement, import, payload, warnings};

/// Global Administrator's template id, the same in every tenant.
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

const DIRECTORY_ROLES: &str = r#"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryRoles",
  "value": [{"id": "0f3c-tenant-object-id", "displayName": "Global Administrator",
             "description": "Can manage all aspects of Microsoft Entra ID.",
             "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10"}]
}"#;

const ROLE_MEMBERS: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
  "value": [{"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "it@clinic.example"},
            {"@odata.type": "#microsoft.graph.group", "id": "g-admins", "displayName": "IT admins"}]
}"##;

fn active(member: Member, role: &str) -> Membership {
    Membership { member, entitlement: role.into(), state: GrantState::Active, scope: None }
}

#[test]
fn directory_role_keyed_by_template() {
    let (snapshot, diagnostics) = import(&[
        ("directoryRoles.json", DIRECTORY_ROLES.as_bytes()),
        ("directoryRoles/0f3c-tenant-object-id/members.json", ROLE_MEMBERS.as_bytes()),
    ]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let role = entitlement(&snapshot, GLOBAL_ADMIN);
    assert_eq!(role.kind, EntitlementKind::DirectoryRole);
    assert_eq!(role.name, "Global Administrator");
    assert_eq!(role.role_template_id.as_deref(), Some(GLOBAL_ADMIN));
    assert_eq!(
        role.attributes.get("directoryRole.id").map(String::as_str),
        Some("0f3c-tenant-object-id")
    );
    assert!(snapshot.memberships.contains(&active(Member::Account("u1".into()), GLOBAL_ADMIN)));
    assert!(
        snapshot
            .memberships
            .contains(&active(Member::Entitlement("g-admins".into()), GLOBAL_ADMIN))
    );
}

#[test]
fn role_members_by_template_id() {
    let path = format!("directoryRoles/{GLOBAL_ADMIN}/members.json");
    let (snapshot, diagnostics) = import(&[
        ("directoryRoles.json", DIRECTORY_ROLES.as_bytes()),
        (&path, ROLE_MEMBERS.as_bytes()),
    ]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(snapshot.memberships.contains(&active(Member::Account("u1".into()), GLOBAL_ADMIN)));
}

#[test]
fn unknown_role_object_warns() {
    let (snapshot, diagnostics) =
        import(&[("directoryRoles/abc-object/members.json", ROLE_MEMBERS.as_bytes())]);
    assert_eq!(warnings(&diagnostics, "directory role `abc-object` is in no").len(), 1);
    assert!(snapshot.memberships.contains(&active(Member::Account("u1".into()), "abc-object")));
}

#[test]
fn placeholder_directory_roles_read() {
    let name = "graph-v1-list-directoryroles.placeholder-values.json";
    let (snapshot, _) = import(&[("directoryRoles.json", &payload(name))]);
    let role = entitlement(&snapshot, "roleTemplateId-value");
    assert_eq!(role.name, "displayName-value");
    assert_eq!(role.description.as_deref(), Some("description-value"));
}

#[test]
fn assignments_with_principals() {
    let name = "graph-v1-roleassignments.filter-ga.expand-principal.repaired.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.memberships.len(), 3);
    for membership in &snapshot.memberships {
        assert_eq!(membership.entitlement, GLOBAL_ADMIN);
        assert_eq!(membership.state, GrantState::Active);
        assert_eq!(membership.scope, None);
    }
    let guest = account(&snapshot, "6f87972e-2e7e-4b49-9980-eb3888bdcfe1");
    assert_eq!(guest.kind, AccountKind::Guest);
    assert_eq!(guest.status, AccountStatus::Enabled);
    let member = account(&snapshot, "ace08ec9-aa11-4ada-9145-addf0398233e");
    assert_eq!(member.email.as_deref(), Some("joeyc@contoso.com"));
    assert_eq!(member.kind, AccountKind::Member);
    // Never defined in these files, so the id is used as the name.
    let role = entitlement(&snapshot, GLOBAL_ADMIN);
    assert_eq!(role.name, GLOBAL_ADMIN);
    assert_eq!(role.role_template_id.as_deref(), Some(GLOBAL_ADMIN));
}

#[test]
fn bare_principal_resolved_by_users() {
    let name = "graph-v1-roleassignments.filter-principalid.json";
    let users = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": [{"id": "f1847572-48aa-47aa-96a3-2ec61904f41f"}]}"#;
    let (snapshot, diagnostics) = import(&[(name, &payload(name)), ("users.json", users)]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let principal = Member::Account("f1847572-48aa-47aa-96a3-2ec61904f41f".into());
    assert!(snapshot.memberships.contains(&active(principal.clone(), GLOBAL_ADMIN)));
    assert!(
        snapshot.memberships.contains(&active(principal, "f2ef992c-3afb-46b9-b7cf-a126ee74c451"))
    );
}

#[test]
fn bare_principal_unknown_warns() {
    let name = "graph-v1-roleassignments.filter-principalid.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    let unresolved =
        Member::Unresolved("directoryObject:f1847572-48aa-47aa-96a3-2ec61904f41f".into());
    assert!(snapshot.memberships.contains(&active(unresolved, GLOBAL_ADMIN)));
    assert_eq!(warnings(&diagnostics, "`$expand=principal`").len(), 2);
}

#[test]
fn group_principal_and_scope() {
    let assignments = r##"{
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())",
      "value": [{"id": "a1", "principalId": "g-helpdesk", "directoryScopeId": "/administrativeUnits/au-north",
                 "roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
                 "principal": {"@odata.type": "#microsoft.graph.group", "id": "g-helpdesk",
                               "displayName": "Helpdesk", "isAssignableToRole": true}}]
    }"##;
    let (snapshot, _) = import(&[("roleAssignments.json", assignments.as_bytes())]);
    let expected = Membership {
        member: Member::Entitlement("g-helpdesk".into()),
        entitlement: "729827e3-9c14-49f7-bb1b-9608f156bbb8".into(),
        state: GrantState::Active,
        scope: Some("/administrativeUnits/au-north".into()),
    };
    assert_eq!(snapshot.memberships, vec![expected]);
    assert_eq!(entitlement(&snapshot, "g-helpdesk").name, "Helpdesk");
}

#[test]
fn eligibility_is_eligible() {
    for collection in ["roleEligibilitySchedules", "roleEligibilityScheduleInstances"] {
        let body = format!(
            r#"{{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/{collection}",
               "value": [{{"id": "e1", "principalId": "u1", "roleDefinitionId": "{GLOBAL_ADMIN}",
                          "directoryScopeId": "/", "memberType": "Direct", "status": "Provisioned"}}]}}"#
        );
        let users = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "value": [{"id": "u1"}]}"#;
        let (snapshot, diagnostics) =
            import(&[("pim.json", body.as_bytes()), ("users.json", users)]);
        assert!(diagnostics.is_empty(), "{collection}: {diagnostics:?}");
        let expected = Membership {
            member: Member::Account("u1".into()),
            entitlement: GLOBAL_ADMIN.into(),
            state: GrantState::Eligible,
            scope: None,
        };
        assert_eq!(snapshot.memberships, vec![expected], "{collection}");
    }
}

#[test]
fn definitions_give_privileged_flag() {
    let name = "entra-beta-roledefinitions.filter-isprivileged.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.entitlements.len(), 2);
    let role = entitlement(&snapshot, "aaf43236-0c0d-4d5f-883a-6955382ac081");
    assert_eq!(role.name, "B2C IEF Keyset Administrator");
    assert_eq!(role.source_privileged, Some(true));
    assert_eq!(role.role_template_id.as_deref(), Some("aaf43236-0c0d-4d5f-883a-6955382ac081"));
    assert!(role.description.as_deref().unwrap().starts_with("Can manage secrets"));
    assert_eq!(role.attributes.get("isBuiltIn").map(String::as_str), Some("true"));
}

#[test]
fn expanded_definition_names_role() {
    let name = "entra-beta-roleassignments.expand-roledefinition.filter-isprivileged.json";
    let (snapshot, _) = import(&[(name, &payload(name))]);
    let role = entitlement(&snapshot, "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9");
    assert_eq!(role.name, "Conditional Access Administrator");
    assert_eq!(role.source_privileged, Some(true));
    // The placeholder principal id stays unresolved rather than failing.
    assert!(
        snapshot
            .memberships
            .iter()
            .all(|m| m.member == Member::Unresolved("directoryObject:{principalId}".into()))
    );
}

#[test]
fn custom_role_definition_id_mapped() {
    let definitions = r#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleDefinitions",
        "value": [{"id": "def-1", "templateId": "tmpl-1", "displayName": "Records reviewer",
                   "isBuiltIn": false}]}"#;
    let assignments = r#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments",
        "value": [{"id": "a1", "principalId": "u1", "roleDefinitionId": "def-1", "directoryScopeId": "/"}]}"#;
    let users = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [{"id": "u1"}]}"#;
    let (snapshot, _) = import(&[
        ("roleDefinitions.json", definitions.as_bytes()),
        ("roleAssignments.json", assignments.as_bytes()),
        ("users.json", users),
    ]);
    assert_eq!(snapshot.memberships, vec![active(Member::Account("u1".into()), "tmpl-1")]);
    assert_eq!(entitlement(&snapshot, "tmpl-1").name, "Records reviewer");
    assert!(snapshot.entitlements.iter().all(|e| e.id != "def-1"));
}
