//! One sync attempt of one tenant, published: the delta sync, the `entra` snapshot in
//! chunks, the delta state, then a sync report whatever happened.
//!
//! The order is what makes a lost message harmless. The delta state is saved only after
//! JetStream acknowledged every chunk, so a publish that fails leaves the old delta links
//! in place and the next attempt reads the same changes again. A failed attempt publishes
//! no snapshot, only a FAILED report, and the engine keeps the last good snapshot.

use std::time::Instant;

use chrono::{DateTime, Utc};
use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use rollcall_ingest::Level;
use rollcall_proto::{ContentHash, InputProblem, SyncOutcome, SyncReport, sync_report_to_proto};
use rollcall_store::TenantScope;
use uuid::Uuid;

use crate::client::GraphClient;
use crate::delta::{DeltaMode, delta_sync};
use crate::metrics::ConnectorMetrics;
use crate::state::{load_state, save_state};
use crate::sync::SyncResult;
use crate::transport::Transport;

/// The connector name written in sync reports.
pub const CONNECTOR_NAME: &str = "entra-connector";

/// The stage at which an attempt failed, written as the location of its fatal problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the app's credential file.
    Credential,
    /// Loading the delta state from PostgreSQL.
    State,
    /// Reading Microsoft Graph.
    Graph,
    /// Publishing the snapshot on NATS.
    Publish,
}

impl Stage {
    /// Returns the stage's name in reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Credential => "credential",
            Stage::State => "state",
            Stage::Graph => "graph",
            Stage::Publish => "publish",
        }
    }
}

/// The outcome of one attempt.
#[derive(Debug)]
pub struct Attempt {
    /// The report, published unless `report_published` is false.
    pub report: SyncReport,
    /// The kind of read, when Graph was read to the end.
    pub mode: Option<DeltaMode>,
    /// Whether the report reached the stream.
    pub report_published: bool,
    /// Whether the delta state was saved.
    pub state_saved: bool,
}

/// The inputs of a tenant's attempt besides the Graph client.
pub struct TenantSync<'a> {
    /// Rollcall's tenant id.
    pub tenant: &'a TenantId,
    /// The tenant's scope in the store, which keeps the delta state.
    pub scope: TenantScope<'a>,
    /// The bus publisher.
    pub publisher: &'a Publisher,
    /// The connector's metrics.
    pub metrics: &'a ConnectorMetrics,
    /// Microsoft Graph, without `/v1.0`.
    pub graph_url: &'a str,
    /// How old the last full read may be before the directory is read in full again.
    pub max_full_read_age: chrono::Duration,
}

/// Runs one attempt: loads the delta state, syncs, publishes the snapshot unless its
/// content hash equals the last published one, saves the state, and publishes the
/// report. Every failure ends in a FAILED report; none is returned as an error.
pub async fn sync_and_publish<T: Transport>(
    client: &mut GraphClient<'_, T>,
    job: &TenantSync<'_>,
) -> Attempt {
    let name = job.tenant.as_str();
    let started_at = Utc::now();
    let timer = Instant::now();

    let previous = match load_state(&job.scope).await {
        Ok(previous) => previous,
        Err(error) => {
            return fail(job, started_at, Stage::State, "entra_delta_state", error.to_string())
                .await;
        }
    };
    let synced =
        delta_sync(client, job.graph_url, name, previous.as_ref(), job.max_full_read_age).await;
    job.metrics.record_requests(name, client.stats());
    let (result, mut state, mode) = match synced {
        Ok(synced) => synced,
        Err(error) => {
            let input = error.endpoint().to_owned();
            return fail(job, started_at, Stage::Graph, &input, error.to_string()).await;
        }
    };

    let content_hash = ContentHash::of(&result.snapshot);
    let hash_text = content_hash.to_string();
    let unchanged = previous
        .as_ref()
        .and_then(|previous| previous.published_hash.as_deref())
        .is_some_and(|published| published == hash_text);
    let snapshot_id = if unchanged {
        tracing::info!(tenant = name, source = "entra", %content_hash, "snapshot unchanged since the last publish, sending the report only");
        None
    } else {
        let snapshot_id = Uuid::new_v4();
        if let Err(error) =
            job.publisher.publish_snapshot(&result.snapshot, job.tenant, snapshot_id).await
        {
            let message = format!(
                "publishing the snapshot failed ({error}); the delta state was not saved, so the next sync reads these changes again"
            );
            return fail(job, started_at, Stage::Publish, "nats", message).await;
        }
        Some(snapshot_id)
    };

    let mut problems = report_problems(&result);
    state.published_hash = Some(hash_text);
    let state_saved = match save_state(&job.scope, &state).await {
        Ok(()) => true,
        Err(error) => {
            // The snapshot is on the stream, so the report stays OK; the next sync starts
            // from the older state and publishes again.
            tracing::error!(tenant = name, source = "entra", error = %error, "saving the delta state failed after the publish");
            problems.push(InputProblem {
                input: "entra_delta_state".into(),
                location: None,
                message: format!(
                    "the delta state could not be saved ({error}); the next sync reads the same changes again"
                ),
                fatal: false,
            });
            false
        }
    };
    if state_saved {
        job.metrics.record_success(name, &result, Utc::now().timestamp());
    } else {
        job.metrics.record_failure(name);
    }
    tracing::info!(
        tenant = name,
        source = "entra",
        mode = ?mode,
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
        source: SourceId::entra(),
        started_at,
        finished_at: Utc::now().max(started_at),
        outcome: SyncOutcome::Ok,
        snapshot_id,
        content_hash: Some(content_hash),
        problems,
        connector: CONNECTOR_NAME.to_owned(),
    };
    let report_published = send_report(job, &report).await;
    Attempt { report, mode: Some(mode), report_published, state_saved }
}

/// The report's non-fatal problems: the sync's own (sign-in activity unavailable,
/// removed users) and the reader's warnings.
fn report_problems(result: &SyncResult) -> Vec<InputProblem> {
    let mut problems = result.problems.clone();
    problems.extend(result.diagnostics.iter().filter(|d| d.level == Level::Warning).map(
        |diagnostic| {
            let location = diagnostic.location.to_string();
            InputProblem {
                input: diagnostic.file.display().to_string(),
                location: (!location.is_empty()).then_some(location),
                message: diagnostic.message.clone(),
                fatal: false,
            }
        },
    ));
    problems
}

/// Counts and logs a failed attempt and publishes its FAILED report: one fatal problem,
/// no snapshot, no hash. The delta state is left as it was.
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
        source = "entra",
        stage = stage.as_str(),
        error = %message,
        "sync failed; no snapshot was published and the delta state was not saved"
    );
    let report = SyncReport {
        report_id: Uuid::new_v4(),
        tenant: job.tenant.clone(),
        source: SourceId::entra(),
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
    Attempt { report, mode: None, report_published, state_saved: false }
}

/// Publishes the report. A failure is logged, not retried beyond the publisher's own
/// retries: the next attempt sends a new report.
async fn send_report(job: &TenantSync<'_>, report: &SyncReport) -> bool {
    match job.publisher.publish(&sync_report_to_proto(report)).await {
        Ok(_) => true,
        Err(error) => {
            tracing::error!(
                tenant = job.tenant.as_str(),
                source = "entra",
                report_id = %report.report_id,
                error = %error,
                "the sync report could not be published"
            );
            false
        }
    }
}
