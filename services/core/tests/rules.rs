//! Each rule on small tenants built in code: the case that fires and the cases that must
//! not. End-to-end scenarios from real export files live in `integration-tests/`.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rollcall_core::model::{
    Account, AccountKind, AccountMarker, AccountStatus, AuthMethod, Entitlement, EntitlementKind,
    GrantState, HrSnapshot, LastSignIn, Membership, MethodKind, PhoneType, SourceId,
    SourceSnapshot, Worker, WorkerStatus,
};
use rollcall_core::policy::{Policy, PolicySpec};
use rollcall_core::tenant::{Exclusion, ManualLink};
use rollcall_core::{FindingKind, Severity, Tenant, TenantData, TenantId, evaluate};

const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn tenant(policy_yaml: &str) -> Tenant {
    let spec: PolicySpec = serde_yaml_ng::from_str(policy_yaml).unwrap();
    let policy = Policy::compile(&spec).unwrap();
    Tenant::new(TenantId::new("t1").unwrap(), "Test Practice", chrono_tz::America::Chicago, policy)
}

fn worker(id: &str, name: &str, email: &str, title: &str) -> Worker {
    let mut worker = Worker::new(id);
    worker.name = Some(name.into());
    worker.email = Some(email.into());
    worker.job_title = Some(title.into());
    worker
}

fn entra_user(id: &str, upn: &str, employee_id: Option<&str>) -> Account {
    let mut account = Account::new(id);
    account.upn = Some(upn.into());
    account.login = Some(upn.into());
    account.email = Some(upn.into());
    account.employee_id = employee_id.map(Into::into);
    account.display_name = Some(upn.split('@').next().unwrap().into());
    account.last_sign_in = LastSignIn::At(as_of() - TimeDelta::days(2));
    account.auth_methods = Some(vec![
        AuthMethod::new(MethodKind::Password, "password"),
        AuthMethod::new(MethodKind::Fido2, "fido2"),
    ]);
    account
}

fn method(kind: MethodKind) -> AuthMethod {
    AuthMethod::new(kind, "test")
}

fn phone() -> MethodKind {
    MethodKind::Phone { phone_type: PhoneType::Mobile, sms_sign_in: false }
}

/// The findings as `(kind, account id or identity key)` pairs, sorted.
fn check(tenant: &Tenant, data: &TenantData) -> Vec<(FindingKind, String)> {
    let mut found: Vec<(FindingKind, String)> = evaluate(tenant, data, as_of())
        .findings
        .into_iter()
        .map(|f| {
            let subject = f
                .subject
                .account
                .map(|a| a.account.id)
                .or(f.subject.identity.map(|i| i.key))
                .or(f.subject.source.map(|s| s.to_string()))
                .unwrap_or_default();
            (f.kind, subject)
        })
        .collect();
    found.sort();
    found
}

fn kinds(found: &[(FindingKind, String)], kind: FindingKind) -> Vec<&str> {
    found.iter().filter(|(k, _)| *k == kind).map(|(_, s)| s.as_str()).collect()
}

fn entra_with_admin_role(mut accounts: Vec<Account>, admins: &[&str]) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    snapshot.entitlements.push(Entitlement::new(
        GLOBAL_ADMIN,
        EntitlementKind::DirectoryRole,
        "Global Administrator",
    ));
    for admin in admins {
        snapshot.memberships.push(Membership::account(*admin, GLOBAL_ADMIN));
    }
    snapshot.accounts.append(&mut accounts);
    snapshot
}

