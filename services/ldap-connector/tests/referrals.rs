//! Referrals between two slapd servers on loopback: the first contains a subordinate
//! referral entry `ou=Annex` that points at the second. By default the referral is
//! reported and the annex is missing. With `referrals: follow` and the second server
//! listed, its entries join the snapshot, and a listed server that is down fails the sync
//! and publishes nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::{Path, PathBuf};

use rollcall_ingest::ldap::LdapImport;
use rollcall_ldap_connector::config::{DirectoryConfig, OPENLDAP_ATTRIBUTES};
use rollcall_ldap_connector::{
    ReferralPolicy, Stage, SyncError, SyncMetrics, TlsMode, read_directory, sync_once,
};
use rollcall_proto::{SyncOutcome, v1};
use support::bus::TestBus;
use support::seed::{self, ANNEX, CLINIC};
use support::slapd::{SUFFIX, Slapd, SlapdOptions};
use support::{check, directory, within};

/// The two servers and a CA file that trusts both, since each slapd has its own test CA.
struct Servers {
    first: Slapd,
    annex: Slapd,
    ca_file: PathBuf,
}

/// The referral URL as the first server returns it: slapd appends the subtree scope.
fn annex_referral(annex: &Slapd) -> String {
    format!("{}/{ANNEX}??sub", annex.ldaps_url)
}

fn start() -> Servers {
    let reyes = format!("cn=Reyes\\, Ana (Locum),ou=Staff,{CLINIC}");
    let annex = Slapd::start(&seed::annex(&reyes), SlapdOptions::default());
    let first =
        Slapd::start(&seed::harborview_referring(&annex.ldaps_url), SlapdOptions::default());
    let mut pem = std::fs::read(&first.ca_file).unwrap();
    pem.extend(std::fs::read(&annex.ca_file).unwrap());
    let ca_file = first.dir.path().join("both-cas.pem");
    std::fs::write(&ca_file, pem).unwrap();
    Servers { first, annex, ca_file }
}

fn config(servers: &Servers) -> DirectoryConfig {
    directory(&servers.first.ldaps_url, TlsMode::Ldaps, Some(Path::new(&servers.ca_file)))
}

fn following(servers: &Servers) -> DirectoryConfig {
    let mut config = config(servers);
    config.referrals = ReferralPolicy::Follow;
    config.referral_servers = vec![servers.annex.ldaps_url.clone()];
    config
}

fn names(read: &rollcall_ldap_connector::DirectoryRead) -> Vec<&str> {
    read.snapshot.accounts.iter().filter_map(|a| a.display_name.as_deref()).collect()
}

#[tokio::test]
async fn referral_reported_by_default() {
    let servers = start();
    let read =
        within(60, read_directory(&check(config(&servers)), chrono::Utc::now())).await.unwrap();

    let referral = annex_referral(&servers.annex);
    assert!(read.stats.referrals.contains(&referral), "{:?}", read.stats.referrals);
    assert_eq!(read.stats.referrals.len(), 2, "the annex and the unreachable branch");
    assert!(read.stats.followed_referrals.is_empty());
    assert!(!names(&read).contains(&"Odile Varga"), "the annex was read: {:?}", names(&read));
    assert!(!read.snapshot.entitlements.iter().any(|e| e.name == "Annex Front Desk"));
    let warning = read
        .diagnostics
        .iter()
        .find(|d| d.message.contains("referrals that were not followed"))
        .expect("a warning about the referrals");
    assert!(warning.message.contains("referrals: follow"), "{}", warning.message);
}

#[tokio::test]
async fn listed_referral_is_followed() {
    let servers = start();
    let collected_at = chrono::Utc::now();
    let read = within(60, read_directory(&check(following(&servers)), collected_at)).await.unwrap();

    // The annex is merged; the branch server is not listed, so it is reported as before.
    assert_eq!(read.stats.followed_referrals, [annex_referral(&servers.annex)]);
    assert_eq!(read.stats.referrals, [format!("{}??sub", seed::BRANCH_REFERRAL)]);
    for name in ["Odile Varga", "Tomasz Brandt", "Yara Haddad"] {
        assert!(names(&read).contains(&name), "{name} is missing: {:?}", names(&read));
    }
    assert_eq!(read.snapshot.accounts.len(), 51 + 3);
    let front_desk =
        read.snapshot.entitlements.iter().find(|e| e.name == "Annex Front Desk").unwrap();
    let members = read.snapshot.memberships.iter().filter(|m| m.entitlement == front_desk.id);
    assert_eq!(members.count(), 4, "three annex users and one of the first server");

    // The same as a scan of the two servers' exports.
    let mut import = LdapImport::new();
    import
        .add_ldif("ldap/first.ldif", &servers.first.ldapsearch_export(SUFFIX, OPENLDAP_ATTRIBUTES))
        .unwrap();
    import
        .add_ldif("ldap/annex.ldif", &servers.annex.ldapsearch_export(ANNEX, OPENLDAP_ATTRIBUTES))
        .unwrap();
    let (mut scanned, _) = import.finish();
    scanned.collected_at = Some(collected_at);
    assert_eq!(read.snapshot, scanned);
}

#[tokio::test]
async fn referral_to_unlisted_server_is_not_followed() {
    let servers = start();
    let mut config = following(&servers);
    // The same host on another port is another server: a referral must match the scheme,
    // host and port of a listed server.
    config.referral_servers = vec![servers.first.ldaps_url.clone()];
    let read = within(60, read_directory(&check(config), chrono::Utc::now())).await.unwrap();
    assert!(read.stats.followed_referrals.is_empty(), "{:?}", read.stats.followed_referrals);
    assert!(read.stats.referrals.contains(&annex_referral(&servers.annex)));
    assert!(!names(&read).contains(&"Odile Varga"));
}

#[tokio::test]
async fn down_referral_server_fails_sync() {
    let mut servers = start();
    let referral = annex_referral(&servers.annex);
    servers.annex.kill();
    let bus = TestBus::new().await;
    let metrics = SyncMetrics::new();
    let directory = check(following(&servers));

    let error = within(60, read_directory(&directory, chrono::Utc::now())).await.unwrap_err();
    assert!(matches!(error, SyncError::Referral { .. }), "{error}");
    assert_eq!(error.stage(), Stage::Referral);
    assert!(error.to_string().contains(&referral), "{error}");

    let report = within(60, sync_once(&directory, &bus.publisher(), &metrics)).await;
    assert_eq!(report.outcome, SyncOutcome::Failed);
    assert_eq!(report.snapshot_id, None);
    let problem = report.problems.first().expect("a fatal problem");
    assert!(problem.fatal);
    assert_eq!(problem.location.as_deref(), Some("stage referral"), "{}", problem.message);
    assert!(problem.message.contains(&referral), "{}", problem.message);
    assert!(problem.message.contains("cannot connect"), "{}", problem.message);

    let published = bus.published().await;
    assert!(published.chunks.is_empty(), "{} chunks were published", published.chunks.len());
    assert_eq!(published.reports.len(), 1);
    assert_eq!(published.reports[0].outcome, v1::SyncOutcome::Failed as i32);
    let labels = rollcall_ldap_connector::metrics::ErrorLabels {
        tenant: "harborview".to_owned(),
        source: "ldap".to_owned(),
        stage: "referral".to_owned(),
    };
    assert_eq!(metrics.errors.get_or_create(&labels).get(), 1);
    bus.delete().await;
}
