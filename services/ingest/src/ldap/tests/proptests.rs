//! Arbitrary input into the DN parser, the range parser and the mapping: each returns a
//! value or an error and never panics.

use std::path::PathBuf;

use proptest::prelude::*;

use crate::diagnostic::Location;
use crate::ldap::ad::{
    GroupType, Sid, UserAccountControl, guid_from_value, parse_filetime, parse_generalized_time,
};
use crate::ldap::{
    Dn, EntryOrigin, LdapEntry, LdapImport, RangeCollector, ValueRange, normalize_dn,
    parse_description,
};

/// Attribute names the mapping reads, so generated entries reach its branches.
const NAMES: [&str; 26] = [
    "objectClass",
    "OBJECTCLASS",
    "CN",
    "objectGUID",
    "entryUUID",
    "objectSid",
    "sAMAccountName",
    "uid",
    "cn",
    "displayName",
    "userAccountControl",
    "lastLogonTimestamp",
    "accountExpires",
    "whenCreated",
    "adminCount",
    "primaryGroupID",
    "manager",
    "member",
    "member;range=0-1",
    "member;range=2-*",
    "uniqueMember",
    "memberUid",
    "memberOf",
    "groupType",
    "pwdAccountLockedTime",
    "authTimestamp",
];

/// Values likely to matter: object classes, DNs, numbers, SIDs, times and raw bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            "user",
            "person",
            "group",
            "computer",
            "posixGroup",
            "inetOrgPerson",
            "groupOfUniqueNames",
            "cn=a,dc=x",
            "CN=A,DC=X",
            "cn=b\\,c,dc=x",
            "cn=#00,dc=x",
            "uid=a,dc=x#'01'B",
            "514",
            "-2147483646",
            "0",
            "9223372036854775807",
            "S-1-5-21-1-2-3-500",
            "S-1-5-32-544",
            "20240101120000Z",
            "000001010000Z",
            "a",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..24),
        "\\PC{0,16}".prop_map(String::into_bytes),
    ]
}

fn ldap_entry() -> impl Strategy<Value = LdapEntry> {
    let dn = prop_oneof![
        prop::sample::select(vec![
            "cn=a,dc=x",
            "cn=b,dc=x",
            "CN=A,DC=X",
            "uid=a,dc=x",
            "",
            "broken"
        ])
        .prop_map(str::to_owned),
        "\\PC{0,20}",
    ];
    let attributes = prop::collection::vec(
        (prop::sample::select(NAMES.to_vec()), prop::collection::vec(value(), 0..4)),
        0..10,
    );
    (dn, attributes).prop_map(|(dn, attributes)| LdapEntry {
        dn,
        attributes: attributes
            .into_iter()
            .map(|(name, values)| (name.to_owned(), values))
            .collect(),
    })
}

proptest! {
    #[test]
    fn dn_parser_never_panics(text in "\\PC{0,64}") {
        let _ = Dn::parse(&text);
    }

    #[test]
    fn dn_like_strings_never_panic(text in "[a-zA-Z0-9=,+#\\\\ \"<>;.]{0,40}") {
        if let Ok(dn) = Dn::parse(&text) {
            // The normalised form parses again to itself.
            let again = Dn::parse(dn.normalized()).unwrap();
            prop_assert_eq!(again.normalized(), dn.normalized());
        }
    }

    #[test]
    fn normalize_dn_agrees_with_parser(text in "[a-zA-Z0-9=,+#\\\\ \t\"<>;.ÅéΣß-]{0,40}") {
        // `normalize_dn` skips the parser for plain DNs, which must not change the result.
        let parsed = Dn::parse(&text).map(|dn| dn.normalized().to_owned());
        prop_assert_eq!(normalize_dn(&text), parsed);
    }

    #[test]
    fn normalize_dn_agrees_on_rdn_lists(
        rdns in prop::collection::vec(
            (
                prop::sample::select(vec!["cn", "OU", " dc ", "2.5.4.3", "OID.2.5.4.11", "x-1", "1."]),
                "[a-zA-Z0-9 =ÅéΣßİ.#\\\\\"+-]{0,8}",
            ),
            1..5,
        )
    ) {
        let text = rdns
            .iter()
            .map(|(attribute_type, value)| format!("{attribute_type}={value}"))
            .collect::<Vec<_>>()
            .join(",");
        let parsed = Dn::parse(&text).map(|dn| dn.normalized().to_owned());
        prop_assert_eq!(normalize_dn(&text), parsed);
    }

    #[test]
    fn range_parser_never_panics(text in "\\PC{0,48}") {
        let _ = parse_description(&text);
    }

    #[test]
    fn range_like_descriptions_never_panic(text in "[mM]ember(;[rR]ange=[0-9*]{0,25}-?[0-9*]{0,25})*") {
        let _ = parse_description(&text);
    }

    #[test]
    fn collector_never_panics(chunks in prop::collection::vec((any::<u64>(), prop::option::of(any::<u64>())), 0..8)) {
        let mut collector = RangeCollector::new("member");
        for (low, high) in chunks {
            collector.add(Some(ValueRange { low, high }), vec![low.to_be_bytes().to_vec()]);
        }
        let _ = collector.finish();
    }

    #[test]
    fn ad_parsers_never_panic(text in "\\PC{0,32}", bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let _ = UserAccountControl::parse(&text);
        let _ = GroupType::parse(&text);
        let _ = parse_filetime(&text);
        let _ = parse_generalized_time(&text);
        let _ = Sid::parse(&text);
        let _ = Sid::from_value(&bytes);
        let _ = guid_from_value(&bytes);
    }

    #[test]
    fn generalized_time_digits_never_panic(text in "[0-9]{10,14}([.,][0-9]{0,20})?(Z|[+-][0-9]{0,4})?") {
        let _ = parse_generalized_time(&text);
    }

    #[test]
    fn early_mapping_same_result(entries in prop::collection::vec(ldap_entry(), 0..8)) {
        // Entries mapped as they arrive, and turned back when a later record merges into
        // them, must give what mapping every entry in `finish` gives.
        let origin = |index: usize| EntryOrigin {
            file: PathBuf::from("p.ldif"),
            location: Location::Line(index as u64),
        };
        let mut early = LdapImport::new();
        let mut late = LdapImport::new().without_early_mapping();
        for (index, entry) in entries.into_iter().enumerate() {
            late.add_entry(entry.clone(), origin(index));
            early.add_entry(entry, origin(index));
        }
        prop_assert_eq!(early.finish(), late.finish());
    }

    #[test]
    fn mapping_never_panics(entries in prop::collection::vec(ldap_entry(), 0..8)) {
        let mut import = LdapImport::new();
        for entry in entries {
            import.add_entry(entry, EntryOrigin { file: PathBuf::from("p.ldif"), location: Location::File });
        }
        let _ = import.finish();
    }
}
