//! The deprovisioning clock: leavers opened by termination events, the accounts linked
//! to each leaver per source, and the leaver SLA (time from termination to the last
//! account disabled).
//!
//! `rollcall.hr_events` is the system of record for HR events. Each event is applied to
//! the leavers once: [`TenantScope::apply_hr_event_to_leavers`] records the event id in
//! `rollcall.leaver_applied_events` in the transaction that changes the leaver, so the
//! NATS consumer and the reconcile over the table can both offer the same event.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{Worker, WorkerStatus};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use serde_json::{Value, json};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::json::{self, WorkerJson};
use crate::scope::TenantScope;
use crate::time::to_micros;

const TABLE: &str = "leavers";

/// The UUID v5 namespace of HR events derived from roster differences. The name hashed
/// in it is `<tenant>/<employee id>/<event type>/<effective instant, RFC 3339 in UTC>`.
pub const ROSTER_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a9e_4b7d_4c1a_9e35_0d8b_7f2e_41a6);

/// The state of a leaver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeaverState {
    /// Accounts may still be enabled; the clock runs.
    Open,
    /// Every linked account was seen disabled or gone. An account that can sign in again,
    /// or one first linked later, opens it again.
    Closed,
    /// A rehire or a correction withdrew the termination before the leaver closed.
    Cancelled,
}

impl LeaverState {
    /// Returns the name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaverState::Open => "open",
            LeaverState::Closed => "closed",
            LeaverState::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(LeaverState::Open),
            "closed" => Some(LeaverState::Closed),
            "cancelled" => Some(LeaverState::Cancelled),
            _ => None,
        }
    }
}

/// One worker's termination and its deprovisioning clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaver {
    /// The id of the termination event that opened the leaver.
    pub leaver_id: Uuid,
    /// The worker's HR employee id.
    pub employee_id: String,
    /// The latest termination event applied to this leaver.
    pub termination_event_id: Uuid,
    /// When the termination takes effect.
    pub effective_at: DateTime<Utc>,
    /// The effective instant plus the tenant's deprovisioning SLA.
    pub deadline: DateTime<Utc>,
    /// Open, closed or cancelled.
    pub state: LeaverState,
    /// The worker record of the termination event, when it carried one.
    pub worker: Option<Worker>,
    /// When the leaver was opened, by the engine's clock.
    pub opened_at: DateTime<Utc>,
    /// The evaluation instant at which the passed deadline was first evaluated.
    pub deadline_acted_at: Option<DateTime<Utc>>,
    /// The evaluation instant at which every linked account was seen disabled or gone.
    pub closed_at: Option<DateTime<Utc>>,
    /// Seconds from the effective instant to the last linked account disabled.
    pub time_to_deprovision_seconds: Option<i64>,
    /// The rehire or correction event that cancelled or ended the leaver.
    pub ended_by_event_id: Option<Uuid>,
}

impl Leaver {
    /// Returns whether the termination still holds: open or closed, and not ended by a
    /// rehire or correction. Such a leaver's worker is terminated for the rules.
    pub fn is_in_effect(&self) -> bool {
        self.state != LeaverState::Cancelled && self.ended_by_event_id.is_none()
    }
}

/// The effect of applying one HR event to the leavers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaverChange {
    /// A termination opened a leaver.
    Opened,
    /// A later termination or a corrected date moved an open leaver's effective instant.
    Updated,
    /// A rehire or correction cancelled an open leaver.
    Cancelled,
    /// A rehire or correction ended a closed leaver; its SLA record stays.
    Ended,
    /// The event changes no leaver (a hire, a change, a termination already known).
    Ignored,
    /// The event was applied before.
    AlreadyApplied,
}

impl LeaverChange {
    /// Returns the name stored in `leaver_applied_events.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaverChange::Opened => "opened",
            LeaverChange::Updated => "updated",
            LeaverChange::Cancelled => "cancelled",
            LeaverChange::Ended => "ended",
            LeaverChange::Ignored => "ignored",
            LeaverChange::AlreadyApplied => "already_applied",
        }
    }
}

/// One account linked to a leaver, as one evaluation saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedAccount {
    /// The account's source id, such as `entra`.
    pub source: String,
    /// The account's id in its source.
    pub account_id: String,
    /// Whether the account can still sign in, or its status is unknown.
    pub can_sign_in: bool,
}

/// The linked accounts of one leaver in one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaverObservation {
    /// The leaver.
    pub leaver_id: Uuid,
    /// Every account identity resolution links to the worker now. A stored account
    /// missing here is recorded as gone.
    pub accounts: Vec<ObservedAccount>,
    /// Whether the leaver may close when every account is disabled or gone: the
    /// termination is in effect at the evaluation instant and the accounts come from
    /// stored source snapshots.
    pub may_close: bool,
}

/// One linked account of a leaver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaverAccount {
    /// The leaver.
    pub leaver_id: Uuid,
    /// The account's source id.
    pub source: String,
    /// The account's id in its source.
    pub account_id: String,
    /// The first evaluation instant at which it could still sign in.
    pub first_seen_enabled_at: Option<DateTime<Utc>>,
    /// The first evaluation instant at which it was seen disabled or gone.
    pub disabled_at: Option<DateTime<Utc>>,
    /// `disabled` or `gone`, when [`LeaverAccount::disabled_at`] is set.
    pub disabled_how: Option<String>,
}

/// A leaver closed by [`TenantScope::record_leaver_observations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedLeaver {
    /// The leaver.
    pub leaver_id: Uuid,
    /// The worker's employee id.
    pub employee_id: String,
    /// Seconds from the effective instant to the last account disabled.
    pub time_to_deprovision_seconds: i64,
}

