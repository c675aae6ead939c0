use chrono::{TimeZone, Utc};

use crate::ldap::ad::{
    AdError, GroupType, Sid, UserAccountControl, guid_from_bytes, guid_from_value, parse_filetime,
    parse_generalized_time, parse_guid,
};

#[test]
fn uac_disabled_bit() {
    assert!(UserAccountControl::parse("514").unwrap().is_disabled());
    assert!(!UserAccountControl::parse("512").unwrap().is_disabled());
    assert!(UserAccountControl::parse("66082").unwrap().is_disabled());
}

#[test]
fn uac_flag_names() {
    let uac = UserAccountControl::parse("66082").unwrap();
    assert_eq!(
        uac.flag_names(),
        ["ACCOUNTDISABLE", "PASSWD_NOTREQD", "NORMAL_ACCOUNT", "DONT_EXPIRE_PASSWORD"]
    );
    assert_eq!(UserAccountControl(0x204).flag_names(), ["NORMAL_ACCOUNT", "0x00000004"]);
}

#[test]
fn uac_trust_accounts() {
    assert!(UserAccountControl::parse("4096").unwrap().is_trust_account());
    assert!(UserAccountControl::parse("532480").unwrap().is_trust_account());
    assert!(UserAccountControl::parse("2080").unwrap().is_trust_account());
    assert!(!UserAccountControl::parse("66048").unwrap().is_trust_account());
}

#[test]
fn uac_computed_lockout() {
    let computed = UserAccountControl::parse("8388624").unwrap();
    assert!(computed.contains(UserAccountControl::LOCKOUT));
    assert!(computed.contains(UserAccountControl::PASSWORD_EXPIRED));
}

#[test]
fn uac_rejects_text() {
    assert_eq!(
        UserAccountControl::parse("disabled"),
        Err(AdError::InvalidInteger { value: "disabled".into() })
    );
    assert!(UserAccountControl::parse("4294967296").is_err());
}

#[test]
fn group_type_signed_and_unsigned_agree() {
    let signed = GroupType::parse("-2147483646").unwrap();
    let unsigned = GroupType::parse("2147483650").unwrap();
    assert_eq!(signed, unsigned);
    assert!(signed.is_security_enabled());
    assert_eq!(signed.scope(), "global");
}

#[test]
fn group_type_scopes() {
    assert_eq!(GroupType::parse("-2147483643").unwrap().scope(), "builtin local");
    assert_eq!(GroupType::parse("-2147483644").unwrap().scope(), "domain local");
    assert_eq!(GroupType::parse("-2147483640").unwrap().scope(), "universal");
    let distribution = GroupType::parse("2").unwrap();
    assert!(!distribution.is_security_enabled());
    assert_eq!(distribution.scope(), "global");
}

#[test]
fn filetime_decodes_to_utc() {
    let instant = parse_filetime("133485408000000000").unwrap().unwrap();
    assert_eq!(instant, Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    let with_fraction = parse_filetime("133485408001234567").unwrap().unwrap();
    assert_eq!(with_fraction.timestamp_subsec_nanos(), 123_456_700);
}

#[test]
fn filetime_zero_and_max_mean_never() {
    assert_eq!(parse_filetime("0"), Ok(None));
    assert_eq!(parse_filetime("9223372036854775807"), Ok(None));
}

#[test]
fn filetime_rejects_bad_values() {
    assert!(matches!(parse_filetime("-5"), Err(AdError::InvalidFileTime { .. })));
    assert!(matches!(parse_filetime("yesterday"), Err(AdError::InvalidFileTime { .. })));
    assert!(matches!(parse_filetime("9223372036854775808"), Err(AdError::InvalidFileTime { .. })));
}

#[test]
fn generalized_time_forms() {
    let noon = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap();
    assert_eq!(parse_generalized_time("20240101120000.0Z").unwrap(), noon);
    assert_eq!(parse_generalized_time("20240101120000Z").unwrap(), noon);
    assert_eq!(parse_generalized_time("202401011200Z").unwrap(), noon);
    assert_eq!(parse_generalized_time("2024010112Z").unwrap(), noon);
    assert_eq!(parse_generalized_time("20240101140000+0200").unwrap(), noon);
    assert_eq!(parse_generalized_time("20240101070000-05").unwrap(), noon);
}

#[test]
fn generalized_time_fraction_of_last_unit() {
    let expected = Utc.with_ymd_and_hms(2024, 1, 1, 12, 30, 0).unwrap();
    assert_eq!(parse_generalized_time("2024010112.5Z").unwrap(), expected);
    let expected = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 30).unwrap();
    assert_eq!(parse_generalized_time("202401011200,5Z").unwrap(), expected);
    let millis = parse_generalized_time("20240101120000.123Z").unwrap();
    assert_eq!(millis.timestamp_subsec_millis(), 123);
}

