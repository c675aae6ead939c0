//! The engine's configuration, loaded through `rollcall-runtime` (file, then
//! `ROLLCALL_*` variables, then `--set` flags). `docs/services/engine.md` lists every key.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
pub use rollcall_bus::NatsConfig;
pub use rollcall_reviews::mail::MailConfig;
use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, Secret, TelemetryConfig};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The ops server.
    #[serde(default)]
    pub ops: OpsConfig,
    /// The grace period after SIGTERM.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// NATS JetStream: the server, credentials, TLS and bus names shared by every service.
    pub nats: NatsConfig,
    /// PostgreSQL, the system of record.
    pub postgres: PostgresConfig,
    /// Redis, for rebuildable state only.
    #[serde(default)]
    pub redis: RedisConfig,
    /// The engine's own settings.
    #[serde(default)]
    pub engine: EngineSettings,
    /// SMTP for review reminders and escalations; without it no mail is sent.
    #[serde(default)]
    pub mail: Option<MailConfig>,
    /// Write credentials for leaver remediation and review revokes, per tenant.
    #[serde(default)]
    pub remediation: RemediationConfig,
}

/// `remediation.*`: the credentials remediation writes with, per tenant. Whether a tenant
/// remediates at all, and in which mode, is the tenant's `remediation_settings` row in
/// the store; this section only gives the engine the means.
///
/// The connectors' service accounts only read. Remediation writes (disables accounts,
/// removes group members), so it gets its own app registration and bind account, held by
/// the engine alone: a compromised connector cannot change a directory, and each
/// credential can be revoked on its own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationConfig {
    /// Per tenant id, the write access of its sources.
    #[serde(default)]
    pub tenants: std::collections::BTreeMap<String, TenantRemediationConfig>,
}

/// `remediation.tenants.<tenant>`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantRemediationConfig {
    /// The Entra ID app that may disable users and remove group members.
    #[serde(default)]
    pub entra: Option<EntraWriteConfig>,
    /// The LDAP or Active Directory account that may disable accounts and remove group
    /// members.
    #[serde(default)]
    pub ldap: Option<LdapWriteConfig>,
}

/// `remediation.tenants.<tenant>.entra`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntraWriteConfig {
    /// The source id the app acts on.
    #[serde(default = "default_entra_source")]
    pub source: String,
    /// The Entra directory (tenant) id or a verified domain of it.
    pub directory_id: String,
    /// The application (client) id of the write app.
    pub client_id: String,
    /// A file holding the client secret and nothing else.
    #[serde(default)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// A PEM file with the certificate's private key and the certificate, instead of a
    /// secret.
    #[serde(default)]
    pub certificate_file: Option<std::path::PathBuf>,
    /// The Microsoft identity platform, without a trailing slash.
    #[serde(default = "default_authority_url")]
    pub authority_url: String,
    /// Microsoft Graph, without a trailing slash and without `/v1.0`.
    #[serde(default = "default_graph_url")]
    pub graph_url: String,
}

/// How an LDAP account is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableMethod {
    /// Set the ACCOUNTDISABLE bit of `userAccountControl` (Active Directory, Samba AD).
    ActiveDirectory,
    /// Replace `disable_attribute` with `disable_value` (OpenLDAP and others).
    Attribute,
}

