use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use rollcall_core::model::{
    AccountMarker, AccountStatus, Availability, LastSignIn, ManagerRef, Member, Membership,
    SourceId, SourceSnapshot,
};

use crate::diagnostic::{Diagnostic, Level, Location};
use crate::ldap::{EntryOrigin, LdapEntry, LdapImport};

const DOMAIN: &str = "DC=bayview-clinic,DC=example";

fn origin(line: u64) -> EntryOrigin {
    EntryOrigin { file: PathBuf::from("export.ldif"), location: Location::Line(line) }
}

fn entry(dn: &str, attributes: &[(&str, &[u8])]) -> LdapEntry {
    let mut entry = LdapEntry::new(dn);
    for (name, value) in attributes {
        entry.push_value(name, value.to_vec());
    }
    entry
}

/// Returns the binary form of the domain SID `S-1-5-21-1-2-3-<rid>`.
fn domain_sid(rid: u32) -> Vec<u8> {
    let mut bytes = vec![1, 5, 0, 0, 0, 0, 0, 5];
    for sub in [21, 1, 2, 3, rid] {
        bytes.extend_from_slice(&u32::to_le_bytes(sub));
    }
    bytes
}

/// Returns a binary `objectGUID` whose text form is `0000000n-0000-0000-0000-00000000000n`.
fn guid(n: u8) -> Vec<u8> {
    let mut bytes = vec![0; 16];
    bytes[0] = n;
    bytes[15] = n;
    bytes
}

fn guid_text(n: u8) -> String {
    format!("{n:08x}-0000-0000-0000-{n:012x}")
}

fn run(entries: Vec<LdapEntry>) -> (SourceSnapshot, Vec<Diagnostic>) {
    let mut import = LdapImport::new();
    for (index, entry) in entries.into_iter().enumerate() {
        import.add_entry(entry, origin(u64::try_from(index).unwrap() * 10 + 1));
    }
    import.finish()
}

fn ad_user(n: u8, name: &str, extra: &[(&str, &[u8])]) -> LdapEntry {
    let dn = format!("CN={name},OU=Staff,{DOMAIN}");
    let mut attributes: Vec<(&str, &[u8])> = vec![
        ("objectClass", b"top"),
        ("objectClass", b"person"),
        ("objectClass", b"organizationalPerson"),
        ("objectClass", b"user"),
    ];
    attributes.extend_from_slice(extra);
    let mut user = entry(&dn, &attributes);
    user.push_value("objectGUID", guid(n));
    user
}

fn ad_group(n: u8, name: &str, extra: &[(&str, &[u8])]) -> LdapEntry {
    let dn = format!("CN={name},OU=Groups,{DOMAIN}");
    let mut attributes: Vec<(&str, &[u8])> =
        vec![("objectClass", b"top"), ("objectClass", b"group")];
    attributes.push(("cn", name.as_bytes()));
    attributes.extend_from_slice(extra);
    let mut group = entry(&dn, &attributes);
    group.push_value("objectGUID", guid(n));
    group
}

