//! The transactional outbox of finding events.
//!
//! An evaluation's finding diff and the events it causes are written in one transaction,
//! so a crash either keeps both or neither. The engine publishes the events afterwards
//! and marks each one published after the stream's ack. An event published but not yet
//! marked when the process dies is published again with the same id, and JetStream's
//! duplicate window drops the copy.

use chrono::{DateTime, Utc};
use prost::Message as _;
use rollcall_core::finding::Finding;
use rollcall_proto::v1::FindingEventType;
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::error::StoreError;
use crate::findings::FindingDiff;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// Summary of what [`TenantScope::record_evaluation`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedEvaluation {
    /// The finding diff.
    pub diff: FindingDiff,
    /// The number of events added to the outbox: one per finding in the diff.
    pub events: usize,
}

/// One event of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The event id, also its NATS message id.
    pub event_id: Uuid,
    /// The tenant's publication order.
    pub seq: i64,
    /// The finding the event is about.
    pub finding_id: String,
    /// The encoded `rollcall.v1.FindingEvent`.
    pub payload: Vec<u8>,
}

/// Returns the id of the event of type `event_type` for `finding_id` from the evaluation at
/// `at` of the tenant's state `state_version`. The same evaluation recorded again, after
/// a crash before its commit, makes the same ids, so nothing downstream sees two ids for
/// one change; the version tells apart two changes of one finding at one instant (a fixed
/// evaluation clock).
///
/// NOTE: two evaluations of one version that record opposite changes of one finding at
/// one instant would share an id, and the second event would be dropped. That needs a
/// fixed clock and two evaluations racing past the evaluation lock.
pub fn finding_event_id(
    tenant: &str,
    finding_id: &str,
    event_type: FindingEventType,
    at: DateTime<Utc>,
    state_version: i64,
) -> Uuid {
    let mut hasher = Sha256::new();
    let at = to_micros(at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let version = state_version.to_string();
    for part in
        ["rollcall-finding-event-v1", tenant, finding_id, event_type.as_str_name(), &at, &version]
    {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(digest.iter()) {
        *slot = *byte;
    }
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

impl TenantScope<'_> {
    /// Records the findings of one evaluation as [`TenantScope::record_findings`] does,
    /// and in the same transaction adds a finding event per changed finding to the outbox
    /// and marks `state_version` (read before the data was loaded) as evaluated.
    pub async fn record_evaluation(
        &self,
        at: DateTime<Utc>,
        findings: &[Finding],
        state_version: i64,
    ) -> Result<RecordedEvaluation, StoreError> {
        const OPERATION: &str = "record an evaluation";
        let at = to_micros(at);
        let mut tx = self.begin(OPERATION).await?;
        let diff = self.record_findings_in(&mut tx, at, findings).await?;

        let changes = diff
            .opened
            .iter()
            .map(|id| (id, FindingEventType::Opened))
            .chain(diff.updated.iter().map(|id| (id, FindingEventType::Updated)))
            .chain(diff.resolved.iter().map(|id| (id, FindingEventType::Resolved)));
        let ids: Vec<&str> = changes.clone().map(|(id, _)| id.as_str()).collect();
        let rows = sqlx::query(
            "SELECT finding_id, kind, severity, summary, subject, evidence, first_seen, \
                    last_seen, resolved_at, last_in_effect \
             FROM rollcall.findings WHERE tenant_id = $1 AND finding_id = ANY($2)",
        )
        .bind(self.tenant_str())
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let mut stored = std::collections::BTreeMap::new();
        for row in &rows {
            let finding = self.stored_finding(row)?;
            stored.insert(finding.finding.id.clone(), finding);
        }

        let mut events = 0;
        for (id, event_type) in changes {
            let Some(finding) = stored.get(id) else {
                return Err(StoreError::CorruptRow {
                    table: "findings",
                    key: format!("{}/{id}", self.tenant_str()),
                    reason: "a finding of the diff is missing after the diff was written".into(),
                });
            };
            let event_id = finding_event_id(self.tenant_str(), id, event_type, at, state_version);
            let event = rollcall_proto::finding_event(
                event_id,
                event_type,
                &finding.finding,
                at,
                finding.first_seen,
                finding.last_seen,
            );
            let type_name = match event_type {
                FindingEventType::Opened => "opened",
                FindingEventType::Updated => "updated",
                _ => "resolved",
            };
            sqlx::query(
                "INSERT INTO rollcall.finding_outbox \
                   (tenant_id, event_id, event_type, finding_id, payload) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, event_id) DO NOTHING",
            )
            .bind(self.tenant_str())
            .bind(event_id)
            .bind(type_name)
            .bind(id)
            .bind(event.encode_to_vec())
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            events += 1;
        }
        self.mark_evaluated_in(&mut tx, state_version, events > 0).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(RecordedEvaluation { diff, events })
    }

    /// Returns up to `limit` unpublished events in publication order.
    pub async fn unpublished_events(&self, limit: i64) -> Result<Vec<OutboxEvent>, StoreError> {
        const OPERATION: &str = "read the outbox";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT event_id, seq, finding_id, payload FROM rollcall.finding_outbox \
             WHERE tenant_id = $1 AND published_at IS NULL ORDER BY seq LIMIT $2",
        )
        .bind(self.tenant_str())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter()
            .map(|row| {
                Ok(OutboxEvent {
                    event_id: row.try_get("event_id").map_err(self.db(OPERATION))?,
                    seq: row.try_get("seq").map_err(self.db(OPERATION))?,
                    finding_id: row.try_get("finding_id").map_err(self.db(OPERATION))?,
                    payload: row.try_get("payload").map_err(self.db(OPERATION))?,
                })
            })
            .collect()
    }

    /// Marks `event_id` published. When no unpublished event of the tenant remains, the
    /// work directory's outbox flag is cleared in the same transaction.
    pub async fn mark_published(&self, event_id: Uuid) -> Result<(), StoreError> {
        const OPERATION: &str = "mark an event published";
        let mut tx = self.begin(OPERATION).await?;
        // Lock the directory row first: an evaluation that adds events updates it last, so
        // either it commits before the check below sees its events, or it sets the flag
        // again after this transaction.
        sqlx::query("SELECT 1 FROM rollcall_work.tenant_work WHERE tenant_id = $1 FOR UPDATE")
            .bind(self.tenant_str())
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
        sqlx::query(
            "UPDATE rollcall.finding_outbox SET published_at = now() \
             WHERE tenant_id = $1 AND event_id = $2 AND published_at IS NULL",
        )
        .bind(self.tenant_str())
        .bind(event_id)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let remaining: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM rollcall.finding_outbox \
                            WHERE tenant_id = $1 AND published_at IS NULL)",
        )
        .bind(self.tenant_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        if !remaining {
            sqlx::query(
                "UPDATE rollcall_work.tenant_work SET outbox_pending = false WHERE tenant_id = $1",
            )
            .bind(self.tenant_str())
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
        }
        tx.commit().await.map_err(self.db(OPERATION))
    }
}