#[test]
fn privileged_with_sms_is_high() {
    let mut admin = entra_user("u1", "ann@t1.example", Some("E1"));
    admin.auth_methods = Some(vec![method(MethodKind::Fido2), method(phone())]);
    let data = TenantData { sources: vec![entra_with_admin_role(vec![admin], &["u1"])], hr: None };
    let evaluation = evaluate(&tenant(""), &data, as_of());
    let phone_finding =
        evaluation.findings.iter().find(|f| f.kind == FindingKind::MfaPrivilegedPhone).unwrap();
    assert_eq!(phone_finding.severity, Severity::High);
    assert!(phone_finding.evidence.iter().any(|e| e.value.contains("Global Administrator")));
    // FIDO2 plus a phone is reported once, as the phone finding.
    let found = check(&tenant(""), &data);
    assert!(kinds(&found, FindingKind::MfaPrivilegedNotPhishingResistant).is_empty());
}

#[test]
fn eligible_role_counts_as_privileged() {
    let mut admin = entra_user("u1", "ann@t1.example", None);
    admin.auth_methods = Some(vec![method(MethodKind::MicrosoftAuthenticator)]);
    let mut snapshot = entra_with_admin_role(vec![admin], &[]);
    let mut eligible = Membership::account("u1", GLOBAL_ADMIN);
    eligible.state = GrantState::Eligible;
    snapshot.memberships.push(eligible);
    let found = check(&tenant(""), &TenantData { sources: vec![snapshot], hr: None });
    assert_eq!(kinds(&found, FindingKind::MfaPrivilegedNotPhishingResistant), vec!["u1"]);
}

#[test]
fn ordinary_user_with_authenticator_is_fine() {
    let mut user = entra_user("u1", "ann@t1.example", None);
    user.auth_methods = Some(vec![method(MethodKind::MicrosoftAuthenticator)]);
    let found = check(
        &tenant(""),
        &TenantData { sources: vec![entra_with_admin_role(vec![user], &[])], hr: None },
    );
    assert!(found.iter().all(|(k, _)| !k.as_str().starts_with("mfa_")), "{found:?}");
}

/// A job role with `mfa: phishing_resistant` puts its holders under the privileged
/// standard without any privileged grant. Holders of other roles keep the ordinary one.
#[test]
fn role_requires_phishing_resistant_mfa() {
    let policy = "job_roles:
  Physician:
    match: {titles: [Physician]}
    mfa: phishing_resistant
  Front Desk:
    match: {titles: [Front Desk]}
";
    let mut doctor = entra_user("u1", "ann@t1.example", Some("E1"));
    doctor.auth_methods = Some(vec![method(MethodKind::MicrosoftAuthenticator), method(phone())]);
    let mut clerk = entra_user("u2", "ben@t1.example", Some("E2"));
    clerk.auth_methods = doctor.auth_methods.clone();
    let mut roster = HrSnapshot::default();
    roster.workers.push(worker("E1", "Ann Doe", "ann@t1.example", "Physician"));
    roster.workers.push(worker("E2", "Ben Roe", "ben@t1.example", "Front Desk"));
    let data = TenantData {
        sources: vec![entra_with_admin_role(vec![doctor, clerk], &[])],
        hr: Some(roster),
    };

    let found = check(&tenant(policy), &data);
    assert_eq!(kinds(&found, FindingKind::MfaPrivilegedPhone), vec!["u1"]);
    assert_eq!(kinds(&found, FindingKind::MfaPrivilegedNotPhishingResistant), vec!["u1"]);
    let evaluation = evaluate(&tenant(policy), &data, as_of());
    let finding =
        evaluation.findings.iter().find(|f| f.kind == FindingKind::MfaPrivilegedPhone).unwrap();
    assert!(finding.summary.contains("holds the job role Physician"), "{}", finding.summary);
    assert!(finding.evidence.iter().any(|e| e.field == "job_roles.Physician.mfa"));
    // The role does not make its holder privileged for the other rules.
    assert_eq!(evaluation.stats.privileged_identities, 0);

    // Without the requirement, the same methods are fine for a physician too.
    let relaxed = policy.replace("    mfa: phishing_resistant\n", "");
    let found = check(&tenant(&relaxed), &data);
    assert!(found.iter().all(|(k, _)| !k.as_str().starts_with("mfa_")), "{found:?}");
}

