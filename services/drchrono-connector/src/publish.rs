//! One sync attempt of one practice, published: the read, the `ehr:drchrono` snapshot in
//! chunks, the published hash, then a sync report whatever happened.
//!
//! A failed attempt publishes no snapshot, only a FAILED report, so the engine keeps the
//! last good snapshot. The published hash is saved only after JetStream acknowledged
//! every chunk, so a lost publish is repeated by the next attempt.

use std::time::Instant;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use rollcall_ingest::Level;
use rollcall_proto::{ContentHash, InputProblem, SyncOutcome, SyncReport, sync_report_to_proto};
use rollcall_store::TenantScope;
use uuid::Uuid;

use crate::client::ApiClient;
use crate::metrics::ConnectorMetrics;
use crate::sync::{SyncResult, full_sync};

/// The connector name written in sync reports.
pub const CONNECTOR_NAME: &str = "drchrono-connector";

/// The source label in logs.
const SOURCE: &str = "ehr:drchrono";

/// The stage at which an attempt failed, written as the location of its fatal problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the DrChrono API, token refresh included.
    Api,
    /// Reading the state from PostgreSQL.
    State,
    /// Publishing the snapshot on NATS.
    Publish,
}

impl Stage {
    /// Returns the stage's name in reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Api => "api",
            Stage::State => "state",
            Stage::Publish => "publish",
        }
    }
}

/// The outcome of one attempt.
#[derive(Debug)]
pub struct Attempt {
    /// The report, published unless `report_published` is false.
    pub report: SyncReport,
    /// Whether the report reached the stream.
    pub report_published: bool,
    /// The sync's result, when the read succeeded.
    pub result: Option<SyncResult>,
}

/// The inputs of a practice's attempt besides the API client.
pub struct TenantSync<'a> {
    /// Rollcall's tenant id.
    pub tenant: &'a TenantId,
    /// The tenant's scope in the store, which keeps the published hash.
    pub scope: TenantScope<'a>,
    /// The bus publisher.
    pub publisher: &'a Publisher,
    /// The connector's metrics.
    pub metrics: &'a ConnectorMetrics,
    /// The zone of naive timestamps whose doctor has no `timezone`.
    pub zone: Tz,
    /// Days of the audit log read for logins.
    pub login_window_days: u32,
    /// Records per page.
    pub page_size: u32,
}

/// Runs one attempt: reads the practice, publishes the snapshot unless its content hash
/// equals the last published one, saves the hash and publishes the report. Every
/// failure ends in a FAILED report; none is returned as an error.
pub async fn sync_and_publish(client: &mut ApiClient<'_>, job: &TenantSync<'_>) -> Attempt {
    let name = job.tenant.as_str();
    let started_at = Utc::now();
    let timer = Instant::now();

    let synced = full_sync(client, job.zone, job.login_window_days, job.page_size).await;
    job.metrics.record_requests(name, client.stats());
    let result = match synced {
        Ok(result) => result,
        Err(error) => {
            let input = error.input().to_owned();
            return fail(job, started_at, Stage::Api, &input, error.to_string()).await;
        }
    };

    let previous = match job.scope.drchrono_state().await {
        Ok(state) => state.and_then(|state| state.published_hash),
        Err(error) => {
            return fail(job, started_at, Stage::State, "drchrono_state", error.to_string()).await;
        }
    };
    let content_hash = ContentHash::of(&result.snapshot);
    let hash_text = fingerprint(&result.snapshot);
    let snapshot_id = if previous.as_deref() == Some(hash_text.as_str()) {
        tracing::info!(tenant = name, source = SOURCE, %content_hash, "snapshot unchanged since the last publish, sending the report only");
        None
    } else {
        let snapshot_id = Uuid::new_v4();
        if let Err(error) =
            job.publisher.publish_snapshot(&result.snapshot, job.tenant, snapshot_id).await
        {
            let message = format!(
                "publishing the snapshot failed ({error}); the next sync publishes it again"
            );
            return fail(job, started_at, Stage::Publish, "nats", message).await;
        }
        Some(snapshot_id)
    };

    let mut problems = report_problems(&result);
    match job.scope.save_drchrono_published_hash(&hash_text, Utc::now()).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            tenant = name,
            source = SOURCE,
            "no DrChrono state row to record the published hash in; the next sync publishes again"
        ),
        Err(error) => {
            // The snapshot is on the stream, so the report stays OK; the next sync
            // publishes the same snapshot again, which the engine skips.
            tracing::error!(tenant = name, source = SOURCE, error = %error, "saving the published hash failed after the publish");
            problems.push(InputProblem {
                input: "drchrono_state".into(),
                location: None,
                message: format!(
                    "the published hash could not be saved ({error}); the next sync publishes the snapshot again"
                ),
                fatal: false,
            });
        }
    }
    job.metrics.record_success(name, &result, Utc::now().timestamp());
    tracing::info!(
        tenant = name,
        source = SOURCE,
        snapshot_id = snapshot_id.map(|id| id.to_string()),
        %content_hash,
        accounts = result.snapshot.accounts.len(),
        entitlements = result.snapshot.entitlements.len(),
        memberships = result.snapshot.memberships.len(),
        requests = result.stats.total(),
        seconds = timer.elapsed().as_secs_f64(),
        "sync finished"
    );
    let report = SyncReport {
        report_id: Uuid::new_v4(),
        tenant: job.tenant.clone(),
        source: result.snapshot.source.clone(),
        started_at,
        finished_at: Utc::now().max(started_at),
        outcome: SyncOutcome::Ok,
        snapshot_id,
        content_hash: Some(content_hash),
        problems,
        connector: CONNECTOR_NAME.to_owned(),
    };
    let report_published = send_report(job, &report).await;
    Attempt { report, report_published, result: Some(result) }
}

