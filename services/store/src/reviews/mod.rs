//! Access-review campaigns: launches frozen with their items, decisions and sign-offs.
//! `rollcall-reviews` builds the items, and this module stores them. It checks the
//! decision rules inside the transaction that records each decision, so two reviewers
//! acting at once cannot break them.

mod decide;
mod evidence;
mod mail;
mod progress;
mod recommend;
mod revocations;
mod triggers;

use std::collections::BTreeSet;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

pub use decide::{CampaignStatus, ReviewAction, ReviewActionKind, ReviewRejection};
pub use evidence::{CampaignEvidence, EvidenceItem, ReviewSignoff};
pub use mail::{MailClaim, OpenReviewCampaign, ReviewMailKey, ReviewMailKind, ReviewerProgress};
pub use progress::ReviewProgress;
pub use recommend::{RecommendationOutcome, SkippedItem};
pub use revocations::{
    REVOCATION_OVERDUE, REVOCATION_VERIFIED, REVOCATIONS_REQUESTED, REVOKED_GRANT_RETURNED,
    ReviewRevocation, RevocationState,
};
pub use triggers::TriggerBaseline;

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::guard::REVIEW_LOADER;
use crate::json::{check_text, encode, find_nul};
use crate::scope::TenantScope;
use crate::time::to_micros;

/// A campaign to launch.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReviewCampaign {
    /// The definition's id.
    pub definition_id: String,
    /// The first instant of the schedule period.
    pub period_start: DateTime<Utc>,
    /// The period for people, such as `2026-Q4`.
    pub period_label: String,
    /// The campaign's name.
    pub name: String,
    /// The definition as launched.
    pub definition: Value,
    /// The launch instant.
    pub launched_at: DateTime<Utc>,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// `none`, `revoke` or `approve`.
    pub at_expiry: String,
    /// The identity key of the fallback reviewer.
    pub fallback_reviewer: String,
    /// The identity key of the second-stage reviewer.
    pub second_stage_reviewer: Option<String>,
    /// For the scope `added_since_last`, the key of every grant of the tenant at launch,
    /// which the next launch compares with.
    pub grant_keys: Option<Vec<String>>,
}

/// The reason an item went to its reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewerReason {
    /// The reviewee's manager.
    Manager,
    /// No manager was found, so the fallback reviewer.
    NoManager,
    /// The manager was the reviewee, so the fallback reviewer.
    SelfReview,
    /// Delegated by the reviewer before.
    Delegated,
    /// Reassigned by a campaign owner.
    Reassigned,
    /// The owner of the entitlement, named as `reviewer` in the policy's entitlement
    /// catalogue.
    EntitlementOwner,
}

impl ReviewerReason {
    /// Returns the name stored in `reviewer_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewerReason::Manager => "manager",
            ReviewerReason::NoManager => "no_manager",
            ReviewerReason::SelfReview => "self_review",
            ReviewerReason::Delegated => "delegated",
            ReviewerReason::Reassigned => "reassigned",
            ReviewerReason::EntitlementOwner => "entitlement_owner",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            ReviewerReason::Manager,
            ReviewerReason::NoManager,
            ReviewerReason::SelfReview,
            ReviewerReason::Delegated,
            ReviewerReason::Reassigned,
            ReviewerReason::EntitlementOwner,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }
}

/// A review item to store with its campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReviewItem {
    /// `<source>/<account id>/<entitlement id>`.
    pub item_key: String,
    /// The identity key of the person whose access it is.
    pub reviewee: String,
    /// The identity key of the reviewer.
    pub reviewer: String,
    /// The reason the reviewer was chosen.
    pub reviewer_reason: ReviewerReason,
    /// The entitlement or account is privileged.
    pub privileged: bool,
    /// No baseline of the person's job roles covers the grant, or the person has no role.
    pub outside_baseline: bool,
    /// Whether the recommendation is to revoke.
    pub recommend_revoke: bool,
    /// Every fact shown to the reviewer.
    pub facts: ReviewFacts,
}

/// The facts of a review item as JSON text, written once by serde and sent to PostgreSQL
/// as they are. Building a [`serde_json::Value`] per item first and then its text took
/// four to five times as long in `make bench-reviews` (docs/benchmarks.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFacts(String);

