//! The controller loops: one reconciles every `Tenant` whose spec, policy or review
//! campaigns changed, the other sets the `Ready` condition of every `AccessPolicy`.

use std::sync::Arc;

use futures_util::StreamExt as _;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt as _, predicates, watcher};
use kube::{Api, ResourceExt as _};

use crate::policy;
use crate::reconcile::{Context, error_policy, reconcile};
use crate::resources::{AccessPolicy, ReviewCampaign, Tenant};

/// Runs both controllers until the process receives SIGTERM or Ctrl-C. `namespace` limits
/// it to one namespace; `None` watches all of them. The caller holds the leader lease
/// ([`crate::lease`]) while this runs.
///
/// NOTE: the tests call [`reconcile`], the lease and the mappings from AccessPolicy and
/// ReviewCampaign to Tenant against a mocked API server or on their own. The watch wiring
/// below has not run against a real API server.
pub async fn run(context: Context, namespace: Option<&str>) {
    let client = context.client.clone();
    let (tenants, policies, campaigns): (Api<Tenant>, Api<AccessPolicy>, Api<ReviewCampaign>) =
        match namespace {
            Some(namespace) => (
                Api::namespaced(client.clone(), namespace),
                Api::namespaced(client.clone(), namespace),
                Api::namespaced(client, namespace),
            ),
            None => (Api::all(client.clone()), Api::all(client.clone()), Api::all(client)),
        };
    let context = Arc::new(context);
    let policy_controller = Controller::new(policies.clone(), watcher::Config::default())
        .shutdown_on_signal()
        .run(policy::reconcile, policy::error_policy, context.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::warn!(error = %error, "the AccessPolicy controller reported an error");
            }
        });

    // Only a new generation of a Tenant starts a reconcile: the operator's own status
    // writes change the resource version, not the generation. Setting the deletion
    // timestamp of a resource with a finalizer raises the generation, so the cleanup
    // still runs.
    let (cache, writer) = reflector::store::<Tenant>();
    let tenant_changes = watcher(tenants, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(predicates::generation, Default::default());
    let policy_cache = cache.clone();
    let campaign_cache = cache.clone();
    let tenant_controller = Controller::for_stream(tenant_changes, cache)
        .watches(policies, watcher::Config::default(), move |policy: AccessPolicy| {
            tenants_of_policy(&policy_cache.state(), &policy)
        })
        // A campaign's status writes also arrive here; the reconcile they start writes
        // nothing, because the statuses are unchanged.
        .watches(campaigns, watcher::Config::default(), move |campaign: ReviewCampaign| {
            tenants_of_campaign(&campaign_cache.state(), &campaign)
        })
        .shutdown_on_signal()
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            match result {
                Ok((tenant, _)) => tracing::debug!(namespace = tenant.namespace.as_deref().unwrap_or_default(), name = %tenant.name, "reconciled"),
                // error_policy logged reconcile errors; these are watch and queue errors.
                Err(error) => tracing::warn!(error = %error, "the Tenant controller reported an error"),
            }
        });
    tokio::join!(policy_controller, tenant_controller);
}

/// Returns the `Tenant`s of `tenants` that a change of `policy` reconciles: those in its
/// namespace whose `accessPolicyRef` names it.
pub fn tenants_of_policy(tenants: &[Arc<Tenant>], policy: &AccessPolicy) -> Vec<ObjectRef<Tenant>> {
    let namespace = policy.namespace();
    let name = policy.name_any();
    tenants
        .iter()
        .filter(|tenant| {
            tenant.namespace() == namespace
                && tenant.spec.access_policy_ref.as_ref().is_some_and(|r| r.name == name)
        })
        .map(|tenant| ObjectRef::from_obj(&**tenant))
        .collect()
}

/// Returns the `Tenant`s of `tenants` that a created, changed or deleted `campaign`
/// reconciles: the one in its namespace that its `tenantRef` names.
pub fn tenants_of_campaign(
    tenants: &[Arc<Tenant>],
    campaign: &ReviewCampaign,
) -> Vec<ObjectRef<Tenant>> {
    let namespace = campaign.namespace();
    tenants
        .iter()
        .filter(|tenant| {
            tenant.namespace() == namespace && tenant.name_any() == campaign.spec.tenant_ref
        })
        .map(|tenant| ObjectRef::from_obj(&**tenant))
        .collect()
}