#[test]
fn generalized_time_rejects_bad_forms() {
    for bad in [
        "",
        "2024",
        "20240101120000",
        "20241301120000Z",
        "20240101120000.Z",
        "20240101120000+2400",
        "x",
    ] {
        assert!(
            matches!(parse_generalized_time(bad), Err(AdError::InvalidGeneralizedTime { .. })),
            "{bad}"
        );
    }
}

#[test]
fn sid_binary_to_text() {
    let mut bytes = vec![1, 5, 0, 0, 0, 0, 0, 5];
    for sub in [21u32, 1_111_111_111, 2_222_222_222, 3_333_333_333, 500] {
        bytes.extend_from_slice(&sub.to_le_bytes());
    }
    let sid = Sid::from_bytes(&bytes).unwrap();
    assert_eq!(sid.to_string(), "S-1-5-21-1111111111-2222222222-3333333333-500");
    assert_eq!(sid.rid(), Some(500));
    assert!(sid.is_domain_account());
    assert_eq!(Sid::from_value(&bytes).unwrap(), sid);
}

#[test]
fn sid_text_forms() {
    let builtin = Sid::parse("S-1-5-32-544").unwrap();
    assert_eq!(builtin.to_string(), "S-1-5-32-544");
    assert!(!builtin.is_domain_account());
    assert_eq!(Sid::from_value(b"s-1-5-32-544").unwrap(), builtin);
    let large = Sid::parse("S-1-0x123456789ABC-1").unwrap();
    assert_eq!(large.to_string(), "S-1-0x123456789ABC-1");
}

#[test]
fn sid_with_rid_replaces_last() {
    let user = Sid::parse("S-1-5-21-1-2-3-1105").unwrap();
    assert_eq!(user.with_rid(513).to_string(), "S-1-5-21-1-2-3-513");
}

#[test]
fn sid_rejects_malformed() {
    for bad in [
        "S-1",
        "S-1-5",
        "S-2-5-21",
        "S-1-5-x",
        "1-5-21",
        "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
        "S-1-5--1",
    ] {
        assert!(matches!(Sid::parse(bad), Err(AdError::InvalidSid { .. })), "{bad}");
    }
    assert!(Sid::from_bytes(&[1, 2, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0]).is_err());
    assert!(Sid::from_bytes(&[]).is_err());
    assert!(Sid::from_bytes(&[1, 0, 0, 0, 0, 0, 0, 5]).is_err());
    assert_eq!(Sid::from_bytes(&[7]), Err(AdError::InvalidSid { value: "07".into() }));
}

#[test]
fn guid_binary_first_fields_little_endian() {
    let bytes = [
        0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];
    assert_eq!(guid_from_bytes(&bytes).unwrap(), "00112233-4455-6677-8899-aabbccddeeff");
    assert_eq!(guid_from_value(&bytes).unwrap(), "00112233-4455-6677-8899-aabbccddeeff");
}

#[test]
fn guid_text_normalised() {
    assert_eq!(
        parse_guid("{0B3C9A1E-5F2D-4E8B-9C71-2A6D8E4F1B30}").unwrap(),
        "0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b30"
    );
    assert_eq!(
        guid_from_value(b"0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b30").unwrap(),
        "0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b30"
    );
}

#[test]
fn guid_rejects_malformed() {
    for bad in [
        "",
        "0b3c9a1e5f2d4e8b9c712a6d8e4f1b30",
        "0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b3g",
        "{0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b30",
    ] {
        assert!(matches!(parse_guid(bad), Err(AdError::InvalidGuid { .. })), "{bad}");
    }
    assert_eq!(guid_from_value(&[0xff, 0x00]), Err(AdError::InvalidGuid { value: "ff00".into() }));
}