#[test]
fn ad_user_fields_mapped() {
    let manager_dn = format!("cn=pat okafor,ou=STAFF,{}", DOMAIN.to_lowercase());
    let member_of_present = format!("CN=Clinic Staff,OU=Groups,{DOMAIN}");
    let member_of_missing = format!("CN=Radiology Viewers,OU=Groups,{DOMAIN}");
    let mut user = ad_user(
        1,
        "Robin Vale",
        &[
            ("sAMAccountName", b"rvale"),
            ("userPrincipalName", b"rvale@bayview-clinic.example"),
            ("mail", b"robin.vale@bayview-clinic.example"),
            ("employeeID", b"E1001"),
            ("employeeNumber", b"N-77"),
            ("displayName", b"Robin Vale"),
            ("givenName", b"Robin"),
            ("sn", b"Vale"),
            ("title", b"Medical Assistant"),
            ("department", b"Pediatrics"),
            ("userAccountControl", b"514"),
            ("lastLogonTimestamp", b"133485408000000000"),
            ("accountExpires", b"0"),
            ("pwdLastSet", b"0"),
            ("whenCreated", b"20230102030405.0Z"),
            ("adminCount", b"1"),
            ("primaryGroupID", b"513"),
            ("manager", manager_dn.as_bytes()),
            ("memberOf", member_of_present.as_bytes()),
            ("memberOf", member_of_missing.as_bytes()),
        ],
    );
    user.push_value("objectSid", domain_sid(1105));
    let manager =
        ad_user(2, "Pat Okafor", &[("sAMAccountName", b"pokafor"), ("userAccountControl", b"512")]);
    let staff = ad_group(3, "Clinic Staff", &[("groupType", b"-2147483646")]);
    let mut domain_users = ad_group(4, "Domain Users", &[]);
    domain_users.push_value("objectSid", domain_sid(513));

    let (snapshot, diagnostics) = run(vec![user, manager, staff, domain_users]);
    assert_eq!(snapshot.source, SourceId::ldap());
    assert_eq!(snapshot.accounts.len(), 2);
    let robin = &snapshot.accounts[0];
    assert_eq!(robin.id, guid_text(1));
    assert_eq!(robin.login.as_deref(), Some("rvale"));
    assert_eq!(robin.sam_account_name.as_deref(), Some("rvale"));
    assert_eq!(robin.upn.as_deref(), Some("rvale@bayview-clinic.example"));
    assert_eq!(robin.email.as_deref(), Some("robin.vale@bayview-clinic.example"));
    assert_eq!(robin.employee_id.as_deref(), Some("E1001"));
    assert_eq!(robin.sid.as_deref(), Some("S-1-5-21-1-2-3-1105"));
    assert_eq!(robin.display_name.as_deref(), Some("Robin Vale"));
    assert_eq!(robin.given_name.as_deref(), Some("Robin"));
    assert_eq!(robin.family_name.as_deref(), Some("Vale"));
    assert_eq!(robin.job_title.as_deref(), Some("Medical Assistant"));
    assert_eq!(robin.department.as_deref(), Some("Pediatrics"));
    assert_eq!(robin.status, AccountStatus::Disabled);
    assert_eq!(robin.status_raw.as_deref(), Some("userAccountControl: 514"));
    assert_eq!(
        robin.last_sign_in,
        LastSignIn::At(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
    );
    assert_eq!(robin.created_at, Some(Utc.with_ymd_and_hms(2023, 1, 2, 3, 4, 5).unwrap()));
    assert_eq!(robin.markers, vec![AccountMarker::AdAdminCount]);
    assert_eq!(robin.manager, Some(ManagerRef::Account(guid_text(2))));
    assert_eq!(robin.attributes["lastLogonTimestamp"], "133485408000000000");
    assert_eq!(robin.attributes["lastLogonTimestamp.utc"], "2024-01-01T00:00:00Z");
    assert_eq!(robin.attributes["accountExpires.utc"], "never");
    assert_eq!(robin.attributes["pwdLastSet.utc"], "not set (change required at next sign-in)");
    assert_eq!(robin.attributes["userAccountControl.flags"], "ACCOUNTDISABLE, NORMAL_ACCOUNT");
    assert_eq!(robin.attributes["adminCount"], "1");
    assert_eq!(robin.attributes["primaryGroupID"], "513");
    assert_eq!(robin.attributes["objectClass"], "top, person, organizationalPerson, user");
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Available);

    let placeholder_id = format!("cn=radiology viewers,ou=groups,{}", DOMAIN.to_lowercase());
    for group in [guid_text(3), guid_text(4), placeholder_id.clone()] {
        assert!(
            snapshot.memberships.contains(&Membership::account(guid_text(1), group.clone())),
            "{group}"
        );
    }
    let placeholder = snapshot.entitlements.iter().find(|e| e.id == placeholder_id).unwrap();
    assert_eq!(placeholder.name, "Radiology Viewers");
    assert_eq!(placeholder.attributes["exported"], "false");
    let warnings: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .starts_with("1 groups named in `memberOf` or `primaryGroupID` are not in the export")
    );
}

#[test]
fn last_logon_zero_means_never() {
    let (snapshot, _) = run(vec![ad_user(1, "Robin Vale", &[("lastLogonTimestamp", b"0")])]);
    assert_eq!(snapshot.accounts[0].last_sign_in, LastSignIn::Never);
    assert_eq!(snapshot.accounts[0].attributes["lastLogonTimestamp.utc"], "never");
}

#[test]
fn manager_outside_export_kept_as_dn() {
    let manager = format!("CN=Former Lead,OU=Staff,{DOMAIN}");
    let (snapshot, _) = run(vec![ad_user(1, "Robin Vale", &[("manager", manager.as_bytes())])]);
    assert_eq!(snapshot.accounts[0].manager, Some(ManagerRef::Account(manager)));
}

