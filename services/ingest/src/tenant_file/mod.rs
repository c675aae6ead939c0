//! `tenant.yaml`: who the tenant is, its policy, SLAs, sources and identity overrides.

mod campaign_mail;
mod campaigns;
mod error;
mod guard;
mod load;
mod locate;
mod spec;

pub use campaign_mail::{
    DEFAULT_ESCALATION_AFTER, DEFAULT_REMINDERS, Escalation, EscalationSpec, EscalationTarget,
    MAX_REMINDERS, MailOffset,
};
pub use campaigns::{
    Campaign, CampaignSpec, CronSchedule, DEFAULT_DEADLINE_DAYS, DEFAULT_MAX_SOURCE_AGE_HOURS,
    ExpiryAction, MAX_DEADLINE_DAYS, ManagerSource, ReviewersSpec, Schedule, ScopeSpec,
};
pub use error::TenantFileError;
pub use guard::{MAX_EXPANDED_BYTES, MAX_EXPANDED_VALUES, MAX_FLOW_DEPTH, MAX_TENANT_FILE_BYTES};
pub use load::{
    EhrInput, SLA_PRESET_2025_PROPOSAL, SourcePlan, TenantConfig, issuer_problem, parse, parse_sla,
    parse_stored,
};
pub use spec::{EhrFormat, TenantFile};

#[cfg(test)]
mod tests;