impl ReviewFacts {
    /// Serialises `facts` to JSON text. Fails when serde does, or when a string or key
    /// contains a NUL character, which jsonb rejects. `path` names the item in the error,
    /// such as `items[3].facts`, and the error adds the NUL's path below it.
    pub fn new<T: serde::Serialize>(facts: &T, path: &str) -> Result<Self, StoreError> {
        let text = serde_json::to_string(facts)
            .map_err(|e| StoreError::Encode { path: path.to_owned(), reason: e.to_string() })?;
        if has_nul_escape(&text) {
            // Rare, so only here the value is built to name the NUL's path.
            let value = serde_json::to_value(facts)
                .map_err(|e| StoreError::Encode { path: path.to_owned(), reason: e.to_string() })?;
            find_nul(&value, path)?;
            return Err(StoreError::NulCharacter { path: path.to_owned() });
        }
        Ok(Self(text))
    }

    /// Returns the JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Returns whether serde_json's output `json` contains the escape `\u0000`, the only
/// form in which it writes a NUL character. A backslash that starts an escape is skipped
/// with the character after it, so an escaped backslash followed by `u0000` is not one.
fn has_nul_escape(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut index = 0;
    while let Some(offset) =
        bytes.get(index..).and_then(|rest| rest.iter().position(|&b| b == b'\\'))
    {
        let escape = index + offset;
        if bytes.get(escape + 1..escape + 6) == Some(b"u0000".as_slice()) {
            return true;
        }
        index = escape + 2;
    }
    false
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReviewCampaign {
    /// The campaign's id.
    pub campaign_id: Uuid,
    /// The definition's id.
    pub definition_id: String,
    /// The first instant of the period.
    pub period_start: DateTime<Utc>,
    /// The period for people.
    pub period_label: String,
    /// The name.
    pub name: String,
    /// When it was launched.
    pub launched_at: DateTime<Utc>,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// The status.
    pub status: CampaignStatus,
    /// The fallback reviewer.
    pub fallback_reviewer: String,
    /// The second-stage reviewer.
    pub second_stage_reviewer: Option<String>,
}

/// A stored review item with its decision.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReviewItem {
    /// The item's number in the campaign, from 1.
    pub item_id: i32,
    /// `<source>/<account id>/<entitlement id>`.
    pub item_key: String,
    /// The reviewee's identity key.
    pub reviewee: String,
    /// The reviewer's identity key.
    pub reviewer: String,
    /// The reason the reviewer was chosen.
    pub reviewer_reason: ReviewerReason,
    /// Privileged.
    pub privileged: bool,
    /// Outside the baseline.
    pub outside_baseline: bool,
    /// The recommendation is to revoke.
    pub recommend_revoke: bool,
    /// The facts shown to the reviewer.
    pub facts: Value,
    /// `approve` or `revoke`, `None` while undecided.
    pub decision: Option<String>,
    /// The justification given with the decision.
    pub justification: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When the decision was recorded, `None` while undecided.
    pub decided_at: Option<DateTime<Utc>>,
}

/// A campaign read for one person, with whether they review or reviewed items of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewParticipation {
    /// The campaign.
    pub campaign: StoredReviewCampaign,
    /// The person reviews an item of the campaign now, or recorded one of its decisions.
    pub involved: bool,
}

/// A stored sign-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReviewSignOff {
    /// The identity key of the reviewer.
    pub reviewer: String,
    /// 1 for the first stage, 2 for the second.
    pub stage: i16,
    /// When.
    pub signed_at: DateTime<Utc>,
}

/// The outcome of a launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewLaunch {
    /// The campaign was stored with this many items.
    Launched {
        /// The new campaign's id.
        campaign_id: Uuid,
        /// The number of items.
        items: usize,
    },
    /// A campaign of the same definition and period exists, so nothing was stored.
    AlreadyLaunched,
}

/// The count and the reviewers of a launch's stored items.
#[derive(Debug, Default)]
struct StoredItems {
    /// The number of items.
    count: usize,
    /// Every reviewer of an item.
    reviewers: BTreeSet<String>,
}

