//! Decoding of search responses and the ranged-retrieval bookkeeping, on responses shaped
//! as Active Directory sends them for a group above its MaxValRange: the first response
//! carries `member;range=0-1499` and an empty `member`, later ones
//! `member;range=1500-2999` and finally `member;range=3000-*`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use ldap3::asn1::{PL, StructureTag, TagClass};
use ldap3::controls::{PagedResults, RawControl};
use rollcall_ingest::ldap::LdapEntry;
use rollcall_ingest::ldap::range::RangeStatus;

use super::{
    Response, bounded_request, collectors_of, decode_response, needs_ranges, paged_cookie,
};

fn primitive(bytes: &[u8]) -> StructureTag {
    StructureTag { class: TagClass::Universal, id: 4, payload: PL::P(bytes.to_vec()) }
}

fn constructed(id: u64, class: TagClass, inner: Vec<StructureTag>) -> StructureTag {
    StructureTag { class, id, payload: PL::C(inner) }
}

/// Builds a `SearchResultEntry` (application 4) with the given attributes.
fn entry_message(dn: &str, attributes: &[(&str, Vec<Vec<u8>>)]) -> StructureTag {
    let attributes = attributes
        .iter()
        .map(|(name, values)| {
            constructed(
                16,
                TagClass::Universal,
                vec![
                    primitive(name.as_bytes()),
                    constructed(
                        17,
                        TagClass::Universal,
                        values.iter().map(|v| primitive(v)).collect(),
                    ),
                ],
            )
        })
        .collect();
    constructed(
        4,
        TagClass::Application,
        vec![primitive(dn.as_bytes()), constructed(16, TagClass::Universal, attributes)],
    )
}

fn members(low: usize, high: usize) -> Vec<Vec<u8>> {
    (low..=high)
        .map(|i| format!("CN=User {i},OU=Staff,DC=clinic,DC=example").into_bytes())
        .collect()
}

const GROUP: &str = "CN=All Clinical Staff,OU=Groups,DC=clinic,DC=example";

fn decode_entry(message: StructureTag) -> LdapEntry {
    match decode_response(message) {
        Some(Response::Entry(entry)) => entry,
        _ => panic!("not an entry"),
    }
}

#[test]
fn entry_keeps_binary_values_and_order() {
    let guid = vec![0x00, 0xff, 0x10, 0x80];
    let message = entry_message(
        GROUP,
        &[
            ("objectClass", vec![b"top".to_vec(), b"group".to_vec()]),
            ("objectGUID", vec![guid.clone()]),
            ("member", vec![]),
            ("member;range=0-1499", members(0, 1499)),
        ],
    );
    let entry = decode_entry(message);
    assert_eq!(entry.dn, GROUP);
    assert_eq!(entry.values("objectGUID"), [guid]);
    assert_eq!(entry.values("objectclass"), [b"top".to_vec(), b"group".to_vec()]);
    assert!(entry.values("member").is_empty());
    assert_eq!(entry.values("member;range=0-1499").len(), 1500);
    assert_eq!(entry.attributes.len(), 3, "the empty `member` is left out as ldapsearch does");
}

#[test]
fn malformed_entries_are_rejected() {
    let no_attributes = constructed(4, TagClass::Application, vec![primitive(b"CN=x")]);
    assert!(decode_response(no_attributes).is_none());
    let bad_dn = entry_message("", &[]);
    let StructureTag { payload: PL::C(mut parts), .. } = bad_dn else { panic!() };
    parts[0] = primitive(&[0xff, 0xfe]);
    assert!(decode_response(constructed(4, TagClass::Application, parts)).is_none());
    let value_not_primitive = constructed(
        4,
        TagClass::Application,
        vec![
            primitive(b"CN=x"),
            constructed(
                16,
                TagClass::Universal,
                vec![constructed(
                    16,
                    TagClass::Universal,
                    vec![
                        primitive(b"cn"),
                        constructed(
                            17,
                            TagClass::Universal,
                            vec![constructed(16, TagClass::Universal, vec![])],
                        ),
                    ],
                )],
            ),
        ],
    );
    assert!(decode_response(value_not_primitive).is_none());
    assert!(decode_response(primitive(b"not a message")).is_none());
}

#[test]
fn references_are_collected_as_urls() {
    let message = constructed(
        19,
        TagClass::Application,
        vec![primitive(b"ldap://dc02.branch.clinic.example/DC=branch,DC=clinic,DC=example")],
    );
    match decode_response(message) {
        Some(Response::Reference(urls)) => {
            assert_eq!(urls, ["ldap://dc02.branch.clinic.example/DC=branch,DC=clinic,DC=example"]);
        }
        _ => panic!("not a reference"),
    }
}

#[test]
fn paged_cookie_round_trips() {
    let cookie = vec![7u8, 0, 1, 255, 42];
    let raw = RawControl::from(PagedResults { size: 0, cookie: cookie.clone() });
    assert_eq!(raw.ctype, super::PAGED_RESULTS_OID);
    assert_eq!(paged_cookie(raw.val.as_deref().unwrap()), Some(cookie));
    let last = RawControl::from(PagedResults { size: 0, cookie: Vec::new() });
    assert_eq!(paged_cookie(last.val.as_deref().unwrap()), Some(Vec::new()));
    assert_eq!(paged_cookie(&[0x30, 0x03, 0x02, 0x01]), None, "truncated BER");
    assert_eq!(paged_cookie(&[]), None);
}

#[test]
fn ranged_members_request_next_chunk() {
    let first = decode_entry(entry_message(
        GROUP,
        &[("member", vec![]), ("member;range=0-1499", members(0, 1499))],
    ));
    assert!(needs_ranges(&first));
    let collectors = collectors_of(&first);
    assert_eq!(
        collectors[0].1.status(),
        RangeStatus::Incomplete { next: "member;range=1500-*".to_owned() }
    );

    let mut merged = first.clone();
    merged.merge(decode_entry(entry_message(
        GROUP,
        &[("member;range=1500-2999", members(1500, 2999))],
    )));
    assert_eq!(
        collectors_of(&merged)[0].1.status(),
        RangeStatus::Incomplete { next: "member;range=3000-*".to_owned() }
    );
    merged
        .merge(decode_entry(entry_message(GROUP, &[("member;range=3000-*", members(3000, 3120))])));
    assert!(!needs_ranges(&merged));

    let plain = decode_entry(entry_message(GROUP, &[("member", members(0, 3))]));
    assert!(!needs_ranges(&plain), "a group under the limit has plain members");
}

#[test]
fn range_size_bounds_next_request() {
    assert_eq!(bounded_request("member;range=5-*", Some(5)), "member;range=5-9");
    assert_eq!(bounded_request("member;range=0-*", Some(1)), "member;range=0-0");
    assert_eq!(bounded_request("member;range=1500-*", None), "member;range=1500-*");
    assert_eq!(
        bounded_request("member;range=18446744073709551615-*", Some(10)),
        "member;range=18446744073709551615-18446744073709551615",
        "the upper bound saturates instead of overflowing"
    );
    assert_eq!(bounded_request("member;range=x-*", Some(5)), "member;range=x-*");
}
