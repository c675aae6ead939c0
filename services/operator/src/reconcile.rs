//! Reconciling `Tenant` resources. The reconcile renders the tenant's `tenant.yaml` with
//! its review campaigns and its policy, and stores them through
//! [`Store::apply_tenant_texts`], the path `rollcall-engine tenant apply` uses. It reports
//! the outcome in the `Ready` condition of the `Tenant` and of each `ReviewCampaign`, and
//! in a Kubernetes Event.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{self, finalizer};
use kube::{Api, Client, Resource as _, ResourceExt};
use rollcall_core::TenantId;
use rollcall_ingest::tenant_file::parse_stored;
use rollcall_store::{AuditEntry, Store, StoreError, TenantApplyError};

use crate::render::render;
use crate::resources::{AccessPolicy, ReviewCampaign, Tenant};
use crate::status::ready_status;

/// The finalizer that lets the operator record a `Tenant`'s deletion before it is gone.
pub const FINALIZER: &str = "rollcall.dev/tenant-config";

/// The actor the audit log records for the operator's writes.
pub const ACTOR: &str = "rollcall-operator";

/// The field manager of the operator's patches.
pub(crate) const MANAGER: &str = "rollcall-operator";

/// How long until a failed reconcile is retried.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The state every reconcile shares.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// The PostgreSQL store the engine reads tenant configurations from.
    pub store: Store,
    /// The name the operator's Events are reported under.
    pub reporter: Reporter,
}

