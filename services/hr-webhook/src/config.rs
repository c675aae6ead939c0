//! The service's configuration, loaded through `rollcall-runtime` (file, then
//! `ROLLCALL_*` variables, then `--set` flags). `docs/services/hr-webhook.md` lists every
//! key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

pub use rollcall_bus::NatsConfig;
use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, Secret, TelemetryConfig};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HrWebhookConfig {
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The ops server.
    #[serde(default)]
    pub ops: OpsConfig,
    /// The grace period after SIGTERM.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The HTTP server that HR systems call.
    #[serde(default)]
    pub http: HttpConfig,
    /// NATS JetStream, where committed events are published.
    pub nats: NatsConfig,
    /// PostgreSQL, the system of record.
    pub postgres: PostgresConfig,
    /// The per-tenant request rate limit.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// The tenants this service accepts, by tenant id, with their keys and tokens.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantConfig>,
    /// How often vendor deliveries are read back, and the vendors polled.
    #[serde(default)]
    pub vendor_sync: VendorSyncConfig,
}

/// `http.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address and port of the webhook and SCIM endpoints.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; a larger one gets 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Seconds one NATS publish, with its retries, may take before it counts as failed and
    /// the response is sent without it.
    #[serde(default = "default_publish_timeout_seconds")]
    pub publish_timeout_seconds: u64,
}

impl HttpConfig {
    /// Returns the publish timeout as a duration, at least one second.
    pub fn publish_timeout(&self) -> Duration {
        Duration::from_secs(self.publish_timeout_seconds.max(1))
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body_bytes: default_max_body_bytes(),
            publish_timeout_seconds: default_publish_timeout_seconds(),
        }
    }
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
    /// Seconds a request waits for a database connection before the request gets 503.
    #[serde(default = "default_acquire_timeout_seconds")]
    pub acquire_timeout_seconds: u64,
}

/// `rate_limit.*`: a token bucket per tenant, shared by the webhook and SCIM endpoints.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per minute a tenant may keep up.
    #[serde(default = "default_per_minute")]
    pub per_minute: u32,
    /// Requests a tenant may send at once after a quiet period: the bucket's size.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { per_minute: default_per_minute(), burst: default_burst() }
    }
}

/// `tenants.<tenant id>.*`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Keys that sign the tenant's webhooks. All are accepted, so a new key can be added
    /// before the HR system switches to it and the old one removed after.
    #[serde(default)]
    pub webhook_keys: Vec<WebhookKeyConfig>,
    /// Bearer token of the tenant's SCIM client (`scim_token_file`); without it the SCIM
    /// endpoints return 401 for the tenant.
    #[serde(default)]
    pub scim_token: Option<Secret>,
    /// The tenant's HR vendors by vendor name (`bamboohr`, `hibob`, `gusto`, `paychex`,
    /// `paylocity`, `rippling`, `adp-workforce-now`).
    #[serde(default)]
    pub vendors: BTreeMap<String, crate::vendors::VendorConfig>,
}

/// `tenants.<tenant id>.webhook_keys[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookKeyConfig {
    /// A name for the key, logged with each request it verifies.
    pub id: String,
    /// `whsec_` followed by the base64 key (`secret_file`).
    pub secret: Secret,
}

/// `vendor_sync.*`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorSyncConfig {
    /// Seconds between two passes over the due vendor deliveries. A new delivery also
    /// starts a pass at once.
    #[serde(default = "default_resolve_interval_seconds")]
    pub resolve_interval_seconds: u64,
    /// Seconds between two polls of a vendor's worker list.
    #[serde(default = "default_poll_interval_seconds")]
    pub poll_interval_seconds: u64,
    /// Seconds between two reads of ADP's event queue while it is empty.
    #[serde(default = "default_queue_interval_seconds")]
    pub queue_interval_seconds: u64,
    /// Seconds before the first retry of a failed vendor read; each later retry waits
    /// twice as long, up to an hour.
    #[serde(default = "default_retry_first_wait_seconds")]
    pub retry_first_wait_seconds: u64,
}

impl Default for VendorSyncConfig {
    fn default() -> Self {
        Self {
            resolve_interval_seconds: default_resolve_interval_seconds(),
            poll_interval_seconds: default_poll_interval_seconds(),
            queue_interval_seconds: default_queue_interval_seconds(),
            retry_first_wait_seconds: default_retry_first_wait_seconds(),
        }
    }
}

fn default_resolve_interval_seconds() -> u64 {
    30
}

/// Daily: the poll is the safety net for dropped and late webhooks, and a practice's
/// worker list is a few hundred reads.
fn default_poll_interval_seconds() -> u64 {
    24 * 60 * 60
}

fn default_queue_interval_seconds() -> u64 {
    60
}

fn default_retry_first_wait_seconds() -> u64 {
    30
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}

/// 64 KiB: an HR event is well under 4 KiB, and a SCIM user with every attribute of RFC
/// 7643 under 16 KiB.
fn default_max_body_bytes() -> usize {
    64 * 1024
}

fn default_publish_timeout_seconds() -> u64 {
    5
}

fn default_max_connections() -> u32 {
    10
}

fn default_acquire_timeout_seconds() -> u64 {
    5
}

/// HR systems send events one at a time as they happen; a bulk SCIM sync of a practice
/// of a few hundred workers stays under this.
fn default_per_minute() -> u32 {
    1200
}

fn default_burst() -> u32 {
    100
}
