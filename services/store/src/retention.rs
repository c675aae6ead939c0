//! Retention: removing findings, review campaigns, remediation tasks and audit entries
//! that were last in effect more than six years ago.
//!
//! HIPAA keeps required documentation "for 6 years from the date of its creation or the
//! date when it last was in effect, whichever is later" (45 CFR 164.316(b)(2)(i)). A
//! finding is in effect until it is resolved; an audit entry is in effect when it is
//! recorded. A review campaign is evidence about access, so it is in effect until the
//! access of every one of its items ended (`review_items.access_ended_at`). A remediation
//! task is in effect until it reached `done` or `verified`.

use chrono::{DateTime, Months, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{AuditEntry, AuditRecord, STORE_ACTOR};
use crate::error::StoreError;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// Six years, in months, so that the cutoff falls on the same calendar date.
const RETENTION_MONTHS: u32 = 72;

/// The rows that one retention run removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Rows last in effect before this instant were removed.
    pub cutoff: DateTime<Utc>,
    /// The ids of the removed findings, sorted.
    pub findings_removed: Vec<String>,
    /// The ids of the removed review campaigns, with their items, sign-offs and removals.
    pub campaigns_removed: Vec<Uuid>,
    /// The ids of the removed remediation tasks, sorted.
    pub remediation_tasks_removed: Vec<String>,
    /// The sequence numbers of the first and last removed audit entries.
    pub audit_removed: Option<(u64, u64)>,
    /// The audit entry that records this run, when it removed anything.
    pub recorded_as: Option<AuditRecord>,
}

