//! The engine's configuration, loaded through `rollcall-runtime` (file, then
//! `ROLLCALL_*` variables, then `--set` flags). `docs/services/engine.md` lists every key.

use std::time::Duration;

use chrono::{DateTime, Utc};
pub use rollcall_bus::NatsConfig;
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