#[test]
fn password_and_email_is_no_mfa() {
    let mut user = entra_user("u1", "ann@t1.example", None);
    user.auth_methods = Some(vec![method(MethodKind::Password), method(MethodKind::Email)]);
    let mut weak = entra_user("u2", "bob@t1.example", None);
    weak.auth_methods = Some(vec![method(MethodKind::Password), method(phone())]);
    let mut unknown = entra_user("u3", "cy@t1.example", None);
    unknown.auth_methods = None;
    let data = TenantData {
        sources: vec![entra_with_admin_role(vec![user, weak, unknown], &[])],
        hr: None,
    };
    let found = check(&tenant(""), &data);
    assert_eq!(kinds(&found, FindingKind::MfaNone), vec!["u1"]);
    assert_eq!(kinds(&found, FindingKind::MfaWeakOnly), vec!["u2"]);
}

#[test]
fn unrecognized_method_is_info_not_counted() {
    let mut user = entra_user("u1", "ann@t1.example", None);
    user.auth_methods =
        Some(vec![method(MethodKind::Unrecognized("#microsoft.graph.future".into()))]);
    let found = check(
        &tenant(""),
        &TenantData { sources: vec![entra_with_admin_role(vec![user], &[])], hr: None },
    );
    assert_eq!(kinds(&found, FindingKind::MfaUnrecognizedMethod), vec!["u1"]);
    assert_eq!(kinds(&found, FindingKind::MfaNone), vec!["u1"]);
}

#[test]
fn policy_phone_enabled_needs_privileged_people() {
    let mut snapshot = entra_with_admin_role(vec![entra_user("u1", "ann@t1.example", None)], &[]);
    snapshot.settings.weak_methods_enabled = Some(vec!["sms".into(), "email".into()]);
    let data = TenantData { sources: vec![snapshot.clone()], hr: None };
    assert!(kinds(&check(&tenant(""), &data), FindingKind::MfaPolicyPhoneEnabled).is_empty());
    snapshot.memberships.push(Membership::account("u1", GLOBAL_ADMIN));
    let data = TenantData { sources: vec![snapshot], hr: None };
    assert_eq!(
        kinds(&check(&tenant(""), &data), FindingKind::MfaPolicyPhoneEnabled),
        vec!["entra"]
    );
}

#[test]
fn ehr_privilege_from_policy_reaches_entra_mfa() {
    let mut entra_account = entra_user("u1", "ann@t1.example", Some("E1"));
    entra_account.auth_methods = Some(vec![method(MethodKind::MicrosoftAuthenticator)]);
    let mut ehr = SourceSnapshot::new(SourceId::ehr("athenahealth").unwrap());
    let mut ehr_account = Account::new("annz");
    ehr_account.login = Some("annz".into());
    ehr_account.employee_id = Some("E1".into());
    ehr.accounts.push(ehr_account);
    ehr.entitlements.push(Entitlement::new("User Admin", EntitlementKind::Role, "User Admin"));
    ehr.memberships.push(Membership::account("annz", "User Admin"));
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![worker("E1", "Ann Zee", "ann@t1.example", "Office Manager")],
    };
    let data = TenantData {
        sources: vec![entra_with_admin_role(vec![entra_account], &[]), ehr],
        hr: Some(hr),
    };
    let without_policy = check(&tenant(""), &data);
    assert!(kinds(&without_policy, FindingKind::MfaPrivilegedNotPhishingResistant).is_empty());
    let policy = "privileged_entitlements:\n  'ehr:*': ['role:User Admin*']\n";
    let with_policy = check(&tenant(policy), &data);
    assert_eq!(kinds(&with_policy, FindingKind::MfaPrivilegedNotPhishingResistant), vec!["u1"]);
    assert_eq!(kinds(&with_policy, FindingKind::PrivilegedWithoutRole), vec!["annz"]);
}

