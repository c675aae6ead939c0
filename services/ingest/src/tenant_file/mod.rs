//! `tenant.yaml`: who the tenant is, its policy, SLAs, sources and identity overrides.

mod error;
mod load;
mod spec;

pub use error::TenantFileError;
pub use load::{EhrInput, SLA_PRESET_2025_PROPOSAL, SourcePlan, TenantConfig, parse, parse_sla};
pub use spec::{EhrFormat, TenantFile};

#[cfg(test)]
mod tests;
