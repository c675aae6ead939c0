//! Conversion of source snapshots, accounts, entitlements and memberships between the domain
//! and `rollcall.v1`, and the errors for messages that do not convert.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

mod support;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use prost::Message;
use rollcall_core::model::{
    Account, AccountMarker, AuthMethod, LastSignIn, ManagerRef, MethodKind, PhoneType, SourceId,
    SourceSnapshot,
};
use rollcall_proto::{
    ConvertError, account_from_proto, account_to_proto, auth_method_from_proto,
    auth_method_to_proto, membership_from_proto, source_snapshot_from_proto,
    source_snapshot_to_proto, v1,
};

fn instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 14, 30, 5).unwrap()
}

fn valid_account() -> v1::Account {
    account_to_proto(&Account::new("U-2231"))
}

fn snapshot_message() -> v1::SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::ehr("athenahealth").unwrap());
    snapshot.accounts = vec![Account::new("U-1"), Account::new("U-2")];
    source_snapshot_to_proto(&snapshot)
}

proptest! {
    /// Random snapshots survive domain -> proto -> bytes -> proto -> domain unchanged.
    #[test]
    fn snapshot_round_trips(snapshot in support::snapshot(4)) {
        let bytes = source_snapshot_to_proto(&snapshot).encode_to_vec();
        let decoded = v1::SourceSnapshot::decode(bytes.as_slice()).unwrap();

        prop_assert_eq!(source_snapshot_from_proto(decoded), Ok(snapshot));
    }

    #[test]
    fn account_round_trips(account in support::account()) {
        prop_assert_eq!(account_from_proto(account_to_proto(&account)), Ok(account));
    }

    /// Any enum number in any enum field converts or fails, without panicking.
    #[test]
    fn any_enum_number_converts_or_fails(kind in any::<i32>(), status in any::<i32>(), state in any::<i32>()) {
        let mut message = valid_account();
        message.kind = kind;
        message.status = status;
        message.last_sign_in = Some(v1::LastSignIn { state, at: None });

        let result = account_from_proto(message);

        let valid = (1..=3).contains(&kind) && (1..=3).contains(&status) && (2..=3).contains(&state);
        prop_assert_eq!(result.is_ok(), valid);
    }
}

#[test]
fn every_method_kind_round_trips() {
    let kinds = [
        MethodKind::Password,
        MethodKind::Email,
        MethodKind::Phone { phone_type: PhoneType::Unspecified, sms_sign_in: true },
        MethodKind::Phone { phone_type: PhoneType::AlternateMobile, sms_sign_in: false },
        MethodKind::MicrosoftAuthenticator,
        MethodKind::SoftwareOath,
        MethodKind::HardwareOath,
        MethodKind::Fido2,
        MethodKind::WindowsHelloForBusiness { weak_key: true },
        MethodKind::PlatformCredential,
        MethodKind::CertificateMultiFactor,
        MethodKind::TemporaryAccessPass { usable: None },
        MethodKind::TemporaryAccessPass { usable: Some(false) },
        MethodKind::QrCodePin,
        MethodKind::AppPassword,
        MethodKind::SecurityQuestions,
        MethodKind::External,
        MethodKind::Unrecognized("#microsoft.graph.futureMethod".to_owned()),
    ];
    for kind in kinds {
        let method = AuthMethod::new(kind.clone(), "raw");

        assert_eq!(auth_method_from_proto(auth_method_to_proto(&method)), Ok(method), "{kind:?}");
    }
}

#[test]
fn phone_fields_are_written() {
    let phone = MethodKind::Phone { phone_type: PhoneType::Mobile, sms_sign_in: true };
    let message = auth_method_to_proto(&AuthMethod::new(phone, "mobilePhone"));

    assert_eq!(message.kind(), v1::MethodKind::Phone);
    assert_eq!(message.phone_type(), v1::PhoneType::Mobile);
    assert!(message.sms_sign_in);
    assert_eq!(message.raw_type, "mobilePhone");
}

#[test]
fn unspecified_phone_type_is_other() {
    let phone = MethodKind::Phone { phone_type: PhoneType::Unspecified, sms_sign_in: false };
    let message = auth_method_to_proto(&AuthMethod::new(phone, "phone"));

    assert_eq!(message.phone_type(), v1::PhoneType::Other);
}

