//! The connector's configuration: the DrChrono endpoints, the tenants with their OAuth
//! application and refresh token, and the client limits.
//!
//! The service loads it with `rollcall-runtime` (the file, then `ROLLCALL_*` variables,
//! then `--set` flags, unknown keys rejected) and then calls [`ConnectorConfig::check`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

pub use rollcall_bus::NatsConfig;
use rollcall_runtime::{OpsConfig, Secret, ShutdownConfig, TelemetryConfig};
use serde::Deserialize;

/// Errors in the configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is inconsistent with the rest.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The ops server (`/metrics`, `/healthz`, `/readyz`).
    #[serde(default)]
    pub ops: OpsConfig,
    /// Grace period after SIGTERM.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The NATS server the snapshots and sync reports go to.
    pub nats: NatsConfig,
    /// The PostgreSQL store that keeps the rotating refresh tokens and published hashes.
    pub postgres: PostgresConfig,
    /// The DrChrono API, without a trailing slash.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// DrChrono's OAuth 2.0 token endpoint.
    #[serde(default = "default_token_url")]
    pub token_url: String,
    /// Allows `http://` URLs for `api_url` and `token_url`, for a test double on a
    /// loopback address only; any other host still needs `https://`.
    #[serde(default)]
    pub allow_plain_http_loopback: bool,
    /// The tenants to sync.
    pub tenants: Vec<TenantConfig>,
    /// Retry and timeout settings.
    #[serde(default)]
    pub limits: Limits,
    /// Minutes between two syncs of one tenant.
    #[serde(default = "default_interval")]
    pub interval_minutes: u64,
    /// The maximum random wait, in seconds, before a tenant's first sync after a start.
    /// Values above 300 or above the interval act as the smaller of the two.
    #[serde(default = "default_start_delay")]
    pub start_delay_max_seconds: u64,
    /// Days of the audit log read for `Login` entries. A user without a login in the
    /// window has an unknown last sign-in, not "never".
    #[serde(default = "default_login_window")]
    pub login_window_days: u32,
}

/// The PostgreSQL store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// The runtime role's URL, such as `postgres://rollcall_app@db/rollcall`; give it as
    /// `url_file` when it contains a password.
    pub url: Secret,
    /// The largest number of pooled connections.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

/// One practice to sync, with the DrChrono API application it authorized.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Rollcall's tenant id (the practice).
    pub tenant: String,
    /// The API application's client id.
    pub client_id: String,
    /// The API application's client secret; give it as `client_secret_file`.
    pub client_secret: Secret,
    /// A file holding the refresh token from the practice administrator's consent. It is
    /// read at each sync: when its content changes, the new token replaces the stored one.
    pub refresh_token_file: PathBuf,
    /// The IANA time zone of naive timestamps whose doctor has no `timezone`, such as
    /// `America/Chicago`. Set it to the zone `tenant.yaml` gives the same practice, so
    /// that a sync and a scan read times alike.
    pub time_zone: String,
}

/// Client limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first backoff delay in milliseconds; it doubles per attempt.
    pub backoff_base_ms: u64,
    /// The maximum backoff or `Retry-After` wait honored, in milliseconds.
    pub backoff_max_ms: u64,
    /// The maximum number of requests one sync of one tenant may send.
    pub request_budget: u64,
    /// Seconds before one HTTP request, body included, times out.
    pub request_timeout_seconds: u64,
    /// Records per page requested with `page_size`.
    pub page_size: u32,
    /// The minimum wait between two requests of one sync, in milliseconds. DrChrono
    /// throttles a client that sends 10 or more calls within one second.
    pub min_request_interval_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            // DrChrono allows an API application 500 requests per hour by default, and
            // the practices that share an application share that limit.
            request_budget: 400,
            request_timeout_seconds: 60,
            // NOTE: DrChrono's maximum page size is not in the documentation read for
            // this connector; a server that returns fewer records still sets `next`.
            page_size: 100,
            min_request_interval_ms: 200,
        }
    }
}

impl Limits {
    /// Returns the per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds.max(1))
    }
}

