//! Accepting Rollcall's recommendations for every undecided item a reviewer may decide,
//! in one transaction under the campaign row lock.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::decide::{CampaignStatus, ReviewRejection};
use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// An undecided item that accepting the recommendations left undecided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedItem {
    /// The item.
    pub item_id: i32,
    /// The reason it stayed undecided, in words for the reviewer.
    pub reason: String,
}

/// The result of accepting the recommendations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecommendationOutcome {
    /// Items now approved, as recommended.
    pub approved: Vec<i32>,
    /// Items now revoked, as recommended.
    pub revoked: Vec<i32>,
    /// Items recommended for approval that need a justification, still undecided.
    pub skipped: Vec<SkippedItem>,
    /// Items in scope that had a decision already, which stayed as they were.
    pub already_decided: usize,
}

/// Returns the reason that approving such an item needs a justification.
fn justification_reason(privileged: bool, outside_baseline: bool) -> String {
    let what = match (privileged, outside_baseline) {
        (true, true) => "privileged and outside the role baseline",
        (true, false) => "privileged",
        _ => "outside the role baseline",
    };
    format!("the access is {what}, so approving it needs your justification")
}

impl TenantScope<'_> {
    /// Applies the recommendation of every undecided item `actor` may decide in
    /// `campaign_id`, or only of those about `reviewee` when it is given. A recommended
    /// revoke becomes a revoke and a recommended keep an approve. Privileged or
    /// outside-baseline items recommended for keeping need a justification, so they stay
    /// undecided. Items with a decision keep it. Each item gets the `review.decided` audit entry a single
    /// decision of it writes.
    ///
    /// In the first stage `actor` may decide the items they review, until they sign off;
    /// in the second stage the second-stage reviewer may decide every item. Nobody
    /// decides on their own access.
    pub async fn accept_review_recommendations(
        &self,
        campaign_id: Uuid,
        actor: &str,
        reviewee: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<RecommendationOutcome, StoreError> {
        const OPERATION: &str = "accept review recommendations";
        check_text(actor, "actor")?;
        let reject = |reason| StoreError::ReviewRejected { campaign_id, reason };
        let at = to_micros(at);

        let mut tx = self.begin(OPERATION).await?;
        let campaign = self.lock_campaign(&mut tx, campaign_id, OPERATION).await?;
        let stage: i16 = match campaign.status {
            CampaignStatus::Closed => return Err(reject(ReviewRejection::Closed)),
            CampaignStatus::SecondStage if campaign.second_stage.as_deref() == Some(actor) => 2,
            CampaignStatus::SecondStage => {
                return Err(reject(ReviewRejection::WrongStage {
                    status: campaign.status.as_str(),
                    actor: actor.to_owned(),
                    action: "accept recommendations",
                }));
            }
            CampaignStatus::Open => 1,
        };
        if stage == 1 {
            let signed = self.signed_off(&mut tx, campaign_id, OPERATION).await?;
            if signed.contains(&(1, actor.to_owned())) {
                return Err(reject(ReviewRejection::SignedOff { reviewer: actor.to_owned() }));
            }
        }

        // The first stage reads the actor's items only; the second reads all of them.
        let rows = sqlx::query(
            "SELECT item_id, privileged, outside_baseline, recommendation, decision \
             FROM rollcall.review_items \
             WHERE tenant_id = $1 AND campaign_id = $2 AND reviewee <> $3 \
               AND ($4 OR reviewer = $3) AND ($5::text IS NULL OR reviewee = $5) \
             ORDER BY item_id",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(actor)
        .bind(stage == 2)
        .bind(reviewee)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let mut outcome = RecommendationOutcome::default();
        let db = self.db(OPERATION);
        for row in &rows {
            let item_id: i32 = row.try_get("item_id").map_err(&db)?;
            let decision: Option<String> = row.try_get("decision").map_err(&db)?;
            if decision.is_some() {
                outcome.already_decided += 1;
                continue;
            }
            let recommendation: String = row.try_get("recommendation").map_err(&db)?;
            let privileged: bool = row.try_get("privileged").map_err(&db)?;
            let outside_baseline: bool = row.try_get("outside_baseline").map_err(&db)?;
            let decision = if recommendation == "revoke" {
                outcome.revoked.push(item_id);
                "revoke"
            } else if privileged || outside_baseline {
                let reason = justification_reason(privileged, outside_baseline);
                outcome.skipped.push(SkippedItem { item_id, reason });
                continue;
            } else {
                outcome.approved.push(item_id);
                "approve"
            };
            // `decision IS NULL` again: the row lock on the campaign keeps other decisions
            // out, and this keeps the promise even if that ever changes.
            sqlx::query(
                "UPDATE rollcall.review_items SET decision = $4, justification = NULL, \
                   decided_by = $5, decided_at = $6 \
                 WHERE tenant_id = $1 AND campaign_id = $2 AND item_id = $3 \
                   AND decision IS NULL",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .bind(item_id)
            .bind(decision)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(&db)?;
            // The same entry as `decide_review_items` writes for one item.
            let entry = AuditEntry {
                at,
                actor: actor.to_owned(),
                action: "review.decided".into(),
                detail: json!({
                    "campaign_id": campaign_id.to_string(),
                    "decision": decision,
                    "items": [item_id],
                    "to": null,
                    "justification": null,
                    "stage": stage,
                }),
            };
            self.append_in(&mut tx, &entry).await?;
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(outcome)
    }
}