#[test]
fn computers_left_out() {
    let computer_dn = format!("CN=FRONTDESK-PC,OU=Computers,{DOMAIN}");
    let computer = entry(
        &computer_dn,
        &[("objectClass", b"user"), ("objectClass", b"computer"), ("userAccountControl", b"4096")],
    );
    let trust = entry(
        &format!("CN=PARTNER$,CN=Users,{DOMAIN}"),
        &[("objectClass", b"user"), ("userAccountControl", b"2080")],
    );
    let group = ad_group(3, "Workstations", &[("member", computer_dn.as_bytes())]);
    let (snapshot, diagnostics) = run(vec![computer, trust, group]);
    assert_eq!(snapshot.accounts, Vec::new());
    assert_eq!(
        snapshot.memberships,
        vec![Membership {
            member: Member::Unresolved(computer_dn.clone()),
            ..Membership::account("", guid_text(3))
        }]
    );
    let info: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.level == Level::Info).collect();
    assert_eq!(info.len(), 1);
    assert!(info[0].message.starts_with(&format!(
        "2 computer, domain controller or trust accounts (the first is `{computer_dn}`)"
    )));
}

#[test]
fn contacts_left_out() {
    let contact = entry(
        &format!("CN=Courier Desk,OU=Contacts,{DOMAIN}"),
        &[
            ("objectClass", b"person"),
            ("objectClass", b"organizationalPerson"),
            ("objectClass", b"contact"),
        ],
    );
    let (snapshot, _) = run(vec![contact]);
    assert_eq!(snapshot.accounts, Vec::new());
}

#[test]
fn distribution_group_not_security() {
    let list = ad_group(1, "Newsletter", &[("groupType", b"2")]);
    let security = ad_group(2, "Billing", &[("groupType", b"-2147483646")]);
    let (snapshot, _) = run(vec![list, security]);
    assert!(!snapshot.entitlements[0].security_enabled);
    assert_eq!(snapshot.entitlements[0].attributes["groupType.scope"], "global");
    assert!(snapshot.entitlements[1].security_enabled);
}

#[test]
fn posix_member_uid_resolved() {
    let user = entry(
        "uid=kmensah,ou=people,dc=clinic,dc=example",
        &[
            ("objectClass", b"posixAccount"),
            ("objectClass", b"inetOrgPerson"),
            ("uid", b"kmensah"),
            ("cn", b"Kofi Mensah"),
        ],
    );
    let group = entry(
        "cn=nurses,ou=groups,dc=clinic,dc=example",
        &[
            ("objectClass", b"posixGroup"),
            ("cn", b"nurses"),
            ("memberUid", b"KMensah"),
            ("memberUid", b"ghost"),
        ],
    );
    let (snapshot, _) = run(vec![user, group]);
    let account = &snapshot.accounts[0];
    assert_eq!(account.login.as_deref(), Some("kmensah"));
    assert_eq!(account.status, AccountStatus::Enabled);
    let group_id = &snapshot.entitlements[0].id;
    assert_eq!(
        snapshot.memberships,
        vec![
            Membership::account(account.id.clone(), group_id.clone()),
            Membership {
                member: Member::Unresolved("ghost".into()),
                ..Membership::account("", group_id.clone())
            }
        ]
    );
}

#[test]
fn entry_uuid_used_as_id() {
    let user = entry(
        "uid=lwei,ou=people,dc=clinic,dc=example",
        &[
            ("objectClass", b"inetOrgPerson"),
            ("entryUUID", b"0B3C9A1E-5F2D-4E8B-9C71-2A6D8E4F1B30"),
        ],
    );
    let (snapshot, _) = run(vec![user]);
    assert_eq!(snapshot.accounts[0].id, "0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b30");
}

#[test]
fn openldap_lock_and_auth_time() {
    let locked = entry(
        "uid=aramos,ou=people,dc=clinic,dc=example",
        &[
            ("objectClass", b"inetOrgPerson"),
            ("pwdAccountLockedTime", b"20240301080000Z"),
            ("authTimestamp", b"20240229170000Z"),
            ("createTimestamp", b"20200101000000Z"),
        ],
    );
    let admin_locked = entry(
        "uid=bsato,ou=people,dc=clinic,dc=example",
        &[("objectClass", b"inetOrgPerson"), ("pwdAccountLockedTime", b"000001010000Z")],
    );
    let (snapshot, diagnostics) = run(vec![locked, admin_locked]);
    assert_eq!(diagnostics, Vec::new());
    let first = &snapshot.accounts[0];
    assert_eq!(first.status, AccountStatus::Disabled);
    assert_eq!(first.status_raw.as_deref(), Some("pwdAccountLockedTime: 20240301080000Z"));
    assert_eq!(first.status_since, Some(Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap()));
    assert_eq!(
        first.last_sign_in,
        LastSignIn::At(Utc.with_ymd_and_hms(2024, 2, 29, 17, 0, 0).unwrap())
    );
    assert_eq!(first.created_at, Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()));
    let second = &snapshot.accounts[1];
    assert_eq!(second.status, AccountStatus::Disabled);
    assert_eq!(second.status_since, None);
}

