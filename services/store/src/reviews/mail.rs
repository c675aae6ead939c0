//! The record of mail about review campaigns: what each open campaign's reviewers still
//! have to do, and one row per reminder or escalation with a claim, so that each mail
//! goes out once across replicas and restarts.
//!
//! A sender claims a mail, sends it, then marks it sent. A sender that stops between
//! claim and mark leaves a claim, which another sender takes over once it is older than
//! the caller's timeout. The mail then goes out a second time if the first sender did
//! send it before it stopped: delivery is at least once.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::error::StoreError;
use crate::reviews::StoredReviewCampaign;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The kind of a campaign mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewMailKind {
    /// A digest to a reviewer before the deadline.
    Reminder,
    /// A list of late reviewers to the second-stage reviewer after the deadline.
    EscalationSecondStage,
    /// A list of late reports to a reviewer's manager after the deadline.
    EscalationManager,
}

impl ReviewMailKind {
    /// Returns the name stored in `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewMailKind::Reminder => "reminder",
            ReviewMailKind::EscalationSecondStage => "escalation_second_stage",
            ReviewMailKind::EscalationManager => "escalation_manager",
        }
    }
}

/// The unique key of one campaign mail.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReviewMailKey {
    /// The campaign.
    pub campaign_id: Uuid,
    /// The recipient's identity key (`hr:E1002`).
    pub recipient: String,
    /// The kind.
    pub kind: ReviewMailKind,
    /// The offset from the deadline in minutes, a day counted as 1440.
    pub offset_minutes: i32,
}

/// The work left to one reviewer of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerProgress {
    /// The reviewer's identity key.
    pub reviewer: String,
    /// Items assigned to the reviewer.
    pub items: i64,
    /// Items without a decision.
    pub undecided: i64,
    /// Whether the reviewer signed off the first stage.
    pub signed_off: bool,
}

/// A campaign that is not closed, with its reviewers' progress.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenReviewCampaign {
    /// The campaign.
    pub campaign: StoredReviewCampaign,
    /// Each first-stage reviewer's progress, ordered by reviewer.
    pub reviewers: Vec<ReviewerProgress>,
    /// Items of the whole campaign without a decision.
    pub undecided: i64,
}

/// The outcome of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailClaim {
    /// This sender has the claim and sends the mail. `attempts` counts this attempt.
    Claimed {
        /// Attempts so far, this one included.
        attempts: i32,
    },
    /// The mail was sent, another sender has a fresh claim, or its retry time has not
    /// come.
    Taken,
}

