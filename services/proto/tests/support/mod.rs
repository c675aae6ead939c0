//! proptest strategies for random domain values, shared by the test files.
//!
//! Every field of every type is drawn, including the empty string and each enum variant,
//! so a conversion that drops or confuses one field fails a round trip.

#![allow(dead_code, reason = "each test file uses a different part of the strategies")]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use rollcall_core::model::{
    Account, AccountKind, AccountMarker, AccountStatus, AuthMethod, Availability, Entitlement,
    EntitlementKind, EpcsStatus, GrantState, LastSignIn, ManagerRef, Member, Membership,
    MethodKind, PhoneType, SourceId, SourceKind, SourceSettings, SourceSnapshot, Worker,
    WorkerStatus,
};

/// Short text of any printable characters, the empty string included.
pub fn text() -> impl Strategy<Value = String> {
    "\\PC{0,8}"
}

pub fn optional_text() -> impl Strategy<Value = Option<String>> {
    option::of(text())
}

/// Generates instants from year 1 to year 9999, the range of `google.protobuf.Timestamp`,
/// with nanoseconds and without leap seconds.
pub fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (-62_135_596_800i64..=253_402_300_799i64, 0u32..1_000_000_000)
        .prop_filter_map("in chrono's range", |(seconds, nanos)| {
            DateTime::from_timestamp(seconds, nanos)
        })
}

pub fn optional_instant() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    option::of(instant())
}

pub fn attributes() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..4)
}

/// Generates the ids of directory and EHR sources. Source `hr` is left out: its snapshot
/// is the HR roster, which travels as workers.
pub fn source_id() -> impl Strategy<Value = SourceId> {
    let kind = prop_oneof![Just(SourceKind::Entra), Just(SourceKind::Ldap), Just(SourceKind::Ehr),];
    (kind, option::of("[a-z0-9_-]{1,12}"))
        .prop_filter_map("EHR sources need a vendor", |(kind, instance)| {
            SourceId::with_instance(kind, instance.as_deref()).ok()
        })
}

pub fn method_kind() -> impl Strategy<Value = MethodKind> {
    let phone_type = prop_oneof![
        Just(PhoneType::Mobile),
        Just(PhoneType::AlternateMobile),
        Just(PhoneType::Office),
        Just(PhoneType::Unspecified),
    ];
    prop_oneof![
        Just(MethodKind::Password),
        Just(MethodKind::Email),
        (phone_type, any::<bool>())
            .prop_map(|(phone_type, sms_sign_in)| MethodKind::Phone { phone_type, sms_sign_in }),
        Just(MethodKind::MicrosoftAuthenticator),
        Just(MethodKind::SoftwareOath),
        Just(MethodKind::HardwareOath),
        Just(MethodKind::Fido2),
        any::<bool>().prop_map(|weak_key| MethodKind::WindowsHelloForBusiness { weak_key }),
        Just(MethodKind::PlatformCredential),
        Just(MethodKind::CertificateMultiFactor),
        option::of(any::<bool>()).prop_map(|usable| MethodKind::TemporaryAccessPass { usable }),
        Just(MethodKind::QrCodePin),
        Just(MethodKind::AppPassword),
        Just(MethodKind::SecurityQuestions),
        Just(MethodKind::External),
        text().prop_map(MethodKind::Unrecognized),
    ]
}

prop_compose! {
    pub fn auth_method()(
        kind in method_kind(),
        id in optional_text(),
        created_at in optional_instant(),
        raw_type in text(),
    ) -> AuthMethod {
        AuthMethod { kind, id, created_at, raw_type }
    }
}

pub fn last_sign_in() -> impl Strategy<Value = LastSignIn> {
    prop_oneof![
        instant().prop_map(LastSignIn::At),
        Just(LastSignIn::Never),
        Just(LastSignIn::Unknown)
    ]
}

pub fn manager() -> impl Strategy<Value = ManagerRef> {
    prop_oneof![text().prop_map(ManagerRef::Account), text().prop_map(ManagerRef::EmployeeId)]
}

pub fn marker() -> impl Strategy<Value = AccountMarker> {
    prop_oneof![
        Just(AccountMarker::AdAdminCount),
        any::<u32>().prop_map(AccountMarker::AdPrivilegedRid),
        Just(AccountMarker::EntraReportIsAdmin),
    ]
}

type Names = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn account_names() -> impl Strategy<Value = Names> {
    (
        text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
        optional_text(),
    )
}