#[test]
fn leaver_before_and_after_deadline() {
    let mut hr = HrSnapshot::default();
    let mut soon = worker("E1", "Ann Zee", "ann@t1.example", "Nurse");
    soon.status = WorkerStatus::Terminated;
    soon.terminated_at = Some(as_of() - TimeDelta::hours(3));
    let mut late = worker("E2", "Bob Yu", "bob@t1.example", "Nurse");
    late.status = WorkerStatus::Terminated;
    late.terminated_at = Some(as_of() - TimeDelta::hours(30));
    let mut very_late = worker("E3", "Cy Xu", "cy@t1.example", "Nurse");
    very_late.status = WorkerStatus::Terminated;
    very_late.terminated_at = Some(as_of() - TimeDelta::days(10));
    let mut future = worker("E4", "Di Wu", "di@t1.example", "Nurse");
    future.terminated_at = Some(as_of() + TimeDelta::days(3));
    hr.workers = vec![soon, late, very_late, future];
    let mut disabled = entra_user("u5", "cy.old@t1.example", Some("E3"));
    disabled.status = AccountStatus::Disabled;
    let accounts = vec![
        entra_user("u1", "ann@t1.example", Some("E1")),
        entra_user("u2", "bob@t1.example", Some("E2")),
        entra_user("u3", "cy@t1.example", Some("E3")),
        entra_user("u4", "di@t1.example", Some("E4")),
        disabled,
    ];
    let data = TenantData { sources: vec![entra_with_admin_role(accounts, &[])], hr: Some(hr) };
    let evaluation = evaluate(&tenant(""), &data, as_of());
    let by = |id: &str| {
        evaluation
            .findings
            .iter()
            .filter(|f| f.subject.account.as_ref().is_some_and(|a| a.account.id == id))
            .map(|f| (f.kind, f.severity))
            .collect::<Vec<_>>()
    };
    assert_eq!(by("u1"), vec![(FindingKind::TerminatedActive, Severity::Info)]);
    assert_eq!(by("u2"), vec![(FindingKind::DeprovisionOverdue, Severity::High)]);
    assert_eq!(by("u3"), vec![(FindingKind::DeprovisionOverdue, Severity::Critical)]);
    assert!(by("u4").is_empty());
    assert!(by("u5").is_empty());
}

#[test]
fn leaver_sla_is_the_tenants() {
    let mut leaver = worker("E1", "Ann Zee", "ann@t1.example", "Nurse");
    leaver.status = WorkerStatus::Terminated;
    leaver.terminated_at = Some(as_of() - TimeDelta::hours(2));
    let data = TenantData {
        sources: vec![entra_with_admin_role(
            vec![entra_user("u1", "ann@t1.example", Some("E1"))],
            &[],
        )],
        hr: Some(HrSnapshot { collected_at: None, workers: vec![leaver] }),
    };
    let mut strict = tenant("");
    strict.deprovision_sla = TimeDelta::hours(1);
    assert_eq!(kinds(&check(&strict, &data), FindingKind::DeprovisionOverdue), vec!["u1"]);
    assert_eq!(kinds(&check(&tenant(""), &data), FindingKind::TerminatedActive), vec!["u1"]);
}

