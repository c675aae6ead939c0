//! The consumer handlers: snapshot chunks, deltas and HR events.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rollcall_bus::{Delivery, Handler, HeldMessages, Outcome, retry_delay};
use rollcall_core::TenantId;
use rollcall_core::model::SourceSnapshot;
use rollcall_proto::{
    Assembler, ContentHash, SnapshotContent, SourceDelta, SyncOutcome, SyncReport, v1,
};
use rollcall_store::{ApplyOutcome, PipelineProblem, ProblemKind, StoreError};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::metrics;

/// Returns the nak for a failure that may pass (the database is down, the tenant is not
/// configured yet).
fn retry(delivery: &Delivery, error: &EngineError) -> Outcome {
    Outcome::nak(retry_delay(delivery.delivered), error.to_string())
}

/// Checks that the message names the tenant of its subject. A publisher can put any
/// tenant in the payload; the subject is what NATS permissions restrict.
fn check_tenant(delivery: &Delivery, tenant: &str) -> Result<TenantId, Outcome> {
    match (&delivery.tenant, TenantId::new(tenant)) {
        (Some(subject), Ok(id)) if subject == id.as_str() => Ok(id),
        _ => Err(Outcome::term(format!(
            "the message names tenant `{tenant}` but was published on `{}`; publish it on its own tenant's subject",
            delivery.subject
        ))),
    }
}

/// Assembles snapshot chunks and applies complete snapshots.
///
/// A chunk of an incomplete snapshot is held unsettled (see [`HeldMessages`]) and acked
/// only after the whole snapshot is committed, so a crash loses nothing.
pub struct SnapshotHandler {
    engine: Engine,
    assembler: Arc<Mutex<Assembler>>,
    held: HeldMessages,
}

impl SnapshotHandler {
    /// Creates the handler. `held` must be the runner's set.
    pub fn new(engine: Engine, assembler: Arc<Mutex<Assembler>>, held: HeldMessages) -> Self {
        Self { engine, assembler, held }
    }

    fn assembler(&self) -> std::sync::MutexGuard<'_, Assembler> {
        self.assembler.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SnapshotHandler {
    /// NOTE: a snapshot without its own `collected_at` that a newer one replaced is not
    /// recognised here, so its leftover chunks expire and end as a dead letter.
    ///
    /// Returns whether the snapshot `id` of `source` is applied, or older than the
    /// applied one (its apply would be skipped as stale). A failed read returns
    /// `false`, so the chunk is held and checked again at its next redelivery.
    async fn already_stored(
        &self,
        tenant: &TenantId,
        source: &str,
        id: uuid::Uuid,
        collected_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> bool {
        let Ok(states) = self.engine.store().tenant(tenant).source_states().await else {
            return false;
        };
        states.iter().filter(|state| state.source.to_string() == source).any(|state| {
            state.snapshot_id == id || collected_at.is_some_and(|at| at < state.collected_at)
        })
    }
}

/// The held-message group of a snapshot.
pub fn snapshot_group(tenant: &str, snapshot_id: &str) -> String {
    format!("{tenant}/{snapshot_id}")
}

impl Handler for SnapshotHandler {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        let chunk = match delivery.decode::<v1::SnapshotChunk>() {
            Ok(chunk) => chunk,
            Err(error) => {
                return Outcome::term(format!(
                    "the payload is not a rollcall.v1.SnapshotChunk ({error}); publish chunks made by rollcall_proto::split"
                ));
            }
        };
        let tenant = match check_tenant(delivery, &chunk.tenant) {
            Ok(tenant) => tenant,
            Err(outcome) => return outcome,
        };
        let group = snapshot_group(tenant.as_str(), &chunk.snapshot_id);
        let snapshot_id = uuid::Uuid::parse_str(&chunk.snapshot_id).ok();
        let source = chunk.source.clone();
        let collected_at = chunk.collected_at.and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        });
        let now = Instant::now();
        let (accepted, pending) = {
            let mut assembler = self.assembler();
            let accepted = assembler.accept(chunk, now);
            let pending = assembler
                .pending(now)
                .iter()
                .any(|p| p.tenant == tenant && Some(p.snapshot_id) == snapshot_id);
            (accepted, pending)
        };
        let assembled = match accepted {
            Err(error) => {
                if let Some(id) = snapshot_id {
                    self.assembler().discard(&tenant, id);
                }
                let nakked =
                    self.held.nak_group(&group, Some(retry_delay(delivery.delivered))).await;
                tracing::warn!(
                    tenant = %tenant, %group, held_nakked = nakked, error = %error,
                    "snapshot chunk rejected"
                );
                return Outcome::term(error.to_string());
            }
            Ok(None) if pending => {
                if delivery.is_redelivery()
                    && let Some(id) = snapshot_id
                    && self.already_stored(&tenant, &source, id, collected_at).await
                {
                    // The snapshot was committed, and the process that committed it acked
                    // only part of its chunks: the rest will never come back.
                    self.assembler().discard(&tenant, id);
                    self.held.ack_group(&group).await;
                    return Outcome::Ack;
                }
                return Outcome::Hold { group };
            }
            // A chunk of a snapshot this process already assembled: a redelivery.
            Ok(None) => return Outcome::Ack,
            Ok(Some(assembled)) => assembled,
        };

