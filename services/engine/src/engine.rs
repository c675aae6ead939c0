//! The engine's work on one tenant: apply a change, evaluate, publish the outbox.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prost::Message as _;
use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_core::finding::{Finding, FindingKind, Severity};
use rollcall_core::model::{AccountKind, HrSnapshot, MfaSummary, SourceSnapshot};
use rollcall_ingest::tenant_file::TenantConfig;
use rollcall_proto::v1;
use rollcall_store::{
    ApplyOptions, ApplyOutcome, LeaverChange, LeaverState, ProblemKind, SnapshotMeta, Store,
    StoreError, TenantConfigText,
};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::clock::Clock;
use crate::error::EngineError;
use crate::lock::EvaluationLock;
use crate::metrics::{
    self, EngineMetrics, FindingLabels, GaugeMemory, SourceLabels, StrengthLabels,
};
use crate::review_gauges::ReviewGaugeMemory;
use crate::{leavers, pipeline, revocations};

/// The actor of the engine's audit entries.
pub const ACTOR: &str = "rollcall-engine";

/// Outbox events read per query while publishing.
const OUTBOX_BATCH: i64 = 256;
/// Wait before evaluating again a tenant whose lock another evaluation held.
const BUSY_RETRY: Duration = Duration::from_millis(500);

/// The result of one evaluation attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvaluationResult {
    /// Findings recorded; this many events went to the outbox.
    Recorded {
        /// Events added to the outbox.
        events: usize,
    },
    /// Another evaluation held the tenant's lock; this one is queued again.
    Busy,
    /// A newer evaluation was recorded first.
    Stale,
    /// The tenant has no stored configuration yet.
    NoConfig,
    /// The stored configuration does not parse; the error is logged.
    InvalidConfig,
}

impl EvaluationResult {
    fn label(&self) -> &'static str {
        match self {
            EvaluationResult::Recorded { .. } => "recorded",
            EvaluationResult::Busy => "busy",
            EvaluationResult::Stale => "stale",
            EvaluationResult::NoConfig => "no_config",
            EvaluationResult::InvalidConfig => "invalid_config",
        }
    }
}

/// The input of a recorded evaluation, kept for the leaver tracking that follows it.
struct RecordedInput {
    data: rollcall_core::TenantData,
    resolution: rollcall_core::identity::Resolution,
    as_of: DateTime<Utc>,
}

/// A tenant's parsed configuration with the SHA-256 of the texts it was parsed from
/// ([`TenantConfigText::sha256`]).
struct ParsedConfig {
    sha256: [u8; 32],
    config: Arc<TenantConfig>,
}

/// The engine's shared state. Clones share it.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    publisher: Publisher,
    clock: Clock,
    lock: EvaluationLock,
    metrics: EngineMetrics,
    gauges: GaugeMemory,
    /// Per tenant, the sources of the `leavers_overdue` gauges set last, so the next
    /// evaluation can zero those that no longer apply.
    overdue_gauges: std::sync::Mutex<std::collections::BTreeMap<String, Vec<String>>>,
    review_gauges: ReviewGaugeMemory,
    queue: mpsc::UnboundedSender<TenantId>,
    /// The review mail sender, set once at start when `mail` is configured.
    mail: std::sync::OnceLock<rollcall_reviews::mail::MailSender>,
    /// Until when review mail is paused after the SMTP server refused the settings.
    mail_paused_until: std::sync::Mutex<Option<DateTime<Utc>>>,
    /// The remediation write access, set once at start.
    remediation: std::sync::OnceLock<crate::remediation::RemediationAccess>,
    /// Per tenant, the configuration parsed last.
    configs: std::sync::Mutex<HashMap<TenantId, ParsedConfig>>,
}

/// How long review mail pauses after the SMTP server refused the settings (credentials,
/// TLS mode): every send would fail the same way until an operator fixes them, so each
/// replica tries again only this often instead of at every pass.
const MAIL_CONFIG_PAUSE: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

impl Engine {
    /// Creates the engine and the receiving end of its evaluation queue, which
    /// [`Engine::run_evaluations`] drains.
    pub fn new(
        store: Store,
        publisher: Publisher,
        clock: Clock,
        lock: EvaluationLock,
        metrics: EngineMetrics,
    ) -> (Self, mpsc::UnboundedReceiver<TenantId>) {
        let (queue, requests) = mpsc::unbounded_channel();
        let inner = Inner {
            store,
            publisher,
            clock,
            lock,
            metrics,
            gauges: GaugeMemory::default(),
            overdue_gauges: std::sync::Mutex::default(),
            review_gauges: ReviewGaugeMemory::default(),
            queue,
            mail: std::sync::OnceLock::new(),
            mail_paused_until: std::sync::Mutex::new(None),
            remediation: std::sync::OnceLock::new(),
            configs: std::sync::Mutex::default(),
        };
        (Self { inner: Arc::new(inner) }, requests)
    }

