//! Rollcall's engine service.
//!
//! The engine consumes what the connectors publish on NATS JetStream (snapshot chunks,
//! deltas, HR events) and what the bus dead-letters, stores it in PostgreSQL through
//! `rollcall-store`, evaluates the tenant with `rollcall_core::evaluate` on the data
//! loaded back from the store, records the findings as a diff and publishes finding
//! events through a transactional outbox. `docs/services/engine.md` describes what it
//! consumes, publishes and stores, its configuration, metrics and failure behaviour.

pub mod clock;
pub mod config;
pub mod deadletters;
pub mod engine;
pub mod error;
pub mod handlers;
pub mod leaver_report;
pub mod leavers;
pub mod lock;
pub mod metrics;
pub mod pipeline;
pub mod remediation;
mod review_gauges;
pub mod revocations;
pub mod service;
pub mod tenant_apply;

pub use clock::Clock;
pub use config::EngineConfig;
pub use engine::{ACTOR, Engine, EvaluationResult};
pub use error::EngineError;
pub use service::{Service, StartError};