#[test]
fn identity_links_across_sources() {
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![
            worker("E1", "José Núñez", "jose.nunez@t1.example", "Physician"),
            worker("E2", "Ann Zee", "ann.zee@t1.example", "Nurse"),
        ],
    };
    let entra = entra_with_admin_role(vec![entra_user("u1", "jose.nunez@t1.example", None)], &[]);
    let mut ldap = SourceSnapshot::new(SourceId::ldap());
    let mut ad = Account::new("guid-1");
    ad.sam_account_name = Some("jnunez".into());
    ad.upn = Some("jose.nunez@t1.example".into());
    ad.sid = Some("S-1-5-21-1-2-3-1104".into());
    ldap.accounts.push(ad);
    let mut epic = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    let mut ehr_by_sid = Account::new("88120431");
    ehr_by_sid.login = Some("JNUNEZ2".into());
    ehr_by_sid.sid = Some("S-1-5-21-1-2-3-1104".into());
    let mut ehr_by_name = Account::new("88120432");
    ehr_by_name.login = Some("AZEE".into());
    ehr_by_name.display_name = Some("ZEE, ANN".into());
    epic.accounts.extend([ehr_by_sid, ehr_by_name]);
    let data = TenantData { sources: vec![entra, ldap, epic], hr: Some(hr) };
    let evaluation = evaluate(&tenant(""), &data, as_of());
    let identity = |key: &str| {
        evaluation.resolution.identities.iter().find(|i| i.key == key).unwrap().accounts.clone()
    };
    let jose: Vec<(String, &str)> =
        identity("hr:E1").iter().map(|l| (l.account.to_string(), l.method.as_str())).collect();
    assert_eq!(
        jose,
        vec![
            ("entra/u1".to_owned(), "email"),
            ("ldap/guid-1".to_owned(), "email"),
            ("ehr:epic/88120431".to_owned(), "sid"),
        ]
    );
    let ann: Vec<&str> = identity("hr:E2").iter().map(|l| l.method.as_str()).collect();
    assert_eq!(ann, vec!["full_name"]);
}

#[test]
fn ambiguous_match_is_reported_not_guessed() {
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![
            worker("E1", "Ann Zee", "ann.zee@t1.example", "Nurse"),
            worker("E2", "Ann Zee", "a.zee@t1.example", "Nurse"),
        ],
    };
    let mut epic = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    let mut account = Account::new("8812");
    account.display_name = Some("ZEE, ANN".into());
    epic.accounts.push(account);
    let data = TenantData { sources: vec![epic], hr: Some(hr) };
    let found = check(&tenant(""), &data);
    assert_eq!(kinds(&found, FindingKind::IdentityAmbiguous), vec!["8812"]);
    assert!(kinds(&found, FindingKind::OrphanAccount).is_empty());
}

#[test]
fn manual_link_and_exclusion() {
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![worker("E1", "Ann Zee", "ann@t1.example", "Nurse")],
    };
    let mut epic = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    let mut linked = Account::new("8812");
    linked.login = Some("NURSE7".into());
    let mut vendor = Account::new("9000");
    vendor.login = Some("VENDORSUPPORT".into());
    epic.accounts.extend([linked, vendor]);
    let mut tenant = tenant("");
    let epic_id = SourceId::ehr("epic").unwrap();
    tenant.identity.links.push(ManualLink {
        employee_id: "E1".into(),
        accounts: vec![rollcall_core::model::AccountRef {
            source: epic_id.clone(),
            id: "8812".into(),
        }],
    });
    let found = check(&tenant, &TenantData { sources: vec![epic.clone()], hr: Some(hr.clone()) });
    assert_eq!(kinds(&found, FindingKind::OrphanAccount), vec!["9000"]);
    tenant.identity.exclusions.push(Exclusion {
        account: rollcall_core::model::AccountRef { source: epic_id, id: "9000".into() },
        reason: "vendor support login, reviewed quarterly".into(),
    });
    let found = check(&tenant, &TenantData { sources: vec![epic], hr: Some(hr) });
    assert!(kinds(&found, FindingKind::OrphanAccount).is_empty());
}

const DRIFT_POLICY: &str = r#"
common_baseline:
  entra: ["group:All Staff"]
job_roles:
  nurse:
    match: { titles: ["Nurse*"] }
    baseline:
      entra: ["group:Nursing", "group:Shift *"]
  it-admin:
    match: { titles: ["IT*"] }
    privileged: true
    baseline:
      entra: ["*"]
separation_of_duties:
  - name: billing-vs-admin
    description: whoever bills must not manage user accounts
    left: { entra: ["group:Billing"] }
    right: { entra: ["directory_role:Global Administrator"] }
"#;

