//! The custom resources, group `rollcall.dev`, version `v1alpha1`. The CRD schemas are
//! generated from these types; `rollcall-operator crds` prints them.

mod access_policy;
mod campaign;
mod tenant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use access_policy::{
    AccessPolicy, AccessPolicySpec, CatalogueEntrySpec, DormancySpec, JobRoleSpec, MfaRequirement,
    PeerOutlierSpec, RoleMatchSpec, SodSpec,
};
pub use campaign::{
    EscalationSpec, EscalationTarget, ExpiryAction, ManagerSource, ReviewCampaign,
    ReviewCampaignSpec, ReviewScope, ReviewersSpec, ScopeKind,
};
pub use tenant::{PolicyRef, SecretKeyRef, SlaSpec, SourceKind, SourceSpec, Tenant, TenantSpec};

/// The API group of every Rollcall resource.
pub const GROUP: &str = "rollcall.dev";

/// The status every Rollcall resource reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// The `metadata.generation` the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The `Ready` condition, with the reason and message of its last change.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}
