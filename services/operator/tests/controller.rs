//! Which `Tenant`s a change of an `AccessPolicy` or a `ReviewCampaign` reconciles.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use std::sync::Arc;

use kube::runtime::reflector::ObjectRef;
use rollcall_operator::controller::{tenants_of_campaign, tenants_of_policy};
use rollcall_operator::resources::{PolicyRef, Tenant};

/// Builds the example tenant as `name` in `namespace`, naming the policy `policy`.
fn tenant(name: &str, namespace: &str, policy: Option<&str>) -> Arc<Tenant> {
    let (mut tenant, _) = common::harborview_resources();
    tenant.metadata.name = Some(name.to_owned());
    tenant.metadata.namespace = Some(namespace.to_owned());
    tenant.spec.access_policy_ref = policy.map(|name| PolicyRef { name: name.to_owned() });
    Arc::new(tenant)
}

fn names(refs: &[ObjectRef<Tenant>]) -> Vec<String> {
    refs.iter().map(|r| format!("{}/{}", r.namespace.clone().unwrap_or_default(), r.name)).collect()
}

#[test]
fn policy_change_reconciles_tenants_naming_it() {
    let tenants = [
        tenant("harborview", common::NAMESPACE, Some(common::POLICY)),
        tenant("lakeside", common::NAMESPACE, Some(common::POLICY)),
        tenant("oakridge", common::NAMESPACE, Some("other-policy")),
        tenant("no-policy", common::NAMESPACE, None),
        // Same policy name in another namespace: another policy.
        tenant("elsewhere", "other-msp", Some(common::POLICY)),
    ];
    let (_, policy) = common::harborview_resources();
    assert_eq!(
        names(&tenants_of_policy(&tenants, &policy)),
        ["clinics/harborview", "clinics/lakeside"]
    );
}

#[test]
fn campaign_change_reconciles_its_tenant() {
    let tenants = [
        tenant("harborview", common::NAMESPACE, None),
        tenant("lakeside", common::NAMESPACE, None),
        tenant("harborview", "other-msp", None),
    ];
    let campaign = common::quarterly_campaign("quarterly-entra");
    assert_eq!(names(&tenants_of_campaign(&tenants, &campaign)), ["clinics/harborview"]);
    let mut orphan = campaign.clone();
    orphan.spec.tenant_ref = "gone".to_owned();
    assert!(tenants_of_campaign(&tenants, &orphan).is_empty());
}