fn drift_data() -> TenantData {
    let mut hr = HrSnapshot::default();
    let mut snapshot = entra_with_admin_role(Vec::new(), &[]);
    for name in ["All Staff", "Nursing", "Billing", "Shift Nights", "Shift Days"] {
        snapshot.entitlements.push(Entitlement::new(name, EntitlementKind::Group, name));
    }
    for i in 1..=6 {
        let id = format!("n{i}");
        hr.workers.push(worker(
            &format!("E{i}"),
            &format!("Nurse Person{i}"),
            &format!("{id}@t1.example"),
            "Nurse",
        ));
        snapshot.accounts.push(entra_user(
            &id,
            &format!("{id}@t1.example"),
            Some(&format!("E{i}")),
        ));
        snapshot.memberships.push(Membership::account(&id, "All Staff"));
        snapshot.memberships.push(Membership::account(&id, "Nursing"));
        let shift = if i == 1 { "Shift Nights" } else { "Shift Days" };
        snapshot.memberships.push(Membership::account(&id, shift));
    }
    // n2 also bills; n3 is a Global Administrator and bills.
    snapshot.memberships.push(Membership::account("n2", "Billing"));
    snapshot.memberships.push(Membership::account("n3", "Billing"));
    snapshot.memberships.push(Membership::account("n3", GLOBAL_ADMIN));
    // An IT admin: privileged role, so the Global Administrator grant is in baseline.
    hr.workers.push(worker("E9", "Ivy Tech", "ivy@t1.example", "IT Administrator"));
    snapshot.accounts.push(entra_user("it1", "ivy@t1.example", Some("E9")));
    snapshot.memberships.push(Membership::account("it1", GLOBAL_ADMIN));
    // Someone with no matching role.
    hr.workers.push(worker("E10", "Val Vo", "val@t1.example", "Courier"));
    snapshot.accounts.push(entra_user("c1", "val@t1.example", Some("E10")));
    snapshot.memberships.push(Membership::account("c1", "All Staff"));
    TenantData { sources: vec![snapshot], hr: Some(hr) }
}

#[test]
fn drift_rules_fire_where_expected() {
    let found = check(&tenant(DRIFT_POLICY), &drift_data());
    assert_eq!(kinds(&found, FindingKind::GrantOutsideBaseline), vec!["n2", "n3"]);
    assert_eq!(kinds(&found, FindingKind::PrivilegedWithoutRole), vec!["n3"]);
    assert_eq!(kinds(&found, FindingKind::SodConflict), vec!["hr:E3"]);
    assert_eq!(kinds(&found, FindingKind::JobRoleUnknown), vec!["hr:E10"]);
    // Shift Nights: held by 1 of 6 nurses, only a wildcard allows it.
    assert_eq!(kinds(&found, FindingKind::PeerOutlier), vec!["n1"]);
}

#[test]
fn drift_rules_off_without_roles() {
    let found = check(&tenant(""), &drift_data());
    assert!(kinds(&found, FindingKind::GrantOutsideBaseline).is_empty());
    assert!(kinds(&found, FindingKind::JobRoleUnknown).is_empty());
    // Privilege without a role needs no baseline.
    assert_eq!(kinds(&found, FindingKind::PrivilegedWithoutRole), vec!["it1", "n3"]);
    // Without job roles, peers are the people with the same HR job title: one nurse of six
    // works nights.
    assert_eq!(kinds(&found, FindingKind::PeerOutlier), vec!["n1"]);
}