/// `remediation.tenants.<tenant>.ldap`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapWriteConfig {
    /// The source id the account acts on: `ldap`, or `ldap:<instance>`.
    #[serde(default = "default_ldap_source")]
    pub source: String,
    /// `ldaps://host:636` or `ldap://host:389`.
    pub url: String,
    /// `ldaps`, `starttls` or `insecure`. Without it, `ldaps://` URLs use `ldaps` and
    /// `ldap://` URLs `starttls`, so TLS is on unless switched off by name.
    #[serde(default)]
    pub tls: Option<rollcall_ldap_connector::TlsMode>,
    /// PEM file with the CA certificates that may sign the server's certificate.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// DN of the account that may write.
    pub bind_dn: String,
    /// Its password; give it as `password_file`.
    pub password: Secret,
    /// `active_directory` or `attribute`.
    pub disable: DisableMethod,
    /// With `disable: attribute`, the attribute, such as `pwdAccountLockedTime`.
    #[serde(default)]
    pub disable_attribute: Option<String>,
    /// With `disable: attribute`, the value, such as `000001010000Z`.
    #[serde(default)]
    pub disable_value: Option<String>,
    /// Seconds allowed for the TCP connect, TLS handshake and StartTLS together.
    #[serde(default = "default_ldap_timeout")]
    pub connect_timeout_seconds: u64,
    /// Seconds allowed for each LDAP operation.
    #[serde(default = "default_ldap_timeout")]
    pub operation_timeout_seconds: u64,
}

fn default_entra_source() -> String {
    "entra".to_owned()
}

fn default_ldap_source() -> String {
    "ldap".to_owned()
}

fn default_authority_url() -> String {
    "https://login.microsoftonline.com".to_owned()
}

fn default_graph_url() -> String {
    "https://graph.microsoft.com".to_owned()
}

fn default_ldap_timeout() -> u64 {
    10
}

/// `postgres.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// URL of the runtime role, such as `postgres://rollcall_app@db/rollcall`. A secret,
    /// because it may hold a password (`postgres.url_file`).
    pub url: Secret,
    /// Pool size.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

/// `redis.*`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// URL such as `redis://redis:6379/0`; without it the engine uses PostgreSQL advisory
    /// locks only. A secret, because it may hold a password (`redis.url_file`).
    #[serde(default)]
    pub url: Option<Secret>,
}

/// `engine.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// Seconds a partial snapshot may wait for its missing chunks before it is dropped
    /// with a warning and its chunks are nakked.
    #[serde(default = "default_partial_snapshot_seconds")]
    pub partial_snapshot_seconds: u64,
    /// Seconds between reconciles from the store.
    #[serde(default = "default_reconcile_seconds")]
    pub reconcile_seconds: u64,
    /// Seconds between runs of the retention job.
    #[serde(default = "default_retention_seconds")]
    pub retention_seconds: u64,
    /// Seconds an evaluation lock lives in Redis before it expires on its own, should
    /// the engine holding it die.
    #[serde(default = "default_lock_ttl_seconds")]
    pub lock_ttl_seconds: u64,
    /// Ack wait of the engine's consumers, in seconds. Progress acks go out every third.
    #[serde(default = "default_ack_wait_seconds")]
    pub ack_wait_seconds: u64,
    /// Delivery attempts before a message goes to the dead-letter stream.
    #[serde(default = "default_max_deliver")]
    pub max_deliver: i64,
    /// Seconds between scans for leavers whose deprovisioning deadline passed. The scan
    /// also runs at start.
    #[serde(default = "default_due_scan_seconds")]
    pub due_scan_seconds: u64,
    /// Seconds between launches of due access-review campaigns and expiries of overdue
    /// ones. The pass also runs at start.
    #[serde(default = "default_campaign_scan_seconds")]
    pub campaign_scan_seconds: u64,
    /// Evaluate every tenant at this instant instead of the clock (RFC 3339). For tests
    /// and for reproducing a report; never set it in production, because time-based
    /// findings would stop changing.
    #[serde(default)]
    pub fixed_as_of: Option<DateTime<Utc>>,
    /// A file with one RFC 3339 instant, read again at every use, that evaluations use
    /// instead of the clock. End-to-end tests move it forward to let a deadline pass;
    /// never set it in production.
    #[serde(default)]
    pub clock_file: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            partial_snapshot_seconds: default_partial_snapshot_seconds(),
            reconcile_seconds: default_reconcile_seconds(),
            retention_seconds: default_retention_seconds(),
            lock_ttl_seconds: default_lock_ttl_seconds(),
            ack_wait_seconds: default_ack_wait_seconds(),
            max_deliver: default_max_deliver(),
            due_scan_seconds: default_due_scan_seconds(),
            campaign_scan_seconds: default_campaign_scan_seconds(),
            fixed_as_of: None,
            clock_file: None,
        }
    }
}

