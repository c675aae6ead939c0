//! Rendering a `Tenant`, its `AccessPolicy` and its `ReviewCampaign`s as the texts
//! `tenant apply` stores: a `tenant.yaml` with the campaigns under `campaigns:` that
//! names the policy file `policy.yaml`, and that file's text.

use kube::ResourceExt as _;
use rollcall_store::TenantConfigText;
use serde::Serialize;

use crate::resources::{
    AccessPolicy, EscalationTarget, ExpiryAction, ManagerSource, ReviewCampaign, ScopeKind, Tenant,
};

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
    sign_in: Option<SignInSection<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_file: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    campaigns: Vec<CampaignYaml<'a>>,
}

/// One entry of `campaigns:`, with the keys and words of `tenant.yaml`.
#[derive(Serialize)]
struct CampaignYaml<'a> {
    id: String,
    name: &'a str,
    schedule: &'a str,
    scope: serde_yaml_ng::Value,
    reviewers: ReviewersYaml<'a>,
    deadline_days: u32,
    at_expiry: &'static str,
    max_source_age: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reminders: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    escalation: Option<EscalationYaml<'a>>,
}

#[derive(Serialize)]
struct EscalationYaml<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Vec<&'static str>>,
}

#[derive(Serialize)]
struct ReviewersYaml<'a> {
    manager: &'static str,
    fallback: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    second_stage: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    entitlement_owner: bool,
}

#[derive(Serialize)]
struct TenantSection<'a> {
    id: &'a str,
    name: &'a str,
    time_zone: &'a str,
}

#[derive(Serialize)]
struct SignInSection<'a> {
    issuer: &'a str,
}

#[derive(Serialize)]
struct SlaSection {
    deprovision: String,
}

/// Renders `tenant` with `policy`, the `AccessPolicy` its spec names, if any, and
/// `campaigns`, the `ReviewCampaign`s that name it, in the given order.
///
/// The OIDC issuer becomes `sign_in.issuer`, which the review app reads. The sources and
/// their Secret references are not part of `tenant.yaml`: its `sources:` key lists export
/// folders for `rollcall scan`, and the engine reads snapshots that connectors publish
/// instead.
pub fn render(
    tenant: &Tenant,
    policy: Option<&AccessPolicy>,
    campaigns: &[&ReviewCampaign],
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
        sign_in: spec.oidc_issuer.as_deref().map(|issuer| SignInSection { issuer }),
        policy_file: policy.map(|_| POLICY_FILE),
        campaigns: campaigns.iter().map(|campaign| campaign_yaml(campaign)).collect(),
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

fn campaign_yaml(campaign: &ReviewCampaign) -> CampaignYaml<'_> {
    let spec = &campaign.spec;
    let scope_name = match spec.scope.kind {
        ScopeKind::Everyone => "everyone",
        ScopeKind::Privileged => "privileged",
        ScopeKind::EhrRoles => "ehr_roles",
        ScopeKind::AddedSinceLast => "added_since_last",
        ScopeKind::Source => "source",
    };
    // `{ source: <id> }` for one source. A `source` kind without an id renders as
    // `{ source: "" }`, which the tenant file check rejects with the key's position.
    let scope = match spec.scope.kind {
        ScopeKind::Source => {
            let mut map = serde_yaml_ng::Mapping::new();
            map.insert("source".into(), spec.scope.source.clone().unwrap_or_default().into());
            serde_yaml_ng::Value::Mapping(map)
        }
        _ => scope_name.into(),
    };
    CampaignYaml {
        id: campaign.name_any(),
        name: &spec.display_name,
        schedule: &spec.schedule,
        scope,
        reviewers: ReviewersYaml {
            manager: match spec.reviewers.manager {
                ManagerSource::HrThenDirectory => "hr_then_directory",
                ManagerSource::Hr => "hr",
                ManagerSource::Directory => "directory",
            },
            fallback: &spec.reviewers.fallback_employee_id,
            second_stage: spec.reviewers.second_stage_employee_id.as_deref(),
            entitlement_owner: spec.reviewers.entitlement_owner,
        },
        deadline_days: spec.deadline_days,
        at_expiry: match spec.at_expiry {
            ExpiryAction::None => "none",
            ExpiryAction::Revoke => "revoke",
            ExpiryAction::Approve => "approve",
        },
        max_source_age: &spec.max_source_age,
        reminders: spec.reminders.as_deref(),
        escalation: spec.escalation.as_ref().map(|escalation| EscalationYaml {
            after: escalation.after.as_deref(),
            to: escalation.to.as_ref().map(|targets| {
                targets
                    .iter()
                    .map(|target| match target {
                        EscalationTarget::SecondStage => "second_stage",
                        EscalationTarget::Manager => "manager",
                    })
                    .collect()
            }),
        }),
    }
}
