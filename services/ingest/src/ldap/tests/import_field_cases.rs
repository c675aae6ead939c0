use std::collections::BTreeSet;

use rollcall_core::model::{Member, SourceSnapshot};
use serde_json::Value;

use super::testdata;
use crate::diagnostic::{Diagnostic, Level};
use crate::ldap::{LdapImport, normalize_dn};

const RANGE_CASE: &str = "field-cases/ad-member-range";
const ESCAPE_CASE: &str = "field-cases/ldap-dn-filter-escape";

fn import_files(files: &[String]) -> (SourceSnapshot, Vec<Diagnostic>) {
    let mut import = LdapImport::new();
    for file in files {
        import.add_ldif(file, &testdata(file)).unwrap_or_else(|error| panic!("{file}: {error}"));
    }
    import.finish()
}

fn responses(order: &[u32]) -> Vec<String> {
    order.iter().map(|n| format!("{RANGE_CASE}/response-{n}.ldif")).collect()
}

fn expected_members() -> BTreeSet<String> {
    let text = String::from_utf8(testdata(&format!("{RANGE_CASE}/expected-members.txt"))).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn unresolved_members(snapshot: &SourceSnapshot) -> BTreeSet<String> {
    snapshot
        .memberships
        .iter()
        .map(|m| match &m.member {
            Member::Unresolved(dn) => dn.clone(),
            other => panic!("unexpected member {other:?}"),
        })
        .collect()
}

#[test]
fn three_responses_give_eight_members() {
    let (snapshot, diagnostics) = import_files(&responses(&[1, 2, 3]));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].level, Level::Info);
    assert!(diagnostics[0].message.contains("has no `objectClass`, so it was read as a group"));
    assert_eq!(snapshot.entitlements.len(), 1);
    let group = &snapshot.entitlements[0];
    assert_eq!(group.name, "All Clinical Staff");
    assert_eq!(group.attributes.get("membership_incomplete"), None);
    assert_eq!(snapshot.memberships.len(), 8);
    assert_eq!(unresolved_members(&snapshot), expected_members());
}

#[test]
fn responses_in_any_order() {
    let (snapshot, _) = import_files(&responses(&[3, 1, 2]));
    assert_eq!(unresolved_members(&snapshot), expected_members());
    assert_eq!(snapshot.entitlements[0].attributes.get("membership_incomplete"), None);
}

#[test]
fn missing_last_chunk_marks_incomplete() {
    let (snapshot, diagnostics) = import_files(&responses(&[1, 2]));
    let group = &snapshot.entitlements[0];
    assert_eq!(group.attributes.get("membership_incomplete").map(String::as_str), Some("true"));
    assert_eq!(snapshot.memberships.len(), 6);
    let warnings: Vec<&Diagnostic> =
        diagnostics.iter().filter(|d| d.level == Level::Warning).collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].message,
        "group `CN=All Clinical Staff,OU=Groups,DC=bayview-clinic,DC=example`: only 6 `member` values arrived and the directory holds more, so the group is marked `membership_incomplete`. Read the entry again requesting `member;range=6-*` and add the result to the export."
    );
}

#[test]
fn first_chunk_alone_asks_for_second() {
    let (snapshot, diagnostics) = import_files(&responses(&[1]));
    assert_eq!(
        snapshot.entitlements[0].attributes.get("membership_incomplete").map(String::as_str),
        Some("true")
    );
    assert!(diagnostics.iter().any(|d| d.message.contains("requesting `member;range=3-*`")));
}

fn escape_case_snapshot() -> SourceSnapshot {
    let files = [format!("{ESCAPE_CASE}/users.ldif"), format!("{ESCAPE_CASE}/groups.ldif")];
    let (snapshot, diagnostics) = import_files(&files);
    assert_eq!(diagnostics, Vec::new());
    snapshot
}

/// Returns the DN of the account with id `id`.
fn account_dn(snapshot: &SourceSnapshot, id: &str) -> String {
    let account = snapshot.accounts.iter().find(|a| a.id == id).unwrap();
    account.attributes["distinguishedName"].clone()
}

