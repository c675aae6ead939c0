//! Syncs against a real slapd: TLS modes, the equality with a scan of an ldapsearch
//! export, nested and outside-base groups, and the faults each sync must report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::model::{AccountStatus, Member};
use rollcall_ingest::ldap::LdapImport;
use rollcall_ldap_connector::config::OPENLDAP_ATTRIBUTES;
use rollcall_ldap_connector::{SyncError, TlsMode, read_directory};
use support::seed::{self, CLINIC};
use support::slapd::{SUFFIX, ServerCert, Slapd, SlapdOptions};
use support::{check, directory, within};

fn start() -> Slapd {
    Slapd::start(&seed::harborview(), SlapdOptions::default())
}

#[tokio::test]
async fn live_sync_equals_export_scan() {
    let slapd = start();
    let config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    let collected_at = chrono::Utc::now();
    let live = within(60, read_directory(&check(config), collected_at)).await.unwrap();

    let export = slapd.ldapsearch_export(SUFFIX, OPENLDAP_ATTRIBUTES);
    let mut import = LdapImport::new();
    import.add_ldif("ldap/directory.ldif", &export).unwrap();
    let (mut scanned, _) = import.finish();
    scanned.collected_at = Some(collected_at);

    // 49 example users and the two additions; 9 groups with Partner Billing.
    assert_eq!(live.snapshot.accounts.len(), 51, "{:?}", live.diagnostics);
    assert_eq!(live.snapshot.entitlements.len(), 9);
    assert!(live.stats.pages > 1, "page size 20 needs several pages");
    assert_eq!(live.snapshot, scanned);
}

#[tokio::test]
async fn mapping_keeps_names_locks_nesting() {
    let slapd = start();
    let config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    let read = within(60, read_directory(&check(config), chrono::Utc::now())).await.unwrap();
    let snapshot = &read.snapshot;

    let display_names: Vec<&str> =
        snapshot.accounts.iter().filter_map(|a| a.display_name.as_deref()).collect();
    assert!(display_names.contains(&"Reyes, Ana (Locum)"), "{display_names:?}");
    assert!(display_names.contains(&"Zoë Ångström-Núñez"), "{display_names:?}");
    let disabled = snapshot.accounts.iter().filter(|a| a.status == AccountStatus::Disabled).count();
    assert_eq!(disabled, 4, "the example has four accounts with ACCOUNTDISABLE");

    let id_of = |name: &str| {
        snapshot.entitlements.iter().find(|e| e.name == name).map(|e| e.id.clone()).unwrap()
    };
    let (clinical, nursing) = (id_of("Clinical Staff"), id_of("Nursing"));
    let nested = |parent: &_, child: &_| {
        snapshot.memberships.iter().any(|m| {
            m.entitlement == *parent && matches!(&m.member, Member::Entitlement(id) if id == child)
        })
    };
    assert!(nested(&clinical, &nursing), "Nursing is nested in Clinical Staff");
    assert!(nested(&nursing, &clinical), "and the seed closes the cycle");

    // The referral is reported as a warning, not followed. slapd appends the scope.
    assert_eq!(read.stats.referrals, [format!("{}??sub", seed::BRANCH_REFERRAL)]);
    let warning = read
        .diagnostics
        .iter()
        .find(|d| d.message.contains(seed::BRANCH_REFERRAL))
        .expect("a warning about the referral");
    assert_eq!(warning.level, rollcall_ingest::Level::Warning);
}

#[tokio::test]
async fn starttls_insecure_match_ldaps() {
    let slapd = start();
    let at = chrono::Utc::now();
    let ldaps = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    let starttls = directory(&slapd.ldap_url, TlsMode::Starttls, Some(&slapd.ca_file));
    let insecure = directory(&slapd.ldap_url, TlsMode::Insecure, None);
    let ldaps = within(60, read_directory(&check(ldaps), at)).await.unwrap();
    let starttls = within(60, read_directory(&check(starttls), at)).await.unwrap();
    let insecure = within(60, read_directory(&check(insecure), at)).await.unwrap();
    assert_eq!(ldaps.snapshot, starttls.snapshot);
    assert_eq!(ldaps.snapshot, insecure.snapshot);
}

#[tokio::test]
async fn outside_groups_read_once_in_cycle() {
    let slapd = start();
    let mut config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.base_dn = CLINIC.to_owned();
    let read =
        within(60, read_directory(&check(config.clone()), chrono::Utc::now())).await.unwrap();
    assert_eq!(read.stats.outside_groups, 1);
    assert!(read.snapshot.entitlements.iter().any(|e| e.name == "Partner Billing"));

    config.follow_groups_outside_base = false;
    let read = within(60, read_directory(&check(config), chrono::Utc::now())).await.unwrap();
    assert_eq!(read.stats.outside_groups, 0);
    assert!(!read.snapshot.entitlements.iter().any(|e| e.name == "Partner Billing"));
}

