//! Decisions and sign-offs. Each runs in one transaction that locks the campaign row
//! first, so a decision and a sign-off of the same campaign never interleave.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The stage of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CampaignStatus {
    /// First-stage reviewers decide and sign off.
    Open,
    /// Every first-stage reviewer signed off; the second-stage reviewer decides.
    SecondStage,
    /// Signed off by everyone; nothing changes any more.
    Closed,
}

impl CampaignStatus {
    /// Returns the name stored in `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Open => "open",
            CampaignStatus::SecondStage => "second_stage",
            CampaignStatus::Closed => "closed",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        [CampaignStatus::Open, CampaignStatus::SecondStage, CampaignStatus::Closed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// A reviewer's action on items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewActionKind {
    /// Keep the access.
    Approve,
    /// Remove the access.
    Revoke,
    /// Hand the items to another reviewer, as their reviewer.
    Delegate {
        /// The identity key of the new reviewer.
        to: String,
    },
    /// Move the items to another reviewer, as the campaign's fallback or second-stage
    /// reviewer.
    Reassign {
        /// The identity key of the new reviewer.
        to: String,
    },
}

impl ReviewActionKind {
    fn name(&self) -> &'static str {
        match self {
            ReviewActionKind::Approve => "approve",
            ReviewActionKind::Revoke => "revoke",
            ReviewActionKind::Delegate { .. } => "delegate",
            ReviewActionKind::Reassign { .. } => "reassign",
        }
    }
}

/// One decision on one or more items of a campaign. A bulk decision is applied to every
/// item or, when any item breaks a rule, to none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewAction {
    /// The identity key of the person acting.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The items, by item id.
    pub item_ids: Vec<i32>,
    /// The decision.
    pub kind: ReviewActionKind,
    /// The reason given. Required to approve privileged or outside-baseline access.
    pub justification: Option<String>,
}

/// A decision or sign-off that the campaign's rules do not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRejection {
    /// The tenant has no campaign with the id.
    #[error("the campaign does not exist in this tenant")]
    NotFound,
    /// The request names no item.
    #[error("the request names no item; pass at least one item id")]
    NoItems,
    /// Item ids that the campaign does not have.
    #[error("the campaign has no items {0:?}")]
    UnknownItems(Vec<i32>),
    /// The campaign is closed.
    #[error("the campaign is closed; nothing can change after the last sign-off")]
    Closed,
    /// The actor is not the reviewer of these items.
    #[error("`{actor}` is not the reviewer of items {items:?}")]
    NotReviewer {
        /// The actor.
        actor: String,
        /// The items reviewed by someone else.
        items: Vec<i32>,
    },
    /// The actor's items are locked by the actor's sign-off.
    #[error("`{reviewer}` signed off already, so their decisions can no longer change")]
    SignedOff {
        /// The reviewer.
        reviewer: String,
    },
    /// Approving privileged or outside-baseline access needs a justification.
    #[error(
        "items {0:?} are privileged or outside the role baseline; approving them needs a justification"
    )]
    JustificationRequired(Vec<i32>),
    /// The new reviewer of a delegation or reassignment is the reviewee.
    #[error(
        "`{reviewer}` would review their own access in items {items:?}; choose another reviewer"
    )]
    SelfReview {
        /// The proposed reviewer.
        reviewer: String,
        /// The items about that person.
        items: Vec<i32>,
    },
    /// The new reviewer of a delegation or reassignment signed off already.
    #[error("`{0}` signed off already and cannot take more items; choose another reviewer")]
    TargetSignedOff(String),
    /// A delegation or reassignment with an empty new reviewer.
    #[error("the new reviewer is empty; give the identity key of a reviewer")]
    EmptyReviewer,
    /// Only the fallback or second-stage reviewer may reassign.
    #[error("`{0}` may not reassign items; the campaign's fallback or second-stage reviewer can")]
    NotOwner(String),
    /// A sign-off with undecided items.
    #[error("`{reviewer}` has {undecided} undecided items; decide every item before signing off")]
    Undecided {
        /// The reviewer.
        reviewer: String,
        /// How many items are undecided.
        undecided: usize,
    },
    /// A first-stage sign-off by someone with no items.
    #[error("`{0}` has no items in this campaign to sign off")]
    NothingToSignOff(String),
    /// The request does not fit the stage: a first-stage action in the second stage or
    /// the other way round.
    #[error("the campaign is in stage `{status}`, where `{actor}` cannot {action}")]
    WrongStage {
        /// The status.
        status: &'static str,
        /// The actor.
        actor: String,
        /// The attempted action.
        action: &'static str,
    },
}

