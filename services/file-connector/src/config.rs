//! The connector's configuration, loaded with `rollcall-runtime`'s layered loader.

use std::path::PathBuf;
use std::time::Duration;

pub use rollcall_bus::NatsConfig;
use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, TelemetryConfig};
use serde::Deserialize;

/// The whole configuration of `rollcall-file-connector`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The ops server.
    #[serde(default)]
    pub ops: OpsConfig,
    /// Graceful stop.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The drop folder: one folder per tenant in the `rollcall scan` layout.
    pub drop_root: PathBuf,
    /// The folder of the state file, which contains the last published hashes. It must survive
    /// restarts (a persistent volume), or every source is published once again at start.
    pub state_dir: PathBuf,
    /// Seconds between two polls of the drop folder.
    #[serde(default = "default_poll_interval_seconds")]
    pub poll_interval_seconds: u64,
    /// Seconds that a tenant folder's files must stay unchanged in size and modification
    /// time before the folder is read.
    #[serde(default = "default_settle_seconds")]
    pub settle_seconds: u64,
    /// The NATS connection and bus names.
    pub nats: NatsConfig,
}

fn default_poll_interval_seconds() -> u64 {
    30
}

fn default_settle_seconds() -> u64 {
    60
}

/// A configuration value outside its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigValueError {
    /// The poll interval is zero.
    #[error("`poll_interval_seconds` is 0; set it to 1 or more")]
    ZeroPollInterval,
}

impl ConnectorConfig {
    /// Checks the values that the types alone do not limit.
    ///
    /// # Errors
    ///
    /// [`ConfigValueError::ZeroPollInterval`].
    pub fn validate(&self) -> Result<(), ConfigValueError> {
        if self.poll_interval_seconds == 0 {
            return Err(ConfigValueError::ZeroPollInterval);
        }
        Ok(())
    }

    /// Returns the poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_interval_seconds)
    }

    /// Returns the settle time.
    pub fn settle(&self) -> Duration {
        Duration::from_secs(self.settle_seconds)
    }
}
