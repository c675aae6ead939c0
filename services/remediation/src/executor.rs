//! Carrying out actions in a mode, with every step recorded in the store and the audit
//! chain.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rollcall_core::model::SourceId;
use rollcall_entra_connector::{GraphClient, Transport};
use rollcall_ldap_connector::Directory;
use rollcall_ldap_connector::client::Session;
use rollcall_store::{
    RemediationMode, RemediationTask, TaskKind, TaskState, TaskTransition, TenantScope,
};
use serde_json::{Value, json};

use crate::ACTOR;
use crate::error::RemediationError;
use crate::ldap::{LdapDisable, disable_account};
use crate::plan::Action;

/// Graph access for one Entra source. The client's request budget counts the requests
/// of every run of the executor, so create an executor per run.
pub struct EntraAccess<'a, T: Transport> {
    /// A client for the tenant's directory, with an app that has
    /// `User.EnableDisableAccount.All`, `User.Read.All` and `User.RevokeSessions.All`.
    pub client: GraphClient<'a, T>,
    /// Graph's base URL without `/v1.0`, such as `https://graph.microsoft.com`.
    pub graph_url: String,
}

/// Write access to one LDAP source.
#[derive(Debug, Clone)]
pub struct LdapAccess {
    /// The connection and bind. The bind account must be allowed to write the attribute
    /// `disable` changes, which the connector's read-only account is not.
    pub directory: Directory,
    /// The method that disables accounts.
    pub disable: LdapDisable,
}

/// The result of one action, with its task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The task id in the store (empty for a skipped action, which stores nothing).
    pub task_id: String,
    /// The action.
    pub action: Action,
    /// The result.
    pub kind: OutcomeKind,
}

/// The result of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    /// The mode is `Off` and the action is not a revoke task: nothing was recorded or
    /// changed.
    Skipped,
    /// Dry run: the action was recorded as what would be done; nothing was changed.
    DryRun,
    /// The directory account was disabled, or the group member removed, in this run.
    Done,
    /// The EHR, EPCS or revoke task was opened for the administrators in this run.
    Opened,
    /// An EPCS task that two different people have not approved yet.
    AwaitingApproval,
    /// An earlier run carried the action out; it was not repeated.
    AlreadyCarriedOut(TaskState),
    /// The action failed with this reason; the next enforce run tries again.
    Failed(String),
}

/// Runs actions for one tenant.
pub struct Executor<'a, T: Transport> {
    scope: TenantScope<'a>,
    entra: BTreeMap<SourceId, EntraAccess<'a, T>>,
    ldap: BTreeMap<SourceId, LdapAccess>,
    /// Per source without access, the reason an enforced action of it fails.
    missing: BTreeMap<SourceId, String>,
}

impl<'a, T: Transport> Executor<'a, T> {
    /// Creates an executor that records in `scope`, with no source access yet.
    pub fn new(scope: TenantScope<'a>) -> Self {
        Self { scope, entra: BTreeMap::new(), ldap: BTreeMap::new(), missing: BTreeMap::new() }
    }

    /// Records why `source` has no write access, such as the configuration key to set.
    /// An enforced action of that source fails with `reason`, which the task keeps as
    /// its last error.
    pub fn without_access(mut self, source: SourceId, reason: String) -> Self {
        self.missing.insert(source, reason);
        self
    }

    /// Adds Graph access for the Entra source `source`.
    pub fn with_entra(mut self, source: SourceId, access: EntraAccess<'a, T>) -> Self {
        self.entra.insert(source, access);
        self
    }

    /// Adds write access for the LDAP source `source`.
    pub fn with_ldap(mut self, source: SourceId, access: LdapAccess) -> Self {
        self.ldap.insert(source, access);
        self
    }

