//! The controller loops: one reconciles every `Tenant` whose spec or policy changed, the
//! other sets the `Ready` condition of every `AccessPolicy`.

use std::sync::Arc;

use futures_util::StreamExt as _;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, ResourceExt as _};

use crate::policy;
use crate::reconcile::{Context, error_policy, reconcile};
use crate::resources::{AccessPolicy, Tenant};

/// Runs both controllers until the process receives SIGTERM or Ctrl-C. `namespace` limits
/// it to one namespace; `None` watches all of them. The caller holds the leader lease
/// ([`crate::lease`]) while this runs.
///
/// NOTE: the tests call [`reconcile`] and the lease against a mocked API server. This
/// watch wiring and the AccessPolicy-to-Tenant mapping have not run against a real cluster.
pub async fn run(context: Context, namespace: Option<&str>) {
    let client = context.client.clone();
    let (tenants, policies): (Api<Tenant>, Api<AccessPolicy>) = match namespace {
        Some(namespace) => {
            (Api::namespaced(client.clone(), namespace), Api::namespaced(client, namespace))
        }
        None => (Api::all(client.clone()), Api::all(client)),
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
    let controller = Controller::new(tenants, watcher::Config::default());
    let cache = controller.store();
    let tenant_controller = controller
        // A policy change reconciles every Tenant in its namespace that names it.
        .watches(policies, watcher::Config::default(), move |policy: AccessPolicy| {
            let namespace = policy.namespace();
            let name = policy.name_any();
            cache
                .state()
                .into_iter()
                .filter(|tenant| {
                    tenant.namespace() == namespace
                        && tenant.spec.access_policy_ref.as_ref().is_some_and(|r| r.name == name)
                })
                .map(|tenant| ObjectRef::from_obj(&*tenant))
                .collect::<Vec<_>>()
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
