use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use rollcall_core::model::{
    Account, AccountKind, AccountMarker, AccountStatus, AuthMethod, EpcsStatus, LastSignIn,
    ManagerRef, MethodKind, PhoneType,
};

use super::*;

fn full_account() -> Account {
    let mut account = Account::new("u-1");
    account.login = Some("jdoe".into());
    account.upn = Some("jdoe@harborview.example".into());
    account.kind = AccountKind::Guest;
    account.status = AccountStatus::Disabled;
    account.status_since = Some(Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap());
    account.last_sign_in = LastSignIn::Never;
    account.manager = Some(ManagerRef::EmployeeId("E1002".into()));
    account.auth_methods = Some(vec![
        AuthMethod::new(
            MethodKind::Phone { phone_type: PhoneType::AlternateMobile, sms_sign_in: true },
            "phoneAuthenticationMethod",
        ),
        AuthMethod::new(MethodKind::TemporaryAccessPass { usable: None }, "tap"),
        AuthMethod::new(MethodKind::Unrecognized("future".into()), "futureMethod"),
    ]);
    account.markers = vec![AccountMarker::AdPrivilegedRid(500), AccountMarker::AdAdminCount];
    account.epcs = Some(EpcsStatus::Pending);
    account.attributes = BTreeMap::from([("title".into(), "Nurse".into())]);
    account
}

#[test]
fn account_round_trips_with_nanoseconds() {
    let account = full_account();
    let value = encode(&AccountJson::from(&account), "account").unwrap();
    let back: AccountJson = decode(value, "source_snapshots", "t/entra").unwrap();
    assert_eq!(Account::from(back), account);
}

#[test]
fn empty_method_list_differs_from_none() {
    let mut account = Account::new("u-2");
    account.auth_methods = Some(Vec::new());
    let value = encode(&AccountJson::from(&account), "account").unwrap();
    let back: AccountJson = decode(value, "source_snapshots", "t/entra").unwrap();
    assert_eq!(Account::from(back).auth_methods, Some(Vec::new()));
}

#[test]
fn nul_character_named_by_path() {
    let mut account = Account::new("u-3");
    account.display_name = Some("Pat\0Doe".into());
    let err = encode(&vec![AccountJson::from(&account)], "accounts").unwrap_err();
    match err {
        StoreError::NulCharacter { path } => assert_eq!(path, "accounts[0].display_name"),
        other => panic!("unexpected error: {other}"),
    }
}

#[test]
fn nul_character_in_key_named_by_path() {
    let mut account = Account::new("u-4");
    account.attributes.insert("bad\0key".into(), "x".into());
    let err = encode(&AccountJson::from(&account), "account").unwrap_err();
    match err {
        StoreError::NulCharacter { path } => assert_eq!(path, "account.attributes.bad\\u{0}key"),
        other => panic!("unexpected error: {other}"),
    }
}

#[test]
fn unknown_enum_value_is_corrupt_row() {
    let value = serde_json::json!({
        "id": "u-5", "kind": "robot", "status": "enabled", "last_sign_in": {"state": "never"}
    });
    let err = decode::<AccountJson>(value, "source_snapshots", "t/entra").unwrap_err();
    assert!(matches!(err, StoreError::CorruptRow { table: "source_snapshots", .. }), "{err}");
}
