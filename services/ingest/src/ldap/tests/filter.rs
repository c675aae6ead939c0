use serde_json::Value;

use super::testdata;
use crate::ldap::filter::{and, equality, escape_bytes, escape_value, or};

#[test]
fn escapes_the_five_characters() {
    assert_eq!(escape_value(r"a\b*c(d)e"), r"a\5cb\2ac\28d\29e");
    assert_eq!(escape_value("nul\0byte"), r"nul\00byte");
}

#[test]
fn utf8_letters_stay() {
    assert_eq!(escape_value("Núñez José"), "Núñez José");
}

#[test]
fn bytes_all_hex_escaped() {
    assert_eq!(escape_bytes(&[0x01, 0xab, 0x2a]), r"\01\ab\2a");
}

#[test]
fn builders_join_filters() {
    assert_eq!(equality("cn", "a*b"), r"(cn=a\2ab)");
    assert_eq!(and(["(a=1)", "(b=2)"]), "(&(a=1)(b=2))");
    assert_eq!(or(vec![String::from("(a=1)")]), "(|(a=1))");
}

#[test]
fn field_case_filters_byte_for_byte() {
    let bytes = testdata("field-cases/ldap-dn-filter-escape/expected-filters.json");
    let cases: Value = serde_json::from_slice(&bytes).unwrap();
    let queries = cases["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 4);
    let wrong: Vec<&str> = cases["wrong_filters_seen_in_the_wild"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["filter"].as_str().unwrap())
        .collect();
    assert_eq!(wrong.len(), 3);

    for query in queries {
        let input = query["input_dn"].as_str().unwrap();
        let expected = query["filter"].as_str().unwrap();
        let (class, attribute) = if query.get("expected_groups").is_some() {
            ("group", "member")
        } else {
            ("user", "memberOf")
        };
        let built = and([equality("objectClass", class), equality(attribute, input)]);
        assert_eq!(built.as_bytes(), expected.as_bytes(), "{}", query["purpose"]);
        assert!(!wrong.contains(&built.as_str()), "{built}");
    }
}
