//! The parts every Rollcall service shares: layered typed configuration with secrets
//! ([`config`], [`secret`]), JSON logs and OTLP traces ([`telemetry`]), the ops HTTP
//! server with `/metrics`, `/healthz` and `/readyz` ([`ops`]), and graceful shutdown on
//! SIGTERM ([`shutdown`]).
//!
//! A service loads its configuration first, because the configuration sets the log level.
//! It starts logging next, so that the configuration's warnings reach the log. The signal
//! handlers, the ops server and the workers come last.
//!
//! ```no_run
//! use clap::Parser;
//! use prometheus_client::registry::Registry;
//! use rollcall_runtime::shutdown::ShutdownConfig;
//! use rollcall_runtime::{
//!     ConfigArgs, ConfigLoader, OpsConfig, OpsServer, Readiness, Secret, Shutdown,
//!     TelemetryConfig, Workers, work_span,
//! };
//! use serde::Deserialize;
//! use tracing::Instrument;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     config: ConfigArgs,
//! }
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct EngineConfig {
//!     #[serde(default)]
//!     telemetry: TelemetryConfig,
//!     #[serde(default)]
//!     ops: OpsConfig,
//!     #[serde(default)]
//!     shutdown: ShutdownConfig,
//!     nats_token: Secret,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let cli = Cli::parse();
//!     let loaded = ConfigLoader::from_args(&cli.config).load::<EngineConfig>()?;
//!     let telemetry = rollcall_runtime::telemetry::init("engine", &loaded.config.telemetry)?;
//!     loaded.log_warnings();
//!     let config = loaded.config;
//!
//!     let shutdown = Shutdown::new();
//!     shutdown.listen_for_signals()?;
//!     let listener = OpsServer::bind(&config.ops).await?;
//!     let ops = OpsServer::new(Registry::default(), Readiness::new(), &shutdown);
//!
//!     let mut workers = Workers::new(&shutdown);
//!     workers.spawn("ops", async move { Ok(ops.serve(listener).await?) });
//!     workers.spawn("evaluate", {
//!         let shutdown = shutdown.clone();
//!         async move {
//!             let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
//!             loop {
//!                 tokio::select! {
//!                     () = shutdown.triggered() => return Ok(()),
//!                     _ = tick.tick() => {
//!                         let batch = work_span("evaluate", Some("practice-a"), Some("entra"));
//!                         async { tracing::info!("batch evaluated") }.instrument(batch).await;
//!                     }
//!                 }
//!             }
//!         }
//!     });
//!     let report = workers.run(config.shutdown.grace_period()).await;
//!     telemetry.shutdown().await;
//!     if report.is_clean() { Ok(()) } else { Err("some workers did not stop cleanly".into()) }
//! }
//! ```

pub mod config;
pub mod ops;
pub mod secret;
pub mod shutdown;
pub mod telemetry;

pub use config::{ConfigArgs, ConfigError, ConfigLoader, ConfigWarning, Loaded};
pub use ops::{OpsConfig, OpsServer, Readiness};
pub use secret::Secret;
pub use shutdown::{Shutdown, ShutdownConfig, ShutdownReport, Workers};
pub use telemetry::{TelemetryConfig, TelemetryGuard, work_span};
