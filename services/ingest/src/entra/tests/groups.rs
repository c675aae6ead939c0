//! Groups and member lists.

use rollcall_core::model::{EntitlementKind, GrantState, Member, Membership};

use super::{entitlement, import, payload, warnings};
use crate::diagnostic::Location;

const GROUPS: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups(members())",
  "value": [
    {"id": "g-staff", "displayName": "All staff", "description": "Everyone at the clinic",
     "securityEnabled": true, "mailEnabled": false, "groupTypes": []},
    {"id": "g-news", "displayName": "Newsletter", "securityEnabled": false, "mailEnabled": true,
     "groupTypes": ["Unified"],
     "members": [
       {"@odata.type": "#microsoft.graph.user", "id": "u1", "displayName": "Rowan Example",
        "userPrincipalName": "rowan@clinic.example"},
       {"@odata.type": "#microsoft.graph.group", "id": "g-staff", "displayName": "All staff"},
       {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp1", "displayName": "Backup agent"},
       {"@odata.type": "#microsoft.graph.device", "id": "d1"},
       {"@odata.type": "#microsoft.graph.orgContact", "id": "c1", "displayName": "Courier"}
     ]}
  ]
}"##;

const MEMBERS: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
  "value": [
    {"@odata.type": "#microsoft.graph.user", "id": "u2", "userPrincipalName": "sam@clinic.example"},
    {"@odata.type": "#microsoft.graph.user", "id": "u3"}
  ]
}"##;

fn member(member: Member, group: &str) -> Membership {
    Membership { member, entitlement: group.into(), state: GrantState::Active, scope: None }
}

#[test]
fn group_fields_mapped() {
    let (snapshot, diagnostics) = import(&[("groups.json", GROUPS.as_bytes())]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let staff = entitlement(&snapshot, "g-staff");
    assert_eq!(staff.kind, EntitlementKind::Group);
    assert_eq!(staff.name, "All staff");
    assert_eq!(staff.description.as_deref(), Some("Everyone at the clinic"));
    assert!(staff.security_enabled);
    let news = entitlement(&snapshot, "g-news");
    assert!(!news.security_enabled);
    assert_eq!(news.attributes.get("groupTypes").map(String::as_str), Some("Unified"));
    assert_eq!(news.attributes.get("securityEnabled").map(String::as_str), Some("false"));
}

#[test]
fn expanded_members_by_type() {
    let (snapshot, _) = import(&[("groups.json", GROUPS.as_bytes())]);
    let expected = vec![
        member(Member::Account("u1".into()), "g-news"),
        member(Member::Entitlement("g-staff".into()), "g-news"),
        member(Member::Unresolved("device:d1".into()), "g-news"),
        member(Member::Unresolved("orgContact:c1 (Courier)".into()), "g-news"),
        member(Member::Unresolved("servicePrincipal:sp1 (Backup agent)".into()), "g-news"),
    ];
    assert_eq!(snapshot.memberships, expected);
    // The expanded user becomes an account with what the expansion carries.
    let user = super::account(&snapshot, "u1");
    assert_eq!(user.upn.as_deref(), Some("rowan@clinic.example"));
}

#[test]
fn member_file_by_name() {
    let (snapshot, diagnostics) = import(&[
        ("groups.json", GROUPS.as_bytes()),
        ("groups/g-staff/members.json", MEMBERS.as_bytes()),
    ]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(snapshot.memberships.contains(&member(Member::Account("u2".into()), "g-staff")));
    assert!(snapshot.memberships.contains(&member(Member::Account("u3".into()), "g-staff")));
    assert_eq!(super::account(&snapshot, "u2").upn.as_deref(), Some("sam@clinic.example"));
}

#[test]
fn transitive_members_are_memberships() {
    let transitive = r##"{"value": [
        {"@odata.type": "#microsoft.graph.group", "id": "g-nested"},
        {"@odata.type": "#microsoft.graph.user", "id": "u9"}]}"##;
    let (snapshot, _) = import(&[
        ("groups.json", GROUPS.as_bytes()),
        ("groups.g-staff.transitiveMembers.page1.json", transitive.as_bytes()),
    ]);
    assert!(
        snapshot.memberships.contains(&member(Member::Entitlement("g-nested".into()), "g-staff"))
    );
    assert!(snapshot.memberships.contains(&member(Member::Account("u9".into()), "g-staff")));
}

#[test]
fn typed_members_follow_file_name() {
    // Without a context the items' types give "users", but the file name names a member list.
    let members = r##"{"value": [{"@odata.type": "#microsoft.graph.user", "id": "u2"}]}"##;
    let (snapshot, _) = import(&[
        ("groups.json", GROUPS.as_bytes()),
        ("groups/g-staff/members.json", members.as_bytes()),
    ]);
    assert!(snapshot.memberships.contains(&member(Member::Account("u2".into()), "g-staff")));
}

#[test]
fn untyped_member_resolved_by_id() {
    let users = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": [{"id": "u5"}]}"#;
    let members = br#"{"value": [{"id": "u5"}, {"id": "g-staff"}, {"id": "x1"}]}"#;
    let (snapshot, diagnostics) = import(&[
        ("groups.json", GROUPS.as_bytes()),
        ("users.json", users),
        ("groups/g-news/members.json", members),
    ]);
    assert!(snapshot.memberships.contains(&member(Member::Account("u5".into()), "g-news")));
    assert!(
        snapshot.memberships.contains(&member(Member::Entitlement("g-staff".into()), "g-news"))
    );
    assert!(
        snapshot
            .memberships
            .contains(&member(Member::Unresolved("directoryObject:x1".into()), "g-news"))
    );
    let found = warnings(&diagnostics, "member `x1` has no `@odata.type`");
    assert_eq!(found.len(), 1);
}

#[test]
fn unknown_group_gets_id_name() {
    let (snapshot, diagnostics) = import(&[("groups/g-lab/members.json", MEMBERS.as_bytes())]);
    let lab = entitlement(&snapshot, "g-lab");
    assert_eq!(lab.name, "g-lab");
    assert_eq!(lab.kind, EntitlementKind::Group);
    assert_eq!(warnings(&diagnostics, "group `g-lab` has members here").len(), 1);
    assert_eq!(snapshot.memberships.len(), 2);
}

#[test]
fn member_without_id_warns() {
    let name = "graph-v1-directoryrole-members.no-odata-type.json";
    let path = "directoryRoles/r-object/members.json";
    let (snapshot, diagnostics) = import(&[(path, &payload(name))]);
    assert!(snapshot.memberships.is_empty());
    let found = warnings(&diagnostics, "has no `id`");
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("`AdeleV@contoso.com`"), "{}", found[0].message);
    assert_eq!(found[0].location, Location::JsonPath("$.value[0]".into()));
}

#[test]
fn directory_objects_without_name_unsupported() {
    let (snapshot, diagnostics) = import(&[("members.json", MEMBERS.as_bytes())]);
    assert!(snapshot.memberships.is_empty());
    assert!(snapshot.accounts.is_empty());
    assert_eq!(warnings(&diagnostics, "`#directoryObjects`").len(), 1);
}
