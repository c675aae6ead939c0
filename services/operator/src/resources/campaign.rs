//! `ReviewCampaign`: a recurring access review.
//!
//! NOTE: the operator stores no campaigns yet. Reconciling a `ReviewCampaign` waits for the
//! campaign store; until then the resource is accepted by the API server and left as
//! written, with no status.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ResourceStatus;

/// The cron schedule of a quarterly review: 09:00 on the first day of January, April,
/// July and October.
pub const QUARTERLY_SCHEDULE: &str = "0 9 1 1,4,7,10 *";

fn quarterly_schedule() -> String {
    QUARTERLY_SCHEDULE.to_owned()
}

fn default_deadline_days() -> u32 {
    14
}

/// A recurring access review of one tenant.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rollcall.dev",
    version = "v1alpha1",
    kind = "ReviewCampaign",
    namespaced,
    doc = "A recurring Rollcall access review of one tenant.",
    status = "ResourceStatus",
    shortname = "rccampaign"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewCampaignSpec {
    /// The `Tenant` resource, in the same namespace, whose access is reviewed.
    pub tenant_ref: String,
    /// When a campaign starts: a five-field cron expression in the tenant's time zone.
    /// Quarterly (`0 9 1 1,4,7,10 *`) when unset.
    #[serde(default = "quarterly_schedule")]
    pub schedule: String,
    /// The access the reviewers certify.
    #[serde(default)]
    pub scope: ReviewScope,
    /// The reviewers: email addresses or OIDC subject names.
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// Days from a campaign's start until its decisions are due.
    #[serde(default = "default_deadline_days")]
    #[schemars(range(min = 1))]
    pub deadline_days: u32,
    /// The decision for an item still undecided at the deadline.
    #[serde(default)]
    pub default_action: DefaultAction,
}

/// The access a campaign covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewScope {
    /// Source patterns (`ehr:*`, `entra`); every source when empty.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Only privileged entitlements.
    #[serde(default)]
    pub privileged_only: bool,
}

/// The decision recorded for an undecided item at the deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DefaultAction {
    /// Keep the access and record that no reviewer decided.
    #[default]
    Keep,
    /// Revoke the access.
    Revoke,
    /// Send the item to the tenant's security officer.
    Escalate,
}
