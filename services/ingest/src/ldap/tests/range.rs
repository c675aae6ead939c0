use serde_json::Value;

use super::testdata;
use crate::ldap::entry::LdapEntry;
use crate::ldap::range::{
    RangeCollector, RangeError, RangeStatus, ValueRange, merge_ranges, parse_description,
};

fn values(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.iter().map(|t| t.as_bytes().to_vec()).collect()
}

#[test]
fn every_field_case_description_parses() {
    let bytes = testdata("field-cases/ad-member-range/range-descriptions.json");
    let table: Value = serde_json::from_slice(&bytes).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let attr = case["attr"].as_str().unwrap();
        let parsed = parse_description(attr).unwrap_or_else(|e| panic!("{attr}: {e}"));
        assert_eq!(parsed.base, case["base"].as_str().unwrap(), "{attr}");
        match case["low"].as_u64() {
            None => assert_eq!(parsed.range, None, "{attr}"),
            Some(low) => {
                let range = parsed.range.unwrap();
                assert_eq!(range.low, low, "{attr}");
                assert_eq!(range.high, case["high"].as_u64(), "{attr}");
            }
        }
    }
}

#[test]
fn other_options_kept() {
    let parsed = parse_description("userCertificate;binary;range=0-*").unwrap();
    assert_eq!(parsed.base, "usercertificate");
    assert_eq!(parsed.options, vec!["binary".to_owned()]);
    assert_eq!(parsed.range, Some(ValueRange { low: 0, high: None }));
    assert_eq!(parsed.key(), "usercertificate;binary");
}

#[test]
fn bounds_have_no_digit_limit() {
    let parsed =
        parse_description("member;range=18446744073709551614-18446744073709551615").unwrap();
    assert_eq!(parsed.range, Some(ValueRange { low: u64::MAX - 1, high: Some(u64::MAX) }));
}

#[test]
fn overflow_is_an_error() {
    let error = parse_description("member;range=18446744073709551616-*").unwrap_err();
    assert_eq!(
        error,
        RangeError::BoundOverflow { description: "member;range=18446744073709551616-*".into() }
    );
}

#[test]
fn malformed_ranges_rejected() {
    for bad in [
        "member;range=",
        "member;range=5",
        "member;range=-5",
        "member;range=a-b",
        "member;range=1-+2",
    ] {
        assert!(matches!(parse_description(bad), Err(RangeError::InvalidRange { .. })), "{bad}");
    }
    assert!(matches!(parse_description("member;range=9-3"), Err(RangeError::Reversed { .. })));
    assert!(matches!(parse_description(";range=0-1"), Err(RangeError::MissingName { .. })));
    assert!(matches!(
        parse_description("member;range=0-1;range=2-3"),
        Err(RangeError::DuplicateRange { .. })
    ));
}

#[test]
fn collector_asks_for_next_chunk() {
    let mut collector = RangeCollector::new("member");
    let status =
        collector.add(Some(ValueRange { low: 0, high: Some(2) }), values(&["a", "b", "c"]));
    assert_eq!(status, RangeStatus::Incomplete { next: "member;range=3-*".into() });
    let status =
        collector.add(Some(ValueRange { low: 3, high: Some(5) }), values(&["d", "e", "f"]));
    assert_eq!(status, RangeStatus::Incomplete { next: "member;range=6-*".into() });
    let status = collector.add(Some(ValueRange { low: 6, high: None }), values(&["g"]));
    assert_eq!(status, RangeStatus::Complete);
    let (all, status) = collector.finish();
    assert_eq!(all, values(&["a", "b", "c", "d", "e", "f", "g"]));
    assert_eq!(status, RangeStatus::Complete);
}

#[test]
fn collector_accepts_any_order() {
    let mut collector = RangeCollector::new("Member");
    collector.add(Some(ValueRange { low: 6, high: None }), values(&["g"]));
    collector.add(Some(ValueRange { low: 3, high: Some(5) }), values(&["d"]));
    assert_eq!(collector.status(), RangeStatus::Incomplete { next: "member;range=0-*".into() });
    collector.add(Some(ValueRange { low: 0, high: Some(2) }), values(&["a"]));
    let (all, status) = collector.finish();
    assert_eq!(all, values(&["a", "d", "g"]));
    assert_eq!(status, RangeStatus::Complete);
}

#[test]
fn empty_plain_attribute_not_complete() {
    let mut collector = RangeCollector::new("member");
    collector.add(None, Vec::new());
    let status = collector.add(Some(ValueRange { low: 0, high: Some(1499) }), values(&["a"]));
    assert_eq!(status, RangeStatus::Incomplete { next: "member;range=1500-*".into() });
}

#[test]
fn gap_between_chunks_incomplete() {
    let mut collector = RangeCollector::new("member");
    collector.add(Some(ValueRange { low: 0, high: Some(2) }), values(&["a"]));
    collector.add(Some(ValueRange { low: 6, high: None }), values(&["g"]));
    assert_eq!(collector.status(), RangeStatus::Incomplete { next: "member;range=3-*".into() });
}

#[test]
fn merge_folds_chunks_into_plain_attribute() {
    let mut entry = LdapEntry::new("CN=G,DC=example");
    entry.push_value("cn", b"G".to_vec());
    entry.push_value("member", Vec::new());
    entry.attributes.retain(|(name, _)| name != "member");
    entry.attributes.push(("member".into(), Vec::new()));
    entry.attributes.push(("member;range=0-1".into(), values(&["a", "b"])));
    entry.attributes.push(("Member;Range=2-*".into(), values(&["c"])));
    let merged = merge_ranges(entry);
    assert!(merged.incomplete.is_empty());
    assert!(merged.errors.is_empty());
    assert_eq!(merged.entry.values("member"), values(&["a", "b", "c"]).as_slice());
    assert_eq!(merged.entry.values("cn"), values(&["G"]).as_slice());
    assert_eq!(merged.entry.attributes.len(), 2);
}

#[test]
fn merge_reports_missing_last_chunk() {
    let mut entry = LdapEntry::new("CN=G,DC=example");
    entry.attributes.push(("member;range=0-2".into(), values(&["a", "b", "c"])));
    let merged = merge_ranges(entry);
    assert_eq!(merged.incomplete.len(), 1);
    assert_eq!(merged.incomplete[0].attribute, "member");
    assert_eq!(merged.incomplete[0].received, 3);
    assert_eq!(merged.incomplete[0].next, "member;range=3-*");
}

#[test]
fn merge_keeps_values_of_unreadable_range() {
    let mut entry = LdapEntry::new("CN=G,DC=example");
    entry.attributes.push(("member;range=x-y".into(), values(&["a"])));
    let merged = merge_ranges(entry);
    assert_eq!(merged.errors.len(), 1);
    assert_eq!(merged.entry.values("member"), values(&["a"]).as_slice());
    assert_eq!(merged.incomplete.len(), 1);
    assert_eq!(merged.incomplete[0].next, "member;range=0-*");
}