    /// Returns the Graph access of `source`, for its request statistics.
    pub fn entra_access(&self, source: &SourceId) -> Option<&EntraAccess<'a, T>> {
        self.entra.get(source)
    }

    /// Carries out `actions` in `mode` at instant `at`, and returns one outcome per
    /// action in order.
    ///
    /// A [`TaskKind::RevokeTask`] is opened for the administrators in every mode. In `Off`
    /// every other action returns [`OutcomeKind::Skipped`] and touches nothing. Otherwise the
    /// actions are first recorded as planned tasks, then each task that was not carried
    /// out before is dry-run or enforced, and its new state is recorded with an audit
    /// entry. A failure of one action is an [`OutcomeKind::Failed`] outcome, and the
    /// other actions still run.
    ///
    /// NOTE: two runs for the same tenant at the same time could both act on a task that
    /// neither has recorded yet. The caller runs one remediation per tenant at a time,
    /// as the engine's per-tenant evaluation lock does.
    ///
    /// # Errors
    ///
    /// [`RemediationError::TenantMismatch`] before anything is recorded when an action
    /// names another tenant, and [`RemediationError::Store`] when the store fails.
    pub async fn run(
        &mut self,
        actions: &[Action],
        mode: RemediationMode,
        at: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, RemediationError> {
        if let Some(action) = actions.iter().find(|a| &a.target.tenant != self.scope.tenant_id()) {
            return Err(RemediationError::TenantMismatch {
                scope: self.scope.tenant_id().to_string(),
                found: action.target.tenant.to_string(),
            });
        }
        // A revoke task is recorded in every mode, `Off` included: it hands a signed-off
        // review decision to the administrators and changes nothing by itself.
        let records =
            |action: &Action| mode != RemediationMode::Off || action.kind == TaskKind::RevokeTask;
        let tasks: Vec<_> = actions.iter().filter(|a| records(a)).map(Action::task).collect();
        let mut stored = if tasks.is_empty() {
            Vec::new()
        } else {
            self.scope.plan_remediation(&tasks, ACTOR, at).await?
        }
        .into_iter();
        let mut sessions: BTreeMap<SourceId, Session> = BTreeMap::new();
        let mut outcomes = Vec::with_capacity(actions.len());
        for action in actions {
            let stored_task = if records(action) { stored.next() } else { None };
            let Some((task, _)) = stored_task else {
                outcomes.push(Outcome {
                    task_id: String::new(),
                    action: action.clone(),
                    kind: OutcomeKind::Skipped,
                });
                continue;
            };
            let kind = match mode {
                _ if action.kind == TaskKind::RevokeTask => {
                    self.open_task(action, &task, mode, at).await?
                }
                RemediationMode::DryRun => self.dry_run(action, &task, at).await?,
                _ => self.enforce(action, &task, &mut sessions, at).await?,
            };
            outcomes.push(Outcome { task_id: task.task_id, action: action.clone(), kind });
        }
        for (_, session) in sessions {
            session.close().await;
        }
        Ok(outcomes)
    }

    /// Opens a task for the administrators, in any mode.
    async fn open_task(
        &self,
        action: &Action,
        task: &RemediationTask,
        mode: RemediationMode,
        at: DateTime<Utc>,
    ) -> Result<OutcomeKind, RemediationError> {
        if task.state.is_carried_out() {
            return Ok(OutcomeKind::AlreadyCarriedOut(task.state));
        }
        let transition = TaskTransition {
            state: TaskState::Open,
            attempt: false,
            error: None,
            detail: json!({ "mode": mode.as_str(), "task": action.instruction() }),
        };
        self.record(task, &transition, at).await?;
        Ok(OutcomeKind::Opened)
    }

    async fn dry_run(
        &self,
        action: &Action,
        task: &RemediationTask,
        at: DateTime<Utc>,
    ) -> Result<OutcomeKind, RemediationError> {
        if task.state.is_carried_out() {
            return Ok(OutcomeKind::AlreadyCarriedOut(task.state));
        }
        // A task already dry-run is not recorded again, so repeated dry runs of the same
        // leaver add nothing to the audit log.
        if task.state != TaskState::DryRun {
            let transition = TaskTransition {
                state: TaskState::DryRun,
                attempt: false,
                error: None,
                detail: json!({ "mode": "dry_run", "would": action.instruction() }),
            };
            self.record(task, &transition, at).await?;
        }
        Ok(OutcomeKind::DryRun)
    }

    async fn enforce(
        &mut self,
        action: &Action,
        task: &RemediationTask,
        sessions: &mut BTreeMap<SourceId, Session>,
        at: DateTime<Utc>,
    ) -> Result<OutcomeKind, RemediationError> {
        if task.state.is_carried_out() {
            return Ok(OutcomeKind::AlreadyCarriedOut(task.state));
        }
        let instruction = action.instruction();
        let result = match action.kind {
            TaskKind::DisableEntraUser => self.disable_entra(action).await,
            TaskKind::DisableLdapAccount => self.disable_ldap(action, sessions).await,
            TaskKind::RemoveGroupMember => self.remove_member(action, sessions).await,
            TaskKind::EhrTask | TaskKind::RevokeTask => Ok(json!({ "task": instruction })),
            TaskKind::EpcsTask if task.is_approved() => Ok(json!({
                "task": instruction,
                "approvers": [task.first_approver, task.second_approver],
            })),
            TaskKind::EpcsTask => {
                if task.state != TaskState::AwaitingApproval {
                    let transition = TaskTransition {
                        state: TaskState::AwaitingApproval,
                        attempt: false,
                        error: None,
                        detail: json!({ "mode": "enforce", "approvals": approvals(task) }),
                    };
                    self.record(task, &transition, at).await?;
                }
                return Ok(OutcomeKind::AwaitingApproval);
            }
        };
        let (state, outcome, error, detail) = match (action.kind, result) {
            (TaskKind::EhrTask | TaskKind::EpcsTask | TaskKind::RevokeTask, Ok(detail)) => {
                (TaskState::Open, OutcomeKind::Opened, None, detail)
            }
            (_, Ok(detail)) => (TaskState::Done, OutcomeKind::Done, None, detail),
            (_, Err(reason)) => {
                tracing::warn!(tenant = %action.target.tenant, source = %action.target.source, account = %action.target.account_id, error = %reason, "remediation action failed");
                (TaskState::Failed, OutcomeKind::Failed(reason.clone()), Some(reason), Value::Null)
            }
        };
        let mut detail = match detail {
            Value::Object(fields) => fields,
            _ => serde_json::Map::new(),
        };
        detail.insert("mode".into(), json!("enforce"));
        let transition =
            TaskTransition { state, attempt: true, error, detail: Value::Object(detail) };
        self.record(task, &transition, at).await?;
        Ok(outcome)
    }

    async fn disable_entra(&mut self, action: &Action) -> Result<Value, String> {
        let source = &action.target.source;
        let Some(access) = self.entra.get_mut(source) else {
            return Err(self.no_access(source));
        };
        crate::entra::disable_user(&mut access.client, &access.graph_url, &action.target.account_id)
            .await
    }

    fn no_access(&self, source: &SourceId) -> String {
        self.missing.get(source).cloned().unwrap_or_else(|| {
            format!("no write access is configured for source `{source}`, so nothing was changed")
        })
    }

    async fn remove_member(
        &mut self,
        action: &Action,
        sessions: &mut BTreeMap<SourceId, Session>,
    ) -> Result<Value, String> {
        let Some((grant, _)) = &action.grant else {
            return Err("the action names no group to remove the account from".to_owned());
        };
        let source = &action.target.source;
        if let Some(access) = self.entra.get_mut(source) {
            return crate::entra::remove_member(
                &mut access.client,
                &access.graph_url,
                &grant.entitlement_id,
                &action.target.account_id,
            )
            .await;
        }
        let session = self.ldap_session(source, sessions).await?;
        crate::ldap::remove_member(session, &grant.entitlement_id, &action.target.account_id).await
    }

    async fn disable_ldap(
        &self,
        action: &Action,
        sessions: &mut BTreeMap<SourceId, Session>,
    ) -> Result<Value, String> {
        let source = &action.target.source;
        let Some(disable) = self.ldap.get(source).map(|access| access.disable.clone()) else {
            return Err(self.no_access(source));
        };
        let session = self.ldap_session(source, sessions).await?;
        disable_account(session, &action.target.account_id, &disable).await
    }

    /// Returns the open session of `source`, opening it on first use.
    async fn ldap_session<'s>(
        &self,
        source: &SourceId,
        sessions: &'s mut BTreeMap<SourceId, Session>,
    ) -> Result<&'s mut Session, String> {
        let Some(access) = self.ldap.get(source) else {
            return Err(self.no_access(source));
        };
        if !sessions.contains_key(source) {
            let session =
                Session::open(&access.directory).await.map_err(|error| error.to_string())?;
            sessions.insert(source.clone(), session);
        }
        sessions
            .get_mut(source)
            .ok_or_else(|| format!("the connection to source `{source}` was lost"))
    }

    async fn record(
        &self,
        task: &RemediationTask,
        transition: &TaskTransition,
        at: DateTime<Utc>,
    ) -> Result<(), RemediationError> {
        self.scope.transition_remediation_task(&task.task_id, transition, ACTOR, at).await?;
        Ok(())
    }
}

fn approvals(task: &RemediationTask) -> Vec<&str> {
    [task.first_approver.as_deref(), task.second_approver.as_deref()]
        .into_iter()
        .flatten()
        .collect()
}
