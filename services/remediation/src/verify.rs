//! Verifying EHR tasks against the next EHR export.

use chrono::{DateTime, Utc};
use rollcall_core::model::{AccountStatus, SourceSnapshot};
use rollcall_store::{
    RemediationTask, StoreError, TaskKind, TaskState, TaskTransition, TenantScope,
};
use serde_json::json;

use crate::ACTOR;

/// Marks the open EHR and EPCS tasks of `snapshot`'s source as verified where the
/// snapshot no longer lists the account, or lists it disabled. Returns the tasks it
/// verified. The engine calls this after it applied an EHR snapshot.
///
/// An account that is still enabled keeps its task open, also when its EPCS status
/// changed, because the task requests that the account be disabled.
///
/// # Errors
///
/// [`StoreError`] when reading or updating the tasks fails.
pub async fn verify_ehr_tasks(
    scope: &TenantScope<'_>,
    snapshot: &SourceSnapshot,
    at: DateTime<Utc>,
) -> Result<Vec<RemediationTask>, StoreError> {
    let open = scope.remediation_tasks().await?.into_iter().filter(|task| {
        task.source == snapshot.source
            && task.state == TaskState::Open
            && matches!(task.kind, TaskKind::EhrTask | TaskKind::EpcsTask)
    });
    let mut verified = Vec::new();
    for task in open.collect::<Vec<_>>() {
        let account = snapshot.accounts.iter().find(|account| account.id == task.account_id);
        let export_status = match account {
            None => "absent",
            Some(account) if account.status == AccountStatus::Disabled => "disabled",
            Some(_) => continue,
        };
        let transition = TaskTransition {
            state: TaskState::Verified,
            attempt: false,
            error: None,
            detail: json!({
                "export_status": export_status,
                "export_collected_at": snapshot.collected_at.map(|instant| instant.to_rfc3339()),
            }),
        };
        if let Some((task, true)) =
            scope.transition_remediation_task(&task.task_id, &transition, ACTOR, at).await?
        {
            tracing::info!(tenant = %scope.tenant_id(), source = %task.source, account = %task.account_id, "EHR remediation task verified by the export");
            verified.push(task);
        }
    }
    Ok(verified)
}
