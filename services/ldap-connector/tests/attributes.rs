//! The attributes a sync requests by default include every attribute that the LDIF import
//! (`rollcall_ingest::ldap::import`) reads, so a live sync and `rollcall scan` of an export
//! taken with the same attribute list map the same values.
//!
//! The import's source is scanned for attribute names: it reads attributes by lowercase
//! string literals. Each literal must be in [`IMPORT_ATTRIBUTES`] or [`NOT_ATTRIBUTES`],
//! so an attribute the import starts to read fails this test until it is classified here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rollcall_ingest::diagnostic::Location;
use rollcall_ingest::ldap::{EntryOrigin, LdapEntry, LdapImport};
use rollcall_ldap_connector::config::{AD_ATTRIBUTES, OPENLDAP_ATTRIBUTES};

/// How the default requests of each flavor must cover one attribute the import reads.
struct Coverage {
    /// The attribute in lowercase, as the import names it.
    name: &'static str,
    /// Whether `AD_ATTRIBUTES` must name it. Those it need not name carry the reason.
    active_directory: Result<(), &'static str>,
    /// Whether the attribute is operational on OpenLDAP-style servers, so `*` does not
    /// return it and `OPENLDAP_ATTRIBUTES` must name it.
    operational: bool,
}

const fn ad(name: &'static str) -> Coverage {
    Coverage { name, active_directory: Ok(()), operational: false }
}

const fn not_ad(name: &'static str, reason: &'static str, operational: bool) -> Coverage {
    Coverage { name, active_directory: Err(reason), operational }
}

/// Every attribute the import reads.
const IMPORT_ATTRIBUTES: &[Coverage] = &[
    ad("objectclass"),
    ad("objectguid"),
    ad("objectsid"),
    ad("samaccountname"),
    ad("userprincipalname"),
    ad("mail"),
    ad("employeeid"),
    ad("employeenumber"),
    ad("displayname"),
    ad("cn"),
    ad("givenname"),
    ad("sn"),
    ad("title"),
    ad("department"),
    ad("manager"),
    ad("useraccountcontrol"),
    // Constructed: AD returns it only when it is named.
    ad("msds-user-account-control-computed"),
    ad("lastlogontimestamp"),
    ad("pwdlastset"),
    ad("accountexpires"),
    ad("whencreated"),
    ad("admincount"),
    ad("primarygroupid"),
    // Operational with OpenLDAP's memberof overlay.
    Coverage { name: "memberof", active_directory: Ok(()), operational: true },
    ad("member"),
    ad("grouptype"),
    ad("description"),
    not_ad("entryuuid", "AD identifies entries by objectGUID, which the import prefers", true),
    not_ad("createtimestamp", "AD has whenCreated, which the import prefers", true),
    not_ad("pwdaccountlockedtime", "OpenLDAP ppolicy overlay", true),
    not_ad("authtimestamp", "OpenLDAP lastbind overlay", true),
    // Operational on 389 Directory Server, so it is named in the request.
    not_ad("nsaccountlock", "389 Directory Server and FreeIPA", true),
    not_ad("uniquemember", "groupOfUniqueNames is not an AD class", false),
    not_ad(
        "uid",
        "RFC 2307: AD accounts have sAMAccountName, which the import prefers for the login",
        false,
    ),
    not_ad(
        "memberuid",
        "RFC 2307: the AD request leaves out memberUid and uid together, as the export does",
        false,
    ),
];

/// Lowercase literals of the import that are not attribute names: object classes, values
/// and keys of the snapshot's own attribute maps.
const NOT_ATTRIBUTES: &[&str] = &[
    "user",
    "person",
    "inetorgperson",
    "posixaccount",
    "group",
    "groupofnames",
    "groupofuniquenames",
    "posixgroup",
    "computer",
    "contact",
    "foreignsecurityprincipal",
    "true",
    "false",
    "never",
    "exported",
];

fn import_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ingest/src/ldap/import")
}