#[test]
fn escaped_dns_map_to_accounts() {
    let snapshot = escape_case_snapshot();
    assert_eq!(snapshot.accounts.len(), 2);
    let jose = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("jnunez")).unwrap();
    assert_eq!(jose.display_name.as_deref(), Some("José Núñez (Locum)"));
    assert_eq!(
        jose.id,
        "cn=núñez\\, josé (locum),ou=clinicians,ou=staff,dc=bayview-clinic,dc=example"
    );
    let desk = snapshot.accounts.iter().find(|a| a.login.as_deref() == Some("frontdesk2")).unwrap();
    assert_eq!(
        desk.attributes["distinguishedName"],
        "CN=Front Desk \\#2,OU=Shared,OU=Staff,DC=bayview-clinic,DC=example"
    );
}

#[test]
fn each_group_lists_right_accounts() {
    let snapshot = escape_case_snapshot();
    let members = |name: &str| -> BTreeSet<String> {
        let group = snapshot.entitlements.iter().find(|e| e.name == name).unwrap();
        snapshot
            .memberships
            .iter()
            .filter(|m| m.entitlement == group.id)
            .map(|m| match &m.member {
                Member::Account(id) => format!("account {}", account_dn(&snapshot, id)),
                Member::Unresolved(dn) => format!("unresolved {dn}"),
                Member::Entitlement(id) => format!("group {id}"),
            })
            .collect()
    };
    let jose =
        "account CN=Núñez\\, José (Locum),OU=Clinicians,OU=Staff,DC=bayview-clinic,DC=example";
    let desk = "account CN=Front Desk \\#2,OU=Shared,OU=Staff,DC=bayview-clinic,DC=example";
    let ana = "unresolved CN=Ana Reyes,OU=Clinicians,OU=Staff,DC=bayview-clinic,DC=example";
    assert_eq!(members("EHR-Prescribers"), BTreeSet::from([jose.to_owned(), ana.to_owned()]));
    assert_eq!(
        members("Controlled Rx*Approvers"),
        BTreeSet::from([jose.to_owned(), desk.to_owned()])
    );
    assert_eq!(members("Billing (Outsourced)"), BTreeSet::from([desk.to_owned(), ana.to_owned()]));
}

#[test]
fn expected_filter_results_match_mapping() {
    let snapshot = escape_case_snapshot();
    let cases: Value =
        serde_json::from_slice(&testdata(&format!("{ESCAPE_CASE}/expected-filters.json"))).unwrap();
    let group_dn = |id: &str| -> String {
        let group = snapshot.entitlements.iter().find(|e| e.id == id).unwrap();
        normalize_dn(&group.attributes["distinguishedName"]).unwrap()
    };
    let normalized_set = |list: &Value| -> BTreeSet<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|dn| normalize_dn(dn.as_str().unwrap()).unwrap())
            .collect()
    };
    for query in cases["queries"].as_array().unwrap() {
        let input = normalize_dn(query["input_dn"].as_str().unwrap()).unwrap();
        if let Some(expected) = query.get("expected_groups") {
            let account = snapshot.accounts.iter().find(|a| a.id == input).unwrap();
            let groups: BTreeSet<String> = snapshot
                .memberships
                .iter()
                .filter(|m| m.member == Member::Account(account.id.clone()))
                .map(|m| group_dn(&m.entitlement))
                .collect();
            assert_eq!(groups, normalized_set(expected), "{}", query["purpose"]);
        }
        if let Some(expected) = query.get("expected_users") {
            let group = snapshot.entitlements.iter().find(|e| group_dn(&e.id) == input).unwrap();
            let users: BTreeSet<String> = snapshot
                .memberships
                .iter()
                .filter(|m| m.entitlement == group.id)
                .filter_map(|m| match &m.member {
                    Member::Account(id) => Some(normalize_dn(&account_dn(&snapshot, id)).unwrap()),
                    _ => None,
                })
                .collect();
            assert_eq!(users, normalized_set(expected), "{}", query["purpose"]);
        }
    }
}
