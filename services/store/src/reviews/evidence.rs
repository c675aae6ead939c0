//! The rows an evidence export of one campaign needs, read in one consistent snapshot.
//! They are the campaign, its items with their decisions and its sign-offs. The audit
//! part is the contiguous run of the tenant's chain from the first to the last entry
//! about the campaign.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;

use super::StoredReviewItem;
use super::revocations::ReviewRevocation;
use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::reviews::StoredReviewCampaign;
use crate::scope::TenantScope;

/// A campaign with everything its evidence pack contains.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignEvidence {
    /// The campaign.
    pub campaign: StoredReviewCampaign,
    /// The definition as launched.
    pub definition: Value,
    /// `none`, `revoke` or `approve`.
    pub at_expiry: String,
    /// When the campaign closed, if it did.
    pub closed_at: Option<DateTime<Utc>>,
    /// The items in item order.
    pub items: Vec<EvidenceItem>,
    /// The sign-offs, by stage, then instant.
    pub signoffs: Vec<ReviewSignoff>,
    /// The removals requested for revoked items when the campaign closed, by item.
    pub revocations: Vec<ReviewRevocation>,
    /// The audit entries from the first entry about the campaign to the last, in
    /// sequence order, including entries about other things in between. Empty when the
    /// chain has no entry about the campaign (retention removed them).
    pub audit: Vec<AuditRecord>,
    /// The sequence numbers of the entries in `audit` whose detail names the campaign.
    pub covering: BTreeSet<u64>,
    /// The hash that the first entry of `audit` links to: the hash of the entry before
    /// it, or the chain's anchor.
    pub anchor_sha256: [u8; 32],
}

/// An item with the columns a reviewer does not see but an auditor does.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceItem {
    /// The item and its decision.
    pub item: StoredReviewItem,
    /// When the decision was recorded.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reviewer before the last delegation or reassignment.
    pub previous_reviewer: Option<String>,
}

/// One reviewer's sign-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSignoff {
    /// 1 for a first-stage reviewer, 2 for the second-stage reviewer.
    pub stage: i16,
    /// The reviewer's identity key.
    pub reviewer: String,
    /// When they signed off.
    pub signed_at: DateTime<Utc>,
}

impl TenantScope<'_> {
    /// Reads everything the evidence pack of `campaign_id` contains, in one repeatable-read
    /// snapshot so the rows and the audit entries agree. Returns `None` when the tenant
    /// has no campaign with that id.
    pub async fn campaign_evidence(
        &self,
        campaign_id: Uuid,
    ) -> Result<Option<CampaignEvidence>, StoreError> {
        const OPERATION: &str = "read a review campaign's evidence";
        let db = self.db(OPERATION);
        let mut tx = self.begin_snapshot(OPERATION).await?;

        let Some(row) = sqlx::query(
            "SELECT campaign_id, definition_id, period_start, period_label, name, launched_at, \
                    deadline, status, fallback_reviewer, second_stage_reviewer, definition, \
                    at_expiry, closed_at \
             FROM rollcall.review_campaigns WHERE tenant_id = $1 AND campaign_id = $2",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(&db)?
        else {
            tx.commit().await.map_err(&db)?;
            return Ok(None);
        };
        let campaign = self.campaign_row(&row, OPERATION)?;
        let definition: Value = row.try_get("definition").map_err(&db)?;
        let at_expiry: String = row.try_get("at_expiry").map_err(&db)?;
        let closed_at: Option<DateTime<Utc>> = row.try_get("closed_at").map_err(&db)?;

        let rows = sqlx::query(
            "SELECT item_id, item_key, reviewee, reviewer, reviewer_reason, privileged, \
                    outside_baseline, recommendation, facts, decision, justification, \
                    decided_by, decided_at, previous_reviewer \
             FROM rollcall.review_items WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY item_id",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(&db)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            items.push(EvidenceItem {
                item: self.item_row(row, OPERATION)?,
                decided_at: row.try_get("decided_at").map_err(&db)?,
                previous_reviewer: row.try_get("previous_reviewer").map_err(&db)?,
            });
        }

        let signoffs: Vec<(i16, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT stage, reviewer, signed_at FROM rollcall.review_signoffs \
             WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY stage, signed_at, reviewer",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(&db)?;
        let signoffs = signoffs
            .into_iter()
            .map(|(stage, reviewer, signed_at)| ReviewSignoff { stage, reviewer, signed_at })
            .collect();

        let rows = self.revocation_rows(&mut tx, Some(campaign_id), false, OPERATION).await?;
        let revocations = rows
            .iter()
            .map(|row| self.revocation_row(row, OPERATION))
            .collect::<Result<Vec<_>, _>>()?;

        // Every entry the store writes about a campaign carries its id as `campaign_id`
        // at the top of the detail object.
        let covering: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM rollcall.audit_log \
             WHERE tenant_id = $1 AND (detail::jsonb ->> 'campaign_id') = $2 ORDER BY seq",
        )
        .bind(self.tenant_str())
        .bind(campaign_id.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(&db)?;
        let (audit, anchor_sha256) = match (covering.first(), covering.last()) {
            (Some(&first), Some(&last)) => {
                let rows = sqlx::query(
                    "SELECT seq, recorded_at, actor, action, detail, prev_sha256, sha256 \
                     FROM rollcall.audit_log \
                     WHERE tenant_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                )
                .bind(self.tenant_str())
                .bind(first)
                .bind(last)
                .fetch_all(&mut *tx)
                .await
                .map_err(&db)?;
                let audit =
                    rows.iter().map(|row| self.audit_record(row)).collect::<Result<Vec<_>, _>>()?;
                let anchor = audit.first().map(|entry| entry.prev_sha256).unwrap_or([0; 32]);
                (audit, anchor)
            }
            _ => (Vec::new(), [0; 32]),
        };
        tx.commit().await.map_err(&db)?;

        let covering = covering.into_iter().filter_map(|seq| u64::try_from(seq).ok()).collect();
        Ok(Some(CampaignEvidence {
            campaign,
            definition,
            at_expiry,
            closed_at,
            items,
            signoffs,
            revocations,
            audit,
            covering,
            anchor_sha256,
        }))
    }
}
