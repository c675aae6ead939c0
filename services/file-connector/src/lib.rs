//! Rollcall's file connector: a service that watches a drop folder with one folder per
//! tenant, in the `rollcall scan` layout, and publishes each complete, changed export as a
//! source snapshot on NATS JetStream. It is how EHR and HR exports enter the cluster.
//!
//! Each poll lists every tenant folder. A folder is read only when its files, temporary
//! uploads aside ([`names`]), kept their size and modification time for the settle time
//! ([`watch`]). It is read with `rollcall-ingest` exactly as `rollcall scan` reads it
//! ([`read`]). Each source whose content hash differs from the last one published is cut
//! into chunks and published. The hash is recorded in a state file only after JetStream
//! acknowledged every chunk ([`state`]), and a sync report follows every read
//! ([`report`]). A source with a file that cannot be read is not
//! published, so the last good snapshot stays in effect.
//!
//! `docs/services/file-connector.md` documents the layout, the settle rules and the
//! configuration.

pub mod config;
pub mod connector;
pub mod metrics;
pub mod names;
pub mod read;
pub mod report;
pub mod state;
pub mod watch;

pub use config::{ConnectorConfig, NatsConfig};
pub use connector::{
    FileConnector, FolderReport, FolderStatus, Settings, SourceOutcome, SourceReport,
};
pub use metrics::ConnectorMetrics;
pub use state::{State, StateError};
