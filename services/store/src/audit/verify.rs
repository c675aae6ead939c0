//! Walking a tenant's audit chain from its anchor to its head.

use std::fmt;

use futures_util::TryStreamExt;
use sqlx::Row;

use super::hash::{EntryContent, entry_hash};
use crate::error::StoreError;
use crate::scope::TenantScope;

/// The result of walking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerification {
    /// Every entry from the anchor to the head is present and unaltered.
    Intact {
        /// Entries up to this sequence number were removed by retention (0 if none).
        anchor_seq: u64,
        /// The sequence number of the newest entry (equal to `anchor_seq` if none).
        head_seq: u64,
    },
    /// The first entry at which the chain does not hold.
    Broken(ChainBreak),
}

/// The location and kind of a chain break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number of the first broken entry.
    pub seq: u64,
    /// The kind of break.
    pub kind: BreakKind,
}

/// The ways an entry can break the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// Its stored hash is not the hash of its content: a field was changed.
    Altered,
    /// Its predecessor hash is not the hash of the entry before it: the entry before was
    /// replaced, with its own hash recomputed.
    Unlinked,
    /// It is absent: deleted outside retention.
    Missing,
    /// It sits at or before the anchor, where retention removed every entry.
    BeforeAnchor,
    /// It is the newest entry, but its hash differs from the chain head recorded at
    /// append time: it was replaced.
    HeadMismatch,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match self.kind {
            BreakKind::Altered => write!(f, "audit entry `{seq}` was altered after it was written"),
            BreakKind::Unlinked => write!(
                f,
                "audit entry `{seq}` does not link to the entry before it, which was replaced"
            ),
            BreakKind::Missing => write!(f, "audit entry `{seq}` is missing"),
            BreakKind::BeforeAnchor => {
                write!(f, "audit entry `{seq}` is older than the retention anchor")
            }
            BreakKind::HeadMismatch => {
                write!(f, "audit entry `{seq}` differs from the newest entry that was appended")
            }
        }
    }
}

impl TenantScope<'_> {
    /// Walks the tenant's chain in sequence order, recomputing every hash, and names the
    /// first entry that breaks it. The walk reads one consistent snapshot of the log.
    pub async fn verify_audit_chain(&self) -> Result<ChainVerification, StoreError> {
        const OPERATION: &str = "verify the audit chain";
        let mut tx = self.begin_snapshot(OPERATION).await?;
        let chain = sqlx::query(
            "SELECT anchor_seq, anchor_sha256, head_seq, head_sha256 \
             FROM rollcall.audit_chain WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let (anchor_seq, anchor_sha256, head_seq, head_sha256) = match &chain {
            Some(row) => (
                self.seq_column(row, "anchor_seq", "audit_chain")?,
                self.hash_column(row, "anchor_sha256", "audit_chain")?,
                self.seq_column(row, "head_seq", "audit_chain")?,
                self.hash_column(row, "head_sha256", "audit_chain")?,
            ),
            None => (0, super::hash::GENESIS, 0, super::hash::GENESIS),
        };

        let mut expected_seq = anchor_seq + 1;
        let mut prev = anchor_sha256;
        let mut rows = sqlx::query(
            "SELECT seq, recorded_at, actor, action, detail, prev_sha256, sha256 \
             FROM rollcall.audit_log WHERE tenant_id = $1 ORDER BY seq",
        )
        .bind(self.tenant_str())
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(self.db(OPERATION))? {
            let seq = self.seq_column(&row, "seq", "audit_log")?;
            let broken = |kind| Ok(ChainVerification::Broken(ChainBreak { seq, kind }));
            if seq < expected_seq {
                return broken(BreakKind::BeforeAnchor);
            }
            if seq > expected_seq {
                return Ok(ChainVerification::Broken(ChainBreak {
                    seq: expected_seq,
                    kind: BreakKind::Missing,
                }));
            }
            let stored_prev = self.hash_column(&row, "prev_sha256", "audit_log")?;
            let stored = self.hash_column(&row, "sha256", "audit_log")?;
            let actor: String = row.try_get("actor").map_err(self.db(OPERATION))?;
            let action: String = row.try_get("action").map_err(self.db(OPERATION))?;
            let detail: String = row.try_get("detail").map_err(self.db(OPERATION))?;
            let content = EntryContent {
                tenant: self.tenant_str(),
                seq,
                recorded_at: row.try_get("recorded_at").map_err(self.db(OPERATION))?,
                actor: &actor,
                action: &action,
                detail: &detail,
            };
            if entry_hash(&stored_prev, &content) != stored {
                return broken(BreakKind::Altered);
            }
            if stored_prev != prev {
                return broken(BreakKind::Unlinked);
            }
            prev = stored;
            expected_seq += 1;
        }
        drop(rows);
        tx.commit().await.map_err(self.db(OPERATION))?;

        let last_seq = expected_seq - 1;
        if last_seq < head_seq {
            return Ok(ChainVerification::Broken(ChainBreak {
                seq: last_seq + 1,
                kind: BreakKind::Missing,
            }));
        }
        if last_seq > head_seq || prev != head_sha256 {
            return Ok(ChainVerification::Broken(ChainBreak {
                seq: last_seq,
                kind: BreakKind::HeadMismatch,
            }));
        }
        Ok(ChainVerification::Intact { anchor_seq, head_seq })
    }
}
