//! Reconciling `AccessPolicy` resources: report in the `Ready` condition whether the
//! policy compiles in `rollcall-core`, so a mistake shows on the policy itself and not
//! only on each `Tenant` that names it.

use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource as _, ResourceExt as _};
use rollcall_core::policy::{Policy, PolicySpec};

use crate::reconcile::{Context, MANAGER, RETRY_AFTER, ReconcileError};
use crate::resources::{AccessPolicy, AccessPolicySpec};
use crate::status::ready_status;

/// Checks that `spec` converts to the policy file text that `rollcall-core` accepts, and
/// returns the error message when it does not.
pub fn check(spec: &AccessPolicySpec) -> Result<(), String> {
    let text = serde_yaml_ng::to_string(spec)
        .map_err(|e| format!("rendering the policy as YAML failed: {e}"))?;
    let parsed: PolicySpec =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("invalid policy: {e}"))?;
    Policy::compile(&parsed).map_err(|e| format!("invalid policy: {e}"))?;
    Ok(())
}

/// Sets the `Ready` condition of one `AccessPolicy`. The status is patched only when the
/// condition or the generation changed, so the patch does not start another reconcile.
pub async fn reconcile(
    policy: Arc<AccessPolicy>,
    context: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let namespace =
        policy.namespace().ok_or_else(|| ReconcileError::NoNamespace(policy.name_any()))?;
    let (ready, reason, message) = match check(&policy.spec) {
        Ok(()) => (true, "Valid", "the policy compiles".to_owned()),
        Err(message) => (false, "Invalid", message),
    };
    let generation = policy.meta().generation;
    let (status, unchanged) =
        ready_status(policy.status.as_ref(), generation, ready, reason, &message);
    let observed = policy.status.as_ref().and_then(|s| s.observed_generation);
    if unchanged && observed == generation {
        return Ok(Action::await_change());
    }
    let api: Api<AccessPolicy> = Api::namespaced(context.client.clone(), &namespace);
    api.patch_status(
        &policy.name_any(),
        &PatchParams { field_manager: Some(MANAGER.to_owned()), ..PatchParams::default() },
        &Patch::Merge(&serde_json::json!({ "status": status })),
    )
    .await?;
    tracing::info!(namespace, name = %policy.name_any(), ready, reason, "checked the AccessPolicy");
    Ok(Action::await_change())
}

/// Logs a failed `AccessPolicy` reconcile and schedules a retry.
pub fn error_policy(
    policy: Arc<AccessPolicy>,
    error: &ReconcileError,
    _context: Arc<Context>,
) -> Action {
    tracing::warn!(
        namespace = policy.namespace().unwrap_or_default(),
        name = %policy.name_any(),
        error = %error,
        "reconciling the AccessPolicy failed; retrying in {} seconds",
        RETRY_AFTER.as_secs()
    );
    Action::requeue(RETRY_AFTER)
}
