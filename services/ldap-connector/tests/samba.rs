//! Syncs from a real Samba Active Directory domain controller: binary GUIDs and SIDs,
//! `userAccountControl`, protected groups by RID, and nesting that matches the in-chain
//! matching rule.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use rollcall_core::model::{AccountStatus, Member};
use rollcall_ingest::ldap::LdapImport;
use rollcall_ldap_connector::config::{AD_ATTRIBUTES, AD_FILTER};
use rollcall_ldap_connector::{Flavor, TlsMode, read_directory};
use rollcall_runtime::Secret;
use support::samba::{BASE, SambaDc};
use support::{check, directory, within};

/// Builds the LDIF of `count` new users, `CN=<group> <n>`, and a group of them, to add
/// after [`seed`].
fn group_of(group: &str, count: usize) -> String {
    let clinic = format!("OU=Clinic,{BASE}");
    let mut ldif = String::new();
    let mut members = String::new();
    for index in 1..=count {
        let cn = format!("{group} {index:02}");
        let login = format!("{}{index:02}", group.to_lowercase().replace(' ', ""));
        ldif.push_str(&format!(
            "dn: CN={cn},{clinic}\nobjectClass: user\nsAMAccountName: {login}\ndisplayName: {cn}\nuserAccountControl: 544\n\n"
        ));
        members.push_str(&format!("member: CN={cn},{clinic}\n"));
    }
    ldif.push_str(&format!(
        "dn: CN={group},{clinic}\nobjectClass: group\nsAMAccountName: {}\n{members}\n",
        group.to_lowercase().replace(' ', "-")
    ));
    ldif
}