type State = (
    AccountKind,
    AccountStatus,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    LastSignIn,
    Option<ManagerRef>,
    Option<Vec<AuthMethod>>,
    Vec<AccountMarker>,
    bool,
    Option<String>,
    Option<EpcsStatus>,
);

fn account_state() -> impl Strategy<Value = State> {
    let kind = prop_oneof![
        Just(AccountKind::Member),
        Just(AccountKind::Guest),
        Just(AccountKind::Service)
    ];
    let status = prop_oneof![
        Just(AccountStatus::Enabled),
        Just(AccountStatus::Disabled),
        Just(AccountStatus::Unknown),
    ];
    let epcs = prop_oneof![
        Just(EpcsStatus::Enabled),
        Just(EpcsStatus::Pending),
        Just(EpcsStatus::Disabled)
    ];
    (
        kind,
        status,
        optional_text(),
        optional_instant(),
        optional_instant(),
        last_sign_in(),
        option::of(manager()),
        option::of(vec(auth_method(), 0..4)),
        vec(marker(), 0..3),
        any::<bool>(),
        optional_text(),
        option::of(epcs),
    )
}

prop_compose! {
    pub fn account()(names in account_names(), state in account_state(), attributes in attributes()) -> Account {
        let (id, login, upn, sam_account_name, email, employee_id, sid, display_name, given_name,
            family_name, job_title, department) = names;
        let (kind, status, status_raw, status_since, created_at, last_sign_in, manager,
            auth_methods, markers, is_provider, npi, epcs) = state;
        Account {
            id, login, upn, sam_account_name, email, employee_id, sid, display_name, given_name,
            family_name, job_title, department, kind, status, status_raw, status_since,
            created_at, last_sign_in, manager, auth_methods, markers, is_provider, npi, epcs,
            attributes,
        }
    }
}

pub fn entitlement_kind() -> impl Strategy<Value = EntitlementKind> {
    proptest::sample::select(EntitlementKind::ALL.to_vec())
}

prop_compose! {
    pub fn entitlement()(
        id in text(),
        kind in entitlement_kind(),
        name in text(),
        description in optional_text(),
        role_template_id in optional_text(),
        source_privileged in option::of(any::<bool>()),
        sid in optional_text(),
        security_enabled in any::<bool>(),
        attributes in attributes(),
    ) -> Entitlement {
        Entitlement {
            id, kind, name, description, role_template_id, source_privileged, sid,
            security_enabled, attributes,
        }
    }
}

pub fn member() -> impl Strategy<Value = Member> {
    prop_oneof![
        text().prop_map(Member::Account),
        text().prop_map(Member::Entitlement),
        text().prop_map(Member::Unresolved),
    ]
}

prop_compose! {
    pub fn membership()(
        member in member(),
        entitlement in text(),
        eligible in any::<bool>(),
        scope in optional_text(),
    ) -> Membership {
        let state = if eligible { GrantState::Eligible } else { GrantState::Active };
        Membership { member, entitlement, state, scope }
    }
}

prop_compose! {
    pub fn settings()(
        weak_methods_enabled in option::of(vec(text(), 0..4)),
        availability in 0..3u8,
    ) -> SourceSettings {
        let sign_in_activity = match availability {
            0 => Availability::Available,
            1 => Availability::Missing,
            _ => Availability::Unknown,
        };
        SourceSettings { weak_methods_enabled, sign_in_activity }
    }
}

prop_compose! {
    /// Generates snapshots with up to `max_records` accounts, entitlements and memberships
    /// each.
    pub fn snapshot(max_records: usize)(
        source in source_id(),
        collected_at in optional_instant(),
        accounts in vec(account(), 0..=max_records),
        entitlements in vec(entitlement(), 0..=max_records),
        memberships in vec(membership(), 0..=max_records),
        settings in settings(),
    ) -> SourceSnapshot {
        SourceSnapshot { source, collected_at, accounts, entitlements, memberships, settings }
    }
}

prop_compose! {
    pub fn worker()(
        employee_id in "[A-Z0-9]{1,8}",
        name in optional_text(),
        email in optional_text(),
        status in proptest::sample::select(vec![
            WorkerStatus::Active,
            WorkerStatus::Leave,
            WorkerStatus::Terminated,
            WorkerStatus::Pending,
        ]),
        status_raw in text(),
        hired_at in optional_instant(),
        terminated_at in optional_instant(),
        manager_employee_id in optional_text(),
        job_title in optional_text(),
        department in optional_text(),
        location in optional_text(),
    ) -> Worker {
        Worker {
            employee_id, name, email, status, status_raw, hired_at, terminated_at,
            manager_employee_id, job_title, department, location,
        }
    }
}
