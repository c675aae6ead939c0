//! Rendering a `Tenant` and its `AccessPolicy` as the texts `tenant apply` stores: a
//! `tenant.yaml` that names the policy file `policy.yaml`, and that file's text.

use kube::ResourceExt as _;
use rollcall_store::TenantConfigText;
use serde::Serialize;

use crate::resources::{AccessPolicy, Tenant};

/// The `policy_file` name the rendered `tenant.yaml` gives the policy text.
pub const POLICY_FILE: &str = "policy.yaml";

/// An error rendering a resource as YAML.
#[derive(Debug, thiserror::Error)]
#[error("rendering {document} as YAML failed: {source}")]
pub struct RenderError {
    /// `tenant.yaml` or the policy.
    document: &'static str,
    source: serde_yaml_ng::Error,
}

#[derive(Serialize)]
struct TenantYaml<'a> {
    tenant: TenantSection<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slas: Option<SlaSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_file: Option<&'static str>,
}

#[derive(Serialize)]
struct TenantSection<'a> {
    id: &'a str,
    name: &'a str,
    time_zone: &'a str,
}

#[derive(Serialize)]
struct SlaSection {
    deprovision: String,
}

/// Renders `tenant` with `policy`, the `AccessPolicy` its spec names, if any.
///
/// The sources, their Secret references and the OIDC issuer are not part of `tenant.yaml`:
/// its `sources:` key lists export folders for `rollcall scan`, and the engine reads
/// snapshots that connectors publish instead.
pub fn render(
    tenant: &Tenant,
    policy: Option<&AccessPolicy>,
) -> Result<TenantConfigText, RenderError> {
    let spec = &tenant.spec;
    let document = TenantYaml {
        tenant: TenantSection {
            id: &spec.tenant_id,
            name: &spec.display_name,
            time_zone: &spec.time_zone,
        },
        slas: spec
            .slas
            .deprovisioning_deadline_hours
            .map(|hours| SlaSection { deprovision: format!("{hours}h") }),
        policy_file: policy.map(|_| POLICY_FILE),
    };
    let body = serde_yaml_ng::to_string(&document)
        .map_err(|source| RenderError { document: "tenant.yaml", source })?;
    let header = format!(
        "# Rendered by rollcall-operator from Tenant {}/{}; edit the resource, not this text.\n",
        tenant.namespace().unwrap_or_default(),
        tenant.name_any()
    );
    let policy_yaml = policy
        .map(|policy| serde_yaml_ng::to_string(&policy.spec))
        .transpose()
        .map_err(|source| RenderError { document: "the policy", source })?;
    Ok(TenantConfigText { tenant_yaml: header + &body, policy_yaml })
}
