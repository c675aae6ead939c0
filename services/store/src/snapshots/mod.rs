//! Applying source snapshots and HR rosters, each atomically with its cursor check, and
//! loading the latest of each source back into the tenant's data.

mod content;
mod load;

use chrono::{DateTime, Utc};
use rollcall_core::model::{HrSnapshot, SourceId, SourceKind, SourceSnapshot};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::cursor::{Cursor, Decision, decide};
use crate::error::StoreError;
use crate::scope::TenantScope;
use crate::time::to_micros;
use content::ContentColumns;

/// The facts about a snapshot that travel beside its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The snapshot id the connector gave it.
    pub snapshot_id: Uuid,
    /// When the data was read from the source: the snapshot's own `collected_at`, or the
    /// time the engine received it when the snapshot has none. Kept to the microsecond.
    pub collected_at: DateTime<Utc>,
    /// The JetStream stream sequence of the message that completed the snapshot.
    pub stream_sequence: u64,
}

/// The cursor of the snapshot last applied for one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    /// The source; [`SourceId::hr`] for the HR roster.
    pub source: SourceId,
    /// The id of the applied snapshot.
    pub snapshot_id: Uuid,
    /// Its content hash: the `rollcall-proto` wire hash for a directory snapshot.
    pub content_sha256: [u8; 32],
    /// Its collection time, from [`SnapshotMeta::collected_at`].
    pub collected_at: DateTime<Utc>,
    /// Its stream sequence.
    pub stream_sequence: u64,
    /// When the store applied it, by the database clock.
    pub applied_at: DateTime<Utc>,
}

/// The result of applying a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The snapshot replaced the source's previous one.
    Applied,
    /// The snapshot is the one already applied (same id, or same collection time and
    /// content). Nothing changed.
    Duplicate,
    /// The snapshot is older than the one applied. Nothing changed.
    Stale {
        /// The cursor that made it stale.
        current: SourceState,
    },
    /// The snapshot was built from a delta on top of another snapshot than the applied
    /// one ([`ApplyOptions::expected_base`]). Nothing changed.
    BaseMismatch {
        /// The snapshot id applied now, or `None` when the source has none.
        current: Option<Uuid>,
    },
}

/// Options of [`TenantScope::apply_source_snapshot_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Apply only when this is the snapshot id applied now. A delta is applied as the
    /// snapshot it yields, on the base it was computed from; the check runs under the
    /// cursor lock, so a snapshot applied meanwhile wins.
    pub expected_base: Option<Uuid>,
    /// Append a `snapshot.applied` entry with this actor to the audit chain, in the
    /// transaction of the apply.
    pub audit_actor: Option<String>,
}

