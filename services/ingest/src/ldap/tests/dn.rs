use crate::ldap::dn::{AttributeValue, Dn, DnError, escape_value, normalize_dn};

fn normalized(text: &str) -> String {
    normalize_dn(text).unwrap_or_else(|error| panic!("{text}: {error}"))
}

#[test]
fn multi_valued_rdn_splits_into_avas() {
    let dn = Dn::parse("cn=Amy Wong+sn=Kroker,ou=people,dc=planetexpress,dc=com").unwrap();
    assert_eq!(dn.rdns().len(), 4);
    let first = &dn.rdns()[0];
    assert_eq!(first.avas().len(), 2);
    assert_eq!(first.avas()[0].attribute_type(), "cn");
    assert_eq!(first.avas()[0].text(), Some("Amy Wong"));
    assert_eq!(first.avas()[1].attribute_type(), "sn");
    assert_eq!(first.avas()[1].text(), Some("Kroker"));
}

#[test]
fn multi_valued_rdn_order_ignored() {
    assert_eq!(
        normalized("cn=Amy Wong+sn=Kroker,ou=people,dc=planetexpress,dc=com"),
        normalized("SN=kroker + CN=amy wong, OU=People, DC=PlanetExpress, DC=com"),
    );
}

#[test]
fn case_and_spaces_ignored() {
    let a = Dn::parse("CN=Ana Reyes,OU=Clinicians,DC=bayview-clinic,DC=example").unwrap();
    let b = Dn::parse("  cn = ana reyes , ou=CLINICIANS,dc=Bayview-Clinic ,dc=EXAMPLE ").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.normalized(), "cn=ana reyes,ou=clinicians,dc=bayview-clinic,dc=example");
}

