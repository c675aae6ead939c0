//! Rollcall's report: one schema for findings across tenants, written as JSON (the
//! stable, documented form the engine also emits), CSV (one row per finding, for
//! spreadsheets) or a terminal summary.

mod build;
mod convert;
pub mod model;
pub mod render;

pub use build::{TenantOutcome, report};
pub use model::{Report, SCHEMA};
