//! A tenant: one practice, with its time zone, policy, SLAs and identity overrides.

use std::collections::BTreeMap;
use std::fmt;

use chrono::TimeDelta;
use chrono_tz::Tz;

use crate::model::AccountRef;
use crate::policy::Policy;

/// The deprovisioning deadline when a tenant sets none: 24 hours after termination.
pub const DEFAULT_DEPROVISION_SLA_HOURS: i64 = 24;

/// The revocation window when a tenant sets none: seven days, so that a removal done by
/// hand in an EHR shows in a weekly export before it is a finding.
pub const DEFAULT_REVOCATION_WINDOW_DAYS: i64 = 7;

/// A tenant id: lowercase ASCII letters, digits and `-`, 1 to 63 characters, starting with
/// a letter or digit. It appears in NATS subjects and URLs, so no dots or slashes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

/// A tenant id that breaks the rules above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid tenant id `{0}`: use 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit"
)]
pub struct TenantIdError(pub String);

impl TenantId {
    /// Validates `id`.
    pub fn new(id: &str) -> Result<Self, TenantIdError> {
        let valid = (1..=63).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-');
        if valid { Ok(Self(id.to_owned())) } else { Err(TenantIdError(id.to_owned())) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A manual link from an HR employee id to accounts that automatic resolution would miss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualLink {
    /// The worker's employee id.
    pub employee_id: String,
    /// The accounts that belong to that worker.
    pub accounts: Vec<AccountRef>,
}

/// An account that identity resolution must leave alone, with the reason (a service
/// account, a vendor's support login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The account.
    pub account: AccountRef,
    /// Why it belongs to no person.
    pub reason: String,
}

/// Overrides of automatic identity resolution and job-role matching.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityOverrides {
    /// Manual links.
    pub links: Vec<ManualLink>,
    /// Accounts that belong to no person.
    pub exclusions: Vec<Exclusion>,
    /// Job roles assigned by employee id, replacing the title and department match.
    pub roles: BTreeMap<String, Vec<String>>,
}

/// One tenant's settings.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The tenant id.
    pub id: TenantId,
    /// The practice's name.
    pub name: String,
    /// The practice's time zone: for dates without a zone and for reports.
    pub time_zone: Tz,
    /// The compiled policy.
    pub policy: Policy,
    /// How long after a termination every account must be disabled.
    pub deprovision_sla: TimeDelta,
    /// How long after a campaign closes a revoked grant may still appear in its source's
    /// sync before it is a finding.
    pub revocation_window: TimeDelta,
    /// Identity overrides.
    pub identity: IdentityOverrides,
}

impl Tenant {
    /// A tenant with the default SLA, no overrides and the given policy.
    pub fn new(id: TenantId, name: impl Into<String>, time_zone: Tz, policy: Policy) -> Self {
        Self {
            id,
            name: name.into(),
            time_zone,
            policy,
            deprovision_sla: TimeDelta::hours(DEFAULT_DEPROVISION_SLA_HOURS),
            revocation_window: TimeDelta::days(DEFAULT_REVOCATION_WINDOW_DAYS),
            identity: IdentityOverrides::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_id_rules() {
        assert!(TenantId::new("briarwood-fm").is_ok());
        assert!(TenantId::new("7oaks").is_ok());
        for bad in ["", "-a", "Briarwood", "a.b", "a/b", &"x".repeat(64)] {
            assert!(TenantId::new(bad).is_err(), "{bad}");
        }
    }
}