fn default_api_url() -> String {
    "https://app.drchrono.com".into()
}

fn default_token_url() -> String {
    "https://drchrono.com/o/token/".into()
}

fn default_interval() -> u64 {
    360
}

fn default_start_delay() -> u64 {
    300
}

fn default_login_window() -> u32 {
    90
}

fn default_max_connections() -> u32 {
    4
}

impl ConnectorConfig {
    /// Checks what the types cannot: URLs use TLS (or plain HTTP to loopback when
    /// allowed), each tenant id is valid and listed once, each zone exists, and the
    /// limits can work.
    pub fn check(&self) -> Result<(), ConfigError> {
        for (key, url) in [("api_url", &self.api_url), ("token_url", &self.token_url)] {
            check_url(key, url, self.allow_plain_http_loopback)?;
        }
        let mut seen = BTreeSet::new();
        for tenant in &self.tenants {
            if let Err(error) = rollcall_core::TenantId::new(&tenant.tenant) {
                return Err(ConfigError::Invalid(format!(
                    "tenant `{}` is not a valid tenant id: {error}",
                    tenant.tenant
                )));
            }
            if !seen.insert(&tenant.tenant) {
                return Err(ConfigError::Invalid(format!(
                    "tenant `{}` is listed twice; sync each tenant from one entry",
                    tenant.tenant
                )));
            }
            if tenant.time_zone.parse::<chrono_tz::Tz>().is_err() {
                return Err(ConfigError::Invalid(format!(
                    "tenant `{}`: `{}` is not an IANA time zone; write it like `America/Chicago`",
                    tenant.tenant, tenant.time_zone
                )));
            }
            if tenant.client_id.trim().is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "tenant `{}`: client_id is empty; copy it from the DrChrono API application",
                    tenant.tenant
                )));
            }
        }
        if self.limits.max_attempts == 0 {
            return Err(ConfigError::Invalid("limits.max_attempts must be at least 1".into()));
        }
        if self.limits.page_size == 0 {
            return Err(ConfigError::Invalid("limits.page_size must be at least 1".into()));
        }
        if self.login_window_days == 0 {
            return Err(ConfigError::Invalid("login_window_days must be at least 1".into()));
        }
        Ok(())
    }
}

/// Accepts `https://` URLs, and `http://` ones only to a loopback host when `plain_loopback`
/// is set, because the API calls carry bearer tokens and workforce data.
pub fn check_url(key: &str, url: &str, plain_loopback: bool) -> Result<(), ConfigError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(ConfigError::Invalid(format!(
            "{key} `{url}` is not an https:// URL; DrChrono is reached over TLS"
        )));
    };
    if !plain_loopback {
        return Err(ConfigError::Invalid(format!(
            "{key} `{url}` uses plain HTTP; use https://, or set allow_plain_http_loopback for a test double on 127.0.0.1"
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    let loopback = host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "{key} `{url}` uses plain HTTP to `{host}`, which is not a loopback address; allow_plain_http_loopback covers 127.0.0.1, ::1 and localhost only"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_pass() {
        assert!(check_url("api_url", "https://app.drchrono.com", false).is_ok());
    }

    #[test]
    fn plain_http_needs_the_setting() {
        let error = check_url("api_url", "http://127.0.0.1:8080", false).unwrap_err();
        assert!(error.to_string().contains("allow_plain_http_loopback"), "{error}");
        assert!(check_url("api_url", "http://127.0.0.1:8080", true).is_ok());
        assert!(check_url("api_url", "http://[::1]:8080/o/token/", true).is_ok());
        assert!(check_url("api_url", "http://localhost/api", true).is_ok());
    }

    #[test]
    fn plain_http_elsewhere_is_rejected() {
        let error = check_url("token_url", "http://drchrono.example:80", true).unwrap_err();
        assert!(error.to_string().contains("`drchrono.example`"), "{error}");
        let error = check_url("token_url", "ftp://127.0.0.1", true).unwrap_err();
        assert!(error.to_string().contains("not an https:// URL"), "{error}");
    }
}
