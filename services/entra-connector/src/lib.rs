//! Rollcall's Entra ID connector: reads a tenant's directory through Microsoft Graph and
//! builds the same `entra` source snapshot that `rollcall scan` builds from saved Graph
//! responses.
//!
//! [`client::GraphClient`] acquires tokens with the client credentials grant, retries
//! throttled and failed requests with `Retry-After` or backoff with jitter, pages with
//! `@odata.nextLink` and stops at a per-sync request budget. [`sync::full_sync`] makes
//! every read and hands each response to the saved-response reader under the file name
//! an engineer would have saved it as. HTTP goes through the [`transport::Transport`]
//! trait. [`publish::sync_and_publish`] runs one delta sync and publishes the snapshot and
//! a sync report on NATS, saving the delta state only after the snapshot was
//! acknowledged. [`permissions::GRAPH_REQUESTS`] lists every Graph request with the
//! application permissions it needs. `docs/connectors/entra.md` documents the app registration, the permissions,
//! the configuration and the failure behaviour.

pub mod auth;
pub mod client;
pub mod config;
pub mod delta;
pub mod metrics;
pub mod permissions;
pub mod publish;
pub mod schedule;
pub mod service;
pub mod state;
pub mod sync;
pub mod transport;

pub use auth::{Credential, CredentialError};
pub use client::{GraphClient, GraphError, RequestStats, parse_retry_after};
pub use config::{
    AppConfig, ConfigError, ConnectorConfig, Limits, NatsConfig, PostgresConfig, TenantConfig,
};
pub use delta::{DeltaMode, DeltaState, delta_sync, is_expired_token};
pub use metrics::ConnectorMetrics;
pub use permissions::{Access, GRAPH_REQUESTS, GraphRequest, READ_PERMISSIONS, WRITE_PERMISSIONS};
pub use publish::{Attempt, CONNECTOR_NAME, Stage, TenantSync, sync_and_publish};
pub use schedule::{RunningSyncs, SyncGuard, first_delay, jittered};
pub use state::{StateError, load_state, save_state};
pub use sync::{Directory, NO_PREMIUM_CODE, RemovedUser, SyncResult, USER_SELECT, full_sync};
pub use transport::{
    HttpMethod, HttpRequest, HttpResponse, HttpTransport, Transport, TransportError,
};