/// The campaign facts the rules need, read under the campaign row lock.
pub(super) struct Locked {
    pub(super) status: CampaignStatus,
    pub(super) fallback: String,
    pub(super) second_stage: Option<String>,
}

/// The facts of one item the rules need.
struct ItemFacts {
    item_id: i32,
    reviewee: String,
    reviewer: String,
    privileged: bool,
    outside_baseline: bool,
}

impl TenantScope<'_> {
    /// Records `action` on items of `campaign_id` with a `review.decided` audit entry, and
    /// returns the number of items changed. Decisions may change until the reviewer signs
    /// off; in the second stage only the second-stage reviewer decides, on any item.
    pub async fn decide_review_items(
        &self,
        campaign_id: Uuid,
        action: &ReviewAction,
    ) -> Result<usize, StoreError> {
        const OPERATION: &str = "record a review decision";
        check_text(&action.actor, "actor")?;
        if let Some(text) = &action.justification {
            check_text(text, "justification")?;
        }
        let reject = |reason| StoreError::ReviewRejected { campaign_id, reason };
        let ids: BTreeSet<i32> = action.item_ids.iter().copied().collect();
        if ids.is_empty() {
            return Err(reject(ReviewRejection::NoItems));
        }

        let mut tx = self.begin(OPERATION).await?;
        let campaign = self.lock_campaign(&mut tx, campaign_id, OPERATION).await?;
        let items = self.item_facts(&mut tx, campaign_id, &ids, OPERATION).await?;
        let found: BTreeSet<i32> = items.iter().map(|i| i.item_id).collect();
        let unknown: Vec<i32> = ids.difference(&found).copied().collect();
        if !unknown.is_empty() {
            return Err(reject(ReviewRejection::UnknownItems(unknown)));
        }
        let signed = self.signed_off(&mut tx, campaign_id, OPERATION).await?;
        self.check_action(&campaign, &items, &signed, action).map_err(reject)?;

        let id_list: Vec<i32> = ids.iter().copied().collect();
        let at = to_micros(action.at);
        let justification =
            action.justification.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let changed = match &action.kind {
            ReviewActionKind::Approve | ReviewActionKind::Revoke => sqlx::query(
                "UPDATE rollcall.review_items SET decision = $3, justification = $4, \
                   decided_by = $5, decided_at = $6 \
                 WHERE tenant_id = $1 AND campaign_id = $2 AND item_id = ANY($7)",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .bind(action.kind.name())
            .bind(justification)
            .bind(&action.actor)
            .bind(at)
            .bind(&id_list),
            ReviewActionKind::Delegate { to } | ReviewActionKind::Reassign { to } => {
                let reason = if matches!(action.kind, ReviewActionKind::Delegate { .. }) {
                    "delegated"
                } else {
                    "reassigned"
                };
                // A new reviewer decides afresh, so an earlier decision is cleared.
                sqlx::query(
                    "UPDATE rollcall.review_items SET previous_reviewer = reviewer, \
                       reviewer = $3, reviewer_reason = $4, decision = NULL, \
                       justification = NULL, decided_by = NULL, decided_at = NULL \
                     WHERE tenant_id = $1 AND campaign_id = $2 AND item_id = ANY($5)",
                )
                .bind(self.tenant_str())
                .bind(campaign_id)
                .bind(to.trim())
                .bind(reason)
                .bind(&id_list)
            }
        }
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected();

        let target = match &action.kind {
            ReviewActionKind::Delegate { to } | ReviewActionKind::Reassign { to } => {
                Some(to.trim())
            }
            ReviewActionKind::Approve | ReviewActionKind::Revoke => None,
        };
        let entry = AuditEntry {
            at: action.at,
            actor: action.actor.clone(),
            action: "review.decided".into(),
            detail: json!({
                "campaign_id": campaign_id.to_string(),
                "decision": action.kind.name(),
                "items": id_list,
                "to": target,
                "justification": justification,
                "stage": if campaign.status == CampaignStatus::SecondStage { 2 } else { 1 },
            }),
        };
        self.append_in(&mut tx, &entry).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// Checks `action` against the campaign's rules.
    fn check_action(
        &self,
        campaign: &Locked,
        items: &[ItemFacts],
        signed: &BTreeSet<(i16, String)>,
        action: &ReviewAction,
    ) -> Result<(), ReviewRejection> {
        let actor = action.actor.as_str();
        match campaign.status {
            CampaignStatus::Closed => return Err(ReviewRejection::Closed),
            CampaignStatus::SecondStage => {
                let decides =
                    matches!(action.kind, ReviewActionKind::Approve | ReviewActionKind::Revoke);
                if campaign.second_stage.as_deref() != Some(actor) || !decides {
                    return Err(ReviewRejection::WrongStage {
                        status: campaign.status.as_str(),
                        actor: actor.to_owned(),
                        action: action.kind.name(),
                    });
                }
            }
            CampaignStatus::Open => {
                let owner =
                    actor == campaign.fallback || campaign.second_stage.as_deref() == Some(actor);
                if matches!(action.kind, ReviewActionKind::Reassign { .. }) {
                    if !owner {
                        return Err(ReviewRejection::NotOwner(actor.to_owned()));
                    }
                } else {
                    let others: Vec<i32> =
                        items.iter().filter(|i| i.reviewer != actor).map(|i| i.item_id).collect();
                    if !others.is_empty() {
                        return Err(ReviewRejection::NotReviewer {
                            actor: actor.to_owned(),
                            items: others,
                        });
                    }
                }
                // Items of a reviewer who signed off are locked, whoever acts on them.
                if let Some(item) = items.iter().find(|i| signed.contains(&(1, i.reviewer.clone())))
                {
                    return Err(ReviewRejection::SignedOff { reviewer: item.reviewer.clone() });
                }
            }
        }

        // Nobody decides on their own access, in either stage.
        if matches!(action.kind, ReviewActionKind::Approve | ReviewActionKind::Revoke) {
            let own: Vec<i32> =
                items.iter().filter(|i| i.reviewee == actor).map(|i| i.item_id).collect();
            if !own.is_empty() {
                return Err(ReviewRejection::SelfReview { reviewer: actor.to_owned(), items: own });
            }
        }

        match &action.kind {
            ReviewActionKind::Approve => {
                let justified =
                    action.justification.as_deref().is_some_and(|t| !t.trim().is_empty());
                let needing: Vec<i32> = items
                    .iter()
                    .filter(|i| i.privileged || i.outside_baseline)
                    .map(|i| i.item_id)
                    .collect();
                if !justified && !needing.is_empty() {
                    return Err(ReviewRejection::JustificationRequired(needing));
                }
            }
            ReviewActionKind::Revoke => {}
            ReviewActionKind::Delegate { to } | ReviewActionKind::Reassign { to } => {
                let to = to.trim();
                if to.is_empty() {
                    return Err(ReviewRejection::EmptyReviewer);
                }
                let own: Vec<i32> =
                    items.iter().filter(|i| i.reviewee == to).map(|i| i.item_id).collect();
                if !own.is_empty() {
                    return Err(ReviewRejection::SelfReview {
                        reviewer: to.to_owned(),
                        items: own,
                    });
                }
                if signed.contains(&(1, to.to_owned())) {
                    return Err(ReviewRejection::TargetSignedOff(to.to_owned()));
                }
            }
        }
        Ok(())
    }

    /// Records `reviewer`'s sign-off with a `review.signed_off` audit entry and returns
    /// the campaign's status afterwards. In the first stage the reviewer must have
    /// decided every item. When the last first-stage reviewer signs off, the campaign
    /// moves to the second stage, or closes when it has none; the second-stage sign-off
    /// closes it.
    pub async fn sign_off_review(
        &self,
        campaign_id: Uuid,
        reviewer: &str,
        at: DateTime<Utc>,
    ) -> Result<CampaignStatus, StoreError> {
        const OPERATION: &str = "record a review sign-off";
        check_text(reviewer, "reviewer")?;
        let reject = |reason| StoreError::ReviewRejected { campaign_id, reason };
        let at = to_micros(at);

        let mut tx = self.begin(OPERATION).await?;
        let campaign = self.lock_campaign(&mut tx, campaign_id, OPERATION).await?;
        let signed = self.signed_off(&mut tx, campaign_id, OPERATION).await?;
        let stage: i16 = match campaign.status {
            CampaignStatus::Closed => return Err(reject(ReviewRejection::Closed)),
            CampaignStatus::SecondStage if campaign.second_stage.as_deref() == Some(reviewer) => 2,
            CampaignStatus::SecondStage => {
                return Err(reject(ReviewRejection::WrongStage {
                    status: campaign.status.as_str(),
                    actor: reviewer.to_owned(),
                    action: "sign off",
                }));
            }
            CampaignStatus::Open => 1,
        };
        if stage == 1 {
            if signed.contains(&(1, reviewer.to_owned())) {
                return Err(reject(ReviewRejection::SignedOff { reviewer: reviewer.to_owned() }));
            }
            let row = sqlx::query(
                "SELECT count(*) AS total, count(*) FILTER (WHERE decision IS NULL) AS undecided \
                 FROM rollcall.review_items \
                 WHERE tenant_id = $1 AND campaign_id = $2 AND reviewer = $3",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .bind(reviewer)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let total: i64 = row.try_get("total").map_err(self.db(OPERATION))?;
            let undecided: i64 = row.try_get("undecided").map_err(self.db(OPERATION))?;
            if total == 0 {
                return Err(reject(ReviewRejection::NothingToSignOff(reviewer.to_owned())));
            }
            if undecided > 0 {
                return Err(reject(ReviewRejection::Undecided {
                    reviewer: reviewer.to_owned(),
                    undecided: usize::try_from(undecided).unwrap_or(usize::MAX),
                }));
            }
        }

        sqlx::query(
            "INSERT INTO rollcall.review_signoffs (tenant_id, campaign_id, stage, reviewer, signed_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(stage)
        .bind(reviewer)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let status = if stage == 2 {
            CampaignStatus::Closed
        } else {
            // Reviewers with items who have not signed off, this one now included.
            let pending: i64 = sqlx::query_scalar(
                "SELECT count(DISTINCT i.reviewer) FROM rollcall.review_items i \
                 WHERE i.tenant_id = $1 AND i.campaign_id = $2 AND NOT EXISTS ( \
                   SELECT 1 FROM rollcall.review_signoffs s \
                   WHERE s.tenant_id = i.tenant_id AND s.campaign_id = i.campaign_id \
                     AND s.stage = 1 AND s.reviewer = i.reviewer)",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            match (pending, &campaign.second_stage) {
                (0, Some(_)) => CampaignStatus::SecondStage,
                (0, None) => CampaignStatus::Closed,
                _ => CampaignStatus::Open,
            }
        };
        if status != campaign.status {
            sqlx::query(
                "UPDATE rollcall.review_campaigns SET status = $3, \
                   closed_at = CASE WHEN $3 = 'closed' THEN $4 ELSE NULL END \
                 WHERE tenant_id = $1 AND campaign_id = $2",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .bind(status.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
        }

        let entry = AuditEntry {
            at,
            actor: reviewer.to_owned(),
            action: "review.signed_off".into(),
            detail: json!({
                "campaign_id": campaign_id.to_string(),
                "stage": stage,
                "status": status.as_str(),
            }),
        };
        self.append_in(&mut tx, &entry).await?;
        if status == CampaignStatus::Closed {
            self.request_revocations(&mut tx, campaign_id, at, reviewer).await?;
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(status)
    }

    /// Applies the default action of every campaign past its deadline that is not closed
    /// and whose `at_expiry` is `revoke` or `approve`: each undecided item gets that
    /// decision, by `actor`, and the campaign closes, with a `review.expired` audit entry.
    /// The justification rule does not apply, because the definition chose the action.
    /// Campaigns with `at_expiry: none` stay open and overdue. Returns the ids of the
    /// campaigns closed with the number of items decided in each.
    pub async fn expire_review_campaigns(
        &self,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<Vec<(Uuid, usize)>, StoreError> {
        const OPERATION: &str = "apply a review campaign's default action";
        check_text(actor, "actor")?;
        let now = to_micros(now);
        let mut tx = self.begin(OPERATION).await?;
        let due: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT campaign_id, at_expiry FROM rollcall.review_campaigns \
             WHERE tenant_id = $1 AND status <> 'closed' AND deadline <= $2 \
               AND at_expiry <> 'none' \
             ORDER BY deadline FOR UPDATE",
        )
        .bind(self.tenant_str())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let mut expired = Vec::with_capacity(due.len());
        for (campaign_id, decision) in due {
            let decided = sqlx::query(
                "UPDATE rollcall.review_items SET decision = $3, decided_by = $4, \
                   decided_at = $5, justification = 'the default action at the deadline' \
                 WHERE tenant_id = $1 AND campaign_id = $2 AND decision IS NULL",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .bind(&decision)
            .bind(actor)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?
            .rows_affected();
            sqlx::query(
                "UPDATE rollcall.review_campaigns SET status = 'closed', closed_at = $3 \
                 WHERE tenant_id = $1 AND campaign_id = $2",
            )
            .bind(self.tenant_str())
            .bind(campaign_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let decided = usize::try_from(decided).unwrap_or(usize::MAX);
            let entry = AuditEntry {
                at: now,
                actor: actor.to_owned(),
                action: "review.expired".into(),
                detail: json!({
                    "campaign_id": campaign_id.to_string(),
                    "decision": decision,
                    "items": decided,
                }),
            };
            self.append_in(&mut tx, &entry).await?;
            self.request_revocations(&mut tx, campaign_id, now, actor).await?;
            expired.push((campaign_id, decided));
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(expired)
    }

    /// Locks the campaign row for the rest of the transaction and reads its rules.
    pub(super) async fn lock_campaign(
        &self,
        tx: &mut PgConnection,
        campaign_id: Uuid,
        operation: &'static str,
    ) -> Result<Locked, StoreError> {
        let row = sqlx::query(
            "SELECT status, fallback_reviewer, second_stage_reviewer FROM rollcall.review_campaigns \
             WHERE tenant_id = $1 AND campaign_id = $2 FOR UPDATE",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(operation))?
        .ok_or(StoreError::ReviewRejected { campaign_id, reason: ReviewRejection::NotFound })?;
        let status: String = row.try_get("status").map_err(self.db(operation))?;
        Ok(Locked {
            status: CampaignStatus::parse(&status).ok_or_else(|| StoreError::CorruptRow {
                table: "review_campaigns",
                key: campaign_id.to_string(),
                reason: format!("unknown status `{status}`"),
            })?,
            fallback: row.try_get("fallback_reviewer").map_err(self.db(operation))?,
            second_stage: row.try_get("second_stage_reviewer").map_err(self.db(operation))?,
        })
    }

    async fn item_facts(
        &self,
        tx: &mut PgConnection,
        campaign_id: Uuid,
        ids: &BTreeSet<i32>,
        operation: &'static str,
    ) -> Result<Vec<ItemFacts>, StoreError> {
        let ids: Vec<i32> = ids.iter().copied().collect();
        let rows = sqlx::query(
            "SELECT item_id, reviewee, reviewer, privileged, outside_baseline \
             FROM rollcall.review_items \
             WHERE tenant_id = $1 AND campaign_id = $2 AND item_id = ANY($3) ORDER BY item_id",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        rows.iter()
            .map(|row| {
                Ok(ItemFacts {
                    item_id: row.try_get("item_id")?,
                    reviewee: row.try_get("reviewee")?,
                    reviewer: row.try_get("reviewer")?,
                    privileged: row.try_get("privileged")?,
                    outside_baseline: row.try_get("outside_baseline")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.db(operation))
    }

    /// Returns the (stage, reviewer) pairs that signed off.
    pub(super) async fn signed_off(
        &self,
        tx: &mut PgConnection,
        campaign_id: Uuid,
        operation: &'static str,
    ) -> Result<BTreeSet<(i16, String)>, StoreError> {
        let rows: Vec<(i16, String)> = sqlx::query_as(
            "SELECT stage, reviewer FROM rollcall.review_signoffs \
             WHERE tenant_id = $1 AND campaign_id = $2",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        Ok(rows.into_iter().collect())
    }
}
