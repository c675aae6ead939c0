//! `Tenant`: one practice.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ResourceStatus;

/// One practice: who it is, its deadlines, its sources and the policy it is checked
/// against. The operator stores it as the tenant's `tenant.yaml` (docs/scan-input.md).
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rollcall.dev",
    version = "v1alpha1",
    kind = "Tenant",
    namespaced,
    doc = "A Rollcall tenant: one practice, stored as its tenant.yaml by rollcall-operator.",
    status = "ResourceStatus",
    shortname = "rctenant",
    printcolumn = r#"{"name":"Tenant ID","type":"string","jsonPath":".spec.tenantId"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSpec {
    /// The tenant id: 1 to 63 lowercase letters, digits and `-`, starting with a letter or
    /// digit. It names the tenant in the database and in NATS subjects.
    pub tenant_id: String,
    /// The practice's name, as reports show it.
    pub display_name: String,
    /// An IANA time zone such as `America/Chicago`.
    pub time_zone: String,
    /// Deadlines.
    #[serde(default)]
    pub slas: SlaSpec,
    /// The systems the connectors read for this tenant.
    // TODO: the connectors still take their sources and credentials from their own
    // configuration files; the operator only checks that each named Secret exists.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// The OpenID Connect issuer URL that signs in the practice's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// The `AccessPolicy` in the same namespace that the tenant is checked against. Without
    /// one the tenant gets the empty policy, which runs every rule that needs no baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_policy_ref: Option<PolicyRef>,
}

/// Deadlines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlaSpec {
    /// Hours after a termination by which every account must be disabled; 24 when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub deprovisioning_deadline_hours: Option<u32>,
}

/// One system a connector reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceSpec {
    /// The kind of system.
    pub kind: SourceKind,
    /// The system's own id: the Entra tenant id, the LDAP base DN, the EHR vendor.
    pub id: String,
    /// The Secret with the connector's credentials. The resource holds only the reference,
    /// never the value.
    pub secret_ref: SecretKeyRef,
}

/// The kind of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Microsoft Entra ID through Microsoft Graph.
    Entra,
    /// Active Directory or another LDAP directory.
    Ldap,
    /// The HR roster.
    Hr,
    /// An EHR.
    Ehr,
}

impl SourceKind {
    /// Returns the kind as the resource writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entra => "entra",
            Self::Ldap => "ldap",
            Self::Hr => "hr",
            Self::Ehr => "ehr",
        }
    }
}

/// A key of a Secret in the resource's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key inside the Secret; the connector's default key when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A reference to an `AccessPolicy` by name, in the same namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// The `AccessPolicy`'s name.
    pub name: String,
}