const SERVICE_PASSWORD: &str = "Synthetic-Svc-1";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// AD's `unicodePwd`: the password in double quotes, UTF-16LE, as base64.
fn unicode_password(password: &str) -> String {
    let bytes: Vec<u8> =
        format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Users and groups of a small clinic. `userAccountControl` 544 is a normal account
/// without a required password, 546 the same disabled.
fn seed() -> String {
    let clinic = format!("OU=Clinic,{BASE}");
    let zoe = format!("CN=Zoë Ångström-Núñez,{clinic}");
    format!(
        "dn: {clinic}
objectClass: organizationalUnit

dn: CN=svc-rollcall,{clinic}
objectClass: user
sAMAccountName: svc-rollcall
unicodePwd:: {password}
userAccountControl: 512

dn: CN=Reyes\\, Ana (Locum),{clinic}
objectClass: user
sAMAccountName: areyes
userPrincipalName: ana.reyes@harborview.test
givenName: Ana
sn: Reyes
displayName: Reyes, Ana (Locum)
mail: ana.reyes@harborview.test
employeeID: E1901
userAccountControl: 544

dn:: {zoe_dn}
objectClass: user
sAMAccountName: zangstrom
displayName:: {zoe_name}
employeeID: E1902
userAccountControl: 544

dn: CN=Imogen Thackeray,{clinic}
objectClass: user
sAMAccountName: ithackeray
displayName: Imogen Thackeray
employeeID: E1004
userAccountControl: 544

dn: CN=Harriet Nwachukwu,{clinic}
objectClass: user
sAMAccountName: hnwachukwu
displayName: Harriet Nwachukwu
employeeID: E1011
userAccountControl: 546

dn: CN=Clinical Staff,{clinic}
objectClass: group
sAMAccountName: clinical-staff
member: CN=Reyes\\, Ana (Locum),{clinic}
member:: {zoe_dn}

dn: CN=Nursing,{clinic}
objectClass: group
sAMAccountName: nursing
member: CN=Harriet Nwachukwu,{clinic}
member: CN=Clinical Staff,{clinic}

dn: CN=Clinical Staff,{clinic}
changetype: modify
add: member
member: CN=Nursing,{clinic}
-

dn: CN=Domain Admins,CN=Users,{BASE}
changetype: modify
add: member
member: CN=Imogen Thackeray,{clinic}
-
",
        password = unicode_password(SERVICE_PASSWORD),
        zoe_dn = b64(&zoe),
        zoe_name = b64("Zoë Ångström-Núñez"),
    )
}

#[tokio::test]
async fn samba_sync_matches_export_in_chain() {
    let dc = SambaDc::start();
    dc.add(&seed());
    let mut config = directory(&dc.ldaps_url, TlsMode::Ldaps, Some(&dc.ca_file));
    config.flavor = Flavor::ActiveDirectory;
    config.bind_dn = "svc-rollcall@harborview.test".to_owned();
    config.password = Secret::new(SERVICE_PASSWORD);
    config.base_dn = BASE.to_owned();
    let collected_at = chrono::Utc::now();
    let live = within(60, read_directory(&check(config), collected_at)).await.unwrap();
    let snapshot = &live.snapshot;

    // The same search with ldapsearch, read as rollcall scan reads it.
    let export = dc.search(&[&["-b", BASE, AD_FILTER], AD_ATTRIBUTES].concat());
    let mut import = LdapImport::new();
    import.add_ldif("ldap/ad.ldif", &export).unwrap();
    let (mut scanned, _) = import.finish();
    scanned.collected_at = Some(collected_at);
    assert_eq!(*snapshot, scanned);
    assert_eq!(live.stats.range_reads, 0, "Samba returns `member` whole unless asked for a range");

    // Ids are objectGUIDs in text form, not DNs.
    let reyes = snapshot
        .accounts
        .iter()
        .find(|a| a.display_name.as_deref() == Some("Reyes, Ana (Locum)"))
        .unwrap();
    assert_eq!(reyes.id.len(), 36, "{}", reyes.id);
    assert_eq!(reyes.id.matches('-').count(), 4, "{}", reyes.id);
    let status_of = |name: &str| {
        snapshot.accounts.iter().find(|a| a.display_name.as_deref() == Some(name)).unwrap().status
    };
    assert_eq!(status_of("Harriet Nwachukwu"), AccountStatus::Disabled);
    assert_eq!(status_of("Zoë Ångström-Núñez"), AccountStatus::Enabled);

    // Domain Admins is found by its RID, and contains Imogen.
    let admins = snapshot.entitlements.iter().find(|e| e.name == "Domain Admins").unwrap();
    assert!(admins.sid.as_deref().unwrap().ends_with("-512"), "{:?}", admins.sid);
    let imogen = snapshot
        .accounts
        .iter()
        .find(|a| a.display_name.as_deref() == Some("Imogen Thackeray"))
        .unwrap();
    assert!(snapshot.memberships.iter().any(|m| {
        m.entitlement == admins.id && matches!(&m.member, Member::Account(id) if *id == imogen.id)
    }));

    // The groups reached from Reyes through the snapshot's nesting must be the groups AD's
    // in-chain rule (1.2.840.113556.1.4.1941) returns for her, across the cycle. Her
    // primary group (`primaryGroupID` 513, Domain Users) and its parents come on top,
    // because `member` does not list a primary group.
    let in_chain = |dn: &str| -> BTreeSet<String> {
        let filter = format!(
            "(member:1.2.840.113556.1.4.1941:={})",
            rollcall_ingest::ldap::filter::escape_value(dn)
        );
        let output = String::from_utf8(dc.search(&["-LLL", "-b", BASE, &filter, "cn"])).unwrap();
        output.lines().filter_map(|line| line.strip_prefix("cn: ")).map(str::to_owned).collect()
    };
    let direct = in_chain(&format!("CN=Reyes\\, Ana (Locum),OU=Clinic,{BASE}"));
    assert_eq!(direct, BTreeSet::from(["Clinical Staff".to_owned(), "Nursing".to_owned()]));
    let mut expected = direct;
    expected.insert("Domain Users".to_owned());
    expected.extend(in_chain(&format!("CN=Domain Users,CN=Users,{BASE}")));

    let names: HashMap<&str, &str> =
        snapshot.entitlements.iter().map(|e| (e.id.as_str(), e.name.as_str())).collect();
    let mut reached = BTreeSet::new();
    let mut frontier = vec![Member::Account(reyes.id.clone())];
    while let Some(member) = frontier.pop() {
        for membership in snapshot.memberships.iter().filter(|m| m.member == member) {
            if reached.insert(names[membership.entitlement.as_str()].to_owned()) {
                frontier.push(Member::Entitlement(membership.entitlement.clone()));
            }
        }
    }
    assert_eq!(reached, expected);
}

/// With `member_range_size`, the connector requests `member;range=0-4` from Samba and then
/// each following range of five, and the result equals an export that Samba returned
/// whole. Samba 4.17 cuts only on request, so this is the live test of ranged retrieval.
#[tokio::test]
async fn samba_ranged_members_match_export() {
    let dc = SambaDc::start();
    dc.add(&seed());
    // 12 members take three ranges of five; 10 end exactly at a range boundary.
    dc.add(&format!("{}{}", group_of("All Staff", 12), group_of("Front Desk", 10)));
    let mut config = directory(&dc.ldaps_url, TlsMode::Ldaps, Some(&dc.ca_file));
    config.flavor = Flavor::ActiveDirectory;
    config.bind_dn = "svc-rollcall@harborview.test".to_owned();
    config.password = Secret::new(SERVICE_PASSWORD);
    config.base_dn = BASE.to_owned();
    config.member_range_size = Some(5);
    let collected_at = chrono::Utc::now();
    let live = within(60, read_directory(&check(config), collected_at)).await.unwrap();

    let export = dc.search(&[&["-b", BASE, AD_FILTER], AD_ATTRIBUTES].concat());
    let mut import = LdapImport::new();
    import.add_ldif("ldap/ad.ldif", &export).unwrap();
    let (mut scanned, _) = import.finish();
    scanned.collected_at = Some(collected_at);

    let members_of = |name: &str| {
        let group = live.snapshot.entitlements.iter().find(|e| e.name == name).unwrap();
        live.snapshot.memberships.iter().filter(|m| m.entitlement == group.id).count()
    };
    assert_eq!(members_of("All Staff"), 12);
    assert_eq!(members_of("Front Desk"), 10);
    // At least `5-9` and `10-14` of All Staff and `5-9` of Front Desk.
    assert!(live.stats.range_reads >= 3, "range reads: {}", live.stats.range_reads);
    let incomplete: Vec<_> = live
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("range"))
        .map(|d| d.message.as_str())
        .collect();
    assert!(incomplete.is_empty(), "{incomplete:?}");
    assert_eq!(live.snapshot, scanned);
}