/// An error reconciling a `Tenant`.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The resource has no namespace, which a namespaced resource always has.
    #[error("Tenant `{0}` has no namespace")]
    NoNamespace(String),
    /// A Kubernetes API call failed.
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// Storing the configuration failed.
    #[error("storing the tenant configuration failed: {0}")]
    Store(#[from] StoreError),
    /// Adding or removing the finalizer failed.
    #[error("finalizer handling failed: {0}")]
    Finalizer(#[source] Box<finalizer::Error<ReconcileError>>),
}

/// Reconciles one `Tenant`. A `Tenant` without the finalizer only gets the finalizer
/// added; the change that patch makes starts the next reconcile, which stores the config.
pub async fn reconcile(
    tenant: Arc<Tenant>,
    context: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let namespace =
        tenant.namespace().ok_or_else(|| ReconcileError::NoNamespace(tenant.name_any()))?;
    let api: Api<Tenant> = Api::namespaced(context.client.clone(), &namespace);
    finalizer(&api, FINALIZER, tenant, |event| async {
        match event {
            finalizer::Event::Apply(tenant) => apply(&tenant, &namespace, &context).await,
            finalizer::Event::Cleanup(tenant) => cleanup(&tenant, &namespace, &context).await,
        }
    })
    .await
    .map_err(|error| ReconcileError::Finalizer(Box::new(error)))
}

/// Logs a failed reconcile and schedules a retry.
pub fn error_policy(tenant: Arc<Tenant>, error: &ReconcileError, _context: Arc<Context>) -> Action {
    tracing::warn!(
        namespace = tenant.namespace().unwrap_or_default(),
        name = %tenant.name_any(),
        tenant = %tenant.spec.tenant_id,
        error = %error,
        "reconciling the Tenant failed; retrying in {} seconds",
        RETRY_AFTER.as_secs()
    );
    Action::requeue(RETRY_AFTER)
}

/// The outcome of one apply, as the `Ready` condition states it.
#[derive(Debug, Clone)]
struct Outcome {
    ready: bool,
    /// Whether the stored texts changed, which is worth an Event even when the condition
    /// stays the same.
    stored_change: bool,
    reason: &'static str,
    message: String,
}

async fn apply(
    tenant: &Tenant,
    namespace: &str,
    context: &Context,
) -> Result<Action, ReconcileError> {
    let (outcome, campaigns) = match store_config(tenant, namespace, context).await {
        Ok((outcome, campaigns)) if outcome.ready => {
            (check_source_secrets(tenant, namespace, context, outcome).await?, campaigns)
        }
        Ok(stored) => stored,
        Err(StoreFailure::Store(error)) => {
            let outcome = Outcome {
                ready: false,
                stored_change: false,
                reason: "StoreFailed",
                message: format!("storing the tenant configuration failed: {error}"),
            };
            report(tenant, namespace, context, &outcome).await?;
            return Err(error.into());
        }
        Err(StoreFailure::Kube(error)) => return Err(error.into()),
    };
    tracing::info!(
        namespace,
        name = %tenant.name_any(),
        tenant = %tenant.spec.tenant_id,
        ready = outcome.ready,
        reason = outcome.reason,
        "reconciled the Tenant"
    );
    report(tenant, namespace, context, &outcome).await?;
    for (campaign, campaign_outcome) in &campaigns {
        report_campaign(campaign, namespace, context, campaign_outcome).await?;
    }
    // The controller watches the Tenant and its AccessPolicy, so invalid input is retried
    // on their next change. The periodic requeue restores a row that `tenant apply`
    // overwrote.
    Ok(Action::requeue(Duration::from_secs(600)))
}

enum StoreFailure {
    Store(StoreError),
    Kube(kube::Error),
}

/// Renders and stores the configuration. Returns its outcome and the outcome of each
/// `ReviewCampaign` that names the tenant. Invalid input is an [`Outcome`], not an
/// error, because retrying cannot fix it. An invalid campaign is left out and reported on
/// its own resource, so it does not block the rest of the tenant's configuration.
async fn store_config(
    tenant: &Tenant,
    namespace: &str,
    context: &Context,
) -> Result<(Outcome, Vec<(ReviewCampaign, Outcome)>), StoreFailure> {
    let policy = match &tenant.spec.access_policy_ref {
        Some(reference) => {
            let api: Api<AccessPolicy> = Api::namespaced(context.client.clone(), namespace);
            match api.get_opt(&reference.name).await.map_err(StoreFailure::Kube)? {
                Some(policy) => Some(policy),
                None => {
                    let outcome = Outcome {
                        ready: false,
                        stored_change: false,
                        reason: "AccessPolicyNotFound",
                        message: format!(
                            "AccessPolicy `{}` not found in namespace `{namespace}`",
                            reference.name
                        ),
                    };
                    return Ok((outcome, Vec::new()));
                }
            }
        }
        None => None,
    };
    let campaigns = tenant_campaigns(tenant, namespace, context).await?;

    let base = match render(tenant, policy.as_ref(), &[]) {
        Ok(text) => text,
        Err(error) => return Ok((invalid(&error), Vec::new())),
    };
    if let Err(error) = parse_stored(&base.tenant_yaml, base.policy_yaml.as_deref()) {
        let tenant_invalid = Outcome {
            ready: false,
            stored_change: false,
            reason: "TenantInvalid",
            message: format!("Tenant `{}` is invalid: {error}", tenant.name_any()),
        };
        let outcomes = campaigns.into_iter().map(|c| (c, tenant_invalid.clone())).collect();
        return Ok((invalid(&error), outcomes));
    }

    // Each campaign is checked alone with the tenant, so an error names that campaign.
    let mut outcomes = Vec::with_capacity(campaigns.len());
    let mut left_out = Vec::new();
    for campaign in campaigns {
        let checked = render(tenant, policy.as_ref(), &[&campaign]).map_err(|e| e.to_string());
        let checked = checked.and_then(|text| {
            parse_stored(&text.tenant_yaml, text.policy_yaml.as_deref()).map_err(|e| e.to_string())
        });
        let outcome = match checked {
            Ok(_) => Outcome {
                ready: true,
                stored_change: false,
                reason: "Stored",
                message: format!(
                    "stored in the configuration of tenant `{}`",
                    tenant.spec.tenant_id
                ),
            },
            Err(error) => {
                left_out.push(campaign.name_any());
                Outcome { ready: false, stored_change: false, reason: "Invalid", message: error }
            }
        };
        outcomes.push((campaign, outcome));
    }
    let valid: Vec<&ReviewCampaign> =
        outcomes.iter().filter(|(_, outcome)| outcome.ready).map(|(c, _)| c).collect();
    let text = match render(tenant, policy.as_ref(), &valid) {
        Ok(text) => text,
        Err(error) => return Ok((invalid(&error), outcomes)),
    };
    match context.store.apply_tenant_texts(&text, ACTOR).await {
        Ok(applied) => {
            let mut message = format!("the configuration of tenant `{}` is stored", applied.tenant);
            if !left_out.is_empty() {
                message.push_str(&format!(
                    "; invalid ReviewCampaigns left out: {}",
                    left_out.join(", ")
                ));
            }
            let outcome =
                Outcome { ready: true, reason: "Applied", stored_change: applied.changed, message };
            Ok((outcome, outcomes))
        }
        Err(TenantApplyError::Invalid(error)) => Ok((invalid(&error), outcomes)),
        Err(TenantApplyError::Store(error)) => Err(StoreFailure::Store(error)),
    }
}

/// Checks that the Secret each source names exists in `namespace` and contains the named
/// key. The configuration is stored either way, since the engine needs no credentials.
/// A missing Secret turns `stored` into a not-ready outcome that names it, because the
/// connector of that source cannot sign in until it is created.
async fn check_source_secrets(
    tenant: &Tenant,
    namespace: &str,
    context: &Context,
    stored: Outcome,
) -> Result<Outcome, kube::Error> {
    let api: Api<Secret> = Api::namespaced(context.client.clone(), namespace);
    let mut missing = Vec::new();
    for source in &tenant.spec.sources {
        let reference = &source.secret_ref;
        let what = format!("the {} source `{}`", source.kind.as_str(), source.id);
        match api.get_opt(&reference.name).await? {
            None => missing.push(format!("Secret `{}` of {what} not found", reference.name)),
            Some(secret) => {
                let Some(key) = &reference.key else { continue };
                let in_data = secret.data.as_ref().is_some_and(|data| data.contains_key(key));
                let in_text =
                    secret.string_data.as_ref().is_some_and(|data| data.contains_key(key));
                if !in_data && !in_text {
                    missing
                        .push(format!("Secret `{}` of {what} has no key `{key}`", reference.name));
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(stored);
    }
    Ok(Outcome {
        ready: false,
        stored_change: stored.stored_change,
        reason: "SourceSecretMissing",
        message: format!(
            "{}, but {}: create {} in namespace `{namespace}` so the connector can read its \
             source",
            stored.message,
            missing.join("; "),
            if missing.len() == 1 { "it" } else { "them" }
        ),
    })
}

/// Lists the `ReviewCampaign`s of `namespace` whose `tenantRef` names `tenant`, by name.
async fn tenant_campaigns(
    tenant: &Tenant,
    namespace: &str,
    context: &Context,
) -> Result<Vec<ReviewCampaign>, StoreFailure> {
    let api: Api<ReviewCampaign> = Api::namespaced(context.client.clone(), namespace);
    let list = api.list(&ListParams::default()).await.map_err(StoreFailure::Kube)?;
    let name = tenant.name_any();
    let mut campaigns: Vec<ReviewCampaign> =
        list.items.into_iter().filter(|c| c.spec.tenant_ref == name).collect();
    campaigns.sort_by_key(ResourceExt::name_any);
    Ok(campaigns)
}

fn invalid(error: &dyn std::fmt::Display) -> Outcome {
    Outcome { ready: false, stored_change: false, reason: "Invalid", message: error.to_string() }
}

/// Patches the `Ready` condition, and publishes an Event when the condition or the stored
/// texts changed.
async fn report(
    tenant: &Tenant,
    namespace: &str,
    context: &Context,
    outcome: &Outcome,
) -> Result<(), kube::Error> {
    let (new_status, unchanged) = ready_status(
        tenant.status.as_ref(),
        tenant.meta().generation,
        outcome.ready,
        outcome.reason,
        &outcome.message,
    );
    // An unchanged status is not written: each write is a watch event, and writing on
    // every reconcile would keep the operator reconciling its own writes.
    let same_generation =
        tenant.status.as_ref().and_then(|s| s.observed_generation) == tenant.meta().generation;
    if !(unchanged && same_generation) {
        let api: Api<Tenant> = Api::namespaced(context.client.clone(), namespace);
        let patch = serde_json::json!({ "status": new_status });
        api.patch_status(
            &tenant.name_any(),
            &PatchParams { field_manager: Some(MANAGER.to_owned()), ..PatchParams::default() },
            &Patch::Merge(&patch),
        )
        .await?;
    }

    if unchanged && !outcome.stored_change {
        return Ok(());
    }
    let recorder = Recorder::new(context.client.clone(), context.reporter.clone());
    let event = Event {
        type_: if outcome.ready { EventType::Normal } else { EventType::Warning },
        reason: outcome.reason.to_owned(),
        note: Some(outcome.message.clone()),
        action: "StoreTenantConfig".to_owned(),
        secondary: None,
    };
    // An Event only informs, so a failure to post it is logged and the reconcile, whose
    // status patch went through, still succeeds.
    if let Err(error) = recorder.publish(&event, &tenant.object_ref(&())).await {
        tracing::warn!(
            namespace,
            name = %tenant.name_any(),
            tenant = %tenant.spec.tenant_id,
            reason = outcome.reason,
            error = %error,
            "posting the Event failed"
        );
    }
    Ok(())
}

/// Writes the `Ready` condition of `campaign` when it changed.
async fn report_campaign(
    campaign: &ReviewCampaign,
    namespace: &str,
    context: &Context,
    outcome: &Outcome,
) -> Result<(), kube::Error> {
    let generation = campaign.meta().generation;
    let (new_status, unchanged) = ready_status(
        campaign.status.as_ref(),
        generation,
        outcome.ready,
        outcome.reason,
        &outcome.message,
    );
    let same_generation =
        campaign.status.as_ref().and_then(|s| s.observed_generation) == generation;
    if unchanged && same_generation {
        return Ok(());
    }
    tracing::info!(
        namespace,
        name = %campaign.name_any(),
        tenant = %campaign.spec.tenant_ref,
        ready = outcome.ready,
        reason = outcome.reason,
        "ReviewCampaign status changed"
    );
    let api: Api<ReviewCampaign> = Api::namespaced(context.client.clone(), namespace);
    let patch = serde_json::json!({ "status": new_status });
    api.patch_status(
        &campaign.name_any(),
        &PatchParams { field_manager: Some(MANAGER.to_owned()), ..PatchParams::default() },
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// Records the deletion of a `Tenant` in the tenant's audit log.
///
/// NOTE: deletion keeps the stored configuration, snapshots and findings: the engine
/// goes on evaluating the tenant from the last stored texts, and the findings and audit
/// chain are compliance records that the retention job removes on its own schedule. The
/// `tenant_config` table has no column that marks a configuration removed.
/// TODO: stop evaluating a tenant whose resource was deleted once `tenant_config` can
/// mark a configuration removed.
async fn cleanup(
    tenant: &Tenant,
    namespace: &str,
    context: &Context,
) -> Result<Action, ReconcileError> {
    let Ok(id) = TenantId::new(tenant.spec.tenant_id.trim()) else {
        // An invalid id was never stored, so there is nothing to record.
        return Ok(Action::await_change());
    };
    let scope = context.store.tenant(&id);
    if scope.tenant_config().await?.is_none() {
        return Ok(Action::await_change());
    }
    let entry = AuditEntry {
        at: chrono::Utc::now(),
        actor: ACTOR.to_owned(),
        action: "tenant_config.resource_deleted".to_owned(),
        detail: serde_json::json!({ "namespace": namespace, "name": tenant.name_any() }),
    };
    scope.append_audit(&entry).await?;
    tracing::info!(namespace, name = %tenant.name_any(), tenant = %id, "recorded the deletion of the Tenant");
    Ok(Action::await_change())
}
