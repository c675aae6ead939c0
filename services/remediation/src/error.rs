//! The errors that stop a remediation run.

use rollcall_store::StoreError;

/// A failure that stops a whole run. A failure of one action is not an error: it is an
/// [`OutcomeKind::Failed`](crate::OutcomeKind::Failed) outcome, recorded in the audit log.
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    /// Reading or writing tasks or the audit log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An action names another tenant than the executor's store scope.
    #[error(
        "an action for tenant `{found}` was given to the executor of tenant `{scope}`: run each tenant's actions with its own executor"
    )]
    TenantMismatch {
        /// The tenant of the executor's scope.
        scope: String,
        /// The tenant the action names.
        found: String,
    },
}