#[test]
fn nested_group_grant_reported_with_path() {
    let policy = "job_roles:\n  nurse:\n    match: { titles: ['Nurse'] }\n    baseline:\n      ldap: ['group:Nursing']\n";
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![worker("E1", "Ann Zee", "ann@t1.example", "Nurse")],
    };
    let mut ldap = SourceSnapshot::new(SourceId::ldap());
    let mut account = Account::new("a1");
    account.employee_id = Some("E1".into());
    ldap.accounts.push(account);
    for name in ["Nursing", "Scribes", "Pharmacy"] {
        ldap.entitlements.push(Entitlement::new(name, EntitlementKind::Group, name));
    }
    ldap.memberships.push(Membership::account("a1", "Nursing"));
    ldap.memberships.push(Membership::nested("Nursing", "Scribes"));
    ldap.memberships.push(Membership::nested("Scribes", "Pharmacy"));
    let evaluation =
        evaluate(&tenant(policy), &TenantData { sources: vec![ldap], hr: Some(hr) }, as_of());
    let outside: Vec<_> = evaluation
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::GrantOutsideBaseline)
        .collect();
    assert_eq!(outside.len(), 2);
    let pharmacy = outside
        .iter()
        .find(|f| f.subject.entitlement.as_ref().unwrap().name == "Pharmacy")
        .unwrap();
    assert_eq!(pharmacy.evidence[0].field, "grant via Nursing > Scribes");
}

#[test]
fn dormant_never_and_unknown() {
    let mut old = entra_user("u1", "old@t1.example", None);
    old.last_sign_in = LastSignIn::At(as_of() - TimeDelta::days(120));
    let mut never_old = entra_user("u2", "never@t1.example", None);
    never_old.last_sign_in = LastSignIn::Never;
    never_old.created_at = Some(as_of() - TimeDelta::days(200));
    let mut never_new = entra_user("u3", "new@t1.example", None);
    never_new.last_sign_in = LastSignIn::Never;
    never_new.created_at = Some(as_of() - TimeDelta::days(3));
    let mut unknown = entra_user("u4", "unknown@t1.example", None);
    unknown.last_sign_in = LastSignIn::Unknown;
    let mut disabled = entra_user("u5", "gone@t1.example", None);
    disabled.last_sign_in = LastSignIn::At(as_of() - TimeDelta::days(400));
    disabled.status = AccountStatus::Disabled;
    let data = TenantData {
        sources: vec![entra_with_admin_role(
            vec![old, never_old, never_new, unknown, disabled],
            &[],
        )],
        hr: None,
    };
    let found = check(&tenant(""), &data);
    assert_eq!(kinds(&found, FindingKind::DormantAccount), vec!["u1"]);
    assert_eq!(kinds(&found, FindingKind::NeverSignedIn), vec!["u2"]);
    assert!(kinds(&found, FindingKind::SigninDataMissing).is_empty());
    let found = check(&tenant("dormancy: { days: 150 }"), &data);
    assert!(kinds(&found, FindingKind::DormantAccount).is_empty());
}

#[test]
fn source_without_signin_data_is_reported_once() {
    let mut ehr = SourceSnapshot::new(SourceId::ehr("eclinicalworks").unwrap());
    ehr.accounts.extend([Account::new("1"), Account::new("2")]);
    let found = check(&tenant(""), &TenantData { sources: vec![ehr], hr: None });
    assert_eq!(kinds(&found, FindingKind::SigninDataMissing), vec!["ehr:eclinicalworks"]);
}

#[test]
fn status_mismatch_orphan_generic_disabled_grants() {
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![worker("E1", "Ann Zee", "ann@t1.example", "Nurse")],
    };
    let entra = entra_with_admin_role(
        vec![
            entra_user("u1", "ann@t1.example", Some("E1")),
            entra_user("u2", "frontdesk@t1.example", None),
            {
                let mut guest = entra_user("u3", "vendor_example.com#EXT#@t1.example", None);
                guest.kind = AccountKind::Guest;
                guest
            },
        ],
        &[],
    );
    let mut athena = SourceSnapshot::new(SourceId::ehr("athenahealth").unwrap());
    let mut blocked = Account::new("annz");
    blocked.employee_id = Some("E1".into());
    blocked.status = AccountStatus::Disabled;
    blocked.status_raw = Some("Blocked: Y".into());
    athena.accounts.push(blocked);
    athena.entitlements.push(Entitlement::new("Front Desk", EntitlementKind::Role, "Front Desk"));
    athena.memberships.push(Membership::account("annz", "Front Desk"));
    let found = check(&tenant(""), &TenantData { sources: vec![entra, athena], hr: Some(hr) });
    assert_eq!(kinds(&found, FindingKind::StatusMismatch), vec!["hr:E1"]);
    assert_eq!(kinds(&found, FindingKind::GenericAccount), vec!["u2"]);
    assert_eq!(kinds(&found, FindingKind::OrphanAccount), vec!["u3"]);
    assert_eq!(kinds(&found, FindingKind::DisabledWithGrants), vec!["annz"]);
}

