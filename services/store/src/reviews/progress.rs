//! Progress of the campaigns still in review, for the engine's gauges and the dashboards'
//! burndown and the alert on a campaign past its deadline.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::CampaignStatus;
use crate::error::StoreError;
use crate::scope::TenantScope;

/// Item counts of one campaign that is not closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewProgress {
    /// The campaign's id.
    pub campaign_id: Uuid,
    /// The definition's id.
    pub definition_id: String,
    /// The period for people, such as `2026-Q4`.
    pub period_label: String,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// `open` or `second_stage`.
    pub status: CampaignStatus,
    /// Items without a decision.
    pub undecided: i64,
    /// Items decided `approve`.
    pub approved: i64,
    /// Items decided `revoke`.
    pub revoked: i64,
}

impl ReviewProgress {
    /// Returns the campaign's label in metrics and logs, `<definition>/<period>` such as
    /// `quarterly-all/2026-Q4`. It is unique because a definition launches once per period.
    pub fn label(&self) -> String {
        format!("{}/{}", self.definition_id, self.period_label)
    }

    /// Returns whether the deadline is before `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.deadline < now
    }
}

impl TenantScope<'_> {
    /// Returns the item counts of every campaign that is open or in its second stage,
    /// oldest period first. Closed campaigns are left out: nothing in them changes.
    pub async fn review_progress(&self) -> Result<Vec<ReviewProgress>, StoreError> {
        const OPERATION: &str = "count review progress";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT c.campaign_id, c.definition_id, c.period_label, c.deadline, c.status, \
                    count(i.item_id) FILTER (WHERE i.decision IS NULL) AS undecided, \
                    count(i.item_id) FILTER (WHERE i.decision = 'approve') AS approved, \
                    count(i.item_id) FILTER (WHERE i.decision = 'revoke') AS revoked \
             FROM rollcall.review_campaigns c \
             LEFT JOIN rollcall.review_items i \
                    ON i.tenant_id = c.tenant_id AND i.campaign_id = c.campaign_id \
             WHERE c.tenant_id = $1 AND c.status <> 'closed' \
             GROUP BY c.campaign_id, c.definition_id, c.period_label, c.deadline, c.status, \
                      c.period_start \
             ORDER BY c.period_start, c.definition_id",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let db = self.db(OPERATION);
        rows.iter()
            .map(|row| {
                let campaign_id: Uuid = row.try_get("campaign_id").map_err(&db)?;
                let status: String = row.try_get("status").map_err(&db)?;
                let status =
                    CampaignStatus::parse(&status).ok_or_else(|| StoreError::CorruptRow {
                        table: "review_campaigns",
                        key: campaign_id.to_string(),
                        reason: format!("unknown status `{status}`"),
                    })?;
                Ok(ReviewProgress {
                    campaign_id,
                    definition_id: row.try_get("definition_id").map_err(&db)?,
                    period_label: row.try_get("period_label").map_err(&db)?,
                    deadline: row.try_get("deadline").map_err(&db)?,
                    status,
                    undecided: row.try_get("undecided").map_err(&db)?,
                    approved: row.try_get("approved").map_err(&db)?,
                    revoked: row.try_get("revoked").map_err(&db)?,
                })
            })
            .collect()
    }
}
