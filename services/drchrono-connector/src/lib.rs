//! Rollcall's DrChrono connector: reads a practice's users, user groups, doctors, staff
//! and `Login` audit entries through the DrChrono API (v4) and builds the same
//! `ehr:drchrono` snapshot that `rollcall scan` builds from a saved API dump.
//!
//! [`oauth::TokenSource`] exchanges the practice's refresh token for access tokens and
//! saves each rotated refresh token in PostgreSQL before the access token is used.
//! [`client::ApiClient`] retries throttled and failed requests with `Retry-After` or
//! backoff with jitter, refreshes the access token once on a 401, and follows `next`
//! links. [`sync::full_sync`] saves the pages in the dump's JSON form and hands them to
//! `rollcall_ingest::drchrono::read`. [`publish::sync_and_publish`] publishes the snapshot
//! and a sync report on NATS. `docs/connectors/drchrono.md` documents the set-up, the
//! configuration and the failure behavior.

pub mod client;
pub mod config;
pub mod metrics;
pub mod oauth;
pub mod publish;
pub mod schedule;
pub mod service;
pub mod sync;

pub use client::{ApiClient, ApiError, Backoff, RequestStats, http_client, parse_retry_after};
pub use config::{ConfigError, ConnectorConfig, Limits, PostgresConfig, TenantConfig};
pub use metrics::ConnectorMetrics;
pub use oauth::{AuthError, TokenSource};
pub use publish::{
    Attempt, CONNECTOR_NAME, Stage, TenantSync, drchrono_source, fingerprint, sync_and_publish,
};
pub use sync::{DUMP_NAME, SyncError, SyncResult, build_snapshot, full_sync, read_dump};