/// A closed leaver that [`TenantScope::record_leaver_observations`] opened again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReopenedLeaver {
    /// The leaver.
    pub leaver_id: Uuid,
    /// The worker's employee id.
    pub employee_id: String,
    /// The accounts that can sign in again or were not linked when it closed, as
    /// `source/account id`.
    pub accounts: Vec<String>,
}

/// What [`TenantScope::record_leaver_observations`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedObservations {
    /// Leavers closed: every account disabled or gone.
    pub closed: Vec<ClosedLeaver>,
    /// Closed leavers opened again.
    pub reopened: Vec<ReopenedLeaver>,
}

/// The leaver SLA of one leaver in one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDeprovision {
    /// The source id.
    pub source: String,
    /// Linked accounts in this source.
    pub accounts: usize,
    /// Of those, the accounts not yet seen disabled or gone.
    pub still_enabled: usize,
    /// When the last account of this source was first seen disabled or gone, once all
    /// of them are.
    pub deprovisioned_at: Option<DateTime<Utc>>,
    /// Seconds from the effective instant to [`SourceDeprovision::deprovisioned_at`],
    /// never negative.
    pub time_to_deprovision_seconds: Option<i64>,
}

/// One leaver with its SLA per source, as an auditor requests it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaverSla {
    /// The leaver.
    pub leaver: Leaver,
    /// One entry per source with a linked account, sorted by source.
    pub sources: Vec<SourceDeprovision>,
}