impl TenantScope<'_> {
    /// Lists the tenant's campaigns that are not closed, each with the progress of its
    /// first-stage reviewers, read at one instant.
    pub async fn open_review_campaigns(&self) -> Result<Vec<OpenReviewCampaign>, StoreError> {
        const OPERATION: &str = "read open review campaigns";
        let mut tx = self.begin_snapshot(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT campaign_id, definition_id, period_start, period_label, name, launched_at, \
                    deadline, status, fallback_reviewer, second_stage_reviewer \
             FROM rollcall.review_campaigns WHERE tenant_id = $1 AND status <> 'closed' \
             ORDER BY deadline, campaign_id",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let mut campaigns = Vec::with_capacity(rows.len());
        for row in &rows {
            let campaign = self.campaign_row(row, OPERATION)?;
            let progress = sqlx::query(
                "SELECT i.reviewer, count(*) AS items, \
                        count(*) FILTER (WHERE i.decision IS NULL) AS undecided, \
                        EXISTS (SELECT 1 FROM rollcall.review_signoffs s \
                                WHERE s.tenant_id = i.tenant_id AND s.campaign_id = i.campaign_id \
                                  AND s.stage = 1 AND s.reviewer = i.reviewer) AS signed_off \
                 FROM rollcall.review_items i \
                 WHERE i.tenant_id = $1 AND i.campaign_id = $2 \
                 GROUP BY i.tenant_id, i.campaign_id, i.reviewer ORDER BY i.reviewer",
            )
            .bind(self.tenant_str())
            .bind(campaign.campaign_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let db = self.db(OPERATION);
            let mut reviewers = Vec::with_capacity(progress.len());
            for row in &progress {
                reviewers.push(ReviewerProgress {
                    reviewer: row.try_get("reviewer").map_err(&db)?,
                    items: row.try_get("items").map_err(&db)?,
                    undecided: row.try_get("undecided").map_err(&db)?,
                    signed_off: row.try_get("signed_off").map_err(&db)?,
                });
            }
            let undecided = reviewers.iter().map(|r| r.undecided).sum();
            campaigns.push(OpenReviewCampaign { campaign, reviewers, undecided });
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(campaigns)
    }

    /// Claims the mail `key` for the sender `claim_id` at `now`. The claim succeeds when
    /// the mail has no row yet, when its last attempt failed and `retry_after` has come,
    /// when it waited for an address, or when another sender's claim is older than
    /// `stale_before`. Two senders claiming at once get one [`MailClaim::Claimed`]
    /// between them, because the insert locks the key and the second insert then finds
    /// the first one's fresh claim.
    pub async fn claim_review_mail(
        &self,
        key: &ReviewMailKey,
        claim_id: Uuid,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<MailClaim, StoreError> {
        const OPERATION: &str = "claim a review mail";

        let mut tx = self.begin(OPERATION).await?;
        let attempts: Option<i32> = sqlx::query_scalar(
            "INSERT INTO rollcall.review_mail AS m \
               (tenant_id, campaign_id, recipient, kind, offset_minutes, state, claim_id, \
                claimed_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, 'claimed', $6, $7, 1) \
             ON CONFLICT (tenant_id, campaign_id, recipient, kind, offset_minutes) DO UPDATE \
               SET state = 'claimed', claim_id = EXCLUDED.claim_id, \
                   claimed_at = EXCLUDED.claimed_at, attempts = m.attempts + 1 \
               WHERE (m.state = 'failed' AND (m.retry_after IS NULL OR m.retry_after <= $7)) \
                  OR m.state = 'no_address' \
                  OR (m.state = 'claimed' AND m.claimed_at < $8) \
             RETURNING attempts",
        )
        .bind(self.tenant_str())
        .bind(key.campaign_id)
        .bind(&key.recipient)
        .bind(key.kind.as_str())
        .bind(key.offset_minutes)
        .bind(claim_id)
        .bind(to_micros(now))
        .bind(to_micros(stale_before))
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(match attempts {
            Some(attempts) => MailClaim::Claimed { attempts },
            None => MailClaim::Taken,
        })
    }

    /// Marks the mail `key` sent at `now`. Whichever sender's claim the row has, the mail
    /// went out, so the row is marked sent in every case.
    pub async fn mark_review_mail_sent(
        &self,
        key: &ReviewMailKey,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "mark a review mail sent";
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "UPDATE rollcall.review_mail \
             SET state = 'sent', sent_at = $6, claim_id = NULL, retry_after = NULL, \
                 last_error = NULL \
             WHERE tenant_id = $1 AND campaign_id = $2 AND recipient = $3 AND kind = $4 \
               AND offset_minutes = $5",
        )
        .bind(self.tenant_str())
        .bind(key.campaign_id)
        .bind(&key.recipient)
        .bind(key.kind.as_str())
        .bind(key.offset_minutes)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Releases the claim `claim_id` on `key` after a failed attempt, so the mail is
    /// tried again from `retry_after` on, and stores `error`. A claim that another sender
    /// took over is left alone. Returns whether the row changed.
    pub async fn release_review_mail(
        &self,
        key: &ReviewMailKey,
        claim_id: Uuid,
        retry_after: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "release a review mail";
        let mut tx = self.begin(OPERATION).await?;
        let done = sqlx::query(
            "UPDATE rollcall.review_mail \
             SET state = 'failed', claim_id = NULL, retry_after = $7, last_error = $8 \
             WHERE tenant_id = $1 AND campaign_id = $2 AND recipient = $3 AND kind = $4 \
               AND offset_minutes = $5 AND claim_id = $6 AND state = 'claimed'",
        )
        .bind(self.tenant_str())
        .bind(key.campaign_id)
        .bind(&key.recipient)
        .bind(key.kind.as_str())
        .bind(key.offset_minutes)
        .bind(claim_id)
        .bind(to_micros(retry_after))
        .bind(error.replace('\0', ""))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the recipient of `key` has no mail address. Returns `true` the first
    /// time only, so the caller warns once per mail and not at every pass. A later claim
    /// takes the row over once an address turns up.
    pub async fn record_review_mail_without_address(
        &self,
        key: &ReviewMailKey,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "record a review mail without address";
        let mut tx = self.begin(OPERATION).await?;
        let done = sqlx::query(
            "INSERT INTO rollcall.review_mail \
               (tenant_id, campaign_id, recipient, kind, offset_minutes, state, last_error) \
             VALUES ($1, $2, $3, $4, $5, 'no_address', 'no mail address') \
             ON CONFLICT (tenant_id, campaign_id, recipient, kind, offset_minutes) DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(key.campaign_id)
        .bind(&key.recipient)
        .bind(key.kind.as_str())
        .bind(key.offset_minutes)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(done.rows_affected() == 1)
    }

    /// Lists the mails of `campaign_id` that were sent, as (recipient, kind, offset in
    /// minutes), so a pass can skip them without reading the tenant's data.
    pub async fn sent_review_mail(
        &self,
        campaign_id: Uuid,
    ) -> Result<BTreeSet<(String, String, i32)>, StoreError> {
        const OPERATION: &str = "list sent review mail";

        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT recipient, kind, offset_minutes FROM rollcall.review_mail \
             WHERE tenant_id = $1 AND campaign_id = $2 AND state = 'sent'",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let db = self.db(OPERATION);
        let mut sent = BTreeSet::new();
        for row in &rows {
            sent.insert((
                row.try_get("recipient").map_err(&db)?,
                row.try_get("kind").map_err(&db)?,
                row.try_get("offset_minutes").map_err(&db)?,
            ));
        }
        Ok(sent)
    }

    /// Returns the state of the mail `key` (`claimed`, `sent`, `failed`, `no_address`)
    /// with its attempts, or `None` when it was never claimed.
    pub async fn review_mail_state(
        &self,
        key: &ReviewMailKey,
    ) -> Result<Option<(String, i32)>, StoreError> {
        const OPERATION: &str = "read a review mail";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT state, attempts FROM rollcall.review_mail \
             WHERE tenant_id = $1 AND campaign_id = $2 AND recipient = $3 AND kind = $4 \
               AND offset_minutes = $5",
        )
        .bind(self.tenant_str())
        .bind(key.campaign_id)
        .bind(&key.recipient)
        .bind(key.kind.as_str())
        .bind(key.offset_minutes)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let db = self.db(OPERATION);
        row.map(|row| {
            Ok((row.try_get("state").map_err(&db)?, row.try_get("attempts").map_err(&db)?))
        })
        .transpose()
    }
}
