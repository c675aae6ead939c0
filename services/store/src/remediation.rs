//! Leaver remediation: each tenant's settings and the remediation tasks with their state
//! and approvals. Every change is appended to the audit chain in its own transaction, so
//! a task row and its audit entry are written together or not at all.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rollcall_core::model::SourceId;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The remediation mode of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemediationMode {
    /// Nothing is planned, recorded or changed. The default.
    #[default]
    Off,
    /// Actions are recorded as what would be done, and nothing is changed.
    DryRun,
    /// Actions are carried out.
    Enforce,
}

impl RemediationMode {
    /// Returns the name stored in the `mode` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationMode::Off => "off",
            RemediationMode::DryRun => "dry_run",
            RemediationMode::Enforce => "enforce",
        }
    }

    /// Parses a stored or configured name.
    pub fn parse(text: &str) -> Option<Self> {
        [RemediationMode::Off, RemediationMode::DryRun, RemediationMode::Enforce]
            .into_iter()
            .find(|mode| mode.as_str() == text)
    }
}

/// A tenant's remediation settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemediationSettings {
    /// The mode; `Off` for a tenant that never set one.
    pub mode: RemediationMode,
    /// The sources remediation may act on. Accounts of other sources are left alone.
    pub sources: BTreeSet<SourceId>,
}

/// The kinds of remediation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskKind {
    /// Disable an Entra ID user and revoke its sign-in sessions through Microsoft Graph.
    DisableEntraUser,
    /// Disable an LDAP or Active Directory account.
    DisableLdapAccount,
    /// A task for the EHR's administrators, verified by the next EHR export.
    EhrTask,
    /// An EHR task for a prescriber with EPCS rights, which needs two approvers.
    EpcsTask,
    /// Remove an account's direct membership of an Entra ID or LDAP group, revoked in an
    /// access review.
    RemoveGroupMember,
    /// A task for the source's administrators to remove access revoked in an access
    /// review that Rollcall does not remove itself: EHR roles, directory roles, grants
    /// through a nested group, and every revoke while remediation is not enforced.
    RevokeTask,
}

impl TaskKind {
    /// Returns the name stored in the `kind` column and written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::DisableEntraUser => "disable_entra_user",
            TaskKind::DisableLdapAccount => "disable_ldap_account",
            TaskKind::EhrTask => "ehr_task",
            TaskKind::EpcsTask => "epcs_task",
            TaskKind::RemoveGroupMember => "remove_group_member",
            TaskKind::RevokeTask => "revoke_task",
        }
    }

    /// Whether the task carries out a revoke decision of an access review.
    pub fn is_revoke(self) -> bool {
        matches!(self, TaskKind::RemoveGroupMember | TaskKind::RevokeTask)
    }

    fn parse(text: &str) -> Option<Self> {
        [
            TaskKind::DisableEntraUser,
            TaskKind::DisableLdapAccount,
            TaskKind::EhrTask,
            TaskKind::EpcsTask,
            TaskKind::RemoveGroupMember,
            TaskKind::RevokeTask,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// The state of a remediation task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskState {
    /// Recorded, not yet run.
    Planned,
    /// Run in dry-run mode: recorded what would be done, changed nothing.
    DryRun,
    /// An EPCS task run in enforce mode before two people approved it.
    AwaitingApproval,
    /// An EHR or EPCS task handed to the EHR's administrators, waiting for an export
    /// that shows the account disabled or gone.
    Open,
    /// A directory account disabled by Rollcall. Final.
    Done,
    /// The last enforce attempt failed; the next run tries again.
    Failed,
    /// An EHR export showed the account disabled or gone. Final.
    Verified,
}

impl TaskState {
    /// Returns the name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Planned => "planned",
            TaskState::DryRun => "dry_run",
            TaskState::AwaitingApproval => "awaiting_approval",
            TaskState::Open => "open",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
            TaskState::Verified => "verified",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            TaskState::Planned,
            TaskState::DryRun,
            TaskState::AwaitingApproval,
            TaskState::Open,
            TaskState::Done,
            TaskState::Failed,
            TaskState::Verified,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }

    /// Whether the task's action has been carried out, so it must not run again.
    pub fn is_carried_out(self) -> bool {
        matches!(self, TaskState::Open | TaskState::Done | TaskState::Verified)
    }
}