        let applied = match &assembled.content {
            SnapshotContent::Source(snapshot) => {
                self.engine
                    .apply_snapshot(
                        &assembled.tenant,
                        assembled.snapshot_id,
                        snapshot,
                        delivery.stream_sequence,
                        delivery.published,
                        None,
                    )
                    .await
            }
            SnapshotContent::Roster(roster) => {
                self.engine
                    .apply_roster(
                        &assembled.tenant,
                        assembled.snapshot_id,
                        roster,
                        delivery.stream_sequence,
                        delivery.published,
                    )
                    .await
            }
        };
        match applied {
            Ok(_) => {
                self.held.ack_group(&group).await;
                Outcome::Ack
            }
            Err(error) => {
                // The chunks come back; assemble them again then.
                self.assembler().forget_completed(&assembled.tenant, assembled.snapshot_id);
                let delay = retry_delay(delivery.delivered);
                self.held.nak_group(&group, Some(delay)).await;
                tracing::warn!(tenant = %tenant, %group, error = %error, "applying a snapshot failed");
                retry(delivery, &error)
            }
        }
    }
}

/// Drops partial snapshots older than `max_age` with a warning, and naks their held
/// chunks so that they are delivered again. A snapshot that never completes ends on the
/// dead-letter stream after the consumer's last attempt.
pub async fn expire_partial_snapshots(
    engine: &Engine,
    assembler: &Mutex<Assembler>,
    held: &HeldMessages,
    max_age: Duration,
) {
    let expired =
        assembler.lock().unwrap_or_else(PoisonError::into_inner).expire(Instant::now(), max_age);
    for partial in expired {
        tracing::warn!(
            tenant = %partial.tenant, source = %partial.source, snapshot_id = %partial.snapshot_id,
            chunks_received = partial.chunks_received, chunk_count = partial.chunk_count,
            age_seconds = partial.age.as_secs(),
            "partial snapshot expired before all its chunks arrived; its chunks are nakked"
        );
        engine
            .metrics()
            .partial_snapshots_expired
            .get_or_create(&metrics::tenant(partial.tenant.as_str()))
            .inc();
        let group =
            snapshot_group(partial.tenant.as_str(), &partial.snapshot_id.hyphenated().to_string());
        held.nak_group(&group, Some(retry_delay(1))).await;
    }
}

/// Applies deltas on top of the applied snapshot of their source.
pub struct DeltaHandler {
    engine: Engine,
    max_deliver: u64,
}

impl DeltaHandler {
    /// Creates the handler; `max_deliver` is the consumer's.
    pub fn new(engine: Engine, max_deliver: i64) -> Self {
        Self { engine, max_deliver: u64::try_from(max_deliver).unwrap_or(1) }
    }

