use rollcall_core::model::{AccountMarker, AccountStatus, Member, SourceSnapshot};

use super::testdata;
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::ldap::LdapImport;

const FILE: &str = "public-payloads/ldap-samba-provision_users.template.ldif";
const DOMAIN_SID: &str = "S-1-5-21-1004336348-1177238915-682003330";

/// Reads Samba's provisioning template with synthetic values in place of its placeholders.
fn import() -> (SourceSnapshot, Vec<Diagnostic>) {
    let template = String::from_utf8(testdata(FILE)).unwrap();
    let ldif = template
        .replace("${DOMAINDN}", "DC=samdom,DC=example")
        .replace("${DOMAINSID}", DOMAIN_SID)
        .replace("${ADMINPASS_B64}", "c3ludGhldGljLWFkbWlu")
        .replace("${KRBTGTPASS_B64}", "c3ludGhldGljLWtyYnRndA==");
    let mut import = LdapImport::new();
    import.add_ldif(FILE, ldif.as_bytes()).unwrap();
    import.finish()
}

fn group<'a>(snapshot: &'a SourceSnapshot, name: &str) -> &'a rollcall_core::model::Entitlement {
    snapshot
        .entitlements
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

#[test]
fn template_reads_without_warnings() {
    let (snapshot, diagnostics) = import();
    let warnings: Vec<&Diagnostic> =
        diagnostics.iter().filter(|d| d.level >= Level::Warning).collect();
    assert_eq!(warnings, Vec::<&Diagnostic>::new());
    assert_eq!(snapshot.accounts.len(), 3);
}

#[test]
fn administrator_marked_privileged() {
    let (snapshot, _) = import();
    let admin =
        snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("Administrator")).unwrap();
    assert_eq!(admin.sid.as_deref(), Some(format!("{DOMAIN_SID}-500").as_str()));
    assert_eq!(admin.status, AccountStatus::Enabled);
    assert_eq!(admin.status_raw.as_deref(), Some("userAccountControl: 512"));
    assert!(admin.markers.contains(&AccountMarker::AdPrivilegedRid(500)));
    assert!(admin.markers.contains(&AccountMarker::AdAdminCount));
    assert_eq!(admin.attributes.get("accountExpires.utc").map(String::as_str), Some("never"));
    assert_eq!(
        admin.attributes.get("userAccountControl.flags").map(String::as_str),
        Some("NORMAL_ACCOUNT")
    );
}

#[test]
fn krbtgt_and_guest_disabled() {
    let (snapshot, _) = import();
    let krbtgt = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("krbtgt")).unwrap();
    assert_eq!(krbtgt.status, AccountStatus::Disabled);
    assert_eq!(krbtgt.status_raw.as_deref(), Some("userAccountControl: 514"));
    assert!(krbtgt.markers.contains(&AccountMarker::AdPrivilegedRid(502)));
    assert!(krbtgt.markers.contains(&AccountMarker::AdAdminCount));
    let guest = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("Guest")).unwrap();
    assert_eq!(guest.status, AccountStatus::Disabled);
    assert_eq!(guest.status_raw.as_deref(), Some("userAccountControl: 66082"));
    assert_eq!(guest.markers, Vec::new());
}

#[test]
fn domain_admins_found_by_sid() {
    let (snapshot, _) = import();
    let admins = group(&snapshot, "Domain Admins");
    assert_eq!(admins.sid.as_deref(), Some(format!("{DOMAIN_SID}-512").as_str()));
    assert!(admins.security_enabled);
    assert_eq!(admins.attributes.get("adminCount").map(String::as_str), Some("1"));
    let administrator =
        snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("Administrator")).unwrap();
    assert!(snapshot.memberships.iter().any(
        |m| m.entitlement == admins.id && m.member == Member::Account(administrator.id.clone())
    ));
}

#[test]
fn negative_group_types_read() {
    let (snapshot, _) = import();
    let builtin = group(&snapshot, "Administrators");
    assert_eq!(builtin.sid.as_deref(), Some("S-1-5-32-544"));
    assert!(builtin.security_enabled);
    assert_eq!(builtin.attributes.get("groupType").map(String::as_str), Some("-2147483643"));
    assert_eq!(
        builtin.attributes.get("groupType.scope").map(String::as_str),
        Some("builtin local")
    );
    let readonly = group(&snapshot, "Enterprise Read-only Domain Controllers");
    assert_eq!(readonly.attributes.get("groupType.scope").map(String::as_str), Some("universal"));
    let protected = group(&snapshot, "Protected Users");
    assert_eq!(protected.attributes.get("groupType.scope").map(String::as_str), Some("global"));
}

#[test]
fn nested_and_foreign_members() {
    let (snapshot, _) = import();
    let builtin_admins = group(&snapshot, "Administrators");
    let domain_admins = group(&snapshot, "Domain Admins");
    assert!(snapshot.memberships.iter().any(|m| {
        m.entitlement == builtin_admins.id
            && m.member == Member::Entitlement(domain_admins.id.clone())
    }));
    let users = group(&snapshot, "Users");
    let unresolved: Vec<&Member> = snapshot
        .memberships
        .iter()
        .filter(|m| m.entitlement == users.id && matches!(m.member, Member::Unresolved(_)))
        .map(|m| &m.member)
        .collect();
    assert_eq!(
        unresolved,
        [
            &Member::Unresolved(
                "CN=S-1-5-11,CN=ForeignSecurityPrincipals,DC=samdom,DC=example".into()
            ),
            &Member::Unresolved(
                "CN=S-1-5-4,CN=ForeignSecurityPrincipals,DC=samdom,DC=example".into()
            ),
        ]
    );
}

#[test]
fn guest_primary_group_resolved_by_sid() {
    let (snapshot, _) = import();
    let guests = group(&snapshot, "Domain Guests");
    assert_eq!(guests.sid.as_deref(), Some(format!("{DOMAIN_SID}-514").as_str()));
    let guest = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("Guest")).unwrap();
    assert!(
        snapshot
            .memberships
            .iter()
            .any(|m| m.entitlement == guests.id && m.member == Member::Account(guest.id.clone()))
    );
}

#[test]
fn raw_template_warns_by_line() {
    let mut import = LdapImport::new();
    import.add_ldif(FILE, &testdata(FILE)).unwrap();
    let (_, diagnostics) = import.finish();
    let base64: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.message.contains("the base64 value of `clearTextPassword`"))
        .collect();
    assert_eq!(base64.len(), 2);
    assert_eq!(base64[0].location, Location::Line(48));
    assert_eq!(base64[1].location, Location::Line(73));
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.starts_with("invalid DN `CN=Domain Users,CN=Users,${DOMAINDN}`"))
    );
}
