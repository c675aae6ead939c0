//! Sync reports: after every read of a source the connector publishes whether it went
//! well, so that a bad file becomes a finding for the tenant and the engine can measure
//! sync freshness. Reports that could not be published are kept and sent again on the
//! next poll, the latest one per tenant and source.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use rollcall_ingest::{Diagnostic, Level, Location};
use rollcall_proto::{
    ContentHash, InputProblem, SyncOutcome, SyncReport, sync_report_to_proto, v1,
};
use uuid::Uuid;

use crate::metrics::{ConnectorMetrics, Stage};

/// The `connector` field of every report.
pub const CONNECTOR_NAME: &str = "file-connector";

/// Converts a reader's diagnostic into a report problem. Errors are fatal: the file
/// could not be read, so the source was not published.
pub fn problem_from_diagnostic(diagnostic: &Diagnostic) -> InputProblem {
    let input = diagnostic.file.display().to_string();
    InputProblem {
        input: if input.is_empty() { "tenant folder".to_owned() } else { input },
        location: match &diagnostic.location {
            Location::File => None,
            other => Some(other.to_string()),
        },
        message: diagnostic.message.clone(),
        fatal: diagnostic.level == Level::Error,
    }
}

/// The parts of a report that differ between outcomes.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When the read started.
    pub started_at: DateTime<Utc>,
    /// `Ok` or `Failed`.
    pub outcome: SyncOutcome,
    /// The snapshot published, if one was.
    pub snapshot_id: Option<Uuid>,
    /// The content hash, for an `Ok` outcome.
    pub content_hash: Option<ContentHash>,
    /// Problems. A failed attempt has at least one fatal one.
    pub problems: Vec<InputProblem>,
}

/// Reports waiting to be published, and whether the bus failed during the current poll.
#[derive(Debug, Default)]
pub struct Outbox {
    unsent: BTreeMap<(String, String), v1::SyncReport>,
    /// Set by the first publish of a poll that JetStream did not acknowledge. Later
    /// publishes of the same poll are not attempted, because each would wait through the
    /// publisher's retries for a server that is most likely still unreachable.
    bus_failed: bool,
}

impl Outbox {
    /// Starts a poll: the bus is tried again.
    pub fn begin_poll(&mut self) {
        self.bus_failed = false;
    }

    /// Checks whether a publish failed earlier in this poll.
    pub fn bus_failed(&self) -> bool {
        self.bus_failed
    }

    /// Records that a publish failed in this poll.
    pub fn mark_bus_failed(&mut self) {
        self.bus_failed = true;
    }

    /// Returns the number of reports waiting.
    pub fn len(&self) -> usize {
        self.unsent.len()
    }

    /// Checks whether no report is waiting.
    pub fn is_empty(&self) -> bool {
        self.unsent.is_empty()
    }

    /// Builds the report of `attempt` and publishes it, unless the bus failed earlier in
    /// this poll. The report replaces any earlier unsent one of the same source, and one
    /// that is not acknowledged is sent again by [`Outbox::retry`].
    pub async fn send(
        &mut self,
        publisher: &Publisher,
        metrics: &ConnectorMetrics,
        tenant: &TenantId,
        source: &SourceId,
        attempt: Attempt,
    ) {
        let report = SyncReport {
            report_id: Uuid::new_v4(),
            tenant: tenant.clone(),
            source: source.clone(),
            started_at: attempt.started_at,
            finished_at: Utc::now().max(attempt.started_at),
            outcome: attempt.outcome,
            snapshot_id: attempt.snapshot_id,
            content_hash: attempt.content_hash,
            problems: attempt.problems,
            connector: CONNECTOR_NAME.to_owned(),
        };
        let message = sync_report_to_proto(&report);
        let key = (tenant.to_string(), source.to_string());
        self.unsent.remove(&key);
        if self.bus_failed {
            self.unsent.insert(key, message);
            return;
        }
        if !publish(publisher, metrics, &message).await {
            self.bus_failed = true;
            self.unsent.insert(key, message);
        }
    }

    /// Publishes the reports still waiting, with their original ids.
    pub async fn retry(&mut self, publisher: &Publisher, metrics: &ConnectorMetrics) {
        let waiting = std::mem::take(&mut self.unsent);
        for (key, message) in waiting {
            if self.bus_failed || !publish(publisher, metrics, &message).await {
                self.bus_failed = true;
                self.unsent.insert(key, message);
            }
        }
    }
}

/// Publishes one report and returns whether JetStream acknowledged it.
async fn publish(
    publisher: &Publisher,
    metrics: &ConnectorMetrics,
    message: &v1::SyncReport,
) -> bool {
    match publisher.publish(message).await {
        Ok(_) => {
            tracing::debug!(tenant = %message.tenant, source = %message.source, report_id = %message.report_id, "sync report published");
            true
        }
        Err(error) => {
            tracing::error!(tenant = %message.tenant, source = %message.source, report_id = %message.report_id, %error, "publishing the sync report failed; retrying on the next poll");
            metrics.error(&message.tenant, &message.source, Stage::Report);
            false
        }
    }
}