impl TenantScope<'_> {
    /// Replaces the stored snapshot of `snapshot.source` unless a newer or equal one was
    /// applied, in one transaction with the cursor check. The HR source is rejected here:
    /// apply its workers with [`TenantScope::apply_hr_roster`].
    pub async fn apply_source_snapshot(
        &self,
        snapshot: &SourceSnapshot,
        meta: &SnapshotMeta,
    ) -> Result<ApplyOutcome, StoreError> {
        if snapshot.source.kind() == SourceKind::Hr {
            return Err(StoreError::HrAsDirectory { source_id: snapshot.source.to_string() });
        }
        self.apply_source_snapshot_with(snapshot, meta, &ApplyOptions::default()).await
    }

    /// [`TenantScope::apply_source_snapshot`] with a base check and an audit entry.
    pub async fn apply_source_snapshot_with(
        &self,
        snapshot: &SourceSnapshot,
        meta: &SnapshotMeta,
        options: &ApplyOptions,
    ) -> Result<ApplyOutcome, StoreError> {
        if snapshot.source.kind() == SourceKind::Hr {
            return Err(StoreError::HrAsDirectory { source_id: snapshot.source.to_string() });
        }
        let columns = content::directory_columns(snapshot)?;
        let hash = content::directory_hash(snapshot);
        self.apply(&snapshot.source, snapshot.collected_at, meta, hash, columns, options)
            .await
            .map(|(outcome, _)| outcome)
    }

    /// Replaces the stored HR roster, with the same cursor check as a source snapshot.
    /// The roster is kept under the source id `hr`.
    pub async fn apply_hr_roster(
        &self,
        roster: &HrSnapshot,
        meta: &SnapshotMeta,
    ) -> Result<ApplyOutcome, StoreError> {
        let columns = content::roster_columns(roster)?;
        let workers = columns.workers.as_ref().unwrap_or(&serde_json::Value::Null);
        let hash = content::roster_hash(roster, workers);
        self.apply(
            &SourceId::hr(),
            roster.collected_at,
            meta,
            hash,
            columns,
            &ApplyOptions::default(),
        )
        .await
        .map(|(outcome, _)| outcome)
    }

    /// [`TenantScope::apply_hr_roster`] with an audit entry ([`ApplyOptions::audit_actor`]).
    pub async fn apply_hr_roster_with(
        &self,
        roster: &HrSnapshot,
        meta: &SnapshotMeta,
        options: &ApplyOptions,
    ) -> Result<ApplyOutcome, StoreError> {
        let columns = content::roster_columns(roster)?;
        let workers = columns.workers.as_ref().unwrap_or(&serde_json::Value::Null);
        let hash = content::roster_hash(roster, workers);
        self.apply(&SourceId::hr(), roster.collected_at, meta, hash, columns, options)
            .await
            .map(|(outcome, _)| outcome)
    }

    /// [`TenantScope::apply_hr_roster_with`] that also derives HR events from the
    /// difference with the roster it replaces ([`crate::roster_events`]) and stores them
    /// in `rollcall.hr_events` in the same transaction, so a roster file starts the
    /// deprovisioning clock as a termination webhook does. Returns the outcome and the
    /// number of new events.
    pub async fn apply_hr_roster_deriving_events(
        &self,
        roster: &HrSnapshot,
        meta: &SnapshotMeta,
        options: &ApplyOptions,
    ) -> Result<(ApplyOutcome, usize), StoreError> {
        let columns = content::roster_columns(roster)?;
        let workers = columns.workers.as_ref().unwrap_or(&serde_json::Value::Null);
        let hash = content::roster_hash(roster, workers);
        self.apply_derived(
            &SourceId::hr(),
            roster.collected_at,
            meta,
            hash,
            columns,
            options,
            Some(roster),
        )
        .await
    }

    async fn apply(
        &self,
        source: &SourceId,
        own_collected_at: Option<DateTime<Utc>>,
        meta: &SnapshotMeta,
        content_sha256: [u8; 32],
        columns: ContentColumns,
        options: &ApplyOptions,
    ) -> Result<(ApplyOutcome, usize), StoreError> {
        self.apply_derived(source, own_collected_at, meta, content_sha256, columns, options, None)
            .await
    }

    /// The apply; with `derive_from`, the roster being applied, it also stores the HR
    /// events of its difference with the stored roster.
    #[allow(clippy::too_many_arguments, reason = "private: the parts of one apply")]
    async fn apply_derived(
        &self,
        source: &SourceId,
        own_collected_at: Option<DateTime<Utc>>,
        meta: &SnapshotMeta,
        content_sha256: [u8; 32],
        columns: ContentColumns,
        options: &ApplyOptions,
        derive_from: Option<&HrSnapshot>,
    ) -> Result<(ApplyOutcome, usize), StoreError> {
        const OPERATION: &str = "apply a snapshot";
        let incoming = Cursor {
            snapshot_id: meta.snapshot_id,
            content_sha256,
            collected_at: to_micros(meta.collected_at),
            stream_sequence: i64::try_from(meta.stream_sequence)
                .map_err(|_| StoreError::SequenceOutOfRange(meta.stream_sequence))?,
        };
        let source_text = source.to_string();
        let mut tx = self.begin(OPERATION).await?;

        if let Some(base) = options.expected_base {
            // A delta needs its base applied; lock the cursor and compare.
            let current: Option<Uuid> = sqlx::query_scalar(
                "SELECT snapshot_id FROM rollcall.source_state \
                 WHERE tenant_id = $1 AND source = $2 FOR UPDATE",
            )
            .bind(self.tenant_str())
            .bind(&source_text)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            if current != Some(base) {
                return Ok((ApplyOutcome::BaseMismatch { current }, 0));
            }
        }

        // The first snapshot of a source inserts its cursor. Otherwise the existing row is
        // locked, so concurrent applies of one source are decided one after the other.
        let inserted = sqlx::query(
            "INSERT INTO rollcall.source_state \
               (tenant_id, source, snapshot_id, content_sha256, collected_at, stream_sequence, \
                applied_at) \
             VALUES ($1, $2, $3, $4, $5, $6, now()) \
             ON CONFLICT (tenant_id, source) DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(&source_text)
        .bind(incoming.snapshot_id)
        .bind(incoming.content_sha256.as_slice())
        .bind(incoming.collected_at)
        .bind(incoming.stream_sequence)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected()
            == 1;

        if !inserted {
            let row = sqlx::query(
                "SELECT source, snapshot_id, content_sha256, collected_at, stream_sequence, \
                        applied_at \
                 FROM rollcall.source_state WHERE tenant_id = $1 AND source = $2 FOR UPDATE",
            )
            .bind(self.tenant_str())
            .bind(&source_text)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
            let current = self.source_state(&row)?;
            let current_cursor = Cursor {
                snapshot_id: current.snapshot_id,
                content_sha256: current.content_sha256,
                collected_at: current.collected_at,
                stream_sequence: i64::try_from(current.stream_sequence).unwrap_or(i64::MAX),
            };
            match decide(&current_cursor, &incoming) {
                Decision::Duplicate => return Ok((ApplyOutcome::Duplicate, 0)),
                Decision::Stale => return Ok((ApplyOutcome::Stale { current }, 0)),
                Decision::Apply => {}
            }
            sqlx::query(
                "UPDATE rollcall.source_state \
                 SET snapshot_id = $3, content_sha256 = $4, collected_at = $5, \
                     stream_sequence = $6, applied_at = now() \
                 WHERE tenant_id = $1 AND source = $2",
            )
            .bind(self.tenant_str())
            .bind(&source_text)
            .bind(incoming.snapshot_id)
            .bind(incoming.content_sha256.as_slice())
            .bind(incoming.collected_at)
            .bind(incoming.stream_sequence)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
        }

        let derived = match derive_from {
            Some(roster) => self.store_roster_events(&mut tx, roster, meta.collected_at).await?,
            None => 0,
        };
        self.write_content(&mut tx, &source_text, meta.snapshot_id, own_collected_at, columns)
            .await?;
        if let Some(actor) = &options.audit_actor {
            let entry = crate::audit::AuditEntry {
                at: chrono::Utc::now(),
                actor: actor.clone(),
                action: "snapshot.applied".to_owned(),
                detail: serde_json::json!({
                    "source": source_text,
                    "snapshot_id": meta.snapshot_id.hyphenated().to_string(),
                    "collected_at": incoming.collected_at,
                    "stream_sequence": meta.stream_sequence,
                    "content_sha256": hex(&incoming.content_sha256),
                }),
            };
            self.append_in(&mut tx, &entry).await?;
        }
        // After the audit chain: every transaction that locks both takes the chain's row
        // first (an evaluation appends, then marks itself evaluated), or they deadlock.
        self.bump_state_in(&mut tx).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok((ApplyOutcome::Applied, derived))
    }

    /// Derives the HR events of `roster` against the roster stored now and inserts the
    /// new ones, inside the apply's transaction. Returns the number inserted.
    async fn store_roster_events(
        &self,
        tx: &mut PgConnection,
        roster: &HrSnapshot,
        collected_at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        const OPERATION: &str = "derive HR events from the roster";
        let previous: Option<Option<serde_json::Value>> = sqlx::query_scalar(
            "SELECT workers FROM rollcall.source_snapshots \
             WHERE tenant_id = $1 AND source = 'hr' AND kind = 'hr_roster'",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let key = format!("{}/hr", self.tenant_str());
        let previous: Option<Vec<rollcall_core::model::Worker>> = match previous.flatten() {
            Some(value) => Some(
                crate::json::decode::<Vec<crate::json::WorkerJson>>(
                    value,
                    "source_snapshots",
                    &key,
                )?
                .into_iter()
                .map(Into::into)
                .collect(),
            ),
            None => None,
        };
        let zone: String =
            sqlx::query_scalar("SELECT time_zone FROM rollcall.tenants WHERE tenant_id = $1")
                .bind(self.tenant_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db(OPERATION))?;
        let time_zone = zone.parse::<chrono_tz::Tz>().map_err(|_| StoreError::CorruptRow {
            table: "tenants",
            key: self.tenant_str().to_owned(),
            reason: format!("`{zone}` is not an IANA time zone name"),
        })?;
        let events = crate::leavers::roster_events(
            self.tenant_id(),
            time_zone,
            previous.as_deref(),
            &roster.workers,
            collected_at,
            Utc::now(),
        );
        let mut inserted = 0;
        for event in &events {
            if self.insert_hr_event_in(tx, event).await? {
                inserted += 1;
            }
        }
        Ok(inserted)
    }

    async fn write_content(
        &self,
        tx: &mut PgConnection,
        source: &str,
        snapshot_id: Uuid,
        own_collected_at: Option<DateTime<Utc>>,
        columns: ContentColumns,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "write a snapshot's content";
        sqlx::query(
            "INSERT INTO rollcall.source_snapshots \
               (tenant_id, source, snapshot_id, kind, collected_at, settings, accounts, \
                entitlements, memberships, workers) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (tenant_id, source) DO UPDATE \
             SET snapshot_id = EXCLUDED.snapshot_id, kind = EXCLUDED.kind, \
                 collected_at = EXCLUDED.collected_at, settings = EXCLUDED.settings, \
                 accounts = EXCLUDED.accounts, entitlements = EXCLUDED.entitlements, \
                 memberships = EXCLUDED.memberships, workers = EXCLUDED.workers",
        )
        .bind(self.tenant_str())
        .bind(source)
        .bind(snapshot_id)
        .bind(columns.kind)
        .bind(own_collected_at.map(to_micros))
        .bind(columns.settings)
        .bind(columns.accounts)
        .bind(columns.entitlements)
        .bind(columns.memberships)
        .bind(columns.workers)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Reads a `source_state` row.
    fn source_state(&self, row: &sqlx::postgres::PgRow) -> Result<SourceState, StoreError> {
        const OPERATION: &str = "read a source cursor";
        let source_text: String = row.try_get("source").map_err(self.db(OPERATION))?;
        let corrupt = |reason: String| StoreError::CorruptRow {
            table: "source_state",
            key: format!("{}/{source_text}", self.tenant_str()),
            reason,
        };
        let source = source_text.parse::<SourceId>().map_err(|e| corrupt(e.to_string()))?;
        let hash: Vec<u8> = row.try_get("content_sha256").map_err(self.db(OPERATION))?;
        let content_sha256 = <[u8; 32]>::try_from(hash.as_slice())
            .map_err(|_| corrupt(format!("the content hash has {} bytes, not 32", hash.len())))?;
        let sequence: i64 = row.try_get("stream_sequence").map_err(self.db(OPERATION))?;
        Ok(SourceState {
            source,
            snapshot_id: row.try_get("snapshot_id").map_err(self.db(OPERATION))?,
            content_sha256,
            collected_at: row.try_get("collected_at").map_err(self.db(OPERATION))?,
            stream_sequence: u64::try_from(sequence)
                .map_err(|_| corrupt(format!("the stream sequence `{sequence}` is negative")))?,
            applied_at: row.try_get("applied_at").map_err(self.db(OPERATION))?,
        })
    }
}

/// Lowercase hexadecimal of `bytes`, for audit details.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