impl TenantScope<'_> {
    /// Stores `campaign` with `items` and a `review.launched` audit entry, in one
    /// transaction, as [`TenantScope::launch_review_campaign_from`] does with one batch.
    pub async fn launch_review_campaign(
        &self,
        campaign: &NewReviewCampaign,
        items: &[NewReviewItem],
        actor: &str,
    ) -> Result<ReviewLaunch, StoreError> {
        let batches = futures_util::stream::iter([Ok::<_, StoreError>(items)]);
        self.launch_review_campaign_from(campaign, batches, actor).await
    }

    /// Stores `campaign` with the items of `batches` and a `review.launched` audit entry,
    /// in one transaction. The items are numbered from 1 in the order they arrive. Each
    /// batch is sent to PostgreSQL as it arrives, so the caller can build the next while
    /// the server stores this one, and neither side keeps every item in memory. A batch
    /// that is an error rolls everything back and is returned. The end of `batches`
    /// counts as the last item, so a producer that can stop early must end with an error
    /// instead. A campaign without items is stored closed.
    ///
    /// Returns [`ReviewLaunch::AlreadyLaunched`] when the definition was launched for the
    /// period already, also by a concurrent launch: the unique constraint on (tenant,
    /// definition, period start) decides, not a lock. The rest of `batches` is then left
    /// unread.
    pub async fn launch_review_campaign_from<S, B>(
        &self,
        campaign: &NewReviewCampaign,
        batches: S,
        actor: &str,
    ) -> Result<ReviewLaunch, StoreError>
    where
        S: Stream<Item = Result<B, StoreError>>,
        B: AsRef<[NewReviewItem]>,
    {
        const OPERATION: &str = "launch a review campaign";
        for (path, text) in [
            ("definition_id", &campaign.definition_id),
            ("period_label", &campaign.period_label),
            ("name", &campaign.name),
            ("fallback_reviewer", &campaign.fallback_reviewer),
        ] {
            check_text(text, path)?;
        }
        let definition = encode(&campaign.definition, "definition")?;
        let campaign_id = Uuid::new_v4();
        let mut batches = std::pin::pin!(batches);
        // The first batch with items decides whether the campaign is empty before its row
        // is written. A campaign with nothing to review has no one to sign it off, so it
        // starts closed.
        let first = loop {
            match batches.next().await.transpose()? {
                Some(batch) if batch.as_ref().is_empty() => {}
                other => break other,
            }
        };
        let empty = first.is_none();

        let mut tx = self.begin(OPERATION).await?;
        let inserted = sqlx::query(
            "INSERT INTO rollcall.review_campaigns \
               (tenant_id, campaign_id, definition_id, period_start, period_label, name, \
                definition, launched_at, deadline, at_expiry, fallback_reviewer, \
                second_stage_reviewer, grant_keys, status, closed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (tenant_id, definition_id, period_start) DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(&campaign.definition_id)
        .bind(to_micros(campaign.period_start))
        .bind(&campaign.period_label)
        .bind(&campaign.name)
        .bind(&definition)
        .bind(to_micros(campaign.launched_at))
        .bind(to_micros(campaign.deadline))
        .bind(&campaign.at_expiry)
        .bind(&campaign.fallback_reviewer)
        .bind(&campaign.second_stage_reviewer)
        .bind(&campaign.grant_keys)
        .bind(if empty { "closed" } else { "open" })
        .bind(empty.then(|| to_micros(campaign.launched_at)))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        // A concurrent launch of the same period locks the key until it ends, so the
        // insert waits for it, and inserts nothing when it committed.
        if inserted.rows_affected() == 0 {
            tx.rollback().await.map_err(self.db(OPERATION))?;
            return Ok(ReviewLaunch::AlreadyLaunched);
        }

        let stored = match first {
            Some(first) => self.insert_items(&mut tx, campaign_id, first, batches).await?,
            None => StoredItems::default(),
        };
        // After the items, so the tenant's audit chain is locked only for the end of the
        // launch and not while the items stream in.
        let entry = AuditEntry {
            at: campaign.launched_at,
            actor: actor.to_owned(),
            action: "review.launched".into(),
            detail: json!({
                "campaign_id": campaign_id.to_string(),
                "definition_id": campaign.definition_id,
                "period": campaign.period_label,
                "items": stored.count,
                "reviewers": stored.reviewers,
                "deadline": to_micros(campaign.deadline).to_rfc3339(),
            }),
        };
        self.append_in(&mut tx, &entry).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(ReviewLaunch::Launched { campaign_id, items: stored.count })
    }

    /// Inserts `first` and the rest of `batches` with one `COPY`, sending each batch as it
    /// arrives. PostgreSQL rejects `COPY FROM` into a table with row-level security, so
    /// with the review loader role (migration 0018) the `COPY` runs as that role, and the
    /// table's tenant trigger rejects a row of another tenant. Afterwards the role is
    /// switched back by name to the one that was current before. `RESET ROLE` would return
    /// to the login role instead for a connection that ran `SET ROLE` after connecting.
    /// Without the loader
    /// role, the rows are copied into a temporary table and inserted from there, which
    /// writes them twice.
    async fn insert_items<S, B>(
        &self,
        tx: &mut sqlx::PgConnection,
        campaign_id: Uuid,
        first: B,
        mut batches: Pin<&mut S>,
    ) -> Result<StoredItems, StoreError>
    where
        S: Stream<Item = Result<B, StoreError>>,
        B: AsRef<[NewReviewItem]>,
    {
        const OPERATION: &str = "store review items";
        let mut own_role = None;
        let table = if self.review_loader() {
            let current: String = sqlx::query_scalar("SELECT current_user::text")
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
            own_role = Some(current);
            let switch = format!("SET LOCAL ROLE {REVIEW_LOADER}");
            sqlx::query(sqlx::AssertSqlSafe(switch))
                .execute(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
            "rollcall.review_items"
        } else {
            // ON COMMIT DROP: the table ends with the transaction, also when it rolls back.
            sqlx::query(
                "CREATE TEMPORARY TABLE review_items_load \
                 (LIKE rollcall.review_items INCLUDING DEFAULTS) ON COMMIT DROP",
            )
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            "review_items_load"
        };

        let statement = format!(
            "COPY {table} (tenant_id, campaign_id, item_id, item_key, reviewee, reviewer, \
             reviewer_reason, privileged, outside_baseline, recommendation, facts) FROM STDIN"
        );
        let mut copy = tx.copy_in_raw(&statement).await.map_err(self.db(OPERATION))?;
        let mut stored = StoredItems::default();
        let mut text = String::new();
        let mut batch = Some(first);
        let sent: Result<(), StoreError> = async {
            loop {
                let Some(items) = batch.take() else { break };
                text.clear();
                self.push_copy_rows(&mut text, campaign_id, items.as_ref(), &mut stored)?;
                copy.send(text.as_bytes()).await.map_err(self.db(OPERATION))?;
                batch = batches.next().await.transpose()?;
            }
            Ok(())
        }
        .await;
        if let Err(error) = sent {
            // The transaction rolls back when `tx` is dropped; ending the COPY first keeps
            // the connection usable for the pool. Its own error adds nothing to `error`.
            let _ = copy.abort("the launch stopped before all items were built").await;
            return Err(error);
        }
        copy.finish().await.map_err(self.db(OPERATION))?;

        if let Some(own_role) = own_role {
            // `set_config('role', ...)` is `SET LOCAL ROLE` with the name bound, not quoted.
            sqlx::query("SELECT set_config('role', $1, true)")
                .bind(own_role)
                .execute(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
        } else {
            sqlx::query(
                "INSERT INTO rollcall.review_items \
                   (tenant_id, campaign_id, item_id, item_key, reviewee, reviewer, \
                    reviewer_reason, privileged, outside_baseline, recommendation, facts) \
                 SELECT tenant_id, campaign_id, item_id, item_key, reviewee, reviewer, \
                    reviewer_reason, privileged, outside_baseline, recommendation, facts \
                 FROM review_items_load",
            )
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
        }
        Ok(stored)
    }

    /// Checks `items` and appends them to `out` as `COPY` text, numbered on from the items
    /// in `stored`, which counts them and collects their reviewers.
    fn push_copy_rows(
        &self,
        out: &mut String,
        campaign_id: Uuid,
        items: &[NewReviewItem],
        stored: &mut StoredItems,
    ) -> Result<(), StoreError> {
        let campaign = campaign_id.to_string();
        for item in items {
            let index = stored.count;
            let path = format!("items[{index}]");
            check_text(&item.item_key, &path)?;
            check_text(&item.reviewee, &path)?;
            check_text(&item.reviewer, &path)?;
            let id = i32::try_from(index + 1).map_err(|_| StoreError::Encode {
                path: path.clone(),
                reason: "more than 2147483647 items".into(),
            })?;
            let recommendation = if item.recommend_revoke { "revoke" } else { "keep" };
            let fields: [&str; 11] = [
                self.tenant_str(),
                &campaign,
                &id.to_string(),
                &item.item_key,
                &item.reviewee,
                &item.reviewer,
                item.reviewer_reason.as_str(),
                if item.privileged { "t" } else { "f" },
                if item.outside_baseline { "t" } else { "f" },
                recommendation,
                item.facts.as_str(),
            ];
            for (position, field) in fields.iter().enumerate() {
                if position > 0 {
                    out.push('\t');
                }
                push_copy_field(out, field);
            }
            out.push('\n');
            if !stored.reviewers.contains(&item.reviewer) {
                stored.reviewers.insert(item.reviewer.clone());
            }
            stored.count += 1;
        }
        Ok(())
    }

    /// Returns the id of the campaign of `definition_id` for the period starting at
    /// `period_start`, or `None` when it was not launched.
    pub async fn review_campaign_for_period(
        &self,
        definition_id: &str,
        period_start: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        const OPERATION: &str = "look up a review campaign";
        let mut tx = self.begin(OPERATION).await?;
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT campaign_id FROM rollcall.review_campaigns \
             WHERE tenant_id = $1 AND definition_id = $2 AND period_start = $3",
        )
        .bind(self.tenant_str())
        .bind(definition_id)
        .bind(to_micros(period_start))
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(id)
    }

    /// Returns the grant keys stored with the latest campaign of `definition_id`, or
    /// `None` when the definition was never launched or its latest campaign stored none.
    pub async fn last_review_grant_keys(
        &self,
        definition_id: &str,
    ) -> Result<Option<BTreeSet<String>>, StoreError> {
        const OPERATION: &str = "read the last review campaign's grant keys";
        let mut tx = self.begin(OPERATION).await?;
        let keys: Option<Option<Vec<String>>> = sqlx::query_scalar(
            "SELECT grant_keys FROM rollcall.review_campaigns \
             WHERE tenant_id = $1 AND definition_id = $2 ORDER BY period_start DESC LIMIT 1",
        )
        .bind(self.tenant_str())
        .bind(definition_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(keys.flatten().map(|keys| keys.into_iter().collect()))
    }

    /// Reads a campaign, or `None` when the tenant has no campaign with that id.
    pub async fn review_campaign(
        &self,
        campaign_id: Uuid,
    ) -> Result<Option<StoredReviewCampaign>, StoreError> {
        const OPERATION: &str = "read a review campaign";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT campaign_id, definition_id, period_start, period_label, name, launched_at, \
                    deadline, status, fallback_reviewer, second_stage_reviewer \
             FROM rollcall.review_campaigns WHERE tenant_id = $1 AND campaign_id = $2",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        row.map(|row| self.campaign_row(&row, OPERATION)).transpose()
    }

    /// Reads a campaign with whether `identity` reviews one of its items now or recorded
    /// one of its decisions. Returns `None` when the tenant has no campaign with that id.
    pub async fn review_campaign_for(
        &self,
        campaign_id: Uuid,
        identity: &str,
    ) -> Result<Option<ReviewParticipation>, StoreError> {
        const OPERATION: &str = "read a review campaign for a reviewer";
        let mut tx = self.begin(OPERATION).await?;
        // The first EXISTS uses `review_items_by_reviewer`. PostgreSQL evaluates OR from
        // the left, so the second, which scans the campaign's items, runs only when the
        // first is false.
        let row = sqlx::query(
            "SELECT campaign_id, definition_id, period_start, period_label, name, launched_at, \
                    deadline, status, fallback_reviewer, second_stage_reviewer, \
                    EXISTS (SELECT 1 FROM rollcall.review_items i \
                            WHERE i.tenant_id = c.tenant_id AND i.campaign_id = c.campaign_id \
                              AND i.reviewer = $3) \
                    OR EXISTS (SELECT 1 FROM rollcall.review_items i \
                               WHERE i.tenant_id = c.tenant_id AND i.campaign_id = c.campaign_id \
                                 AND i.decided_by = $3) AS involved \
             FROM rollcall.review_campaigns c WHERE c.tenant_id = $1 AND c.campaign_id = $2",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(identity)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let Some(row) = row else { return Ok(None) };
        let campaign = self.campaign_row(&row, OPERATION)?;
        let involved = row.try_get("involved").map_err(self.db(OPERATION))?;
        Ok(Some(ReviewParticipation { campaign, involved }))
    }

    /// Lists the tenant's campaigns, newest period first.
    pub async fn review_campaigns(&self) -> Result<Vec<StoredReviewCampaign>, StoreError> {
        const OPERATION: &str = "list review campaigns";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT campaign_id, definition_id, period_start, period_label, name, launched_at, \
                    deadline, status, fallback_reviewer, second_stage_reviewer \
             FROM rollcall.review_campaigns WHERE tenant_id = $1 \
             ORDER BY period_start DESC, definition_id",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.campaign_row(row, OPERATION)).collect()
    }

    /// Lists a campaign's items in item order.
    pub async fn review_items(
        &self,
        campaign_id: Uuid,
    ) -> Result<Vec<StoredReviewItem>, StoreError> {
        const OPERATION: &str = "read review items";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT item_id, item_key, reviewee, reviewer, reviewer_reason, privileged, \
                    outside_baseline, recommendation, facts, decision, justification, decided_by, \
                    decided_at \
             FROM rollcall.review_items WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY item_id",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.item_row(row, OPERATION)).collect()
    }

    /// Lists the items of a campaign that `reviewer` reviews now, in item order.
    pub async fn review_items_of(
        &self,
        campaign_id: Uuid,
        reviewer: &str,
    ) -> Result<Vec<StoredReviewItem>, StoreError> {
        const OPERATION: &str = "read a reviewer's review items";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT item_id, item_key, reviewee, reviewer, reviewer_reason, privileged, \
                    outside_baseline, recommendation, facts, decision, justification, decided_by, \
                    decided_at \
             FROM rollcall.review_items \
             WHERE tenant_id = $1 AND campaign_id = $2 AND reviewer = $3 ORDER BY item_id",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(reviewer)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.item_row(row, OPERATION)).collect()
    }

    /// Lists the sign-offs of a campaign: reviewer, stage (1 or 2) and instant, in the
    /// order they were given.
    pub async fn review_signoffs(
        &self,
        campaign_id: Uuid,
    ) -> Result<Vec<StoredReviewSignOff>, StoreError> {
        const OPERATION: &str = "read review sign-offs";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT reviewer, stage, signed_at FROM rollcall.review_signoffs \
             WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY signed_at, stage, reviewer",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let db = self.db(OPERATION);
        rows.iter()
            .map(|row| {
                Ok(StoredReviewSignOff {
                    reviewer: row.try_get("reviewer").map_err(&db)?,
                    stage: row.try_get("stage").map_err(&db)?,
                    signed_at: row.try_get("signed_at").map_err(&db)?,
                })
            })
            .collect()
    }

    fn campaign_row(
        &self,
        row: &PgRow,
        operation: &'static str,
    ) -> Result<StoredReviewCampaign, StoreError> {
        let db = self.db(operation);
        let campaign_id: Uuid = row.try_get("campaign_id").map_err(&db)?;
        let status: String = row.try_get("status").map_err(&db)?;
        let status = CampaignStatus::parse(&status).ok_or_else(|| StoreError::CorruptRow {
            table: "review_campaigns",
            key: campaign_id.to_string(),
            reason: format!("unknown status `{status}`"),
        })?;
        Ok(StoredReviewCampaign {
            campaign_id,
            definition_id: row.try_get("definition_id").map_err(&db)?,
            period_start: row.try_get("period_start").map_err(&db)?,
            period_label: row.try_get("period_label").map_err(&db)?,
            name: row.try_get("name").map_err(&db)?,
            launched_at: row.try_get("launched_at").map_err(&db)?,
            deadline: row.try_get("deadline").map_err(&db)?,
            status,
            fallback_reviewer: row.try_get("fallback_reviewer").map_err(&db)?,
            second_stage_reviewer: row.try_get("second_stage_reviewer").map_err(&db)?,
        })
    }

    fn item_row(
        &self,
        row: &PgRow,
        operation: &'static str,
    ) -> Result<StoredReviewItem, StoreError> {
        let db = self.db(operation);
        let item_id: i32 = row.try_get("item_id").map_err(&db)?;
        let reason: String = row.try_get("reviewer_reason").map_err(&db)?;
        let reviewer_reason =
            ReviewerReason::parse(&reason).ok_or_else(|| StoreError::CorruptRow {
                table: "review_items",
                key: item_id.to_string(),
                reason: format!("unknown reviewer reason `{reason}`"),
            })?;
        let recommendation: String = row.try_get("recommendation").map_err(&db)?;
        Ok(StoredReviewItem {
            item_id,
            item_key: row.try_get("item_key").map_err(&db)?,
            reviewee: row.try_get("reviewee").map_err(&db)?,
            reviewer: row.try_get("reviewer").map_err(&db)?,
            reviewer_reason,
            privileged: row.try_get("privileged").map_err(&db)?,
            outside_baseline: row.try_get("outside_baseline").map_err(&db)?,
            recommend_revoke: recommendation == "revoke",
            facts: row.try_get("facts").map_err(&db)?,
            decision: row.try_get("decision").map_err(&db)?,
            justification: row.try_get("justification").map_err(&db)?,
            decided_by: row.try_get("decided_by").map_err(&db)?,
            decided_at: row.try_get("decided_at").map_err(&db)?,
        })
    }
}

/// Appends `value` to `out` in `COPY` text format, escaping backslash, tab, newline and
/// carriage return.
fn push_copy_field(out: &mut String, value: &str) {
    // Plain runs are copied whole. The four bytes are ASCII, so every run ends on a
    // character boundary.
    let mut start = 0;
    for (at, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => continue,
        };
        out.push_str(value.get(start..at).unwrap_or_default());
        out.push_str(escape);
        start = at + 1;
    }
    out.push_str(value.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{ReviewFacts, ReviewerReason, has_nul_escape, push_copy_field};
    use crate::error::StoreError;

    #[test]
    fn reviewer_reasons_parse_their_names() {
        for (reason, name) in [
            (ReviewerReason::Manager, "manager"),
            (ReviewerReason::NoManager, "no_manager"),
            (ReviewerReason::SelfReview, "self_review"),
            (ReviewerReason::Delegated, "delegated"),
            (ReviewerReason::Reassigned, "reassigned"),
            (ReviewerReason::EntitlementOwner, "entitlement_owner"),
        ] {
            assert_eq!(reason.as_str(), name);
            assert_eq!(ReviewerReason::parse(name), Some(reason), "{name}");
        }
        assert_eq!(ReviewerReason::parse("owner"), None);
    }

    #[test]
    fn copy_fields_escape_their_four_special_bytes() {
        let mut out = String::from("kept|");
        push_copy_field(&mut out, "a\\b\tc\nd\re é\\");
        assert_eq!(out, "kept|a\\\\b\\tc\\nd\\re é\\\\");
        let mut plain = String::new();
        push_copy_field(&mut plain, "{\"name\":\"Zoë O'Brien\"}");
        assert_eq!(plain, "{\"name\":\"Zoë O'Brien\"}");
    }

    #[test]
    fn nul_escape_found() {
        assert!(has_nul_escape(r#"{"a":"x\u0000"}"#));
        assert!(has_nul_escape(r#"{"a":"\\\u0000"}"#));
        assert!(!has_nul_escape(r#"{"a":"\\u0000"}"#));
        assert!(!has_nul_escape(r#"{"a":"\u0001","b":"\\"}"#));
        assert!(!has_nul_escape(r#"{"a":"ends with \\"}"#));
    }

    #[test]
    fn facts_with_nul_rejected_with_path() {
        let facts = json!({ "person": { "name": "Dana\u{0}" } });

        let error = ReviewFacts::new(&facts, "items[3].facts").unwrap_err();

        match error {
            StoreError::NulCharacter { path } => assert_eq!(path, "items[3].facts.person.name"),
            other => panic!("expected a NUL error, got {other}"),
        }
    }

    #[test]
    fn facts_text_is_serde_output() {
        let facts = json!({ "note": "a \\u0000 that is text", "n": 1 });

        let text = ReviewFacts::new(&facts, "facts").unwrap();

        assert_eq!(text.as_str(), serde_json::to_string(&facts).unwrap());
    }
}
