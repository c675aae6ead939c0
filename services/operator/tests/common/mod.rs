//! `Tenant` and `AccessPolicy` resources with the content of `examples/harborview`.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::path::PathBuf;

use rollcall_operator::resources::{
    AccessPolicy, AccessPolicySpec, ExpiryAction, ManagerSource, PolicyRef, ReviewCampaign,
    ReviewCampaignSpec, ReviewScope, ReviewersSpec, ScopeKind, SlaSpec, Tenant, TenantSpec,
};

/// The namespace of the test resources.
pub const NAMESPACE: &str = "clinics";
/// The `AccessPolicy`'s name.
pub const POLICY: &str = "harborview-policy";

/// Returns the example tenant folder.
pub fn harborview_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview")
}

/// Reads the `policy:` section of the example's `tenant.yaml`, read as an `AccessPolicy` spec:
/// the spec has the policy file's keys, so the section converts unchanged.
pub fn harborview_policy_spec() -> AccessPolicySpec {
    let text = std::fs::read_to_string(harborview_dir().join("tenant.yaml")).unwrap();
    let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    serde_yaml_ng::from_value(document["policy"].clone()).unwrap()
}

/// Builds the example's `Tenant` (without finalizer or status) and its `AccessPolicy`.
pub fn harborview_resources() -> (Tenant, AccessPolicy) {
    let mut tenant = Tenant::new(
        "harborview",
        TenantSpec {
            tenant_id: "harborview".to_owned(),
            display_name: "Harborview Family Health".to_owned(),
            time_zone: "America/Chicago".to_owned(),
            slas: SlaSpec { deprovisioning_deadline_hours: Some(24) },
            sources: Vec::new(),
            oidc_issuer: Some("https://login.example.test/harborview".to_owned()),
            access_policy_ref: Some(PolicyRef { name: POLICY.to_owned() }),
        },
    );
    tenant.metadata.namespace = Some(NAMESPACE.to_owned());
    tenant.metadata.generation = Some(1);
    tenant.metadata.uid = Some("5b0c1f59-0d5e-4bb6-9d0f-1f6f0d6f2a10".to_owned());
    let mut policy = AccessPolicy::new(POLICY, harborview_policy_spec());
    policy.metadata.namespace = Some(NAMESPACE.to_owned());
    (tenant, policy)
}

/// Builds a quarterly `ReviewCampaign` of the example tenant named `name`, over the
/// `entra` source, with the practice manager (E1003) as fallback reviewer.
pub fn quarterly_campaign(name: &str) -> ReviewCampaign {
    let mut campaign = ReviewCampaign::new(
        name,
        ReviewCampaignSpec {
            tenant_ref: "harborview".to_owned(),
            display_name: "Quarterly Entra review".to_owned(),
            schedule: "quarterly".to_owned(),
            scope: ReviewScope { kind: ScopeKind::Source, source: Some("entra".to_owned()) },
            reviewers: ReviewersSpec {
                manager: ManagerSource::Hr,
                fallback_employee_id: "E1003".to_owned(),
                second_stage_employee_id: Some("E1001".to_owned()),
                entitlement_owner: false,
            },
            deadline_days: 21,
            at_expiry: ExpiryAction::Revoke,
            max_source_age: "3d".to_owned(),
            reminders: None,
            escalation: None,
        },
    );
    campaign.metadata.namespace = Some(NAMESPACE.to_owned());
    campaign.metadata.generation = Some(1);
    campaign
}