impl TenantScope<'_> {
    /// Lists the HR events not yet applied to the leavers, in the order they were
    /// received.
    pub async fn unapplied_hr_events(&self) -> Result<Vec<HrEvent>, StoreError> {
        const OPERATION: &str = "read unapplied HR events";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT e.event_id, e.event_type, e.employee_id, e.effective_at, e.time_zone, \
                    e.reason, e.manager_employee_id, e.received_at, e.sender, e.worker, \
                    e.corrected_event_id \
             FROM rollcall.hr_events e \
             WHERE e.tenant_id = $1 AND NOT EXISTS ( \
                 SELECT 1 FROM rollcall.leaver_applied_events a \
                 WHERE a.tenant_id = e.tenant_id AND a.event_id = e.event_id) \
             ORDER BY e.received_at, e.event_id",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.hr_event(row)).collect()
    }

    /// Counts the HR events not yet applied to the leavers.
    pub async fn unapplied_hr_event_count(&self) -> Result<i64, StoreError> {
        const OPERATION: &str = "count unapplied HR events";
        let mut tx = self.begin(OPERATION).await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rollcall.hr_events e \
             WHERE e.tenant_id = $1 AND NOT EXISTS ( \
                 SELECT 1 FROM rollcall.leaver_applied_events a \
                 WHERE a.tenant_id = e.tenant_id AND a.event_id = e.event_id)",
        )
        .bind(self.tenant_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(count)
    }

    /// Applies one stored HR event to the leavers, once.
    ///
    /// A termination opens a leaver with the deadline `effective_at + sla`, or moves the
    /// worker's open leaver to the new instant, or the closed one when the new instant is
    /// not after its close (a corrected date). A termination at the instant of a leaver
    /// the worker already has is ignored, so a webhook and a roster difference for the
    /// same termination give one leaver. A rehire cancels the open leaver (a closed one is
    /// marked ended). A correction of the leaver's termination event moves the leaver,
    /// open or closed, to the corrected termination instant when the corrected worker
    /// record still has one, and cancels it otherwise. A moved closed leaver's time to
    /// deprovision is measured from the new instant. Every change appends an audit entry by `actor` in the
    /// same transaction.
    ///
    /// NOTE: events apply in the order they are offered, which the engine takes from
    /// `received_at`. A rehire received before the termination it follows leaves that
    /// termination's leaver open.
    pub async fn apply_hr_event_to_leavers(
        &self,
        event: &HrEvent,
        sla: TimeDelta,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LeaverChange, StoreError> {
        const OPERATION: &str = "apply an HR event to the leavers";
        let mut tx = self.begin(OPERATION).await?;
        let change = match event.event_type {
            HrEventType::Termination => {
                let effective = to_micros(event.effective_at);
                self.apply_termination(&mut tx, event, effective, sla, actor, now).await?
            }
            HrEventType::Rehire => self.apply_rehire(&mut tx, event, actor, now).await?,
            HrEventType::Correction => {
                self.apply_correction(&mut tx, event, sla, actor, now).await?
            }
            HrEventType::Hire | HrEventType::Change => LeaverChange::Ignored,
        };
        let inserted = sqlx::query(
            "INSERT INTO rollcall.leaver_applied_events (tenant_id, event_id, outcome) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(event.event_id)
        .bind(change.as_str())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected()
            == 1;
        if !inserted {
            // Another transaction applied it first; dropping `tx` rolls this one back.
            return Ok(LeaverChange::AlreadyApplied);
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(change)
    }

    async fn apply_termination(
        &self,
        tx: &mut PgConnection,
        event: &HrEvent,
        effective: DateTime<Utc>,
        sla: TimeDelta,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LeaverChange, StoreError> {
        const OPERATION: &str = "apply a termination";
        let deadline = effective.checked_add_signed(sla).unwrap_or(effective);
        let worker = match &event.worker {
            Some(worker) => Some(json::encode(&WorkerJson::from(worker), "worker")?),
            None => None,
        };
        let leavers = self.leavers_of_in(tx, &event.employee_id, OPERATION).await?;
        if leavers.iter().any(|l| l.effective_at == effective && l.is_in_effect()) {
            return Ok(LeaverChange::Ignored);
        }
        if let Some(open) = leavers.iter().find(|l| l.state == LeaverState::Open) {
            return self.move_leaver(tx, open, event, effective, sla, actor, now).await;
        }
        // HR systems send a corrected date as a new termination. When every account of a
        // closed leaver was disabled after the new instant, it is the same employment's
        // end, so the leaver takes the new instant. A new instant after the close is a
        // later termination and opens a new leaver.
        let corrected = leavers.iter().find(|l| {
            l.state == LeaverState::Closed
                && l.is_in_effect()
                && l.closed_at.is_some_and(|closed| effective <= closed)
        });
        if let Some(closed) = corrected {
            return self.move_leaver(tx, closed, event, effective, sla, actor, now).await;
        }
        sqlx::query(
            "INSERT INTO rollcall.leavers \
               (tenant_id, leaver_id, employee_id, termination_event_id, effective_at, deadline, \
                state, worker, opened_at) \
             VALUES ($1, $2, $3, $2, $4, $5, 'open', $6, $7)",
        )
        .bind(self.tenant_str())
        .bind(event.event_id)
        .bind(&event.employee_id)
        .bind(effective)
        .bind(deadline)
        .bind(worker)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let detail = json!({
            "leaver_id": event.event_id.hyphenated().to_string(),
            "employee_id": event.employee_id,
            "sender": sender_name(event.sender),
            "effective_at": effective,
            "deadline": deadline,
        });
        self.audit_in(tx, actor, now, "leaver.opened", detail).await?;
        Ok(LeaverChange::Opened)
    }

    /// Moves `leaver` to the termination instant `effective` with its new deadline. A
    /// closed leaver's time to deprovision is measured again from the new instant, and is
    /// zero when every account was disabled before it. An open leaver whose deadline
    /// moves may fire again.
    #[allow(clippy::too_many_arguments, reason = "private: the parts of one apply")]
    async fn move_leaver(
        &self,
        tx: &mut PgConnection,
        leaver: &Leaver,
        event: &HrEvent,
        effective: DateTime<Utc>,
        sla: TimeDelta,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LeaverChange, StoreError> {
        const OPERATION: &str = "move a leaver";
        let deadline = effective.checked_add_signed(sla).unwrap_or(effective);
        let worker = match &event.worker {
            Some(worker) => Some(json::encode(&WorkerJson::from(worker), "worker")?),
            None => None,
        };

        let seconds = if leaver.state == LeaverState::Closed {
            let accounts = self.leaver_accounts_in(tx, Some(leaver.leaver_id), OPERATION).await?;
            let last_disabled = accounts.iter().filter_map(|account| account.disabled_at).max();
            Some(
                last_disabled
                    .map_or(0, |at| at.signed_duration_since(effective).num_seconds().max(0)),
            )
        } else {
            None
        };
        sqlx::query(
            "UPDATE rollcall.leavers \
             SET termination_event_id = $3, effective_at = $4, deadline = $5, \
                 worker = COALESCE($6, worker), \
                 deadline_acted_at = CASE WHEN deadline = $5 THEN deadline_acted_at END, \
                 time_to_deprovision_seconds = COALESCE($7, time_to_deprovision_seconds) \
             WHERE tenant_id = $1 AND leaver_id = $2",
        )
        .bind(self.tenant_str())
        .bind(leaver.leaver_id)
        .bind(event.event_id)
        .bind(effective)
        .bind(deadline)
        .bind(worker)
        .bind(seconds)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let mut detail = json!({
            "leaver_id": leaver.leaver_id.hyphenated().to_string(),
            "employee_id": event.employee_id,
            "event_id": event.event_id.hyphenated().to_string(),
            "previous_effective_at": leaver.effective_at,
            "effective_at": effective,
            "deadline": deadline,
        });
        if let (Some(seconds), Some(fields)) = (seconds, detail.as_object_mut()) {
            fields.insert(
                "previous_time_to_deprovision_seconds".into(),
                json!(leaver.time_to_deprovision_seconds),
            );
            fields.insert("time_to_deprovision_seconds".into(), json!(seconds));
        }
        self.audit_in(tx, actor, now, "leaver.updated", detail).await?;
        Ok(LeaverChange::Updated)
    }

    async fn apply_rehire(
        &self,
        tx: &mut PgConnection,
        event: &HrEvent,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LeaverChange, StoreError> {
        const OPERATION: &str = "apply a rehire";
        let leavers = self.leavers_of_in(tx, &event.employee_id, OPERATION).await?;
        let mut change = LeaverChange::Ignored;
        for leaver in leavers.iter().filter(|l| l.is_in_effect()) {
            let ended = self.end_leaver_in(tx, leaver, event, "rehire", actor, now).await?;
            if ended == LeaverChange::Cancelled || change == LeaverChange::Ignored {
                change = ended;
            }
        }
        Ok(change)
    }

    async fn apply_correction(
        &self,
        tx: &mut PgConnection,
        event: &HrEvent,
        sla: TimeDelta,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LeaverChange, StoreError> {
        const OPERATION: &str = "apply a correction";
        let Some(corrected) = event.corrected_event_id else { return Ok(LeaverChange::Ignored) };
        let leavers = self.leavers_of_in(tx, &event.employee_id, OPERATION).await?;
        let Some(leaver) =
            leavers.iter().find(|l| l.is_in_effect() && l.termination_event_id == corrected)
        else {
            return Ok(LeaverChange::Ignored);
        };
        // The corrected record still ends employment, at another instant: move the clock.
        let corrected_end = event.worker.as_ref().and_then(|worker| {
            let rehired = worker
                .hired_at
                .zip(worker.terminated_at)
                .is_some_and(|(hired, ended)| hired > ended);
            worker.terminated_at.filter(|_| !rehired)
        });
        if let Some(end) = corrected_end {
            let effective = to_micros(end);
            if effective == leaver.effective_at {
                return Ok(LeaverChange::Ignored);
            }
            if leaver.state == LeaverState::Closed {
                return self.move_leaver(tx, leaver, event, effective, sla, actor, now).await;
            }
            return self.apply_termination(tx, event, effective, sla, actor, now).await;
        }
        self.end_leaver_in(tx, leaver, event, "correction", actor, now).await
    }

    /// Cancels an open leaver, or marks a closed one ended, because of `event`.
    async fn end_leaver_in(
        &self,
        tx: &mut PgConnection,
        leaver: &Leaver,
        event: &HrEvent,
        cause: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LeaverChange, StoreError> {
        const OPERATION: &str = "end a leaver";
        let (change, action) = if leaver.state == LeaverState::Open {
            (LeaverChange::Cancelled, "leaver.cancelled")
        } else {
            (LeaverChange::Ended, "leaver.ended")
        };
        sqlx::query(
            "UPDATE rollcall.leavers \
             SET state = CASE WHEN state = 'open' THEN 'cancelled' ELSE state END, \
                 ended_by_event_id = $3, ended_at = $4 \
             WHERE tenant_id = $1 AND leaver_id = $2",
        )
        .bind(self.tenant_str())
        .bind(leaver.leaver_id)
        .bind(event.event_id)
        .bind(to_micros(event.effective_at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let detail = json!({
            "leaver_id": leaver.leaver_id.hyphenated().to_string(),
            "employee_id": leaver.employee_id,
            "cause": cause,
            "event_id": event.event_id.hyphenated().to_string(),
            "effective_at": to_micros(event.effective_at),
        });
        self.audit_in(tx, actor, now, action, detail).await?;
        Ok(change)
    }

    async fn audit_in(
        &self,
        tx: &mut PgConnection,
        actor: &str,
        at: DateTime<Utc>,
        action: &str,
        detail: Value,
    ) -> Result<(), StoreError> {
        let entry = AuditEntry { at, actor: actor.to_owned(), action: action.to_owned(), detail };
        self.append_in(tx, &entry).await?;
        Ok(())
    }

    /// Reads every leaver of one worker, locking the rows for the transaction.
    async fn leavers_of_in(
        &self,
        tx: &mut PgConnection,
        employee_id: &str,
        operation: &'static str,
    ) -> Result<Vec<Leaver>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{LEAVER_COLUMNS} WHERE tenant_id = $1 AND employee_id = $2 \
             ORDER BY opened_at, leaver_id FOR UPDATE"
        )))
        .bind(self.tenant_str())
        .bind(employee_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        rows.iter().map(|row| self.leaver(row)).collect()
    }

    /// Lists the tenant's leavers, optionally only those in `state`, oldest first.
    pub async fn leavers(&self, state: Option<LeaverState>) -> Result<Vec<Leaver>, StoreError> {
        const OPERATION: &str = "read leavers";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{LEAVER_COLUMNS} WHERE tenant_id = $1 AND ($2::text IS NULL OR state = $2) \
             ORDER BY effective_at, employee_id, leaver_id"
        )))
        .bind(self.tenant_str())
        .bind(state.map(LeaverState::as_str))
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.leaver(row)).collect()
    }

    /// Counts open leavers whose deadline is at or before `now` and was not yet acted on.
    pub async fn due_leaver_count(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        const OPERATION: &str = "count due leavers";
        let mut tx = self.begin(OPERATION).await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rollcall.leavers \
             WHERE tenant_id = $1 AND state = 'open' AND deadline_acted_at IS NULL \
               AND deadline <= $2",
        )
        .bind(self.tenant_str())
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(count)
    }

    /// Marks the open leavers whose deadline passed at `as_of` as acted on, with a
    /// `leaver.deadline_passed` audit entry each. Call it after recording an evaluation
    /// at `as_of`. Returns the leavers marked.
    pub async fn mark_deadlines_acted(
        &self,
        as_of: DateTime<Utc>,
        actor: &str,
    ) -> Result<Vec<Leaver>, StoreError> {
        const OPERATION: &str = "mark passed deadlines";
        let as_of = to_micros(as_of);
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{LEAVER_COLUMNS} WHERE tenant_id = $1 AND state = 'open' \
               AND deadline_acted_at IS NULL AND deadline <= $2 \
             ORDER BY leaver_id FOR UPDATE"
        )))
        .bind(self.tenant_str())
        .bind(as_of)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let leavers: Vec<Leaver> =
            rows.iter().map(|row| self.leaver(row)).collect::<Result<_, _>>()?;
        for leaver in &leavers {
            sqlx::query(
                "UPDATE rollcall.leavers SET deadline_acted_at = $3 \
                 WHERE tenant_id = $1 AND leaver_id = $2",
            )
            .bind(self.tenant_str())
            .bind(leaver.leaver_id)
            .bind(as_of)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let detail = json!({
                "leaver_id": leaver.leaver_id.hyphenated().to_string(),
                "employee_id": leaver.employee_id,
                "deadline": leaver.deadline,
                "evaluated_at": as_of,
            });
            self.audit_in(&mut tx, actor, as_of, "leaver.deadline_passed", detail).await?;
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(leavers)
    }

    /// Sets the deadline of every open leaver to its effective instant plus `sla`, for a
    /// tenant whose SLA changed. Returns the number of leavers changed.
    pub async fn align_leaver_deadlines(&self, sla: TimeDelta) -> Result<u64, StoreError> {
        const OPERATION: &str = "align leaver deadlines";
        let seconds = sla.num_seconds();
        let mut tx = self.begin(OPERATION).await?;
        let changed = sqlx::query(
            "UPDATE rollcall.leavers \
             SET deadline = effective_at + make_interval(secs => $2), deadline_acted_at = NULL \
             WHERE tenant_id = $1 AND state = 'open' \
               AND deadline <> effective_at + make_interval(secs => $2)",
        )
        .bind(self.tenant_str())
        .bind(seconds as f64)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected();
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(changed)
    }

    /// Records what one evaluation at `as_of` saw of each leaver's linked accounts,
    /// and closes the leavers whose accounts are all disabled or gone.
    ///
    /// A closed leaver still in effect opens again when its observation has an account
    /// that can sign in and was not stored as able to: one enabled again, or one of a
    /// source first synced after the close. It is then tracked like any open leaver,
    /// with a `leaver.reopened` audit entry. No leaver reopens while another leaver of
    /// its worker is open, and other observations of closed leavers change nothing.
    ///
    /// An account is recorded with the first instant it was seen able to sign in and the
    /// first instant it was seen disabled; an account enabled again loses its disabled
    /// instant. A stored account missing from the observation is recorded as gone. A
    /// leaver with [`LeaverObservation::may_close`] closes when every stored account has
    /// a disabled instant (also when it has none), with the time to deprovision from its
    /// effective instant to the last of them, and a `leaver.closed` audit entry.
    pub async fn record_leaver_observations(
        &self,
        as_of: DateTime<Utc>,
        observations: &[LeaverObservation],
        actor: &str,
    ) -> Result<RecordedObservations, StoreError> {
        const OPERATION: &str = "record leaver accounts";
        let as_of = to_micros(as_of);
        let mut recorded = RecordedObservations::default();
        let mut tx = self.begin(OPERATION).await?;
        for observation in observations {
            let row = sqlx::query(AssertSqlSafe(format!(
                "{LEAVER_COLUMNS} WHERE tenant_id = $1 AND leaver_id = $2 \
                   AND state IN ('open', 'closed') AND ended_by_event_id IS NULL \
                 FOR UPDATE"
            )))
            .bind(self.tenant_str())
            .bind(observation.leaver_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let Some(row) = row else { continue };
            let leaver = self.leaver(&row)?;
            if leaver.state == LeaverState::Closed {
                let Some(reopened) =
                    self.reopen_leaver(&mut tx, &leaver, observation, as_of, actor).await?
                else {
                    continue;
                };
                recorded.reopened.push(reopened);
            }
            for account in &observation.accounts {
                json::check_text(&account.source, "source")?;
                json::check_text(&account.account_id, "account_id")?;
                sqlx::query(
                    "INSERT INTO rollcall.leaver_accounts \
                       (tenant_id, leaver_id, source, account_id, first_seen_enabled_at, \
                        disabled_at, disabled_how) \
                     VALUES ($1, $2, $3, $4, \
                             CASE WHEN $5 THEN $6 END, CASE WHEN $5 THEN NULL ELSE $6 END, \
                             CASE WHEN $5 THEN NULL ELSE 'disabled' END) \
                     ON CONFLICT (tenant_id, leaver_id, source, account_id) DO UPDATE SET \
                       first_seen_enabled_at = COALESCE( \
                           rollcall.leaver_accounts.first_seen_enabled_at, \
                           EXCLUDED.first_seen_enabled_at), \
                       disabled_at = CASE WHEN $5 THEN NULL ELSE COALESCE( \
                           rollcall.leaver_accounts.disabled_at, $6) END, \
                       disabled_how = CASE WHEN $5 THEN NULL ELSE COALESCE( \
                           rollcall.leaver_accounts.disabled_how, 'disabled') END",
                )
                .bind(self.tenant_str())
                .bind(leaver.leaver_id)
                .bind(&account.source)
                .bind(&account.account_id)
                .bind(account.can_sign_in)
                .bind(as_of)
                .execute(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
            }
            let stored =
                self.leaver_accounts_in(&mut tx, Some(leaver.leaver_id), OPERATION).await?;
            for gone in stored.iter().filter(|stored| {
                stored.disabled_at.is_none()
                    && !observation.accounts.iter().any(|seen| {
                        seen.source == stored.source && seen.account_id == stored.account_id
                    })
            }) {
                sqlx::query(
                    "UPDATE rollcall.leaver_accounts SET disabled_at = $5, disabled_how = 'gone' \
                     WHERE tenant_id = $1 AND leaver_id = $2 AND source = $3 AND account_id = $4",
                )
                .bind(self.tenant_str())
                .bind(leaver.leaver_id)
                .bind(&gone.source)
                .bind(&gone.account_id)
                .bind(as_of)
                .execute(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
            }
            if !observation.may_close {
                continue;
            }
            let stored =
                self.leaver_accounts_in(&mut tx, Some(leaver.leaver_id), OPERATION).await?;
            if stored.iter().any(|account| account.disabled_at.is_none()) {
                continue;
            }
            let last_disabled = stored.iter().filter_map(|a| a.disabled_at).max();
            let seconds = last_disabled
                .map_or(0, |at| at.signed_duration_since(leaver.effective_at).num_seconds().max(0));
            sqlx::query(
                "UPDATE rollcall.leavers \
                 SET state = 'closed', closed_at = $3, time_to_deprovision_seconds = $4 \
                 WHERE tenant_id = $1 AND leaver_id = $2",
            )
            .bind(self.tenant_str())
            .bind(leaver.leaver_id)
            .bind(as_of)
            .bind(seconds)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let per_source: BTreeMap<&str, i64> = per_source_seconds(&leaver, &stored)
                .into_iter()
                .filter_map(|(source, seconds)| seconds.map(|s| (source, s)))
                .collect();
            let detail = json!({
                "leaver_id": leaver.leaver_id.hyphenated().to_string(),
                "employee_id": leaver.employee_id,
                "effective_at": leaver.effective_at,
                "deadline": leaver.deadline,
                "time_to_deprovision_seconds": seconds,
                "per_source_seconds": per_source,
            });
            self.audit_in(&mut tx, actor, as_of, "leaver.closed", detail).await?;
            recorded.closed.push(ClosedLeaver {
                leaver_id: leaver.leaver_id,
                employee_id: leaver.employee_id.clone(),
                time_to_deprovision_seconds: seconds,
            });
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(recorded)
    }

    /// Opens the closed `leaver` again when `observation` has an account that can sign
    /// in and is not stored as able to, and no other leaver of the worker is open.
    async fn reopen_leaver(
        &self,
        tx: &mut PgConnection,
        leaver: &Leaver,
        observation: &LeaverObservation,
        as_of: DateTime<Utc>,
        actor: &str,
    ) -> Result<Option<ReopenedLeaver>, StoreError> {
        const OPERATION: &str = "reopen leaver";
        let stored = self.leaver_accounts_in(tx, Some(leaver.leaver_id), OPERATION).await?;
        let accounts: Vec<String> = observation
            .accounts
            .iter()
            .filter(|seen| {
                seen.can_sign_in
                    && !stored.iter().any(|account| {
                        account.source == seen.source
                            && account.account_id == seen.account_id
                            && account.disabled_at.is_none()
                    })
            })
            .map(|seen| format!("{}/{}", seen.source, seen.account_id))
            .collect();
        if accounts.is_empty() {
            return Ok(None);
        }
        let other_open = sqlx::query(
            "SELECT 1 FROM rollcall.leavers \
             WHERE tenant_id = $1 AND employee_id = $2 AND state = 'open'",
        )
        .bind(self.tenant_str())
        .bind(&leaver.employee_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        if other_open.is_some() {
            return Ok(None);
        }
        sqlx::query(
            "UPDATE rollcall.leavers \
             SET state = 'open', closed_at = NULL, time_to_deprovision_seconds = NULL \
             WHERE tenant_id = $1 AND leaver_id = $2",
        )
        .bind(self.tenant_str())
        .bind(leaver.leaver_id)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let detail = json!({
            "leaver_id": leaver.leaver_id.hyphenated().to_string(),
            "employee_id": leaver.employee_id,
            "closed_at": leaver.closed_at,
            "time_to_deprovision_seconds": leaver.time_to_deprovision_seconds,
            "accounts": accounts,
        });
        self.audit_in(tx, actor, as_of, "leaver.reopened", detail).await?;
        Ok(Some(ReopenedLeaver {
            leaver_id: leaver.leaver_id,
            employee_id: leaver.employee_id.clone(),
            accounts,
        }))
    }

    /// Lists the linked accounts of every leaver, by leaver, source and account id.
    pub async fn leaver_accounts(&self) -> Result<Vec<LeaverAccount>, StoreError> {
        const OPERATION: &str = "read leaver accounts";
        let mut tx = self.begin(OPERATION).await?;
        let accounts = self.leaver_accounts_in(&mut tx, None, OPERATION).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(accounts)
    }

    /// Returns the leaver SLA: every leaver (cancelled ones included, for the record)
    /// with, per source, its linked accounts and the time from the termination's
    /// effective instant to the last of them disabled or gone.
    pub async fn leaver_sla(&self) -> Result<Vec<LeaverSla>, StoreError> {
        let leavers = self.leavers(None).await?;
        let accounts = self.leaver_accounts().await?;
        Ok(leavers
            .into_iter()
            .map(|leaver| {
                let own: Vec<LeaverAccount> =
                    accounts.iter().filter(|a| a.leaver_id == leaver.leaver_id).cloned().collect();
                let mut sources: BTreeMap<&str, SourceDeprovision> = BTreeMap::new();
                for account in &own {
                    let entry =
                        sources.entry(&account.source).or_insert_with(|| SourceDeprovision {
                            source: account.source.clone(),
                            accounts: 0,
                            still_enabled: 0,
                            deprovisioned_at: None,
                            time_to_deprovision_seconds: None,
                        });
                    entry.accounts += 1;
                    if account.disabled_at.is_none() {
                        entry.still_enabled += 1;
                    }
                }
                for (source, seconds) in per_source_seconds(&leaver, &own) {
                    if let Some(entry) = sources.get_mut(source) {
                        entry.time_to_deprovision_seconds = seconds;
                        entry.deprovisioned_at = seconds.and_then(|_| {
                            own.iter()
                                .filter(|a| a.source == source)
                                .filter_map(|a| a.disabled_at)
                                .max()
                        });
                    }
                }
                let sources = sources.into_values().collect();
                LeaverSla { leaver, sources }
            })
            .collect())
    }

    async fn leaver_accounts_in(
        &self,
        tx: &mut PgConnection,
        leaver: Option<Uuid>,
        operation: &'static str,
    ) -> Result<Vec<LeaverAccount>, StoreError> {
        let rows = sqlx::query(
            "SELECT leaver_id, source, account_id, first_seen_enabled_at, disabled_at, \
                    disabled_how \
             FROM rollcall.leaver_accounts \
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR leaver_id = $2) \
             ORDER BY leaver_id, source, account_id",
        )
        .bind(self.tenant_str())
        .bind(leaver)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        rows.iter()
            .map(|row| {
                Ok(LeaverAccount {
                    leaver_id: row.try_get("leaver_id").map_err(self.db(operation))?,
                    source: row.try_get("source").map_err(self.db(operation))?,
                    account_id: row.try_get("account_id").map_err(self.db(operation))?,
                    first_seen_enabled_at: row
                        .try_get("first_seen_enabled_at")
                        .map_err(self.db(operation))?,
                    disabled_at: row.try_get("disabled_at").map_err(self.db(operation))?,
                    disabled_how: row.try_get("disabled_how").map_err(self.db(operation))?,
                })
            })
            .collect()
    }

    fn leaver(&self, row: &PgRow) -> Result<Leaver, StoreError> {
        const OPERATION: &str = "read a leaver";
        let leaver_id: Uuid = row.try_get("leaver_id").map_err(self.db(OPERATION))?;
        let key = format!("{}/{leaver_id}", self.tenant_str());
        let state_text: String = row.try_get("state").map_err(self.db(OPERATION))?;
        let state = LeaverState::parse(&state_text).ok_or_else(|| StoreError::CorruptRow {
            table: TABLE,
            key: key.clone(),
            reason: format!("`{state_text}` is not a leaver state"),
        })?;
        let worker: Option<Value> = row.try_get("worker").map_err(self.db(OPERATION))?;
        let worker = match worker {
            Some(value) => Some(json::decode::<WorkerJson>(value, TABLE, &key)?.into()),
            None => None,
        };
        Ok(Leaver {
            leaver_id,
            employee_id: row.try_get("employee_id").map_err(self.db(OPERATION))?,
            termination_event_id: row
                .try_get("termination_event_id")
                .map_err(self.db(OPERATION))?,
            effective_at: row.try_get("effective_at").map_err(self.db(OPERATION))?,
            deadline: row.try_get("deadline").map_err(self.db(OPERATION))?,
            state,
            worker,
            opened_at: row.try_get("opened_at").map_err(self.db(OPERATION))?,
            deadline_acted_at: row.try_get("deadline_acted_at").map_err(self.db(OPERATION))?,
            closed_at: row.try_get("closed_at").map_err(self.db(OPERATION))?,
            time_to_deprovision_seconds: row
                .try_get("time_to_deprovision_seconds")
                .map_err(self.db(OPERATION))?,
            ended_by_event_id: row.try_get("ended_by_event_id").map_err(self.db(OPERATION))?,
        })
    }
}

const LEAVER_COLUMNS: &str = "SELECT leaver_id, employee_id, termination_event_id, effective_at, \
     deadline, state, worker, opened_at, deadline_acted_at, closed_at, \
     time_to_deprovision_seconds, ended_by_event_id FROM rollcall.leavers";

/// Seconds from the leaver's effective instant to the last account of each source
/// disabled, `None` for a source with an account still enabled. Never negative: an
/// account disabled before the termination took effect counts as 0.
fn per_source_seconds<'a>(
    leaver: &Leaver,
    accounts: &'a [LeaverAccount],
) -> BTreeMap<&'a str, Option<i64>> {
    let mut sources: BTreeMap<&str, Option<DateTime<Utc>>> = BTreeMap::new();
    let mut enabled: BTreeMap<&str, bool> = BTreeMap::new();
    for account in accounts {
        let last = sources.entry(&account.source).or_insert(None);
        match account.disabled_at {
            Some(at) => *last = Some(last.map_or(at, |l| l.max(at))),
            None => {
                enabled.insert(&account.source, true);
            }
        }
    }
    sources
        .into_iter()
        .map(|(source, last)| {
            let seconds = if enabled.contains_key(source) {
                None
            } else {
                last.map(|at| at.signed_duration_since(leaver.effective_at).num_seconds().max(0))
            };
            (source, seconds)
        })
        .collect()
}

/// Reports whether a roster worker's employment has ended by its own record, whatever
/// the instant: a termination instant without a later hire, or a terminated status.
fn ended(worker: &Worker) -> bool {
    match worker.terminated_at {
        Some(end) => worker.hired_at.is_none_or(|hired| hired <= end),
        None => worker.status == WorkerStatus::Terminated,
    }
}

/// Reports whether a worker's position changed between two rosters: job title,
/// department, location or manager. A roster does not date such a change, so the event
/// takes the roster's collection instant.
fn changed_position(old: &Worker, new: &Worker) -> bool {
    old.job_title != new.job_title
        || old.department != new.department
        || old.location != new.location
        || old.manager_employee_id != new.manager_employee_id
}

/// Derives the HR events of a new roster from its difference with the previous one. It
/// gives a termination for each worker whose termination instant is new, and a rehire for
/// each worker who had ended and no longer has. It gives a hire for each worker new to
/// the roster who has not ended, and a change for each worker still employed whose job
/// title, department, location or manager differs. The first roster of a tenant (`previous` is `None`) yields only
/// terminations. Event ids are UUID v5 of the tenant, employee id, type and effective
/// instant in [`ROSTER_EVENT_NAMESPACE`], so the same difference gives the same ids.
///
/// NOTE: a worker with a terminated status but no termination date yields no event,
/// because the clock needs an instant; the rules still report such a worker.
pub fn roster_events(
    tenant: &rollcall_core::TenantId,
    time_zone: Tz,
    previous: Option<&[Worker]>,
    current: &[Worker],
    collected_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Vec<HrEvent> {
    let before: BTreeMap<&str, &Worker> = previous
        .unwrap_or_default()
        .iter()
        .map(|worker| (worker.employee_id.as_str(), worker))
        .collect();
    let mut events = Vec::new();
    for worker in current {
        let old = before.get(worker.employee_id.as_str()).copied();
        let mut push = |event_type: HrEventType, effective_at: DateTime<Utc>| {
            let effective_at = to_micros(effective_at);
            events.push(HrEvent {
                event_id: roster_event_id(tenant, &worker.employee_id, event_type, effective_at),
                tenant: tenant.clone(),
                event_type,
                employee_id: worker.employee_id.clone(),
                effective_at,
                time_zone,
                reason: None,
                manager_employee_id: worker.manager_employee_id.clone(),
                received_at,
                sender: HrEventSender::RosterFile,
                worker: Some(worker.clone()),
                corrected_event_id: None,
            });
        };
        if let (Some(end), true) = (worker.terminated_at, ended(worker)) {
            let known = old.is_some_and(|old| ended(old) && old.terminated_at == Some(end));
            if !known {
                push(HrEventType::Termination, end);
            }
            continue;
        }
        if ended(worker) {
            continue;
        }
        match old {
            Some(old) if ended(old) => {
                let since = old.terminated_at;
                let rehired = worker.hired_at.filter(|hired| since.is_none_or(|end| *hired > end));
                push(HrEventType::Rehire, rehired.unwrap_or(collected_at));
            }
            Some(old) if changed_position(old, worker) => push(HrEventType::Change, collected_at),
            Some(_) => {}
            None if previous.is_some() => {
                push(HrEventType::Hire, worker.hired_at.unwrap_or(collected_at));
            }
            None => {}
        }
    }
    events
}

/// Derives the id of a roster-derived event.
pub fn roster_event_id(
    tenant: &rollcall_core::TenantId,
    employee_id: &str,
    event_type: HrEventType,
    effective_at: DateTime<Utc>,
) -> Uuid {
    let name = format!(
        "{tenant}/{employee_id}/{}/{}",
        crate::events::event_type_name(event_type),
        to_micros(effective_at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    );
    Uuid::new_v5(&ROSTER_EVENT_NAMESPACE, name.as_bytes())
}

fn sender_name(sender: HrEventSender) -> &'static str {
    crate::events::sender_name(sender)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn terminated(id: &str, end: &str) -> Worker {
        let mut worker = Worker::new(id);
        worker.status = WorkerStatus::Terminated;
        worker.status_raw = "Terminated".to_owned();
        worker.terminated_at = Some(at(end));
        worker
    }

    fn derive(previous: Option<&[Worker]>, current: &[Worker]) -> Vec<(HrEventType, String)> {
        let tenant = rollcall_core::TenantId::new("lakeview").unwrap();
        let collected = at("2026-12-01T12:00:00Z");
        roster_events(&tenant, chrono_tz::UTC, previous, current, collected, collected)
            .into_iter()
            .map(|event| (event.event_type, event.employee_id))
            .collect()
    }

    #[test]
    fn first_roster_yields_terminations_only() {
        let current = [Worker::new("E1"), terminated("E2", "2026-11-30T06:00:00Z")];
        assert_eq!(derive(None, &current), [(HrEventType::Termination, "E2".to_owned())]);
    }

    #[test]
    fn roster_difference_yields_each_type() {
        let previous = [Worker::new("E1"), terminated("E2", "2026-11-01T06:00:00Z")];
        let mut rehired = Worker::new("E2");
        rehired.hired_at = Some(at("2026-11-20T06:00:00Z"));
        let current = [terminated("E1", "2026-11-30T06:00:00Z"), rehired, Worker::new("E3")];
        assert_eq!(
            derive(Some(&previous), &current),
            [
                (HrEventType::Termination, "E1".to_owned()),
                (HrEventType::Rehire, "E2".to_owned()),
                (HrEventType::Hire, "E3".to_owned()),
            ]
        );
    }

    #[test]
    fn position_change_yields_change() {
        let mut before = [Worker::new("E1"), Worker::new("E2"), Worker::new("E3")];
        before[0].job_title = Some("Medical Assistant".to_owned());
        before[1].manager_employee_id = Some("E9".to_owned());
        let mut after = before.clone();
        after[0].job_title = Some("Office Manager".to_owned());
        after[1].manager_employee_id = Some("E8".to_owned());
        // A new e-mail address is not a change of position.
        after[2].email = Some("e3@example.org".to_owned());
        assert_eq!(
            derive(Some(&before), &after),
            [(HrEventType::Change, "E1".to_owned()), (HrEventType::Change, "E2".to_owned())]
        );
    }

    #[test]
    fn unchanged_roster_yields_nothing() {
        let roster = [Worker::new("E1"), terminated("E2", "2026-11-30T06:00:00Z")];
        assert!(derive(Some(&roster), &roster).is_empty());
    }

    #[test]
    fn roster_event_ids_are_deterministic() {
        let tenant = rollcall_core::TenantId::new("lakeview").unwrap();
        let end = at("2026-11-30T06:00:00Z");
        let first = roster_event_id(&tenant, "E1", HrEventType::Termination, end);
        assert_eq!(first, roster_event_id(&tenant, "E1", HrEventType::Termination, end));
        assert_eq!(first.get_version_num(), 5);
        assert_ne!(first, roster_event_id(&tenant, "E2", HrEventType::Termination, end));
        assert_ne!(first, roster_event_id(&tenant, "E1", HrEventType::Rehire, end));
    }
}
