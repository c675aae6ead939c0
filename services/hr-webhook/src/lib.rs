//! Rollcall's HR intake service: takes hire, change and termination events from HR
//! systems over signed webhooks (Standard Webhooks) and SCIM 2.0, commits each to
//! PostgreSQL, then publishes it on NATS as a `rollcall.v1.HrEvent`.
//!
//! The `rollcall.hr_events` table is the system of record, so a request gets a 2xx
//! response only after its event is committed. A publish that fails is logged and counted
//! but does not fail the request, because the engine also reads the table.
//!
//! HR vendors (BambooHR, HiBob, Gusto, Paychex, Paylocity, Rippling, ADP) deliver in
//! their own schemes to per-tenant routes. Each delivery is committed, and then the worker
//! is read back through the vendor's API ([`vendors`]).
//!
//! `docs/services/hr-webhook.md` documents the endpoints, the body, the signature scheme
//! and the configuration.

pub mod app;
pub mod body;
pub mod config;
pub mod metrics;
pub mod ratelimit;
pub mod scim;
pub mod service;
pub mod signature;
pub mod vendors;

pub use config::HrWebhookConfig;
pub use service::{Service, StartError};
