//! Active Directory remediation against a Samba AD domain controller the test provisions
//! on loopback: the ACCOUNTDISABLE bit set through a read-modify-write and read back.

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

use common::{TENANT, at, switch, target};
use ldap_support::samba::{ADMIN, ADMIN_PASSWORD, BASE, SambaDc};
use rollcall_core::model::SourceId;
use rollcall_entra_connector::HttpTransport;
use rollcall_ldap_connector::client::Session;
use rollcall_ldap_connector::{Directory, Flavor, TlsMode};
use rollcall_remediation::{Executor, LdapAccess, LdapDisable, Mode, OutcomeKind, plan};
use rollcall_runtime::Secret;
use support::TestDb;
use support::fixtures::add_tenant;

fn clinic() -> String {
    format!("OU=Clinic,{BASE}")
}

/// Two leavers: `userAccountControl` 544 is a normal account without a required
/// password, 546 the same account already disabled.
fn seed() -> String {
    let clinic = clinic();
    format!(
        "dn: {clinic}
objectClass: organizationalUnit

dn: CN=Reyes\\, Ana (Locum),{clinic}
objectClass: user
sAMAccountName: areyes
employeeID: E1901
userAccountControl: 544

dn: CN=Harriet Nwachukwu,{clinic}
objectClass: user
sAMAccountName: hnwachukwu
employeeID: E1011
userAccountControl: 546
"
    )
}

/// The domain controller over LDAPS with the test CA pinned, bound as the administrator.
fn writer(dc: &SambaDc) -> Directory {
    let mut config = ldap_support::directory(&dc.ldaps_url, TlsMode::Ldaps, Some(&dc.ca_file));
    config.flavor = Flavor::ActiveDirectory;
    config.bind_dn = ADMIN.to_owned();
    config.password = Secret::new(ADMIN_PASSWORD);
    config.base_dn = BASE.to_owned();
    ldap_support::check(config)
}

async fn user_account_control(directory: &Directory, dn: &str) -> String {
    let mut session = Session::open(directory).await.unwrap();
    let entry = session.read_base(dn, &["userAccountControl".to_owned()]).await.unwrap().unwrap();
    session.close().await;
    String::from_utf8_lossy(&entry.values("userAccountControl")[0]).into_owned()
}

#[tokio::test]
async fn samba_account_disable_bit() {
    let dc = SambaDc::start();
    dc.add(&seed());
    let directory = writer(&dc);
    let reyes = format!("CN=Reyes\\, Ana (Locum),{}", clinic());
    let harriet = format!("CN=Harriet Nwachukwu,{}", clinic());
    assert_eq!(user_account_control(&directory, &reyes).await, "544");

    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, TENANT).await;
    let scope = common::scope(&store);
    let settings = switch(&scope, Mode::Enforce, &["ldap"]).await;
    let actions = plan(
        &[target("ldap", &reyes, "areyes"), target("ldap", &harriet, "hnwachukwu")],
        &settings,
    );
    let mut executor = Executor::<HttpTransport>::new(scope.clone()).with_ldap(
        SourceId::ldap(),
        LdapAccess { directory: directory.clone(), disable: LdapDisable::ActiveDirectory },
    );

    let outcomes =
        ldap_support::within(60, executor.run(&actions, settings.mode, at(1))).await.unwrap();
    assert_eq!(outcomes[0].kind, OutcomeKind::Done, "{}", dc.log());
    assert_eq!(outcomes[1].kind, OutcomeKind::Done);
    assert_eq!(user_account_control(&directory, &reyes).await, "546");
    assert_eq!(user_account_control(&directory, &harriet).await, "546");

    let entries = common::audit(&scope).await;
    let done: Vec<_> = entries.iter().filter(|r| r.action == "remediation.done").collect();
    assert_eq!(done.len(), 2);
    assert!(done[0].detail.contains("\"user_account_control_before\":544"), "{}", done[0].detail);
    assert!(done[1].detail.contains("\"already_disabled\":true"), "{}", done[1].detail);
    common::assert_chain_intact(&scope).await;
}