#[test]
fn ad_markers_make_privileged() {
    let mut ldap = SourceSnapshot::new(SourceId::ldap());
    let mut admin = Account::new("a1");
    admin.markers.push(AccountMarker::AdAdminCount);
    admin.auth_methods = Some(vec![method(phone())]);
    ldap.accounts.push(admin);
    let found = check(&tenant(""), &TenantData { sources: vec![ldap], hr: None });
    assert_eq!(kinds(&found, FindingKind::MfaPrivilegedPhone), vec!["a1"]);
}

#[test]
fn same_input_same_findings() {
    let data = drift_data();
    let first = evaluate(&tenant(DRIFT_POLICY), &data, as_of()).findings;
    let second = evaluate(&tenant(DRIFT_POLICY), &data, as_of()).findings;
    assert_eq!(first, second);
    assert!(!first.is_empty());
}

#[test]
fn epcs_prescriber_is_privileged_unless_policy_says_no() {
    use rollcall_core::model::EpcsStatus;
    let hr = HrSnapshot {
        collected_at: None,
        workers: vec![worker("E1", "Ann Zee", "ann@t1.example", "Physician")],
    };
    let mut entra_account = entra_user("u1", "ann@t1.example", Some("E1"));
    entra_account.auth_methods = Some(vec![method(MethodKind::MicrosoftAuthenticator)]);
    let mut ehr = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    let mut prescriber = Account::new("8812");
    prescriber.employee_id = Some("E1".into());
    prescriber.epcs = Some(EpcsStatus::Enabled);
    ehr.accounts.push(prescriber);
    let data = TenantData {
        sources: vec![entra_with_admin_role(vec![entra_account], &[]), ehr],
        hr: Some(hr),
    };
    assert_eq!(
        kinds(&check(&tenant(""), &data), FindingKind::MfaPrivilegedNotPhishingResistant),
        vec!["u1"]
    );
    let relaxed = check(&tenant("epcs_privileged: false"), &data);
    assert!(kinds(&relaxed, FindingKind::MfaPrivilegedNotPhishingResistant).is_empty());
}

#[test]
fn leaver_with_disabled_accounts_keeps_disabled_with_grants() {
    let mut leaver = worker("E1", "Ann Zee", "ann@t1.example", "Nurse");
    leaver.status = WorkerStatus::Terminated;
    leaver.terminated_at = Some(as_of() - TimeDelta::days(30));
    let mut athena = SourceSnapshot::new(SourceId::ehr("athenahealth").unwrap());
    let mut blocked = Account::new("annz");
    blocked.employee_id = Some("E1".into());
    blocked.status = AccountStatus::Disabled;
    athena.accounts.push(blocked);
    athena.entitlements.push(Entitlement::new("Front Desk", EntitlementKind::Role, "Front Desk"));
    athena.memberships.push(Membership::account("annz", "Front Desk"));
    let found = check(
        &tenant(""),
        &TenantData {
            sources: vec![athena],
            hr: Some(HrSnapshot { collected_at: None, workers: vec![leaver] }),
        },
    );
    assert_eq!(
        found,
        vec![
            (FindingKind::DisabledWithGrants, "annz".to_owned()),
            (FindingKind::SigninDataMissing, "ehr:athenahealth".to_owned())
        ]
    );
}