/// A task to plan: one action on one account of one leaver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRemediationTask {
    /// The action.
    pub kind: TaskKind,
    /// The leaver's HR employee id.
    pub employee_id: String,
    /// The source of the account.
    pub source: SourceId,
    /// The account as the source names it: Entra object id, LDAP DN, EHR user id.
    pub account_id: String,
    /// The login, for people reading the task.
    pub login: Option<String>,
    /// Whether the account is privileged.
    pub privileged: bool,
    /// Whether the account has EPCS prescribing rights.
    pub epcs: bool,
    /// The revoked grant, for tasks that carry out an access review's revoke decision.
    pub grant: Option<ReviewGrant>,
}

/// The grant and review item a revoke task carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewGrant {
    /// The entitlement as the source names it for a write: the Entra group's object id,
    /// the LDAP group's DN, the EHR role's id.
    pub entitlement_id: String,
    /// The campaign whose sign-off revoked the grant.
    pub campaign_id: Uuid,
    /// The item in the campaign.
    pub item_id: i32,
}

impl NewRemediationTask {
    /// Returns the task id: hex SHA-256 over the kind, source, account id and employee
    /// id, each preceded by its byte length as an 8-byte big-endian integer, so the same
    /// leaver's account always gets the same id. A revoke task adds the entitlement id
    /// and `<campaign id>/<item id>` the same way, so one grant revoked in two campaigns
    /// gives two tasks.
    pub fn task_id(&self) -> String {
        let mut hasher = Sha256::new();
        let source = self.source.to_string();
        let mut fields = vec![self.kind.as_str().to_owned(), source, self.account_id.clone()];
        fields.push(self.employee_id.clone());
        if let Some(grant) = &self.grant {
            fields.push(grant.entitlement_id.clone());
            fields.push(format!("{}/{}", grant.campaign_id, grant.item_id));
        }
        for field in &fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// A stored remediation task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationTask {
    /// The id, see [`NewRemediationTask::task_id`].
    pub task_id: String,
    /// The action.
    pub kind: TaskKind,
    /// The leaver's HR employee id.
    pub employee_id: String,
    /// The source of the account.
    pub source: SourceId,
    /// The account as the source names it.
    pub account_id: String,
    /// The login.
    pub login: Option<String>,
    /// Whether the account is privileged.
    pub privileged: bool,
    /// Whether the account has EPCS prescribing rights.
    pub epcs: bool,
    /// The state.
    pub state: TaskState,
    /// Enforce attempts made, failed ones included.
    pub attempts: u32,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// The first approver, for tasks that need approval.
    pub first_approver: Option<String>,
    /// The second approver, never the same person as the first.
    pub second_approver: Option<String>,
    /// When the task was first planned.
    pub planned_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// The revoked grant, for revoke tasks.
    pub grant: Option<ReviewGrant>,
}

impl RemediationTask {
    /// Returns whether two different people approved the task.
    pub fn is_approved(&self) -> bool {
        self.first_approver.is_some() && self.second_approver.is_some()
    }

    /// Returns the task's facts as written to the audit log.
    pub fn audit_detail(&self) -> Value {
        let mut detail = json!({
            "task_id": self.task_id,
            "kind": self.kind.as_str(),
            "employee_id": self.employee_id,
            "source": self.source.to_string(),
            "account_id": self.account_id,
            "login": self.login,
            "privileged": self.privileged,
            "epcs": self.epcs,
        });
        if let (Some(grant), Some(fields)) = (&self.grant, detail.as_object_mut()) {
            fields.insert("entitlement_id".into(), json!(grant.entitlement_id));
            // The campaign id as the review audit entries write it, so the campaign's
            // evidence pack finds the task's entries.
            fields.insert("campaign_id".into(), json!(grant.campaign_id.to_string()));
            fields.insert("item".into(), json!(grant.item_id));
        }
        detail
    }
}

/// A change of a task's state, written with one audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTransition {
    /// The new state.
    pub state: TaskState,
    /// Whether this was an enforce attempt, which counts in `attempts`.
    pub attempt: bool,
    /// The error of a failed attempt.
    pub error: Option<String>,
    /// Facts added to the audit entry's detail, such as the mode or the value written.
    pub detail: Value,
}