/// Returns every string literal of the form `"name"` in lowercase letters, digits and `-`
/// in the import's source files.
fn import_literals() -> BTreeSet<String> {
    let mut literals = BTreeSet::new();
    let files = std::fs::read_dir(import_dir()).expect("the ingest crate's LDAP import source");
    for file in files {
        let path = file.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for candidate in text.split('"').skip(1).step_by(2) {
            let is_name = candidate.starts_with(|c: char| c.is_ascii_lowercase())
                && candidate
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if is_name {
                literals.insert(candidate.to_owned());
            }
        }
    }
    literals
}

fn requests(list: &[&str], name: &str) -> bool {
    list.iter().any(|requested| requested.eq_ignore_ascii_case(name))
}

#[test]
fn import_attribute_names_are_classified() {
    let literals = import_literals();
    let known: BTreeSet<&str> = IMPORT_ATTRIBUTES.iter().map(|c| c.name).collect();
    for literal in &literals {
        assert!(
            known.contains(literal.as_str()) || NOT_ATTRIBUTES.contains(&literal.as_str()),
            "the import reads `{literal}`: add it to IMPORT_ATTRIBUTES (and to the requested attributes) or to NOT_ATTRIBUTES"
        );
    }
    for name in known {
        assert!(literals.contains(name), "the import no longer reads `{name}`; remove it here");
    }
}

#[test]
fn ad_request_covers_import() {
    for coverage in IMPORT_ATTRIBUTES {
        if coverage.active_directory.is_ok() {
            assert!(
                requests(AD_ATTRIBUTES, coverage.name),
                "AD_ATTRIBUTES lacks `{}`, which the import reads",
                coverage.name
            );
        }
    }
    for requested in AD_ATTRIBUTES {
        assert!(
            IMPORT_ATTRIBUTES.iter().any(|c| c.name.eq_ignore_ascii_case(requested)),
            "AD_ATTRIBUTES requests `{requested}`, which the import does not read"
        );
    }
}

#[test]
fn openldap_request_covers_import() {
    assert!(requests(OPENLDAP_ATTRIBUTES, "*"), "`*` returns the user attributes");
    for coverage in IMPORT_ATTRIBUTES.iter().filter(|c| c.operational) {
        assert!(
            requests(OPENLDAP_ATTRIBUTES, coverage.name),
            "OPENLDAP_ATTRIBUTES lacks the operational `{}`, which `*` does not return",
            coverage.name
        );
    }
}

/// Keeps the attributes that a server returns for `requested`: the named ones, and with
/// `*` every attribute that is not operational.
fn as_returned(entry: &LdapEntry, requested: &[&str]) -> LdapEntry {
    let all_user = requests(requested, "*");
    let mut returned = LdapEntry::new(entry.dn.clone());
    for (description, values) in &entry.attributes {
        let name = description.split(';').next().unwrap_or_default();
        let operational =
            IMPORT_ATTRIBUTES.iter().any(|c| c.operational && c.name.eq_ignore_ascii_case(name));
        if requests(requested, name) || (all_user && !operational) {
            returned.push_values(description.clone(), values.clone());
        }
    }
    returned
}

fn import(entries: &[LdapEntry]) -> rollcall_core::model::SourceSnapshot {
    let mut import = LdapImport::new();
    for entry in entries {
        let origin = EntryOrigin { file: PathBuf::from("example.ldif"), location: Location::File };
        import.add_entry(entry.clone(), origin);
    }
    import.finish().0
}

/// The example practice's AD export contains more attributes than the import reads. It
/// maps the same with only the requested attributes, but not without `title`.
#[test]
fn example_export_maps_same_as_requested() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview/ldap/directory.ldif");
    let bytes = std::fs::read(&path).unwrap();
    let parsed = rollcall_ingest::ldif::parse(&path, &bytes).unwrap();
    let entries: Vec<LdapEntry> = parsed.entries.into_iter().map(|record| record.entry).collect();
    let everything = import(&entries);
    let requested: Vec<LdapEntry> =
        entries.iter().map(|entry| as_returned(entry, AD_ATTRIBUTES)).collect();
    assert_eq!(import(&requested), everything);

    let without_title: Vec<&str> =
        AD_ATTRIBUTES.iter().copied().filter(|name| *name != "title").collect();
    let fewer: Vec<LdapEntry> =
        entries.iter().map(|entry| as_returned(entry, &without_title)).collect();
    assert_ne!(import(&fewer), everything, "the filter must be able to change the result");
}
