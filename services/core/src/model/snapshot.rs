//! Snapshots: the complete state of one source for one tenant at one time.

use chrono::{DateTime, Utc};

use super::account::Account;
use super::entitlement::{Entitlement, Membership};
use super::hr::Worker;
use super::source::SourceId;

/// Whether a source provides a kind of data for the whole tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Availability {
    /// The export carries it.
    Available,
    /// The export lacks it (a field not selected, a licence missing).
    Missing,
    /// Nothing in the export says.
    #[default]
    Unknown,
}

/// Tenant-wide settings of a source that rules read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceSettings {
    /// Entra authentication-methods policy: the weak methods (`sms`, `voice`, `email`)
    /// whose configuration state is `enabled`. `None` when the policy was not exported.
    pub weak_methods_enabled: Option<Vec<String>>,
    /// Whether sign-in times were exported.
    pub sign_in_activity: Availability,
}

/// Everything one source holds for one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSnapshot {
    /// Which source this is.
    pub source: SourceId,
    /// When the data was read from the source.
    pub collected_at: Option<DateTime<Utc>>,
    /// Every account.
    pub accounts: Vec<Account>,
    /// Every entitlement.
    pub entitlements: Vec<Entitlement>,
    /// Direct memberships, including groups nested in groups.
    pub memberships: Vec<Membership>,
    /// Tenant-wide settings.
    pub settings: SourceSettings,
}

impl SourceSnapshot {
    /// An empty snapshot of `source`.
    pub fn new(source: SourceId) -> Self {
        Self {
            source,
            collected_at: None,
            accounts: Vec::new(),
            entitlements: Vec::new(),
            memberships: Vec::new(),
            settings: SourceSettings::default(),
        }
    }
}

/// The HR system's workers for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HrSnapshot {
    /// When the roster was exported.
    pub collected_at: Option<DateTime<Utc>>,
    /// Every worker, current and former.
    pub workers: Vec<Worker>,
}