    /// Returns the store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Returns the metrics.
    pub fn metrics(&self) -> &EngineMetrics {
        &self.inner.metrics
    }

    /// Returns the evaluation lock.
    pub fn lock(&self) -> &EvaluationLock {
        &self.inner.lock
    }

    /// Returns the clock.
    pub fn clock(&self) -> Clock {
        self.inner.clock.clone()
    }

    /// Queues an evaluation of `tenant`. A lost request is found by the next reconcile,
    /// because the change that asked for it raised the tenant's state version.
    pub fn request_evaluation(&self, tenant: &TenantId) {
        if self.inner.queue.send(tenant.clone()).is_err() {
            tracing::debug!(tenant = %tenant, "evaluation queue closed; the reconcile will evaluate");
        }
    }

    /// Evaluates queued tenants until `stop` fires. Requests that arrive while one
    /// evaluation runs are merged, so a burst of snapshots for one tenant costs one or two
    /// evaluations.
    pub async fn run_evaluations(
        &self,
        mut requests: mpsc::UnboundedReceiver<TenantId>,
        stop: tokio_util::sync::CancellationToken,
    ) {
        loop {
            let first = tokio::select! {
                () = stop.cancelled() => return,
                next = requests.recv() => match next { Some(tenant) => tenant, None => return },
            };
            let mut batch = BTreeSet::from([first]);
            while let Ok(tenant) = requests.try_recv() {
                batch.insert(tenant);
            }
            for tenant in batch {
                if stop.is_cancelled() {
                    return;
                }
                self.evaluate_logged(&tenant).await;
            }
        }
    }

