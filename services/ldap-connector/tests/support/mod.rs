//! Shared set-up of the tests that run against a real slapd and NATS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]
#![allow(dead_code, reason = "each test file uses a different part of the support module")]

pub mod bus;
pub mod samba;
pub mod seed;
pub mod slapd;

use std::path::Path;
use std::time::Duration;

use rollcall_ldap_connector::Directory;
use rollcall_ldap_connector::config::{DirectoryConfig, Flavor, ReferralPolicy, TlsMode};
use rollcall_runtime::Secret;

use slapd::{SERVICE_DN, SERVICE_PASSWORD, SUFFIX};

/// Builds a directory configuration for the test server, with short timeouts.
pub fn directory(url: &str, tls: TlsMode, ca_file: Option<&Path>) -> DirectoryConfig {
    DirectoryConfig {
        tenant: "harborview".to_owned(),
        source: "ldap".to_owned(),
        url: url.to_owned(),
        tls,
        ca_file: ca_file.map(Path::to_path_buf),
        flavor: Flavor::Openldap,
        bind_dn: SERVICE_DN.to_owned(),
        password: Secret::new(SERVICE_PASSWORD),
        base_dn: SUFFIX.to_owned(),
        filter: None,
        attributes: None,
        page_size: 20,
        connect_timeout_seconds: 5,
        operation_timeout_seconds: 10,
        interval_seconds: 3600,
        jitter_seconds: 0,
        follow_groups_outside_base: true,
        member_range_size: None,
        referrals: ReferralPolicy::Report,
        referral_servers: Vec::new(),
    }
}

/// Checks a configuration the test built.
pub fn check(config: DirectoryConfig) -> Directory {
    config.check().expect("valid test configuration")
}

/// Runs a future with a deadline, so a hung connection fails the test instead of CI.
pub async fn within<F: std::future::Future>(seconds: u64, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .expect("the operation finished in time")
}