impl TenantScope<'_> {
    /// Removes the tenant's resolved findings, closed review campaigns, finished
    /// remediation tasks and audit entries last in effect more than six years before
    /// `as_of`, and appends an audit entry listing them, in one transaction. Open findings
    /// stay whatever their age, and so does a campaign with an item whose access has not
    /// ended.
    ///
    /// Audit entries go from the oldest end of the chain only: removal stops at the first
    /// entry still in retention, or at the launch entry of the oldest campaign kept, so
    /// the chain keeps no gaps and a kept campaign keeps its evidence. The hash of the last
    /// removed entry becomes the chain's anchor, from which verification starts.
    pub async fn apply_retention(
        &self,
        as_of: DateTime<Utc>,
    ) -> Result<RetentionReport, StoreError> {
        const OPERATION: &str = "apply retention";
        let as_of = to_micros(as_of);
        let cutoff = as_of.checked_sub_months(Months::new(RETENTION_MONTHS)).unwrap_or(as_of);
        let mut tx = self.begin(OPERATION).await?;

        let mut findings_removed: Vec<String> = sqlx::query_scalar(
            "DELETE FROM rollcall.findings \
             WHERE tenant_id = $1 AND resolved_at IS NOT NULL AND last_in_effect < $2 \
             RETURNING finding_id",
        )
        .bind(self.tenant_str())
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        findings_removed.sort_unstable();

        let campaigns_removed = self.remove_campaigns(&mut tx, cutoff, OPERATION).await?;
        let mut remediation_tasks_removed: Vec<String> = sqlx::query_scalar(
            "DELETE FROM rollcall.remediation_tasks \
             WHERE tenant_id = $1 AND state IN ('done', 'verified') AND updated_at < $2 \
             RETURNING task_id",
        )
        .bind(self.tenant_str())
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        remediation_tasks_removed.sort_unstable();

        self.lock_chain(&mut tx, OPERATION).await?;
        // The launch entry of the oldest campaign still stored bounds the removal too.
        let kept_from: Option<i64> = sqlx::query_scalar(
            "SELECT min(a.seq) FROM rollcall.audit_log a \
             WHERE a.tenant_id = $1 AND a.action = 'review.launched' \
               AND (a.detail::jsonb ->> 'campaign_id')::uuid IN \
                   (SELECT campaign_id FROM rollcall.review_campaigns WHERE tenant_id = $1)",
        )
        .bind(self.tenant_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let removed = sqlx::query(
            "DELETE FROM rollcall.audit_log \
             WHERE tenant_id = $1 AND seq < LEAST(COALESCE( \
                 (SELECT min(seq) FROM rollcall.audit_log \
                  WHERE tenant_id = $1 AND recorded_at >= $2), \
                 9223372036854775807), COALESCE($3, 9223372036854775807)) \
             RETURNING seq, sha256",
        )
        .bind(self.tenant_str())
        .bind(cutoff)
        .bind(kept_from)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        // The newest removed entry's hash becomes the anchor that verification starts from.
        let mut first_removed: Option<u64> = None;
        let mut newest_removed: Option<(u64, [u8; 32])> = None;
        for row in &removed {
            let seq = self.seq_column(row, "seq", "audit_log")?;
            first_removed = Some(first_removed.map_or(seq, |first| first.min(seq)));
            if newest_removed.is_none_or(|(newest, _)| seq > newest) {
                newest_removed = Some((seq, self.hash_column(row, "sha256", "audit_log")?));
            }
        }
        let mut audit_removed = None;
        if let (Some(first), Some((last, hash))) = (first_removed, newest_removed) {
            let last_db = i64::try_from(last).map_err(|_| StoreError::SequenceOutOfRange(last))?;
            sqlx::query(
                "UPDATE rollcall.audit_chain SET anchor_seq = $2, anchor_sha256 = $3 \
                 WHERE tenant_id = $1",
            )
            .bind(self.tenant_str())
            .bind(last_db)
            .bind(hash.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            audit_removed = Some((first, last));
        }

        let nothing = findings_removed.is_empty()
            && campaigns_removed.is_empty()
            && remediation_tasks_removed.is_empty()
            && audit_removed.is_none();
        let recorded_as = if nothing {
            None
        } else {
            let entry = AuditEntry {
                at: as_of,
                actor: STORE_ACTOR.to_owned(),
                action: "retention.applied".to_owned(),
                detail: json!({
                    "cutoff": cutoff,
                    "findings_removed": findings_removed,
                    "campaigns_removed": campaigns_removed
                        .iter()
                        .map(Uuid::to_string)
                        .collect::<Vec<_>>(),
                    "remediation_tasks_removed": remediation_tasks_removed,
                    "audit_removed": audit_removed.map(|(first, last)| json!({
                        "first_seq": first,
                        "last_seq": last,
                    })),
                }),
            };
            Some(self.append_in(&mut tx, &entry).await?)
        };
        tx.commit().await.map_err(self.db(OPERATION))?;

        Ok(RetentionReport {
            cutoff,
            findings_removed,
            campaigns_removed,
            remediation_tasks_removed,
            audit_removed,
            recorded_as,
        })
    }

    /// Removes each closed campaign whose items' access all ended before `cutoff`, with
    /// its removals, sign-offs and items, and returns their ids, sorted. A campaign closed
    /// after the cutoff stays, and so does one with an item whose access has not ended.
    async fn remove_campaigns(
        &self,
        tx: &mut PgConnection,
        cutoff: DateTime<Utc>,
        operation: &'static str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT c.campaign_id FROM rollcall.review_campaigns c \
             WHERE c.tenant_id = $1 AND c.status = 'closed' AND c.closed_at < $2 \
               AND NOT EXISTS (SELECT 1 FROM rollcall.review_items i \
                   WHERE i.tenant_id = c.tenant_id AND i.campaign_id = c.campaign_id \
                     AND (i.access_ended_at IS NULL OR i.access_ended_at >= $2)) \
             FOR UPDATE",
        )
        .bind(self.tenant_str())
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        ids.sort_unstable();
        if ids.is_empty() {
            return Ok(ids);
        }
        // Children first, because of the foreign keys.
        for statement in [
            "DELETE FROM rollcall.review_revocations WHERE tenant_id = $1 AND campaign_id = ANY($2)",
            "DELETE FROM rollcall.review_signoffs WHERE tenant_id = $1 AND campaign_id = ANY($2)",
            "DELETE FROM rollcall.review_items WHERE tenant_id = $1 AND campaign_id = ANY($2)",
            "DELETE FROM rollcall.review_campaigns WHERE tenant_id = $1 AND campaign_id = ANY($2)",
        ] {
            sqlx::query(statement)
                .bind(self.tenant_str())
                .bind(&ids)
                .execute(&mut *tx)
                .await
                .map_err(self.db(operation))?;
        }
        Ok(ids)
    }
}
