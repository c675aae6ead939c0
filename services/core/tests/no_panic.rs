//! The rules must not panic on any input: random snapshots with dangling references,
//! cycles, duplicate ids, odd strings and extreme times are evaluated under a random
//! policy.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use rollcall_core::model::{
    Account, AccountMarker, AccountStatus, AuthMethod, Entitlement, EntitlementKind, EpcsStatus,
    GrantState, HrSnapshot, LastSignIn, Member, Membership, MethodKind, PhoneType, SourceId,
    SourceSnapshot, Worker, WorkerStatus,
};
use rollcall_core::policy::{Policy, PolicySpec};
use rollcall_core::{Tenant, TenantData, TenantId, evaluate};

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        (0i64..4_000_000_000).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap()),
    ]
}

/// Short ids from a small alphabet, so references collide and resolve often.
fn id() -> impl Strategy<Value = String> {
    prop_oneof!["[a-c]{1,2}", "[A-Za-z0-9@._ ,-]{0,12}", Just("S-1-5-32-544".to_owned())]
}

fn method() -> impl Strategy<Value = AuthMethod> {
    let kind = prop_oneof![
        Just(MethodKind::Password),
        Just(MethodKind::Email),
        any::<bool>()
            .prop_map(|sms| MethodKind::Phone { phone_type: PhoneType::Mobile, sms_sign_in: sms }),
        Just(MethodKind::Fido2),
        Just(MethodKind::MicrosoftAuthenticator),
        proptest::option::of(any::<bool>())
            .prop_map(|usable| MethodKind::TemporaryAccessPass { usable }),
        ".{0,8}".prop_map(MethodKind::Unrecognized),
    ];
    kind.prop_map(|k| AuthMethod::new(k, "generated"))
}

fn account() -> impl Strategy<Value = Account> {
    (
        id(),
        proptest::option::of(id()),
        proptest::option::of(id()),
        proptest::option::of(id()),
        prop_oneof![
            Just(AccountStatus::Enabled),
            Just(AccountStatus::Disabled),
            Just(AccountStatus::Unknown)
        ],
        prop_oneof![
            instant().prop_map(LastSignIn::At),
            Just(LastSignIn::Never),
            Just(LastSignIn::Unknown)
        ],
        proptest::option::of(proptest::collection::vec(method(), 0..4)),
        proptest::option::of(instant()),
        any::<bool>(),
        proptest::option::of(prop_oneof![Just(EpcsStatus::Enabled), Just(EpcsStatus::Pending)]),
    )
        .prop_map(
            |(
                id,
                login,
                email,
                employee_id,
                status,
                last_sign_in,
                methods,
                created,
                admin,
                epcs,
            )| {
                let mut account = Account::new(id);
                account.login = login;
                account.email = email;
                account.employee_id = employee_id;
                account.status = status;
                account.last_sign_in = last_sign_in;
                account.auth_methods = methods;
                account.created_at = created;
                account.epcs = epcs;
                if admin {
                    account.markers.push(AccountMarker::AdAdminCount);
                }
                account
            },
        )
}

fn snapshot() -> impl Strategy<Value = SourceSnapshot> {
    let source = prop_oneof![
        Just(SourceId::entra()),
        Just(SourceId::ldap()),
        Just(SourceId::ehr("epic").unwrap())
    ];
    let membership = (id(), id(), any::<u8>()).prop_map(|(member, entitlement, shape)| {
        let member = match shape % 3 {
            0 => Member::Account(member),
            1 => Member::Entitlement(member),
            _ => Member::Unresolved(member),
        };
        let state = if shape % 5 == 0 { GrantState::Eligible } else { GrantState::Active };
        Membership { member, entitlement, state, scope: None }
    });
    (
        source,
        proptest::collection::vec(account(), 0..8),
        proptest::collection::vec((id(), any::<bool>()), 0..6),
        proptest::collection::vec(membership, 0..20),
    )
        .prop_map(|(source, accounts, entitlements, memberships)| {
            let mut snapshot = SourceSnapshot::new(source);
            snapshot.accounts = accounts;
            snapshot.entitlements = entitlements
                .into_iter()
                .map(|(id, role)| {
                    let kind =
                        if role { EntitlementKind::DirectoryRole } else { EntitlementKind::Group };
                    let mut e = Entitlement::new(id.clone(), kind, id);
                    e.sid = Some("S-1-5-21-1-2-3-512".into());
                    e
                })
                .collect();
            snapshot.memberships = memberships;
            snapshot.settings.weak_methods_enabled = Some(vec!["sms".into()]);
            snapshot
        })
}

fn worker() -> impl Strategy<Value = Worker> {
    (
        id(),
        proptest::option::of(id()),
        proptest::option::of(id()),
        proptest::option::of(instant()),
        proptest::option::of(instant()),
        any::<bool>(),
    )
        .prop_map(|(employee_id, name, email, hired, terminated, left)| {
            let mut worker = Worker::new(employee_id);
            worker.name = name;
            worker.email = email;
            worker.hired_at = hired;
            worker.terminated_at = terminated;
            worker.job_title = Some("Nurse".into());
            if left {
                worker.status = WorkerStatus::Terminated;
            }
            worker
        })
}

const POLICY: &str = r#"
common_baseline: { entra: ["group:a*"] }
job_roles:
  nurse: { match: { titles: ["Nurse"] }, baseline: { "*": ["b*"] } }
separation_of_duties:
  - { name: x, left: { "*": ["a"] }, right: { "*": ["b"] } }
peer_outliers: { min_peers: 2, max_share: 0.5 }
"#;

proptest! {
    #[test]
    fn evaluate_never_panics(
        sources in proptest::collection::vec(snapshot(), 0..4),
        workers in proptest::option::of(proptest::collection::vec(worker(), 0..6)),
        as_of in instant(),
        sla_hours in -1_000_000i64..1_000_000,
    ) {
        let spec: PolicySpec = serde_yaml_ng::from_str(POLICY).unwrap();
        let mut tenant = Tenant::new(TenantId::new("t").unwrap(), "T", chrono_tz::UTC, Policy::compile(&spec).unwrap());
        tenant.deprovision_sla = chrono::TimeDelta::hours(sla_hours);
        let data = TenantData { sources, hr: workers.map(|workers| HrSnapshot { collected_at: None, workers }) };
        let first = evaluate(&tenant, &data, as_of);
        let second = evaluate(&tenant, &data, as_of);
        prop_assert_eq!(first.findings, second.findings);
    }
}