#[test]
fn unrecognized_method_keeps_type_name() {
    let kind = MethodKind::Unrecognized("#microsoft.graph.futureMethod".to_owned());
    let message = auth_method_to_proto(&AuthMethod::new(kind, "#microsoft.graph.futureMethod"));

    assert_eq!(message.kind(), v1::MethodKind::Unrecognized);
    assert_eq!(message.unrecognized_type, "#microsoft.graph.futureMethod");
}

#[test]
fn no_mfa_data_differs_from_no_methods() {
    let mut account = Account::new("U-1");
    let none = account_to_proto(&account);
    account.auth_methods = Some(Vec::new());
    let empty = account_to_proto(&account);

    let none = v1::Account::decode(none.encode_to_vec().as_slice()).unwrap();
    let empty = v1::Account::decode(empty.encode_to_vec().as_slice()).unwrap();

    assert_eq!(none.auth_methods, None);
    assert_eq!(empty.auth_methods, Some(v1::AuthMethodList { methods: Vec::new() }));
    assert_eq!(account_from_proto(none).unwrap().auth_methods, None);
    assert_eq!(account_from_proto(empty).unwrap().auth_methods, Some(Vec::new()));
}

#[test]
fn last_sign_in_states_are_written() {
    let mut account = Account::new("U-1");
    account.last_sign_in = LastSignIn::At(instant());
    let recorded = account_to_proto(&account).last_sign_in.unwrap();
    account.last_sign_in = LastSignIn::Never;
    let never = account_to_proto(&account).last_sign_in.unwrap();

    assert_eq!(recorded.state(), v1::SignInState::Recorded);
    assert_eq!(recorded.at.unwrap().seconds, instant().timestamp());
    assert_eq!(never.state(), v1::SignInState::Never);
    assert_eq!(never.at, None);
}

#[test]
fn leap_second_becomes_last_nanosecond() {
    let leap = DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap();
    let mut account = Account::new("U-1");
    account.created_at = Some(leap);

    let created_at = account_to_proto(&account).created_at.unwrap();

    assert_eq!(created_at.seconds, 1_483_228_799);
    assert_eq!(created_at.nanos, 999_999_999);
}

#[test]
fn invalid_source_id_names_field() {
    let mut message = snapshot_message();
    message.source = "ehr:Epic".to_owned();

    let error = source_snapshot_from_proto(message).unwrap_err();

    assert_eq!(error.field(), "source");
    assert!(
        matches!(error, ConvertError::InvalidSourceId { ref value, .. } if value == "ehr:Epic")
    );
    assert!(error.to_string().starts_with("`source` has the invalid source id `ehr:Epic`: "));
}

#[test]
fn unknown_enum_names_indexed_field() {
    let mut message = snapshot_message();
    message.accounts[1].status = 42;

    let error = source_snapshot_from_proto(message).unwrap_err();

    assert_eq!(
        error,
        ConvertError::UnknownEnum { field: "accounts[1].status".to_owned(), value: 42 }
    );
    assert_eq!(
        error.to_string(),
        "`accounts[1].status` has the unknown enum number `42`: upgrade this consumer to a release whose schema has it"
    );
}

#[test]
fn unspecified_enum_is_missing() {
    let mut message = snapshot_message();
    message.accounts[0].kind = 0;

    let error = source_snapshot_from_proto(message).unwrap_err();

    assert_eq!(error, ConvertError::Missing { field: "accounts[0].kind".to_owned() });
    assert_eq!(
        error.to_string(),
        "`accounts[0].kind` is missing or unspecified: the publisher must set it"
    );
}

#[test]
fn missing_settings_rejected() {
    let mut message = snapshot_message();
    message.settings = None;

    let error = source_snapshot_from_proto(message).unwrap_err();

    assert_eq!(error, ConvertError::Missing { field: "settings".to_owned() });
}

#[test]
fn missing_last_sign_in_rejected() {
    let mut message = valid_account();
    message.last_sign_in = None;

    assert_eq!(
        account_from_proto(message),
        Err(ConvertError::Missing { field: "last_sign_in".to_owned() })
    );
}

#[test]
fn recorded_sign_in_needs_instant() {
    let mut message = valid_account();
    message.last_sign_in =
        Some(v1::LastSignIn { state: v1::SignInState::Recorded.into(), at: None });

    assert_eq!(
        account_from_proto(message),
        Err(ConvertError::Missing { field: "last_sign_in.at".to_owned() })
    );
}

