#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

use rollcall_runtime::{ConfigLoader, Secret};

use super::{
    AD_FILTER, ConfigError, ConnectorConfig, DirectoryConfig, Flavor, OPENLDAP_ATTRIBUTES,
    ReferralPolicy, TlsMode, check_all,
};

fn config(url: &str, tls: TlsMode) -> DirectoryConfig {
    DirectoryConfig {
        tenant: "practice-a".to_owned(),
        source: "ldap".to_owned(),
        url: url.to_owned(),
        tls,
        ca_file: Some(PathBuf::from("/etc/rollcall/ca.pem")),
        flavor: Flavor::Openldap,
        bind_dn: "cn=rollcall,dc=clinic,dc=example".to_owned(),
        password: Secret::new("pw"),
        base_dn: "dc=clinic,dc=example".to_owned(),
        filter: None,
        attributes: None,
        page_size: 500,
        connect_timeout_seconds: 10,
        operation_timeout_seconds: 60,
        interval_seconds: 3600,
        jitter_seconds: 300,
        follow_groups_outside_base: true,
        member_range_size: None,
        referrals: ReferralPolicy::Report,
        referral_servers: Vec::new(),
    }
}

#[test]
fn url_scheme_matches_tls_mode() {
    let error = config("ldap://dc01:389", TlsMode::Ldaps).check().unwrap_err();
    assert!(matches!(error, ConfigError::Scheme { scheme: "ldaps://", .. }), "{error}");
    let error = config("ldaps://dc01:636", TlsMode::Starttls).check().unwrap_err();
    assert!(matches!(error, ConfigError::Scheme { scheme: "ldap://", .. }), "{error}");
    let error = config("ldaps://dc01:636", TlsMode::Insecure).check().unwrap_err();
    assert!(matches!(error, ConfigError::Scheme { .. }), "{error}");
    assert!(config("LDAPS://dc01:636", TlsMode::Ldaps).check().is_ok());
}

#[test]
fn tls_requires_ca_file() {
    let mut without = config("ldaps://dc01", TlsMode::Ldaps);
    without.ca_file = None;
    assert!(matches!(without.check().unwrap_err(), ConfigError::MissingCa { .. }));
    let insecure = config("ldap://dc01", TlsMode::Insecure).check().unwrap();
    assert_eq!(insecure.ca_file, None);
}

#[test]
fn flavor_defaults_and_filter_check() {
    let mut ad = config("ldaps://dc01", TlsMode::Ldaps);
    ad.flavor = Flavor::ActiveDirectory;
    let ad = ad.check().unwrap();
    assert_eq!(ad.filter, AD_FILTER);
    assert!(ad.attributes.iter().any(|a| a == "msDS-User-Account-Control-Computed"));
    let openldap = config("ldaps://ldap1", TlsMode::Ldaps).check().unwrap();
    assert_eq!(openldap.attributes, OPENLDAP_ATTRIBUTES);

    let mut bad = config("ldaps://dc01", TlsMode::Ldaps);
    bad.filter = Some("(cn=Reyes (Locum))".to_owned());
    assert!(matches!(bad.check().unwrap_err(), ConfigError::Filter { .. }));
    let mut escaped = config("ldaps://dc01", TlsMode::Ldaps);
    escaped.filter = Some(rollcall_ingest::ldap::filter::equality("cn", "Reyes (Locum)"));
    assert!(escaped.check().is_ok());
}

#[test]
fn sources_tenants_and_numbers_are_checked() {
    let mut source = config("ldaps://dc01", TlsMode::Ldaps);
    source.source = "entra".to_owned();
    assert!(matches!(source.check().unwrap_err(), ConfigError::Source { .. }));
    let mut tenant = config("ldaps://dc01", TlsMode::Ldaps);
    tenant.tenant = "Practice.A".to_owned();
    assert!(matches!(tenant.check().unwrap_err(), ConfigError::Tenant { .. }));
    let mut zero = config("ldaps://dc01", TlsMode::Ldaps);
    zero.page_size = 0;
    assert!(matches!(zero.check().unwrap_err(), ConfigError::Zero { key: "page_size", .. }));
    let mut huge = config("ldaps://dc01", TlsMode::Ldaps);
    huge.page_size = u32::MAX;
    assert!(matches!(huge.check().unwrap_err(), ConfigError::PageSize { .. }));
}

