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

/// The hash map of the rules' lookup tables: foldhash with a per-process random seed,
/// faster than the standard SipHash on short string keys. Only looked up, never walked,
/// so the order of entries never reaches a finding.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The hash set that goes with [`HashMap`].
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

pub use evaluate::{Evaluation, Stats, evaluate};
pub use finding::{Finding, FindingKind, Severity};
pub use input::TenantData;
pub use tenant::{Tenant, TenantId};