    /// [`Engine::evaluate_tenant`], logging a failure instead of returning it: the
    /// reconcile tries again.
    pub async fn evaluate_logged(&self, tenant: &TenantId) {
        match self.evaluate_tenant(tenant).await {
            Ok(EvaluationResult::Busy) => {
                let engine = self.clone();
                let tenant = tenant.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(BUSY_RETRY).await;
                    engine.request_evaluation(&tenant);
                });
            }
            Ok(_) => {}
            Err(error) => {
                self.inner.metrics.count_evaluation(tenant.as_str(), "failed");
                tracing::warn!(tenant = %tenant, error = %error, "evaluation failed; the reconcile retries");
            }
        }
    }

    /// Evaluates `tenant` under its evaluation lock, records the findings with their
    /// outbox events, and publishes the outbox.
    pub async fn evaluate_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<EvaluationResult, EngineError> {
        let span = rollcall_runtime::work_span("evaluate", Some(tenant.as_str()), None);
        self.evaluate_tenant_in_span(tenant).instrument(span).await
    }

    async fn evaluate_tenant_in_span(
        &self,
        tenant: &TenantId,
    ) -> Result<EvaluationResult, EngineError> {
        let Some(guard) = self.inner.lock.try_acquire(tenant).await? else {
            self.inner.metrics.count_evaluation(tenant.as_str(), "busy");
            return Ok(EvaluationResult::Busy);
        };
        let result = async {
            let (result, recorded) = self.evaluate_locked(tenant).await?;
            self.publish_outbox(tenant).await?;
            // After the publish, so finding events leave as soon as they are recorded.
            if let Some(recorded) = recorded {
                let RecordedInput { data, resolution, as_of } = recorded;
                self.track_leavers(tenant, &data, &resolution, as_of).await?;
                // Under the evaluation lock, so one remediation pass runs per tenant at a
                // time, after the leaver tracking saw which accounts are still enabled.
                self.remediate(tenant, &data, as_of).await;
            }
            Ok::<_, EngineError>(result)
        }
        .await;
        self.inner.lock.release(guard).await;
        let result = result?;
        self.inner.metrics.count_evaluation(tenant.as_str(), result.label());
        Ok(result)
    }

    /// Evaluates and records. With a recorded evaluation it also returns what the
    /// leaver tracking needs.
    async fn evaluate_locked(
        &self,
        tenant: &TenantId,
    ) -> Result<(EvaluationResult, Option<RecordedInput>), EngineError> {
        let started = Instant::now();
        let scope = self.inner.store.tenant(tenant);
        // Read before the data: a change committed after this read raises the version
        // again, so the tenant stays due for evaluation.
        let version = scope.work().await?.map_or(0, |work| work.state_version);
        let Some(config) = scope.tenant_config().await? else {
            tracing::warn!(
                tenant = %tenant,
                "tenant has data but no configuration; run `rollcall-engine tenant apply` on its folder"
            );
            return Ok((EvaluationResult::NoConfig, None));
        };
        let tenant_config = match self.parsed_config(tenant, &config.text) {
            Ok(parsed) if parsed.tenant.id == *tenant => parsed,
            Ok(parsed) => {
                tracing::error!(
                    tenant = %tenant, found = %parsed.tenant.id,
                    "the stored tenant.yaml names another tenant; apply the right folder"
                );
                return Ok((EvaluationResult::InvalidConfig, None));
            }
            Err(error) => {
                tracing::error!(
                    tenant = %tenant, error = %error,
                    "the stored tenant.yaml is invalid; fix it and apply the folder again"
                );
                return Ok((EvaluationResult::InvalidConfig, None));
            }
        };
        let sla = tenant_config.tenant.deprovision_sla;
        self.apply_hr_events(tenant, sla).await?;
        let realigned = scope.align_leaver_deadlines(sla).await?;
        if realigned > 0 {
            tracing::info!(tenant = %tenant, leavers = realigned, "leaver deadlines moved to the tenant's SLA");
        }
        let mut data = scope.load_tenant_data().await?;
        let all_leavers = scope.leavers(None).await?;
        leavers::overlay(&mut data, &all_leavers);
        let problems = scope.pipeline_problems().await?;
        let as_of = self.inner.clock.now();
        let evaluation = rollcall_core::evaluate(&tenant_config.tenant, &data, as_of);
        let resolution = evaluation.resolution;
        let mut findings = evaluation.findings;
        findings.extend(pipeline::findings(tenant, &problems));
        findings.extend(revocations::check(&scope, &tenant_config.tenant, &data, as_of).await?);
        self.open_event_reviews(&scope, &tenant_config, &data, as_of).await;

        let recorded = match scope.record_evaluation(as_of, &findings, version).await {
            Ok(recorded) => recorded,
            Err(StoreError::StaleEvaluation { .. }) => return Ok((EvaluationResult::Stale, None)),
            Err(error) => return Err(error.into()),
        };
        self.inner.metrics.evaluation_seconds.observe(started.elapsed().as_secs_f64());
        self.update_gauges(tenant, &findings, &data.sources);
        tracing::info!(
            tenant = %tenant, as_of = %as_of, findings = findings.len(),
            opened = recorded.diff.opened.len(), updated = recorded.diff.updated.len(),
            resolved = recorded.diff.resolved.len(), "tenant evaluated"
        );
        let input = RecordedInput { data, resolution, as_of };
        Ok((EvaluationResult::Recorded { events: recorded.events }, Some(input)))
    }

    /// Returns the parsed configuration of `text`, parsing it only when its content hash
    /// differs from the one parsed last for `tenant`. Parsing compiles the policy's
    /// pattern matchers, which costs more than a small tenant's evaluation. A text that
    /// does not parse is not kept, so its error is logged at every evaluation.
    fn parsed_config(
        &self,
        tenant: &TenantId,
        text: &TenantConfigText,
    ) -> Result<Arc<TenantConfig>, rollcall_ingest::tenant_file::TenantFileError> {
        let hash = text.sha256();
        let mut cache =
            self.inner.configs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cached) = cache.get(tenant)
            && cached.sha256 == hash
        {
            return Ok(Arc::clone(&cached.config));
        }
        // Parsed under the lock: two evaluations rarely overlap, and parsing twice would
        // cost more than the wait.
        let parsed = Arc::new(rollcall_ingest::tenant_file::parse_stored(
            &text.tenant_yaml,
            text.policy_yaml.as_deref(),
        )?);
        cache.insert(tenant.clone(), ParsedConfig { sha256: hash, config: Arc::clone(&parsed) });
        Ok(parsed)
    }

    /// Opens the event-triggered reviews of `data` when the tenant names a definition for
    /// them in `event_reviews`. A failure is logged, and the next evaluation tries again;
    /// the trigger keys keep that from opening a review twice.
    async fn open_event_reviews(
        &self,
        scope: &rollcall_store::TenantScope<'_>,
        config: &rollcall_ingest::tenant_file::TenantConfig,
        data: &rollcall_core::TenantData,
        as_of: DateTime<Utc>,
    ) {
        let Some(id) = config.event_reviews.as_deref() else { return };
        let Some(definition) = config.campaigns.iter().find(|campaign| campaign.id == id) else {
            return;
        };
        let opened =
            rollcall_reviews::open_event_reviews(scope, &config.tenant, definition, data, as_of)
                .await;
        if let Err(error) = opened {
            tracing::error!(
                tenant = %scope.tenant_id(), error = %error,
                "event-triggered reviews could not be opened; the next evaluation tries again"
            );
        }
    }

    /// Publishes the tenant's unpublished finding events in order, marking each after
    /// the stream's ack. Stops at the first failure; the reconcile publishes the rest.
    pub async fn publish_outbox(&self, tenant: &TenantId) -> Result<usize, EngineError> {
        let scope = self.inner.store.tenant(tenant);
        let mut published = 0;
        loop {
            let events = scope.unpublished_events(OUTBOX_BATCH).await?;
            if events.is_empty() {
                return Ok(published);
            }
            for event in events {
                let message =
                    v1::FindingEvent::decode(event.payload.as_slice()).map_err(|source| {
                        EngineError::CorruptOutbox {
                            tenant: tenant.clone(),
                            event_id: event.event_id,
                            source,
                        }
                    })?;
                self.inner.publisher.publish(&message).await?;
                scope.mark_published(event.event_id).await?;
                self.inner
                    .metrics
                    .finding_events_published
                    .get_or_create(&metrics::tenant(tenant.as_str()))
                    .inc();
                published += 1;
            }
        }
    }

    /// Stores an assembled directory snapshot with its audit entry. On `Applied` it
    /// resolves the source's dead-letter problem and queues an evaluation.
    pub async fn apply_snapshot(
        &self,
        tenant: &TenantId,
        snapshot_id: uuid::Uuid,
        snapshot: &SourceSnapshot,
        stream_sequence: u64,
        published: DateTime<Utc>,
        expected_base: Option<uuid::Uuid>,
    ) -> Result<ApplyOutcome, EngineError> {
        let started = Instant::now();
        let scope = self.inner.store.tenant(tenant);
        let meta = SnapshotMeta {
            snapshot_id,
            // A snapshot without its own collection time is dated by the stream, which
            // gives every redelivery the same instant.
            collected_at: snapshot.collected_at.unwrap_or(published),
            stream_sequence,
        };
        let options = ApplyOptions { expected_base, audit_actor: Some(ACTOR.to_owned()) };
        let source = snapshot.source.to_string();
        let span =
            rollcall_runtime::work_span("apply_snapshot", Some(tenant.as_str()), Some(&source));
        span.record("work_id", snapshot_id.hyphenated().to_string());
        let outcome =
            scope.apply_source_snapshot_with(snapshot, &meta, &options).instrument(span).await?;
        self.after_apply(tenant, &snapshot.source.to_string(), &outcome, started).await?;
        Ok(outcome)
    }

    /// Stores an assembled HR roster, as [`Engine::apply_snapshot`] does for a directory.
    pub async fn apply_roster(
        &self,
        tenant: &TenantId,
        snapshot_id: uuid::Uuid,
        roster: &HrSnapshot,
        stream_sequence: u64,
        published: DateTime<Utc>,
    ) -> Result<ApplyOutcome, EngineError> {
        let started = Instant::now();
        let scope = self.inner.store.tenant(tenant);
        let meta = SnapshotMeta {
            snapshot_id,
            collected_at: roster.collected_at.unwrap_or(published),
            stream_sequence,
        };
        let options = ApplyOptions { expected_base: None, audit_actor: Some(ACTOR.to_owned()) };
        let span = rollcall_runtime::work_span("apply_snapshot", Some(tenant.as_str()), Some("hr"));
        span.record("work_id", snapshot_id.hyphenated().to_string());
        let (outcome, derived) =
            scope.apply_hr_roster_deriving_events(roster, &meta, &options).instrument(span).await?;
        if derived > 0 {
            tracing::info!(tenant = %tenant, events = derived, "HR events derived from the roster");
        }
        self.after_apply(tenant, "hr", &outcome, started).await?;
        Ok(outcome)
    }

    /// Counts a sync report and records when the source last synced.
    pub fn record_sync_report(&self, report: &rollcall_proto::SyncReport) {
        let outcome = match report.outcome {
            rollcall_proto::SyncOutcome::Ok => "ok",
            rollcall_proto::SyncOutcome::Failed => "failed",
        };
        let labels = metrics::SyncLabels {
            tenant: report.tenant.to_string(),
            source: report.source.to_string(),
            outcome: outcome.to_owned(),
        };
        self.inner.metrics.sync_reports.get_or_create(&labels).inc();
        let finished = report.finished_at.timestamp_millis() as f64 / 1000.0;
        self.inner.metrics.last_sync.get_or_create(&labels).set(finished);
    }

    /// Sets the last-sync gauge of every stored source to the collection time of its
    /// applied snapshot, unless a sync report already set a later time. The gauge lives
    /// in memory, so without this an engine that restarts while a connector is down
    /// exports no series for that source, and the stale-source alert never fires.
    /// Returns the number of sources seeded.
    pub async fn seed_sync_gauges(&self) -> Result<usize, EngineError> {
        let mut seeded = 0;
        for tenant in self.inner.store.tenant_ids().await? {
            let states = match self.inner.store.tenant(&tenant).source_states().await {
                Ok(states) => states,
                Err(StoreError::UnknownTenant { .. }) => continue,
                Err(error) => return Err(error.into()),
            };
            for state in states {
                let labels = metrics::SyncLabels {
                    tenant: tenant.to_string(),
                    source: state.source.to_string(),
                    outcome: "ok".to_owned(),
                };
                let collected = state.collected_at.timestamp_millis() as f64 / 1000.0;
                let gauge = self.inner.metrics.last_sync.get_or_create(&labels);
                if gauge.get() < collected {
                    gauge.set(collected);
                    seeded += 1;
                }
            }
        }
        Ok(seeded)
    }

    /// Records metrics and follow-up work of an apply.
    pub(crate) async fn after_apply(
        &self,
        tenant: &TenantId,
        source: &str,
        outcome: &ApplyOutcome,
        started: Instant,
    ) -> Result<(), EngineError> {
        let labels = metrics::tenant(tenant.as_str());
        self.inner
            .metrics
            .snapshot_apply_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            ApplyOutcome::Applied => {
                self.inner.metrics.snapshots_applied.get_or_create(&labels).inc();
                let scope = self.inner.store.tenant(tenant);
                scope.resolve_pipeline_problem(ProblemKind::DeadLetter, source).await?;
                tracing::info!(tenant = %tenant, source, "snapshot applied");
                self.request_evaluation(tenant);
            }
            ApplyOutcome::Duplicate => {
                tracing::info!(tenant = %tenant, source, "snapshot already applied; skipped");
            }
            ApplyOutcome::Stale { current } => tracing::info!(
                tenant = %tenant, source, applied = %current.snapshot_id,
                "snapshot older than the applied one; skipped"
            ),
            ApplyOutcome::BaseMismatch { .. } => {}
        }
        Ok(())
    }

    /// Evaluates every tenant with state newer than its last evaluation, with
    /// unpublished events or with HR events not yet applied to its leavers (a row that
    /// reached `hr_events` without its NATS message), and refreshes the per-source
    /// freshness gauges. Returns the number of tenants evaluated.
    pub async fn reconcile(&self) -> Result<usize, EngineError> {
        let pending = self.inner.store.pending_work().await?;
        for work in &pending {
            tracing::info!(
                tenant = %work.tenant, state_version = work.state_version,
                evaluated_version = work.evaluated_version, outbox_pending = work.outbox_pending,
                "reconcile found pending work"
            );
            self.evaluate_logged(&work.tenant).await;
        }
        let mut evaluated = pending.len();
        for tenant in self.inner.store.tenant_ids().await? {
            if pending.iter().any(|work| work.tenant == tenant) {
                continue;
            }
            let scope = self.inner.store.tenant(&tenant);
            match scope.unapplied_hr_event_count().await {
                Ok(events) if events > 0 => {
                    tracing::info!(
                        tenant = %tenant, events,
                        "reconcile found HR events not applied to the leavers"
                    );
                    self.evaluate_logged(&tenant).await;
                    evaluated += 1;
                }
                Ok(_) | Err(StoreError::UnknownTenant { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let now = Utc::now();
        for tenant in self.inner.store.tenant_ids().await? {
            for state in self.inner.store.tenant(&tenant).source_states().await? {
                let labels =
                    SourceLabels { tenant: tenant.to_string(), source: state.source.to_string() };
                let collected = state.collected_at.timestamp_millis() as f64 / 1000.0;
                self.inner.metrics.source_collected.get_or_create(&labels).set(collected);
                let age = (now - state.collected_at).num_milliseconds().max(0) as f64 / 1000.0;
                self.inner.metrics.source_age.get_or_create(&labels).set(age);
            }
        }
        Ok(evaluated)
    }

    /// Evaluates every tenant with an open leaver whose deadline passed and was not yet
    /// acted on, so `deprovision_overdue` opens even when nothing else changed. The
    /// evaluation marks the deadlines acted on. Runs at start, which catches deadlines
    /// that passed while the engine was stopped, and every `engine.due_scan_seconds`.
    /// Returns the number of tenants evaluated.
    pub async fn scan_due_leavers(&self) -> Result<usize, EngineError> {
        let now = self.inner.clock.now();
        let mut evaluated = 0;
        for tenant in self.inner.store.tenant_ids().await? {
            let due = match self.inner.store.tenant(&tenant).due_leaver_count(now).await {
                Ok(due) => due,
                Err(StoreError::UnknownTenant { .. }) => continue,
                Err(error) => return Err(error.into()),
            };
            if due == 0 {
                continue;
            }
            tracing::info!(tenant = %tenant, leavers = due, now = %now, "leaver deadlines passed; evaluating");
            self.evaluate_logged(&tenant).await;
            evaluated += 1;
        }
        Ok(evaluated)
    }

    /// Launches every tenant's due access-review campaigns, applies the default action
    /// of those past their deadline and sets the campaign gauges, at the engine's clock. A tenant that fails is logged
    /// and the others still run. Several replicas may run it at once: the store launches
    /// each campaign period once. Returns the number of campaigns launched.
    pub async fn run_review_campaigns(&self) -> Result<usize, EngineError> {
        let now = self.inner.clock.now();
        let mut launched = 0;
        for tenant in self.inner.store.tenant_ids().await? {
            let scope = self.inner.store.tenant(&tenant);
            match rollcall_reviews::launch_due(&scope, now).await {
                Ok(launches) => {
                    for launch in launches.iter().filter(|l| l.outcome.is_ok()) {
                        launched += 1;
                        tracing::info!(tenant = %tenant, campaign = %launch.definition_id, "review campaign launched");
                    }
                }
                // A tenant without stored configuration has no campaigns to launch.
                Err(rollcall_reviews::ReviewError::NoConfig { .. }) => continue,
                Err(error) => {
                    tracing::warn!(tenant = %tenant, %error, "review campaigns not launched; retrying at the next pass");
                    continue;
                }
            }
            if let Err(error) = rollcall_reviews::expire_overdue(&scope, now).await {
                tracing::warn!(tenant = %tenant, %error, "overdue review campaigns not expired; retrying at the next pass");
            }
            self.send_review_mail(&scope, now).await;
            match scope.review_progress().await {
                Ok(progress) => {
                    let metrics = &self.inner.metrics;
                    self.inner.review_gauges.update(metrics, tenant.as_str(), &progress, now);
                }
                Err(error) => {
                    tracing::warn!(tenant = %tenant, %error, "review campaign gauges not updated; retrying at the next pass");
                }
            }
        }
        Ok(launched)
    }

    /// Sets the remediation write access. Returns `false` when it was set before, which is
    /// then kept.
    pub fn set_remediation_access(&self, access: crate::remediation::RemediationAccess) -> bool {
        self.inner.remediation.set(access).is_ok()
    }

    /// Runs the tenant's remediation pass on the data of the evaluation at `as_of`. A
    /// failure is logged; the next evaluation runs the pass again, and tasks already
    /// carried out are not repeated.
    async fn remediate(
        &self,
        tenant: &TenantId,
        data: &rollcall_core::TenantData,
        as_of: DateTime<Utc>,
    ) {
        let empty = crate::remediation::RemediationAccess::default();
        let access = self.inner.remediation.get().unwrap_or(&empty);
        let scope = self.inner.store.tenant(tenant);
        match crate::remediation::run_pass(&scope, access, data, as_of, &self.inner.metrics).await {
            Ok(report) if !report.outcomes.is_empty() || report.verified > 0 => tracing::info!(
                tenant = %tenant, outcomes = ?report.outcomes, verified = report.verified,
                "remediation pass finished"
            ),
            Ok(_) => {}
            Err(error) => tracing::error!(
                tenant = %tenant, %error,
                "remediation pass failed; the next evaluation tries again"
            ),
        }
    }

    /// Sets the sender of review reminders and escalations. Returns `false` when one was
    /// set before, which is then kept.
    pub fn set_mail_sender(&self, sender: rollcall_reviews::mail::MailSender) -> bool {
        self.inner.mail.set(sender).is_ok()
    }

    /// Checks the SMTP settings once without sending mail, so a server that refuses them
    /// shows in the log at start and not first at a campaign's reminder. Does nothing
    /// without a `mail` section.
    pub async fn check_mail_connection(&self) {
        let Some(sender) = self.inner.mail.get() else { return };
        match sender.mailer().check().await {
            Ok(()) => tracing::info!(
                server = sender.mailer().server(),
                "SMTP server accepted the mail settings"
            ),
            Err(error) if error.class.is_config_error() => tracing::error!(
                class = error.class.as_str(),
                %error,
                "SMTP server refused the mail settings; review mail will fail until `mail.smtp` is fixed"
            ),
            Err(error) => tracing::warn!(
                class = error.class.as_str(),
                %error,
                "SMTP settings check failed; review mail is retried at each pass"
            ),
        }
    }

    /// Sends the review mail the tenant's campaigns owe at `now`, when mail is
    /// configured and not paused, and counts the outcome.
    async fn send_review_mail(&self, scope: &rollcall_store::TenantScope<'_>, now: DateTime<Utc>) {
        use rollcall_reviews::mail::{MailError, send_due_mail};

        let Some(sender) = self.inner.mail.get() else { return };
        let paused = self.inner.mail_paused_until.lock().map(|until| *until).unwrap_or(None);
        if paused.is_some_and(|until| now < until) {
            return;
        }
        let tenant = scope.tenant_id().as_str();
        let metrics = &self.inner.metrics;
        match send_due_mail(scope, sender, now).await {
            Ok(report) => {
                metrics.count_review_mail(tenant, "sent", report.sent);
                metrics.count_review_mail(tenant, "failed", report.failed);
                metrics.count_review_mail(tenant, "no_address", report.no_address);
                metrics.count_review_mail(tenant, "no_manager", report.no_manager);
            }
            // A tenant without stored configuration has no campaigns to mail about.
            Err(MailError::Review(rollcall_reviews::ReviewError::NoConfig { .. })) => {}
            Err(MailError::Config(error)) => {
                metrics.count_review_mail(tenant, "config_error", 1);
                let until = now + MAIL_CONFIG_PAUSE;
                if let Ok(mut paused) = self.inner.mail_paused_until.lock() {
                    *paused = Some(until);
                }
                tracing::error!(
                    tenant = %tenant,
                    class = error.class.as_str(),
                    %error,
                    paused_until = %until,
                    "review mail stopped: the SMTP server refused the mail settings; fix `mail.smtp` and restart, or mail resumes at the pause's end"
                );
            }
            Err(error) => {
                tracing::warn!(tenant = %tenant, %error, "review mail not sent; retrying at the next pass");
            }
        }
    }

    /// Applies the tenant's HR events that are not yet applied to its leavers, in the
    /// order they were received. Runs under the evaluation lock, before the leavers are
    /// read, so the NATS consumer and the reconcile both end here.
    async fn apply_hr_events(
        &self,
        tenant: &TenantId,
        sla: chrono::TimeDelta,
    ) -> Result<usize, EngineError> {
        let scope = self.inner.store.tenant(tenant);
        let events = scope.unapplied_hr_events().await?;
        let mut changed = 0;
        for event in &events {
            let change =
                scope.apply_hr_event_to_leavers(event, sla, ACTOR, self.inner.clock.now()).await?;
            if !matches!(change, LeaverChange::Ignored | LeaverChange::AlreadyApplied) {
                changed += 1;
                tracing::info!(
                    tenant = %tenant, event_id = %event.event_id, employee_id = %event.employee_id,
                    change = change.as_str(), "HR event applied to the leavers"
                );
            }
        }
        Ok(changed)
    }

    /// Records what the evaluation at `as_of` saw of the open leavers' accounts, closes
    /// the leavers whose accounts are all disabled or gone, marks passed deadlines as
    /// acted on, and sets the leaver metrics.
    async fn track_leavers(
        &self,
        tenant: &TenantId,
        data: &rollcall_core::TenantData,
        resolution: &rollcall_core::identity::Resolution,
        as_of: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let scope = self.inner.store.tenant(tenant);
        let tracked: Vec<_> = scope
            .leavers(None)
            .await?
            .into_iter()
            .filter(|leaver| leaver.state != LeaverState::Cancelled)
            .collect();
        let stored = scope.leaver_accounts().await?;
        let observations = leavers::observations(&tracked, &stored, data, resolution, as_of);
        let recorded = scope.record_leaver_observations(as_of, &observations, ACTOR).await?;
        for leaver in &recorded.reopened {
            tracing::warn!(
                tenant = %tenant, leaver_id = %leaver.leaver_id, employee_id = %leaver.employee_id,
                accounts = ?leaver.accounts,
                "leaver opened again: an account of the terminated worker can sign in"
            );
        }
        for leaver in &recorded.closed {
            self.inner
                .metrics
                .time_to_deprovision_seconds
                .observe(leaver.time_to_deprovision_seconds as f64);
            tracing::info!(
                tenant = %tenant, leaver_id = %leaver.leaver_id, employee_id = %leaver.employee_id,
                time_to_deprovision_seconds = leaver.time_to_deprovision_seconds,
                "leaver closed: every account is disabled or gone"
            );
        }
        for leaver in scope.mark_deadlines_acted(as_of, ACTOR).await? {
            tracing::info!(
                tenant = %tenant, leaver_id = %leaver.leaver_id, employee_id = %leaver.employee_id,
                deadline = %leaver.deadline, "leaver deadline passed"
            );
        }

        let open = scope.leavers(Some(LeaverState::Open)).await?;
        let accounts = scope.leaver_accounts().await?;
        let metrics = &self.inner.metrics;
        metrics
            .leavers_open
            .get_or_create(&metrics::tenant(tenant.as_str()))
            .set(i64::try_from(open.len()).unwrap_or(i64::MAX));
        let overdue = leavers::overdue_by_source(&open, &accounts, as_of);
        let mut memory =
            self.inner.overdue_gauges.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let labels =
            |source: &str| SourceLabels { tenant: tenant.to_string(), source: source.to_owned() };
        for source in memory.remove(tenant.as_str()).unwrap_or_default() {
            metrics.leavers_overdue.get_or_create(&labels(&source)).set(0);
        }
        for (source, count) in &overdue {
            metrics.leavers_overdue.get_or_create(&labels(source)).set(*count);
        }
        memory.insert(tenant.to_string(), overdue.into_keys().collect());
        Ok(())
    }

    /// Runs the store's retention job for every tenant.
    pub async fn apply_retention(&self) -> Result<(), EngineError> {
        let as_of = self.inner.clock.now();
        for tenant in self.inner.store.tenant_ids().await? {
            let report = self.inner.store.tenant(&tenant).apply_retention(as_of).await;
            match report {
                Ok(report)
                    if !report.findings_removed.is_empty() || report.audit_removed.is_some() =>
                {
                    tracing::info!(
                        tenant = %tenant, findings_removed = report.findings_removed.len(),
                        cutoff = %report.cutoff, "retention removed expired records"
                    );
                }
                Ok(_) => {}
                // A tenant in the directory whose tenant row is not written yet.
                Err(StoreError::UnknownTenant { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Sets the tenant's finding and MFA gauges, and zeroes those of the previous
    /// evaluation that no longer apply.
    fn update_gauges(&self, tenant: &TenantId, findings: &[Finding], sources: &[SourceSnapshot]) {
        let metrics = &self.inner.metrics;
        let mut counts = std::collections::BTreeMap::<(FindingKind, Severity), i64>::new();
        for finding in findings {
            *counts.entry((finding.kind, finding.severity)).or_default() += 1;
        }
        let finding_labels: Vec<(FindingLabels, i64)> = counts
            .iter()
            .map(|((kind, severity), count)| {
                let labels = FindingLabels {
                    tenant: tenant.to_string(),
                    kind: kind.as_str().to_owned(),
                    severity: severity.as_str().to_owned(),
                };
                (labels, *count)
            })
            .collect();

        let mut strengths = std::collections::BTreeMap::<&'static str, i64>::new();
        for source in sources {
            for account in &source.accounts {
                let strength = match &account.auth_methods {
                    Some(methods) => MfaSummary::of(methods, account.kind == AccountKind::Guest)
                        .strongest
                        .as_str(),
                    None => "unknown",
                };
                *strengths.entry(strength).or_default() += 1;
            }
        }
        let strength_labels: Vec<(StrengthLabels, i64)> = strengths
            .iter()
            .map(|(strength, count)| {
                (
                    StrengthLabels { tenant: tenant.to_string(), strength: (*strength).to_owned() },
                    *count,
                )
            })
            .collect();

        let weak: BTreeSet<String> = findings
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FindingKind::MfaPrivilegedPhone
                        | FindingKind::MfaPrivilegedNotPhishingResistant
                )
            })
            .map(|f| f.subject.key())
            .collect();
        metrics
            .privileged_weak_mfa
            .get_or_create(&metrics::tenant(tenant.as_str()))
            .set(i64::try_from(weak.len()).unwrap_or(i64::MAX));

        let mut memory =
            self.inner.gauges.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = memory.remove(tenant.as_str()).unwrap_or_default();
        for labels in previous.findings {
            metrics.findings.get_or_create(&labels).set(0);
        }
        for labels in previous.strengths {
            metrics.mfa_strength.get_or_create(&labels).set(0);
        }
        for (labels, count) in &finding_labels {
            metrics.findings.get_or_create(labels).set(*count);
        }
        for (labels, count) in &strength_labels {
            metrics.mfa_strength.get_or_create(labels).set(*count);
        }
        memory.insert(
            tenant.to_string(),
            metrics::SetGauges {
                findings: finding_labels.into_iter().map(|(labels, _)| labels).collect(),
                strengths: strength_labels.into_iter().map(|(labels, _)| labels).collect(),
            },
        );
    }
}