    /// Naks a delta whose base is not applied, because the base may be a snapshot still
    /// in flight. On the last attempt it skips the delta instead, because the
    /// connector's next full snapshot carries its changes.
    fn base_missing(
        &self,
        delivery: &Delivery,
        delta: &SourceDelta,
        current: Option<uuid::Uuid>,
    ) -> Outcome {
        if delivery.delivered < self.max_deliver {
            return Outcome::nak(
                retry_delay(delivery.delivered),
                format!(
                    "delta `{}` is based on snapshot `{}`, but `{}` is applied; waiting for the base",
                    delta.delta_id,
                    delta.base_snapshot_id,
                    current.map_or_else(|| "none".to_owned(), |id| id.to_string())
                ),
            );
        }
        self.engine
            .metrics()
            .deltas_skipped
            .get_or_create(&metrics::tenant(delta.tenant.as_str()))
            .inc();
        tracing::warn!(
            tenant = %delta.tenant, source = %delta.source, delta_id = %delta.delta_id,
            base = %delta.base_snapshot_id,
            "delta skipped: its base snapshot was never applied; the next full snapshot carries its changes"
        );
        Outcome::Ack
    }
}

impl Handler for DeltaHandler {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        let message = match delivery.decode::<v1::SnapshotDelta>() {
            Ok(message) => message,
            Err(error) => {
                return Outcome::term(format!(
                    "the payload is not a rollcall.v1.SnapshotDelta ({error})"
                ));
            }
        };
        let delta = match rollcall_proto::source_delta_from_proto(message) {
            Ok(delta) => delta,
            Err(error) => return Outcome::term(format!("invalid delta: {error}")),
        };
        if let Err(outcome) = check_tenant(delivery, delta.tenant.as_str()) {
            return outcome;
        }
        let scope = self.engine.store().tenant(&delta.tenant);
        let states = match scope.source_states().await {
            Ok(states) => states,
            Err(error) => return retry(delivery, &error.into()),
        };
        let current = states.iter().find(|s| s.source == delta.source).map(|s| s.snapshot_id);
        if current == Some(delta.delta_id) {
            return Outcome::Ack;
        }
        if current != Some(delta.base_snapshot_id) {
            return self.base_missing(delivery, &delta, current);
        }
        let data = match scope.load_tenant_data().await {
            Ok(data) => data,
            Err(error) => return retry(delivery, &error.into()),
        };
        let Some(base) = data.sources.into_iter().find(|s| s.source == delta.source) else {
            return self.base_missing(delivery, &delta, current);
        };
        let snapshot = apply_delta(base, &delta);
        let hash = ContentHash::of(&snapshot);
        if hash != delta.content_hash {
            return Outcome::term(format!(
                "delta `{}` on snapshot `{}` gives content hash `{hash}`, not the announced `{}`; publish a full snapshot",
                delta.delta_id, delta.base_snapshot_id, delta.content_hash
            ));
        }
        let applied = self
            .engine
            .apply_snapshot(
                &delta.tenant,
                delta.delta_id,
                &snapshot,
                delivery.stream_sequence,
                delivery.published,
                Some(delta.base_snapshot_id),
            )
            .await;
        match applied {
            Ok(ApplyOutcome::BaseMismatch { current }) => {
                self.base_missing(delivery, &delta, current)
            }
            Ok(_) => Outcome::Ack,
            Err(error) => retry(delivery, &error),
        }
    }
}

/// Returns `base` with `delta` applied: records keyed by id are replaced, removed or
/// added, memberships removed and added by value, and the settings replaced when the
/// delta has them.
pub fn apply_delta(mut base: SourceSnapshot, delta: &SourceDelta) -> SourceSnapshot {
    let mut accounts: BTreeMap<String, _> =
        base.accounts.drain(..).map(|a| (a.id.clone(), a)).collect();
    for id in &delta.removed_account_ids {
        accounts.remove(id);
    }
    for account in &delta.changed_accounts {
        accounts.insert(account.id.clone(), account.clone());
    }
    let mut entitlements: BTreeMap<String, _> =
        base.entitlements.drain(..).map(|e| (e.id.clone(), e)).collect();
    for id in &delta.removed_entitlement_ids {
        entitlements.remove(id);
    }
    for entitlement in &delta.changed_entitlements {
        entitlements.insert(entitlement.id.clone(), entitlement.clone());
    }
    base.memberships.retain(|m| !delta.removed_memberships.contains(m));
    base.memberships.extend(delta.added_memberships.iter().cloned());
    if let Some(settings) = &delta.settings {
        base.settings = settings.clone();
    }
    base.accounts = accounts.into_values().collect();
    base.entitlements = entitlements.into_values().collect();
    base.collected_at = delta.collected_at.or(base.collected_at);
    base
}