impl EngineSettings {
    /// Returns the partial snapshot expiry as a duration.
    pub fn partial_snapshot_expiry(&self) -> Duration {
        Duration::from_secs(self.partial_snapshot_seconds.max(1))
    }

    /// Returns the reconcile interval as a duration.
    pub fn reconcile_interval(&self) -> Duration {
        Duration::from_secs(self.reconcile_seconds.max(1))
    }

    /// Returns the interval of the review campaign pass as a duration.
    pub fn campaign_scan_interval(&self) -> Duration {
        Duration::from_secs(self.campaign_scan_seconds.max(1))
    }

    /// Returns the due-scan interval as a duration.
    pub fn due_scan_interval(&self) -> Duration {
        Duration::from_secs(self.due_scan_seconds.max(1))
    }

    /// Returns the retention interval as a duration.
    pub fn retention_interval(&self) -> Duration {
        Duration::from_secs(self.retention_seconds.max(1))
    }
}

fn default_ack_wait_seconds() -> u64 {
    30
}

fn default_max_deliver() -> i64 {
    5
}

/// Five minutes: a campaign launches within minutes of its period's start, and a pass
/// over tenants without a due campaign costs one query each.
fn default_campaign_scan_seconds() -> u64 {
    300
}

fn default_max_connections() -> u32 {
    10
}

fn default_partial_snapshot_seconds() -> u64 {
    600
}

fn default_reconcile_seconds() -> u64 {
    30
}

/// One minute, so a deadline is acted on at most a minute after it passes.
fn default_due_scan_seconds() -> u64 {
    60
}

/// Once a day: retention counts in years, so a day's delay changes nothing.
fn default_retention_seconds() -> u64 {
    86_400
}

