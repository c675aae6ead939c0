//! LDAP remediation against a slapd the test starts: the ppolicy lock attribute and
//! Active Directory's `userAccountControl` bit, each read back after the run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
#[path = "../../ldap-connector/tests/support/mod.rs"]
mod ldap_support;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use common::{TENANT, at, remediation_actions, switch, target};
use ldap_support::seed::{self, CLINIC};
use ldap_support::slapd::{
    ADMIN_DN, ADMIN_PASSWORD, Slapd, SlapdOptions, WRITER_DN, WRITER_PASSWORD, writer_entry,
};
use rollcall_core::model::SourceId;
use rollcall_entra_connector::HttpTransport;
use rollcall_ldap_connector::Directory;
use rollcall_ldap_connector::client::Session;
use rollcall_ldap_connector::config::TlsMode;
use rollcall_remediation::{
    Executor, LdapAccess, LdapDisable, Mode, OutcomeKind, ReviewGrant, Revoke, TaskState, plan,
    plan_revokes,
};
use rollcall_runtime::Secret;
use support::TestDb;
use support::fixtures::add_tenant;

/// An enabled user of the seeded directory whose name needs RFC 4514 escaping.
fn reyes_dn() -> String {
    format!("cn=Reyes\\, Ana (Locum),ou=Staff,{CLINIC}")
}

/// Active Directory's `userAccountControl` (its own attribute OID) on an auxiliary class
/// under the example enterprise number of RFC 5612, so slapd can hold the attribute.
const AD_SCHEMA: &str = "attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.1 NAME 'rollcallTestAdAccount' AUXILIARY
    MAY userAccountControl )
";

/// An AD-style account: NORMAL_ACCOUNT (0x200) and DONT_EXPIRE_PASSWORD (0x10000).
fn ad_leaver_dn() -> String {
    format!("cn=Ad Leaver,ou=Staff,{CLINIC}")
}

fn ad_seed() -> String {
    let mut text = seed::harborview();
    text.push_str(&format!(
        "\ndn: {}\nobjectClass: inetOrgPerson\nobjectClass: rollcallTestAdAccount\ncn: Ad Leaver\nsn: Leaver\nuid: adleaver\nuserAccountControl: 66048\n\n",
        ad_leaver_dn()
    ));
    text
}

/// The test server over LDAPS with its CA pinned, bound as the administrator, which may
/// write; the connector's service account may only read.
fn writer(slapd: &Slapd) -> Directory {
    let mut config =
        ldap_support::directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.bind_dn = ADMIN_DN.to_owned();
    config.password = Secret::new(ADMIN_PASSWORD);
    ldap_support::check(config)
}

/// Returns the test server bound as the remediation account of the onboarding guide, which
/// may write only the staff's `pwdAccountLockedTime` and the groups' members.
fn least_privilege(slapd: &Slapd) -> Directory {
    let mut config =
        ldap_support::directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.bind_dn = WRITER_DN.to_owned();
    config.password = Secret::new(WRITER_PASSWORD);
    ldap_support::check(config)
}

/// Returns every value of `attribute` of the entry `dn`, read as the administrator.
async fn read_values(slapd: &Slapd, dn: &str, attribute: &str) -> Vec<String> {
    let mut session = Session::open(&writer(slapd)).await.unwrap();
    let entry = session.read_base(dn, &[attribute.to_owned()]).await.unwrap().unwrap();
    session.close().await;
    entry.values(attribute).iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}

async fn read_value(directory: &Directory, dn: &str, attribute: &str) -> Option<String> {
    let mut session = Session::open(directory).await.unwrap();
    let entry = session.read_base(dn, &[attribute.to_owned()]).await.unwrap().unwrap();
    session.close().await;
    entry.values(attribute).first().map(|v| String::from_utf8_lossy(v).into_owned())
}

#[tokio::test]
async fn enforce_locks_openldap_account() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let directory = writer(&slapd);
    let dn = reyes_dn();
    assert_eq!(read_value(&directory, &dn, "pwdAccountLockedTime").await, None);

    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ldap"]).await;
    let actions = plan(&[target("ldap", &dn, "areyes")], &settings);
    let disable = LdapDisable::Attribute {
        attribute: "pwdAccountLockedTime".into(),
        value: "000001010000Z".into(),
    };
    let mut executor = Executor::<HttpTransport>::new(scope.clone())
        .with_ldap(SourceId::ldap(), LdapAccess { directory: directory.clone(), disable });

    let outcomes =
        ldap_support::within(30, executor.run(&actions, settings.mode, at(1))).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Done, "{}", slapd.log());
    assert_eq!(
        read_value(&directory, &dn, "pwdAccountLockedTime").await.as_deref(),
        Some("000001010000Z")
    );

    let outcomes =
        ldap_support::within(30, executor.run(&actions, settings.mode, at(2))).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::AlreadyCarriedOut(TaskState::Done));
    assert_eq!(remediation_actions(&scope).await, ["remediation.planned", "remediation.done"]);
    common::assert_chain_intact(&scope).await;
}