#[test]
fn special_escapes_resolved() {
    let dn = Dn::parse(r#"CN=a\,b\#c\+d\"e\\f\<g\>h\;i\=j,DC=example"#).unwrap();
    assert_eq!(dn.rdns()[0].avas()[0].text(), Some("a,b#c+d\"e\\f<g>h;i=j"));
}

#[test]
fn hex_escapes_decode_utf8() {
    let dn = Dn::parse(r"CN=Jos\C3\A9 N\c3\bA\C3\b1ez,DC=example").unwrap();
    assert_eq!(dn.rdns()[0].avas()[0].text(), Some("José Núñez"));
}

#[test]
fn hex_and_literal_spellings_equal() {
    assert_eq!(normalized(r"CN=Jos\C3\A9,DC=example"), normalized("cn=josé,dc=example"));
    assert_eq!(normalized(r"CN=Smith\2C Ann,DC=example"), normalized(r"cn=Smith\, Ann,dc=example"));
}

#[test]
fn ad_escaped_comma_and_hash() {
    let dn =
        Dn::parse(r"CN=Núñez\, José (Locum),OU=Clinicians,OU=Staff,DC=bayview-clinic,DC=example")
            .unwrap();
    assert_eq!(dn.rdns().len(), 5);
    assert_eq!(dn.leaf_value(), Some("Núñez, José (Locum)"));
    let desk =
        Dn::parse(r"CN=Front Desk \#2,OU=Shared,OU=Staff,DC=bayview-clinic,DC=example").unwrap();
    assert_eq!(desk.leaf_value(), Some("Front Desk #2"));
    assert_eq!(
        desk.normalized(),
        "cn=front desk #2,ou=shared,ou=staff,dc=bayview-clinic,dc=example"
    );
}

#[test]
fn unicode_case_folded() {
    assert_eq!(normalized("CN=ÉLODIE ØRN,DC=example"), normalized("cn=élodie ørn,dc=example"));
}

#[test]
fn escaped_trailing_space_kept() {
    let dn = Dn::parse(r"CN=padded\ ,DC=example").unwrap();
    assert_eq!(dn.leaf_value(), Some("padded "));
    assert_ne!(normalized(r"CN=padded\ ,DC=example"), normalized("CN=padded,DC=example"));
    assert_eq!(normalized("CN=padded   ,DC=example"), normalized("CN=padded,DC=example"));
}

#[test]
fn leading_hash_and_space_escaped_in_normal_form() {
    assert_eq!(normalized(r"CN=\#1,DC=example"), r"cn=\#1,dc=example");
    assert_eq!(normalized(r"CN=\ x,DC=example"), r"cn=\ x,dc=example");
}

#[test]
fn ber_value_read_as_bytes() {
    let dn = Dn::parse("1.3.6.1.4.1.1466.0=#04024869,O=Test").unwrap();
    assert_eq!(dn.rdns()[0].avas()[0].value(), &AttributeValue::Ber(vec![0x04, 0x02, 0x48, 0x69]));
    assert_eq!(dn.normalized(), "1.3.6.1.4.1.1466.0=#04024869,o=test");
}

#[test]
fn oid_types_match_names() {
    assert_eq!(
        normalized("2.5.4.3=Ana,0.9.2342.19200300.100.1.25=example"),
        normalized("CN=Ana,DC=example")
    );
    assert_eq!(normalized("OID.2.5.4.11=Staff,DC=example"), normalized("OU=Staff,DC=example"));
}

#[test]
fn empty_dn_has_no_rdns() {
    let dn = Dn::parse("").unwrap();
    assert!(dn.rdns().is_empty());
    assert_eq!(dn.normalized(), "");
}

#[test]
fn empty_value_allowed() {
    let dn = Dn::parse("CN=,DC=example").unwrap();
    assert_eq!(dn.leaf_value(), Some(""));
}

#[test]
fn missing_equals_rejected() {
    let error = Dn::parse("CN=Ana,Clinicians,DC=example").unwrap_err();
    assert_eq!(
        error,
        DnError::MissingEquals { dn: "CN=Ana,Clinicians,DC=example".into(), position: 8 }
    );
    assert_eq!(
        error.to_string(),
        "invalid DN `CN=Ana,Clinicians,DC=example`: the RDN at character 8 has no `=`, so write it as `type=value`"
    );
}

#[test]
fn trailing_comma_rejected() {
    assert!(matches!(Dn::parse("CN=Ana,DC=example,"), Err(DnError::EmptyRdn { position: 19, .. })));
    assert!(matches!(Dn::parse("CN=Ana+,DC=example"), Err(DnError::EmptyRdn { .. })));
}

#[test]
fn bad_escape_rejected() {
    assert!(matches!(
        Dn::parse(r"CN=a\x,DC=example"),
        Err(DnError::InvalidEscape { position: 5, .. })
    ));
    assert!(matches!(Dn::parse(r"CN=a\4,DC=example"), Err(DnError::InvalidEscape { .. })));
    assert!(matches!(Dn::parse(r"CN=a\"), Err(DnError::InvalidEscape { .. })));
}

#[test]
fn invalid_utf8_escape_rejected() {
    assert!(matches!(
        Dn::parse(r"CN=\C3\28,DC=example"),
        Err(DnError::InvalidUtf8 { position: 4, .. })
    ));
}

#[test]
fn bad_attribute_type_rejected() {
    assert!(matches!(
        Dn::parse("C N=Ana,DC=example"),
        Err(DnError::InvalidAttributeType { attribute_type, .. }) if attribute_type == "C N"
    ));
    assert!(matches!(Dn::parse("1..2=x"), Err(DnError::InvalidAttributeType { .. })));
}

#[test]
fn bad_ber_value_rejected() {
    assert!(matches!(
        Dn::parse("CN=#0g,DC=example"),
        Err(DnError::InvalidHexValue { position: 4, .. })
    ));
    assert!(matches!(Dn::parse("CN=#012,DC=example"), Err(DnError::InvalidHexValue { .. })));
}

#[test]
fn escape_value_round_trips() {
    for value in ["a,b", " lead", "trail ", "#hash", "x=y+z", "back\\slash", "quote\"", "ñ"] {
        let text = format!("CN={},DC=example", escape_value(value));
        let dn = Dn::parse(&text).unwrap();
        assert_eq!(dn.leaf_value(), Some(value), "{text}");
    }
}

#[test]
fn hex_escaped_specials_equal_backslash_forms() {
    assert_eq!(
        normalized(r"cn=\23Ana Reyes\20,dc=example"),
        normalized(r"CN=\#Ana Reyes\ ,DC=example")
    );
    assert_eq!(
        normalized(r"ou=Billing\3B Coding\2BAudit,dc=example"),
        normalized(r"OU=Billing\; Coding\+Audit,DC=example")
    );
}