#[test]
fn never_sign_in_with_instant_rejected() {
    let mut message = valid_account();
    let at = prost_types::Timestamp { seconds: 1_700_000_000, nanos: 0 };
    message.last_sign_in =
        Some(v1::LastSignIn { state: v1::SignInState::Never.into(), at: Some(at) });

    let error = account_from_proto(message).unwrap_err();

    assert_eq!(error.field(), "last_sign_in.at");
    assert_eq!(
        error.to_string(),
        "`last_sign_in.at` is set, but the state is SIGN_IN_STATE_NEVER: leave it unset"
    );
}

#[test]
fn phone_field_on_fido2_rejected() {
    let mut message = valid_account();
    let mut method = auth_method_to_proto(&AuthMethod::new(MethodKind::Fido2, "fido2"));
    method.phone_type = v1::PhoneType::Mobile.into();
    message.auth_methods = Some(v1::AuthMethodList { methods: vec![method] });

    let error = account_from_proto(message).unwrap_err();

    assert_eq!(error.field(), "auth_methods.methods[0].phone_type");
    assert!(matches!(error, ConvertError::Unexpected { .. }));
}

#[test]
fn phone_without_type_rejected() {
    let phone = MethodKind::Phone { phone_type: PhoneType::Office, sms_sign_in: false };
    let mut method = auth_method_to_proto(&AuthMethod::new(phone, "officePhone"));
    method.phone_type = 0;

    assert_eq!(
        auth_method_from_proto(method),
        Err(ConvertError::Missing { field: "phone_type".to_owned() })
    );
}

#[test]
fn privileged_rid_needs_rid() {
    let mut message = valid_account();
    message.markers =
        vec![v1::AccountMarker { kind: v1::AccountMarkerKind::AdPrivilegedRid.into(), rid: None }];

    assert_eq!(
        account_from_proto(message),
        Err(ConvertError::Missing { field: "markers[0].rid".to_owned() })
    );
}

#[test]
fn rid_on_admin_count_rejected() {
    let mut message = valid_account();
    message.markers = vec![v1::AccountMarker {
        kind: v1::AccountMarkerKind::AdAdminCount.into(),
        rid: Some(500),
    }];

    let error = account_from_proto(message).unwrap_err();

    assert_eq!(error.field(), "markers[0].rid");
}

#[test]
fn markers_round_trip_in_order() {
    let mut account = Account::new("S-500");
    account.markers = vec![
        AccountMarker::EntraReportIsAdmin,
        AccountMarker::AdPrivilegedRid(500),
        AccountMarker::AdAdminCount,
    ];

    let message = account_to_proto(&account);

    assert_eq!(message.markers[1].rid, Some(500));
    assert_eq!(account_from_proto(message).unwrap().markers, account.markers);
}

#[test]
fn manager_without_target_rejected() {
    let mut account = Account::new("U-1");
    account.manager = Some(ManagerRef::EmployeeId("E1001".to_owned()));
    let mut message = account_to_proto(&account);
    message.manager = Some(v1::ManagerRef { target: None });

    assert_eq!(
        account_from_proto(message),
        Err(ConvertError::Missing { field: "manager.target".to_owned() })
    );
}

#[test]
fn membership_without_member_rejected() {
    let message = v1::Membership {
        member: None,
        entitlement_id: "SECADMIN".to_owned(),
        state: v1::GrantState::Active.into(),
        scope: None,
    };

    assert_eq!(
        membership_from_proto(message),
        Err(ConvertError::Missing { field: "member".to_owned() })
    );
}

#[test]
fn negative_nanos_rejected() {
    let mut message = valid_account();
    message.created_at = Some(prost_types::Timestamp { seconds: 1_700_000_000, nanos: -1 });

    let error = account_from_proto(message).unwrap_err();

    assert_eq!(
        error,
        ConvertError::InvalidTimestamp {
            field: "created_at".to_owned(),
            seconds: 1_700_000_000,
            nanos: -1
        }
    );
}

#[test]
fn out_of_range_seconds_rejected() {
    let mut message = valid_account();
    message.status_since = Some(prost_types::Timestamp { seconds: i64::MAX, nanos: 0 });

    let error = account_from_proto(message).unwrap_err();

    assert_eq!(error.field(), "status_since");
    assert!(matches!(error, ConvertError::InvalidTimestamp { .. }));
}

#[test]
fn empty_login_stays_set() {
    let mut account = Account::new("U-1");
    account.login = Some(String::new());

    let bytes = account_to_proto(&account).encode_to_vec();
    let decoded = account_from_proto(v1::Account::decode(bytes.as_slice()).unwrap()).unwrap();

    assert_eq!(decoded.login.as_deref(), Some(""));
}