#[test]
fn ad_user_without_uac_unknown() {
    let (snapshot, _) = run(vec![ad_user(1, "Robin Vale", &[])]);
    assert_eq!(snapshot.accounts[0].status, AccountStatus::Unknown);
    assert_eq!(snapshot.accounts[0].status_raw, None);
}

#[test]
fn invalid_uac_warns_and_unknown() {
    let (snapshot, diagnostics) =
        run(vec![ad_user(1, "Robin Vale", &[("userAccountControl", b"disabled")])]);
    assert_eq!(snapshot.accounts[0].status, AccountStatus::Unknown);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].location, Location::Line(1));
    assert_eq!(
        diagnostics[0].message,
        format!(
            "entry `CN=Robin Vale,OU=Staff,{DOMAIN}`: the `userAccountControl` value `disabled` is not a 32-bit integer: expected a decimal number such as `512` or `-2147483646`. The value was ignored."
        )
    );
}

#[test]
fn unique_member_optional_uid_stripped() {
    let user =
        entry("uid=lwei,ou=people,dc=clinic,dc=example", &[("objectClass", b"inetOrgPerson")]);
    let group = entry(
        "cn=lab,ou=groups,dc=clinic,dc=example",
        &[
            ("objectClass", b"groupOfUniqueNames"),
            ("uniqueMember", b"uid=lwei,ou=people,dc=clinic,dc=example#'0101'B"),
        ],
    );
    let (snapshot, _) = run(vec![user, group]);
    assert_eq!(snapshot.memberships[0].member, Member::Account(snapshot.accounts[0].id.clone()));
}

#[test]
fn invalid_utf8_text_warns() {
    let user = ad_user(1, "Robin Vale", &[("displayName", &[0x52, 0xff]), ("cn", b"Robin Vale")]);
    let (snapshot, diagnostics) = run(vec![user]);
    assert_eq!(snapshot.accounts[0].display_name.as_deref(), Some("Robin Vale"));
    assert_eq!(diagnostics.len(), 1);
    assert!(diagnostics[0].message.contains("a value of `displayname` is not valid UTF-8 text"));
}

#[test]
fn records_for_one_dn_merged() {
    let first = ad_user(1, "Robin Vale", &[("sAMAccountName", b"rvale")]);
    let second = entry(
        &format!("cn=robin vale,ou=staff,{}", DOMAIN.to_lowercase()),
        &[("mail", b"robin.vale@bayview-clinic.example"), ("userAccountControl", b"512")],
    );
    let (snapshot, diagnostics) = run(vec![first, second]);
    assert_eq!(diagnostics, Vec::new());
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(snapshot.accounts[0].email.as_deref(), Some("robin.vale@bayview-clinic.example"));
    assert_eq!(snapshot.accounts[0].status, AccountStatus::Enabled);
}

#[test]
fn conflicting_single_values_warn() {
    let first = ad_user(1, "Robin Vale", &[("userAccountControl", b"512")]);
    let second =
        entry(&format!("CN=Robin Vale,OU=Staff,{DOMAIN}"), &[("userAccountControl", b"514")]);
    let (snapshot, diagnostics) = run(vec![first, second]);
    assert_eq!(snapshot.accounts[0].status, AccountStatus::Enabled);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        diagnostics[0].message,
        format!(
            "entry `CN=Robin Vale,OU=Staff,{DOMAIN}` has 2 values for the single-valued `useraccountcontrol`, so the first one, `512`, was used. Export each entry once."
        )
    );
}

#[test]
fn invalid_dn_kept_with_warning() {
    let user = entry("Robin Vale", &[("objectClass", b"inetOrgPerson"), ("uid", b"rvale")]);
    let (snapshot, diagnostics) = run(vec![user]);
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(snapshot.accounts[0].id, "robin vale");
    assert!(diagnostics[0].message.starts_with("invalid DN `Robin Vale`"));
}