/// With only the access the onboarding guide gives the remediation account on OpenLDAP,
/// remediation locks a leaver's account and removes a membership revoked in a review.
#[tokio::test]
async fn least_privilege_account_locks_and_removes() {
    let slapd = Slapd::start(&(seed::harborview() + &writer_entry()), SlapdOptions::default());
    let directory = least_privilege(&slapd);
    let dn = reyes_dn();
    let group = format!("cn=Clinical Staff,ou=Groups,{CLINIC}");
    let before = read_values(&slapd, &group, "member").await;
    assert!(before.contains(&dn), "the seed makes Reyes a member of Clinical Staff");

    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ldap"]).await;
    let mut actions = plan(&[target("ldap", &dn, "areyes")], &settings);
    let revoke = Revoke {
        target: target("ldap", &dn, "areyes"),
        grant: ReviewGrant {
            entitlement_id: group.clone(),
            campaign_id: uuid::Uuid::new_v4(),
            item_id: 1,
        },
        entitlement_name: "Clinical Staff".into(),
        removable: true,
    };
    actions.extend(plan_revokes(&[revoke], &settings));
    let disable = LdapDisable::Attribute {
        attribute: "pwdAccountLockedTime".into(),
        value: "000001010000Z".into(),
    };
    let mut executor = Executor::<HttpTransport>::new(scope.clone())
        .with_ldap(SourceId::ldap(), LdapAccess { directory, disable });

    let outcomes =
        ldap_support::within(30, executor.run(&actions, settings.mode, at(1))).await.unwrap();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].kind, OutcomeKind::Done, "lock: {}", slapd.log());
    assert_eq!(outcomes[1].kind, OutcomeKind::Done, "membership: {}", slapd.log());
    assert_eq!(read_values(&slapd, &dn, "pwdAccountLockedTime").await, ["000001010000Z"]);
    let after = read_values(&slapd, &group, "member").await;
    assert!(!after.contains(&dn), "{after:?}");
    assert_eq!(after.len(), before.len() - 1, "only Reyes left the group: {after:?}");
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn enforce_sets_account_disable_bit() {
    let slapd = Slapd::start(
        &ad_seed(),
        SlapdOptions { extra_schema: Some(AD_SCHEMA), ..SlapdOptions::default() },
    );
    let directory = writer(&slapd);
    let dn = ad_leaver_dn();
    assert_eq!(read_value(&directory, &dn, "userAccountControl").await.as_deref(), Some("66048"));

    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ldap"]).await;
    let targets = [
        target("ldap", &dn, "adleaver"),
        target("ldap", &format!("cn=Nobody,ou=Staff,{CLINIC}"), "nobody"),
        target("ldap", &reyes_dn(), "areyes"),
    ];
    let actions = plan(&targets, &settings);
    let mut executor = Executor::<HttpTransport>::new(scope.clone()).with_ldap(
        SourceId::ldap(),
        LdapAccess { directory: directory.clone(), disable: LdapDisable::ActiveDirectory },
    );

    let outcomes =
        ldap_support::within(30, executor.run(&actions, settings.mode, at(1))).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Done, "{}", slapd.log());
    // 66048 | 0x2: only ACCOUNTDISABLE is added.
    assert_eq!(read_value(&directory, &dn, "userAccountControl").await.as_deref(), Some("66050"));

    let OutcomeKind::Failed(missing) = &outcomes[1].kind else {
        panic!("expected a failure, got {:?}", outcomes[1].kind);
    };
    assert!(missing.contains("does not exist"), "{missing}");
    let OutcomeKind::Failed(no_uac) = &outcomes[2].kind else {
        panic!("expected a failure, got {:?}", outcomes[2].kind);
    };
    assert!(no_uac.contains("no userAccountControl"), "{no_uac}");

    let entries = common::audit(&scope).await;
    let done = entries.iter().find(|r| r.action == "remediation.done").unwrap();
    assert!(done.detail.contains("\"user_account_control\":66050"), "{}", done.detail);
    assert!(done.detail.contains("\"user_account_control_before\":66048"), "{}", done.detail);
    assert_eq!(entries.iter().filter(|r| r.action == "remediation.failed").count(), 2);
    common::assert_chain_intact(&scope).await;
}

#[tokio::test]
async fn dry_run_leaves_directory_alone() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let directory = writer(&slapd);
    let dn = reyes_dn();

    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::DryRun, &["ldap"]).await;
    let actions = plan(&[target("ldap", &dn, "areyes")], &settings);
    let disable = LdapDisable::Attribute {
        attribute: "pwdAccountLockedTime".into(),
        value: "000001010000Z".into(),
    };
    let mut executor = Executor::<HttpTransport>::new(scope.clone())
        .with_ldap(SourceId::ldap(), LdapAccess { directory: directory.clone(), disable });

    let outcomes =
        ldap_support::within(30, executor.run(&actions, settings.mode, at(1))).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::DryRun);
    assert_eq!(read_value(&directory, &dn, "pwdAccountLockedTime").await, None);
    assert_eq!(remediation_actions(&scope).await, ["remediation.planned", "remediation.dry_run"]);
}