#[test]
fn duplicate_source_is_rejected() {
    let error = check_all(vec![
        config("ldaps://dc01", TlsMode::Ldaps),
        config("ldaps://dc02", TlsMode::Ldaps),
    ])
    .unwrap_err();
    assert!(matches!(error, ConfigError::Duplicate { .. }), "{error}");
    let mut second = config("ldaps://dc02", TlsMode::Ldaps);
    second.source = "ldap:north".to_owned();
    assert_eq!(check_all(vec![config("ldaps://dc01", TlsMode::Ldaps), second]).unwrap().len(), 2);
}

#[test]
fn file_config_reads_password_file() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("bind-password");
    std::fs::write(&password, "from-a-file\n").unwrap();
    let file = dir.path().join("ldap-connector.yaml");
    std::fs::write(
        &file,
        format!(
            "nats:\n  url: nats://127.0.0.1:4222\ndirectories:\n  - tenant: practice-a\n    url: ldaps://dc01.clinic.example\n    tls: ldaps\n    ca_file: /etc/rollcall/ca.pem\n    flavor: active_directory\n    bind_dn: svc-rollcall@clinic.example\n    password_file: {}\n    base_dn: DC=clinic,DC=example\n",
            password.display()
        ),
    )
    .unwrap();
    let loaded = ConfigLoader::new().file(&file).load::<ConnectorConfig>().unwrap();
    let directories = check_all(loaded.config.directories).unwrap();
    assert_eq!(directories[0].password.expose_str(), Some("from-a-file"));
    assert_eq!(directories[0].page_size, 500);

    std::fs::write(&file, "nats:\n  url: x\ndirectories:\n  - tenant: a\n    urll: ldaps://x\n")
        .unwrap();
    let error = ConfigLoader::new().file(&file).load::<ConnectorConfig>().unwrap_err();
    assert!(error.to_string().contains("directories"), "{error}");
}

#[test]
fn member_range_size_requests_first_range() {
    let mut ad = config("ldaps://dc01", TlsMode::Ldaps);
    ad.flavor = Flavor::ActiveDirectory;
    ad.member_range_size = Some(500);
    let ad = ad.check().unwrap();
    assert!(ad.attributes.iter().any(|a| a == "member;range=0-499"), "{:?}", ad.attributes);
    assert!(!ad.attributes.iter().any(|a| a.eq_ignore_ascii_case("member")));
    assert_eq!(ad.member_range_size, Some(500));

    // `*` lists no `member`, so the ranged description is added beside it.
    let mut openldap = config("ldaps://ldap1", TlsMode::Ldaps);
    openldap.member_range_size = Some(1);
    let openldap = openldap.check().unwrap();
    assert_eq!(openldap.attributes.last().map(String::as_str), Some("member;range=0-0"));

    let mut zero = config("ldaps://dc01", TlsMode::Ldaps);
    zero.member_range_size = Some(0);
    assert!(matches!(zero.check().unwrap_err(), ConfigError::RangeSize { .. }));
    let unset = config("ldaps://dc01", TlsMode::Ldaps).check().unwrap();
    assert_eq!(unset.member_range_size, None);
}

#[test]
fn referral_servers_are_checked() {
    let mut follow = config("ldaps://dc01", TlsMode::Ldaps);
    follow.referrals = ReferralPolicy::Follow;
    assert!(matches!(follow.clone().check().unwrap_err(), ConfigError::NoReferralServers { .. }));

    follow.referral_servers = vec!["ldap://dc02:389".to_owned()];
    let error = follow.clone().check().unwrap_err();
    assert!(matches!(error, ConfigError::ReferralServer { scheme: "ldaps://", .. }), "{error}");
    follow.referral_servers = vec!["ldaps://dc02:99999".to_owned()];
    let error = follow.clone().check().unwrap_err();
    assert!(error.to_string().contains("invalid port `99999`"), "{error}");
    follow.referral_servers = vec!["ldaps://dc02/ou=Branch,dc=clinic,dc=example".to_owned()];
    assert!(matches!(follow.clone().check().unwrap_err(), ConfigError::ReferralServer { .. }));

    follow.referral_servers = vec!["LDAPS://DC02.Clinic.Example/".to_owned()];
    let checked = follow.check().unwrap();
    let (address, url) = &checked.referral_servers[0];
    assert_eq!(address.host, "dc02.clinic.example");
    assert_eq!(address.port, 636);
    assert_eq!(url, "LDAPS://DC02.Clinic.Example");

    let mut unused = config("ldaps://dc01", TlsMode::Ldaps);
    unused.referral_servers = vec!["ldaps://dc02".to_owned()];
    assert!(matches!(unused.check().unwrap_err(), ConfigError::ReferralServersUnused { .. }));
}
