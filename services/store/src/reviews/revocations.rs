//! Follow-through of revoke decisions. When a campaign closes, each item decided
//! `revoke` gets a row in `review_revocations`. Each later evaluation compares the rows
//! with the grants of the latest sync of their source. A grant gone verifies the removal,
//! and one still there after the tenant's window is overdue. One seen again after it was
//! verified has returned. Every change is appended to the audit chain with the campaign's
//! id, so the campaign's evidence pack contains it.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The audit action of the rows written when a campaign closes.
pub const REVOCATIONS_REQUESTED: &str = "review.revocations_requested";
/// The audit action of a sync that showed a revoked grant gone.
pub const REVOCATION_VERIFIED: &str = "review.revocation_verified";
/// The audit action of a revoked grant still present after the window.
pub const REVOCATION_OVERDUE: &str = "review.revocation_overdue";
/// The audit action of a verified removal whose grant is present again.
pub const REVOKED_GRANT_RETURNED: &str = "review.revoked_grant_returned";

/// The state of a requested removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RevocationState {
    /// Requested; no sync since has shown the grant gone.
    Open,
    /// A sync after the request showed the grant gone.
    Verified,
    /// A sync after the verification showed the grant again.
    Returned,
}

impl RevocationState {
    /// Returns the name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationState::Open => "open",
            RevocationState::Verified => "verified",
            RevocationState::Returned => "returned",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [RevocationState::Open, RevocationState::Verified, RevocationState::Returned]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// One revoked item and the state of its removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRevocation {
    /// The campaign.
    pub campaign_id: Uuid,
    /// The item in the campaign.
    pub item_id: i32,
    /// The grant: `<source>/<account id>/<entitlement id>`.
    pub item_key: String,
    /// The source id.
    pub source: String,
    /// The account's id in the source.
    pub account_id: String,
    /// The entitlement's id in the source.
    pub entitlement_id: String,
    /// The identity key of the person whose access it was.
    pub reviewee: String,
    /// The state.
    pub state: RevocationState,
    /// When the campaign closed.
    pub requested_at: DateTime<Utc>,
    /// The collection instant of the sync that showed the grant gone.
    pub verified_at: Option<DateTime<Utc>>,
    /// The snapshot of that sync.
    pub verified_snapshot: Option<Uuid>,
    /// The collection instant of the sync that showed the grant again.
    pub returned_at: Option<DateTime<Utc>>,
    /// When the grant was first found present after the window.
    pub overdue_at: Option<DateTime<Utc>>,
}

/// The latest sync of a source, as `source_state` records it.
struct Sync {
    collected_at: DateTime<Utc>,
    snapshot_id: Uuid,
}

const COLUMNS: &str = "r.campaign_id, r.item_id, r.item_key, r.source, r.account_id, \
    r.entitlement_id, r.reviewee, r.state, r.requested_at, r.verified_at, r.verified_snapshot, \
    r.returned_at, r.overdue_at";

