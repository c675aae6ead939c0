//! Transaction-scoped advisory locks: the engine's fallback for its per-tenant evaluation
//! lock when Redis is down.

use rollcall_core::TenantId;
use sqlx::{Postgres, Transaction};

use crate::error::StoreError;
use crate::store::Store;

/// A held advisory lock. It lives in an open transaction, so it ends when the value is
/// released or dropped (the transaction rolls back), also when the task holding it is
/// cancelled. Holding it keeps one pooled connection busy.
#[derive(Debug)]
pub struct AdvisoryLock {
    tx: Transaction<'static, Postgres>,
}

impl AdvisoryLock {
    /// Releases the lock.
    pub async fn release(self) {
        // Rolling back ends the transaction and its lock; a failure means the connection
        // is gone, which ends the lock as well.
        let _ = self.tx.rollback().await;
    }
}

impl Store {
    /// Tries to take the advisory lock named `purpose` for `tenant` without waiting.
    /// Returns `None` when another session holds it.
    pub async fn try_advisory_lock(
        &self,
        purpose: &str,
        tenant: &TenantId,
    ) -> Result<Option<AdvisoryLock>, StoreError> {
        let db = |source| StoreError::Database {
            operation: "take an advisory lock",
            tenant: tenant.to_string(),
            source,
        };
        let mut tx = self.pool().begin().await.map_err(db)?;
        let key = format!("{purpose}\u{1f}{tenant}");
        let taken: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if taken { Ok(Some(AdvisoryLock { tx })) } else { Ok(None) }
    }

    /// Checks that the server answers, for the readiness probe.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()).await.map_err(|source| {
            StoreError::Database {
                operation: "answer a readiness probe",
                tenant: String::new(),
                source,
            }
        })?;
        Ok(())
    }
}