#[test]
fn group_member_of_nests() {
    let parent_dn = format!("CN=All Staff,OU=Groups,{DOMAIN}");
    let child = ad_group(1, "Nurses", &[("memberOf", parent_dn.as_bytes())]);
    let parent = ad_group(2, "All Staff", &[]);
    let (snapshot, _) = run(vec![child, parent]);
    assert_eq!(snapshot.memberships, vec![Membership::nested(guid_text(1), guid_text(2))]);
}

#[test]
fn member_and_member_of_not_duplicated() {
    let user_dn = format!("CN=Robin Vale,OU=Staff,{DOMAIN}");
    let group_dn = format!("CN=Billing,OU=Groups,{DOMAIN}");
    let user = ad_user(1, "Robin Vale", &[("memberOf", group_dn.as_bytes())]);
    let group = ad_group(2, "Billing", &[("member", user_dn.as_bytes())]);
    let (snapshot, _) = run(vec![user, group]);
    assert_eq!(snapshot.memberships, vec![Membership::account(guid_text(1), guid_text(2))]);
}

#[test]
fn duplicate_guid_skipped() {
    let first = ad_user(1, "Robin Vale", &[]);
    let second = ad_user(1, "Robin Vale Copy", &[]);
    let (snapshot, diagnostics) = run(vec![first, second]);
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(diagnostics[0].location, Location::Line(11));
    assert!(
        diagnostics[0]
            .message
            .contains("has the id `00000001-0000-0000-0000-000000000001` of an earlier account")
    );
}

#[test]
fn missing_primary_group_named_by_rid() {
    let mut user = ad_user(1, "Robin Vale", &[("primaryGroupID", b"512")]);
    user.push_value("objectSid", domain_sid(1105));
    let (snapshot, _) = run(vec![user]);
    let group = &snapshot.entitlements[0];
    assert_eq!(group.id, "S-1-5-21-1-2-3-512");
    assert_eq!(group.name, "Domain Admins");
    assert_eq!(group.sid.as_deref(), Some("S-1-5-21-1-2-3-512"));
    assert_eq!(snapshot.memberships, vec![Membership::account(guid_text(1), "S-1-5-21-1-2-3-512")]);
}

#[test]
fn privileged_rid_marked() {
    let mut user = ad_user(1, "Builtin Admin", &[]);
    user.push_value("objectSid", domain_sid(500));
    let (snapshot, _) = run(vec![user]);
    assert_eq!(snapshot.accounts[0].markers, vec![AccountMarker::AdPrivilegedRid(500)]);
}

#[test]
fn custom_source_kept() {
    let import = LdapImport::with_source("ldap:north".parse().unwrap());
    let (snapshot, diagnostics) = import.finish();
    assert_eq!(snapshot.source.to_string(), "ldap:north");
    assert_eq!(snapshot.accounts, Vec::new());
    assert_eq!(diagnostics, Vec::new());
    assert_eq!(snapshot.settings.sign_in_activity, Availability::Unknown);
}

#[test]
fn member_spelled_differently_resolved() {
    let user = ad_user(1, "Robin Vale", &[]);
    let spelled = format!("cn=robin vale, ou=STAFF,{}", DOMAIN.to_lowercase());
    let group = ad_group(2, "Billing", &[("member", spelled.as_bytes())]);
    let (snapshot, _) = run(vec![user, group]);
    assert_eq!(snapshot.memberships, vec![Membership::account(guid_text(1), guid_text(2))]);
}

#[test]
fn member_naming_invalid_dn_unresolved() {
    // The entry's DN does not parse, so its key is its lowercased text, which a member value
    // spelled the same way must not reach.
    let user = entry("Robin Vale", &[("objectClass", b"inetOrgPerson"), ("uid", b"rvale")]);
    let group = ad_group(2, "Billing", &[("member", b"Robin Vale")]);
    let (snapshot, diagnostics) = run(vec![user, group]);
    assert_eq!(
        snapshot.memberships,
        vec![Membership {
            member: Member::Unresolved("Robin Vale".to_owned()),
            entitlement: guid_text(2),
            state: rollcall_core::model::GrantState::Active,
            scope: None,
        }]
    );
    let warning = diagnostics.iter().find(|d| d.message.contains("a `member` value is not a DN"));
    assert!(warning.is_some(), "{diagnostics:?}");
}