/// Stores HR events.
pub struct HrEventHandler {
    engine: Engine,
}

impl HrEventHandler {
    /// Creates the handler.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

impl Handler for HrEventHandler {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        let message = match delivery.decode::<v1::HrEvent>() {
            Ok(message) => message,
            Err(error) => {
                return Outcome::term(format!(
                    "the payload is not a rollcall.v1.HrEvent ({error})"
                ));
            }
        };
        let event = match rollcall_proto::hr_event_from_proto(message) {
            Ok(event) => event,
            Err(error) => return Outcome::term(format!("invalid HR event: {error}")),
        };
        if let Err(outcome) = check_tenant(delivery, event.tenant.as_str()) {
            return outcome;
        }
        match self.engine.store().tenant(&event.tenant).record_hr_event(&event).await {
            // A stored row is not always an applied one: the HR webhook commits the row
            // before it publishes, so its messages always find the row. The evaluation
            // applies the event if no earlier one did, instead of waiting for the reconcile.
            Ok(_) => {
                self.engine.request_evaluation(&event.tenant);
                Outcome::Ack
            }
            Err(error @ StoreError::NulCharacter { .. }) => Outcome::term(error.to_string()),
            Err(error) => retry(delivery, &error.into()),
        }
    }
}

/// Turns sync reports into the `source_sync_failed` pipeline finding: opened while the
/// source's latest report is FAILED, resolved by the next OK.
pub struct SyncReportHandler {
    engine: Engine,
}

impl SyncReportHandler {
    /// Creates the handler.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

impl Handler for SyncReportHandler {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        let message = match delivery.decode::<v1::SyncReport>() {
            Ok(message) => message,
            Err(error) => {
                return Outcome::term(format!(
                    "the payload is not a rollcall.v1.SyncReport ({error})"
                ));
            }
        };
        let report = match rollcall_proto::sync_report_from_proto(message) {
            Ok(report) => report,
            Err(error) => return Outcome::term(format!("invalid sync report: {error}")),
        };
        if let Err(outcome) = check_tenant(delivery, report.tenant.as_str()) {
            return outcome;
        }
        self.engine.record_sync_report(&report);
        match self.apply(&report).await {
            Ok(changed) => {
                if changed {
                    self.engine.request_evaluation(&report.tenant);
                }
                Outcome::Ack
            }
            Err(error @ StoreError::NulCharacter { .. }) => Outcome::term(error.to_string()),
            Err(error) => retry(delivery, &error.into()),
        }
    }
}

impl SyncReportHandler {
    /// Opens or resolves the problem. Returns whether the tenant's state changed.
    async fn apply(&self, report: &SyncReport) -> Result<bool, StoreError> {
        let scope = self.engine.store().tenant(&report.tenant);
        let source = report.source.to_string();
        let open =
            scope.pipeline_problems().await?.into_iter().find(|problem| {
                problem.kind == ProblemKind::SyncFailed && problem.source == source
            });
        // A report older than the one that opened the problem changes nothing, because
        // JetStream may deliver reports out of order after a redelivery.
        let opened_by_later = open.as_ref().is_some_and(|problem| {
            problem
                .detail
                .get("finished_at")
                .and_then(|v| v.as_str())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|at| at > report.finished_at)
        });
        if opened_by_later {
            return Ok(false);
        }
        match report.outcome {
            SyncOutcome::Ok => {
                scope.resolve_pipeline_problem(ProblemKind::SyncFailed, &source).await
            }
            SyncOutcome::Failed => {
                let first = report.problems.first();
                let detail = serde_json::json!({
                    "report_id": report.report_id.hyphenated().to_string(),
                    "connector": report.connector,
                    "finished_at": report.finished_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    "input": first.map(|p| p.input.clone()).unwrap_or_default(),
                    "location": first.and_then(|p| p.location.clone()).unwrap_or_default(),
                    "message": first.map(|p| p.message.clone()).unwrap_or_default(),
                    "problems": report.problems.len().to_string(),
                });
                let problem = PipelineProblem {
                    kind: ProblemKind::SyncFailed,
                    source,
                    detail,
                    opened_at: open.map_or(report.finished_at, |problem| problem.opened_at),
                };
                scope.open_pipeline_problem(&problem).await?;
                Ok(true)
            }
        }
    }
}