impl TenantScope<'_> {
    /// Writes a row for each item of `campaign_id` decided `revoke`, inside the
    /// transaction that closes the campaign, with one audit entry listing them.
    pub(crate) async fn request_revocations(
        &self,
        tx: &mut PgConnection,
        campaign_id: Uuid,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<usize, StoreError> {
        const OPERATION: &str = "request the removal of revoked grants";
        let items: Vec<i32> = sqlx::query_scalar(
            "INSERT INTO rollcall.review_revocations \
               (tenant_id, campaign_id, item_id, item_key, source, account_id, entitlement_id, \
                reviewee, state, requested_at) \
             SELECT tenant_id, campaign_id, item_id, item_key, facts ->> 'source', \
                    facts -> 'account' ->> 'id', facts -> 'entitlement' ->> 'id', reviewee, \
                    'open', $3 \
             FROM rollcall.review_items \
             WHERE tenant_id = $1 AND campaign_id = $2 AND decision = 'revoke' \
             ON CONFLICT DO NOTHING \
             RETURNING item_id",
        )
        .bind(self.tenant_str())
        .bind(campaign_id)
        .bind(to_micros(at))
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        if items.is_empty() {
            return Ok(0);
        }

        let mut sorted = items.clone();
        sorted.sort_unstable();
        // The engine turns each open row into a remediation task at its next evaluation
        // (`TenantScope::verify_revoke_tasks` marks the task verified with the row).
        let entry = AuditEntry {
            at,
            actor: actor.to_owned(),
            action: REVOCATIONS_REQUESTED.into(),
            detail: json!({ "campaign_id": campaign_id.to_string(), "items": sorted }),
        };
        self.append_in(tx, &entry).await?;
        Ok(items.len())
    }

    /// Lists the tenant's revocations, or those of one campaign, by campaign and item.
    pub async fn review_revocations(
        &self,
        campaign_id: Option<Uuid>,
    ) -> Result<Vec<ReviewRevocation>, StoreError> {
        const OPERATION: &str = "read review revocations";
        let mut tx = self.begin(OPERATION).await?;
        let rows = self.revocation_rows(&mut tx, campaign_id, false, OPERATION).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.revocation_row(row, OPERATION)).collect()
    }

    pub(crate) async fn revocation_rows(
        &self,
        tx: &mut PgConnection,
        campaign_id: Option<Uuid>,
        lock: bool,
        operation: &'static str,
    ) -> Result<Vec<PgRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM rollcall.review_revocations r \
             WHERE r.tenant_id = $1 AND ($2::uuid IS NULL OR r.campaign_id = $2) \
             ORDER BY r.campaign_id, r.item_id{}",
            if lock { " FOR UPDATE" } else { "" }
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.tenant_str())
            .bind(campaign_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(self.db(operation))
    }

    /// Compares every revocation with `present`, the keys of the grants in the tenant's
    /// latest synced data, and records what changed, by `actor` at `now`. A removal is
    /// verified by a sync of its source collected after the request that lacks the grant.
    /// One still present `window` after the request is marked overdue once. A verified
    /// removal whose grant a later sync shows again has returned, and a returned one that
    /// a later sync shows gone is verified again. It also records when the access of each
    /// item of a closed campaign ended. Returns every revocation after the changes.
    ///
    /// NOTE: `present` is read by the caller before this call, and the sync instants
    /// here. A sync applied in between can date a verification one sync early.
    pub async fn reconcile_revocations(
        &self,
        present: &BTreeSet<String>,
        now: DateTime<Utc>,
        window: TimeDelta,
        actor: &str,
    ) -> Result<Vec<ReviewRevocation>, StoreError> {
        const OPERATION: &str = "verify the removal of revoked grants";
        check_text(actor, "actor")?;
        let now = to_micros(now);
        let mut tx = self.begin(OPERATION).await?;
        let rows = self.revocation_rows(&mut tx, None, true, OPERATION).await?;
        let mut revocations = rows
            .iter()
            .map(|row| self.revocation_row(row, OPERATION))
            .collect::<Result<Vec<_>, _>>()?;
        let syncs: Vec<(String, DateTime<Utc>, Uuid)> = sqlx::query_as(
            "SELECT source, collected_at, snapshot_id FROM rollcall.source_state \
             WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let sync_of = |source: &str| {
            syncs.iter().find(|(name, _, _)| name == source).map(
                |(_, collected_at, snapshot_id)| Sync {
                    collected_at: *collected_at,
                    snapshot_id: *snapshot_id,
                },
            )
        };

        for revocation in &mut revocations {
            let held = present.contains(&revocation.item_key);
            let sync = sync_of(&revocation.source);
            let Some(action) = next_state(revocation, held, sync.as_ref(), now, window) else {
                continue;
            };
            self.record_change(&mut tx, revocation, action, sync.as_ref(), now, actor).await?;
        }
        self.record_access_ends(&mut tx, present, &sync_of).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(revocations)
    }

    /// Returns whether any closed campaign has an item whose access has not ended, or any
    /// removal is tracked, so an evaluation has something to reconcile.
    pub async fn review_follow_up_pending(&self) -> Result<bool, StoreError> {
        const OPERATION: &str = "check for pending review follow-up";
        let mut tx = self.begin(OPERATION).await?;
        let pending: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM rollcall.review_revocations WHERE tenant_id = $1)                  OR EXISTS (SELECT 1 FROM rollcall.review_items i                             JOIN rollcall.review_campaigns c                               ON c.tenant_id = i.tenant_id AND c.campaign_id = i.campaign_id                             WHERE i.tenant_id = $1 AND c.status = 'closed'                               AND i.access_ended_at IS NULL)",
        )
        .bind(self.tenant_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(pending)
    }

    /// Sets `access_ended_at` on each item of a closed campaign whose grant a sync of its
    /// source, collected after the close, no longer has: the instant retention counts
    /// six years from.
    async fn record_access_ends(
        &self,
        tx: &mut PgConnection,
        present: &BTreeSet<String>,
        sync_of: &impl Fn(&str) -> Option<Sync>,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "record when reviewed access ended";
        let rows: Vec<ItemWatch> = sqlx::query_as(
            "SELECT i.campaign_id, i.item_id, i.item_key, i.facts ->> 'source', c.closed_at \
             FROM rollcall.review_items i JOIN rollcall.review_campaigns c \
               ON c.tenant_id = i.tenant_id AND c.campaign_id = i.campaign_id \
             WHERE i.tenant_id = $1 AND c.status = 'closed' AND c.closed_at IS NOT NULL \
               AND i.access_ended_at IS NULL",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let mut campaigns = Vec::new();
        let mut items = Vec::new();
        let mut ended = Vec::new();
        for (campaign_id, item_id, key, source, closed_at) in rows {
            let Some(sync) = source.as_deref().and_then(sync_of) else { continue };
            if sync.collected_at > closed_at && !present.contains(&key) {
                campaigns.push(campaign_id);
                items.push(item_id);
                ended.push(sync.collected_at);
            }
        }

        if items.is_empty() {
            return Ok(());
        }

        sqlx::query(
            "UPDATE rollcall.review_items i SET access_ended_at = e.ended \
             FROM unnest($2::uuid[], $3::int[], $4::timestamptz[]) AS e(campaign_id, item_id, ended) \
             WHERE i.tenant_id = $1 AND i.campaign_id = e.campaign_id AND i.item_id = e.item_id",
        )
        .bind(self.tenant_str())
        .bind(&campaigns)
        .bind(&items)
        .bind(&ended)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        Ok(())
    }

    async fn record_change(
        &self,
        tx: &mut PgConnection,
        revocation: &mut ReviewRevocation,
        change: Change,
        sync: Option<&Sync>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "record a revocation change";

        let synced = sync.map(|s| s.collected_at);
        let action = match change {
            Change::Verified => {
                revocation.state = RevocationState::Verified;
                revocation.verified_at = synced;
                revocation.verified_snapshot = sync.map(|s| s.snapshot_id);
                REVOCATION_VERIFIED
            }
            Change::Overdue => {
                revocation.overdue_at = Some(now);
                REVOCATION_OVERDUE
            }
            Change::Returned => {
                revocation.state = RevocationState::Returned;
                revocation.returned_at = synced;
                // The access is back, so it has not ended until a later sync lacks it.
                sqlx::query(
                    "UPDATE rollcall.review_items SET access_ended_at = NULL \
                     WHERE tenant_id = $1 AND campaign_id = $2 AND item_id = $3",
                )
                .bind(self.tenant_str())
                .bind(revocation.campaign_id)
                .bind(revocation.item_id)
                .execute(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
                REVOKED_GRANT_RETURNED
            }
        };

        sqlx::query(
            "UPDATE rollcall.review_revocations SET state = $4, verified_at = $5, \
               verified_snapshot = $6, returned_at = $7, overdue_at = $8 \
             WHERE tenant_id = $1 AND campaign_id = $2 AND item_id = $3",
        )
        .bind(self.tenant_str())
        .bind(revocation.campaign_id)
        .bind(revocation.item_id)
        .bind(revocation.state.as_str())
        .bind(revocation.verified_at)
        .bind(revocation.verified_snapshot)
        .bind(revocation.returned_at)
        .bind(revocation.overdue_at)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        let instant = |at: Option<DateTime<Utc>>| at.map(|at| to_micros(at).to_rfc3339());
        let entry = AuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: action.into(),
            detail: json!({
                "campaign_id": revocation.campaign_id.to_string(),
                "item": revocation.item_id,
                "item_key": revocation.item_key,
                "state": revocation.state.as_str(),
                "synced_at": instant(synced),
                "snapshot_id": sync.map(|s| s.snapshot_id.to_string()),
            }),
        };
        self.append_in(tx, &entry).await?;
        Ok(())
    }

    pub(crate) fn revocation_row(
        &self,
        row: &PgRow,
        operation: &'static str,
    ) -> Result<ReviewRevocation, StoreError> {
        let db = self.db(operation);
        let item_id: i32 = row.try_get("item_id").map_err(&db)?;
        let state: String = row.try_get("state").map_err(&db)?;
        let state = RevocationState::parse(&state).ok_or_else(|| StoreError::CorruptRow {
            table: "review_revocations",
            key: item_id.to_string(),
            reason: format!("unknown state `{state}`"),
        })?;
        Ok(ReviewRevocation {
            campaign_id: row.try_get("campaign_id").map_err(&db)?,
            item_id,
            item_key: row.try_get("item_key").map_err(&db)?,
            source: row.try_get("source").map_err(&db)?,
            account_id: row.try_get("account_id").map_err(&db)?,
            entitlement_id: row.try_get("entitlement_id").map_err(&db)?,
            reviewee: row.try_get("reviewee").map_err(&db)?,
            state,
            requested_at: row.try_get("requested_at").map_err(&db)?,
            verified_at: row.try_get("verified_at").map_err(&db)?,
            verified_snapshot: row.try_get("verified_snapshot").map_err(&db)?,
            returned_at: row.try_get("returned_at").map_err(&db)?,
            overdue_at: row.try_get("overdue_at").map_err(&db)?,
        })
    }
}