/// Long enough for an evaluation of a large tenant; a lock left by a process that died
/// blocks the tenant's evaluations this long at most.
fn default_lock_ttl_seconds() -> u64 {
    30
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

    use rollcall_reviews::mail::{MailSender, TlsMode};
    use rollcall_runtime::ConfigLoader;

    use super::*;

    const BASE: &str = "nats:\n  url: nats://127.0.0.1:4222\npostgres:\n  url_file: PG\n";

    fn load(dir: &std::path::Path, mail: &str) -> Result<EngineConfig, String> {
        std::fs::write(dir.join("pg"), "postgres://rollcall_app@127.0.0.1/rollcall\n").unwrap();
        std::fs::write(dir.join("smtp-password"), "synthetic-smtp-password\n").unwrap();
        let text = BASE.replace("PG", &dir.join("pg").display().to_string())
            + &mail.replace("PASSWORD_FILE", &dir.join("smtp-password").display().to_string());
        let path = dir.join("engine.yaml");
        std::fs::write(&path, text).unwrap();
        ConfigLoader::new()
            .file(&path)
            .load::<EngineConfig>()
            .map(|l| l.config)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn mail_section_reads_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(
            dir.path(),
            "mail:\n  from: Rollcall reviews <reviews@msp.example>\n  ui_base_url: https://reviews.msp.example\n  smtp:\n    host: smtp.office365.com\n    tls: starttls_required\n    username: reviews@clinic.example\n    password_file: PASSWORD_FILE\n",
        )
        .unwrap();
        let mail = config.mail.unwrap();
        assert_eq!(mail.smtp.tls, TlsMode::StarttlsRequired);
        assert_eq!(mail.smtp.port(), 587);
        assert_eq!(
            mail.smtp.password.as_ref().and_then(|p| p.expose_str()),
            Some("synthetic-smtp-password")
        );
        let printed = format!("{mail:?}");
        assert!(!printed.contains("synthetic-smtp-password"), "{printed}");
        MailSender::new(mail).unwrap();
    }

    #[test]
    fn remediation_section_reads_files_and_names_bad_keys() {
        use crate::remediation::RemediationAccess;

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("entra-secret"), "synthetic-entra-secret\n").unwrap();
        std::fs::write(dir.path().join("ldap-password"), "synthetic-ldap-password\n").unwrap();
        std::fs::write(dir.path().join("ca.pem"), "not read before a connection\n").unwrap();
        let section = |entra_secret: &str, ldap_url: &str| {
            format!(
                "remediation:\n  tenants:\n    harborview:\n      entra:\n        directory_id: 0c0ffee0-0000-4000-8000-000000000001\n        client_id: 22222222-3333-4444-8555-666666666666\n        client_secret_file: {}\n      ldap:\n        url: {ldap_url}\n        ca_file: {}\n        bind_dn: cn=writer,dc=harborview,dc=example\n        password_file: {}\n        disable: active_directory\n",
                dir.path().join(entra_secret).display(),
                dir.path().join("ca.pem").display(),
                dir.path().join("ldap-password").display(),
            )
        };

        let config =
            load(dir.path(), &section("entra-secret", "ldaps://dc1.harborview.example")).unwrap();
        let printed = format!("{:?}", config.remediation);
        assert!(!printed.contains("synthetic-ldap-password"), "{printed}");
        let tenant = &config.remediation.tenants["harborview"];
        assert_eq!(tenant.entra.as_ref().unwrap().graph_url, "https://graph.microsoft.com");
        let access = RemediationAccess::from_config(config.remediation).unwrap();
        let tenants: Vec<_> = access.tenants().map(|(id, e, l)| (id.to_string(), e, l)).collect();
        assert_eq!(tenants, [("harborview".to_owned(), true, true)]);

        let missing =
            load(dir.path(), &section("no-such-file", "ldaps://dc1.harborview.example")).unwrap();
        let error = RemediationAccess::from_config(missing.remediation).unwrap_err().to_string();
        assert!(error.starts_with("remediation.tenants.harborview.entra:"), "{error}");

        // `tls` defaults to StartTLS on an ldap:// URL, which still needs the CA file.
        let plain =
            load(dir.path(), &section("entra-secret", "ldap://dc1.harborview.example")).unwrap();
        let access = RemediationAccess::from_config(plain.remediation).unwrap();
        assert_eq!(access.tenants().count(), 1);
        let unknown =
            load(dir.path(), "remediation:\n  tenants:\n    harborview:\n      okta: {}\n")
                .unwrap_err();
        assert!(unknown.contains("okta"), "{unknown}");
    }

    #[test]
    fn mail_section_rejects_unknown_and_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let unknown = load(
            dir.path(),
            "mail:\n  from: r@msp.example\n  ui_base_url: https://reviews.msp.example\n  smtp:\n    host: smtp.example\n    tls: starttls_required\n    security: TLS\n",
        )
        .unwrap_err();
        assert!(unknown.contains("security"), "{unknown}");
        let no_mode = load(
            dir.path(),
            "mail:\n  from: r@msp.example\n  ui_base_url: https://reviews.msp.example\n  smtp:\n    host: smtp.example\n",
        )
        .unwrap_err();
        assert!(no_mode.contains("tls"), "{no_mode}");
        let label = load(
            dir.path(),
            "mail:\n  from: r@msp.example\n  ui_base_url: https://reviews.msp.example\n  smtp:\n    host: smtp.example\n    tls: auto\n",
        )
        .unwrap_err();
        assert!(label.contains("auto"), "{label}");
        assert!(load(dir.path(), "").unwrap().mail.is_none());
    }
}
