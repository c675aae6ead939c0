//! Publishing one source of a read tenant folder: the snapshot when its content hash
//! changed, and the sync report of the read.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_ingest::Level;
use rollcall_proto::{InputProblem, SnapshotContent, SyncOutcome, split, split_roster};
use uuid::Uuid;

use super::{FileConnector, SourceOutcome};
use crate::metrics::{SourceLabels, Stage};
use crate::read::SourceRead;
use crate::report::{Attempt, problem_from_diagnostic};
use crate::state::PublishedRecord;

impl FileConnector {
    /// Publishes the snapshot of one source when its content hash changed, then the sync
    /// report of the read, and returns what became of the source.
    pub(super) async fn publish_source(
        &mut self,
        tenant: &TenantId,
        read: SourceRead,
        started_at: DateTime<Utc>,
    ) -> SourceOutcome {
        let source_id = read.source.clone();
        let source = source_id.to_string();
        let labels = SourceLabels { tenant: tenant.to_string(), source: source.clone() };
        let key = (tenant.to_string(), source.clone());
        for problem in read.problems.iter().filter(|d| d.level < Level::Error) {
            tracing::warn!(tenant = %tenant, source = %source, file = %problem.file.display(), problem = %problem, "part of an export was skipped");
        }
        let warnings: Vec<InputProblem> = read
            .problems
            .iter()
            .filter(|d| d.level < Level::Error)
            .map(problem_from_diagnostic)
            .collect();
        let failed = |problems: Vec<InputProblem>| Attempt {
            started_at,
            outcome: SyncOutcome::Failed,
            snapshot_id: None,
            content_hash: None,
            problems,
        };

        let Some(content) = read.content else {
            for problem in read.problems.iter().filter(|d| d.level == Level::Error) {
                tracing::error!(tenant = %tenant, source = %source, file = %problem.file.display(), problem = %problem, "export not read; the last published snapshot stays in effect");
            }
            self.metrics.error(tenant.as_str(), &source, Stage::Read);
            // The content that failed to publish earlier is no longer the folder's, so
            // it is not retried.
            self.unacknowledged.remove(&key);
            let mut problems = read.problems;
            problems.sort_by_key(|d| std::cmp::Reverse(d.level));
            let mut reported: Vec<InputProblem> =
                problems.iter().map(problem_from_diagnostic).collect();
            if !reported.iter().any(|p| p.fatal) {
                reported.insert(
                    0,
                    whole_source_problem(
                        &read.paths,
                        "the export could not be read; the connector's log has the details",
                    ),
                );
            }
            self.outbox
                .send(&self.publisher, &self.metrics, tenant, &source_id, failed(reported))
                .await;
            return SourceOutcome::Failed { problems };
        };

        let content_hash = content.content_hash();
        let ok = |snapshot_id: Option<Uuid>, problems: Vec<InputProblem>| Attempt {
            started_at,
            outcome: SyncOutcome::Ok,
            snapshot_id,
            content_hash: Some(content_hash),
            problems,
        };
        if self.state.last_hash(tenant.as_str(), &source) == Some(content_hash) {
            self.unacknowledged.remove(&key);
            self.metrics.unchanged.get_or_create(&labels).inc();
            tracing::debug!(tenant = %tenant, source = %source, %content_hash, "unchanged since the last publication");
            self.outbox
                .send(&self.publisher, &self.metrics, tenant, &source_id, ok(None, warnings))
                .await;
            return SourceOutcome::Unchanged { content_hash };
        }

        let snapshot_id = match self.unacknowledged.get(&key) {
            Some((hash, id)) if *hash == content_hash => *id,
            _ => Uuid::new_v4(),
        };
        let max = self.settings.max_chunk_bytes;
        let chunks = match &content {
            SnapshotContent::Source(snapshot) => split(snapshot, tenant, snapshot_id, max),
            SnapshotContent::Roster(roster) => split_roster(roster, tenant, snapshot_id, max),
        };
        let chunks = match chunks {
            Ok(chunks) => chunks,
            Err(error) => {
                tracing::error!(tenant = %tenant, source = %source, %error, "snapshot cannot be split into chunks");
                self.metrics.error(tenant.as_str(), &source, Stage::Split);
                let problem = whole_source_problem(&read.paths, &error.to_string());
                self.outbox
                    .send(&self.publisher, &self.metrics, tenant, &source_id, failed(vec![problem]))
                    .await;
                return SourceOutcome::TooLarge { error: error.to_string() };
            }
        };
        let bytes: usize = chunks.iter().map(prost::Message::encoded_len).sum();
        // No sync report when the publish fails: the bus is what failed, and the retry on
        // the next poll sends one.
        if self.outbox.bus_failed() {
            tracing::warn!(tenant = %tenant, source = %source, %snapshot_id, "snapshot not published because the bus failed earlier in this poll; retrying on the next poll");
            self.unacknowledged.insert(key, (content_hash, snapshot_id));
            return SourceOutcome::PublishFailed {
                error: "not attempted, because a publish failed earlier in this poll".to_owned(),
            };
        }
        if let Err(error) = self.publisher.publish_chunks(&chunks).await {
            tracing::error!(tenant = %tenant, source = %source, %snapshot_id, %error, "publishing the snapshot failed; retrying on the next poll");
            self.metrics.error(tenant.as_str(), &source, Stage::Publish);
            self.outbox.mark_bus_failed();
            self.unacknowledged.insert(key, (content_hash, snapshot_id));
            return SourceOutcome::PublishFailed { error: error.to_string() };
        }
        self.unacknowledged.remove(&key);

        let now = Utc::now();
        self.metrics.snapshots_published.get_or_create(&labels).inc();
        self.metrics.published_bytes.get_or_create(&labels).inc_by(bytes as u64);
        self.metrics.last_publish_seconds.get_or_create(&labels).set(now.timestamp());
        tracing::info!(tenant = %tenant, source = %source, %snapshot_id, %content_hash, chunks = chunks.len(), bytes, "snapshot published");
        let record = PublishedRecord {
            content_sha256: content_hash.to_string(),
            snapshot_id: snapshot_id.hyphenated().to_string(),
            published_at: now,
        };
        if let Err(error) = self.state.record(tenant.as_str(), &source, record) {
            tracing::error!(tenant = %tenant, source = %source, %error, "recording the published hash failed; a restart publishes this snapshot again");
            self.metrics.error(tenant.as_str(), &source, Stage::State);
        }
        self.outbox
            .send(
                &self.publisher,
                &self.metrics,
                tenant,
                &source_id,
                ok(Some(snapshot_id), warnings),
            )
            .await;
        SourceOutcome::Published { snapshot_id, content_hash, chunks: chunks.len() }
    }
}

/// Builds a fatal problem of a whole source, named by its paths.
fn whole_source_problem(paths: &[PathBuf], message: &str) -> InputProblem {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    InputProblem {
        input: if names.is_empty() { "tenant folder".to_owned() } else { names.join(", ") },
        location: None,
        message: message.to_owned(),
        fatal: true,
    }
}