/// An item of a closed campaign whose access has not ended: campaign, item, grant key,
/// source and closing instant.
type ItemWatch = (Uuid, i32, String, Option<String>, DateTime<Utc>);

/// A change of one revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Verified,
    Overdue,
    Returned,
}

/// Decides what the latest sync means for `revocation`, or `None` when nothing changes.
fn next_state(
    revocation: &ReviewRevocation,
    held: bool,
    sync: Option<&Sync>,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Option<Change> {
    let synced_after = |instant: Option<DateTime<Utc>>| match (sync, instant) {
        (Some(sync), Some(instant)) => sync.collected_at > instant,
        _ => false,
    };
    match revocation.state {
        RevocationState::Open if !held && synced_after(Some(revocation.requested_at)) => {
            Some(Change::Verified)
        }
        RevocationState::Open
            if revocation.overdue_at.is_none()
                && revocation
                    .requested_at
                    .checked_add_signed(window)
                    .is_some_and(|due| now >= due) =>
        {
            Some(Change::Overdue)
        }
        RevocationState::Verified if held && synced_after(revocation.verified_at) => {
            Some(Change::Returned)
        }
        RevocationState::Returned if !held && synced_after(revocation.returned_at) => {
            Some(Change::Verified)
        }
        _ => None,
    }
}
