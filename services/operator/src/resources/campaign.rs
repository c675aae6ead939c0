//! `ReviewCampaign`: a recurring access review of one tenant. The operator stores each
//! one as an entry of the tenant's `campaigns:` (docs/services/reviews.md), so a
//! campaign defined by resource and one defined in a `tenant.yaml` launch the same way.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ResourceStatus;

fn quarterly() -> String {
    "quarterly".to_owned()
}

fn default_deadline_days() -> u32 {
    14
}

fn default_max_source_age() -> String {
    "72h".to_owned()
}

/// A recurring access review of one tenant. Its `metadata.name` is the campaign's id in
/// the tenant, so it must be 1 to 63 lowercase letters, digits and `-`.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rollcall.dev",
    version = "v1alpha1",
    kind = "ReviewCampaign",
    namespaced,
    doc = "A recurring Rollcall access review of one tenant, stored in the tenant's configuration by rollcall-operator.",
    status = "ResourceStatus",
    shortname = "rccampaign",
    printcolumn = r#"{"name":"Tenant","type":"string","jsonPath":".spec.tenantRef"}"#,
    printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewCampaignSpec {
    /// The name of the `Tenant` resource, in the same namespace, whose access is reviewed.
    pub tenant_ref: String,
    /// The name reviewers see, such as `Quarterly access review`.
    pub display_name: String,
    /// `quarterly` (the start of each calendar quarter) or a five-field cron expression,
    /// both in the tenant's time zone.
    #[serde(default = "quarterly")]
    pub schedule: String,
    /// The grants the campaign reviews.
    #[serde(default)]
    pub scope: ReviewScope,
    /// Who reviews.
    pub reviewers: ReviewersSpec,
    /// Days from the launch to the deadline.
    #[serde(default = "default_deadline_days")]
    #[schemars(range(min = 1, max = 366))]
    pub deadline_days: u32,
    /// The decision given to items still undecided at the deadline.
    #[serde(default)]
    pub at_expiry: ExpiryAction,
    /// The largest age of a source's last sync that lets the campaign launch, as a
    /// duration such as `72h` or `3d`.
    #[serde(default = "default_max_source_age")]
    pub max_source_age: String,
    /// When reminder digests go out, as durations before the deadline such as `3d` and
    /// `1d`. Unset gives the default of `tenant.yaml` (`3d` and `1d`), and an empty list
    /// sends none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Vec<String>>,
    /// The recipients of mail about reviewers still late after the deadline, and its delay. Unset gives
    /// the default of `tenant.yaml`: the second-stage reviewer one day after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<EscalationSpec>,
}

/// The recipients of mail about late reviewers, and its delay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EscalationSpec {
    /// How long after the deadline, such as `1d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The recipients. An empty list turns escalation off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<EscalationTarget>>,
}

/// A recipient of escalation mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum EscalationTarget {
    /// The second-stage reviewer: one mail listing every late reviewer.
    SecondStage,
    /// Each late reviewer's manager: one mail listing their late reports.
    Manager,
}

/// The grants a campaign reviews.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewScope {
    /// The kind of grants.
    #[serde(default)]
    pub kind: ScopeKind,
    /// The source id, such as `entra` or `ehr:athenahealth`; only with `kind: source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The kind of grants a campaign reviews.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScopeKind {
    /// Every grant of every person.
    #[default]
    Everyone,
    /// Every grant of privileged accounts.
    Privileged,
    /// Every grant in the source that `source` names.
    Source,
    /// Role grants in EHR sources.
    EhrRoles,
    /// Grants added since the campaign's previous launch.
    AddedSinceLast,
}

/// Who reviews.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewersSpec {
    /// The source of the reviewee's manager.
    #[serde(default)]
    pub manager: ManagerSource,
    /// The HR employee id of the reviewer of items without a manager.
    pub fallback_employee_id: String,
    /// The HR employee id of the security officer, who decides and signs off after
    /// every first-stage reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_stage_employee_id: Option<String>,
    /// Whether an item whose entitlement names a `reviewer` in the `AccessPolicy`'s
    /// entitlement catalogue goes to that reviewer instead of the manager.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entitlement_owner: bool,
}

/// The source of a reviewee's manager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ManagerSource {
    /// The HR roster's manager column, else the directory's manager attribute.
    #[default]
    HrThenDirectory,
    /// Only the HR roster.
    Hr,
    /// Only the directory's manager attribute.
    Directory,
}

/// The decision given to undecided items at the deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ExpiryAction {
    /// None: the items stay undecided and the campaign overdue.
    #[default]
    None,
    /// Revoke them.
    Revoke,
    /// Approve them.
    Approve,
}