/// Returns the hash that decides whether a snapshot changed: the content hash of the
/// snapshot with `collected_at` left out, because every sync sets it anew.
pub fn fingerprint(snapshot: &rollcall_core::model::SourceSnapshot) -> String {
    let mut content = snapshot.clone();
    content.collected_at = None;
    ContentHash::of(&content).to_string()
}

/// Lists the report's non-fatal problems: skipped endpoints, then the reader's warnings
/// about records.
fn report_problems(result: &SyncResult) -> Vec<InputProblem> {
    let skipped = result.skipped.iter().map(|(endpoint, reason)| InputProblem {
        input: endpoint.clone(),
        location: None,
        message: reason.clone(),
        fatal: false,
    });
    let warnings =
        result.diagnostics.iter().filter(|diagnostic| diagnostic.level == Level::Warning).map(
            |diagnostic| {
                let location = diagnostic.location.to_string();
                InputProblem {
                    input: diagnostic.file.display().to_string(),
                    location: (!location.is_empty()).then_some(location),
                    message: diagnostic.message.clone(),
                    fatal: false,
                }
            },
        );
    skipped.chain(warnings).collect()
}

/// Counts and logs a failed attempt and publishes its FAILED report: one fatal problem,
/// no snapshot, no hash. The published hash is left as it was.
pub async fn fail(
    job: &TenantSync<'_>,
    started_at: DateTime<Utc>,
    stage: Stage,
    input: &str,
    message: String,
) -> Attempt {
    let name = job.tenant.as_str();
    job.metrics.record_failure(name);
    tracing::warn!(
        tenant = name,
        source = SOURCE,
        stage = stage.as_str(),
        error = %message,
        "sync failed; no snapshot was published"
    );
    let report = SyncReport {
        report_id: Uuid::new_v4(),
        tenant: job.tenant.clone(),
        source: drchrono_source(),
        started_at,
        finished_at: Utc::now().max(started_at),
        outcome: SyncOutcome::Failed,
        snapshot_id: None,
        content_hash: None,
        problems: vec![InputProblem {
            input: input.to_owned(),
            location: Some(format!("stage {}", stage.as_str())),
            message,
            fatal: true,
        }],
        connector: CONNECTOR_NAME.to_owned(),
    };
    let report_published = send_report(job, &report).await;
    Attempt { report, report_published, result: None }
}

/// Publishes the report. A failure is logged, not retried beyond the publisher's own
/// retries: the next attempt sends a new report.
async fn send_report(job: &TenantSync<'_>, report: &SyncReport) -> bool {
    match job.publisher.publish(&sync_report_to_proto(report)).await {
        Ok(_) => true,
        Err(error) => {
            tracing::error!(
                tenant = job.tenant.as_str(),
                source = SOURCE,
                report_id = %report.report_id,
                error = %error,
                "the sync report could not be published"
            );
            false
        }
    }
}

/// Returns the source id `ehr:drchrono`.
#[expect(
    clippy::expect_used,
    reason = "the constant `drchrono` is lowercase ASCII letters, which `SourceId::ehr` accepts"
)]
pub fn drchrono_source() -> SourceId {
    SourceId::ehr("drchrono").expect("`drchrono` is a valid EHR vendor name")
}
