//! `AccessPolicy`: the policy a tenant is checked against.
//!
//! The spec mirrors `rollcall_core::policy::PolicySpec` key for key, in the same
//! snake_case spelling as a policy file, so a policy file pasted under `spec:` is a valid
//! resource and the operator stores the spec as that file's text. The core types are not
//! reused because they only implement `Deserialize`, and a `JsonSchema` derive there would
//! add schemars to the rules' crate.
//!
//! NOTE: the policy has no MFA section. The MFA rule requires phishing-resistant methods of
//! every person who is privileged, and `privileged_entitlements`, `job_roles.*.privileged`
//! and `epcs_privileged` decide who that is.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ResourceStatus;

/// Entitlement or name patterns by source pattern (`ehr:*`, `entra`).
pub type PatternsBySource = BTreeMap<String, Vec<String>>;

/// Role baselines, privileged entitlements, separation-of-duties rules and the thresholds
/// of the hygiene rules; docs/policy.md describes each key.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rollcall.dev",
    version = "v1alpha1",
    kind = "AccessPolicy",
    namespaced,
    doc = "A Rollcall access policy: the policy file of one or more tenants.",
    status = "ResourceStatus",
    shortname = "rcpolicy"
)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicySpec {
    /// Dormancy thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dormancy: Option<DormancySpec>,
    /// Entitlements every person may hold whatever their job role.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub common_baseline: PatternsBySource,
    /// Job roles with their baselines, by role name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub job_roles: BTreeMap<String, JobRoleSpec>,
    /// Entitlements the tenant treats as privileged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub privileged_entitlements: PatternsBySource,
    /// Pairs of entitlement sets that one person must not hold together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub separation_of_duties: Vec<SodSpec>,
    /// Login or name patterns of generic and shared accounts; the built-in list when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generic_accounts: Option<Vec<String>>,
    /// Login or name patterns of service accounts; the built-in list when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<Vec<String>>,
    /// Peer-outlier thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_outliers: Option<PeerOutlierSpec>,
    /// Whether EPCS access makes its holder privileged; true when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epcs_privileged: Option<bool>,
    /// Source patterns where a disabled account that still holds grants is a finding;
    /// every EHR when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_with_grants: Option<Vec<String>>,
    /// Plain names for entitlements that reviewers see beside the source's own words, by
    /// source pattern, then entitlement pattern.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entitlement_catalogue: BTreeMap<String, BTreeMap<String, CatalogueEntrySpec>>,
}

/// One entry of the entitlement catalogue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntrySpec {
    /// The name a practice manager understands, such as `Front desk check-in`.
    pub name: String,
    /// One sentence on what the entitlement allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The person or team that answers questions about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The HR employee id of the entitlement's owner, who reviews its grants in
    /// `ReviewCampaign`s with `reviewers.entitlementOwner: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
}

/// Dormancy thresholds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DormancySpec {
    /// Days without a sign-in after which an account is dormant; 90 when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Per-source overrides in days, by source pattern.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, u32>,
}

/// One job role and what it needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRoleSpec {
    /// A sentence for reviewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HR records that have this role.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matcher: Option<RoleMatchSpec>,
    /// The entitlements the role needs, by source pattern.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline: PatternsBySource,
    /// Whether the role needs privileged access.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// The second factor the role's holders must use; `strong` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaRequirement>,
}

/// The second factor a job role's holders must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaRequirement {
    /// Any method stronger than SMS, voice or e-mail codes, as for everyone.
    Strong,
    /// Phishing-resistant methods only, as for privileged people: for roles such as
    /// prescribers of controlled substances.
    PhishingResistant,
}

/// Title and department globs; an empty list matches anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleMatchSpec {
    /// Job-title patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<String>,
    /// Department patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
}

/// A separation-of-duties rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SodSpec {
    /// A short name for the rule.
    pub name: String,
    /// The reason the two must not be combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// One side, by source pattern.
    pub left: PatternsBySource,
    /// The other side, by source pattern.
    pub right: PatternsBySource,
}

/// Peer-outlier thresholds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerOutlierSpec {
    /// Smallest peer group the rule looks at; 5 when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_peers: Option<u32>,
    /// A grant held by a smaller share of the peer group than this is an outlier (0 to
    /// 1); 0.2 when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_share: Option<f64>,
}