/// The result of [`TenantScope::approve_remediation_task`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalOutcome {
    /// The approval was recorded; the task now has this many approvers (1 or 2).
    Recorded(u8),
    /// The approver already approved this task, and the second approval must come from
    /// another person. Nothing was recorded.
    SameApprover,
    /// The task already has two approvers. Nothing was recorded.
    AlreadyApproved,
    /// The task does not need approval (only EPCS tasks do). Nothing was recorded.
    NotRequired,
    /// No task has this id in the tenant.
    NotFound,
}

const SETTINGS_ACTION: &str = "remediation.settings_changed";
const PLANNED_ACTION: &str = "remediation.planned";
const APPROVED_ACTION: &str = "remediation.approved";

/// The columns [`TenantScope::task_from_row`] reads, as a literal for `concat!`, so every
/// statement stays a static string.
macro_rules! task_columns {
    () => {
        "task_id, kind, employee_id, source, account_id, login, privileged, epcs, state, \
         attempts, last_error, first_approver, second_approver, planned_at, updated_at, \
         entitlement_id, campaign_id, item_id"
    };
}

impl TenantScope<'_> {
    /// Returns the tenant's remediation settings: mode `Off` and no sources when the
    /// tenant never stored any.
    pub async fn remediation_settings(&self) -> Result<RemediationSettings, StoreError> {
        const OPERATION: &str = "read the remediation settings";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT mode, sources FROM rollcall.remediation_settings WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let Some(row) = row else { return Ok(RemediationSettings::default()) };
        let mode: String = row.try_get("mode").map_err(self.db(OPERATION))?;
        let sources: Vec<String> = row.try_get("sources").map_err(self.db(OPERATION))?;
        let corrupt = |reason: String| StoreError::CorruptRow {
            table: "remediation_settings",
            key: self.tenant_str().to_owned(),
            reason,
        };
        let mode = RemediationMode::parse(&mode)
            .ok_or_else(|| corrupt(format!("unknown mode `{mode}`")))?;
        let sources = sources
            .iter()
            .map(|text| {
                SourceId::from_str(text)
                    .map_err(|error| corrupt(format!("source `{text}`: {error}")))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(RemediationSettings { mode, sources })
    }

    /// Stores the tenant's remediation settings and appends a
    /// `remediation.settings_changed` entry naming `actor`. Returns `false`, and appends
    /// nothing, when the settings were already these.
    pub async fn set_remediation_settings(
        &self,
        settings: &RemediationSettings,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "store the remediation settings";
        check_text(actor, "actor")?;
        if self.remediation_settings().await? == *settings {
            return Ok(false);
        }

        let sources: Vec<String> = settings.sources.iter().map(ToString::to_string).collect();
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "INSERT INTO rollcall.remediation_settings \
               (tenant_id, mode, sources, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET mode = EXCLUDED.mode, \
               sources = EXCLUDED.sources, updated_by = EXCLUDED.updated_by, \
               updated_at = EXCLUDED.updated_at",
        )
        .bind(self.tenant_str())
        .bind(settings.mode.as_str())
        .bind(&sources)
        .bind(actor)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let entry = AuditEntry {
            at,
            actor: actor.to_owned(),
            action: SETTINGS_ACTION.to_owned(),
            detail: json!({ "mode": settings.mode.as_str(), "sources": sources }),
        };
        self.append_in(&mut tx, &entry).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(true)
    }

    /// Records `tasks` as planned, skipping those already stored, and appends one
    /// `remediation.planned` entry per new task. Returns every given task as stored, in
    /// the given order, each with whether this call created it.
    pub async fn plan_remediation(
        &self,
        tasks: &[NewRemediationTask],
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<(RemediationTask, bool)>, StoreError> {
        const OPERATION: &str = "plan remediation tasks";
        check_text(actor, "actor")?;
        for task in tasks {
            check_text(&task.employee_id, "employee_id")?;
            check_text(&task.account_id, "account_id")?;
            check_text(task.login.as_deref().unwrap_or_default(), "login")?;
            if let Some(grant) = &task.grant {
                check_text(&grant.entitlement_id, "entitlement_id")?;
            }
        }
        let at = to_micros(at);
        let mut tx = self.begin(OPERATION).await?;
        let mut stored = Vec::with_capacity(tasks.len());
        for task in tasks {
            let task_id = task.task_id();
            let inserted = sqlx::query(
                "INSERT INTO rollcall.remediation_tasks \
                   (tenant_id, task_id, kind, employee_id, source, account_id, login, \
                    privileged, epcs, state, planned_at, updated_at, entitlement_id, \
                    campaign_id, item_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'planned', $10, $10, $11, $12, \
                    $13) \
                 ON CONFLICT (tenant_id, task_id) DO NOTHING",
            )
            .bind(self.tenant_str())
            .bind(&task_id)
            .bind(task.kind.as_str())
            .bind(&task.employee_id)
            .bind(task.source.to_string())
            .bind(&task.account_id)
            .bind(&task.login)
            .bind(task.privileged)
            .bind(task.epcs)
            .bind(at)
            .bind(task.grant.as_ref().map(|grant| grant.entitlement_id.as_str()))
            .bind(task.grant.as_ref().map(|grant| grant.campaign_id))
            .bind(task.grant.as_ref().map(|grant| grant.item_id))
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?
            .rows_affected()
                == 1;
            let row = sqlx::query(concat!(
                "SELECT ",
                task_columns!(),
                " FROM rollcall.remediation_tasks WHERE tenant_id = $1 AND task_id = $2"
            ))
            .bind(self.tenant_str())
            .bind(&task_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let record = self.task_from_row(&row)?;
            if inserted {
                let entry = AuditEntry {
                    at,
                    actor: actor.to_owned(),
                    action: PLANNED_ACTION.to_owned(),
                    detail: record.audit_detail(),
                };
                self.append_in(&mut tx, &entry).await?;
            }
            stored.push((record, inserted));
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(stored)
    }

    /// Returns the task with `task_id`, or `None`.
    pub async fn remediation_task(
        &self,
        task_id: &str,
    ) -> Result<Option<RemediationTask>, StoreError> {
        const OPERATION: &str = "read a remediation task";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM rollcall.remediation_tasks WHERE tenant_id = $1 AND task_id = $2"
        ))
        .bind(self.tenant_str())
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        row.map(|row| self.task_from_row(&row)).transpose()
    }

    /// Returns every task of the tenant, oldest plan first.
    pub async fn remediation_tasks(&self) -> Result<Vec<RemediationTask>, StoreError> {
        const OPERATION: &str = "list remediation tasks";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM rollcall.remediation_tasks WHERE tenant_id = $1 ORDER BY planned_at, task_id"
        ))
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.task_from_row(row)).collect()
    }

    /// Moves a task to `transition.state` and appends a `remediation.<state>` entry with
    /// the task's facts and `transition.detail`, in one transaction. A task whose action
    /// was carried out (open, done, verified) only moves from open to verified; any other
    /// change of it is skipped. Returns the task as stored and whether it changed, or
    /// `None` for an unknown id.
    pub async fn transition_remediation_task(
        &self,
        task_id: &str,
        transition: &TaskTransition,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<(RemediationTask, bool)>, StoreError> {
        const OPERATION: &str = "update a remediation task";
        check_text(actor, "actor")?;
        check_text(transition.error.as_deref().unwrap_or_default(), "error")?;
        let at = to_micros(at);
        let mut tx = self.begin(OPERATION).await?;
        let Some(current) = self.lock_task(&mut tx, task_id, OPERATION).await? else {
            return Ok(None);
        };

        // A removed group membership is done when Graph or the directory accepted the
        // removal, and verified when a later sync no longer shows the grant.
        let verifiable = current.state == TaskState::Open
            || (current.state == TaskState::Done && current.grant.is_some());
        let allowed = !current.state.is_carried_out()
            || (verifiable && transition.state == TaskState::Verified);
        if !allowed {
            tx.commit().await.map_err(self.db(OPERATION))?;
            return Ok(Some((current, false)));
        }
        let row = sqlx::query(concat!(
            "UPDATE rollcall.remediation_tasks SET state = $3, attempts = attempts + $4, \
               last_error = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND task_id = $2 RETURNING ",
            task_columns!()
        ))
        .bind(self.tenant_str())
        .bind(task_id)
        .bind(transition.state.as_str())
        .bind(i32::from(transition.attempt))
        .bind(&transition.error)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let updated = self.task_from_row(&row)?;

        let mut detail = updated.audit_detail();
        if let (Some(fields), Value::Object(extra)) = (detail.as_object_mut(), &transition.detail) {
            for (key, value) in extra {
                fields.insert(key.clone(), value.clone());
            }
            fields.insert("state".into(), json!(updated.state.as_str()));
            fields.insert("attempts".into(), json!(updated.attempts));
            if let Some(error) = &transition.error {
                fields.insert("error".into(), json!(error));
            }
        }
        let entry = AuditEntry {
            at,
            actor: actor.to_owned(),
            action: format!("remediation.{}", transition.state.as_str()),
            detail,
        };
        self.append_in(&mut tx, &entry).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(Some((updated, true)))
    }

    /// Marks verified every revoke task whose review item's removal a sync verified
    /// (`review_revocations.state` is `verified`), with a `remediation.verified` entry
    /// each. Tasks in any state but `verified` qualify: a group membership removed by
    /// Rollcall (`done`), a task the administrators carried out (`open`), and a failed
    /// or dry-run one whose grant someone removed by hand. Returns the tasks verified.
    pub async fn verify_revoke_tasks(
        &self,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<RemediationTask>, StoreError> {
        const OPERATION: &str = "verify revoke tasks";
        let mut tx = self.begin(OPERATION).await?;
        let due: Vec<(String, Option<DateTime<Utc>>, Option<Uuid>)> = sqlx::query_as(
            "SELECT t.task_id, r.verified_at, r.verified_snapshot \
             FROM rollcall.remediation_tasks t JOIN rollcall.review_revocations r \
               ON r.tenant_id = t.tenant_id AND r.campaign_id = t.campaign_id \
                  AND r.item_id = t.item_id \
             WHERE t.tenant_id = $1 AND t.state <> 'verified' AND r.state = 'verified' \
             ORDER BY t.planned_at, t.task_id",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;

        let mut verified = Vec::new();
        for (task_id, synced_at, snapshot_id) in due {
            let transition = TaskTransition {
                state: TaskState::Verified,
                attempt: false,
                error: None,
                detail: json!({
                    "synced_at": synced_at.map(|at| at.to_rfc3339()),
                    "snapshot_id": snapshot_id.map(|id| id.to_string()),
                }),
            };
            if let Some((task, true)) =
                self.transition_remediation_task(&task_id, &transition, actor, at).await?
            {
                verified.push(task);
            }
        }
        Ok(verified)
    }

    /// Records `approver`'s approval of an EPCS task and appends a `remediation.approved`
    /// entry. The second approval must come from another person than the first; the
    /// table enforces this too.
    pub async fn approve_remediation_task(
        &self,
        task_id: &str,
        approver: &str,
        at: DateTime<Utc>,
    ) -> Result<ApprovalOutcome, StoreError> {
        const OPERATION: &str = "approve a remediation task";
        check_text(approver, "approver")?;
        let at = to_micros(at);
        let mut tx = self.begin(OPERATION).await?;
        let Some(task) = self.lock_task(&mut tx, task_id, OPERATION).await? else {
            return Ok(ApprovalOutcome::NotFound);
        };

        let outcome = match (&task.first_approver, &task.second_approver) {
            _ if task.kind != TaskKind::EpcsTask => ApprovalOutcome::NotRequired,
            (Some(_), Some(_)) => ApprovalOutcome::AlreadyApproved,
            (Some(first), None) if first == approver => ApprovalOutcome::SameApprover,
            (Some(_), None) => ApprovalOutcome::Recorded(2),
            (None, _) => ApprovalOutcome::Recorded(1),
        };
        let (column, statement) = match outcome {
            ApprovalOutcome::Recorded(1) => (
                "first",
                "UPDATE rollcall.remediation_tasks SET first_approver = $3, \
                   first_approved_at = $4, updated_at = $4 WHERE tenant_id = $1 AND task_id = $2",
            ),
            ApprovalOutcome::Recorded(_) => (
                "second",
                "UPDATE rollcall.remediation_tasks SET second_approver = $3, \
                   second_approved_at = $4, updated_at = $4 WHERE tenant_id = $1 AND task_id = $2",
            ),
            _ => {
                tx.commit().await.map_err(self.db(OPERATION))?;
                return Ok(outcome);
            }
        };
        sqlx::query(statement)
            .bind(self.tenant_str())
            .bind(task_id)
            .bind(approver)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;

        let mut detail = task.audit_detail();
        if let Some(fields) = detail.as_object_mut() {
            fields.insert("approver".into(), json!(approver));
            fields.insert("approval".into(), json!(column));
        }
        let entry = AuditEntry {
            at,
            actor: approver.to_owned(),
            action: APPROVED_ACTION.to_owned(),
            detail,
        };
        self.append_in(&mut tx, &entry).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(outcome)
    }

    /// Reads and locks one task row for the rest of the transaction.
    async fn lock_task(
        &self,
        tx: &mut sqlx::PgConnection,
        task_id: &str,
        operation: &'static str,
    ) -> Result<Option<RemediationTask>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM rollcall.remediation_tasks WHERE tenant_id = $1 AND task_id = $2 FOR UPDATE"
        ))
        .bind(self.tenant_str())
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        row.map(|row| self.task_from_row(&row)).transpose()
    }

    fn task_from_row(&self, row: &PgRow) -> Result<RemediationTask, StoreError> {
        const OPERATION: &str = "read a remediation task";
        let task_id: String = row.try_get("task_id").map_err(self.db(OPERATION))?;
        let corrupt = |reason: String| StoreError::CorruptRow {
            table: "remediation_tasks",
            key: format!("{}/{task_id}", self.tenant_str()),
            reason,
        };
        let kind: String = row.try_get("kind").map_err(self.db(OPERATION))?;
        let state: String = row.try_get("state").map_err(self.db(OPERATION))?;
        let source: String = row.try_get("source").map_err(self.db(OPERATION))?;
        let attempts: i32 = row.try_get("attempts").map_err(self.db(OPERATION))?;
        let entitlement_id: Option<String> =
            row.try_get("entitlement_id").map_err(self.db(OPERATION))?;
        let campaign_id: Option<Uuid> = row.try_get("campaign_id").map_err(self.db(OPERATION))?;
        let item_id: Option<i32> = row.try_get("item_id").map_err(self.db(OPERATION))?;
        let grant = match (entitlement_id, campaign_id, item_id) {
            (Some(entitlement_id), Some(campaign_id), Some(item_id)) => {
                Some(ReviewGrant { entitlement_id, campaign_id, item_id })
            }
            _ => None,
        };
        Ok(RemediationTask {
            grant,
            kind: TaskKind::parse(&kind)
                .ok_or_else(|| corrupt(format!("unknown kind `{kind}`")))?,
            state: TaskState::parse(&state)
                .ok_or_else(|| corrupt(format!("unknown state `{state}`")))?,
            source: SourceId::from_str(&source)
                .map_err(|error| corrupt(format!("source `{source}`: {error}")))?,
            attempts: u32::try_from(attempts)
                .map_err(|_| corrupt(format!("negative attempts `{attempts}`")))?,
            employee_id: row.try_get("employee_id").map_err(self.db(OPERATION))?,
            account_id: row.try_get("account_id").map_err(self.db(OPERATION))?,
            login: row.try_get("login").map_err(self.db(OPERATION))?,
            privileged: row.try_get("privileged").map_err(self.db(OPERATION))?,
            epcs: row.try_get("epcs").map_err(self.db(OPERATION))?,
            last_error: row.try_get("last_error").map_err(self.db(OPERATION))?,
            first_approver: row.try_get("first_approver").map_err(self.db(OPERATION))?,
            second_approver: row.try_get("second_approver").map_err(self.db(OPERATION))?,
            planned_at: row.try_get("planned_at").map_err(self.db(OPERATION))?,
            updated_at: row.try_get("updated_at").map_err(self.db(OPERATION))?,
            task_id,
        })
    }
}