#[tokio::test]
async fn wrong_password_fails_bind() {
    let slapd = start();
    let mut config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.password = rollcall_runtime::Secret::new("not-the-password");
    let error = within(30, read_directory(&check(config), chrono::Utc::now())).await.unwrap_err();
    assert!(matches!(error, SyncError::Bind { rc: 49, .. }), "{error}");
    assert!(error.to_string().contains("password file"), "{error}");
}

#[tokio::test]
async fn untrusted_certificate_is_rejected() {
    let slapd = start();
    for (url, mode) in [(&slapd.ldaps_url, TlsMode::Ldaps), (&slapd.ldap_url, TlsMode::Starttls)] {
        let config = directory(url, mode, Some(&slapd.other_ca_file));
        let error =
            within(30, read_directory(&check(config), chrono::Utc::now())).await.unwrap_err();
        assert!(matches!(error, SyncError::Connect { .. }), "{mode:?}: {error}");
        assert!(error.to_string().contains("UnknownIssuer"), "{mode:?}: {error}");
    }
}

#[tokio::test]
async fn expired_certificate_is_rejected() {
    let slapd = Slapd::start(
        &seed::harborview(),
        SlapdOptions { cert: ServerCert::Expired, ..SlapdOptions::default() },
    );
    let config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    let error = within(30, read_directory(&check(config), chrono::Utc::now())).await.unwrap_err();
    assert!(matches!(error, SyncError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("certificate expired"), "{error}");
}

#[tokio::test]
async fn size_limit_fails_sync() {
    let slapd = Slapd::start(
        &seed::harborview(),
        SlapdOptions { size_limit: Some(10), ..SlapdOptions::default() },
    );
    let config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    let error = within(30, read_directory(&check(config), chrono::Utc::now())).await.unwrap_err();
    assert!(matches!(error, SyncError::SearchResult { rc: 4, .. }), "{error}");
    assert!(error.to_string().contains("size limit"), "{error}");
}

#[tokio::test]
async fn missing_ca_file_fails_tls() {
    let slapd = start();
    let missing = slapd.dir.path().join("no-such-ca.pem");
    let config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&missing));
    let error = within(30, read_directory(&check(config), chrono::Utc::now())).await.unwrap_err();
    assert!(matches!(error, SyncError::CaFile { .. }), "{error}");
    assert!(error.to_string().contains("no-such-ca.pem"), "{error}");
}

#[tokio::test]
async fn five_thousand_users_match_export() {
    let slapd = Slapd::start(&seed::generated(5000, 3000), SlapdOptions::default());
    let mut config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.page_size = 500;
    let collected_at = chrono::Utc::now();
    let live = within(120, read_directory(&check(config), collected_at)).await.unwrap();

    let export = slapd.ldapsearch_export(SUFFIX, OPENLDAP_ATTRIBUTES);
    let mut import = LdapImport::new();
    import.add_ldif("ldap/directory.ldif", &export).unwrap();
    let (mut scanned, _) = import.finish();
    scanned.collected_at = Some(collected_at);

    assert_eq!(live.snapshot.accounts.len(), 5000);
    // All Staff, ten departments and their parent.
    assert_eq!(live.snapshot.entitlements.len(), 12);
    assert_eq!(live.stats.pages, 11, "5,012 entries in pages of 500");
    let all_staff = live.snapshot.entitlements.iter().find(|e| e.name == "All Staff").unwrap();
    let members =
        live.snapshot.memberships.iter().filter(|m| m.entitlement == all_staff.id).count();
    assert_eq!(members, 3000);
    let disabled =
        live.snapshot.accounts.iter().filter(|a| a.status == AccountStatus::Disabled).count();
    assert_eq!(disabled, 500);
    assert_eq!(live.snapshot, scanned);
}

/// Accepts connections on loopback and never writes a byte.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (address, task)
}

#[tokio::test]
async fn silent_server_times_out() {
    let (address, server) = silent_server().await;
    let certificates = tempfile::tempdir().unwrap();
    let (ca_file, _) = support::slapd::write_certificates(certificates.path(), ServerCert::Valid);

    let mut plain = directory(&format!("ldap://{address}"), TlsMode::Insecure, None);
    plain.operation_timeout_seconds = 1;
    let error = within(30, read_directory(&check(plain), chrono::Utc::now())).await.unwrap_err();
    assert_eq!(error.stage(), rollcall_ldap_connector::Stage::Bind, "{error}");
    assert!(error.to_string().contains("no answer within 1 s"), "{error}");

    for (url, mode) in [
        (format!("ldaps://{address}"), TlsMode::Ldaps),
        (format!("ldap://{address}"), TlsMode::Starttls),
    ] {
        let mut config = directory(&url, mode, Some(&ca_file));
        config.connect_timeout_seconds = 1;
        let error =
            within(30, read_directory(&check(config), chrono::Utc::now())).await.unwrap_err();
        assert!(matches!(error, SyncError::ConnectTimeout { seconds: 1, .. }), "{mode:?}: {error}");
    }
    server.abort();
}
