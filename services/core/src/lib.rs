//! Rollcall's rules: the domain model, the tenant policy, identity resolution and every
//! finding, as pure functions of their inputs.
//!
//! This crate does no I/O, and it denies `unwrap`, `expect`, `panic` and indexing (a
//! property test feeds it random tenants), so the `rollcall` CLI, the engine service and
//! the tests run the same code on the same data and get the same findings.

pub mod context;
pub mod evaluate;
pub mod finding;
pub mod grants;
pub mod identity;
pub mod input;
pub mod model;
pub mod normalize;
pub mod policy;
pub mod privilege;
pub mod rules;
pub mod tenant;

pub use evaluate::{Evaluation, Stats, evaluate};
pub use finding::{Finding, FindingKind, Severity};
pub use input::TenantData;
pub use tenant::{Tenant, TenantId};
