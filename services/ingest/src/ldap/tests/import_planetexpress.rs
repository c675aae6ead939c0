use rollcall_core::model::{AccountStatus, LastSignIn, Member, SourceSnapshot};

use super::testdata;
use crate::diagnostic::{Diagnostic, Level};
use crate::ldap::LdapImport;

const PEOPLE: [&str; 7] = ["amy", "bender", "fry", "hermes", "leela", "professor", "zoidberg"];

/// Reads the Planet Express people and groups, optionally with the 2000-member group.
fn import(with_large_group: bool) -> (SourceSnapshot, Vec<Diagnostic>) {
    let mut files = vec!["ldap-planetexpress-data-00_people.ldif".to_owned()];
    files
        .extend(PEOPLE.iter().map(|name| format!("ldap-planetexpress-data-10_people_{name}.ldif")));
    files.push("ldap-planetexpress-data-30_groups_admin.ldif".to_owned());
    files.push("ldap-planetexpress-data-30_groups_crew.ldif".to_owned());
    if with_large_group {
        files.push("ldap-planetexpress-pr12-large_group-2000-members.concatenated.ldif".to_owned());
    }
    let mut import = LdapImport::new();
    for file in files {
        let bytes = testdata(&format!("public-payloads/{file}"));
        import.add_ldif(&file, &bytes).unwrap_or_else(|error| panic!("{file}: {error}"));
    }
    import.finish()
}

fn members_of(snapshot: &SourceSnapshot, group_name: &str) -> Vec<Member> {
    let group = snapshot.entitlements.iter().find(|e| e.name == group_name).unwrap();
    snapshot
        .memberships
        .iter()
        .filter(|m| m.entitlement == group.id)
        .map(|m| m.member.clone())
        .collect()
}

fn account_id(snapshot: &SourceSnapshot, login: &str) -> String {
    snapshot.accounts.iter().find(|a| a.login.as_deref() == Some(login)).unwrap().id.clone()
}

#[test]
fn people_map_to_accounts() {
    let (snapshot, diagnostics) = import(false);
    assert_eq!(diagnostics, Vec::new());
    assert_eq!(snapshot.accounts.len(), 7);
    let professor =
        snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("professor")).unwrap();
    assert_eq!(professor.id, "cn=hubert j. farnsworth,ou=people,dc=planetexpress,dc=com");
    assert_eq!(professor.display_name.as_deref(), Some("Professor Farnsworth"));
    assert_eq!(professor.email.as_deref(), Some("professor@planetexpress.com"));
    assert_eq!(professor.given_name.as_deref(), Some("Hubert"));
    assert_eq!(professor.family_name.as_deref(), Some("Farnsworth"));
    assert_eq!(professor.job_title.as_deref(), Some("Professor"));
    assert_eq!(professor.status, AccountStatus::Enabled);
    assert_eq!(professor.last_sign_in, LastSignIn::Unknown);
    assert_eq!(
        professor.attributes.get("distinguishedName").map(String::as_str),
        Some("cn=Hubert J. Farnsworth,ou=people,dc=planetexpress,dc=com")
    );
}

#[test]
fn multi_valued_rdn_account() {
    let (snapshot, _) = import(false);
    let amy = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("amy")).unwrap();
    assert_eq!(amy.id, "cn=amy wong+sn=kroker,ou=people,dc=planetexpress,dc=com");
    assert_eq!(amy.display_name.as_deref(), Some("Amy Wong"));
    assert_eq!(amy.family_name.as_deref(), Some("Kroker"));
}

#[test]
fn unsigned_group_type_groups() {
    let (snapshot, _) = import(false);
    assert_eq!(snapshot.entitlements.len(), 2);
    for group in &snapshot.entitlements {
        assert!(group.security_enabled, "{}", group.name);
        assert_eq!(group.attributes.get("groupType").map(String::as_str), Some("2147483650"));
        assert_eq!(group.attributes.get("groupType.scope").map(String::as_str), Some("global"));
    }
    let mut admin = members_of(&snapshot, "admin_staff");
    admin.sort();
    let mut expected = vec![
        Member::Account(account_id(&snapshot, "professor")),
        Member::Account(account_id(&snapshot, "hermes")),
    ];
    expected.sort();
    assert_eq!(admin, expected);
    let crew = members_of(&snapshot, "ship_crew");
    assert_eq!(crew.len(), 3);
    for login in ["fry", "leela", "bender"] {
        assert!(crew.contains(&Member::Account(account_id(&snapshot, login))), "{login}");
    }
}

#[test]
fn large_group_fully_resolved() {
    let (snapshot, diagnostics) = import(true);
    let warnings: Vec<&Diagnostic> =
        diagnostics.iter().filter(|d| d.level >= Level::Warning).collect();
    assert_eq!(warnings, Vec::<&Diagnostic>::new());
    assert_eq!(snapshot.accounts.len(), 2007);
    let members = members_of(&snapshot, "large_group");
    assert_eq!(members.len(), 2000);
    assert!(members.iter().all(|m| matches!(m, Member::Account(_))));
    // The RDN value is `large7` and the `cn` attribute `Large User7`, so matching goes by DN.
    let user7 = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("user7")).unwrap();
    assert_eq!(user7.display_name.as_deref(), Some("Large User7"));
    assert!(members.contains(&Member::Account(user7.id.clone())));
}
