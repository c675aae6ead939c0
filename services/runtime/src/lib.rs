//! What every Rollcall service shares: layered typed configuration with secrets, JSON logs
//! and OTLP traces, the ops HTTP server (`/metrics`, `/healthz`, `/readyz`) and graceful
//! shutdown on SIGTERM.

pub mod config;
pub mod ops;
pub mod secret;
pub mod shutdown;
pub mod telemetry;

pub use config::{ConfigArgs, ConfigError, ConfigLoader, ConfigWarning, Loaded};
pub use ops::{OpsConfig, OpsServer, Readiness};
pub use secret::Secret;
pub use shutdown::{Shutdown, ShutdownReport, Workers};
pub use telemetry::{TelemetryConfig, TelemetryGuard, work_span};
