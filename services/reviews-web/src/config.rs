//! The service's configuration, loaded through `rollcall-runtime` (file, then `ROLLCALL_*`
//! variables, then `--set` flags). `docs/services/reviews-web.md` lists every key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, Secret, TelemetryConfig};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewsWebConfig {
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The ops server.
    #[serde(default)]
    pub ops: OpsConfig,
    /// The grace period after SIGTERM.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The web server that reviewers' browsers and API clients call.
    pub http: HttpConfig,
    /// PostgreSQL, where campaigns and decisions live.
    pub postgres: PostgresConfig,
    /// Redis, where sessions and sign-in state live.
    pub redis: RedisConfig,
    /// Session lifetimes.
    #[serde(default)]
    pub session: SessionConfig,
    /// The OpenID Connect client shared by every tenant.
    pub oidc: OidcConfig,
    /// The tenants whose people may sign in, by tenant id.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantSignInConfig>,
}

/// `http.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address and port of the pages and the API.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The address browsers use, such as `https://reviews.example.org`, without a trailing
    /// slash. The redirect URI registered at the identity provider is this followed by
    /// `/auth/callback`.
    pub public_url: String,
}

/// `postgres.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// URL of the runtime role (`postgres.url_file`), a secret because it may hold a
    /// password.
    pub url: Secret,
    /// Pool size.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Seconds a request waits for a database connection before it gets 503.
    #[serde(default = "default_acquire_timeout_seconds")]
    pub acquire_timeout_seconds: u64,
}

/// `redis.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// URL such as `rediss://redis:6379/0` (`redis.url_file`). A plain `redis://` URL is
    /// accepted for a loopback host, or for any host with `insecure: true`.
    pub url: Secret,
    /// Allow a plain `redis://` URL to a host that is not loopback.
    #[serde(default)]
    pub insecure: bool,
    /// Prefix of every key this service writes, so several deployments can share a server.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

/// `session.*`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Minutes without a request after which a session ends.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u64,
    /// Hours after sign-in after which a session ends, however active it is.
    #[serde(default = "default_absolute_hours")]
    pub absolute_hours: u64,
}

impl SessionConfig {
    /// Returns the idle timeout, at least one minute.
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_minutes.max(1) * 60)
    }

    /// Returns the absolute timeout, at least one hour.
    pub fn absolute(&self) -> Duration {
        Duration::from_secs(self.absolute_hours.max(1) * 3600)
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle_minutes: default_idle_minutes(), absolute_hours: default_absolute_hours() }
    }
}

/// `oidc.*`: one app registration, consented in every tenant's directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The client id of the app registration.
    pub client_id: String,
    /// The client secret (`oidc.client_secret_file`).
    pub client_secret: Secret,
    /// The values of the `roles` claim that grant each role.
    #[serde(default)]
    pub roles: RoleNames,
    /// Seconds one request to the identity provider may take.
    #[serde(default = "default_provider_timeout_seconds")]
    pub timeout_seconds: u64,
}

/// `oidc.roles.*`: app role values, as the `roles` claim carries them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleNames {
    /// The HIPAA security officer: every campaign's overview.
    #[serde(default = "default_security_officer_role")]
    pub security_officer: String,
    /// MSP staff: every campaign's overview, read only.
    #[serde(default = "default_msp_staff_role")]
    pub msp_staff: String,
}

impl Default for RoleNames {
    fn default() -> Self {
        Self {
            security_officer: default_security_officer_role(),
            msp_staff: default_msp_staff_role(),
        }
    }
}

/// `tenants.<tenant id>.*`: where a tenant's people sign in and how they are found.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSignInConfig {
    /// The issuer, compared exactly with discovery and with every ID token's `iss`. For
    /// Entra ID: `https://login.microsoftonline.com/<directory GUID>/v2.0`, never the
    /// `common` or `organizations` form and never a domain name. When absent, sign-in
    /// takes the `sign_in.issuer` of the tenant's stored `tenant.yaml`; when both are set
    /// they must be equal.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The Entra directory (tenant) GUID. When set, the ID token's `tid` must equal it.
    #[serde(default)]
    pub directory_id: Option<String>,
    /// The source whose account ids the `account_claim` carries.
    #[serde(default = "default_account_source")]
    pub account_source: String,
    /// The claim that contains the signed-in account's id in `account_source`: `oid`, the
    /// Entra object id, by default.
    #[serde(default = "default_account_claim")]
    pub account_claim: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}

fn default_max_connections() -> u32 {
    10
}

fn default_acquire_timeout_seconds() -> u64 {
    5
}

fn default_key_prefix() -> String {
    "rollcall:reviews:".into()
}

/// Returns thirty minutes; each practice can set its own.
fn default_idle_minutes() -> u64 {
    30
}

/// Returns ten hours, about one working day.
fn default_absolute_hours() -> u64 {
    10
}

fn default_provider_timeout_seconds() -> u64 {
    10
}

fn default_security_officer_role() -> String {
    "Rollcall.SecurityOfficer".into()
}

fn default_msp_staff_role() -> String {
    "Rollcall.MspStaff".into()
}

fn default_account_source() -> String {
    "entra".into()
}

fn default_account_claim() -> String {
    "oid".into()
}
