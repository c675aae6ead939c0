//! The audit log: an append-only hash chain per tenant.

mod hash;
mod verify;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

pub use verify::{BreakKind, ChainBreak, ChainVerification};

use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;
use hash::{EntryContent, GENESIS, entry_hash};

/// The actor the store writes its own entries as (finding changes, retention).
pub const STORE_ACTOR: &str = "rollcall-store";

/// An entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// When it happened. Kept to the microsecond. Entries need not arrive in time order;
    /// the chain orders them by sequence number.
    pub at: DateTime<Utc>,
    /// The actor: a service name, or a person's login for manual actions.
    pub actor: String,
    /// The event, as a dotted name such as `review.closed`.
    pub action: String,
    /// The facts of the event.
    pub detail: Value,
}

/// One stored entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The position in the tenant's chain, from 1.
    pub seq: u64,
    /// When it happened, to the microsecond.
    pub recorded_at: DateTime<Utc>,
    /// The actor.
    pub actor: String,
    /// The event.
    pub action: String,
    /// The detail as the exact JSON text that was hashed.
    pub detail: String,
    /// The hash of the entry before, or the chain's anchor.
    pub prev_sha256: [u8; 32],
    /// SHA-256 of `prev_sha256` and this entry's canonical content.
    pub sha256: [u8; 32],
}

impl TenantScope<'_> {
    /// Appends `entry` to the tenant's chain and returns it as stored.
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRecord, StoreError> {
        const OPERATION: &str = "append an audit entry";
        let mut tx = self.begin(OPERATION).await?;
        let record = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(record)
    }

    /// Lists up to `limit` entries with a sequence number above `after_seq`, in order.
    pub async fn audit_entries(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        const OPERATION: &str = "read audit entries";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT seq, recorded_at, actor, action, detail, prev_sha256, sha256 \
             FROM rollcall.audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(self.tenant_str())
        .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.audit_record(row)).collect()
    }

    /// Appends `entry` inside an open transaction of this scope, locking the chain head so
    /// that concurrent appends get consecutive sequence numbers.
    pub(crate) async fn append_in(
        &self,
        tx: &mut PgConnection,
        entry: &AuditEntry,
    ) -> Result<AuditRecord, StoreError> {
        const OPERATION: &str = "append an audit entry";
        check_text(&entry.actor, "actor")?;
        check_text(&entry.action, "action")?;
        // serde_json escapes U+0000 as `\u0000`, which a text column stores as is.
        let detail = entry.detail.to_string();
        let recorded_at = to_micros(entry.at);

        let (head_seq, head_sha256) = self.lock_chain(tx, OPERATION).await?;
        let seq = head_seq + 1;
        let content = EntryContent {
            tenant: self.tenant_str(),
            seq,
            recorded_at,
            actor: &entry.actor,
            action: &entry.action,
            detail: &detail,
        };
        let sha256 = entry_hash(&head_sha256, &content);
        let seq_db = i64::try_from(seq).map_err(|_| StoreError::SequenceOutOfRange(seq))?;

        sqlx::query(
            "INSERT INTO rollcall.audit_log \
               (tenant_id, seq, recorded_at, actor, action, detail, prev_sha256, sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.tenant_str())
        .bind(seq_db)
        .bind(recorded_at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&detail)
        .bind(head_sha256.as_slice())
        .bind(sha256.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        sqlx::query(
            "UPDATE rollcall.audit_chain SET head_seq = $2, head_sha256 = $3 WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .bind(seq_db)
        .bind(sha256.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        Ok(AuditRecord {
            seq,
            recorded_at,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            detail,
            prev_sha256: head_sha256,
            sha256,
        })
    }

    /// Creates the tenant's chain row if needed, locks it, and returns the head.
    pub(crate) async fn lock_chain(
        &self,
        tx: &mut PgConnection,
        operation: &'static str,
    ) -> Result<(u64, [u8; 32]), StoreError> {
        sqlx::query(
            "INSERT INTO rollcall.audit_chain \
               (tenant_id, anchor_seq, anchor_sha256, head_seq, head_sha256) \
             VALUES ($1, 0, $2, 0, $2) ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(GENESIS.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        let row = sqlx::query(
            "SELECT head_seq, head_sha256 FROM rollcall.audit_chain \
             WHERE tenant_id = $1 FOR UPDATE",
        )
        .bind(self.tenant_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(operation))?;
        let seq = self.seq_column(&row, "head_seq", "audit_chain")?;
        let hash = self.hash_column(&row, "head_sha256", "audit_chain")?;
        Ok((seq, hash))
    }

    pub(crate) fn audit_record(&self, row: &PgRow) -> Result<AuditRecord, StoreError> {
        const OPERATION: &str = "read an audit entry";
        Ok(AuditRecord {
            seq: self.seq_column(row, "seq", "audit_log")?,
            recorded_at: row.try_get("recorded_at").map_err(self.db(OPERATION))?,
            actor: row.try_get("actor").map_err(self.db(OPERATION))?,
            action: row.try_get("action").map_err(self.db(OPERATION))?,
            detail: row.try_get("detail").map_err(self.db(OPERATION))?,
            prev_sha256: self.hash_column(row, "prev_sha256", "audit_log")?,
            sha256: self.hash_column(row, "sha256", "audit_log")?,
        })
    }

    /// Reads a bigint sequence column as the unsigned number it is by constraint.
    pub(crate) fn seq_column(
        &self,
        row: &PgRow,
        name: &'static str,
        table: &'static str,
    ) -> Result<u64, StoreError> {
        let value: i64 = row.try_get(name).map_err(self.db("read an audit sequence number"))?;
        u64::try_from(value).map_err(|_| StoreError::CorruptRow {
            table,
            key: self.tenant_str().to_owned(),
            reason: format!("`{name}` is the negative number `{value}`"),
        })
    }

    /// Reads a 32-byte SHA-256 column.
    pub(crate) fn hash_column(
        &self,
        row: &PgRow,
        name: &'static str,
        table: &'static str,
    ) -> Result<[u8; 32], StoreError> {
        let bytes: Vec<u8> = row.try_get(name).map_err(self.db("read an audit hash"))?;
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| StoreError::CorruptRow {
            table,
            key: self.tenant_str().to_owned(),
            reason: format!("`{name}` has {} bytes, not 32", bytes.len()),
        })
    }
}
